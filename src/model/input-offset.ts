// The input offset μ an int8 model quantizes around: the mean of x' (the encoder's input after
// normalization and b_dec) over calibration rows. Rows sharing a large offset otherwise spend
// the 7-bit activation range on it, and W_encᵀx' carries the weights' rounding times ‖μ‖.
import { fail } from "../base/errors.js";
import type { Normalization } from "./spec.js";

export interface InputSpace {
  dIn: number;
  applyBDecToInput: boolean;
  b_dec: Float32Array;
  normalization?: Normalization;
}

/** μ_i = mean over rows of x'_i, in float64 (rows: [n][d_in] row-major; cols, when known, must be d_in). */
export function inputMean(w: InputSpace, rows: Float32Array, cols = w.dIn): Float32Array {
  const { dIn } = w;
  if (cols !== dIn) fail("INPUT_SHAPE", `calibration rows have ${cols} columns, the model's d_in is ${dIn}`);
  const n = rows.length / dIn;
  if (!Number.isInteger(n) || n < 1) fail("INPUT_SHAPE", `calibration rows must be a whole number (>= 1) of rows of d_in=${dIn} values, got ${rows.length} values`);
  const sum = new Float64Array(dIn);
  for (let r = 0; r < n; r++) {
    const x = rows.subarray(r * dIn, (r + 1) * dIn);
    const { shift, scale } = rowNormalization(x, w.normalization ?? "none");
    for (let i = 0; i < dIn; i++) {
      if (!Number.isFinite(x[i])) fail("INPUT_NONFINITE", `calibration row ${r} has a non-finite value at column ${i}`);
      sum[i] += (x[i] - shift) / scale - (w.applyBDecToInput ? w.b_dec[i] : 0);
    }
  }
  return Float32Array.from(sum, (s) => s / n);
}

// The kernel's per-row normalization (assembly/quantize_x.ts), in float64.
function rowNormalization(x: Float32Array, norm: Normalization): { shift: number; scale: number } {
  const d = x.length;
  if (norm === "layer_norm") {
    let s = 0;
    for (const v of x) s += v;
    const mean = s / d;
    let v2 = 0;
    for (const v of x) v2 += (v - mean) ** 2;
    return { shift: mean, scale: (d > 1 ? Math.sqrt(v2 / (d - 1)) : 0) + 1e-5 };
  }
  if (norm === "constant_norm_rescale") {
    let n2 = 0;
    for (const v of x) n2 += v * v;
    return { shift: 0, scale: n2 > 0 ? Math.sqrt(n2 / d) : 1 };
  }
  return { shift: 0, scale: 1 };
}

/**
 * What encode subtracts from the normalized row with an offset: s = f32(b_dec + μ) (or μ), and
 * the offset it therefore removes, μ' = s − b_dec, in float64. The quantizer folds W_encᵀμ' and
 * the loader subtracts s, both from this one function.
 */
export function offsetShift(mu: Float32Array, bDec: Float32Array | undefined): { shift: Float32Array; removed: Float64Array } {
  const shift = Float32Array.from(mu, (m, i) => (bDec ? bDec[i] : 0) + m);
  return { shift, removed: Float64Array.from(shift, (v, i) => v - (bDec ? bDec[i] : 0)) };
}
