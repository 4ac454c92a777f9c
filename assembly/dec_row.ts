// Sparse decode, one row: out = b_dec + sum_e value_e * W_dec[index_e], codes
// taken in the order given. Int8 rows: out += (value * row_scale) * q, the same
// per-element operations in every variant.
import { mi, mp, M_D_IN, M_D_OUT, M_D_SAE, M_QUANT, M_W_DEC, M_DEC_SCALE, M_B_DEC, M_NORM, M_W_SKIP, QUANT_I8 } from "./model";
import { dot4 } from "./vec_f32";

// int8 weights are read as q·2^24 (the byte moved to the top of its i32 lane, one unpack with zero
// per step in SIMD instead of two sign extensions) and the coefficient carries 2^-24: both scalings
// are exact, so each product is (value · row scale) · q rounded once, as before.
const Q_SHIFT: f32 = 5.9604644775390625e-8; // 2^-24

export function dec_i8_axpy__scalar(out: usize, row: usize, coef: f32, n: i32): void {
  for (let d = 0; d < n; d++) {
    const o = out + (<usize>d << 2);
    store<f32>(o, load<f32>(o) + coef * <f32>(<i32>load<i8>(row + d) << 24));
  }
}

// The low 8 bytes of an int8 row chunk as two f32x4 of q·2^24 (lanes 0–3, then 4–7).
@inline function q24(v: v128, high: bool): v128 {
  const z = v128.splat<i32>(0);
  const w = i8x16.shuffle(z, v, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  return f32x4.convert_i32x4_s(high ? i16x8.shuffle(z, w, 4, 12, 5, 13, 6, 14, 7, 15) : i16x8.shuffle(z, w, 0, 8, 1, 9, 2, 10, 3, 11));
}

export function dec_i8_axpy__wasmsimd(out: usize, row: usize, coef: f32, n: i32): void {
  const cv = f32x4.splat(coef);
  let d = 0;
  for (; d + 8 <= n; d += 8) {
    const v = v128.load64_zero(row + d), o = out + (<usize>d << 2);
    v128.store(o, f32x4.add(v128.load(o), f32x4.mul(cv, q24(v, false))));
    v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(cv, q24(v, true))), 16);
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

// Eight codes at once: out[d] = (…((out[d] + c0·w0[d]) + c1·w1[d]) … ) + c7·w7[d], the same
// operations per element as eight axpys in a row (so the same bits), but out is read and written
// once per eight codes, and eight decoder rows stream together (their cache misses overlap).
// w: the eight rows (usize[8]), c: their coefficients (f32[8]).
export function dec_i8_axpy8__scalar(out: usize, w: usize, c: usize, n: i32): void {
  i8Axpy8From(out, w, c, 0, n);
}

// Elements [d0, n) of dec_i8_axpy8 (also the SIMD twin's tail).
@inline function i8Axpy8From(out: usize, w: usize, c: usize, d0: i32, n: i32): void {
  const r0 = load<usize>(w), r1 = load<usize>(w, 4), r2 = load<usize>(w, 8), r3 = load<usize>(w, 12);
  const r4 = load<usize>(w, 16), r5 = load<usize>(w, 20), r6 = load<usize>(w, 24), r7 = load<usize>(w, 28);
  const c0 = load<f32>(c), c1 = load<f32>(c, 4), c2 = load<f32>(c, 8), c3 = load<f32>(c, 12);
  const c4 = load<f32>(c, 16), c5 = load<f32>(c, 20), c6 = load<f32>(c, 24), c7 = load<f32>(c, 28);
  for (let d = d0; d < n; d++) {
    const o = out + (<usize>d << 2);
    let v = load<f32>(o) + c0 * <f32>(<i32>load<i8>(r0 + d) << 24);
    v = v + c1 * <f32>(<i32>load<i8>(r1 + d) << 24);
    v = v + c2 * <f32>(<i32>load<i8>(r2 + d) << 24);
    v = v + c3 * <f32>(<i32>load<i8>(r3 + d) << 24);
    v = v + c4 * <f32>(<i32>load<i8>(r4 + d) << 24);
    v = v + c5 * <f32>(<i32>load<i8>(r5 + d) << 24);
    v = v + c6 * <f32>(<i32>load<i8>(r6 + d) << 24);
    store<f32>(o, v + c7 * <f32>(<i32>load<i8>(r7 + d) << 24));
  }
}

export function dec_i8_axpy8__wasmsimd(out: usize, w: usize, c: usize, n: i32): void {
  const r0 = load<usize>(w), r1 = load<usize>(w, 4), r2 = load<usize>(w, 8), r3 = load<usize>(w, 12);
  const r4 = load<usize>(w, 16), r5 = load<usize>(w, 20), r6 = load<usize>(w, 24), r7 = load<usize>(w, 28);
  let d = 0;
  for (; d + 8 <= n; d += 8) {
    const o = out + (<usize>d << 2);
    let a0 = v128.load(o), a1 = v128.load(o, 16);
    // Coefficients splat from memory each step: eight held in registers spill on x86's 16.
    let v: v128, cv: v128;
    cv = v128.load32_splat(c, 0); v = v128.load64_zero(r0 + d);
    a0 = f32x4.add(a0, f32x4.mul(cv, q24(v, false))); a1 = f32x4.add(a1, f32x4.mul(cv, q24(v, true)));
    cv = v128.load32_splat(c, 4); v = v128.load64_zero(r1 + d);
    a0 = f32x4.add(a0, f32x4.mul(cv, q24(v, false))); a1 = f32x4.add(a1, f32x4.mul(cv, q24(v, true)));
    cv = v128.load32_splat(c, 8); v = v128.load64_zero(r2 + d);
    a0 = f32x4.add(a0, f32x4.mul(cv, q24(v, false))); a1 = f32x4.add(a1, f32x4.mul(cv, q24(v, true)));
    cv = v128.load32_splat(c, 12); v = v128.load64_zero(r3 + d);
    a0 = f32x4.add(a0, f32x4.mul(cv, q24(v, false))); a1 = f32x4.add(a1, f32x4.mul(cv, q24(v, true)));
    cv = v128.load32_splat(c, 16); v = v128.load64_zero(r4 + d);
    a0 = f32x4.add(a0, f32x4.mul(cv, q24(v, false))); a1 = f32x4.add(a1, f32x4.mul(cv, q24(v, true)));
    cv = v128.load32_splat(c, 20); v = v128.load64_zero(r5 + d);
    a0 = f32x4.add(a0, f32x4.mul(cv, q24(v, false))); a1 = f32x4.add(a1, f32x4.mul(cv, q24(v, true)));
    cv = v128.load32_splat(c, 24); v = v128.load64_zero(r6 + d);
    a0 = f32x4.add(a0, f32x4.mul(cv, q24(v, false))); a1 = f32x4.add(a1, f32x4.mul(cv, q24(v, true)));
    cv = v128.load32_splat(c, 28); v = v128.load64_zero(r7 + d);
    a0 = f32x4.add(a0, f32x4.mul(cv, q24(v, false))); a1 = f32x4.add(a1, f32x4.mul(cv, q24(v, true)));
    v128.store(o, a0); v128.store(o, a1, 16);
  }
  i8Axpy8From(out, w, c, d, n);
}

export function dec_f32_axpy8__scalar(out: usize, w: usize, c: usize, n: i32): void {
  f32Axpy8From(out, w, c, 0, n);
}

@inline function f32Axpy8From(out: usize, w: usize, c: usize, d0: i32, n: i32): void {
  const r0 = load<usize>(w), r1 = load<usize>(w, 4), r2 = load<usize>(w, 8), r3 = load<usize>(w, 12);
  const r4 = load<usize>(w, 16), r5 = load<usize>(w, 20), r6 = load<usize>(w, 24), r7 = load<usize>(w, 28);
  const c0 = load<f32>(c), c1 = load<f32>(c, 4), c2 = load<f32>(c, 8), c3 = load<f32>(c, 12);
  const c4 = load<f32>(c, 16), c5 = load<f32>(c, 20), c6 = load<f32>(c, 24), c7 = load<f32>(c, 28);
  for (let d = d0; d < n; d++) {
    const o = out + (<usize>d << 2), k = <usize>d << 2;
    let v = load<f32>(o) + c0 * load<f32>(r0 + k);
    v = v + c1 * load<f32>(r1 + k);
    v = v + c2 * load<f32>(r2 + k);
    v = v + c3 * load<f32>(r3 + k);
    v = v + c4 * load<f32>(r4 + k);
    v = v + c5 * load<f32>(r5 + k);
    v = v + c6 * load<f32>(r6 + k);
    store<f32>(o, v + c7 * load<f32>(r7 + k));
  }
}

export function dec_f32_axpy8__wasmsimd(out: usize, w: usize, c: usize, n: i32): void {
  const r0 = load<usize>(w), r1 = load<usize>(w, 4), r2 = load<usize>(w, 8), r3 = load<usize>(w, 12);
  const r4 = load<usize>(w, 16), r5 = load<usize>(w, 20), r6 = load<usize>(w, 24), r7 = load<usize>(w, 28);
  const c0 = f32x4.splat(load<f32>(c)), c1 = f32x4.splat(load<f32>(c, 4)), c2 = f32x4.splat(load<f32>(c, 8)), c3 = f32x4.splat(load<f32>(c, 12));
  const c4 = f32x4.splat(load<f32>(c, 16)), c5 = f32x4.splat(load<f32>(c, 20)), c6 = f32x4.splat(load<f32>(c, 24)), c7 = f32x4.splat(load<f32>(c, 28));
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    const o = out + (<usize>d << 2), k = <usize>d << 2;
    let v = f32x4.add(v128.load(o), f32x4.mul(c0, v128.load(r0 + k)));
    v = f32x4.add(v, f32x4.mul(c1, v128.load(r1 + k)));
    v = f32x4.add(v, f32x4.mul(c2, v128.load(r2 + k)));
    v = f32x4.add(v, f32x4.mul(c3, v128.load(r3 + k)));
    v = f32x4.add(v, f32x4.mul(c4, v128.load(r4 + k)));
    v = f32x4.add(v, f32x4.mul(c5, v128.load(r5 + k)));
    v = f32x4.add(v, f32x4.mul(c6, v128.load(r6 + k)));
    v128.store(o, f32x4.add(v, f32x4.mul(c7, v128.load(r7 + k))));
  }
  f32Axpy8From(out, w, c, d, n);
}

// A row being decoded: codes wait here until eight can go together (decodeEnd adds the rest one
// by one). A workspace slot (workspace.ts), passed explicitly.
@unmanaged export class Decoder {
  pending: i32;
  r0: usize; r1: usize; r2: usize; r3: usize; r4: usize; r5: usize; r6: usize; r7: usize; // decoder rows of the waiting codes
  c0: f32; c1: f32; c2: f32; c3: f32; c4: f32; c5: f32; c6: f32; c7: f32;                 // and their coefficients
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
  if (d.pending == 8) {
    if (int8) {
      if (ASC_FEATURE_SIMD) dec_i8_axpy8__wasmsimd(out, rows, coefs, dOut);
      else dec_i8_axpy8__scalar(out, rows, coefs, dOut);
    } else {
      if (ASC_FEATURE_SIMD) dec_f32_axpy8__wasmsimd(out, rows, coefs, dOut);
      else dec_f32_axpy8__scalar(out, rows, coefs, dOut);
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

// Adds value · W_dec[j] (int8: the coefficient is value · row scale, as one f32 product, times 2^-24).
export function decodeAdd(d: Decoder, m: usize, out: usize, j: i32, value: f32): void {
  if (!ASC_NO_ASSERT) assert(j >= 0 && j < mi(m, M_D_SAE), "decoded latent out of range");
  const dOut = mi(m, M_D_OUT);
  let row: usize, coef: f32;
  if (mi(m, M_QUANT) == QUANT_I8) {
    row = mp(m, M_W_DEC) + <usize>j * <usize>dOut;
    coef = value * load<f32>(mp(m, M_DEC_SCALE) + (<usize>j << 2)) * Q_SHIFT;
  } else {
    row = mp(m, M_W_DEC) + ((<usize>j * <usize>dOut) << 2);
    coef = value;
  }
  store<usize>(pendingRows(d) + (<usize>d.pending << 2), row);
  store<f32>(pendingCoefs(d) + (<usize>d.pending << 2), coef);
  if (++d.pending == 8) flush(d, m, out);
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

// Row r of CSR codes (indices idx, values val, row r at [rowptr[r], rowptr[r+1])) into out, with
// the row's normalization undone from stats (f32[n][2] as encode_sparse wrote them, or 0).
export function decodeCodesRow(d: Decoder, m: usize, out: usize, idx: usize, val: usize, rowptr: usize, r: i32, stats: usize): void {
  decodeBegin(d, m, out);
  const end = load<i32>(rowptr + (<usize>(r + 1) << 2));
  for (let e = load<i32>(rowptr + (<usize>r << 2)); e < end; e++) {
    decodeAdd(d, m, out, load<i32>(idx + (<usize>e << 2)), load<f32>(val + (<usize>e << 2)));
  }
  decodeEnd(d, m, out);
  if (stats) decodeFinish(m, out, load<f32>(stats + (<usize>r << 3)), load<f32>(stats + (<usize>r << 3) + 4));
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
