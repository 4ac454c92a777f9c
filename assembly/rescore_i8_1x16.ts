// Int8 TopK rescoring: the encoder GEMV ranks latents with 7-bit activations
// q = round(y), y = x' / s_x; the best candidates are then rescored with 15-bit
// activations z = round(256 · y) against the same int8 weights,
// h = f32(Σ q_w · z) · (f32(s_x / 256) · w_scale) + b_enc, the sum exact (integers), so
// 7-bit rounding of x cannot push a true top-k latent out, and every build agrees.
// With a residual plane r (M_ENC_RESID), the weights are c = 254 · q_w + r,
// w ≈ w_scale · c / 254, and h = f32(254 · Σ q_w z + Σ r z) · (f32(s_x / 65024) · w_scale)
// + b_enc: two exact sums over int8 bytes, so the SIMD twin keeps its i16 dot products.
// One latent is 16 contiguous weight bytes every 64 (enc_i8_1x4c16's packing) and, in the
// plane, one contiguous row of d_in_pad bytes (only rescoring reads it, a latent at a time).
import { mi, mp, M_D_IN, M_D_IN_PAD, M_W_ENC, M_ENC_SCALE, M_B_ENC, M_K, M_D_SAE, M_ENC_QERR, M_ENC_RESID, M_ENC_RERR } from "./model";

// How many candidates the int8 pass hands to rescoring: k plus a margin.
export function rescoreCandidates(m: usize): i32 {
  const k = mi(m, M_K);
  return min(mi(m, M_D_SAE), k + max(16, k >> 1));
}

// Where latent j's int8 weights start (16 bytes every WEIGHT_STRIDE), and its residual row (contiguous).
const WEIGHT_STRIDE: usize = 64;
const ROW_STRIDE: usize = 16;
@inline function latentWeights(m: usize, j: i32, steps: i32): usize {
  if (!ASC_NO_ASSERT) assert(j >= 0 && j < mi(m, M_D_SAE), "rescored latent out of range");
  if (!ASC_NO_ASSERT) assert(steps > 0 && (mp(m, M_W_ENC) & 15) == 0 && (mp(m, M_ENC_RESID) & 15) == 0, "needs whole 16-byte steps of 16-byte aligned planes");
  return mp(m, M_W_ENC) + ((<usize>(j >> 2) * <usize>steps) << 6) + (<usize>(j & 3) << 4);
}
@inline function residualRow(m: usize, j: i32, steps: i32): usize {
  return mp(m, M_ENC_RESID) + ((<usize>j * <usize>steps) << 4);
}

// unit: the value of one unit of the sum per unit of w_scale (s_x / 256, or s_x / 65024 with the plane).
@inline function finish(m: usize, j: i32, sum: i64, unit: f32): f32 {
  const off = <usize>j << 2;
  return <f32>sum * (unit * load<f32>(mp(m, M_ENC_SCALE) + off)) + load<f32>(mp(m, M_B_ENC) + off);
}

// One latent's rescored value from its exact sums; dot is the build's twin.
@inline function rescore(m: usize, z: usize, xs: f32, j: i32, simd: bool): f32 {
  const s = weightSum(m, z, j, simd);
  if (!mp(m, M_ENC_RESID)) return finish(m, j, s, xs * 0.00390625);
  return finishResidual(m, j, s, residualSum(m, z, j, simd), xs);
}
@inline function weightSum(m: usize, z: usize, j: i32, simd: bool): i64 {
  const steps = mi(m, M_D_IN_PAD) >> 4;
  return dot(latentWeights(m, j, steps), WEIGHT_STRIDE, z, steps, simd);
}
@inline function residualSum(m: usize, z: usize, j: i32, simd: bool): i64 {
  const steps = mi(m, M_D_IN_PAD) >> 4;
  return dot(residualRow(m, j, steps), ROW_STRIDE, z, steps, simd);
}
@inline function finishResidual(m: usize, j: i32, s: i64, r: i64, xs: f32): f32 {
  return finish(m, j, 254 * s + r, xs / 65024);
}
// The SIMD twin exists only in builds with SIMD.
@inline function dot(w: usize, stride: usize, z: usize, steps: i32, simd: bool): i64 {
  if (ASC_FEATURE_SIMD) {
    if (simd) return dot_i8_i16_1x16__wasmsimd(w, stride, z, steps);
  }
  return dot_i8_i16_1x16__scalar(w, stride, z, steps);
}
export function rescore_i8_1x16__scalar(m: usize, z: usize, xs: f32, j: i32): f32 {
  return rescore(m, z, xs, j, false);
}
export function rescore_i8_1x16__wasmsimd(m: usize, z: usize, xs: f32, j: i32): f32 {
  if (!ASC_NO_ASSERT) assert((z & 15) == 0, "the 15-bit row must be 16-byte aligned");
  return rescore(m, z, xs, j, true);
}

// Σ w · z over one latent's int8 bytes (16 every `stride`) and the i16 row z, exact.
function dot_i8_i16_1x16__scalar(w: usize, stride: usize, z: usize, steps: i32): i64 {
  let s: i64 = 0;
  for (let c = 0; c < steps; c++) {
    for (let t = 0; t < 16; t++) s += <i64>(<i32>load<i8>(w + <usize>c * stride + <usize>t) * <i32>load<i16>(z + ((<usize>(c << 4) + <usize>t) << 1)));
  }
  return s;
}
// i32 lanes gain at most 4 · 127 · 16128 per step: folded into an i64 every 256 steps.
const FOLD_STEPS = 256;
function dot_i8_i16_1x16__wasmsimd(w: usize, stride: usize, z: usize, steps: i32): i64 {
  let s: i64 = 0;
  for (let c0 = 0; c0 < steps; c0 += FOLD_STEPS) {
    let a = i32x4.splat(0);
    for (const end = w + <usize>min(FOLD_STEPS, steps - c0) * stride; w < end; w += stride, z += 32) {
      a = i32x4.add(a, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w), v128.load(z)), i32x4.dot_i16x8_s(v128.load8x8_s(w, 8), v128.load(z, 16))));
    }
    s += <i64>i32x4.extract_lane(a, 0) + <i64>i32x4.extract_lane(a, 1) + <i64>i32x4.extract_lane(a, 2) + <i64>i32x4.extract_lane(a, 3);
  }
  return s;
}

// Either twin: the same exact sums, so the same bits.
export function rescoreLatent(m: usize, z: usize, xs: f32, j: i32): f32 {
  return ASC_FEATURE_SIMD ? rescore_i8_1x16__wasmsimd(m, z, xs, j) : rescore_i8_1x16__scalar(m, z, xs, j);
}

// The two stages of rescoring with a residual plane (epilogue.ts): first the int8 weights
// alone, Σ q_w · z (hot in cache while the GEMV is at the latent's tile), and its value
// without the plane; then, only for latents that value leaves within the weight-rounding bound
// of their bar, the plane's Σ r · z and the value both give, the same bits as rescoreLatent.
export function rescoreWeightSum(m: usize, z: usize, j: i32): i64 {
  return weightSum(m, z, j, ASC_FEATURE_SIMD);
}
export function rescoreWeightValue(m: usize, j: i32, s: i64, xs: f32): f32 {
  return finish(m, j, s, xs * 0.00390625);
}
// Stage 2 for n waiting latents (i32 js[n]), each weight sum s (i64 sums[n]) turned into the
// plane's 254 · s + Σ r · z; the SIMD twin reads four plane rows at once so their misses overlap.
export function addResidualSums(m: usize, z: usize, js: usize, sums: usize, n: i32): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const steps = mi(m, M_D_IN_PAD) >> 4;
    for (; c + 4 <= n; c += 4) {
      const jc = js + (<usize>c << 2), sc = sums + (<usize>c << 3);
      dot_i8_i16_4x16__wasmsimd(residualRow(m, load<i32>(jc), steps), residualRow(m, load<i32>(jc, 4), steps), residualRow(m, load<i32>(jc, 8), steps), residualRow(m, load<i32>(jc, 12), steps), ROW_STRIDE, z, steps, sc, 254);
    }
  }
  for (; c < n; c++) {
    const sc = sums + (<usize>c << 3);
    store<i64>(sc, rescorePlaneSum(m, z, load<i32>(js + (<usize>c << 2)), load<i64>(sc)));
  }
}
// One latent's stage 2: 254 · s + Σ r · z.
export function rescorePlaneSum(m: usize, z: usize, j: i32, s: i64): i64 {
  return 254 * s + residualSum(m, z, j, ASC_FEATURE_SIMD);
}
export function rescoreResidualValue(m: usize, j: i32, sum: i64, xs: f32): f32 {
  return finish(m, j, sum, xs / 65024);
}
// Four latents' rows of int8 bytes (16 every `stride`) against z, exact (i32 lanes folded into i64
// every FOLD_STEPS as in dot), the four sharing each load of z: sums[l] = carry · sums[l] + Σ w_l · z.
function dot_i8_i16_4x16__wasmsimd(w0: usize, w1: usize, w2: usize, w3: usize, stride: usize, z: usize, steps: i32, sums: usize, carry: i64): void {
  let s0: i64 = 0, s1: i64 = 0, s2: i64 = 0, s3: i64 = 0;
  for (let c0 = 0; c0 < steps; c0 += FOLD_STEPS) {
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (let c = c0, end = min(c0 + FOLD_STEPS, steps); c < end; c++) {
      const o = <usize>c * stride, zo = z + (<usize>c << 5), zlo = v128.load(zo), zhi = v128.load(zo, 16);
      a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w0 + o), zlo), i32x4.dot_i16x8_s(v128.load8x8_s(w0 + o, 8), zhi)));
      a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w1 + o), zlo), i32x4.dot_i16x8_s(v128.load8x8_s(w1 + o, 8), zhi)));
      a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w2 + o), zlo), i32x4.dot_i16x8_s(v128.load8x8_s(w2 + o, 8), zhi)));
      a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w3 + o), zlo), i32x4.dot_i16x8_s(v128.load8x8_s(w3 + o, 8), zhi)));
    }
    s0 += laneSum(a0);
    s1 += laneSum(a1);
    s2 += laneSum(a2);
    s3 += laneSum(a3);
  }
  store<i64>(sums, carry * load<i64>(sums) + s0);
  store<i64>(sums, carry * load<i64>(sums, 8) + s1, 8);
  store<i64>(sums, carry * load<i64>(sums, 16) + s2, 16);
  store<i64>(sums, carry * load<i64>(sums, 24) + s3, 24);
}

// Four latents' rescored values into f32 out[4], the bits rescoreLatent gives each; out: 48 bytes
// of scratch (the i64 sums follow the values). The SIMD twin reads z once for all four.
export function rescoreLatents4(m: usize, z: usize, xs: f32, j0: i32, j1: i32, j2: i32, j3: i32, out: usize): void {
  if (!ASC_FEATURE_SIMD) {
    store<f32>(out, rescoreLatent(m, z, xs, j0));
    store<f32>(out, rescoreLatent(m, z, xs, j1), 4);
    store<f32>(out, rescoreLatent(m, z, xs, j2), 8);
    store<f32>(out, rescoreLatent(m, z, xs, j3), 12);
    return;
  }
  if (!ASC_NO_ASSERT) assert((z & 15) == 0 && (out & 7) == 0, "the 15-bit row must be 16-byte aligned, the scratch 8-byte aligned");
  const steps = mi(m, M_D_IN_PAD) >> 4, sums = out + 16;
  dot_i8_i16_4x16__wasmsimd(latentWeights(m, j0, steps), latentWeights(m, j1, steps), latentWeights(m, j2, steps), latentWeights(m, j3, steps), WEIGHT_STRIDE, z, steps, sums, 0);
  const resid = mp(m, M_ENC_RESID) != 0;
  if (resid) dot_i8_i16_4x16__wasmsimd(residualRow(m, j0, steps), residualRow(m, j1, steps), residualRow(m, j2, steps), residualRow(m, j3, steps), ROW_STRIDE, z, steps, sums, 254);
  const unit = resid ? xs / 65024 : xs * 0.00390625;
  store<f32>(out, finish(m, j0, load<i64>(sums), unit));
  store<f32>(out, finish(m, j1, load<i64>(sums, 8), unit), 4);
  store<f32>(out, finish(m, j2, load<i64>(sums, 16), unit), 8);
  store<f32>(out, finish(m, j3, load<i64>(sums, 24), unit), 12);
}
@inline function laneSum(a: v128): i64 {
  return <i64>i32x4.extract_lane(a, 0) + <i64>i32x4.extract_lane(a, 1) + <i64>i32x4.extract_lane(a, 2) + <i64>i32x4.extract_lane(a, 3);
}

// Near-boundary rescoring (docs/kernels.md, "Near-boundary rescoring"): 7-bit rounding moves
// latent j's int8 pre-activation by s_x · s_j · Σ_i q_ij ε_i, ε_i independent and uniform on
// [−½, ½], so by s_x times a standard deviation of s_j · sqrt(Σ_i q_ij² / 12). Latents whose
// int8 value is above their boundary minus RESCORE_Z of those deviations (e_j per unit of s_x,
// M_ENC_QERR) are rescored.
const RESCORE_Z: f64 = 4;
// With a residual plane the rescored value also drops the weights' rounding, s_x · scale_j ·
// Σ_i δ_ij y_i (δ = r/254 ≈ w/scale − q), which the 7-bit value keeps: for a given row it has a
// standard deviation of s_x · scale_j · ‖y‖ · δ_rms,j (the δ_ij of a latent close to independent,
// their mean square from the plane). Each error within RESCORE_Z of its deviations, their sum is
// within the sum: the bound becomes s_x · (e_j + v_j · ‖y‖), v_j = RESCORE_Z · scale_j · δ_rms,j
// (M_ENC_RERR), a little wider than the combined deviation and without a square root per latent.
export function computeRescoreBounds(m: usize): void {
  const out = mp(m, M_ENC_QERR);
  if (!out) return;
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const dSae = mi(m, M_D_SAE);
  const scale = mp(m, M_ENC_SCALE);
  const resid = mp(m, M_ENC_RESID), rerr = mp(m, M_ENC_RERR);
  const dIn = <f64>mi(m, M_D_IN);
  // Tile by tile (one sequential pass over each plane); Σ q² ≤ 127² · 2^16 fits an i32.
  for (let j0 = 0, t = mp(m, M_W_ENC); j0 < dSae; j0 += 4, t += <usize>steps << 6) {
    for (let l = 0; l < 4 && j0 + l < dSae; l++) {
      const j = j0 + l;
      const s = <f64>load<f32>(scale + (<usize>j << 2));
      store<f32>(out + (<usize>j << 2), <f32>(RESCORE_Z * s * Math.sqrt(<f64>sumsq(t + (<usize>l << 4), WEIGHT_STRIDE, steps) / 12)));
      if (resid) store<f32>(rerr + (<usize>j << 2), <f32>(RESCORE_Z * s * Math.sqrt(<f64>sumsq(residualRow(m, j, steps), ROW_STRIDE, steps) / 64516 / dIn)));
    }
  }
}
@inline function sumsq(w: usize, stride: usize, steps: i32): i32 {
  return ASC_FEATURE_SIMD ? sumsq_i8_1x16__wasmsimd(w, stride, steps) : sumsq_i8_1x16__scalar(w, stride, steps);
}

// Σ q² over one latent's int8 bytes (16 every `stride`): the same integer in both twins.
function sumsq_i8_1x16__scalar(w: usize, stride: usize, steps: i32): i32 {
  let s = 0;
  for (let c = 0; c < steps; c++) {
    for (let t = 0; t < 16; t++) {
      const q = <i32>load<i8>(w + <usize>c * stride + <usize>t);
      s += q * q;
    }
  }
  return s;
}
function sumsq_i8_1x16__wasmsimd(w: usize, stride: usize, steps: i32): i32 {
  let a = i32x4.splat(0);
  for (let c = 0; c < steps; c++, w += stride) {
    const lo = v128.load8x8_s(w), hi = v128.load8x8_s(w, 8);
    a = i32x4.add(a, i32x4.add(i32x4.dot_i16x8_s(lo, lo), i32x4.dot_i16x8_s(hi, hi)));
  }
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}
