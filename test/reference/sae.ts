// Plain float64 reference SAE (SAELens orientation), independent of src/:
// pre-activations, activation functions, sparse selection, decode and score,
// each with an error bound the kernels must stay within.
import { fround, quantizeActivationsRef, quantizeDecoderRef, quantizeEncoderRef, quantizeEncoderResidualRef, rescoreActivationsRef, type QuantRows } from "./quant.js";

export type Arch = "standard" | "topk" | "jumprelu";
export type RefMode = "f32" | "int8";

/** Same field names as the product's SaeWeights, so it can be handed to buildModel. */
export interface RefWeights {
  architecture: Arch;
  dIn: number;
  dSae: number;
  k: number;
  applyBDecToInput: boolean;
  W_enc: Float32Array; // [d_in][d_sae]
  b_enc: Float32Array; // [d_sae]
  W_dec: Float32Array; // [d_sae][d_in]
  b_dec: Float32Array; // [d_in]
  threshold?: Float32Array; // [d_sae]
}

/** A sparse row: latent indices and values, value descending, ties by lower index. */
export interface SparseRow {
  indices: number[];
  values: number[];
}

export interface Bounded {
  /** Values, row-major. */
  v: Float64Array;
  /** Absolute error bound per value. */
  tol: Float64Array;
}

export const TOL = {
  /** f32 weights: relative to sum_i |W[i][j] x'_i| + |b_j|. */
  encF32: 1e-5,
  /** int8: relative to |acc * x_scale * w_scale| + |b_j|. */
  encInt8: 1e-6,
  /** decode: relative to sum_j |f_j w_j| + |b_dec|. */
  dec: 1e-5,
  abs: 1e-30,
};

/** x' = fround(x - b_dec) (or x) for rows of width dIn, in float64 holding float32 values. */
export function shiftInput(x: ArrayLike<number>, n: number, dIn: number, bDec: ArrayLike<number> | null): Float64Array {
  const out = new Float64Array(n * dIn);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < dIn; i++) {
      const v = x[r * dIn + i];
      out[r * dIn + i] = bDec ? fround(v - bDec[i]) : v;
    }
  }
  return out;
}

/** h = W_enc^T x' + b_enc in float64, error bound relTol * (sum |W x'| + |b|). */
export function preactF64(
  W_enc: ArrayLike<number>, b_enc: ArrayLike<number>, dIn: number, dSae: number,
  xp: ArrayLike<number>, n: number, relTol = TOL.encF32,
): Bounded {
  const v = new Float64Array(n * dSae);
  const tol = new Float64Array(n * dSae);
  const acc = new Float64Array(dSae);
  const mag = new Float64Array(dSae);
  for (let r = 0; r < n; r++) {
    acc.fill(0);
    mag.fill(0);
    for (let i = 0; i < dIn; i++) {
      const xi = xp[r * dIn + i];
      if (xi === 0) continue;
      const row = i * dSae;
      for (let j = 0; j < dSae; j++) {
        const t = W_enc[row + j] * xi;
        acc[j] += t;
        mag[j] += Math.abs(t);
      }
    }
    for (let j = 0; j < dSae; j++) {
      v[r * dSae + j] = acc[j] + b_enc[j];
      tol[r * dSae + j] = relTol * (mag[j] + Math.abs(b_enc[j])) + TOL.abs;
    }
  }
  return { v, tol };
}

/** int8 pre-activations: (sum q_w q_x) * x_scale * w_scale + b in float64. */
export function preactInt8(
  enc: QuantRows, b_enc: ArrayLike<number>, dIn: number, dSae: number,
  xp: ArrayLike<number>, n: number, relTol = TOL.encInt8,
): Bounded & { xScale: Float64Array; acc: Float64Array } {
  const v = new Float64Array(n * dSae);
  const tol = new Float64Array(n * dSae);
  const accOut = new Float64Array(n * dSae);
  const xScale = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const { q, scale } = quantizeActivationsRef(Array.prototype.slice.call(xp, r * dIn, (r + 1) * dIn) as number[]);
    xScale[r] = scale;
    for (let j = 0; j < dSae; j++) {
      let acc = 0;
      const base = j * dIn;
      for (let i = 0; i < dIn; i++) acc += enc.q[base + i] * q[i];
      const main = acc * scale * enc.scale[j];
      v[r * dSae + j] = main + b_enc[j];
      tol[r * dSae + j] = relTol * (Math.abs(main) + Math.abs(b_enc[j])) + TOL.abs;
      accOut[r * dSae + j] = acc;
    }
  }
  return { v, tol, xScale, acc: accOut };
}

/** Is latent j active on its own (before TopK)? The activation's bar. */
function passes(arch: Arch, h: number, theta: number | undefined): boolean {
  if (!(h > 0)) return false;
  return arch === "jumprelu" ? h > (theta as number) : true;
}

/** Orders latent indices by (value descending, index ascending). */
export function byValueThenIndex(h: ArrayLike<number>, a: number, b: number): number {
  return h[b] - h[a] || a - b;
}

/**
 * The activation of one row of pre-activations, exactly as specified:
 * standard ReLU, JumpReLU (h > theta and h > 0), TopK (k largest h, ties by the
 * lower index, then ReLU). Returns the active latents, value descending.
 */
export function activateRow(h: ArrayLike<number>, arch: Arch, k: number, theta?: ArrayLike<number>): SparseRow {
  const d = h.length;
  let idx: number[] = [];
  if (arch === "topk") {
    const all = Array.from({ length: d }, (_, j) => j).sort((a, b) => byValueThenIndex(h, a, b));
    idx = all.slice(0, k).filter((j) => h[j] > 0);
  } else {
    for (let j = 0; j < d; j++) if (passes(arch, h[j], theta?.[j])) idx.push(j);
    idx.sort((a, b) => byValueThenIndex(h, a, b));
  }
  return { indices: idx, values: idx.map((j) => h[j]) };
}

/**
 * Is `chosen` a set the activation could pick given h only up to +-tol?
 * Returns human-readable problems (empty when valid).
 */
export function checkSelection(
  h: ArrayLike<number>, tol: ArrayLike<number>, arch: Arch, k: number, theta: ArrayLike<number> | undefined, chosen: readonly number[],
): string[] {
  const problems: string[] = [];
  const d = h.length;
  const inSet = new Uint8Array(d);
  for (const j of chosen) {
    if (!(j >= 0 && j < d)) {
      problems.push(`index ${j} out of range`);
      continue;
    }
    if (inSet[j]) problems.push(`latent ${j} listed twice`);
    inSet[j] = 1;
  }
  const hi = (j: number) => h[j] + tol[j];
  const lo = (j: number) => h[j] - tol[j];
  // The bar each latent must clear on its own (ReLU, JumpReLU threshold).
  const bar = (j: number) => (arch === "jumprelu" ? Math.max(0, theta![j]) : 0);
  for (let j = 0; j < d; j++) {
    if (inSet[j] && !(hi(j) > bar(j))) problems.push(`latent ${j} chosen but h=${h[j]} (±${tol[j]}) is not above its bar ${bar(j)}`);
  }
  if (arch !== "topk") {
    for (let j = 0; j < d; j++) {
      if (!inSet[j] && lo(j) > bar(j)) problems.push(`latent ${j} missing: h=${h[j]} (±${tol[j]}) is above its bar ${bar(j)}`);
    }
    return problems;
  }
  if (chosen.length > k) problems.push(`${chosen.length} latents chosen, k=${k}`);
  // Everything chosen must be at least as large as everything left out.
  let minChosenHi = Infinity, minChosen = -1;
  for (const j of chosen) if (inSet[j] && hi(j) < minChosenHi) { minChosenHi = hi(j); minChosen = j; }
  for (let i = 0; i < d; i++) {
    if (inSet[i]) continue;
    if (lo(i) > minChosenHi) problems.push(`latent ${i} (h=${h[i]}) left out but larger than chosen latent ${minChosen} (h=${h[minChosen]})`);
    // Fewer than k chosen: the rest must all be possibly <= 0.
    if (chosen.length < k && lo(i) > 0) problems.push(`only ${chosen.length} < k=${k} chosen but latent ${i} has h=${h[i]} > 0`);
  }
  return problems;
}

/** True if the row's selection is decided beyond the tolerance (no latent near a bar or the TopK cut). */
export function selectionUnambiguous(h: ArrayLike<number>, tol: ArrayLike<number>, arch: Arch, k: number, theta?: ArrayLike<number>): boolean {
  const d = h.length;
  const bar = (j: number) => (arch === "jumprelu" ? Math.max(0, theta![j]) : 0);
  if (arch !== "topk") {
    for (let j = 0; j < d; j++) if (Math.abs(h[j] - bar(j)) <= tol[j]) return false;
    return true;
  }
  const chosen = new Set(activateRow(h, arch, k, theta).indices);
  let minLo = Infinity;
  for (const j of chosen) {
    const lo = h[j] - tol[j];
    if (lo <= 0) return false;
    minLo = Math.min(minLo, lo);
  }
  for (let i = 0; i < d; i++) {
    if (chosen.has(i)) continue;
    const hi = h[i] + tol[i];
    if (hi > 0 && (chosen.size < k || hi >= minLo)) return false;
  }
  return true;
}

/** Decoding: x̂ = b_dec + sum_j f_j W_dec[j] (float64), bound relTol * (sum |f_j w_j| + |b|). */
export function decodeRows(
  rowWeight: (j: number, i: number) => number, b_dec: ArrayLike<number>, dIn: number, rows: readonly SparseRow[], relTol = TOL.dec,
): Bounded {
  const n = rows.length;
  const v = new Float64Array(n * dIn);
  const tol = new Float64Array(n * dIn);
  const mag = new Float64Array(dIn);
  for (let r = 0; r < n; r++) {
    mag.fill(0);
    const o = r * dIn;
    for (let i = 0; i < dIn; i++) {
      v[o + i] = b_dec[i];
      mag[i] = Math.abs(b_dec[i]);
    }
    const { indices, values } = rows[r];
    for (let e = 0; e < indices.length; e++) {
      const j = indices[e], f = values[e];
      for (let i = 0; i < dIn; i++) {
        const t = f * rowWeight(j, i);
        v[o + i] += t;
        mag[i] += Math.abs(t);
      }
    }
    for (let i = 0; i < dIn; i++) tol[o + i] = relTol * mag[i] + TOL.abs;
  }
  return { v, tol };
}

/** ||x - x̂||² per row with a bound from the per-element bounds of x̂. */
export function squaredError(x: ArrayLike<number>, xhat: Bounded, n: number, dIn: number): Bounded & { norm2: Float64Array } {
  const v = new Float64Array(n);
  const tol = new Float64Array(n);
  const norm2 = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0, t = 0, nx = 0;
    for (let i = 0; i < dIn; i++) {
      const xi = x[r * dIn + i];
      const e = xi - xhat.v[r * dIn + i];
      const ti = xhat.tol[r * dIn + i];
      s += e * e;
      t += 2 * Math.abs(e) * ti + ti * ti;
      nx += xi * xi;
    }
    v[r] = s;
    tol[r] = t + 1e-12 * (s + nx) + TOL.abs;
    norm2[r] = nx;
  }
  return { v, tol, norm2 };
}

/** Splits CSR codes into rows. */
export function csrRows(codes: { rows: number; rowOffsets: ArrayLike<number>; indices: ArrayLike<number>; values: ArrayLike<number> }): SparseRow[] {
  const out: SparseRow[] = [];
  for (let r = 0; r < codes.rows; r++) {
    const indices: number[] = [], values: number[] = [];
    for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) {
      indices.push(codes.indices[e]);
      values.push(codes.values[e]);
    }
    out.push({ indices, values });
  }
  return out;
}

/** Dense rows (n x dSae) as sparse rows of their non-zero entries, index order. */
export function denseRows(z: ArrayLike<number>, n: number, dSae: number): SparseRow[] {
  const out: SparseRow[] = [];
  for (let r = 0; r < n; r++) {
    const indices: number[] = [], values: number[] = [];
    for (let j = 0; j < dSae; j++) {
      const v = z[r * dSae + j];
      if (v !== 0) {
        indices.push(j);
        values.push(v);
      }
    }
    out.push({ indices, values });
  }
  return out;
}

/** The reference SAE in either of the product's two numeric modes. */
export class ReferenceSae {
  readonly w: RefWeights;
  readonly mode: RefMode;
  readonly enc?: QuantRows;
  readonly dec?: QuantRows;
  /** int8 with an encoder residual plane (docs/model-format.md W_enc_residual): r per weight, rows like enc.q. */
  readonly resid?: Int8Array;

  constructor(w: RefWeights, mode: RefMode, options: { encoderResidual?: boolean } = {}) {
    this.w = w;
    this.mode = mode;
    if (mode === "int8") {
      this.enc = quantizeEncoderRef(w.W_enc, w.dIn, w.dSae);
      this.dec = quantizeDecoderRef(w.W_dec, w.dSae, w.dIn);
      if (options.encoderResidual) this.resid = quantizeEncoderResidualRef(w.W_enc, w.dIn, w.dSae, this.enc);
    }
  }

  shifted(x: ArrayLike<number>, n: number): Float64Array {
    return shiftInput(x, n, this.w.dIn, this.w.applyBDecToInput ? this.w.b_dec : null);
  }

  preact(x: ArrayLike<number>, n: number): Bounded {
    const { W_enc, b_enc, dIn, dSae } = this.w;
    const xp = this.shifted(x, n);
    return this.mode === "int8" ? preactInt8(this.enc!, b_enc, dIn, dSae, xp, n) : preactF64(W_enc, b_enc, dIn, dSae, xp, n);
  }

  /**
   * int8 rescoring values: the int8 weights against the 15-bit activations z of the spec,
   * h = Σ q_w z · (s_x / 256) · scale_j + b_enc in float64 (the integer sum is exact); with the
   * residual plane, h = Σ (254 q_w + r) z · (s_x / 65024) · scale_j + b_enc.
   */
  rescored(x: ArrayLike<number>, n: number): Bounded {
    const { b_enc, dIn, dSae } = this.w;
    const { q, scale } = this.enc!;
    const res = this.resid;
    const xp = this.shifted(x, n);
    const v = new Float64Array(n * dSae), tol = new Float64Array(n * dSae);
    for (let r = 0; r < n; r++) {
      const a = rescoreActivationsRef(Array.prototype.slice.call(xp, r * dIn, (r + 1) * dIn) as number[]);
      for (let j = 0; j < dSae; j++) {
        let acc = 0;
        for (let i = 0; i < dIn; i++) acc += (res ? 254 * q[j * dIn + i] + res[j * dIn + i] : q[j * dIn + i]) * a.z[i];
        const main = acc * (a.scale / (res ? 65024 : 256)) * scale[j];
        v[r * dSae + j] = main + b_enc[j];
        tol[r * dSae + j] = TOL.encInt8 * (Math.abs(main) + Math.abs(b_enc[j])) + TOL.abs;
      }
    }
    return { v, tol };
  }

  /**
   * int8 rescoring bounds (every activation but TopK, docs/kernels.md): latent j's bound per
   * unit of s_x, fround(4 · s_j · sqrt(Σ_i q_ij² / 12)), four standard deviations of the 7-bit
   * rounding error of its pre-activation.
   */
  rescoreBounds(): Float64Array {
    const { dIn, dSae } = this.w;
    const { q, scale } = this.enc!;
    return Float64Array.from({ length: dSae }, (_, j) => {
      let s2 = 0;
      for (let i = 0; i < dIn; i++) s2 += q[j * dIn + i] ** 2;
      return fround(4 * scale[j] * Math.sqrt(s2 / 12));
    });
  }

  /**
   * With the residual plane, the bound's weight term per latent (docs/kernels.md): the rescored
   * value also drops the weights' rounding s_x · s_j · Σ_i δ_ij y_i (δ = r/254), of standard deviation
   * s_x · s_j · ‖y‖ · δ_rms, so v_j = fround(4 · s_j · sqrt(Σ_i r_ij² / 254² / d_in)).
   */
  rescoreWeightTerms(): Float64Array {
    const { dIn, dSae } = this.w;
    const { scale } = this.enc!;
    const r = this.resid!;
    return Float64Array.from({ length: dSae }, (_, j) => {
      let r2 = 0;
      for (let i = 0; i < dIn; i++) r2 += r[j * dIn + i] ** 2;
      return fround(4 * scale[j] * Math.sqrt(r2 / 64516 / dIn));
    });
  }

  /** ‖y‖ of one shifted row, fround(sqrt(Σ z²) / 256) from its 15-bit activations. */
  static yNorm(xp: ArrayLike<number>): number {
    let s = 0;
    for (const z of rescoreActivationsRef(xp).z) s += z * z;
    return fround(Math.sqrt(s) / 256);
  }

  /**
   * Which latents of one row are rescored (and then decided and valued by the rescored value),
   * given the row's int8 pre-activations (float32 values, the kernel's own) and s_x: those that
   * could be active, h > bar − d with d = fround(s_x · bound), in float32; with the residual plane
   * d = s_x · (bound + v · ‖y‖), each operation in float32.
   */
  rescoreCandidates(pre: ArrayLike<number>, xScale: number, bounds: ArrayLike<number>, weightTerms?: { v: ArrayLike<number>; yNorm: number }): boolean[] {
    const { architecture, threshold } = this.w;
    return Array.from(bounds, (b, j) => {
      const bar = architecture === "jumprelu" ? fround(Math.max(0, threshold![j])) : 0;
      const per = weightTerms ? fround(b + fround(weightTerms.v[j] * weightTerms.yNorm)) : b;
      return pre[j] > fround(bar - fround(xScale * per));
    });
  }

  activate(h: ArrayLike<number>, n: number): SparseRow[] {
    const { dSae, architecture, k, threshold } = this.w;
    const out: SparseRow[] = [];
    for (let r = 0; r < n; r++) {
      out.push(activateRow(Array.prototype.slice.call(h, r * dSae, (r + 1) * dSae) as number[], architecture, k, threshold));
    }
    return out;
  }

  encode(x: ArrayLike<number>, n: number): SparseRow[] {
    return this.activate(this.preact(x, n).v, n);
  }

  decode(rows: readonly SparseRow[]): Bounded {
    const { W_dec, b_dec, dIn } = this.w;
    if (this.mode === "int8") {
      const { q, scale } = this.dec!;
      return decodeRows((j, i) => scale[j] * q[j * dIn + i], b_dec, dIn, rows);
    }
    return decodeRows((j, i) => W_dec[j * dIn + i], b_dec, dIn, rows);
  }
}
