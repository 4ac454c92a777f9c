// Transcoders (SAELens transcoder / jumprelu_transcoder): encode x (no b_dec subtracted),
// decode into d_out ≠ d_in, against a float64 reference.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, checkpointFolder, importCheckpoint, loadSae, parseNpy, serializeModel, serializeNpy, steer } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";
import { writeSaeLensCheckpoint } from "../reference/saelens-writer.js";

const dIn = 16, dOut = 28, dSae = 40, rows = 10;
const r = makeRng(91);
const W_enc = r.normals(dIn * dSae, 0.4), b_enc = r.normals(dSae, 0.1), W_dec = r.normals(dSae * dOut, 0.3), b_dec = r.normals(dOut, 0.2);
const threshold = Float32Array.from({ length: dSae }, () => r.uniform(0.05, 0.4));
const x = r.normals(rows * dIn, 1);

describe.each(["transcoder", "jumprelu_transcoder"] as const)("SAELens %s", (arch) => {
  it("maps d_in to d_out as the float64 reference; int8 close; score refused; reconstruct writes [n, d_out]", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-tc-"));
    const tensors = [
      { name: "W_enc", dtype: "F32" as const, shape: [dIn, dSae], values: W_enc },
      { name: "b_enc", dtype: "F32" as const, shape: [dSae], values: b_enc },
      { name: "W_dec", dtype: "F32" as const, shape: [dSae, dOut], values: W_dec },
      { name: "b_dec", dtype: "F32" as const, shape: [dOut], values: b_dec },
      ...(arch === "jumprelu_transcoder" ? [{ name: "threshold", dtype: "F32" as const, shape: [dSae], values: threshold }] : []),
    ];
    await writeSaeLensCheckpoint(join(dir, "ckpt"), {
      cfg: { architecture: arch, d_in: dIn, d_out: dOut, d_sae: dSae, dtype: "float32", apply_b_dec_to_input: false, normalize_activations: "none", metadata: { sae_lens_version: "6.5.0" } },
      tensors,
    });
    const imported = await importCheckpoint(await checkpointFolder(join(dir, "ckpt")));
    expect(imported.weights).toMatchObject({ dIn, dOut, dSae, applyBDecToInput: false, architecture: arch === "transcoder" ? "standard" : "jumprelu" });
    const sae = await loadSae(serializeModel(buildModel(imported.weights, "f32")));
    expect(sae.info.dOut).toBe(dOut);
    const out = sae.forward(x).reconstruction;
    expect(out).toHaveLength(rows * dOut);
    for (let row = 0; row < rows; row++) {
      const f = Array.from({ length: dSae }, (_, j) => {
        let h = b_enc[j];
        for (let i = 0; i < dIn; i++) h += x[row * dIn + i] * W_enc[i * dSae + j];
        return h > 0 && (arch === "transcoder" || h > threshold[j]) ? h : 0;
      });
      for (let o = 0; o < dOut; o++) {
        const want = f.reduce((a, v, j) => a + v * W_dec[j * dOut + o], b_dec[o]);
        expect(out[row * dOut + o]).toBeCloseTo(want, 4);
      }
    }
    const q = await loadSae(serializeModel(buildModel(imported.weights, "int8")));
    const qo = q.forward(x).reconstruction;
    let err = 0, ref = 0;
    qo.forEach((v, i) => {
      err += (v - out[i]) ** 2;
      ref += (out[i] - b_dec[i % dOut]) ** 2;
    });
    expect(Math.sqrt(err / ref)).toBeLessThan(0.05);
    expect(() => sae.score(x)).toThrow(expect.objectContaining({ code: "MODEL_UNSUPPORTED" }));
    expect(() => steer(sae, x, [])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(steer(sae, x, [], { errorTerm: false })).toHaveLength(rows * dOut);
    writeFileSync(join(dir, "m.safetensors"), serializeModel(buildModel(imported.weights, "int8")));
    writeFileSync(join(dir, "x.npy"), serializeNpy(x, [rows, dIn]));
    const cli = spawnSync(process.execPath, ["dist/cli.js", "reconstruct", join(dir, "m.safetensors"), join(dir, "x.npy"), "-o", join(dir, "y.npy")], { encoding: "utf8" });
    expect(cli.status, cli.stderr).toBe(0);
    expect(parseNpy(new Uint8Array(readFileSync(join(dir, "y.npy")))).shape).toEqual([rows, dOut]);
    const inspect = spawnSync(process.execPath, ["dist/cli.js", "inspect", join(dir, "m.safetensors"), "--json"], { encoding: "utf8" });
    expect(JSON.parse(inspect.stdout)).toMatchObject({ dIn, dOut, metadata: { d_out: String(dOut) } });
  });
});

describe("SAELens skip_transcoder", () => {
  it("forward adds x @ W_skip.T to the transcoder's output", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-stc-"));
    const W_skip = r.normals(dOut * dIn, 0.2);
    await writeSaeLensCheckpoint(dir, {
      cfg: { architecture: "skip_transcoder", d_in: dIn, d_out: dOut, d_sae: dSae, dtype: "float32", apply_b_dec_to_input: false, normalize_activations: "none", metadata: { sae_lens_version: "6.5.0" } },
      tensors: [
        { name: "W_enc", dtype: "F32", shape: [dIn, dSae], values: W_enc },
        { name: "b_enc", dtype: "F32", shape: [dSae], values: b_enc },
        { name: "W_dec", dtype: "F32", shape: [dSae, dOut], values: W_dec },
        { name: "b_dec", dtype: "F32", shape: [dOut], values: b_dec },
        { name: "W_skip", dtype: "F32", shape: [dOut, dIn], values: W_skip },
      ],
    });
    const sae = await loadSae(serializeModel(buildModel((await importCheckpoint(await checkpointFolder(dir))).weights, "f32")));
    expect(sae.info).toMatchObject({ skip: true, dOut });
    const out = sae.forward(x).reconstruction;
    for (let row = 0; row < rows; row++) {
      const f = Array.from({ length: dSae }, (_, j) => {
        let h = b_enc[j];
        for (let i = 0; i < dIn; i++) h += x[row * dIn + i] * W_enc[i * dSae + j];
        return Math.max(0, h);
      });
      for (let o = 0; o < dOut; o++) {
        let want = f.reduce((a, v, j) => a + v * W_dec[j * dOut + o], b_dec[o]);
        for (let i = 0; i < dIn; i++) want += x[row * dIn + i] * W_skip[o * dIn + i];
        expect(out[row * dOut + o]).toBeCloseTo(want, 4);
      }
    }
  });
});
