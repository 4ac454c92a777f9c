// Int8 encoder GEMV: one input row x 4 latents per tile, 16 input dims per step.
// Packed weights: W[b][c][l][t] = q(latent 4b+l, dim 16c+t), 64 contiguous bytes
// per (tile, step), so the kernel reads a single sequential stream.
// Pre-activation h = f32(sum q_w q_x) * (x_scale * w_scale) + b_enc, in that
// order in every variant, so the three builds agree bit for bit.
import { mi, mp, M_ACT, M_D_IN_PAD, M_D_SAE_PAD, M_W_ENC, M_ENC_SCALE, M_ENC_ZSUM, M_B_ENC, ACT_GROUPMAX } from "./model";
import { XQ_I8, XQ_I16, XQ_I16P, XQ_U7 } from "./quantize_x";
import { Epilogue, epilogue1, epilogue4 } from "./epilogue";

@inline export function epilogueScalar(m: usize, j: i32, acc: i32, xs: f32, e: Epilogue): void {
  const off = <usize>j << 2;
  const h = <f32>acc * (xs * load<f32>(mp(m, M_ENC_SCALE) + off)) + load<f32>(mp(m, M_B_ENC) + off);
  epilogue1(e, j, h);
}

// The contract every variant relies on (compiled out of release builds): whole 16-byte steps and
// 4-latent tiles, 16-byte aligned weights and row, 7-bit activations (the relaxed build's i7 operand
// stays in [1, 127], the others' q in [-63, 63]), padding inputs that add nothing.
@inline export function checkPreamble(m: usize, xq: usize, xs: f32, e: Epilogue, layout: i32): void {
  if (ASC_NO_ASSERT) return;
  const dInPad = mi(m, M_D_IN_PAD), dSaePad = mi(m, M_D_SAE_PAD);
  assert(m != 0 && (m & 3) == 0, "descriptor must be 4-byte aligned");
  assert(dInPad > 0 && (dInPad & 15) == 0, "int8 d_in_pad must be a positive multiple of 16");
  assert(dSaePad > 0 && (dSaePad & 3) == 0, "d_sae_pad must be a positive multiple of 4");
  assert((mp(m, M_W_ENC) & 15) == 0 && (xq & 15) == 0, "W_enc and the quantized row must be 16-byte aligned");
  assert((mp(m, M_ENC_SCALE) & 15) == 0 && (mp(m, M_B_ENC) & 15) == 0, "per-latent vectors must be 16-byte aligned");
  assert(xs >= 0 && changetype<usize>(e) != 0, "needs a scale >= 0 and an epilogue");
  for (let i = 0; i < dInPad; i++) {
    const q: i32 = layout == XQ_U7 ? <i32>load<u8>(xq + i) - 64 : layout == XQ_I16 || layout == XQ_I16P ? <i32>load<i16>(xq + (<usize>i << 1)) : <i32>load<i8>(xq + i);
    assert(q >= -63 && q <= 63, "quantized activations must lie in [-63, 63]");
  }
}

// Reference-shaped twin: i8 x i8 products summed in i32.
export function enc_i8_1x4c16__scalar(m: usize, xq: usize, xs: f32, e: Epilogue): void {
  checkPreamble(m, xq, xs, e, XQ_I8);
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  let w = mp(m, M_W_ENC);
  for (let b = 0; b < tiles; b++) {
    for (let l = 0; l < 4; l++) epilogueScalar(m, (b << 2) + l, latentDotI8(w, xq, l, steps), xs, e);
    w += <usize>steps << 6;
  }
}
// Σ q_w · q_x of latent l of the tile at w against the i8 row xr (both scalar twins).
@inline export function latentDotI8(w: usize, xr: usize, l: i32, steps: i32): i32 {
  let acc: i32 = 0;
  for (let c = 0; c < steps; c++) {
    const wp = w + (<usize>c << 6) + (<usize>l << 4);
    const xp = xr + (<usize>c << 4);
    for (let t = 0; t < 16; t++) acc += <i32>load<i8>(wp + t) * <i32>load<i8>(xp + t);
  }
  return acc;
}

// Sums each accumulator's lanes: returns [sum a0, sum a1, sum a2, sum a3], in two stages:
// pairSum(a0, a1) = [a0 lanes 0+2, a1 lanes 0+2, a0 lanes 1+3, a1 lanes 1+3], then pairsHsum.
@inline export function pairSum(a0: v128, a1: v128): v128 {
  return i32x4.add(i32x4.shuffle(a0, a1, 0, 4, 1, 5), i32x4.shuffle(a0, a1, 2, 6, 3, 7));
}
@inline export function pairsHsum(t0: v128, t1: v128): v128 {
  return i32x4.add(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7));
}
@inline export function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  return pairsHsum(pairSum(a0, a1), pairSum(a2, a3));
}

@inline export function epilogueTile(m: usize, b: i32, acc: v128, xs: f32, e: Epilogue): void {
  const off = <usize>b << 4;
  const scale = f32x4.mul(f32x4.splat(xs), v128.load(mp(m, M_ENC_SCALE) + off));
  const h = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc), scale), v128.load(mp(m, M_B_ENC) + off));
  epilogue4(e, b << 2, h);
}

// SIMD128 without widening the weights (pmovsxbw was the bottleneck): a 16-byte weight
// vector read as 8 i16 lanes holds byte 2i low and 2i+1 high. shl 8 turns it into
// 256·w[2i], and-ing with 0xFF00 into 256·w[2i+1], each exact, and i32x4.dot_i16x8_s takes
// them against x's even and odd dims (XQ_I16 layout). Sums carry the factor 256, so they are
// folded (>> 8, exact) every 64 steps, before 64 · 16 · 256 · 127 · 63 could reach 2^31.
export const FOLD_STEPS = 64;
export function enc_i8_1x4c16__wasmsimd_dot16(m: usize, xq: usize, xs: f32, e: Epilogue): void {
  checkPreamble(m, xq, xs, e, XQ_I16);
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  const half = streamPairs(m, tiles, <usize>steps << 6);
  for (let b = 0; b < half; b++) simdTiles(m, xq, xs, e, steps, b, b + half, true);
  for (let b = half << 1; b < tiles; b++) simdTiles(m, xq, xs, e, steps, b, b, false);
}
// Tile b, and tile c beside it (a second stream) when pair.
@inline function simdTiles(m: usize, xq: usize, xs: f32, e: Epilogue, steps: i32, b: i32, c: i32, pair: bool): void {
  let w = mp(m, M_W_ENC) + (<usize>b * <usize>steps << 6);
  const far = <usize>(c - b) * <usize>steps << 6; // tile c's offset from tile b
  let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
  let s4 = i32x4.splat(0), s5 = i32x4.splat(0), s6 = i32x4.splat(0), s7 = i32x4.splat(0);
  let xp = xq;
  for (let c0 = 0; c0 < steps; c0 += FOLD_STEPS) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
    for (const end = w + (<usize>min(FOLD_STEPS, steps - c0) << 6); w < end; w += 64, xp += 32) {
      const xe = v128.load(xp), xo = v128.load(xp, 16);
      a0 = byteDot16(v128.load(w), xe, xo, a0);
      a1 = byteDot16(v128.load(w, 16), xe, xo, a1);
      a2 = byteDot16(v128.load(w, 32), xe, xo, a2);
      a3 = byteDot16(v128.load(w, 48), xe, xo, a3);
      if (pair) {
        a4 = byteDot16(v128.load(w + far), xe, xo, a4);
        a5 = byteDot16(v128.load(w + far, 16), xe, xo, a5);
        a6 = byteDot16(v128.load(w + far, 32), xe, xo, a6);
        a7 = byteDot16(v128.load(w + far, 48), xe, xo, a7);
      }
    }
    s0 = i32x4.add(s0, i32x4.shr_s(a0, 8));
    s1 = i32x4.add(s1, i32x4.shr_s(a1, 8));
    s2 = i32x4.add(s2, i32x4.shr_s(a2, 8));
    s3 = i32x4.add(s3, i32x4.shr_s(a3, 8));
    if (pair) {
      s4 = i32x4.add(s4, i32x4.shr_s(a4, 8));
      s5 = i32x4.add(s5, i32x4.shr_s(a5, 8));
      s6 = i32x4.add(s6, i32x4.shr_s(a6, 8));
      s7 = i32x4.add(s7, i32x4.shr_s(a7, 8));
    }
  }
  epilogueTile(m, b, hsum4(s0, s1, s2, s3), xs, e);
  if (pair) epilogueTile(m, c, hsum4(s4, s5, s6, s7), xs, e);
}
// acc + 256 · Σ q_w x over a 16-byte weight vector: as i16 lanes it holds byte 2i low and 2i+1 high;
// shl 8 gives 256 · w[2i], and-ing with 0xFF00 256 · w[2i+1], each exact, against x's even (xe) and
// odd (xo) dims.
@inline export function byteDot16(q: v128, xe: v128, xo: v128, acc: v128): v128 {
  return i32x4.add(acc, i32x4.add(i32x4.dot_i16x8_s(i16x8.shl(q, 8), xe), i32x4.dot_i16x8_s(v128.and(q, i16x8.splat(-256)), xo)));
}

// How many tile pairs a 1-row kernel reads side by side (tiles b and b + pairs): an encoder far
// beyond the caches streams from memory, and two sequential reads in flight fetch more than one
// (measured here: 151 MB of weights encode 1.31-1.40x faster, 19 MB in the L3 0.89-0.96x as fast,
// so only encoders above STREAM_PAIR_BYTES). The selection and the dense pre-activations do not
// depend on the order tiles come in; GroupMax's running group maxima do, so it reads in order.
const STREAM_PAIR_BYTES: usize = 32 << 20;
@inline export function streamPairs(m: usize, tiles: i32, tileBytes: usize): i32 {
  return mi(m, M_ACT) == ACT_GROUPMAX || <usize>tiles * tileBytes < STREAM_PAIR_BYTES ? 0 : tiles >> 1;
}

// Relaxed SIMD (i16x8.relaxed_dot_i8x16_i7x16_s widened by a dot with ones, dotAdd: 3 x86
// instructions where V8's fused dot-add takes 5, rebuilding its constant of ones): x stored as q + 64 in [1, 127], so the i7 operand never has its
// top bit set and x86 (pmaddubsw, unsigned) and ARM (sdot, signed) agree and
// cannot saturate (2 * 127 * 128 < 32767). The offset is removed exactly with
// 64 * sum(q_w) per latent (M_ENC_ZSUM).
export function enc_i8_1x4c16__wasmrelaxed_dot8u7(m: usize, xq: usize, xs: f32, e: Epilogue): void {
  relaxedTiles(m, xq, xs, e, false);
}

// The same with the fused i32x4.relaxed_dot_i8x16_i7x16_add_s: one instruction where the engine
// has a dot-product instruction (x86 AVX-VNNI vpdpbusd, ARM sdot), 5 on x86 without; the host
// picks it from a semantics probe (src/runtime/dot-probe.ts). Same operands, same exact sums.
export function enc_i8_1x4c16__wasmrelaxed_dot8u7_fused(m: usize, xq: usize, xs: f32, e: Epilogue): void {
  relaxedTiles(m, xq, xs, e, true);
}

// acc + the i8 x i7 dot of w and x, fused (one instruction where the engine has one) or split.
// Split, the i16 pair sums widen by a dot with `ones` (i16x8.splat(1), a local of the caller's loop):
// V8 12 lowers extadd_pairwise to that same vpmaddwd but reloads its constant at every use.
@inline export function dotAdd(w: v128, x: v128, acc: v128, fused: bool, ones: v128): v128 {
  if (fused) return i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, acc);
  return i32x4.add(acc, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, x), ones));
}
// The same sums with the split widening by extadd_pairwise, which needs no register for its
// constant: for loops with none to spare (enc_i8_4x4c16's passes: 8 accumulators, 4 weight vectors,
// x and a temporary; holding `ones` there spills: batches of 16 and 64 ran 1.02–1.09×
// faster on 768x24576 and 784x1024; the 1-row loop ran 0.89× and the int4 passes 0.92–0.97× with it).
@inline export function dotAddNoOnes(w: v128, x: v128, acc: v128, fused: bool): v128 {
  if (fused) return i32x4.relaxed_dot_i8x16_i7x16_add_s(w, x, acc);
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, x)));
}

@inline function relaxedTiles(m: usize, xq: usize, xs: f32, e: Epilogue, fused: bool): void {
  checkPreamble(m, xq, xs, e, XQ_U7);
  if (!ASC_NO_ASSERT) assert((mp(m, M_ENC_ZSUM) & 15) == 0, "the weight sums must be 16-byte aligned");
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  const half = streamPairs(m, tiles, <usize>steps << 6);
  for (let b = 0; b < half; b++) relaxedTile(m, xq, xs, e, fused, steps, b, b + half, true);
  for (let b = half << 1; b < tiles; b++) relaxedTile(m, xq, xs, e, fused, steps, b, b, false);
}
// Tile b, and tile c beside it (a second stream) when pair.
@inline function relaxedTile(m: usize, xq: usize, xs: f32, e: Epilogue, fused: bool, steps: i32, b: i32, c: i32, pair: bool): void {
  const tileBytes = <usize>steps << 6;
  let w = mp(m, M_W_ENC) + <usize>b * tileBytes;
  const end = w + tileBytes, far = <usize>(c - b) * tileBytes; // tile c's offset from tile b
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
  const ones = i16x8.splat(1);
  for (let xp = xq; w < end; w += 64, xp += 16) {
    const xu = v128.load(xp);
    a0 = dotAdd(v128.load(w), xu, a0, fused, ones);
    a1 = dotAdd(v128.load(w, 16), xu, a1, fused, ones);
    a2 = dotAdd(v128.load(w, 32), xu, a2, fused, ones);
    a3 = dotAdd(v128.load(w, 48), xu, a3, fused, ones);
    if (pair) {
      a4 = dotAdd(v128.load(w + far), xu, a4, fused, ones);
      a5 = dotAdd(v128.load(w + far, 16), xu, a5, fused, ones);
      a6 = dotAdd(v128.load(w + far, 32), xu, a6, fused, ones);
      a7 = dotAdd(v128.load(w + far, 48), xu, a7, fused, ones);
    }
  }
  const zsum = mp(m, M_ENC_ZSUM);
  epilogueTile(m, b, i32x4.sub(hsum4(a0, a1, a2, a3), i32x4.shl(v128.load(zsum + (<usize>b << 4)), 6)), xs, e);
  if (pair) epilogueTile(m, c, i32x4.sub(hsum4(a4, a5, a6, a7), i32x4.shl(v128.load(zsum + (<usize>c << 4)), 6)), xs, e);
}

// Per-latent sums of the quantized weights (the relaxed kernel's offset term; other builds
// never read them, so only the relaxed build computes them, with SIMD: it is part of load time).
export function computeWeightSums(m: usize): void {
  if (!ASC_FEATURE_RELAXED_SIMD) return;
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  let w = mp(m, M_W_ENC);
  const zsum = mp(m, M_ENC_ZSUM);
  for (let b = 0; b < tiles; b++) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    for (const end = w + (<usize>steps << 6); w < end; w += 64) {
      a0 = i32x4.add(a0, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(w))));
      a1 = i32x4.add(a1, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(w, 16))));
      a2 = i32x4.add(a2, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(w, 32))));
      a3 = i32x4.add(a3, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(w, 48))));
    }
    v128.store(zsum + (<usize>b << 4), hsum4(a0, a1, a2, a3));
  }
}
