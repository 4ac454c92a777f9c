// Int4 encoder GEMV of the int4 screen (screen.ts): one input row x 4 latents per tile, 16 input
// dims per step, over the same quantized row as the int8 kernels (enc_i8_1x4c16.ts).
// Packed weights: 32 bytes per (tile, step), byte [p][t] = q(latent 4b+2p, dim 16c+t) in its low
// nibble and q(latent 4b+2p+1, dim 16c+t) in its high one, two's complement (padding 0).
// The SIMD kernels never sign-extend a nibble: they move it to the top of a lane (i16 shifts
// and a mask, 2^k · q exact and signed) and shift the factor out of the exact sums.
// Pre-activation as the int8 kernels': f32(sum) * (x_scale * w_scale) + b_enc, the same bits in
// every build.
import { mi, mp, M_D_IN_PAD, M_D_SAE_PAD, M_W_ENC, M_ENC_ZSUM } from "./model";
import { XQ_I8, XQ_I16, XQ_U7 } from "./quantize_x";
import { Epilogue } from "./epilogue";
import { checkPreamble, epilogueScalar, epilogueTile, hsum4, FOLD_STEPS } from "./enc_i8_1x4c16";

export const I4_STEP_BYTES: usize = 32;

@inline function nibble(byte: i32, shift: i32): i32 {
  return (((byte >> shift) & 15) ^ 8) - 8;
}

// Reference-shaped twin: sign-extended nibbles times i8 activations, summed in i32.
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

// SIMD128, XQ_I16 row (per 16 dims the 8 even, then the 8 odd, as i16): a weight vector read as
// i16 lanes holds, per lane, dims 2i (low byte) and 2i+1 (high byte) of two latents. Each nibble
// goes to bits 12-15 (shl 12; shl 4 and mask; shl 8 and mask; mask), 4096 · q exact, and
// i32x4.dot_i16x8_s takes it against x's even or odd dims; the factor is folded out (>> 12,
// exact) every FOLD_STEPS steps, before 64 · 2 · 2 · 4096 · 8 · 63 could reach 2^31.
export function enc_i4_1x4c16__wasmsimd_dot16(s: usize, xq: usize, xs: f32, e: Epilogue): void {
  checkPreamble(s, xq, xs, e, XQ_I16);
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  const top = i16x8.splat(-4096); // 0xF000
  let w = mp(s, M_W_ENC);
  for (let b = 0; b < tiles; b++) {
    let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
    let xp = xq;
    for (let c0 = 0; c0 < steps; c0 += FOLD_STEPS) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      const end = w + <usize>min(FOLD_STEPS, steps - c0) * I4_STEP_BYTES;
      for (; w < end; w += I4_STEP_BYTES, xp += 32) {
        const xe = v128.load(xp);
        const xo = v128.load(xp, 16);
        let v = v128.load(w);
        a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(i16x8.shl(v, 12), xe), i32x4.dot_i16x8_s(v128.and(i16x8.shl(v, 4), top), xo)));
        a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shl(v, 8), top), xe), i32x4.dot_i16x8_s(v128.and(v, top), xo)));
        v = v128.load(w, 16);
        a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(i16x8.shl(v, 12), xe), i32x4.dot_i16x8_s(v128.and(i16x8.shl(v, 4), top), xo)));
        a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shl(v, 8), top), xe), i32x4.dot_i16x8_s(v128.and(v, top), xo)));
      }
      s0 = i32x4.add(s0, i32x4.shr_s(a0, 12));
      s1 = i32x4.add(s1, i32x4.shr_s(a1, 12));
      s2 = i32x4.add(s2, i32x4.shr_s(a2, 12));
      s3 = i32x4.add(s3, i32x4.shr_s(a3, 12));
    }
    epilogueTile(s, b, hsum4(s0, s1, s2, s3), xs, e);
  }
}

// A byte's two nibbles as 16 · q, signed bytes: the high one by a mask, the low one by an i16
// shift left 4 first (what it pulls into the next byte's low bits, the mask drops).
@inline function lowNibbles16(v: v128): v128 {
  return v128.and(i16x8.shl(v, 4), i8x16.splat(-16));
}
@inline function highNibbles16(v: v128): v128 {
  return v128.and(v, i8x16.splat(-16));
}

// Relaxed SIMD, XQ_U7 row (q_x + 64 in [1, 127], the i7 operand): 16 · q in [-128, 112] is the
// signed operand, so x86 (pmaddubsw) and ARM (sdot) agree, and a pair's sum stays within
// 2 · 128 · 127 < 32767. Σ 16 q (q_x + 64) − 1024 Σ q (M_ENC_ZSUM: Σ q per latent) = 16 Σ q q_x.
@inline function relaxedTiles(s: usize, xq: usize, xs: f32, e: Epilogue, fused: bool): void {
  checkPreamble(s, xq, xs, e, XQ_U7);
  if (!ASC_NO_ASSERT) assert((mp(s, M_ENC_ZSUM) & 15) == 0, "the weight sums must be 16-byte aligned");
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  const zsum = mp(s, M_ENC_ZSUM);
  let w = mp(s, M_W_ENC);
  for (let b = 0; b < tiles; b++) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let xp = xq;
    const end = w + <usize>steps * I4_STEP_BYTES;
    for (; w < end; w += I4_STEP_BYTES, xp += 16) {
      const xu = v128.load(xp);
      const v = v128.load(w), u = v128.load(w, 16);
      const w0 = lowNibbles16(v), w1 = highNibbles16(v), w2 = lowNibbles16(u), w3 = highNibbles16(u);
      if (fused) {
        a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, xu, a0);
        a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, xu, a1);
        a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w2, xu, a2);
        a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w3, xu, a3);
      } else {
        a0 = i32x4.add(a0, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w0, xu)));
        a1 = i32x4.add(a1, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w1, xu)));
        a2 = i32x4.add(a2, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w2, xu)));
        a3 = i32x4.add(a3, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w3, xu)));
      }
    }
    const acc = i32x4.shr_s(i32x4.sub(hsum4(a0, a1, a2, a3), i32x4.shl(v128.load(zsum + (<usize>b << 4)), 10)), 4);
    epilogueTile(s, b, acc, xs, e);
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

// Σ q per latent (padding 0), the relaxed kernels' offset term; load time.
export function computeNibbleSums(s: usize): void {
  if (!ASC_FEATURE_RELAXED_SIMD) return;
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  let w = mp(s, M_W_ENC);
  const zsum = mp(s, M_ENC_ZSUM);
  for (let b = 0; b < tiles; b++) {
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    for (const end = w + <usize>steps * I4_STEP_BYTES; w < end; w += I4_STEP_BYTES) {
      const v = v128.load(w), u = v128.load(w, 16);
      a0 = i32x4.add(a0, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(lowNibbles16(v))));
      a1 = i32x4.add(a1, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(highNibbles16(v))));
      a2 = i32x4.add(a2, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(lowNibbles16(u))));
      a3 = i32x4.add(a3, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(highNibbles16(u))));
    }
    v128.store(zsum + (<usize>b << 4), i32x4.shr_s(hsum4(a0, a1, a2, a3), 4));
  }
}
