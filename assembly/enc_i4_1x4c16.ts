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
import { checkPreamble, epilogueScalar, epilogueTile, hsum4, FOLD_STEPS } from "./enc_i8_1x4c16";

export const I4_STEP_BYTES: usize = 32;

// q of latent 4b + 2p + (shift >> 2) from its byte (shift 0: low nibble, 4: high).
@inline function nibble(byte: i32, shift: i32): i32 {
  return shift ? (byte << 24) >> 28 : (byte & 15) - 8;
}

// Reference-shaped twin: the nibbles' q times i8 activations, summed in i32.
export function enc_i4_1x4c16__scalar(s: usize, xq: usize, xs: f32, e: Epilogue): void {
  checkPreamble(s, xq, xs, e, XQ_I8);
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  let w = mp(s, M_W_ENC);
  for (let b = 0; b < tiles; b++) {
    for (let l = 0; l < 4; l++) {
      const shift = (l & 1) << 2;
      let acc: i32 = 0;
      for (let c = 0; c < steps; c++) {
        const wp = w + <usize>c * I4_STEP_BYTES + (<usize>(l >> 1) << 4);
        const xp = xq + (<usize>c << 4);
        for (let t = 0; t < 16; t++) acc += nibble(load<u8>(wp + t), shift) * <i32>load<i8>(xp + t);
      }
      epilogueScalar(s, (b << 2) + l, acc, xs, e);
    }
    w += <usize>steps * I4_STEP_BYTES;
  }
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
  const hi = i16x8.splat(-256), lo = i16x8.splat(0x0f00);
  const x8 = rowSum(xq, steps << 4, XQ_I16) << 3;
  const off = i32x4(x8, 0, x8, 0);
  let w = mp(s, M_W_ENC);
  for (let b = 0; b < tiles; b++) {
    let l0 = i32x4.splat(0), m0 = i32x4.splat(0), l1 = i32x4.splat(0), m1 = i32x4.splat(0);
    let xp = xq;
    for (let c0 = 0; c0 < steps; c0 += FOLD_STEPS) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      const end = w + <usize>min(FOLD_STEPS, steps - c0) * I4_STEP_BYTES;
      for (; w < end; w += I4_STEP_BYTES, xp += 32) {
        const xe = v128.load(xp);
        const xo = v128.load(xp, 16);
        let v = v128.load(w);
        let be = i16x8.shl(v, 8), bo = v128.and(v, hi);
        a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(v128.and(be, lo), xe), i32x4.dot_i16x8_s(v128.and(v, lo), xo)));
        a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(be, xe), i32x4.dot_i16x8_s(bo, xo)));
        v = v128.load(w, 16);
        be = i16x8.shl(v, 8);
        bo = v128.and(v, hi);
        a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(v128.and(be, lo), xe), i32x4.dot_i16x8_s(v128.and(v, lo), xo)));
        a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(be, xe), i32x4.dot_i16x8_s(bo, xo)));
      }
      l0 = i32x4.add(l0, i32x4.shr_s(a0, 8));
      m0 = i32x4.add(m0, i32x4.shr_s(a1, 8));
      l1 = i32x4.add(l1, i32x4.shr_s(a2, 8));
      m1 = i32x4.add(m1, i32x4.shr_s(a3, 8));
    }
    epilogueTile(s, b, pairSums(hsum4(l0, m0, l1, m1), off), xs, e);
  }
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
  const zsum = mp(s, M_ENC_ZSUM);
  const low = i8x16.splat(15);
  const x8 = rowSum(xq, steps << 4, XQ_U7) << 3;
  const rowOff = i32x4(x8, 0, x8, 0);
  let w = mp(s, M_W_ENC);
  for (let b = 0; b < tiles; b++) {
    let l0 = i32x4.splat(0), m0 = i32x4.splat(0), l1 = i32x4.splat(0), m1 = i32x4.splat(0);
    let xp = xq;
    const end = w + <usize>steps * I4_STEP_BYTES;
    for (; w < end; w += I4_STEP_BYTES, xp += 16) {
      const xu = v128.load(xp);
      const v = v128.load(w), u = v128.load(w, 16);
      if (fused) {
        l0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.and(v, low), xu, l0);
        m0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v, xu, m0);
        l1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.and(u, low), xu, l1);
        m1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(u, xu, m1);
      } else {
        l0 = i32x4.add(l0, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v128.and(v, low), xu)));
        m0 = i32x4.add(m0, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v, xu)));
        l1 = i32x4.add(l1, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v128.and(u, low), xu)));
        m1 = i32x4.add(m1, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(u, xu)));
      }
    }
    const off = i32x4.add(v128.load(zsum + (<usize>b << 4)), rowOff);
    epilogueTile(s, b, pairSums(hsum4(l0, m0, l1, m1), off), xs, e);
  }
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
