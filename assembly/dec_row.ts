// Sparse decode, one row: out = b_dec + sum_e value_e * W_dec[index_e], codes
// taken in the order given. Int8 rows: out += (value * row_scale) * q, the same
// per-element operations in every variant.
import { mi, mp, M_D_IN, M_D_OUT, M_D_SAE, M_QUANT, M_W_DEC, M_DEC_SCALE, M_B_DEC, M_NORM, M_W_SKIP, QUANT_I8 } from "./model";
import { dot4 } from "./vec_f32";

export function dec_i8_axpy__scalar(out: usize, row: usize, coef: f32, n: i32): void {
  for (let d = 0; d < n; d++) {
    const o = out + (<usize>d << 2);
    store<f32>(o, load<f32>(o) + coef * <f32>load<i8>(row + d));
  }
}

export function dec_i8_axpy__wasmsimd(out: usize, row: usize, coef: f32, n: i32): void {
  const cv = f32x4.splat(coef);
  let d = 0;
  for (; d + 8 <= n; d += 8) {
    const w16 = i16x8.extend_low_i8x16_s(v128.load64_zero(row + d));
    const o = out + (<usize>d << 2);
    v128.store(o, f32x4.add(v128.load(o), f32x4.mul(cv, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w16)))));
    v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(cv, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w16)))), 16);
  }
  dec_i8_axpy__scalar(out + (<usize>d << 2), row + d, coef, n - d);
}

export function dec_f32_axpy__scalar(out: usize, row: usize, coef: f32, n: i32): void {
  for (let d = 0; d < n; d++) {
    const o = out + (<usize>d << 2);
    store<f32>(o, load<f32>(o) + coef * load<f32>(row + (<usize>d << 2)));
  }
}

export function dec_f32_axpy__wasmsimd(out: usize, row: usize, coef: f32, n: i32): void {
  const cv = f32x4.splat(coef);
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    const o = out + (<usize>d << 2);
    v128.store(o, f32x4.add(v128.load(o), f32x4.mul(cv, v128.load(row + (<usize>d << 2)))));
  }
  dec_f32_axpy__scalar(out + (<usize>d << 2), row + (<usize>d << 2), coef, n - d);
}

// Four codes at once: out[d] = (((out[d] + c0·w0[d]) + c1·w1[d]) + c2·w2[d]) + c3·w3[d], the
// same operations per element as four axpys in a row (so the same bits), but out is read and
// written once, and four decoder rows stream together (their cache misses overlap).
export function dec_i8_axpy4__scalar(out: usize, w: usize, c: usize, n: i32): void {
  const r0 = load<usize>(w), r1 = load<usize>(w, 4), r2 = load<usize>(w, 8), r3 = load<usize>(w, 12);
  const c0 = load<f32>(c), c1 = load<f32>(c, 4), c2 = load<f32>(c, 8), c3 = load<f32>(c, 12);
  for (let d = 0; d < n; d++) {
    const o = out + (<usize>d << 2);
    let v = load<f32>(o) + c0 * <f32>load<i8>(r0 + d);
    v = v + c1 * <f32>load<i8>(r1 + d);
    v = v + c2 * <f32>load<i8>(r2 + d);
    store<f32>(o, v + c3 * <f32>load<i8>(r3 + d));
  }
}

@inline function i8x4f(p: usize, hi: bool): v128 {
  const w16 = i16x8.extend_low_i8x16_s(v128.load64_zero(p));
  return f32x4.convert_i32x4_s(hi ? i32x4.extend_high_i16x8_s(w16) : i32x4.extend_low_i16x8_s(w16));
}

export function dec_i8_axpy4__wasmsimd(out: usize, w: usize, c: usize, n: i32): void {
  const r0 = load<usize>(w), r1 = load<usize>(w, 4), r2 = load<usize>(w, 8), r3 = load<usize>(w, 12);
  const c0 = f32x4.splat(load<f32>(c)), c1 = f32x4.splat(load<f32>(c, 4)), c2 = f32x4.splat(load<f32>(c, 8)), c3 = f32x4.splat(load<f32>(c, 12));
  let d = 0;
  for (; d + 8 <= n; d += 8) {
    const o = out + (<usize>d << 2);
    let lo = f32x4.add(v128.load(o), f32x4.mul(c0, i8x4f(r0 + d, false)));
    let hi = f32x4.add(v128.load(o, 16), f32x4.mul(c0, i8x4f(r0 + d, true)));
    lo = f32x4.add(lo, f32x4.mul(c1, i8x4f(r1 + d, false)));
    hi = f32x4.add(hi, f32x4.mul(c1, i8x4f(r1 + d, true)));
    lo = f32x4.add(lo, f32x4.mul(c2, i8x4f(r2 + d, false)));
    hi = f32x4.add(hi, f32x4.mul(c2, i8x4f(r2 + d, true)));
    v128.store(o, f32x4.add(lo, f32x4.mul(c3, i8x4f(r3 + d, false))));
    v128.store(o, f32x4.add(hi, f32x4.mul(c3, i8x4f(r3 + d, true))), 16);
  }
  for (let e = 0; e < 4; e++) {
    dec_i8_axpy__scalar(out + (<usize>d << 2), load<usize>(w + (<usize>e << 2)) + d, load<f32>(c + (<usize>e << 2)), n - d);
  }
}

export function dec_f32_axpy4__scalar(out: usize, w: usize, c: usize, n: i32): void {
  const r0 = load<usize>(w), r1 = load<usize>(w, 4), r2 = load<usize>(w, 8), r3 = load<usize>(w, 12);
  const c0 = load<f32>(c), c1 = load<f32>(c, 4), c2 = load<f32>(c, 8), c3 = load<f32>(c, 12);
  for (let d = 0; d < n; d++) {
    const o = out + (<usize>d << 2), k = <usize>d << 2;
    let v = load<f32>(o) + c0 * load<f32>(r0 + k);
    v = v + c1 * load<f32>(r1 + k);
    v = v + c2 * load<f32>(r2 + k);
    store<f32>(o, v + c3 * load<f32>(r3 + k));
  }
}

export function dec_f32_axpy4__wasmsimd(out: usize, w: usize, c: usize, n: i32): void {
  const r0 = load<usize>(w), r1 = load<usize>(w, 4), r2 = load<usize>(w, 8), r3 = load<usize>(w, 12);
  const c0 = f32x4.splat(load<f32>(c)), c1 = f32x4.splat(load<f32>(c, 4)), c2 = f32x4.splat(load<f32>(c, 8)), c3 = f32x4.splat(load<f32>(c, 12));
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    const o = out + (<usize>d << 2), k = <usize>d << 2;
    let v = f32x4.add(v128.load(o), f32x4.mul(c0, v128.load(r0 + k)));
    v = f32x4.add(v, f32x4.mul(c1, v128.load(r1 + k)));
    v = f32x4.add(v, f32x4.mul(c2, v128.load(r2 + k)));
    v128.store(o, f32x4.add(v, f32x4.mul(c3, v128.load(r3 + k))));
  }
  for (let e = 0; e < 4; e++) {
    const k = <usize>d << 2;
    dec_f32_axpy__scalar(out + k, load<usize>(w + (<usize>e << 2)) + k, load<f32>(c + (<usize>e << 2)), n - d);
  }
}

// A row being decoded: codes wait here until four can go together (decodeEnd flushes the
// rest). A workspace slot (workspace.ts), passed explicitly.
@unmanaged export class Decoder {
  pending: i32;
  r0: usize; r1: usize; r2: usize; r3: usize;   // decoder rows of the waiting codes
  c0: f32; c1: f32; c2: f32; c3: f32;           // and their coefficients
}
@inline function pendingRows(d: Decoder): usize {
  return changetype<usize>(d) + offsetof<Decoder>("r0");
}
@inline function pendingCoefs(d: Decoder): usize {
  return changetype<usize>(d) + offsetof<Decoder>("c0");
}

function flush(d: Decoder, m: usize, out: usize): void {
  const dOut = mi(m, M_D_OUT); // decoder rows have the output width
  const int8 = mi(m, M_QUANT) == QUANT_I8;
  const rows = pendingRows(d), coefs = pendingCoefs(d);
  if (d.pending == 4) {
    if (int8) {
      if (ASC_FEATURE_SIMD) dec_i8_axpy4__wasmsimd(out, rows, coefs, dOut);
      else dec_i8_axpy4__scalar(out, rows, coefs, dOut);
    } else {
      if (ASC_FEATURE_SIMD) dec_f32_axpy4__wasmsimd(out, rows, coefs, dOut);
      else dec_f32_axpy4__scalar(out, rows, coefs, dOut);
    }
  } else {
    for (let e = 0; e < d.pending; e++) {
      const row = load<usize>(rows + (<usize>e << 2)), coef = load<f32>(coefs + (<usize>e << 2));
      if (int8) {
        if (ASC_FEATURE_SIMD) dec_i8_axpy__wasmsimd(out, row, coef, dOut);
        else dec_i8_axpy__scalar(out, row, coef, dOut);
      } else {
        if (ASC_FEATURE_SIMD) dec_f32_axpy__wasmsimd(out, row, coef, dOut);
        else dec_f32_axpy__scalar(out, row, coef, dOut);
      }
    }
  }
  d.pending = 0;
}

export function decodeBegin(d: Decoder, m: usize, out: usize): void {
  if (!ASC_NO_ASSERT) assert(changetype<usize>(d) != 0 && mi(m, M_D_OUT) > 0, "decode needs a decoder slot and d_out > 0");
  if (!ASC_NO_ASSERT) assert((out & 3) == 0 && (mp(m, M_B_DEC) & 3) == 0, "decode rows must be 4-byte aligned");
  d.pending = 0;
  memory.copy(out, mp(m, M_B_DEC), <usize>mi(m, M_D_OUT) << 2);
}

// Adds value · W_dec[j] (int8: the coefficient is value · row scale, as one f32 product).
export function decodeAdd(d: Decoder, m: usize, out: usize, j: i32, value: f32): void {
  if (!ASC_NO_ASSERT) assert(j >= 0 && j < mi(m, M_D_SAE), "decoded latent out of range");
  const dOut = mi(m, M_D_OUT);
  let row: usize, coef: f32;
  if (mi(m, M_QUANT) == QUANT_I8) {
    row = mp(m, M_W_DEC) + <usize>j * <usize>dOut;
    coef = value * load<f32>(mp(m, M_DEC_SCALE) + (<usize>j << 2));
  } else {
    row = mp(m, M_W_DEC) + ((<usize>j * <usize>dOut) << 2);
    coef = value;
  }
  store<usize>(pendingRows(d) + (<usize>d.pending << 2), row);
  store<f32>(pendingCoefs(d) + (<usize>d.pending << 2), coef);
  if (++d.pending == 4) flush(d, m, out);
}

// Ends a row's sum: the codes still waiting.
export function decodeEnd(d: Decoder, m: usize, out: usize): void {
  flush(d, m, out);
}

// Undoes the input normalization on a decoded row: x̂ = x̂_n · scale + shift (no-op without one).
export function decodeFinish(m: usize, out: usize, shift: f32, scale: f32): void {
  if (mi(m, M_NORM) == 0) return;
  const dIn = mi(m, M_D_OUT);
  for (let i = 0; i < dIn; i++) {
    const o = out + (<usize>i << 2);
    store<f32>(o, load<f32>(o) * scale + shift);
  }
}

// The skip connection: out += W_skip · x (one dot product per output, in dot4's order).
export function skipAdd(m: usize, x: usize, out: usize): void {
  const wSkip = mp(m, M_W_SKIP);
  if (!wSkip) return;
  const dIn = mi(m, M_D_IN), dOut = mi(m, M_D_OUT);
  for (let o = 0; o < dOut; o++) {
    const p = out + (<usize>o << 2);
    store<f32>(p, load<f32>(p) + dot4(wSkip + <usize>o * (<usize>dIn << 2), x, dIn));
  }
}
