// Prepares one input row for the encoder: x' = x - shift (f32), zero padded to
// d_in_pad, and for int8 models a symmetric per-row quantization to [-63, 63]
// (xf then holds the finer i16 row z for rescoring).
// Shared scalar code in every build, so all builds see the same q and scale.
import { mi, mp, M_D_IN, M_D_IN_PAD, M_X_SHIFT, M_QUANT, M_NORM, M_ENC_RESID, QUANT_I8, X_QMAX, NORM_LAYER, NORM_CONSTANT_NORM } from "./model";

// What preparing a row found out about it: a workspace slot (workspace.ts) the later steps read.
@unmanaged export class RowStats {
  // Normalization: x_n = (x − shift) / scale (0 and 1 for none), undone on decode as
  // x̂ · decodeScale + shift. They differ for layer norm: encode divides by σ + 1e-5, decode
  // multiplies by σ, as OpenAI's and SAELens's LayerNorm do.
  shift: f32;
  scale: f32;
  decodeScale: f32;
  // The int8 activation scale s_x (x' = s_x · y); 0 for f32 models or an all-zero row.
  xScale: f32;
  // ‖y‖ from the 15-bit row, √(Σ z²) / 256 (models with a residual plane; else 0): the rescoring
  // bound's weight term (rescore_i8_1x16.ts).
  yNorm: f32;
}

const LN_EPS: f64 = 1e-5;

// Per-row normalization statistics (float64 sums, shared by every build).
function normalizeStats(m: usize, x: usize, dIn: i32, row: RowStats): void {
  row.shift = 0;
  row.scale = 1;
  row.decodeScale = 1;
  const norm = mi(m, M_NORM);
  if (norm == NORM_LAYER) {
    let s: f64 = 0;
    for (let i = 0; i < dIn; i++) s += <f64>load<f32>(x + (<usize>i << 2));
    const mean = s / <f64>dIn;
    let v: f64 = 0;
    for (let i = 0; i < dIn; i++) {
      const d = <f64>load<f32>(x + (<usize>i << 2)) - mean;
      v += d * d;
    }
    const std = dIn > 1 ? Math.sqrt(v / <f64>(dIn - 1)) : 0;
    row.shift = <f32>mean;
    row.scale = <f32>(std + LN_EPS);
    row.decodeScale = <f32>std;
  } else if (norm == NORM_CONSTANT_NORM) {
    let n2: f64 = 0;
    for (let i = 0; i < dIn; i++) {
      const v = <f64>load<f32>(x + (<usize>i << 2));
      n2 += v * v;
    }
    if (n2 > 0) row.scale = row.decodeScale = <f32>Math.sqrt(n2 / <f64>dIn);
  }
}

const TINY_ROW: f32 = 1e-30;
const TWO_64: f32 = 18446744073709551616.0;

// Layout of the quantized row, chosen by the build's kernel.
export const XQ_I8: i32 = 0;   // i8 q           (scalar)
export const XQ_I16: i32 = 1;  // i16 q, per 16 dims the 8 even then the 8 odd (simd128: i32x4.dot_i16x8_s against the weights' low and high bytes)
export const XQ_U7: i32 = 2;   // u8 q + 64      (relaxed: the i7 operand, never above 127)
export const XQ_I16P: i32 = 3; // i16 q in order (simd128 4-row kernel: against weights widened by v128.load8x8_s)

// The layout of this build's 1-row int8 (and int4) kernels.
@inline export function xqLayout(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? XQ_U7 : ASC_FEATURE_SIMD ? XQ_I16 : XQ_I8;
}

// Fills row's statistics; returns its activation scale (row.xScale).
export function prepareRow(m: usize, x: usize, xf: usize, xq: usize, layout: i32, row: RowStats): f32 {
  const dIn = mi(m, M_D_IN);
  const dInPad = mi(m, M_D_IN_PAD);
  const shift = mp(m, M_X_SHIFT);
  if (!ASC_NO_ASSERT) assert(dIn > 0 && dIn <= dInPad, "the row needs 0 < d_in <= d_in_pad");
  if (!ASC_NO_ASSERT) assert((xf & 15) == 0 && (xq & 15) == 0, "xf and xq must be 16-byte aligned");
  if (!ASC_NO_ASSERT) assert(mi(m, M_QUANT) != QUANT_I8 || (dInPad & 15) == 0, "int8 d_in_pad must be a multiple of 16");
  let amax: f32 = 0;
  normalizeStats(m, x, dIn, row);
  const normalized = mi(m, M_NORM) != 0;
  const rowShift = row.shift, rowScale = row.scale;
  row.xScale = 0;
  row.yNorm = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // The same f32 operations per element, 4 at a time, into two running maxima (max is
    // order-free, a NaN wins in any order), so V8's long f32x4.max sequences overlap.
    const sh = f32x4.splat(rowShift), sc = f32x4.splat(rowScale);
    let m4 = f32x4.splat(0), n4 = m4;
    for (; i + 8 <= dIn; i += 8) {
      const off = <usize>i << 2;
      m4 = f32x4.max(m4, f32x4.abs(shiftStore(x, xf, shift, off, normalized, sh, sc)));
      n4 = f32x4.max(n4, f32x4.abs(shiftStore(x, xf, shift, off + 16, normalized, sh, sc)));
    }
    for (; i + 4 <= dIn; i += 4) m4 = f32x4.max(m4, f32x4.abs(shiftStore(x, xf, shift, <usize>i << 2, normalized, sh, sc)));
    m4 = f32x4.max(m4, n4);
    amax = max(max(f32x4.extract_lane(m4, 0), f32x4.extract_lane(m4, 1)), max(f32x4.extract_lane(m4, 2), f32x4.extract_lane(m4, 3)));
  }
  for (; i < dIn; i++) {
    const off = <usize>i << 2;
    let v = load<f32>(x + off);
    if (normalized) v = (v - rowShift) / rowScale;
    if (shift) v -= load<f32>(shift + off);
    store<f32>(xf + off, v);
    amax = max(amax, abs(v));
  }
  for (i = dIn; i < dInPad; i++) store<f32>(xf + (<usize>i << 2), 0);
  if (mi(m, M_QUANT) != QUANT_I8) return 0;

  // Rows so small that 63/amax would overflow are first scaled by 2^64 (exact), the scale by 2^-64.
  let pre: f32 = 1;
  if (amax > 0 && amax < TINY_ROW) {
    pre = TWO_64;
    amax *= TWO_64;
  }
  let inv: f32 = 0;
  let scale: f32 = 0;
  if (amax > 0) {
    inv = X_QMAX / amax;
    scale = (amax / X_QMAX) / pre;
  }
  row.xScale = scale;
  const wantNorm = mp(m, M_ENC_RESID) != 0;
  if (ASC_FEATURE_SIMD && layout != XQ_I8) {
    row.yNorm = quantizeRow16(xf, xq, dInPad, pre, inv, layout, wantNorm);
    return scale;
  }
  let zz: i64 = 0;
  // xf's first half receives z = round(256 · y), y = x' · 63/amax, as i16: the 8 more bits
  // int8 TopK rescoring sums exactly (|z| ≤ 16128). Written behind the read, so in place.
  for (let i = 0; i < dInPad; i++) {
    const y = load<f32>(xf + (<usize>i << 2)) * pre * inv;
    const z = min(max(<i32>nearest(y * 256), -16128), 16128);
    store<i16>(xf + (<usize>i << 1), <i16>z);
    if (wantNorm) zz += <i64>(z * z);
    let q = <i32>nearest(y);
    q = min(max(q, -63), 63);
    if (layout == XQ_I16) store<i16>(xq + ((<usize>(i & ~15) + <usize>((i & 1) << 3) + <usize>((i & 15) >> 1)) << 1), <i16>q);
    else if (layout == XQ_I16P) store<i16>(xq + (<usize>i << 1), <i16>q);
    else if (layout == XQ_U7) store<u8>(xq + <usize>i, <u8>(q + 64));
    else store<i8>(xq + <usize>i, <i8>q);
  }
  row.yNorm = <f32>(Math.sqrt(<f64>zz) / 256);
  return scale;
}

// Four elements of x' = (x − row shift) / row scale − shift at byte offset off, stored to xf.
@inline function shiftStore(x: usize, xf: usize, shift: usize, off: usize, normalized: bool, sh: v128, sc: v128): v128 {
  let v = v128.load(x + off);
  if (normalized) v = f32x4.div(f32x4.sub(v, sh), sc);
  if (shift) v = f32x4.sub(v, v128.load(shift + off));
  v128.store(xf + off, v);
  return v;
}

// prepareRow's quantization 16 dims at a time (SIMD builds): the same f32 products, nearest and
// clamps per lane (trunc_sat as the scalar casts), so the same z and q; Σ z² is exact in any
// order. Returns ‖y‖ (0 unless wantNorm).
function quantizeRow16(xf: usize, xq: usize, dInPad: i32, pre: f32, inv: f32, layout: i32, wantNorm: bool): f32 {
  const p4 = f32x4.splat(pre), i4 = f32x4.splat(inv), k256 = f32x4.splat(256);
  let zz = i64x2.splat(0);
  for (let i = 0; i < dInPad; i += 16) {
    const src = xf + (<usize>i << 2);
    const y0 = f32x4.mul(f32x4.mul(v128.load(src), p4), i4);
    const y1 = f32x4.mul(f32x4.mul(v128.load(src, 16), p4), i4);
    const y2 = f32x4.mul(f32x4.mul(v128.load(src, 32), p4), i4);
    const y3 = f32x4.mul(f32x4.mul(v128.load(src, 48), p4), i4);
    // z = round(256 · y) as i16, written behind the reads (in place, as the scalar loop).
    const za = i16x8.narrow_i32x4_s(roundClamp(f32x4.mul(y0, k256), 16128), roundClamp(f32x4.mul(y1, k256), 16128));
    const zb = i16x8.narrow_i32x4_s(roundClamp(f32x4.mul(y2, k256), 16128), roundClamp(f32x4.mul(y3, k256), 16128));
    v128.store(xf + (<usize>i << 1), za);
    v128.store(xf + (<usize>i << 1), zb, 16);
    if (wantNorm) {
      const s = i32x4.add(i32x4.dot_i16x8_s(za, za), i32x4.dot_i16x8_s(zb, zb));
      zz = i64x2.add(zz, i64x2.add(i64x2.extend_low_i32x4_s(s), i64x2.extend_high_i32x4_s(s)));
    }
    const qa = i16x8.narrow_i32x4_s(roundClamp(y0, 63), roundClamp(y1, 63));
    const qb = i16x8.narrow_i32x4_s(roundClamp(y2, 63), roundClamp(y3, 63));
    if (layout == XQ_I16) {
      // Per 16 dims the 8 even, then the 8 odd.
      v128.store(xq + (<usize>i << 1), i8x16.shuffle(qa, qb, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29));
      v128.store(xq + (<usize>i << 1), i8x16.shuffle(qa, qb, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31), 16);
    } else if (layout == XQ_I16P) {
      v128.store(xq + (<usize>i << 1), qa);
      v128.store(xq + (<usize>i << 1), qb, 16);
    } else {
      v128.store(xq + <usize>i, i8x16.narrow_i16x8_u(i16x8.add(qa, i16x8.splat(64)), i16x8.add(qb, i16x8.splat(64))));
    }
  }
  if (!wantNorm) return 0;
  return <f32>(Math.sqrt(<f64>(i64x2.extract_lane(zz, 0) + i64x2.extract_lane(zz, 1))) / 256);
}
@inline function roundClamp(v: v128, lim: i32): v128 {
  return i32x4.min_s(i32x4.max_s(i32x4.trunc_sat_f32x4_s(f32x4.nearest(v)), i32x4.splat(-lim)), i32x4.splat(lim));
}
