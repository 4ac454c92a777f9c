// Sparse decode at its tile edges: 0 to 9 codes in a row (groups of 8 go together, the rest one by
// one), d_out on and around the SIMD steps (8 int8 bytes, 4 floats) and the 8-code group, int8 and
// f32 decoders, transcoders (d_out ≠ d_in) and the skip connection; against the float64 reference,
// and bit for bit between the scalar and simd128 builds (relaxed runs the same decode code:
// test/kernels/bit-identical.test.ts compares it under Node 22).
// Seeds: SAE_TEST_SEED overrides the base seed; every failure prints the case seed.
import { describe, expect, it } from "vitest";
import { buildModel, loadSae, serializeModel, type Sae, type SparseCodes } from "../../src/adapters/node/index.js";
import {
  TOL, baseSeed, caseSeed, csrRows, decodeRows, denseRows, expectSameBits, expectWithin, makeRng, quantizeDecoderRef,
  type Bounded, type RefMode, type Rng,
} from "../reference/index.js";

const KERNELS = ["scalar", "simd128"] as const;
const D_OUTS = [1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 33];
const D_IN = 5;
const D_SAE = 23;

/** Rows with 0, 1, …, 9 codes (then 16 and 17), repeated latents allowed, values of both signs and one tiny one. */
function codesUpTo9(rng: Rng): SparseCodes {
  const counts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17];
  const rowOffsets = new Uint32Array(counts.length + 1);
  const idx: number[] = [], val: number[] = [];
  counts.forEach((cnt, r) => {
    for (let e = 0; e < cnt; e++) {
      idx.push(rng.int(D_SAE));
      // 1e-33 · row scale · 2^-24 is subnormal: the int8 coefficient path must still agree across builds.
      val.push(r === 9 && e === 2 ? 1e-33 : Math.fround(rng.normal() * 2));
    }
    rowOffsets[r + 1] = idx.length;
  });
  return { rows: counts.length, dSae: D_SAE, rowOffsets, indices: Uint32Array.from(idx), values: Float32Array.from(val) };
}

function dense(codes: SparseCodes): Float32Array {
  const z = new Float32Array(codes.rows * D_SAE);
  // Dense rows hold one value per latent: the last code of a repeated latent wins, as the reference reads it back.
  for (let r = 0; r < codes.rows; r++) {
    for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) z[r * D_SAE + codes.indices[e]] = codes.values[e];
  }
  return z;
}

/** Reference decode into d_out (int8: the quantized rows the model holds). */
function reference(W_dec: Float32Array, b_dec: Float32Array, dOut: number, quant: RefMode) {
  if (quant === "f32") return (rows: ReturnType<typeof csrRows>) => decodeRows((j, i) => W_dec[j * dOut + i], b_dec, dOut, rows);
  const { q, scale } = quantizeDecoderRef(W_dec, D_SAE, dOut);
  return (rows: ReturnType<typeof csrRows>) => decodeRows((j, i) => scale[j] * q[j * dOut + i], b_dec, dOut, rows);
}

/** Adds W_skip · x (float64) to a reference reconstruction, widening its bound by the f32 dot's rounding. */
function withSkip(rec: Bounded, W_skip: Float32Array, x: Float32Array, rows: number, dOut: number): Bounded {
  const v = rec.v.slice(), tol = rec.tol.slice();
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < dOut; o++) {
      let s = 0, mag = 0;
      for (let i = 0; i < D_IN; i++) {
        const t = W_skip[o * D_IN + i] * x[r * D_IN + i];
        s += t;
        mag += Math.abs(t);
      }
      v[r * dOut + o] += s;
      tol[r * dOut + o] += TOL.encF32 * mag;
    }
  }
  return { v, tol };
}

describe("sparse decode tile edges (0–9 codes a row, d_out around 4/8/16, transcoders, skip)", () => {
  for (const quant of ["int8", "f32"] as RefMode[]) {
    for (const dOut of D_OUTS) {
      for (const skip of [false, true]) {
        const label = `${quant} d_in=${D_IN} d_out=${dOut} d_sae=${D_SAE}${skip ? " skip" : ""}`;
        it(label, async () => {
          const seed = caseSeed(`decode-edges ${label}`);
          const ctx = `seed=${seed} (SAE_TEST_SEED=${baseSeed()}) ${label}`;
          const rng = makeRng(seed);
          const W_dec = rng.normals(D_SAE * dOut, 0.5), b_dec = rng.normals(dOut, 0.3);
          // One latent's decoder row all zero (int8 scale 0).
          W_dec.fill(0, 3 * dOut, 4 * dOut);
          const W_skip = skip ? rng.normals(dOut * D_IN, 0.4) : undefined;
          const weights = {
            architecture: "standard" as const, dIn: D_IN, dOut, dSae: D_SAE, k: 0, applyBDecToInput: false,
            W_enc: rng.normals(D_IN * D_SAE, 0.5), b_enc: rng.normals(D_SAE, 0.1), W_dec, b_dec, W_skip,
          };
          const codes = codesUpTo9(rng);
          const z = dense(codes);
          const x = rng.normals(codes.rows * D_IN, 1);
          const ref = reference(W_dec, b_dec, dOut, quant);
          const refRec = ref(csrRows(codes));
          const outs: Record<string, { rec: Float32Array; recDense: Float32Array; fwd: Float32Array }> = {};
          for (const kernel of KERNELS) {
            const sae: Sae = await loadSae(serializeModel(buildModel(weights, quant)), { kernel });
            expect(sae.info.kernel).toBe(kernel);
            const kctx = `${ctx} kernel=${kernel}`;
            const rec = sae.decode(codes);
            expectWithin(rec, refRec, kctx, "decode vs reference", dOut);
            const recDense = sae.decodeDense(z, codes.rows);
            expectWithin(recDense, ref(denseRows(z, codes.rows, D_SAE)), kctx, "decodeDense vs reference", dOut);
            // forward = decode of its own codes (+ W_skip · x).
            const fwd = sae.forward(x, codes.rows);
            const fwdRef = ref(csrRows(fwd.codes));
            expectWithin(fwd.reconstruction, skip ? withSkip(fwdRef, W_skip!, x, codes.rows, dOut) : fwdRef, kctx, "forward reconstruction vs reference", dOut);
            outs[kernel] = { rec, recDense, fwd: fwd.reconstruction };
            sae.dispose();
          }
          expectSameBits(outs.scalar.rec, outs.simd128.rec, ctx, "decode scalar vs simd128");
          expectSameBits(outs.scalar.recDense, outs.simd128.recDense, ctx, "decodeDense scalar vs simd128");
          expectSameBits(outs.scalar.fwd, outs.simd128.fwd, ctx, "forward scalar vs simd128");
        });
      }
    }
  }
});
