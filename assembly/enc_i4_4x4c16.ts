// Int4 encoder GEMM of the int4 screen (screen.ts): 4 input rows x 4 latents per tile on the packed
// int4 weights of enc_i4_1x4c16 (its header: 32 bytes per (tile, step), byte [p][t] holding dims
// 16c+t of latents 4b+2p (low nibble, q + 8) and 4b+2p+1 (high nibble, q)), with the lanes, row
// layouts, tile scratch and epilogue order of enc_i8_4x4c16: each weight vector is unpacked once
// per row tile (simd128) or read once per 2 rows (relaxed). The integer sums are the 1-row kernel's
// exact ones, so every row gets the bits it gets alone.
import { mi, mp, M_D_IN_PAD, M_D_SAE_PAD, M_W_ENC, M_ENC_ZSUM } from "./model";
import { XQ_I8, XQ_U7, RowStats } from "./quantize_x";
import { Epilogue } from "./epilogue";
import { epilogueScalar, epilogueTile, hsum4, dotAdd } from "./enc_i8_1x4c16";
import { lane, checkRows, simd4x4 } from "./enc_i8_4x4c16";
import { I4_STEP_BYTES, latentDotI4, rowSum, pairSums, lowNibbles } from "./enc_i4_1x4c16";

// Reference-shaped twin: the nibbles' q times i8 activations, summed in i32, row by row within the tile.
export function enc_i4_4x4c16__scalar(s: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize): void {
  checkRows(s, xq, e, row, stride, rows, tmp, XQ_I8);
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  let w = mp(s, M_W_ENC);
  for (let b = 0; b < tiles; b++, w += <usize>steps * I4_STEP_BYTES) {
    for (let r = 0; r < rows; r++) {
      const xr = xq + <usize>r * stride;
      for (let l = 0; l < 4; l++) epilogueScalar(s, (b << 2) + l, latentDotI4(w, xr, l, steps), lane(row, r, stride).xScale, lane(e, r, stride));
    }
  }
}

// SIMD128: x as plain i16 (XQ_I16P), enc_i8_4x4c16's pass loop (simd4x4). A pass takes one latent
// pair x 4 rows: its 16-byte weight vector is unpacked once into the pair's q as i16, 4 vectors that
// serve the 4 rows' 8 accumulators as the widened int8 weights do (16 xmm registers). No offsets,
// no fold: a lane gains at most 4 · 8 · 127 per step.
export function enc_i4_4x4c16__wasmsimd_dot16(s: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize): void {
  simd4x4(s, xq, e, row, stride, rows, tmp, true);
}

// Relaxed SIMD, XQ_U7 rows: the 1-row kernel's sums L (low nibbles) and M (whole bytes) per latent
// pair, for 2 rows per pass (8 accumulators, the 2 weight vectors and their low nibbles, x, ones and a
// temporary); the offsets are M_ENC_ZSUM's plus each row's 8 Σ q_x on even latents, kept in tmp
// (an i32 per row, up to 32 rows).
export function enc_i4_4x4c16__wasmrelaxed_dot8u7(s: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize): void {
  relaxed4x4(s, xq, e, row, stride, rows, tmp, false);
}
// The same with the fused i32x4.relaxed_dot_i8x16_i7x16_add_s (src/runtime/dot-probe.ts).
export function enc_i4_4x4c16__wasmrelaxed_dot8u7_fused(s: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize): void {
  relaxed4x4(s, xq, e, row, stride, rows, tmp, true);
}
@inline function relaxed4x4(s: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize, fused: bool): void {
  checkRows(s, xq, e, row, stride, rows, tmp, XQ_U7);
  if (!ASC_NO_ASSERT) assert((mp(s, M_ENC_ZSUM) & 15) == 0 && rows <= 32, "the weight sums must be 16-byte aligned, rows <= 32");
  const steps = mi(s, M_D_IN_PAD) >> 4;
  const tiles = mi(s, M_D_SAE_PAD) >> 2;
  const zsum = mp(s, M_ENC_ZSUM);
  const xEnd = <usize>steps << 4;
  for (let r = 0; r < rows; r++) store<i32>(tmp + (<usize>r << 2), rowSum(xq + <usize>r * stride, steps << 4, XQ_U7) << 3);
  let wt = mp(s, M_W_ENC);
  const ones = i16x8.splat(1);
  for (let b = 0; b < tiles; b++, wt += <usize>steps * I4_STEP_BYTES) {
    const z = v128.load(zsum + (<usize>b << 4));
    for (let r = 0; r < rows; r += 2) {
      const xa = xq + <usize>r * stride, xb = xa + stride;
      let la0 = i32x4.splat(0), ma0 = la0, la1 = la0, ma1 = la0, lb0 = la0, mb0 = la0, lb1 = la0, mb1 = la0;
      let wp = wt;
      for (let xo: usize = 0; xo < xEnd; xo += 16, wp += I4_STEP_BYTES) {
        const v = v128.load(wp), u = v128.load(wp, 16), vl = lowNibbles(v), ul = lowNibbles(u);
        let xu = v128.load(xa + xo);
        la0 = dotAdd(vl, xu, la0, fused, ones);
        ma0 = dotAdd(v, xu, ma0, fused, ones);
        la1 = dotAdd(ul, xu, la1, fused, ones);
        ma1 = dotAdd(u, xu, ma1, fused, ones);
        xu = v128.load(xb + xo);
        lb0 = dotAdd(vl, xu, lb0, fused, ones);
        mb0 = dotAdd(v, xu, mb0, fused, ones);
        lb1 = dotAdd(ul, xu, lb1, fused, ones);
        mb1 = dotAdd(u, xu, mb1, fused, ones);
      }
      epilogueTile(s, b, pairSums(hsum4(la0, ma0, la1, ma1), i32x4.add(z, rowOffsets(tmp, r))), lane(row, r, stride).xScale, lane(e, r, stride));
      epilogueTile(s, b, pairSums(hsum4(lb0, mb0, lb1, mb1), i32x4.add(z, rowOffsets(tmp, r + 1))), lane(row, r + 1, stride).xScale, lane(e, r + 1, stride));
    }
  }
}
// Row r's offsets as the 1-row kernel's rowOff: 8 Σ q_x on even latents (lanes 0 and 2 of the pair sums).
@inline function rowOffsets(tmp: usize, r: i32): v128 {
  return i32x4.shuffle(i32x4.splat(load<i32>(tmp + (<usize>r << 2))), i32x4.splat(0), 0, 4, 1, 5);
}
