// Gemma Scope (params.npz written by numpy itself; Gemma Scope 2 params.safetensors) and
// sparsify (cfg.json + sae.safetensors, nn.Linear encoder, bf16) against a float64 reference.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { buildModel, checkpointFolder, importCheckpoint, loadSae, serializeModel } from "../../src/adapters/node/index.js";
import { openNpz } from "../../src/format/npz-source.js";
import { bytesSource } from "../../src/base/byte-source.js";
import { makeRng } from "../reference/rng.js";
import { roundTo, writeSafetensors } from "../reference/saelens-writer.js";

const dir = mkdtempSync(join(tmpdir(), "sae-edge-imp-"));
const cli = (...args: string[]) => spawnSync(process.execPath, ["dist/cli.js", ...args], { encoding: "utf8" });

// A minimal .npy reader of the test's own: little-endian float32, C order.
function npy(bytes: Uint8Array): { shape: number[]; data: Float64Array } {
  const headerLen = bytes[8] | (bytes[9] << 8);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
  expect(header).toMatch(/'descr': '<f4'/);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)![1].match(/\d+/g) ?? []).map(Number);
  const raw = bytes.slice(10 + headerLen);
  return { shape, data: Float64Array.from(new Float32Array(raw.buffer)) };
}

interface Ref { dIn: number; dSae: number; Wenc: Float64Array; Wdec: Float64Array; benc: Float64Array; bdec: Float64Array; theta?: Float64Array; k?: number; groups?: number; subtractBDec: boolean }

// Float64 reference codes: pre-activations, then JumpReLU (h > θ and h > 0) or TopK (k largest, ReLU).
function refCodes(p: Ref, x: Float32Array): Map<number, number>[] {
  const rows = x.length / p.dIn;
  return Array.from({ length: rows }, (_, r) => {
    const h = Array.from({ length: p.dSae }, (_, j) => {
      let s = p.benc[j];
      for (let i = 0; i < p.dIn; i++) s += (x[r * p.dIn + i] - (p.subtractBDec ? p.bdec[i] : 0)) * p.Wenc[i * p.dSae + j];
      return s;
    });
    let keep: number[];
    if (p.groups) {
      // sparsify groupmax: ReLU, then the maximum of each of k consecutive groups (first index on ties)
      const size = p.dSae / p.groups;
      keep = Array.from({ length: p.groups }, (_, g) => {
        let best = g * size;
        for (let j = g * size; j < (g + 1) * size; j++) if (h[j] > h[best]) best = j;
        return best;
      }).filter((j) => h[j] > 0);
    } else if (p.theta) keep = h.map((v, j) => (v > p.theta![j] && v > 0 ? j : -1)).filter((j) => j >= 0);
    else keep = Array.from(h.keys()).sort((a, b) => h[b] - h[a] || a - b).slice(0, p.k).filter((j) => h[j] > 0);
    return new Map(keep.map((j) => [j, h[j]]));
  });
}

async function checkAgainst(folder: string, ref: Ref, family: string) {
  const imported = await importCheckpoint(await checkpointFolder(folder));
  expect(imported.family).toBe(family);
  const sae = await loadSae(serializeModel(buildModel(imported.weights, "f32")));
  const x = makeRng(3).normals(16 * ref.dIn, 1);
  const codes = sae.encode(x);
  const want = refCodes(ref, x);
  for (let r = 0; r < 16; r++) {
    const got = new Map<number, number>();
    for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) got.set(codes.indices[e], codes.values[e]);
    expect([...got.keys()].sort((a, b) => a - b), `row ${r}`).toEqual([...want[r].keys()].sort((a, b) => a - b));
    for (const [j, v] of want[r]) expect(got.get(j)!).toBeCloseTo(v, 4);
  }
  // Decode: x̂ = b_dec + Σ f_j W_dec[j]
  const xhat = sae.decode(codes);
  for (let r = 0; r < 16; r++) {
    for (let i = 0; i < ref.dIn; i++) {
      let s = ref.bdec[i];
      for (const [j, v] of want[r]) s += v * ref.Wdec[j * ref.dIn + i];
      expect(xhat[r * ref.dIn + i]).toBeCloseTo(s, 4);
    }
  }
  const q = await loadSae(serializeModel(buildModel(imported.weights, "int8")));
  expect(q.encode(x).rows).toBe(16);
  return imported;
}

describe("Gemma Scope", () => {
  for (const folder of ["gemmascope", "gemmascope-deflate", "gemmascope-zip64"]) {
    it(`params.npz written by numpy (${folder}) encodes and decodes as the float64 reference`, async () => {
      const members = unzipSync(new Uint8Array(readFileSync(`test/fixtures/${folder}/params.npz`)));
      const t = (n: string) => npy(members[`${n}.npy`]);
      const W = t("W_enc");
      const ref: Ref = { dIn: W.shape[0], dSae: W.shape[1], Wenc: W.data, Wdec: t("W_dec").data, benc: t("b_enc").data, bdec: t("b_dec").data, theta: t("threshold").data, subtractBDec: false };
      const imp = await checkAgainst(`test/fixtures/${folder}`, ref, "gemmascope");
      expect(imp.weights).toMatchObject({ architecture: "jumprelu", applyBDecToInput: false, dIn: 24, dSae: 40 });
      const q = cli("quantize", `test/fixtures/${folder}`, "-o", join(dir, `${folder}.safetensors`));
      expect(q.status, q.stderr).toBe(0);
      expect(q.stderr).toMatch(/from gemmascope/);
    });
  }

  for (const folder of ["gemmascope-fortran", "gemmascope-fortran-deflate"]) {
    it(`Fortran-order matrices in params.npz (${folder}, numpy's layout for transposed arrays) load as the C-order ones`, async () => {
      const c = await importCheckpoint(await checkpointFolder("test/fixtures/gemmascope"));
      const f = await importCheckpoint(await checkpointFolder(`test/fixtures/${folder}`));
      const header = new TextDecoder().decode(unzipSync(new Uint8Array(readFileSync(`test/fixtures/${folder}/params.npz`)))["W_enc.npy"].subarray(10, 80));
      expect(header).toContain("'fortran_order': True");
      for (const name of ["W_enc", "W_dec", "b_enc", "b_dec", "threshold"] as const) expect(Array.from(f.weights[name]!), name).toEqual(Array.from(c.weights[name]!));
    });
  }

  it("tensors Gemma Scope does not have are reported, not dropped silently", async () => {
    const members = unzipSync(new Uint8Array(readFileSync("test/fixtures/gemmascope/params.npz")));
    mkdirSync(join(dir, "gs-extra"), { recursive: true });
    writeFileSync(join(dir, "gs-extra", "params.npz"), zipSync({ ...members, "log_threshold.npy": members["threshold.npy"] }, { level: 0 }));
    const imp = await importCheckpoint(await checkpointFolder(join(dir, "gs-extra")));
    expect(imp.warnings).toEqual(["params.npz holds tensors sae-edge does not read: log_threshold"]);
    expect((await importCheckpoint(await checkpointFolder("test/fixtures/gemmascope"))).warnings).toEqual([]);
  });

  it("Gemma Scope 2 params.safetensors with lowercase keys", async () => {
    const r = makeRng(9), dIn = 12, dSae = 20;
    const ref: Ref = { dIn, dSae, Wenc: Float64Array.from(r.normals(dIn * dSae, 0.4)), Wdec: Float64Array.from(r.normals(dSae * dIn, 0.3)), benc: Float64Array.from(r.normals(dSae, 0.1)), bdec: Float64Array.from(r.normals(dIn, 0.1)), theta: Float64Array.from({ length: dSae }, () => r.uniform(0.05, 0.3)), subtractBDec: false };
    mkdirSync(join(dir, "gs2"));
    writeFileSync(join(dir, "gs2", "params.safetensors"), writeSafetensors([
      { name: "w_enc", dtype: "F32", shape: [dIn, dSae], values: ref.Wenc },
      { name: "w_dec", dtype: "F32", shape: [dSae, dIn], values: ref.Wdec },
      { name: "threshold", dtype: "F32", shape: [dSae], values: ref.theta! },
      { name: "b_enc", dtype: "F32", shape: [dSae], values: ref.benc },
      { name: "b_dec", dtype: "F32", shape: [dIn], values: ref.bdec },
    ]));
    await checkAgainst(join(dir, "gs2"), ref, "gemmascope");
  });

  it("Gemma Scope 2's affine_skip_connection is added to forward as x @ A", async () => {
    const r = makeRng(10), dIn = 8, dSae = 12;
    const A = r.normals(dIn * dIn, 0.3);
    mkdirSync(join(dir, "gs2-skip"));
    writeFileSync(join(dir, "gs2-skip", "params.safetensors"), writeSafetensors([
      { name: "w_enc", dtype: "F32", shape: [dIn, dSae], values: r.normals(dIn * dSae, 0.4) },
      { name: "w_dec", dtype: "F32", shape: [dSae, dIn], values: r.normals(dSae * dIn, 0.3) },
      { name: "threshold", dtype: "F32", shape: [dSae], values: new Float32Array(dSae).fill(0.1) },
      { name: "b_enc", dtype: "F32", shape: [dSae], values: new Float32Array(dSae) },
      { name: "b_dec", dtype: "F32", shape: [dIn], values: new Float32Array(dIn) },
      { name: "affine_skip_connection", dtype: "F32", shape: [dIn, dIn], values: A },
    ]));
    const imported = await importCheckpoint(await checkpointFolder(join(dir, "gs2-skip")));
    const sae = await loadSae(serializeModel(buildModel(imported.weights, "f32")));
    const x = makeRng(2).normals(4 * dIn, 1);
    const { codes, reconstruction } = sae.forward(x);
    const plain = sae.decode(codes);
    for (let row = 0; row < 4; row++) {
      for (let o = 0; o < dIn; o++) {
        let skip = 0;
        for (let i = 0; i < dIn; i++) skip += x[row * dIn + i] * A[i * dIn + o];
        expect(reconstruction[row * dIn + o]).toBeCloseTo(plain[row * dIn + o] + skip, 4);
      }
    }
  });

  it("refuses path tricks, oversized members, broken archives and mismatched shapes", async () => {
    const members = unzipSync(new Uint8Array(readFileSync("test/fixtures/gemmascope/params.npz")));
    const npz = (bytes: Uint8Array, what: string, cap?: number) => openNpz(bytesSource(bytes), what, cap);
    await expect(npz(zipSync({ "../W_enc.npy": members["W_enc.npy"] }), "evil.npz")).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("not a plain file name") });
    await expect(npz(zipSync({ "W_enc.npy": members["W_enc.npy"] }, { level: 9 }), "bomb.npz", 1000)).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("inflate to more than 1000 bytes") });
    await expect(npz(new Uint8Array(readFileSync("test/fixtures/gemmascope/params.npz")).subarray(0, 500), "cut.npz")).rejects.toMatchObject({ code: "CHECKPOINT_INVALID" });
    // A deflated member that declares fewer bytes than it inflates to (a bomb in disguise) is refused on load.
    const liar = zipSync({ "W_enc.npy": members["W_enc.npy"] }, { level: 9 });
    const dv = new DataView(liar.buffer);
    for (let p = liar.length - 22; p >= 0; p--) {
      if (dv.getUint32(p, true) === 0x02014b50) dv.setUint32(p + 24, dv.getUint32(p + 24, true) - 64, true); // central directory size
    }
    const opened = await npz(liar, "liar.npz").catch((e) => e);
    const failure = opened instanceof Map ? await opened.get("W_enc").tensor.load().catch((e: unknown) => e) : opened;
    expect(failure).toMatchObject({ code: "CHECKPOINT_INVALID" });
    // Stored members are read by range: only the header now, the data on load.
    const st = await npz(new Uint8Array(readFileSync("test/fixtures/gemmascope/params.npz")), "params.npz");
    expect(st.get("W_enc")!.shape).toEqual([24, 40]);
    expect(Array.from(await st.get("W_enc")!.tensor.load())).toEqual(Array.from(new Float32Array(members["W_enc.npy"].slice(128).buffer)));
    mkdirSync(join(dir, "gs-bad"));
    writeFileSync(join(dir, "gs-bad", "params.npz"), zipSync({ ...members, "b_dec.npy": members["threshold.npy"] }));
    await expect(importCheckpoint(await checkpointFolder(join(dir, "gs-bad")))).rejects.toMatchObject({ code: "CHECKPOINT_INVALID", message: expect.stringContaining("b_dec") });
  });
});

describe("sparsify", () => {
  const r = makeRng(12), dIn = 16, dSae = 48, k = 5;
  const enc = roundTo("BF16", r.normals(dSae * dIn, 0.3)); // nn.Linear: [num_latents, d_in]
  const ref: Ref = {
    dIn, dSae, k, subtractBDec: true,
    Wenc: Float64Array.from({ length: dIn * dSae }, (_, n) => enc[(n % dSae) * dIn + Math.floor(n / dSae)]),
    Wdec: Float64Array.from(roundTo("BF16", r.normals(dSae * dIn, 0.3))),
    benc: Float64Array.from(roundTo("BF16", r.normals(dSae, 0.1))),
    bdec: Float64Array.from(roundTo("BF16", r.normals(dIn, 0.1))),
  };
  const tensors = [
    { name: "encoder.weight", dtype: "BF16" as const, shape: [dSae, dIn], values: enc },
    { name: "encoder.bias", dtype: "BF16" as const, shape: [dSae], values: ref.benc },
    { name: "W_dec", dtype: "BF16" as const, shape: [dSae, dIn], values: ref.Wdec },
    { name: "b_dec", dtype: "BF16" as const, shape: [dIn], values: ref.bdec },
  ];
  const layer = (name: string, cfg: Record<string, unknown>, extra: typeof tensors = [], parent = "sp") => {
    mkdirSync(join(dir, parent, name), { recursive: true });
    writeFileSync(join(dir, parent, name, "cfg.json"), JSON.stringify(cfg));
    writeFileSync(join(dir, parent, name, "sae.safetensors"), writeSafetensors([...tensors, ...extra]));
  };
  const wSkip = roundTo("BF16", r.normals(dIn * dIn, 0.2)); // [d_in, d_in], applied as x @ W_skip.mT
  layer("layers.3", { activation: "topk", expansion_factor: 3, normalize_decoder: true, num_latents: 0, k, multi_topk: false, skip_connection: false, transcode: false, d_in: dIn });
  layer("layers.4", { expansion_factor: 3, normalize_decoder: true, k, signed: false, d_in: dIn }); // old cfg: no activation, "signed"
  layer("layers.5", { activation: "groupmax", expansion_factor: 3, k: 6, d_in: dIn });
  layer("layers.6", { activation: "topk", expansion_factor: 3, k, skip_connection: true, d_in: dIn }, [{ name: "W_skip", dtype: "BF16", shape: [dIn, dIn], values: wSkip }]);
  layer("layers.7", { activation: "topk", expansion_factor: 3, k, skip_connection: true, d_in: dIn }); // W_skip missing

  it("new and old cfg.json with bf16 tensors encode and decode as the float64 reference", async () => {
    for (const name of ["layers.3", "layers.4"]) {
      const imp = await checkAgainst(join(dir, "sp", name), ref, "sparsify");
      expect(imp.weights).toMatchObject({ architecture: "topk", k, dIn, dSae, applyBDecToInput: true });
    }
  });

  it("cfg.json keys sparsify does not have are reported, signed=true is refused, old and new keys load quietly", async () => {
    for (const name of ["layers.3", "layers.4"]) expect((await importCheckpoint(await checkpointFolder(join(dir, "sp", name)))).warnings).toEqual([]);
    layer("extra", { activation: "topk", expansion_factor: 3, k, d_in: dIn, jumprelu_bandwidth: 0.1 }, [], "sp-odd");
    const imp = await importCheckpoint(await checkpointFolder(join(dir, "sp-odd", "extra")));
    expect(imp.warnings).toEqual(["cfg.json keys sae-edge does not read (no such sparsify option): jumprelu_bandwidth"]);
    expect(imp.provenance).toMatchObject({ unknown_config_keys: ["jumprelu_bandwidth"], warnings: imp.warnings });
    layer("signed", { expansion_factor: 3, k, signed: true, d_in: dIn }, [], "sp-odd");
    await expect(importCheckpoint(await checkpointFolder(join(dir, "sp-odd", "signed")))).rejects.toMatchObject({ code: "CHECKPOINT_UNSUPPORTED", message: expect.stringContaining("signed=true") });
  });

  it("groupmax keeps each group's largest ReLU value", async () => {
    const imp = await checkAgainst(join(dir, "sp", "layers.5"), { ...ref, k: undefined, groups: 6 }, "sparsify");
    expect(imp.weights).toMatchObject({ architecture: "groupmax", k: 6 });
  });

  it("skip_connection adds x @ W_skip.T to forward and score (not to decode)", async () => {
    const imported = await importCheckpoint(await checkpointFolder(join(dir, "sp", "layers.6")));
    const sae = await loadSae(serializeModel(buildModel(imported.weights, "f32")));
    expect(sae.info.skip).toBe(true);
    const x = makeRng(8).normals(6 * dIn, 1);
    const { codes, reconstruction } = sae.forward(x);
    const plain = sae.decode(codes);
    const scores = sae.score(x).squared;
    for (let row = 0; row < 6; row++) {
      let sq = 0;
      for (let o = 0; o < dIn; o++) {
        let skip = 0;
        for (let i = 0; i < dIn; i++) skip += x[row * dIn + i] * wSkip[o * dIn + i];
        expect(reconstruction[row * dIn + o]).toBeCloseTo(plain[row * dIn + o] + skip, 4);
        sq += (x[row * dIn + o] - reconstruction[row * dIn + o]) ** 2;
      }
      expect(scores[row] / sq).toBeCloseTo(1, 4);
    }
    const q = await loadSae(serializeModel(buildModel(imported.weights, "int8")));
    const qs = await loadSae(serializeModel(buildModel(imported.weights, "int8")), { kernel: "scalar" });
    expect(Array.from(qs.score(x).squared)).toEqual(Array.from(q.score(x).squared));
    expect(Array.from(qs.forward(x).reconstruction)).toEqual(Array.from(q.forward(x).reconstruction));
  });

  it("a multi-layer folder needs --hookpoint; bad folders are refused clearly", async () => {
    const whole = cli("quantize", join(dir, "sp"), "-o", join(dir, "never.safetensors"));
    expect(whole.status).toBe(2);
    expect(whole.stderr).toMatch(/--hookpoint \(layers\.3, layers\.4, layers\.5, layers\.6, layers\.7\)/);
    const one = cli("quantize", join(dir, "sp"), "--hookpoint", "layers.3", "-o", join(dir, "l3.safetensors"));
    expect(one.status, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/topk d_in=16 d_sae=48 k=5 int8.*from sparsify/);
    const missing = cli("quantize", join(dir, "sp"), "--hookpoint", "layers.7", "-o", join(dir, "never.safetensors"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/lacks W_skip.*\[CHECKPOINT_INVALID\]/);
    expect(cli("quantize", join(dir, "sp"), "--hookpoint", "../x", "-o", join(dir, "never.safetensors")).status).toBe(2);
  });
});
