import { mi, mp, M_D_IN, M_D_OUT, M_D_IN_PAD, M_D_SAE, M_D_SAE_PAD, M_ACT, M_K, M_SCREEN, M_QUANT, ACT_TOPK, ACT_GROUPMAX, QUANT_I8, QUANT_I4 } from "./model";
import { TILE_ROWS, TILE_TMP_BYTES } from "./enc_i8_4x4c16";
import { Selection, DENSE_GROUP } from "./select";
import { Epilogue, pendingBytes } from "./epilogue";
import { Decoder } from "./dec_row";
import { RowStats, prepareRow, xqLayout, XQ_I16P } from "./quantize_x";

// Per-model scratch the host allocates once (size from workspace_bytes). A lane holds all the
// state of one row being processed, so kernels get it through their arguments, never globals
// (int8 models have 4 lanes, one per row of the 4-row kernels, then their tile scratch):
//   sel, epi, dec, row, screenRow   the row's selection, epilogue, decoder and statistics
//   xf    f32[d_in_pad]   input minus shift, zero padded
//   xq    i16[d_in_pad]   quantized input (layout depends on the build)
//   keys  u64[cap]        selection candidates
//   pend                  latents waiting for the residual plane (epilogue.ts)
//   xhat  f32[max(d_in, d_out)] reconstruction row (score)
//   dense f32[d_sae_pad]   int8 TopK rows of a narrow model: the pre-activations, selected after the GEMV (denseTopK)
//   then the screen's rows (screen.ts)
@inline function align16(n: usize): usize {
  return (n + 15) & ~(<usize>15);
}
@inline function slot<T>(): usize {
  return align16(offsetof<T>());
}

@inline export function wsSel(ws: usize): Selection {
  return changetype<Selection>(ws);
}
@inline export function wsEpi(ws: usize): Epilogue {
  return changetype<Epilogue>(ws + slot<Selection>());
}
@inline export function wsDec(ws: usize): Decoder {
  return changetype<Decoder>(ws + slot<Selection>() + slot<Epilogue>());
}
@inline export function wsRow(ws: usize): RowStats {
  return changetype<RowStats>(ws + slot<Selection>() + slot<Epilogue>() + slot<Decoder>());
}
@inline export function wsScreenRow(ws: usize): RowStats {
  return changetype<RowStats>(changetype<usize>(wsRow(ws)) + slot<RowStats>());
}
@inline function stateBytes(): usize {
  return slot<Selection>() + slot<Epilogue>() + slot<Decoder>() + (slot<RowStats>() << 1);
}

export function selectionCapacity(m: usize): i32 {
  const dSaePad = mi(m, M_D_SAE_PAD);
  if (mi(m, M_ACT) != ACT_TOPK) return dSaePad;
  // Enough room that compaction (a quickselect down to k) runs rarely.
  const cap = max(mi(m, M_K) * 4, 256);
  return min(cap, dSaePad);
}

@inline export function wsXf(m: usize, ws: usize): usize {
  return ws + stateBytes();
}
@inline export function wsXq(m: usize, ws: usize): usize {
  return wsXf(m, ws) + align16(<usize>mi(m, M_D_IN_PAD) << 2);
}
@inline export function wsKeys(m: usize, ws: usize): usize {
  return wsXq(m, ws) + align16(<usize>mi(m, M_D_IN_PAD) << 1);
}
@inline export function wsPend(m: usize, ws: usize): usize {
  return wsKeys(m, ws) + align16(<usize>selectionCapacity(m) << 3);
}
@inline export function wsXhat(m: usize, ws: usize): usize {
  return wsPend(m, ws) + align16(pendingBytes());
}
@inline export function wsDense(m: usize, ws: usize): usize {
  return wsXhat(m, ws) + align16(<usize>max(mi(m, M_D_IN), mi(m, M_D_OUT)) << 2);
}
@inline function singleRowBytes(m: usize): usize {
  return wsDense(m, 0) + (denseTopK(m) ? <usize>mi(m, M_D_SAE_PAD) << 2 : 0);
}
// Whether int8 TopK rows (without a screen) store their pre-activations densely and select after
// the GEMV (selectDense), instead of pushing candidates from the tiles: where the model is narrow
// enough that the selection's pushes and compactions are a tenth of the work, and its group
// maxima fit the selection buffer.
export function denseTopK(m: usize): bool {
  return ASC_FEATURE_SIMD && mi(m, M_ACT) == ACT_TOPK && mi(m, M_QUANT) == QUANT_I8 && !mp(m, M_SCREEN) && mi(m, M_D_SAE_PAD) <= DENSE_GROUP * selectionCapacity(m);
}

// The low-rank screen's projected row (f32[rank], then its i16 z) and its quantized row.
@inline export function wsScreenF(m: usize, ws: usize): usize {
  return ws + singleRowBytes(m);
}
@inline export function wsScreenQ(m: usize, ws: usize): usize {
  return wsScreenF(m, ws) + align16(<usize>screenRank(m) << 2);
}
@inline function screenRank(m: usize): i32 {
  const s = mp(m, M_SCREEN);
  return s && mi(s, M_QUANT) != QUANT_I4 ? mi(s, M_D_IN_PAD) : 0;
}

// One row's workspace; the whole one holds laneCount such lanes (int8 models: the 4-row kernels
// encode a row in each) and the kernels' tile scratch.
@inline export function laneBytes(m: usize): usize {
  return wsScreenQ(m, 0) + align16(<usize>screenRank(m) << 1);
}
// How many lanes the model's encoders use (rows per pass over the weights): int8 models without a
// screen or with an int4 one 16, or 4 when a lane is large (activations whose selection may hold
// every latent of a wide model), else 1 (the low-rank screen encodes one row at a time).
export const MAX_LANES: i32 = 16;
const LANE_BUDGET: usize = 64 << 10;
export function laneCount(m: usize): i32 {
  if (mi(m, M_QUANT) != QUANT_I8 || screenRank(m)) return 1;
  return laneBytes(m) <= LANE_BUDGET ? MAX_LANES : TILE_ROWS;
}
@inline export function wsLane(m: usize, ws: usize, r: i32): usize {
  return ws + <usize>r * laneBytes(m);
}
@inline export function wsTileTmp(m: usize, ws: usize): usize {
  return ws + <usize>laneCount(m) * laneBytes(m);
}
// Rows x[0..rows) normalized and quantized into the first lanes, in the 4-row kernels' layout.
export function prepareLanes(m: usize, ws: usize, x: usize, rows: i32): void {
  const dIn = <usize>mi(m, M_D_IN);
  for (let r = 0; r < rows; r++) {
    const lane = wsLane(m, ws, r);
    prepareRow(m, x + ((<usize>r * dIn) << 2), wsXf(m, lane), wsXq(m, lane), ASC_FEATURE_SIMD && !ASC_FEATURE_RELAXED_SIMD ? XQ_I16P : xqLayout(), wsRow(lane));
  }
}
export function workspaceBytes(m: usize): usize {
  return wsTileTmp(m, 0) + TILE_TMP_BYTES;
}
// The most codes one row can produce: k for TopK, d_sae otherwise.
export function maxCodesPerRow(m: usize): i32 {
  const dSae = mi(m, M_D_SAE);
  const act = mi(m, M_ACT);
  return act == ACT_TOPK || act == ACT_GROUPMAX ? min(mi(m, M_K), dSae) : dSae;
}
