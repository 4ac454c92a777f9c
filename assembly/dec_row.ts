// Sparse decode, one row: out = b_dec + sum_e value_e * W_dec[index_e], codes
// taken in the order given. Int8 rows: out += (value * row_scale) * q, the same
// per-element operations in every variant.
import { mi, mp, M_D_IN, M_D_OUT, M_QUANT, M_W_DEC, M_DEC_SCALE, M_B_DEC, M_NORM, M_W_SKIP, QUANT_I8 } from "./model";
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

@inline function axpy(m: usize, out: usize, j: i32, value: f32): void {
  const dIn = mi(m, M_D_OUT); // decoder rows have the output width
  if (mi(m, M_QUANT) == QUANT_I8) {
    const row = mp(m, M_W_DEC) + <usize>j * <usize>dIn;
    const coef = value * load<f32>(mp(m, M_DEC_SCALE) + (<usize>j << 2));
    if (ASC_FEATURE_SIMD) dec_i8_axpy__wasmsimd(out, row, coef, dIn);
    else dec_i8_axpy__scalar(out, row, coef, dIn);
  } else {
    const row = mp(m, M_W_DEC) + ((<usize>j * <usize>dIn) << 2);
    if (ASC_FEATURE_SIMD) dec_f32_axpy__wasmsimd(out, row, value, dIn);
    else dec_f32_axpy__scalar(out, row, value, dIn);
  }
}

export function decodeBegin(m: usize, out: usize): void {
  memory.copy(out, mp(m, M_B_DEC), <usize>mi(m, M_D_OUT) << 2);
}

export function decodeAdd(m: usize, out: usize, j: i32, value: f32): void {
  axpy(m, out, j, value);
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
