// Int4 encoder GEMV of the int4 screen (screen.ts): one input row x 4 latents per tile, 16 input
// dims per step, over the same quantized row as the int8 kernels (enc_i8_1x4c16.ts).
// Packed weights: 32 bytes per (tile, step); byte [p][t] holds dim 16c+t of latents 4b+2p (low
// nibble, q + 8) and 4b+2p+1 (high nibble, q in two's complement), so the byte read as an i8 is
// b = 16 · q_hi + q_lo + 8 (padding q = 0: low nibble 8, high 0).
// The SIMD kernels take two exact sums per latent pair, no nibble ever sign-extended: L over the
// low nibbles (b & 15, one and) and M over the whole bytes (b itself, as the int8 kernels do), so
// Σ q_lo x = L − 8 Σ x and Σ q_hi x = (M − L) / 16; their offsets are removed per tile.
// Pre-activation as the int8 kernels': f32(sum) * (x_scale * w_scale) + b_enc, the same bits in
// every build.
import { mi, mp, M_D_IN_PAD, M_D_SAE_PAD, M_W_ENC, M_ENC_ZSUM } from "./model";
import { XQ_I8, XQ_I16, XQ_U7 } from "./quantize_x";
import { Epilogue } from "./epilogue";
import { checkPreamble, epilogueScalar, epilogueTile, hsum4, dotAdd, byteDot16, streamPairs, FOLD_STEPS } from "./enc_i8_1x4c16";

export const I4_STEP_BYTES: usize = 32;

// q of latent 4b + 2p + (shift >> 2) from its byte (shift 0: low nibble, 4: high).
@inline export function nibble(byte: i32, shift: i32): i32 {
  return shift ? (byte << 24) >> 28 : (byte & 15) - 8;
}

// Reference-shaped twin: the nibbles' q times i8 activations, summed in i32.
export function enc_i4_1x4c16__scalar(s: usize, xq: usize, xs: f32, e: Epilogue): void {
  checkPreamble(s, xq, xs, e, XQ_I8);
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  let w = mp(s, M_W_ENC);
  for (let b = 0; b < tiles; b++) {
    for (let l = 0; l < 4; l++) epilogueScalar(s, (b << 2) + l, latentDotI4(w, xq, l, steps), xs, e);
    w += <usize>steps * I4_STEP_BYTES;
  }
}
// Σ q · x of latent l of the tile at w against the i8 row xr (both scalar twins).
@inline export function latentDotI4(w: usize, xr: usize, l: i32, steps: i32): i32 {
  const shift = (l & 1) << 2;
  let acc: i32 = 0;
  for (let c = 0; c < steps; c++) {
    const wp = w + <usize>c * I4_STEP_BYTES + (<usize>(l >> 1) << 4);
    const xp = xr + (<usize>c << 4);
    for (let t = 0; t < 16; t++) acc += nibble(load<u8>(wp + t), shift) * <i32>load<i8>(xp + t);
  }
  return acc;
}

// Σ q_x over the row, from any layout (padding holds q = 0).
export function rowSum(xq: usize, dInPad: i32, layout: i32): i32 {
  let sum = 0;
  for (let i = 0; i < dInPad; i++) {
    sum += layout == XQ_U7 ? <i32>load<u8>(xq + i) - 64 : layout == XQ_I16 ? <i32>load<i16>(xq + (<usize>i << 1)) : <i32>load<i8>(xq + i);
  }
  return sum;
}

// A tile's sums per latent from t = [L0, M0, L1, M1] (pairs 0 and 1) less the offsets off:
// even latents L − off, odd ones (M − L − off) / 16, exact.
@inline export function pairSums(t: v128, off: v128): v128 {
  const r = i32x4.sub(i32x4.sub(t, i32x4.shuffle(i32x4.splat(0), t, 0, 4, 1, 6)), off);
  return i32x4.shuffle(r, i32x4.shr_s(r, 4), 0, 5, 2, 7);
}

// SIMD128, XQ_I16 row (per 16 dims the 8 even, then the 8 odd, as i16): a weight vector read as
// i16 lanes holds dims 2i (low byte) and 2i+1 (high byte). As the int8 kernel does, shl 8 and a
// mask give 256 · b of each, and a mask of 0x0F00 after them 256 · (q_lo + 8); i32x4.dot_i16x8_s
// takes them against x's even or odd dims, and the factor 256 is folded out (>> 8, exact) every
// FOLD_STEPS steps, before 64 · 2 · 2 · 256 · 128 · 63 could reach 2^31.
export function enc_i4_1x4c16__wasmsimd_dot16(s: usize, xq: usize, xs: f32, e: Epilogue): void {
  checkPreamble(s, xq, xs, e, XQ_I16);
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  const x8 = rowSum(xq, steps << 4, XQ_I16) << 3;
  const off = i32x4.shuffle(i32x4.splat(x8), i32x4.splat(0), 0, 4, 1, 5);
  // Two streams where the encoder is wide (streamPairs): tiles b and b + half side by side.
  const half = streamPairs(s, tiles, <usize>steps * I4_STEP_BYTES);
  for (let b = 0; b < half; b++) simdTiles(s, xq, xs, e, steps, off, b, b + half, true);
  for (let b = half << 1; b < tiles; b++) simdTiles(s, xq, xs, e, steps, off, b, b, false);
}
// Tile b, and tile c beside it when pair; off: the row's offsets (8 Σ q_x on even latents).
@inline function simdTiles(s: usize, xq: usize, xs: f32, e: Epilogue, steps: i32, off: v128, b: i32, c: i32, pair: bool): void {
  const tileBytes = <usize>steps * I4_STEP_BYTES;
  let w = mp(s, M_W_ENC) + <usize>b * tileBytes;
  const far = <usize>(c - b) * tileBytes; // tile c's offset from tile b
  let la0 = i32x4.splat(0), ma0 = i32x4.splat(0), la1 = i32x4.splat(0), ma1 = i32x4.splat(0);
  let lb0 = i32x4.splat(0), mb0 = i32x4.splat(0), lb1 = i32x4.splat(0), mb1 = i32x4.splat(0);
  let xp = xq;
  for (let c0 = 0; c0 < steps; c0 += FOLD_STEPS) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
    for (const end = w + <usize>min(FOLD_STEPS, steps - c0) * I4_STEP_BYTES; w < end; w += I4_STEP_BYTES, xp += 32) {
      const xe = v128.load(xp), xo = v128.load(xp, 16);
      a0 = lowDot(v128.load(w), xe, xo, a0);
      a1 = byteDot16(v128.load(w), xe, xo, a1);
      a2 = lowDot(v128.load(w, 16), xe, xo, a2);
      a3 = byteDot16(v128.load(w, 16), xe, xo, a3);
      if (pair) {
        a4 = lowDot(v128.load(w + far), xe, xo, a4);
        a5 = byteDot16(v128.load(w + far), xe, xo, a5);
        a6 = lowDot(v128.load(w + far, 16), xe, xo, a6);
        a7 = byteDot16(v128.load(w + far, 16), xe, xo, a7);
      }
    }
    la0 = i32x4.add(la0, i32x4.shr_s(a0, 8));
    ma0 = i32x4.add(ma0, i32x4.shr_s(a1, 8));
    la1 = i32x4.add(la1, i32x4.shr_s(a2, 8));
    ma1 = i32x4.add(ma1, i32x4.shr_s(a3, 8));
    if (pair) {
      lb0 = i32x4.add(lb0, i32x4.shr_s(a4, 8));
      mb0 = i32x4.add(mb0, i32x4.shr_s(a5, 8));
      lb1 = i32x4.add(lb1, i32x4.shr_s(a6, 8));
      mb1 = i32x4.add(mb1, i32x4.shr_s(a7, 8));
    }
  }
  epilogueTile(s, b, pairSums(hsum4(la0, ma0, la1, ma1), off), xs, e);
  if (pair) epilogueTile(s, c, pairSums(hsum4(lb0, mb0, lb1, mb1), off), xs, e);
}
// acc + 256 · (Σ over the vector's dims of (b & 15) · x): i16 lanes hold dims 2i (low byte, against
// x's even dims xe) and 2i+1 (high byte, odd dims xo).
@inline function lowDot(v: v128, xe: v128, xo: v128, acc: v128): v128 {
  const lo = i16x8.splat(0x0f00);
  return i32x4.add(acc, i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shl(v, 8), lo), xe), i32x4.dot_i16x8_s(v128.and(v, lo), xo)));
}

// Relaxed SIMD, XQ_U7 row (q_x + 64 in [1, 127], the i7 operand): the bytes b and b & 15 are the
// signed operand, so x86 (pmaddubsw) and ARM (sdot) agree, and a pair's sum stays within
// 2 · 128 · 127 < 32767. The offsets: M_ENC_ZSUM holds 64 Σ (q_lo + 8) for even latents and
// 1024 Σ q_hi for odd ones (the + 64 of the row), plus 8 Σ q_x for even ones (the + 8 of the nibble).
@inline function relaxedTiles(s: usize, xq: usize, xs: f32, e: Epilogue, fused: bool): void {
  checkPreamble(s, xq, xs, e, XQ_U7);
  if (!ASC_NO_ASSERT) assert((mp(s, M_ENC_ZSUM) & 15) == 0, "the weight sums must be 16-byte aligned");
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  const x8 = rowSum(xq, steps << 4, XQ_U7) << 3;
  const rowOff = i32x4.shuffle(i32x4.splat(x8), i32x4.splat(0), 0, 4, 1, 5);
  // Two streams where the encoder is wide (streamPairs): tiles b and b + half side by side.
  const half = streamPairs(s, tiles, <usize>steps * I4_STEP_BYTES);
  for (let b = 0; b < half; b++) relaxedTile(s, xq, xs, e, fused, steps, rowOff, b, b + half, true);
  for (let b = half << 1; b < tiles; b++) relaxedTile(s, xq, xs, e, fused, steps, rowOff, b, b, false);
}
// Tile b, and tile c beside it when pair; rowOff: the row's offsets (8 Σ q_x on even latents).
@inline function relaxedTile(s: usize, xq: usize, xs: f32, e: Epilogue, fused: bool, steps: i32, rowOff: v128, b: i32, c: i32, pair: bool): void {
  const tileBytes = <usize>steps * I4_STEP_BYTES;
  let w = mp(s, M_W_ENC) + <usize>b * tileBytes;
  const end = w + tileBytes, far = <usize>(c - b) * tileBytes; // tile c's offset from tile b
  let la0 = i32x4.splat(0), ma0 = i32x4.splat(0), la1 = i32x4.splat(0), ma1 = i32x4.splat(0);
  let lb0 = i32x4.splat(0), mb0 = i32x4.splat(0), lb1 = i32x4.splat(0), mb1 = i32x4.splat(0);
  const ones = i16x8.splat(1);
  for (let xp = xq; w < end; w += I4_STEP_BYTES, xp += 16) {
    const xu = v128.load(xp);
    const va = v128.load(w), ua = v128.load(w, 16);
    la0 = dotAdd(lowNibbles(va), xu, la0, fused, ones);
    ma0 = dotAdd(va, xu, ma0, fused, ones);
    la1 = dotAdd(lowNibbles(ua), xu, la1, fused, ones);
    ma1 = dotAdd(ua, xu, ma1, fused, ones);
    if (pair) {
      const vb = v128.load(w + far), ub = v128.load(w + far, 16);
      lb0 = dotAdd(lowNibbles(vb), xu, lb0, fused, ones);
      mb0 = dotAdd(vb, xu, mb0, fused, ones);
      lb1 = dotAdd(lowNibbles(ub), xu, lb1, fused, ones);
      mb1 = dotAdd(ub, xu, mb1, fused, ones);
    }
  }
  const zsum = mp(s, M_ENC_ZSUM);
  epilogueTile(s, b, pairSums(hsum4(la0, ma0, la1, ma1), i32x4.add(v128.load(zsum + (<usize>b << 4)), rowOff)), xs, e);
  if (pair) epilogueTile(s, c, pairSums(hsum4(lb0, mb0, lb1, mb1), i32x4.add(v128.load(zsum + (<usize>c << 4)), rowOff)), xs, e);
}
@inline export function lowNibbles(v: v128): v128 {
  return v128.and(v, i8x16.splat(15));
}
export function enc_i4_1x4c16__wasmrelaxed_dot8u7(s: usize, xq: usize, xs: f32, e: Epilogue): void {
  relaxedTiles(s, xq, xs, e, false);
}
// The fused i32x4.relaxed_dot_i8x16_i7x16_add_s, where the engine has a dot-product instruction
// (src/runtime/dot-probe.ts); the same exact sums.
export function enc_i4_1x4c16__wasmrelaxed_dot8u7_fused(s: usize, xq: usize, xs: f32, e: Epilogue): void {
  relaxedTiles(s, xq, xs, e, true);
}

// The relaxed kernels' per-latent offsets (M_ENC_ZSUM), at load time: with S_L = Σ (q_lo + 8) and
// S_B = Σ b over d_in_pad, even latents 64 S_L, odd ones 1024 Σ q_hi = 64 (S_B − S_L).
export function computeNibbleSums(s: usize): void {
  if (!ASC_FEATURE_RELAXED_SIMD) return;
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  const low = i8x16.splat(15);
  let w = mp(s, M_W_ENC);
  const zsum = mp(s, M_ENC_ZSUM);
  for (let b = 0; b < tiles; b++) {
    let l0 = i32x4.splat(0), m0 = i32x4.splat(0), l1 = i32x4.splat(0), m1 = i32x4.splat(0);
    for (const end = w + <usize>steps * I4_STEP_BYTES; w < end; w += I4_STEP_BYTES) {
      const v = v128.load(w), u = v128.load(w, 16);
      l0 = i32x4.add(l0, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.and(v, low))));
      m0 = i32x4.add(m0, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v)));
      l1 = i32x4.add(l1, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.and(u, low))));
      m1 = i32x4.add(m1, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(u)));
    }
    const t = hsum4(l0, m0, l1, m1);
    v128.store(zsum + (<usize>b << 4), i32x4.shl(i32x4.sub(t, i32x4.shuffle(i32x4.splat(0), t, 0, 4, 1, 6)), 6));
  }
}
