// Int8 TopK rescoring: the encoder GEMV ranks latents with 7-bit activations
// q = round(y), y = x' / s_x; the best candidates are then rescored with the
// unrounded y against the same int8 weights, h = f32(Σ q_w · y) · (s_x · w_scale)
// + b_enc (the int8 formula without rounding y; |y| ≤ 63 keeps the sum finite),
// so 7-bit rounding cannot push a true top-k latent out.
// One latent is 16 contiguous weight bytes every 64 (enc_i8_1x4c16's packing).
// Sums run in 16 lanes (dims 16c + t), combined ((t, t+4) + (t+8, t+12)) then
// ((0 + 1) + (2 + 3)): the SIMD build and its scalar twin agree bit for bit.
import { mi, mp, M_D_IN_PAD, M_W_ENC, M_ENC_SCALE, M_B_ENC, M_K, M_D_SAE } from "./model";

// How many candidates the int8 pass hands to rescoring: k plus a margin.
export function rescoreCandidates(m: usize): i32 {
  const k = mi(m, M_K);
  return min(mi(m, M_D_SAE), k + max(16, k >> 1));
}

@inline function latentWeights(m: usize, j: i32, steps: i32): usize {
  return mp(m, M_W_ENC) + ((<usize>(j >> 2) * <usize>steps) << 6) + (<usize>(j & 3) << 4);
}

@inline function finish(m: usize, j: i32, sum: f32, xs: f32): f32 {
  const off = <usize>j << 2;
  return sum * (xs * load<f32>(mp(m, M_ENC_SCALE) + off)) + load<f32>(mp(m, M_B_ENC) + off);
}

// Lane t of the scalar twin: Σ_c q_w[16c + t] · y[16c + t] in c order.
@inline function lane(w: usize, xf: usize, steps: i32, t: i32): f32 {
  let s: f32 = 0;
  for (let c = 0; c < steps; c++) {
    s += <f32>load<i8>(w + (<usize>c << 6) + <usize>t) * load<f32>(xf + ((<usize>(c << 4) + <usize>t) << 2));
  }
  return s;
}
@inline function quad(w: usize, xf: usize, steps: i32, l: i32): f32 {
  return (lane(w, xf, steps, l) + lane(w, xf, steps, l + 4)) + (lane(w, xf, steps, l + 8) + lane(w, xf, steps, l + 12));
}

export function rescore_i8_1x16__scalar(m: usize, xf: usize, xs: f32, j: i32): f32 {
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const w = latentWeights(m, j, steps);
  return finish(m, j, (quad(w, xf, steps, 0) + quad(w, xf, steps, 1)) + (quad(w, xf, steps, 2) + quad(w, xf, steps, 3)), xs);
}

export function rescore_i8_1x16__wasmsimd(m: usize, xf: usize, xs: f32, j: i32): f32 {
  const steps = mi(m, M_D_IN_PAD) >> 4;
  let w = latentWeights(m, j, steps);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let xp = xf;
  const end = w + (<usize>steps << 6);
  for (; w < end; w += 64, xp += 64) {
    const q = v128.load(w);
    const lo = i16x8.extend_low_i8x16_s(q);
    const hi = i16x8.extend_high_i8x16_s(q);
    a0 = f32x4.add(a0, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), v128.load(xp)));
    a1 = f32x4.add(a1, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), v128.load(xp, 16)));
    a2 = f32x4.add(a2, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), v128.load(xp, 32)));
    a3 = f32x4.add(a3, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), v128.load(xp, 48)));
  }
  const v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  const sum = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  return finish(m, j, sum, xs);
}
