// Int8 encoder GEMM: 4 input rows x 4 latents per tile, 16 input dims per step, on the packed
// weights of enc_i8_1x4c16 (W[b][c][l][t]); `rows` (a multiple of 4) rows per call take their
// row tiles in turn over each latent tile while its weights sit in L1, so the weights stream from
// memory once per call instead of once per row. Within a tile each weight load serves 4 rows
// (simd128) or 2 (relaxed) and each activation load 2 or 4 latents.
// The rows live in workspace lanes `stride` bytes apart (workspace.ts): row r's quantized
// activations at xq + r·stride, its epilogue at e + r·stride, its statistics (s_x) at
// row + r·stride. Each tile goes through every row's epilogue as soon as its sums are done, in
// latent order, with the 1-row kernels' h = f32(sum) * (s_x * w_scale) + b_enc: integer sums
// are exact in any order, so every row gets the bits it gets alone.
// tmp: 128 bytes (16-byte aligned) where the passes of a row tile leave their pair sums.
import { mi, mp, M_D_IN_PAD, M_D_SAE_PAD, M_W_ENC, M_ENC_ZSUM } from "./model";
import { XQ_I8, XQ_I16P, XQ_U7, RowStats } from "./quantize_x";
import { Epilogue } from "./epilogue";
import { checkPreamble, epilogueScalar, epilogueTile, hsum4, pairSum, pairsHsum, dotAddNoOnes, latentDotI8 } from "./enc_i8_1x4c16";

export const TILE_ROWS: i32 = 4;
export const TILE_TMP_BYTES: usize = 128;

@inline export function lane<T>(p: T, r: i32, stride: usize): T {
  return changetype<T>(changetype<usize>(p) + <usize>r * stride);
}

// The contract: the 1-row kernel's for each row, whole row tiles, 16-byte aligned lanes and tmp.
@inline export function checkRows(m: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize, layout: i32): void {
  if (ASC_NO_ASSERT) return;
  assert(rows > 0 && rows % TILE_ROWS == 0, "rows must be a positive multiple of 4");
  assert((stride & 15) == 0 && stride != 0 && (tmp & 15) == 0 && tmp != 0, "lanes and tmp must be 16-byte aligned");
  for (let r = 0; r < rows; r++) checkPreamble(m, xq + <usize>r * stride, lane(row, r, stride).xScale, lane(e, r, stride), layout);
}

// Reference-shaped twin: i8 x i8 products summed in i32, row by row within the tile.
export function enc_i8_4x4c16__scalar(m: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize): void {
  checkRows(m, xq, e, row, stride, rows, tmp, XQ_I8);
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  let w = mp(m, M_W_ENC);
  for (let b = 0; b < tiles; b++) {
    for (let r = 0; r < rows; r++) {
      const xr = xq + <usize>r * stride;
      const xs = lane(row, r, stride).xScale;
      for (let l = 0; l < 4; l++) epilogueScalar(m, (b << 2) + l, latentDotI8(w, xr, l, steps), xs, lane(e, r, stride));
    }
    w += <usize>steps << 6;
  }
}

// tmp holds, per row r of the row tile (its lanes from e and row), pairSum of latents (0, 1) at r·32 and of (2, 3) at r·32 + 16.
@inline function finishTile(m: usize, b: i32, e: Epilogue, row: RowStats, stride: usize, tmp: usize): void {
  for (let r = 0; r < TILE_ROWS; r++) {
    const t = tmp + (<usize>r << 5);
    epilogueTile(m, b, pairsHsum(v128.load(t), v128.load(t, 16)), lane(row, r, stride).xScale, lane(e, r, stride));
  }
}

// SIMD128: x as plain i16 (XQ_I16P), each weight half widened once (v128.load8x8_s) for the 4
// rows of a row tile. A pass takes 2 latents x 4 rows: 8 accumulators and 4 widened weight vectors
// (x read from memory) fit V8's 16 xmm registers; a row tile's 2 passes, and the next row tiles,
// reread the latent tile's weights from L1. No fold: a lane gains at most 4 · 127 · 63 per step.
export function enc_i8_4x4c16__wasmsimd_dot16(m: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize): void {
  simd4x4(m, xq, e, row, stride, rows, tmp, false);
}
// The pass loop of enc_i8_4x4c16__wasmsimd_dot16, or (int4) of enc_i4_4x4c16's on the int4
// screen's packed nibbles (32 bytes per step, a latent pair per 16): only the weights' widening differs.
@inline export function simd4x4(m: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize, int4: bool): void {
  checkRows(m, xq, e, row, stride, rows, tmp, XQ_I16P);
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  const xEnd = <usize>steps << 5;
  const stepBytes: usize = int4 ? 32 : 64;
  let wt = mp(m, M_W_ENC);
  for (let b = 0; b < tiles; b++, wt += <usize>steps * stepBytes) {
    for (let r = 0; r < rows; r += TILE_ROWS) {
      const x0 = xq + <usize>r * stride, x1 = x0 + stride, x2 = x0 + 2 * stride, x3 = x0 + 3 * stride;
      for (let h: usize = 0; h < 32; h += 16) {
        let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        if (int4) {
          let wp = wt + h;
          for (let xo: usize = 0; xo < xEnd; xo += 32, wp += stepBytes) {
            // q of the pair's even latent (low nibble − 8) and odd one (high nibble, arithmetic shift).
            const v = v128.load(wp), lo = v128.and(v, i8x16.splat(15));
            const wal = i16x8.sub(i16x8.extend_low_i8x16_u(lo), i16x8.splat(8));
            const wah = i16x8.sub(i16x8.extend_high_i8x16_u(lo), i16x8.splat(8));
            const wbl = i16x8.shr_s(i16x8.extend_low_i8x16_s(v), 4);
            const wbh = i16x8.shr_s(i16x8.extend_high_i8x16_s(v), 4);
            a0 = dot16(wal, wah, x0 + xo, a0);
            c0 = dot16(wbl, wbh, x0 + xo, c0);
            a1 = dot16(wal, wah, x1 + xo, a1);
            c1 = dot16(wbl, wbh, x1 + xo, c1);
            a2 = dot16(wal, wah, x2 + xo, a2);
            c2 = dot16(wbl, wbh, x2 + xo, c2);
            a3 = dot16(wal, wah, x3 + xo, a3);
            c3 = dot16(wbl, wbh, x3 + xo, c3);
          }
        } else {
          // Half a step (8 dims) per iteration, low halves then high halves: 2 widened weight
          // vectors and 4 x vectors live with the 8 sums, which V8's 15 allocatable xmm registers
          // hold without spilling (a whole step per iteration spilled 4 sums every iteration).
          for (let half: usize = 0; half < 16; half += 8) {
            let wp = wt + (h << 1) + half;
            for (let xo: usize = half << 1; xo < xEnd; xo += 32, wp += 64) {
              const wa = v128.load8x8_s(wp), wb = v128.load8x8_s(wp, 16);
              let x = v128.load(x0 + xo);
              a0 = i32x4.add(a0, i32x4.dot_i16x8_s(wa, x));
              c0 = i32x4.add(c0, i32x4.dot_i16x8_s(wb, x));
              x = v128.load(x1 + xo);
              a1 = i32x4.add(a1, i32x4.dot_i16x8_s(wa, x));
              c1 = i32x4.add(c1, i32x4.dot_i16x8_s(wb, x));
              x = v128.load(x2 + xo);
              a2 = i32x4.add(a2, i32x4.dot_i16x8_s(wa, x));
              c2 = i32x4.add(c2, i32x4.dot_i16x8_s(wb, x));
              x = v128.load(x3 + xo);
              a3 = i32x4.add(a3, i32x4.dot_i16x8_s(wa, x));
              c3 = i32x4.add(c3, i32x4.dot_i16x8_s(wb, x));
            }
          }
        }
        v128.store(tmp + h, pairSum(a0, c0));
        v128.store(tmp + h, pairSum(a1, c1), 32);
        v128.store(tmp + h, pairSum(a2, c2), 64);
        v128.store(tmp + h, pairSum(a3, c3), 96);
      }
      finishTile(m, b, lane(e, r, stride), lane(row, r, stride), stride, tmp);
    }
  }
}
// acc + the 16 products of one widened weight step (low and high 8 dims) with the i16 row at xp.
@inline function dot16(wl: v128, wh: v128, xp: usize, acc: v128): v128 {
  return i32x4.add(i32x4.add(acc, i32x4.dot_i16x8_s(wl, v128.load(xp))), i32x4.dot_i16x8_s(wh, v128.load(xp, 16)));
}

// Relaxed SIMD, split dot (i16x8.relaxed_dot_i8x16_i7x16_s widened with extadd_pairwise,
// dotAddNoOnes): rows as q + 64, the offset removed with 64·Σq_w. A pass
// takes 4 latents x 2 rows (8 accumulators, the 4 weight vectors, x and a temporary), so each
// pass ends with whole sums for its 2 rows; the next passes reread the tile's weights from L1.
export function enc_i8_4x4c16__wasmrelaxed_dot8u7(m: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize): void {
  relaxed4x4(m, xq, e, row, stride, rows, tmp, false);
}
// The same with the fused i32x4.relaxed_dot_i8x16_i7x16_add_s (one vpdpbusd / sdot where the
// engine has it; chosen by the host's probe).
export function enc_i8_4x4c16__wasmrelaxed_dot8u7_fused(m: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize): void {
  relaxed4x4(m, xq, e, row, stride, rows, tmp, true);
}

@inline function relaxed4x4(m: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize, fused: bool): void {
  checkRows(m, xq, e, row, stride, rows, tmp, XQ_U7);
  if (!ASC_NO_ASSERT) assert((mp(m, M_ENC_ZSUM) & 15) == 0, "the weight sums must be 16-byte aligned");
  const steps = mi(m, M_D_IN_PAD) >> 4;
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  const zsum = mp(m, M_ENC_ZSUM);
  const xEnd = <usize>steps << 4;
  let wt = mp(m, M_W_ENC);
  for (let b = 0; b < tiles; b++, wt += <usize>steps << 6) {
    const z = i32x4.shl(v128.load(zsum + (<usize>b << 4)), 6);
    for (let r = 0; r < rows; r += 2) {
      const xa = xq + <usize>r * stride, xb = xa + stride;
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
      let wp = wt;
      for (let xo: usize = 0; xo < xEnd; xo += 16, wp += 64) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16), w2 = v128.load(wp, 32), w3 = v128.load(wp, 48);
        let xu = v128.load(xa + xo);
        a0 = dotAddNoOnes(w0, xu, a0, fused);
        a1 = dotAddNoOnes(w1, xu, a1, fused);
        a2 = dotAddNoOnes(w2, xu, a2, fused);
        a3 = dotAddNoOnes(w3, xu, a3, fused);
        xu = v128.load(xb + xo);
        c0 = dotAddNoOnes(w0, xu, c0, fused);
        c1 = dotAddNoOnes(w1, xu, c1, fused);
        c2 = dotAddNoOnes(w2, xu, c2, fused);
        c3 = dotAddNoOnes(w3, xu, c3, fused);
      }
      epilogueTile(m, b, i32x4.sub(hsum4(a0, a1, a2, a3), z), lane(row, r, stride).xScale, lane(e, r, stride));
      epilogueTile(m, b, i32x4.sub(hsum4(c0, c1, c2, c3), z), lane(row, r + 1, stride).xScale, lane(e, r + 1, stride));
    }
  }
}
