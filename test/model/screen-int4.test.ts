// The int4 screen (sae-edge screen --int4 / addInt4Screen): each row's int8 pass reads W_enc in
// 4 bits to pick `pool` candidates, which the int8 weights rescore. Checked against the float64
// reference at tile-edge shapes (the pool exactly, from the reference's own int4 codes and
// float32 steps; the choice among it within the rescoring's tolerance), bit for bit across
// builds (Node 22's relaxed build, split and fused dot, in a child), against the unscreened
// model on the bundled MNIST SAE, and for the files it writes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addInt4Screen, buildModel, loadSae, parseSafetensors, serializeModel, serializeNpy, serializeSafetensors, type SparseCodes } from "../../src/adapters/node/index.js";
import { mnistDigits } from "../../src/demo/index.js";
import { expectCode } from "../helpers/expect-code.js";
import { node22Codes } from "../helpers/node22-codes.js";
import {
  ReferenceSae, checkSelection, fround, makeRng, quantizeActivationsRef, quantizeInt4FromInt8Ref, type RefWeights,
} from "../reference/index.js";

const SHAPES: [number, number, number][] = [
  // d_in, d_sae, k: d_in around the 16-dim step, d_sae around the 4-latent tile.
  [1, 5, 1], [15, 3, 1], [16, 4, 2], [17, 5, 2], [17, 64, 4], [33, 37, 3], [100, 64, 8], [100, 1, 1], [768, 512, 16],
];

function weights(seed: number, dIn: number, dSae: number, k: number): RefWeights {
  const r = makeRng(seed);
  const W_enc = r.normals(dIn * dSae, 1 / Math.sqrt(dIn));
  if (dSae >= 3) for (let i = 0; i < dIn; i++) W_enc[i * dSae + 1] = 0; // an int8 scale of 0
  // Distinct biases: no two screen scores tie on a zero row.
  const b_enc = Float32Array.from({ length: dSae }, (_, j) => 0.05 + 0.001 * j + 0.01 * r.normal());
  return { architecture: "topk", dIn, dSae, k, applyBDecToInput: true, W_enc, b_enc, W_dec: r.normals(dSae * dIn, 0.1), b_dec: r.normals(dIn, 0.3) };
}

function inputs(seed: number, n: number, dIn: number, bDec: Float32Array): Float32Array {
  const r = makeRng(seed);
  const x = r.normals(n * dIn);
  if (n > 2) x.set(bDec, dIn); // x' = 0: every screen score is its bias
  if (n > 3) for (let i = 0; i < dIn; i++) x[3 * dIn + i] = bDec[i] + 1e4 * x[3 * dIn + i];
  return x;
}

/** The reference's pool of one row: the `pool` largest screen scores, ties to the lower index. */
function referencePool(ref: ReferenceSae, q4: { q: Int8Array; scale: Float64Array }, xp: ArrayLike<number>, pool: number): number[] {
  const { dIn, dSae, b_enc } = ref.w;
  const { q, scale: sx } = quantizeActivationsRef(xp);
  const h = Float64Array.from({ length: dSae }, (_, j) => {
    let acc = 0;
    for (let i = 0; i < dIn; i++) acc += q4.q[j * dIn + i] * q[i];
    return fround(fround(acc * fround(sx * q4.scale[j])) + b_enc[j]);
  });
  return Array.from({ length: dSae }, (_, j) => j).sort((a, b) => h[b] - h[a] || a - b).slice(0, pool);
}

const rowOf = (c: SparseCodes, r: number) => Array.from(c.indices.subarray(c.rowOffsets[r], c.rowOffsets[r + 1]));
const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
const out = (c: SparseCodes) => [bits(c.rowOffsets), bits(c.indices), bits(c.values)].join("|");

describe("int4 screen", () => {
  it("picks the reference's pool and chooses among it as rescoring does, at tile-edge shapes", async () => {
    for (const [s, [dIn, dSae, k]] of SHAPES.entries()) {
      const w = weights(100 + s, dIn, dSae, k);
      const ref = new ReferenceSae(w, "int8");
      const q4 = quantizeInt4FromInt8Ref(ref.enc!, dIn);
      const n = 24;
      const x = inputs(200 + s, n, dIn, w.b_dec);
      const xp = ref.shifted(x, n);
      const rescored = ref.rescored(x, n);
      // pool = k: every candidate with a positive rescored value is chosen, so the codes show the pool.
      const screened = addInt4Screen(serializeModel(buildModel(w, "int8")), { pool: k });
      for (const kernel of ["scalar", "simd128"] as const) {
        const sae = await loadSae(screened, { kernel });
        const codes = sae.encode(x);
        for (let r = 0; r < n; r++) {
          const ctx = `d_in ${dIn} d_sae ${dSae} k ${k} ${kernel} row ${r}`;
          const pool = referencePool(ref, q4, xp.subarray(r * dIn, (r + 1) * dIn), k);
          const h = new Float64Array(dSae).fill(-Infinity), tol = new Float64Array(dSae);
          for (const j of pool) {
            h[j] = rescored.v[r * dSae + j];
            tol[j] = rescored.tol[r * dSae + j];
          }
          const chosen = rowOf(codes, r);
          expect(chosen.filter((j) => !pool.includes(j)), ctx).toEqual([]);
          expect(checkSelection(h, tol, "topk", k, undefined, chosen), ctx).toEqual([]);
          for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) {
            const j = codes.indices[e];
            expect(Math.abs(codes.values[e] - h[j]), `${ctx} latent ${j}`).toBeLessThanOrEqual(tol[j]);
          }
        }
      }
    }
  });

  it("is bit-identical across scalar, simd128 and Node 22's relaxed build (split and fused dot)", async () => {
    const w = weights(7, 100, 1000, 16);
    const screened = addInt4Screen(serializeModel(buildModel(w, "int8")));
    const x = inputs(8, 40, 100, w.b_dec);
    const scalar = out((await loadSae(screened, { kernel: "scalar" })).encode(x));
    expect(out((await loadSae(screened, { kernel: "simd128" })).encode(x))).toBe(scalar);
    const r = node22Codes(screened, x);
    expect(r.status, r.stderr).toBe(0);
    expect(r.lines).toEqual([`relaxed split ${scalar}`, `relaxed fused ${scalar}`]);
  });

  it("keeps the unscreened codes on the bundled MNIST SAE (held-out digits)", async () => {
    const model = new Uint8Array(readFileSync(new URL("../../models/mnist-topk-1024.safetensors", import.meta.url)));
    const digits = mnistDigits();
    const x = new Float32Array(digits.reduce((n, d) => n + d.length, 0));
    let o = 0;
    for (const d of digits) x.set(d, (o += d.length) - d.length);
    const plain = await loadSae(model), sae = await loadSae(addInt4Screen(model));
    const a = plain.encode(x), b = sae.encode(x);
    let hit = 0;
    for (let r = 0; r < a.rows; r++) {
      const want = new Set(rowOf(a, r));
      hit += rowOf(b, r).filter((j) => want.has(j)).length;
    }
    expect(hit / a.indices.length).toBeGreaterThanOrEqual(0.999);
  });

  it("validates what it writes and refuses what it cannot screen", async () => {
    const w = weights(3, 33, 37, 3);
    const model = serializeModel(buildModel(w, "int8"));
    const screened = addInt4Screen(model, { pool: 12 });
    const st = parseSafetensors(screened);
    expect(JSON.parse(st.header.metadata!.screen)).toEqual({ bits: 4, pool: 12 });
    const t = st.header.tensors.find((e) => e.name === "screen_W4_packed")!;
    expect([t.dtype, t.shape]).toEqual(["U8", [10, 3, 2, 16]]);
    expect((await loadSae(screened)).info.screen).toEqual({ bits: 4, pool: 12 });
    expectCode(() => addInt4Screen(serializeModel(buildModel(w, "f32"))), "MODEL_UNSUPPORTED");
    expectCode(() => addInt4Screen(serializeModel(buildModel({ ...w, architecture: "standard", k: 0 }, "int8"))), "MODEL_UNSUPPORTED");
    expectCode(() => addInt4Screen(model, { pool: 2 }), "MODEL_INVALID");
    expectCode(() => addInt4Screen(model, { pool: 38 }), "MODEL_INVALID");
    const tensors = () => Object.fromEntries(st.header.tensors.map((e) => [e.name, { dtype: e.dtype, shape: e.shape, data: st.tensor(e.name).slice() }]));
    const lie = (screen: unknown, edit?: (t: ReturnType<typeof tensors>) => void) => {
      const ts = tensors();
      edit?.(ts);
      return loadSae(serializeSafetensors(ts, { ...st.header.metadata, screen: JSON.stringify(screen) }));
    };
    await expect(lie({ bits: 3, pool: 12 })).rejects.toMatchObject({ code: "MODEL_INVALID" });
    await expect(lie({ bits: 4, rank: 16, pool: 12 })).rejects.toMatchObject({ code: "MODEL_INVALID" });
    await expect(lie({ bits: 4, pool: 12, group: 32 })).rejects.toMatchObject({ code: "MODEL_INVALID" });
    // A non-zero nibble past d_in (33 = 2 steps + 1 dim): tile 0, step 2, the high latent of pair 0, dim 33.
    await expect(lie({ bits: 4, pool: 12 }, (ts) => { (ts.screen_W4_packed.data as Uint8Array)[(2 * 2 + 0) * 16 + 1] |= 0x10; }))
      .rejects.toMatchObject({ code: "MODEL_INVALID", message: expect.stringMatching(/screen_W4_packed has a non-zero padding value \(tile 0, lane 1, dim 33\)/) });
    // A low nibble (stored q + 8) past d_in that is not 8: lane 0, dim 33.
    await expect(lie({ bits: 4, pool: 12 }, (ts) => { (ts.screen_W4_packed.data as Uint8Array)[(2 * 2 + 0) * 16 + 1] ^= 0x01; }))
      .rejects.toMatchObject({ code: "MODEL_INVALID", message: expect.stringMatching(/\(tile 0, lane 0, dim 33\)/) });
    // Past d_sae (37 = 9 tiles + 1): the last tile's lane 3.
    await expect(lie({ bits: 4, pool: 12 }, (ts) => { (ts.screen_W4_packed.data as Uint8Array)[((9 * 3 + 0) * 2 + 1) * 16] |= 0x10; }))
      .rejects.toMatchObject({ code: "MODEL_INVALID", message: expect.stringMatching(/tile 9, lane 3, dim 0/) });
    // An int4 screen works whatever the input normalization (it reads the model's own row); a low-rank one does not.
    const ln = serializeModel(buildModel({ ...w, normalization: "layer_norm", applyBDecToInput: false }, "int8"));
    expect((await loadSae(addInt4Screen(ln))).info.screen).toEqual({ bits: 4, pool: 12 });
  });

  it("sae-edge screen --int4 writes the model and reports its recall; --rank with it is refused", () => {
    const w = weights(5, 64, 256, 8);
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-int4-cli-"));
    writeFileSync(join(dir, "m.safetensors"), serializeModel(buildModel(w, "int8")));
    writeFileSync(join(dir, "val.npy"), serializeNpy(inputs(6, 300, 64, w.b_dec), [300, 64]));
    const cli = (...a: string[]) => spawnSync(process.execPath, ["dist/cli.js", ...a], { encoding: "utf8" });
    const r = cli("screen", join(dir, "m.safetensors"), join(dir, "val.npy"), "--int4", "-o", join(dir, "s.safetensors"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/screen int4, pool 32; active-set recall vs unscreened (\d\.\d+) on 300 sample rows/);
    expect(JSON.parse(cli("inspect", join(dir, "s.safetensors"), "--json").stdout).screen).toEqual({ bits: 4, pool: 32 });
    const bad = cli("screen", join(dir, "m.safetensors"), join(dir, "val.npy"), "--int4", "--rank", "32", "-o", join(dir, "x.safetensors"));
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/--rank is for low-rank screens/);
  });
});
