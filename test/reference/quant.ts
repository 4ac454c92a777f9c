// Reference int8 quantizers, written from the spec (not from src/):
//  - weights: per latent, s = fround(max|w| / 127),
//    q = sign(w) * min(127, round_half_away_from_zero(|w| / s)), q = 0 if s = 0;
//  - activations: per row, x' in float32, amax = max|x'|,
//    inv = fround(63 / amax), scale = fround(amax / 63),
//    q = clamp(round_half_even(fround(x' * inv)), -63, 63); all zero (scale 0) if amax = 0;
//  - the encoder's residual plane: with a = |w| / s and m = |q|,
//    r = sign(w) * clamp(round_half_away_from_zero(254 * (a - m)), -127, 127), so w ≈ s * (q + r / 254).

export const fround = Math.fround;

/** Round half away from zero, exact for any double. */
export function roundHalfAway(v: number): number {
  const a = Math.abs(v);
  const f = Math.floor(a);
  const r = a - f >= 0.5 ? f + 1 : f; // a - f is exact below 2^52
  return v < 0 ? -r : r;
}

/** Round half to even, exact for any double. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export interface QuantRows {
  /** q[j * width + i]: one row of `width` codes per latent. */
  q: Int8Array;
  /** Per-latent scale (a float32 value). */
  scale: Float64Array;
}

/** Quantizes `rows` vectors of length `width`, each read through `at(row, i)`. */
function quantizeRows(rows: number, width: number, at: (row: number, i: number) => number): QuantRows {
  const q = new Int8Array(rows * width);
  const scale = new Float64Array(rows);
  for (let j = 0; j < rows; j++) {
    let amax = 0;
    for (let i = 0; i < width; i++) amax = Math.max(amax, Math.abs(at(j, i)));
    const s = fround(amax / 127);
    scale[j] = s;
    if (s === 0) continue;
    for (let i = 0; i < width; i++) {
      const w = at(j, i);
      const m = Math.min(127, roundHalfAway(Math.abs(w) / s));
      q[j * width + i] = w < 0 ? -m : m;
    }
  }
  return { q, scale };
}

/** Encoder: one row per latent j over the column W_enc[.][j] ([d_in][d_sae] row-major). */
export function quantizeEncoderRef(W_enc: ArrayLike<number>, dIn: number, dSae: number): QuantRows {
  return quantizeRows(dSae, dIn, (j, i) => W_enc[i * dSae + j]);
}

/** The encoder's residual plane, one row of d_in per latent like quantizeEncoderRef's q. */
export function quantizeEncoderResidualRef(W_enc: ArrayLike<number>, dIn: number, dSae: number, enc: QuantRows): Int8Array {
  const r = new Int8Array(dSae * dIn);
  for (let j = 0; j < dSae; j++) {
    const s = enc.scale[j];
    if (s === 0) continue;
    for (let i = 0; i < dIn; i++) {
      const w = W_enc[i * dSae + j];
      const v = roundHalfAway(254 * (Math.abs(w) / s - Math.abs(enc.q[j * dIn + i])));
      r[j * dIn + i] = (w < 0 ? -1 : 1) * Math.max(-127, Math.min(127, v));
    }
  }
  return r;
}

/** Decoder: one row per latent j over W_dec[j] ([d_sae][d_in] row-major). */
export function quantizeDecoderRef(W_dec: ArrayLike<number>, dSae: number, dIn: number): QuantRows {
  return quantizeRows(dSae, dIn, (j, i) => W_dec[j * dIn + i]);
}

export interface QuantActs {
  q: Int32Array;
  scale: number;
}

// One activation row x' (float32 values) at `steps` levels per unit of y = fround(x' · 63/amax):
// q = clamp(round_half_even(steps · y), ±63 · steps). All zero (scale 0) when amax = 0.
function quantizeRow(xp: ArrayLike<number>, steps: number): QuantActs {
  const n = xp.length;
  let amax = 0;
  for (let i = 0; i < n; i++) amax = Math.max(amax, Math.abs(xp[i]));
  const q = new Int32Array(n);
  if (!(amax > 0)) return { q, scale: 0 };
  const inv = fround(63 / amax);
  const lim = 63 * steps;
  for (let i = 0; i < n; i++) q[i] = Math.max(-lim, Math.min(lim, roundHalfEven(steps * fround(xp[i] * inv))));
  return { q, scale: fround(amax / 63) };
}

/** One activation row x' (already float32 values): the 7-bit q of the int8 encoder. */
export function quantizeActivationsRef(xp: ArrayLike<number>): QuantActs {
  return quantizeRow(xp, 1);
}

/** int8 TopK rescoring's 15-bit activations z = clamp(round_half_even(256 · y), ±16128). */
export function rescoreActivationsRef(xp: ArrayLike<number>): { z: Int32Array; scale: number } {
  const { q, scale } = quantizeRow(xp, 256);
  return { z: q, scale };
}

/**
 * The int4 screen's codes from the int8 ones (docs/model-format.md, "int4 screen"), per latent j:
 * a = max_i |q8|, scale4 = fround(fround(scale8 · a) / 7), q4 = sign(q8) · min(7, round_half_away(7 |q8| / a)).
 */
export function quantizeInt4FromInt8Ref(enc: QuantRows, width: number): QuantRows {
  const rows = enc.scale.length;
  const q = new Int8Array(rows * width);
  const scale = new Float64Array(rows);
  for (let j = 0; j < rows; j++) {
    let a = 0;
    for (let i = 0; i < width; i++) a = Math.max(a, Math.abs(enc.q[j * width + i]));
    if (a === 0) continue;
    scale[j] = fround(fround(enc.scale[j] * a) / 7);
    for (let i = 0; i < width; i++) {
      const v = enc.q[j * width + i];
      const m = Math.min(7, roundHalfAway((7 * Math.abs(v)) / a));
      q[j * width + i] = v < 0 ? -m : m;
    }
  }
  return { q, scale };
}
