// Int8 TopK rescoring: the encoder GEMV ranks latents with 7-bit activations
// q = round(y), y = x' / s_x; the best candidates are then rescored with 15-bit
// activations z = round(256 · y) against the same int8 weights,
// h = f32(Σ q_w · z) · (f32(s_x / 256) · w_scale) + b_enc, the sum exact (integers), so
// 7-bit rounding of x cannot push a true top-k latent out, and every build agrees.
// One latent is 16 contiguous weight bytes every 64 (enc_i8_1x4c16's packing).
import { mi, mp, M_D_IN_PAD, M_W_ENC, M_ENC_SCALE, M_B_ENC, M_K, M_D_SAE, M_ENC_QERR } from "./model";

// How many candidates the int8 pass hands to rescoring: k plus a margin.
export function rescoreCandidates(m: usize): i32 {
  const k = mi(m, M_K);
  return min(mi(m, M_D_SAE), k + max(16, k >> 1));
}

@inline function latentWeights(m: usize, j: i32, steps: i32): usize {
  if (!ASC_NO_ASSERT) assert(j >= 0 && j < mi(m, M_D_SAE), "rescored latent out of range");
  if (!ASC_NO_ASSERT) assert(steps > 0 && (mp(m, M_W_ENC) & 15) == 0, "needs whole 16-byte steps of 16-byte aligned weights");
  return mp(m, M_W_ENC) + ((<usize>(j >> 2) * <usize>steps) << 6) + (<usize>(j & 3) << 4);
}

@inline function finish(m: usize, j: i32, sum: i64, xs: f32): f32 {
  const off = <usize>j << 2;
  return <f32>sum * ((xs * 0.00390625) * load<f32>(mp(m, M_ENC_SCALE) + off)) + load<f32>(mp(m, M_B_ENC) + off);
}

export function rescore_i8_1x16__scalar(m: usize, z: usize, xs: f32, j: i32): f32 {
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const w = latentWeights(m, j, steps);
  let s: i64 = 0;
  for (let c = 0; c < steps; c++) {
    for (let t = 0; t < 16; t++) s += <i64>(<i32>load<i8>(w + (<usize>c << 6) + <usize>t) * <i32>load<i16>(z + ((<usize>(c << 4) + <usize>t) << 1)));
  }
  return finish(m, j, s, xs);
}

// i32 lanes gain at most 4 · 127 · 16128 per step: folded into an i64 every 256 steps.
const FOLD_STEPS = 256;
export function rescore_i8_1x16__wasmsimd(m: usize, z: usize, xs: f32, j: i32): f32 {
  if (!ASC_NO_ASSERT) assert((z & 15) == 0, "the 15-bit row must be 16-byte aligned");
  const steps = mi(m, M_D_IN_PAD) >> 4;
  let w = latentWeights(m, j, steps);
  let zp = z;
  let s: i64 = 0;
  for (let c0 = 0; c0 < steps; c0 += FOLD_STEPS) {
    let a = i32x4.splat(0);
    for (const end = w + (<usize>min(FOLD_STEPS, steps - c0) << 6); w < end; w += 64, zp += 32) {
      a = i32x4.add(a, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w), v128.load(zp)), i32x4.dot_i16x8_s(v128.load8x8_s(w, 8), v128.load(zp, 16))));
    }
    s += <i64>i32x4.extract_lane(a, 0) + <i64>i32x4.extract_lane(a, 1) + <i64>i32x4.extract_lane(a, 2) + <i64>i32x4.extract_lane(a, 3);
  }
  return finish(m, j, s, xs);
}

// Either twin: the same exact sum, so the same bits.
export function rescoreLatent(m: usize, z: usize, xs: f32, j: i32): f32 {
  return ASC_FEATURE_SIMD ? rescore_i8_1x16__wasmsimd(m, z, xs, j) : rescore_i8_1x16__scalar(m, z, xs, j);
}

// Near-boundary rescoring (docs/kernels.md, "Near-boundary rescoring"): 7-bit rounding moves
// latent j's int8 pre-activation by s_x · s_j · Σ_i q_ij ε_i, ε_i independent and uniform on
// [−½, ½], so by s_x times a standard deviation of s_j · sqrt(Σ_i q_ij² / 12). Latents whose
// int8 value lies within RESCORE_Z of those deviations of their boundary are rescored.
const RESCORE_Z: f64 = 4;
export function computeRescoreBounds(m: usize): void {
  const out = mp(m, M_ENC_QERR);
  if (!out) return;
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const dSae = mi(m, M_D_SAE);
  const scale = mp(m, M_ENC_SCALE);
  let w = mp(m, M_W_ENC);
  // Tile by tile (one sequential pass over the weights); Σ q² ≤ 127² · 2^16 fits an i32.
  for (let j0 = 0; j0 < dSae; j0 += 4, w += <usize>steps << 6) {
    for (let l = 0; l < 4 && j0 + l < dSae; l++) {
      const s2 = ASC_FEATURE_SIMD ? sumsq_i8_1x16__wasmsimd(w + (<usize>l << 4), steps) : sumsq_i8_1x16__scalar(w + (<usize>l << 4), steps);
      const j = j0 + l;
      store<f32>(out + (<usize>j << 2), <f32>(RESCORE_Z * <f64>load<f32>(scale + (<usize>j << 2)) * Math.sqrt(<f64>s2 / 12)));
    }
  }
}

// Σ q² over one latent's int8 weights (16 bytes every 64): the same integer in both twins.
function sumsq_i8_1x16__scalar(w: usize, steps: i32): i32 {
  let s = 0;
  for (let c = 0; c < steps; c++) {
    for (let t = 0; t < 16; t++) {
      const q = <i32>load<i8>(w + (<usize>c << 6) + <usize>t);
      s += q * q;
    }
  }
  return s;
}
function sumsq_i8_1x16__wasmsimd(w: usize, steps: i32): i32 {
  let a = i32x4.splat(0);
  for (let c = 0; c < steps; c++, w += 64) {
    const lo = v128.load8x8_s(w), hi = v128.load8x8_s(w, 8);
    a = i32x4.add(a, i32x4.add(i32x4.dot_i16x8_s(lo, lo), i32x4.dot_i16x8_s(hi, hi)));
  }
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}
