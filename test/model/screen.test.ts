// The low-rank screen (sae-edge screen / addScreen): int8 TopK picks candidates from P^T x'
// against P^T W_enc, then rescores them with W_enc. Checked against the unscreened model (recall,
// and the very same values where both choose), across builds (identical bits, Node 22's relaxed
// build in a child), and for the files it writes (validated like every model).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addScreen, buildModel, loadSae, parseSafetensors, serializeModel, serializeNpy, serializeSafetensors, type SparseCodes } from "../../src/adapters/node/index.js";
import { expectCode } from "../helpers/expect-code.js";
import { DIST_NODE, NODE22, gaussian, rng } from "../helpers/common.mjs";

const [dIn, dSae, k, sub] = [64, 512, 8, 8];
const g = gaussian(rng(21));
const A = Float32Array.from({ length: dIn * sub }, g);
// Inputs near an 8-dim subspace: a rank-16 screen sees (almost) all of them.
function rows(n: number): Float32Array {
  const x = new Float32Array(n * dIn);
  for (let r = 0; r < n; r++) {
    const s = Array.from({ length: sub }, g);
    for (let i = 0; i < dIn; i++) {
      let v = 0.02 * g();
      for (let a = 0; a < sub; a++) v += A[i * sub + a] * s[a];
      x[r * dIn + i] = v;
    }
  }
  return x;
}
const weights = {
  architecture: "topk" as const, dIn, dSae, k, applyBDecToInput: true,
  W_enc: Float32Array.from({ length: dIn * dSae }, () => g() * 0.125), b_enc: Float32Array.from({ length: dSae }, () => g() * 0.05),
  W_dec: Float32Array.from({ length: dSae * dIn }, () => g() * 0.125), b_dec: Float32Array.from({ length: dIn }, () => g() * 0.1),
};
const model = serializeModel(buildModel(weights, "int8"));
const fit = rows(400), val = rows(300);
const screened = addScreen(model, fit, { rank: 16, pool: 32 });

function recall(ref: SparseCodes, got: SparseCodes): { recall: number; sameValues: boolean } {
  let hit = 0, total = 0, same = true;
  for (let r = 0; r < ref.rows; r++) {
    const want = new Map<number, number>();
    for (let e = ref.rowOffsets[r]; e < ref.rowOffsets[r + 1]; e++) want.set(ref.indices[e], ref.values[e]);
    total += want.size;
    for (let e = got.rowOffsets[r]; e < got.rowOffsets[r + 1]; e++) {
      if (!want.has(got.indices[e])) continue;
      hit++;
      if (!Object.is(want.get(got.indices[e]), got.values[e])) same = false;
    }
  }
  return { recall: hit / total, sameValues: same };
}
const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

describe("low-rank screen", () => {
  it("keeps recall >= 0.99 against the unscreened model and gives the same value to every latent both choose", async () => {
    for (const kernel of ["scalar", "simd128"] as const) {
      const plain = await loadSae(model, { kernel });
      const sae = await loadSae(screened, { kernel });
      expect(sae.info.screen).toEqual({ rank: 16, pool: 32 });
      const r = recall(plain.encode(val), sae.encode(val));
      expect(r.recall, kernel).toBeGreaterThanOrEqual(0.99);
      expect(r.sameValues, kernel).toBe(true);
      // Batches go row by row: the same codes as one row at a time.
      const one = sae.encode(val.subarray(0, dIn));
      const all = sae.encode(val);
      expect(bits(one.indices)).toBe(bits(all.indices.subarray(0, all.rowOffsets[1])));
    }
  });

  it("is bit-identical across scalar, simd128 and (Node 22) relaxed", async () => {
    const out = (c: SparseCodes) => [bits(c.rowOffsets), bits(c.indices), bits(c.values)].join("|");
    const scalar = out((await loadSae(screened, { kernel: "scalar" })).encode(val));
    const simd = out((await loadSae(screened, { kernel: "simd128" })).encode(val));
    expect(simd).toBe(scalar);
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-screen-"));
    writeFileSync(join(dir, "m.safetensors"), screened);
    writeFileSync(join(dir, "x.bin"), val);
    const script = `const { loadSae } = await import(${JSON.stringify(`file://${DIST_NODE}`)}); const fs = await import("node:fs");
      const b = fs.readFileSync(${JSON.stringify(join(dir, "x.bin"))}); const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
      const s = await loadSae(${JSON.stringify(join(dir, "m.safetensors"))}); const c = s.encode(x);
      const e = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
      process.stdout.write(s.info.kernel + " " + [e(c.rowOffsets), e(c.indices), e(c.values)].join("|"));`;
    const r = spawnSync(NODE22, ["--input-type=module", "-e", script], { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split(" ")[0]).toBe("relaxed");
    expect(r.stdout.split(" ")[1]).toBe(scalar);
  });

  it("refuses what it cannot screen and files whose screen does not match", () => {
    expectCode(() => addScreen(serializeModel(buildModel(weights, "f32")), fit, { rank: 16 }), "MODEL_UNSUPPORTED");
    expectCode(() => addScreen(serializeModel(buildModel({ ...weights, architecture: "standard", k: 0 }, "int8")), fit, { rank: 16 }), "MODEL_UNSUPPORTED");
    expectCode(() => addScreen(model, fit, { rank: 20 }), "MODEL_INVALID");
    expectCode(() => addScreen(model, fit, { rank: 80 }), "MODEL_INVALID");
    expectCode(() => addScreen(model, fit, { rank: 16, pool: k - 1 }), "MODEL_INVALID");
    expectCode(() => addScreen(model, fit, { rank: 16, pool: 257 }), "MODEL_INVALID");
    expectCode(() => addScreen(model, fit.subarray(0, 10), { rank: 16 }), "INPUT_SHAPE");
    // Metadata saying rank 32 over rank-16 tensors.
    const st = parseSafetensors(screened);
    const tensors = Object.fromEntries(st.header.tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape, data: st.tensor(t.name) }]));
    const lie = serializeSafetensors(tensors, { ...st.header.metadata, screen: JSON.stringify({ rank: 32, pool: 32 }) });
    return expect(loadSae(lie)).rejects.toMatchObject({ code: "MODEL_INVALID" });
  });

  it("sae-edge screen writes the model and reports its recall on held-out rows", () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-screen-cli-"));
    writeFileSync(join(dir, "m.safetensors"), model);
    writeFileSync(join(dir, "fit.npy"), serializeNpy(fit, [400, dIn]));
    writeFileSync(join(dir, "val.npy"), serializeNpy(val, [300, dIn]));
    const cli = (...a: string[]) => spawnSync(process.execPath, ["dist/cli.js", ...a], { encoding: "utf8" });
    const r = cli("screen", join(dir, "m.safetensors"), join(dir, "fit.npy"), "--rank", "16", "--pool", "32", "--val", join(dir, "val.npy"), "-o", join(dir, "s.safetensors"));
    expect(r.status, r.stderr).toBe(0);
    const m = /recall vs unscreened (\d\.\d+) on 300 held-out rows/.exec(r.stderr);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(0.99);
    const info = JSON.parse(cli("inspect", join(dir, "s.safetensors"), "--json").stdout);
    expect(info.screen).toEqual({ rank: 16, pool: 32 });
    const bad = cli("screen", join(dir, "m.safetensors"), join(dir, "fit.npy"), "--rank", "24", "-o", join(dir, "x.safetensors"));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/multiple of 16/);
  });
});
