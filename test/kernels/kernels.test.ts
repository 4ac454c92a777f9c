// Kernel conformance against the float64 reference (test/reference/): every
// architecture, both quantizations and both portable kernel builds, at shapes
// on and around the tile edges (int8: 4 latents x 16 input dims; f32: 4 latents).
// Seeds: SAE_TEST_SEED overrides the base seed; every failure prints the case seed.
import { describe, expect, it } from "vitest";
import { buildModel, loadSae, serializeModel, type Sae, type SaeWeights, type SparseCodes } from "../../src/adapters/node/index.js";
import {
  ReferenceSae, activateRow, quantizeActivationsRef, baseSeed, caseSeed, check, checkSelection, csrRows, denseRows, expectClose, expectSameBits,
  expectWithin, makeRng, mismatch, selectionUnambiguous, squaredError, type Arch, type RefMode, type RefWeights, type Rng,
  type SparseRow, type Bounded,
} from "../reference/index.js";

const KERNELS = ["scalar", "simd128"] as const;
type Kernel = (typeof KERNELS)[number];
const QUANTS: RefMode[] = ["int8", "f32"];
const BATCHES = [1, 3, 6, 64];

// (d_in, d_sae): covers d_in {1, 15, 16, 17, 33, 100} x d_sae {1, 3, 4, 5, 37, 64} on a diagonal-ish subset.
const SHAPES: [number, number][] = [
  [1, 1], [1, 5], [15, 3], [15, 64], [16, 4], [16, 37], [17, 5], [17, 64], [33, 4], [33, 37], [100, 1], [100, 64],
];

interface Variant {
  arch: Arch;
  k: number;
}

function variantsFor(dSae: number): Variant[] {
  const ks = [...new Set([1, Math.floor(dSae / 2), dSae])].filter((k) => k >= 1);
  return [{ arch: "standard", k: 0 }, { arch: "jumprelu", k: 0 }, ...ks.map((k) => ({ arch: "topk" as const, k }))];
}

function makeWeights(rng: Rng, arch: Arch, dIn: number, dSae: number, k: number, applyB: boolean): RefWeights {
  const W_enc = rng.normals(dIn * dSae, 1 / Math.sqrt(dIn));
  const W_dec = rng.normals(dSae * dIn, 1 / Math.sqrt(dIn));
  // A latent with an all-zero encoder column (int8 scale 0) and one with an all-zero decoder row.
  if (dSae >= 3) for (let i = 0; i < dIn; i++) W_enc[i * dSae + 1] = 0;
  if (dSae >= 2) W_dec.fill(0, (dSae - 1) * dIn, dSae * dIn);
  const threshold = arch === "jumprelu" ? Float32Array.from({ length: dSae }, () => rng.uniform(-0.3, 0.5)) : undefined;
  return {
    architecture: arch, dIn, dSae, k: arch === "topk" ? k : 0, applyBDecToInput: applyB,
    W_enc, b_enc: rng.normals(dSae, 0.2), W_dec, b_dec: rng.normals(dIn, 0.5), threshold,
  };
}

function makeInput(rng: Rng, w: RefWeights, n: number): Float32Array {
  const { dIn } = w;
  const x = new Float32Array(n * dIn);
  for (let r = 0; r < n; r++) {
    const row = x.subarray(r * dIn, (r + 1) * dIn);
    if ((n === 3 || n === 6) && r === 1) continue; // all-zero row
    if ((n === 3 || n === 6) && r === 2) {
      row.set(w.b_dec); // x = b_dec: x' = 0 when b_dec is applied to the input
      continue;
    }
    const scale = n >= 6 ? 10 ** rng.uniform(-3, 3) : 1;
    for (let i = 0; i < dIn; i++) row[i] = rng.normal() * scale;
  }
  return x;
}

async function loadModel(w: RefWeights, quant: RefMode, kernel: Kernel, encoderResidual = false): Promise<Sae> {
  const sae = await loadSae(serializeModel(buildModel(w as SaeWeights, quant, {}, { encoderResidual })), { kernel });
  expect(sae.info.kernel).toBe(kernel);
  expect(sae.info.quantization).toBe(quant);
  expect(sae.info.encoderResidual ?? false).toBe(encoderResidual);
  return sae;
}

/** Random CSR codes for decode checks: negative values, repeated latents, an empty row. */
function randomCodes(rng: Rng, n: number, dSae: number): SparseCodes {
  const rowOffsets = new Uint32Array(n + 1);
  const idx: number[] = [], val: number[] = [];
  for (let r = 0; r < n; r++) {
    const cnt = r === 1 ? 0 : 1 + rng.int(Math.min(dSae, 6) + 1);
    for (let e = 0; e < cnt; e++) {
      idx.push(rng.int(dSae));
      val.push(Math.fround(rng.normal() * 2));
    }
    rowOffsets[r + 1] = idx.length;
  }
  return { rows: n, dSae, rowOffsets, indices: Uint32Array.from(idx), values: Float32Array.from(val) };
}

interface Outputs {
  pre: Float32Array;
  codes: SparseCodes;
  dense: Float32Array;
  rec: Float32Array;
  recDense: Float32Array;
  squared: Float64Array;
  normalized: Float64Array;
  anyDec: Float32Array;
  anyDecDense: Float32Array;
}

function sameRows(a: SparseRow, b: SparseRow): boolean {
  return a.indices.length === b.indices.length && a.indices.every((j, e) => j === b.indices[e] && Object.is(a.values[e], b.values[e]));
}

/** int8 TopK rescores the best k + max(16, k/2) latents of its own int8 pre-activations (docs/kernels.md). */
function rescoringPool(preRow: ArrayLike<number>, k: number): Set<number> {
  return new Set(activateRow(preRow, "topk", Math.min(preRow.length, k + Math.max(16, k >> 1))).indices);
}

/** The reference values the int8 TopK selection chooses from: rescored values of the pool, -inf elsewhere. */
function rescoredRow(ref: Bounded, r: number, dSae: number, pool: Set<number>): { h: Float64Array; tol: Float64Array } {
  const h = new Float64Array(dSae).fill(-Infinity), tol = new Float64Array(dSae);
  for (const j of pool) {
    h[j] = ref.v[r * dSae + j];
    tol[j] = ref.tol[r * dSae + j];
  }
  return { h, tol };
}

/** Runs every method of `sae` on x and checks it against the reference and against itself. */
function conform(sae: Sae, ref: ReferenceSae, x: Float32Array, n: number, rng: Rng, ctx: string): Outputs {
  const { dIn, dSae, architecture: arch, k, threshold } = ref.w;

  // Pre-activations.
  const pre = sae.preActivations(x, n);
  const refPre = ref.preact(x, n);
  expectWithin(pre, refPre, ctx, "preActivations vs reference", dSae);

  // Sparse codes: structure.
  const codes = sae.encode(x, n);
  check(codes.rows === n && codes.dSae === dSae, ctx, "encode rows/dSae", `rows=${codes.rows} dSae=${codes.dSae}`);
  check(codes.rowOffsets instanceof Uint32Array && codes.rowOffsets.length === n + 1, ctx, "encode rowOffsets length");
  check(codes.rowOffsets[0] === 0 && codes.rowOffsets[n] === codes.indices.length && codes.indices.length === codes.values.length, ctx, "encode CSR ends");
  const maxPerRow = arch === "topk" ? k : dSae;
  const rows = csrRows(codes);
  const rescoring = arch === "topk" && ref.mode === "int8";
  const refRescored = rescoring ? ref.rescored(x, n) : null;
  const refRescoredAll = !rescoring && ref.mode === "int8" ? ref.rescored(x, n) : null;
  const bounds = refRescoredAll ? ref.rescoreBounds() : null;
  const weightTerms = refRescoredAll && ref.resid ? ref.rescoreWeightTerms() : null;
  for (let r = 0; r < n; r++) {
    const rctx = `${ctx} row=${r}`;
    const got = rows[r];
    check(codes.rowOffsets[r + 1] >= codes.rowOffsets[r], rctx, "rowOffsets decrease");
    check(got.indices.length <= maxPerRow, rctx, "too many codes", `${got.indices.length} > ${maxPerRow}`);
    for (let e = 0; e < got.values.length; e++) {
      check(got.values[e] > 0, rctx, "code value not > 0", `latent ${got.indices[e]} = ${got.values[e]}`);
      if (e > 0) {
        const [pv, pj, v, j] = [got.values[e - 1], got.indices[e - 1], got.values[e], got.indices[e]];
        check(pv > v || (pv === v && pj < j), rctx, "codes not ordered value-descending, ties by lower index", `(${pj}: ${pv}) before (${j}: ${v})`);
      }
    }
    const preRow = pre.subarray(r * dSae, (r + 1) * dSae);
    let h: ArrayLike<number> = refPre.v.subarray(r * dSae, (r + 1) * dSae);
    let tol: ArrayLike<number> = refPre.tol.subarray(r * dSae, (r + 1) * dSae);
    if (rescoring) {
      // Chosen from the kernel's own int8 candidates, by their rescored values.
      const pool = rescoringPool(preRow, k);
      const outside = got.indices.filter((j) => !pool.has(j));
      check(outside.length === 0, rctx, "rescored codes outside the int8 candidate pool", JSON.stringify(outside));
      ({ h, tol } = rescoredRow(refRescored!, r, dSae, pool));
    } else if (ref.mode === "int8") {
      // Every latent whose int8 value is above its bar minus its bound is rescored, then decided and
      // valued by the rescored (15-bit) value; the others are never chosen.
      const xp = ref.shifted(x, n).subarray(r * dIn, (r + 1) * dIn);
      const cand = ref.rescoreCandidates(preRow, quantizeActivationsRef(xp).scale, bounds!, weightTerms ? { v: weightTerms, yNorm: ReferenceSae.yNorm(xp) } : undefined);
      const outside = got.indices.filter((j) => !cand[j]);
      check(outside.length === 0, rctx, "codes below their bar minus their bound in int8", JSON.stringify(outside));
      h = Float64Array.from(cand, (c, j) => (c ? refRescoredAll!.v[r * dSae + j] : -Infinity));
      tol = Float64Array.from(cand, (c, j) => (c ? refRescoredAll!.tol[r * dSae + j] : 0));
    } else {
      // Exactly the activation of the kernel's own pre-activations (same float32 h).
      const own = activateRow(preRow, arch, k, threshold);
      if (!sameRows(got, own)) {
        mismatch(rctx, "encode is not the activation of the kernel's own preActivations", [
          `got      ${JSON.stringify(got.indices)} ${JSON.stringify(got.values)}`,
          `expected ${JSON.stringify(own.indices)} ${JSON.stringify(own.values)}`,
        ]);
      }
    }
    // Against the reference: a valid selection within tolerance, exact when unambiguous.
    const problems = checkSelection(h, tol, arch, k, threshold, got.indices);
    if (problems.length) mismatch(rctx, "encode selection vs reference", problems);
    if (selectionUnambiguous(h, tol, arch, k, threshold)) {
      const want = activateRow(h, arch, k, threshold).indices.slice().sort((a, b) => a - b);
      const have = got.indices.slice().sort((a, b) => a - b);
      check(JSON.stringify(want) === JSON.stringify(have), rctx, "encode active set vs reference", `got ${JSON.stringify(have)}, reference ${JSON.stringify(want)}`);
    }
    for (let e = 0; e < got.indices.length; e++) {
      const j = got.indices[e];
      check(Math.abs(got.values[e] - h[j]) <= tol[j], rctx, "code value vs reference", `latent ${j}: got ${got.values[e]}, reference ${h[j]} ± ${tol[j]}`);
    }
  }

  // Dense codes are the sparse codes scattered.
  const dense = sae.encodeDense(x, n);
  const scattered = new Float32Array(n * dSae);
  rows.forEach((row, r) => row.indices.forEach((j, e) => (scattered[r * dSae + j] = row.values[e])));
  expectSameBits(dense, scattered, ctx, "encodeDense vs encode scattered");

  // Decoding the kernel's own codes.
  const rec = sae.decode(codes);
  const refRec = ref.decode(rows);
  expectWithin(rec, refRec, ctx, "decode vs reference", dIn);
  const recDense = sae.decodeDense(dense, n);
  expectWithin(recDense, ref.decode(denseRows(dense, n, dSae)), ctx, "decodeDense vs reference", dIn);

  // forward = encode + decode.
  const fwd = sae.forward(x, n);
  expectSameBits(fwd.codes.rowOffsets, codes.rowOffsets, ctx, "forward codes rowOffsets");
  expectSameBits(fwd.codes.indices, codes.indices, ctx, "forward codes indices");
  expectSameBits(fwd.codes.values, codes.values, ctx, "forward codes values");
  expectSameBits(fwd.reconstruction, rec, ctx, "forward reconstruction vs decode");

  // Scores: against the reference reconstruction of the same codes, and against the kernel's own decode.
  const sc = sae.score(x, n);
  check(sc.squared instanceof Float64Array && sc.squared.length === n && sc.normalized.length === n, ctx, "score shapes");
  const refSq = squaredError(x, refRec, n, dIn);
  expectWithin(sc.squared, refSq, ctx, "score.squared vs reference ||x - x̂||²");
  const ownSq = squaredError(x, { v: Float64Array.from(rec), tol: new Float64Array(n * dIn) }, n, dIn);
  expectClose(sc.squared, ownSq.v, 1e-12, 0, ctx, "score.squared vs ||x - decode(encode(x))||²");
  for (let r = 0; r < n; r++) {
    const nx = ownSq.norm2[r], sq = sc.squared[r];
    const want = nx > 0 ? sq / nx : sq === 0 ? 0 : Infinity;
    check(want === sc.normalized[r] || Math.abs(sc.normalized[r] - want) <= 1e-12 * Math.abs(want), `${ctx} row=${r}`,
      "score.normalized = squared / ||x||²", `got ${sc.normalized[r]}, expected ${want} (squared ${sq}, ||x||² ${nx})`);
  }

  // Decoding arbitrary codes (negative values, repeats, an empty row) and arbitrary dense rows.
  const anyCodes = randomCodes(rng, n, dSae);
  const anyDec = sae.decode(anyCodes);
  expectWithin(anyDec, ref.decode(csrRows(anyCodes)), ctx, "decode(random codes) vs reference", dIn);
  const z = new Float32Array(n * dSae);
  for (let i = 0; i < z.length; i++) if (rng.next() < 0.5) z[i] = Math.fround(rng.normal());
  const anyDecDense = sae.decodeDense(z, n);
  expectWithin(anyDecDense, ref.decode(denseRows(z, n, dSae)), ctx, "decodeDense(random z) vs reference", dIn);

  return { pre, codes, dense, rec, recDense, squared: sc.squared, normalized: sc.normalized, anyDec, anyDecDense };
}

function expectSameOutputs(a: Outputs, b: Outputs, ctx: string): void {
  expectSameBits(a.pre, b.pre, ctx, "preActivations scalar vs simd128");
  expectSameBits(a.codes.rowOffsets, b.codes.rowOffsets, ctx, "encode rowOffsets scalar vs simd128");
  expectSameBits(a.codes.indices, b.codes.indices, ctx, "encode indices scalar vs simd128");
  expectSameBits(a.codes.values, b.codes.values, ctx, "encode values scalar vs simd128");
  expectSameBits(a.dense, b.dense, ctx, "encodeDense scalar vs simd128");
  expectSameBits(a.rec, b.rec, ctx, "decode scalar vs simd128");
  expectSameBits(a.recDense, b.recDense, ctx, "decodeDense scalar vs simd128");
  expectSameBits(a.squared, b.squared, ctx, "score.squared scalar vs simd128");
  expectSameBits(a.normalized, b.normalized, ctx, "score.normalized scalar vs simd128");
  expectSameBits(a.anyDec, b.anyDec, ctx, "decode(random codes) scalar vs simd128");
  expectSameBits(a.anyDecDense, b.anyDecDense, ctx, "decodeDense(random z) scalar vs simd128");
}

// int8 models with and without the encoder's residual plane (W_enc_residual), and f32.
const MODES: { quant: RefMode; residual: boolean }[] = [{ quant: "int8", residual: false }, { quant: "int8", residual: true }, { quant: "f32", residual: false }];

describe("kernels vs float64 reference (tile edges)", () => {
  for (const [dIn, dSae] of SHAPES) {
    describe(`d_in=${dIn} d_sae=${dSae}`, () => {
      for (const { arch, k } of variantsFor(dSae)) {
        for (const { quant, residual } of MODES) {
          for (const applyB of [false, true]) {
            const label = `${arch}${arch === "topk" ? ` k=${k}` : ""} ${quant}${residual ? "+residual" : ""} apply_b_dec=${applyB}`;
            it(label, async () => {
              const seed = caseSeed(`${dIn}x${dSae} ${label}`);
              const base = `seed=${seed} (SAE_TEST_SEED=${baseSeed()}) d_in=${dIn} d_sae=${dSae} ${label}`;
              const wrng = makeRng(seed);
              const w = makeWeights(wrng, arch, dIn, dSae, k, applyB);
              const ref = new ReferenceSae(w, quant, { encoderResidual: residual });
              const inputs = BATCHES.map((n) => ({ n, x: makeInput(wrng, w, n) }));
              const outs: Record<string, Outputs[]> = {};
              for (const kernel of KERNELS) {
                const sae = await loadModel(w, quant, kernel, residual);
                outs[kernel] = inputs.map(({ n, x }) => conform(sae, ref, x, n, makeRng(seed ^ n), `${base} kernel=${kernel} batch=${n}`));
                sae.dispose();
              }
              // Both builds run the same per-element operations: identical bits (int8 by design, f32 as documented).
              inputs.forEach(({ n }, b) => expectSameOutputs(outs.scalar[b], outs.simd128[b], `${base} batch=${n}`));
            });
          }
        }
      }
    });
  }
});

// Hand-built models whose every number is known in advance.
describe("quantization rounding rules", () => {
  for (const kernel of KERNELS) {
    it(`activations round half to even onto [-63, 63] (${kernel})`, async () => {
      // amax = 63 gives inv = scale = 1, so q = round_half_even(x'); identity encoder columns expose q.
      const d = 12;
      const x = Float32Array.from([63, 2.5, 3.5, -2.5, 0.5, -0.5, 1.5, -1.5, 62.5, -62.5, 0.49999997, -63]);
      const wantQ = [63, 2, 4, -2, 0, -0, 2, -2, 62, -62, 0, -63];
      const eye = new Float32Array(d * d);
      for (let i = 0; i < d; i++) eye[i * d + i] = 1;
      const w: RefWeights = {
        architecture: "standard", dIn: d, dSae: d, k: 0, applyBDecToInput: false,
        W_enc: eye, b_enc: new Float32Array(d), W_dec: eye.slice(), b_dec: new Float32Array(d),
      };
      const sae = await loadModel(w, "int8", kernel);
      const pre = sae.preActivations(x, 1);
      // h_j = 127 q_j * 1 * fround(1/127): compare against the exact product.
      const s = Math.fround(1 / 127);
      const ctx = `kernel=${kernel} x=${JSON.stringify(Array.from(x))}`;
      for (let j = 0; j < d; j++) {
        const want = Math.fround(Math.fround(127 * wantQ[j]) * Math.fround(1 * s));
        check(pre[j] === want, ctx, `latent ${j}: activation q`, `got h=${pre[j]} (q≈${pre[j] / (127 * s)}), expected q=${wantQ[j]} (h=${want})`);
      }
      const ref = new ReferenceSae(w, "int8");
      expectWithin(pre, ref.preact(x, 1), ctx, "preActivations vs reference");
    });

    it(`weights round half away from zero, per-latent scale max|w|/127 (${kernel})`, async () => {
      // Encoder column 0 and decoder row 0 have max|w| = 127, so the scale is 1 and q = round_half_away(w).
      const d = 8;
      const col = [127, 2.5, -2.5, 0.5, -0.5, 1.5, -126.5, 0.49999997];
      const wantQ = [127, 3, -3, 1, -1, 2, -127, 0];
      const W_enc = new Float32Array(d * 2);
      for (let i = 0; i < d; i++) {
        W_enc[i * 2] = col[i];
        W_enc[i * 2 + 1] = -col[i] / 1024; // a second latent with a small scale
      }
      const W_dec = new Float32Array(2 * d);
      W_dec.set(col, 0);
      W_dec.set(col.map((v) => v * 3), d);
      const w: RefWeights = {
        architecture: "standard", dIn: d, dSae: 2, k: 0, applyBDecToInput: false,
        W_enc, b_enc: new Float32Array(2), W_dec, b_dec: new Float32Array(d),
      };
      const sae = await loadModel(w, "int8", kernel);
      const ref = new ReferenceSae(w, "int8");
      const ctx = `kernel=${kernel} column=${JSON.stringify(col)}`;
      // One-hot rows x = 63 e_i: x scale 1, q_x = 63 at i, so h_0 = 63 q_w[i] exactly.
      const x = new Float32Array(d * d);
      for (let i = 0; i < d; i++) x[i * d + i] = 63;
      const pre = sae.preActivations(x, d);
      for (let i = 0; i < d; i++) {
        check(pre[i * 2] === 63 * wantQ[i], ctx, `encoder q at dim ${i}`, `got h=${pre[i * 2]}, expected 63*${wantQ[i]}`);
      }
      expectWithin(pre, ref.preact(x, d), ctx, "preActivations vs reference", 2);
      // Decoding a unit code on latent 0 gives the quantized row times scale 1.
      const rec = sae.decode({ rows: 1, dSae: 2, rowOffsets: Uint32Array.from([0, 1]), indices: Uint32Array.from([0]), values: Float32Array.from([1]) });
      expect(Array.from(rec), ctx).toEqual(wantQ);
      // Latent 1's decoder row: scale fround(381/127) = 3, same codes.
      const rec1 = sae.decode({ rows: 1, dSae: 2, rowOffsets: Uint32Array.from([0, 1]), indices: Uint32Array.from([1]), values: Float32Array.from([0.5]) });
      expect(Array.from(rec1), ctx).toEqual(wantQ.map((q) => Math.fround(0.5 * 3) * q));
    });
  }
});

describe("TopK selection: ties and buffer compaction", () => {
  for (const kernel of KERNELS) {
    for (const quant of QUANTS) {
      it(`ties go to the lower latent index for every k (${kernel}, ${quant})`, async () => {
        const seed = caseSeed(`ties ${kernel} ${quant}`);
        const rng = makeRng(seed);
        const dIn = 20, dSae = 12;
        // Latents 2, 5, 9 share a column and bias, as do 7 and 10, and 0 and 11: equal pre-activations.
        const groups = [[2, 5, 9], [7, 10], [0, 11]];
        const W_enc = rng.normals(dIn * dSae, 0.3);
        const b_enc = rng.normals(dSae, 0.1);
        for (const g of groups) {
          for (const j of g.slice(1)) {
            for (let i = 0; i < dIn; i++) W_enc[i * dSae + j] = W_enc[i * dSae + g[0]];
            b_enc[j] = b_enc[g[0]];
          }
        }
        const x = rng.normals(16 * dIn);
        let splitGroups = 0;
        for (let k = 1; k <= dSae; k++) {
          const ctx = `seed=${seed} kernel=${kernel} quant=${quant} d_in=${dIn} d_sae=${dSae} k=${k}`;
          const w: RefWeights = {
            architecture: "topk", dIn, dSae, k, applyBDecToInput: false, W_enc, b_enc, W_dec: rng.normals(dSae * dIn), b_dec: new Float32Array(dIn),
          };
          const sae = await loadModel(w, quant, kernel);
          const pre = sae.preActivations(x, 16);
          for (let r = 0; r < 16; r++) {
            for (const g of groups) {
              for (const j of g) check(Object.is(pre[r * dSae + j], pre[r * dSae + g[0]]), `${ctx} row=${r}`, "tied latents have equal h", `${j} vs ${g[0]}`);
            }
          }
          const rows = csrRows(sae.encode(x, 16));
          const rescored = quant === "int8" ? new ReferenceSae(w, quant).rescored(x, 16) : null;
          for (let r = 0; r < 16; r++) {
            const h = pre.subarray(r * dSae, (r + 1) * dSae);
            const kept = new Set(rows[r].indices);
            if (rescored) {
              // int8: every candidate is rescored (k + 16 >= d_sae); tied latents get equal values, the lower index wins.
              const sel = rescoredRow(rescored, r, dSae, rescoringPool(h, k));
              const problems = checkSelection(sel.h, sel.tol, "topk", k, undefined, rows[r].indices);
              if (problems.length) mismatch(`${ctx} row=${r}`, "rescored selection vs reference", problems);
              for (const g of groups) {
                const members = g.filter((j) => kept.has(j));
                check(JSON.stringify(members) === JSON.stringify(g.slice(0, members.length)), `${ctx} row=${r}`, "tie group cut keeps the lower indices", JSON.stringify(members));
                const vals = members.map((j) => rows[r].values[rows[r].indices.indexOf(j)]);
                check(vals.every((v) => Object.is(v, vals[0])), `${ctx} row=${r}`, "tied latents have equal rescored values", JSON.stringify(vals));
              }
            } else {
              const want = activateRow(h, "topk", k);
              if (!sameRows(rows[r], want)) mismatch(`${ctx} row=${r}`, "tie-broken top-k", [`got ${JSON.stringify(rows[r])}`, `expected ${JSON.stringify(want)}`]);
            }
            // Count tie groups the cut splits (some members kept, some dropped although positive).
            for (const g of groups) {
              const inside = g.filter((j) => kept.has(j)).length;
              if (inside > 0 && inside < g.length && h[g[0]] > 0) splitGroups++;
            }
          }
          sae.dispose();
        }
        // The data must actually exercise tie-breaking at the cut.
        expect(splitGroups, `seed=${seed}`).toBeGreaterThan(0);
      });

      it(`many candidates: the bounded selection buffer compacts correctly (${kernel}, ${quant})`, async () => {
        const seed = caseSeed(`compaction ${kernel} ${quant}`);
        const rng = makeRng(seed);
        const dIn = 24, dSae = 1000, n = 6;
        // Biased so (nearly) every latent is positive: far more candidates than the buffer holds.
        // Latents j and j + 500 share a column: ties across the compaction threshold.
        const W_enc = rng.normals(dIn * dSae, 0.2);
        const b_enc = Float32Array.from({ length: dSae }, () => 6 + rng.normal() * 0.1);
        for (let j = 500; j < dSae; j++) {
          for (let i = 0; i < dIn; i++) W_enc[i * dSae + j] = W_enc[i * dSae + j - 500];
          b_enc[j] = b_enc[j - 500];
        }
        const x = rng.normals(n * dIn);
        for (const k of [1, 7, 64, 100, 300, 1000]) {
          const ctx = `seed=${seed} kernel=${kernel} quant=${quant} d_in=${dIn} d_sae=${dSae} k=${k}`;
          const w: RefWeights = { architecture: "topk", dIn, dSae, k, applyBDecToInput: false, W_enc, b_enc, W_dec: rng.normals(dSae * dIn), b_dec: new Float32Array(dIn) };
          const sae = await loadModel(w, quant, kernel);
          const pre = sae.preActivations(x, n);
          const ref = new ReferenceSae(w, quant);
          const refPre = ref.preact(x, n);
          expectWithin(pre, refPre, ctx, "preActivations vs reference", dSae);
          const rows = csrRows(sae.encode(x, n));
          const rescored = quant === "int8" ? ref.rescored(x, n) : null;
          for (let r = 0; r < n; r++) {
            const preRow = pre.subarray(r * dSae, (r + 1) * dSae);
            const want = activateRow(preRow, "topk", k);
            expect(want.indices.length, ctx).toBe(k);
            expect(rows[r].indices.length, ctx).toBe(k);
            let sel = { h: refPre.v.subarray(r * dSae, (r + 1) * dSae), tol: refPre.tol.subarray(r * dSae, (r + 1) * dSae) };
            if (rescored) {
              // int8: the best candidates of the (compacted) int8 pass, chosen by rescored value.
              const pool = rescoringPool(preRow, k);
              const outside = rows[r].indices.filter((j) => !pool.has(j));
              check(outside.length === 0, `${ctx} row=${r}`, "codes outside the int8 candidate pool", JSON.stringify(outside.slice(0, 12)));
              sel = rescoredRow(rescored, r, dSae, pool);
            } else if (!sameRows(rows[r], want)) {
              mismatch(`${ctx} row=${r}`, "top-k with many candidates", [
                `got ${rows[r].indices.length} codes, first ${JSON.stringify(rows[r].indices.slice(0, 12))}`,
                `expected ${want.indices.length}, first ${JSON.stringify(want.indices.slice(0, 12))}`,
              ]);
            }
            const problems = checkSelection(sel.h, sel.tol, "topk", k, undefined, rows[r].indices);
            if (problems.length) mismatch(`${ctx} row=${r}`, "selection vs reference", problems);
          }
          sae.dispose();
        }
      });
    }
  }
});

describe("int8 TopK rescoring", () => {
  // x = [1, 0.005]: the second dimension rounds to 0 in 7 bits (0.315 of a step), so int8
  // alone ranks latent 17 (W = [1, 5]) at 0.984 while its true value is 1.009, above
  // latents 0..15 (W = [1, 0], b = 0.0001 (j + 1)). Latent 16 (W = [1, 0], b = bias16)
  // decides whether 17 makes the pool of k + 16 = 17 candidates.
  const dIn = 2, dSae = 18, k = 1;
  const x = Float32Array.from([1, 0.005]);
  function weights(bias16: number): RefWeights {
    const W_enc = new Float32Array(dIn * dSae);
    const b_enc = new Float32Array(dSae);
    for (let j = 0; j <= 16; j++) {
      W_enc[j] = 1;
      b_enc[j] = j < 16 ? 0.0001 * (j + 1) : bias16;
    }
    W_enc[17] = 1;
    W_enc[dSae + 17] = 5;
    return { architecture: "topk", dIn, dSae, k, applyBDecToInput: false, W_enc, b_enc, W_dec: new Float32Array(dSae * dIn).fill(0.5), b_dec: new Float32Array(dIn) };
  }
  for (const kernel of KERNELS) {
    it(`picks the latent 7-bit activations mis-rank when it is among the k + 16 candidates (${kernel})`, async () => {
      const w = weights(-0.02);
      const sae = await loadModel(w, "int8", kernel);
      const pre = sae.preActivations(x, 1);
      expect(pre[17]).toBeCloseTo(25 * 5 / 127, 5); // int8 alone: below latents 0..16
      expect(Math.max(...pre.subarray(0, 16))).toBeGreaterThan(pre[17]);
      const codes = sae.encode(x, 1);
      expect(Array.from(codes.indices)).toEqual([17]);
      const want = new ReferenceSae(w, "int8").rescored(x, 1);
      expect(Math.abs(codes.values[0] - want.v[17])).toBeLessThanOrEqual(want.tol[17]);
      // 15-bit activations: z = round(256 · 63 · 0.005) = 81, so 0.005 counts as 81 / (256 · 63).
      expect(codes.values[0]).toBeCloseTo((5 / 127) * (25 + (127 * 81) / (256 * 63)), 5);
      sae.dispose();
    });
    it(`leaves it out when 17 latents rank above it in int8 (${kernel})`, async () => {
      const sae = await loadModel(weights(-0.01), "int8", kernel);
      const codes = sae.encode(x, 1);
      expect(Array.from(codes.indices)).toEqual([15]);
      expect(codes.values[0]).toBeCloseTo(1.0016, 5);
      sae.dispose();
    });
  }
});

describe("row chunking", () => {
  it("large batches split across wasm io chunks give the same results as one row at a time", async () => {
    const seed = caseSeed("chunking");
    const rng = makeRng(seed);
    // d_in = 2048: about 510 rows per 4 MiB io chunk, so 1100 rows take three chunks.
    const dIn = 2048, dSae = 8, n = 1100, k = 3;
    const w: RefWeights = {
      architecture: "topk", dIn, dSae, k, applyBDecToInput: true,
      W_enc: rng.normals(dIn * dSae, 1 / Math.sqrt(dIn)), b_enc: rng.normals(dSae, 0.1),
      W_dec: rng.normals(dSae * dIn, 1 / Math.sqrt(dIn)), b_dec: rng.normals(dIn, 0.1),
    };
    const x = rng.normals(n * dIn);
    for (const quant of QUANTS) {
      const ctx = `seed=${seed} quant=${quant} kernel=simd128 d_in=${dIn} d_sae=${dSae} k=${k} n=${n}`;
      const sae = await loadModel(w, quant, "simd128");
      const pre = sae.preActivations(x, n);
      const codes = sae.encode(x, n);
      const dense = sae.encodeDense(x, n);
      const rec = sae.decode(codes);
      const recDense = sae.decodeDense(dense, n);
      const sc = sae.score(x, n);
      check(codes.rowOffsets.length === n + 1 && codes.rowOffsets[n] === codes.indices.length, ctx, "CSR over chunks");
      for (let r = 0; r < n; r++) {
        const xr = x.subarray(r * dIn, (r + 1) * dIn);
        const rctx = `${ctx} row=${r}`;
        expectSameBits(pre.subarray(r * dSae, (r + 1) * dSae), sae.preActivations(xr), rctx, "chunked preActivations row");
        const one = sae.encode(xr);
        const a = codes.rowOffsets[r], b = codes.rowOffsets[r + 1];
        expectSameBits(codes.indices.subarray(a, b), one.indices, rctx, "chunked encode indices");
        expectSameBits(codes.values.subarray(a, b), one.values, rctx, "chunked encode values");
        expectSameBits(dense.subarray(r * dSae, (r + 1) * dSae), sae.encodeDense(xr), rctx, "chunked encodeDense row");
        expectSameBits(rec.subarray(r * dIn, (r + 1) * dIn), sae.decode(one), rctx, "chunked decode row");
        expectSameBits(recDense.subarray(r * dIn, (r + 1) * dIn), sae.decodeDense(dense.subarray(r * dSae, (r + 1) * dSae)), rctx, "chunked decodeDense row");
        const s1 = sae.score(xr);
        check(sc.squared[r] === s1.squared[0] && Object.is(sc.normalized[r], s1.normalized[0]), rctx, "chunked score row", `${sc.squared[r]} vs ${s1.squared[0]}`);
      }
      // And the values are right: spot-check a few rows from each chunk against the reference.
      const ref = new ReferenceSae(w, quant);
      for (const r of [0, 509, 510, 511, 1019, 1020, 1021, n - 1]) {
        const xr = x.subarray(r * dIn, (r + 1) * dIn);
        expectWithin(pre.subarray(r * dSae, (r + 1) * dSae), ref.preact(xr, 1), `${ctx} row=${r}`, "preActivations vs reference");
        expectWithin(rec.subarray(r * dIn, (r + 1) * dIn), ref.decode(csrRows(sae.encode(xr))), `${ctx} row=${r}`, "decode vs reference");
      }
      sae.dispose();
    }
  });
});

// int8 rows go through the 4-row kernels (enc_i8_4x4c16) in groups of up to 16 rows (4 when a
// row's workspace lane is large) and the 1-row ones for the rest: every batch size must give each
// row the bits it gets alone, for every activation.
describe("4-row tiles: batches 1..9, 12, 16, 17, 21, 33 give every row its 1-row bits", () => {
  const dIn = 37, dSae = 45; // d_in padded to 48, d_sae not a multiple of the 4-latent tile
  const archs = ["standard", "topk", "jumprelu", "gated", "groupmax"] as const;
  const batches = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 21, 33];
  // Every row of a batch against the same row alone, through every encoding call.
  function expectRowBits(sae: Sae, x: Float32Array, n: number, dIn: number, dSae: number, ctx: string): number {
    const xs = x.subarray(0, n * dIn);
    const pre = sae.preActivations(xs, n), codes = sae.encode(xs, n), dense = sae.encodeDense(xs, n), sc = sae.score(xs, n);
    for (let r = 0; r < n; r++) {
      const xr = x.subarray(r * dIn, (r + 1) * dIn), rctx = `${ctx} row=${r}`;
      expectSameBits(pre.subarray(r * dSae, (r + 1) * dSae), sae.preActivations(xr), rctx, "preActivations row");
      const one = sae.encode(xr), a = codes.rowOffsets[r], b = codes.rowOffsets[r + 1];
      expectSameBits(codes.indices.subarray(a, b), one.indices, rctx, "encode indices");
      expectSameBits(codes.values.subarray(a, b), one.values, rctx, "encode values");
      expectSameBits(dense.subarray(r * dSae, (r + 1) * dSae), sae.encodeDense(xr), rctx, "encodeDense row");
      const s1 = sae.score(xr);
      check(sc.squared[r] === s1.squared[0] && Object.is(sc.normalized[r], s1.normalized[0]), rctx, "score row", `${sc.squared[r]} vs ${s1.squared[0]}`);
    }
    return codes.indices.length;
  }
  for (const kernel of KERNELS) {
    for (const arch of archs) {
      for (const encoderResidual of [false, true]) {
        it(`${kernel} ${arch}${encoderResidual ? " with the residual plane" : ""}`, async () => {
          const seed = caseSeed(`tiles-${kernel}-${arch}-${encoderResidual}`);
          const rng = makeRng(seed);
          const per = (s: number) => Float32Array.from({ length: dSae }, (_, j) => Math.sin(j * s) * 0.3);
          const base = makeWeights(rng, arch === "gated" || arch === "groupmax" ? "standard" : arch, dIn, dSae, arch === "topk" ? 7 : 0, true);
          const w = {
            ...base, architecture: arch, k: arch === "topk" ? 7 : arch === "groupmax" ? 5 : 0,
            ...(arch === "gated" ? { b_gate: per(1.3), r_mag: per(0.7), b_mag: per(2.1) } : {}),
          } as RefWeights;
          const sae = await loadModel(w, "int8", kernel, encoderResidual);
          const x = makeInput(rng, w, 33);
          for (const n of batches) {
            const ctx = `seed=${seed} kernel=${kernel} arch=${arch} residual=${encoderResidual} n=${n}`;
            const codes = expectRowBits(sae, x, n, dIn, dSae, ctx);
            if (n === 9) check(codes > 0, ctx, "some codes");
          }
          sae.dispose();
        });
      }
    }
    it(`${kernel}: a model with large lanes (every latent may be a code) groups rows by 4`, async () => {
      const seed = caseSeed(`tiles-wide-${kernel}`);
      const rng = makeRng(seed);
      const w = makeWeights(rng, "standard", 16, 8200, 0, false); // 8200 latents: 64 KiB of selection keys per row
      const sae = await loadModel(w, "int8", kernel);
      const x = makeInput(rng, w, 9);
      for (const n of [4, 5, 9]) expectRowBits(sae, x, n, 16, 8200, `seed=${seed} kernel=${kernel} wide n=${n}`);
      sae.dispose();
    });
    it(`${kernel}: a row that overflows float32 is named wherever it sits in a 4-row group`, async () => {
      const seed = caseSeed(`tiles-overflow-${kernel}`);
      const rng = makeRng(seed);
      const w = { ...makeWeights(rng, "topk", dIn, dSae, 5, false), W_enc: new Float32Array(dIn * dSae).fill(0.5) };
      const sae = await loadModel(w, "int8", kernel);
      for (const bad of [0, 3, 5, 8, 15, 16]) {
        const x = makeInput(rng, w, 17).fill(3e38, bad * dIn, (bad + 1) * dIn);
        for (const call of [() => sae.encode(x), () => sae.score(x), () => sae.encodeDense(x), () => sae.preActivations(x)]) {
          expect(call, `seed=${seed} row ${bad}`).toThrow(expect.objectContaining({ code: "INPUT_NONFINITE", message: expect.stringContaining(`row ${bad}:`) }));
        }
      }
      sae.dispose();
    });
  }
});
