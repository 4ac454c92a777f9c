// SIMD builds select the int8 TopK codes of narrow models after the GEMV, from the row's dense
// pre-activations (assembly/select.ts, selectDense: the k-th largest maximum of groups of 16 is a
// lower bound, then only latents at or above it are pushed); the scalar build streams every
// positive latent through the selection as before. Rows built to stress the bound -- exact ties
// across groups, every large value in one group, fewer positives than k, latents past the last
// whole group, fewer groups than candidates, as many positives as the packing's room -- must give the top k by (value, lower index) of a
// plain sort, and the same bits in every build.
import { describe, expect, it } from "vitest";
import { buildModel, loadSae, serializeModel, type SparseCodes } from "../../src/adapters/node/index.js";
import { node22Codes } from "../helpers/node22-codes.js";
import { makeRng, type RefWeights } from "../reference/index.js";

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
const out = (c: SparseCodes) => [bits(c.rowOffsets), bits(c.indices), bits(c.values)].join("|");
const rowOf = (c: SparseCodes, r: number) => Array.from(c.indices.subarray(c.rowOffsets[r], c.rowOffsets[r + 1]));

/** Zero encoder weights: every pre-activation is its bias, exactly, whatever the row. */
function biasOnly(dIn: number, b_enc: Float32Array, k: number): RefWeights {
  const dSae = b_enc.length;
  const r = makeRng(dSae);
  return { architecture: "topk", dIn, dSae, k, applyBDecToInput: true, W_enc: new Float32Array(dIn * dSae), b_enc, W_dec: r.normals(dSae * dIn, 0.1), b_dec: r.normals(dIn, 0.3) };
}

/** The top k of b among b > 0, value descending, ties to the lower index. */
function topK(b: Float32Array, k: number): number[] {
  return Array.from(b.keys()).filter((j) => b[j] > 0).sort((p, q) => b[q] - b[p] || p - q).slice(0, k);
}

async function everyBuild(model: Uint8Array, x: Float32Array): Promise<SparseCodes> {
  const scalar = await loadSae(model, { kernel: "scalar" });
  const codes = scalar.encode(x);
  expect(out((await loadSae(model, { kernel: "simd128" })).encode(x)), "simd128 = scalar").toBe(out(codes));
  const r = node22Codes(model, x);
  expect(r.status, r.stderr).toBe(0);
  expect(r.lines).toEqual([`relaxed split ${out(codes)}`, `relaxed fused ${out(codes)}`]);
  return codes;
}

// Bias patterns on d_sae = 1030 (64 whole groups, then 6 latents), k = 32 (48 candidates).
const D_SAE = 1030;
const PATTERNS: [string, (j: number) => number][] = [
  ["exact ties in every group", (j) => 1 + (j % 3)],
  ["every large value in one group, ties past the last whole group", (j) => (j >= 80 && j < 96 ? 100 + j : j >= 1024 ? 50 : 0.001 * (j % 7))],
  ["fewer positives than k", (j) => (j % 97 === 5 ? 1 + j : -1)],
  ["the largest values past the last whole group", (j) => (j >= 1024 ? 10 : j % 16 === 0 ? 2 : 1)],
  ["all equal", () => 0.5],
  // The SIMD scan packs passing latents 4 lanes at a time into room for the selection's 256 (k = 32)
  // and pushes the rest one by one: counts of positives just below, at and past that room.
  ...[251, 252, 253, 256, 257].map((n): [string, (j: number) => number] => [`${n} positives, one lane in four`, (j) => (j % 4 === 1 && j < 4 * n ? 1 + (j % 5) * 0.25 : -1)]),
];

describe("dense TopK selection", () => {
  for (const [name, bias] of PATTERNS) {
    it(`${name}: the top k of a plain sort, in every build, batch 1 and 16`, async () => {
      const b = Float32Array.from({ length: D_SAE }, (_, j) => bias(j));
      const model = serializeModel(buildModel(biasOnly(24, b, 32), "int8"));
      const x = makeRng(3).normals(16 * 24);
      const codes = await everyBuild(model, x);
      const want = topK(b, 32);
      for (let r = 0; r < 16; r++) {
        expect(rowOf(codes, r), `row ${r}`).toEqual(want);
        expect(Array.from(codes.values.subarray(codes.rowOffsets[r], codes.rowOffsets[r + 1]))).toEqual(want.map((j) => b[j]));
      }
    });
  }

  it("trained-like rows at shapes around the group and candidate counts: the same bits as the scalar build's streaming selection", async () => {
    // d_sae / 16 groups: below, at and above the 48 candidates of k = 32; d_sae past whole groups.
    for (const [dIn, dSae, k] of [[40, 700, 32], [40, 768, 32], [40, 800, 32], [33, 4099, 32], [17, 1024, 1], [64, 64, 8]]) {
      const r = makeRng(dSae + k);
      const w: RefWeights = {
        architecture: "topk", dIn, dSae, k, applyBDecToInput: true,
        W_enc: r.normals(dIn * dSae, 1 / Math.sqrt(dIn)), b_enc: r.normals(dSae, 0.1), W_dec: r.normals(dSae * dIn, 0.1), b_dec: r.normals(dIn, 0.3),
      };
      const x = r.normals(20 * dIn);
      const codes = await everyBuild(serializeModel(buildModel(w, "int8")), x);
      for (let row = 0; row < 20; row++) expect(codes.rowOffsets[row + 1] - codes.rowOffsets[row], `${dIn}x${dSae} row ${row}`).toBe(k);
    }
  });
});
