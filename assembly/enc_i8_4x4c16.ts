// Int8 encoder GEMM for a group of 4 rows: each 4-latent tile's weights (same packing as
// enc_i8_1x4c16) are read once for all 4 rows, so weight traffic per row drops 4×.
// Writes exact i32 sums Σ q_w q_x to acc[r][GROUP_BLOCK] (latent j - 4·t0 in the block), the
// same integers as the 1-row kernel (integer sums are exact in any order), so the epilogue
// sees the same values and every build stays bit-identical.
// The SIMD variants take 2 latents × 4 rows per pass (8 accumulators fit the registers).
import { mi, mp, M_D_IN_PAD, M_W_ENC, M_ENC_ZSUM } from "./model";
import { GROUP_BLOCK } from "./workspace";

@inline function accAt(acc: usize, r: i32, t: i32): usize {
  return acc + ((<usize>(r * GROUP_BLOCK + (t << 2))) << 2);
}

export function enc_i8_4x4c16__scalar(m: usize, xq: usize, stride: usize, acc: usize, t0: i32, nt: i32): void {
  const steps = mi(m, M_D_IN_PAD) >> 4;
  for (let t = 0; t < nt; t++) {
    const w = mp(m, M_W_ENC) + ((<usize>(t0 + t) * <usize>steps) << 6);
    for (let r = 0; r < 4; r++) {
      const xr = xq + <usize>r * stride;
      for (let l = 0; l < 4; l++) {
        let s: i32 = 0;
        for (let c = 0; c < steps; c++) {
          const wp = w + (<usize>c << 6) + (<usize>l << 4);
          const xp = xr + (<usize>c << 4);
          for (let i = 0; i < 16; i++) s += <i32>load<i8>(wp + i) * <i32>load<i8>(xp + i);
        }
        store<i32>(accAt(acc, r, t) + (<usize>l << 2), s);
      }
    }
  }
}

// [sum a0, sum a1, sum a2, sum a3]
@inline function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = i32x4.add(i32x4.shuffle(a0, a1, 0, 4, 1, 5), i32x4.shuffle(a0, a1, 2, 6, 3, 7));
  const t1 = i32x4.add(i32x4.shuffle(a2, a3, 0, 4, 1, 5), i32x4.shuffle(a2, a3, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7));
}

// The 16 accumulator vectors of one tile (row r, latent l at tmp + (r·4 + l)·16) to 4 sums per row.
@inline function finishTile(tmp: usize, acc: usize, t: i32, zsum: usize): void {
  for (let r = 0; r < 4; r++) {
    const p = tmp + (<usize>r << 6);
    let s = hsum4(v128.load(p), v128.load(p, 16), v128.load(p, 32), v128.load(p, 48));
    if (zsum) s = i32x4.sub(s, i32x4.shl(v128.load(zsum), 6));
    v128.store(accAt(acc, r, t), s);
  }
}

// One tile's 16 accumulator vectors, between the two half passes (static: one group at a time).
const TMP: usize = memory.data(256, 16);

// SIMD128: the weights' low and high bytes as 256·w (see enc_i8_1x4c16__wasmsimd_dot16), made
// once per step for 4 rows; sums folded (>> 8, exact) every FOLD_STEPS steps.
const FOLD_STEPS = 64;
export function enc_i8_4x4c16__wasmsimd_dot16(m: usize, xq: usize, stride: usize, acc: usize, t0: i32, nt: i32): void {
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const hiMask = i16x8.splat(-256);
  for (let t = 0; t < nt; t++) {
    const wt = mp(m, M_W_ENC) + ((<usize>(t0 + t) * <usize>steps) << 6);
    memory.fill(TMP, 0, 256);
    // 2 latents × 2 rows per pass keeps 4 accumulators, 4 weight vectors and x in registers
    // (a wider pass spills on V8 11); the tile's weights stay in L1 across the 4 passes.
    for (let p = 0; p < 4; p++) {
      const h = p & 1, r0 = p & 2;
      const xa = xq + <usize>r0 * stride, xb = xa + stride;
      let wp = wt + (<usize>h << 5);
      let xo: usize = 0;
      for (let c0 = 0; c0 < steps; c0 += FOLD_STEPS) {
        let a0 = i32x4.splat(0), b0 = i32x4.splat(0), a1 = i32x4.splat(0), b1 = i32x4.splat(0);
        for (const end = xo + (<usize>min(FOLD_STEPS, steps - c0) << 5); xo < end; xo += 32, wp += 64) {
          let q = v128.load(wp);
          const wal = i16x8.shl(q, 8), wah = v128.and(q, hiMask);
          q = v128.load(wp, 16);
          const wbl = i16x8.shl(q, 8), wbh = v128.and(q, hiMask);
          let xe = v128.load(xa + xo), xd = v128.load(xa + xo, 16);
          a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(wal, xe), i32x4.dot_i16x8_s(wah, xd)));
          b0 = i32x4.add(b0, i32x4.add(i32x4.dot_i16x8_s(wbl, xe), i32x4.dot_i16x8_s(wbh, xd)));
          xe = v128.load(xb + xo); xd = v128.load(xb + xo, 16);
          a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(wal, xe), i32x4.dot_i16x8_s(wah, xd)));
          b1 = i32x4.add(b1, i32x4.add(i32x4.dot_i16x8_s(wbl, xe), i32x4.dot_i16x8_s(wbh, xd)));
        }
        const l = <usize>(h << 1);
        fold(TMP + ((<usize>(r0 * 4) + l) << 4), a0, b0);
        fold(TMP + ((<usize>((r0 + 1) * 4) + l) << 4), a1, b1);
      }
    }
    finishTile(TMP, acc, t, 0);
  }
}

// TMP[latent l] += a >> 8, TMP[l + 1] += b >> 8 (exact: the sums are multiples of 256).
@inline function fold(p: usize, a: v128, b: v128): void {
  v128.store(p, i32x4.add(v128.load(p), i32x4.shr_s(a, 8)));
  v128.store(p, i32x4.add(v128.load(p, 16), i32x4.shr_s(b, 8)), 16);
}

// Relaxed SIMD: x rows as q + 64 (the i7 operand), the offset removed with 64·Σq_w.
export function enc_i8_4x4c16__wasmrelaxed_dot8u7(m: usize, xq: usize, stride: usize, acc: usize, t0: i32, nt: i32): void {
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const x0 = xq, x1 = xq + stride, x2 = xq + 2 * stride, x3 = xq + 3 * stride;
  for (let t = 0; t < nt; t++) {
    const wt = mp(m, M_W_ENC) + ((<usize>(t0 + t) * <usize>steps) << 6);
    for (let h = 0; h < 2; h++) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0), b1 = i32x4.splat(0), b2 = i32x4.splat(0), b3 = i32x4.splat(0);
      let wp = wt + (<usize>h << 5);
      for (let xo: usize = 0, end = <usize>steps << 4; xo < end; xo += 16, wp += 64) {
        const wa = v128.load(wp), wb = v128.load(wp, 16);
        let xu = v128.load(x0 + xo);
        a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wa, xu, a0);
        b0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wb, xu, b0);
        xu = v128.load(x1 + xo);
        a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wa, xu, a1);
        b1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wb, xu, b1);
        xu = v128.load(x2 + xo);
        a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wa, xu, a2);
        b2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wb, xu, b2);
        xu = v128.load(x3 + xo);
        a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wa, xu, a3);
        b3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wb, xu, b3);
      }
      const l = <usize>(h << 1);
      v128.store(TMP + ((0 * 4 + l) << 4), a0); v128.store(TMP + ((0 * 4 + l + 1) << 4), b0);
      v128.store(TMP + ((1 * 4 + l) << 4), a1); v128.store(TMP + ((1 * 4 + l + 1) << 4), b1);
      v128.store(TMP + ((2 * 4 + l) << 4), a2); v128.store(TMP + ((2 * 4 + l + 1) << 4), b2);
      v128.store(TMP + ((3 * 4 + l) << 4), a3); v128.store(TMP + ((3 * 4 + l + 1) << 4), b3);
    }
    finishTile(TMP, acc, t, mp(m, M_ENC_ZSUM) + (<usize>(t0 + t) << 4));
  }
}
