// sae-edge kernels: a numbers-only ABI (pointers, lengths, counts). The host
// writes a model descriptor (model.ts) and allocates a workspace once per model.
// One source, three builds: scalar, simd128, relaxed (asconfig.json targets).
import {
  mi, mp, M_D_IN, M_D_OUT, M_D_SAE, M_ACT, M_K, M_QUANT, M_THRESH, M_MAG_SCALE, M_MAG_BIAS,
  ACT_JUMPRELU, ACT_TOPK, ACT_GATED, ACT_GROUPMAX, QUANT_I8, QUANT_I4, M_SCREEN, M_ENC_RESID, M_ENC_RERR, ABI_VERSION,
} from "./model";
import { wsXf, wsXq, wsKeys, wsPend, wsDense, denseTopK, wsXhat, wsSel, wsEpi, wsDec, wsRow, wsLane, wsTileTmp, prepareLanes, laneBytes, laneCount, workspaceBytes, selectionCapacity, maxCodesPerRow } from "./workspace";
import { prepareRow, xqLayout, RowStats, XQ_I8 } from "./quantize_x";
import { computeWeightSums } from "./enc_i8_1x4c16";
import { TILE_ROWS } from "./enc_i8_4x4c16";
import { encodePass, encodePassRows } from "./enc_pass";
import { computeNibbleSums } from "./enc_i4_1x4c16";
import { enc_f32_1x4__scalar, enc_f32_1x4__wasmsimd } from "./enc_f32_1x4";
import { Epilogue, epilogueBegin, epilogueEnd, epilogueCheck, epilogueRescoring, weightBound, OUT_PREACT, OUT_SELECT } from "./epilogue";
import { Selection, selectBegin, selectDense, selectFinish, selectEmit, selectTrim, selectRestart, selectKthValue, keyAt, keyOf, keyIndex, keyValue } from "./select";
import { rescoreCandidates, rescoreLatent, rescoreLatents4, computeRescoreBounds, rescoreWeightSum, rescoreWeightValue } from "./rescore_i8_1x16";
import { screenRow, screenRows } from "./screen";
import { decodeBegin, decodeAdd, decodeEnd, decodeFinish, decodeCodesRow, skipAdd } from "./dec_row";
import { reconErrorRow } from "./recon_error";
import { emitCandidates } from "./latent_split";
import { heapAlloc, heapFree } from "./heap";
import { checkModel } from "./check_model";

const KERNEL_SCALAR: i32 = 0;
const KERNEL_SIMD128: i32 = 1;
const KERNEL_RELAXED: i32 = 2;

export function abi_version(): i32 {
  return ABI_VERSION;
}
export function kernel_id(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return KERNEL_RELAXED;
  if (ASC_FEATURE_SIMD) return KERNEL_SIMD128;
  return KERNEL_SCALAR;
}

// The relaxed build's int8 inner loop: the fused i32x4.relaxed_dot_i8x16_i7x16_add_s (on = 1, one
// instruction where the engine has a dot-product one) or the split i16 dot + extadd (0, the
// default: 3 instructions everywhere). Both give the same exact sums; the host chooses with a
// semantics probe (src/runtime/dot-probe.ts). An engine property, so a module global: the
// allocator's are the only others. Returns the loop now in use (always 0 in other builds).
let fusedDot: bool = false;
export function use_fused_dot(on: i32): i32 {
  fusedDot = ASC_FEATURE_RELAXED_SIMD && on != 0;
  return fusedDot ? 1 : 0;
}

// 16-byte aligned; 0 when memory cannot grow (the host reports it).
export function alloc(bytes: usize): usize {
  return heapAlloc(bytes);
}
export function free(ptr: usize): void {
  heapFree(ptr);
}

// Finishes a model the host has filled in; call once before use.
export function model_prepare(m: usize): void {
  if (!ASC_NO_ASSERT) checkModel(m);
  if (mi(m, M_QUANT) == QUANT_I8) {
    computeWeightSums(m);
    computeRescoreBounds(m);
  }
  const s = mp(m, M_SCREEN);
  if (s) {
    if (mi(s, M_QUANT) == QUANT_I4) computeNibbleSums(s);
    else computeWeightSums(s);
  }
}
export function workspace_bytes(m: usize): usize {
  return workspaceBytes(m);
}
export function max_codes_per_row(m: usize): i32 {
  return maxCodesPerRow(m);
}

// Index of the first NaN or infinity in f32[n], or -1.
export function find_nonfinite_f32(p: usize, n: i32): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // 4 at a time; the block holding one is searched lane by lane below.
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(p + (<usize>i << 2));
      if (v128.any_true(f32x4.ne(f32x4.sub(v, v), f32x4.splat(0)))) break;
    }
  }
  for (; i < n; i++) {
    const v = load<f32>(p + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}

// First row of the last encoding call on this workspace whose pre-activations overflowed float32, or -1.
export function overflow_row(ws: usize): i32 {
  return wsEpi(ws).overflowRow;
}
@inline function callBegin(ws: usize): void {
  if (!ASC_NO_ASSERT) assert(ws != 0 && (ws & 15) == 0, "the workspace must be 16-byte aligned");
  wsEpi(ws).overflowRow = -1;
}
// Row r of the call, encoded in lane `lane` of the workspace, may have overflowed.
@inline function noteOverflow(ws: usize, r: i32, lane: usize = 0): void {
  const e = wsEpi(ws);
  if (wsEpi(lane ? lane : ws).overflow && e.overflowRow < 0) e.overflowRow = r;
}

// Runs the encoder GEMV of this build over one row; the epilogue (begun by the caller) decides what happens.
function gemvRow(m: usize, ws: usize, x: usize): void {
  const xf = wsXf(m, ws);
  const xq = wsXq(m, ws);
  const row = wsRow(ws), e = wsEpi(ws);
  if (mi(m, M_QUANT) == QUANT_I8) {
    encodePass(m, xq, prepareRow(m, x, xf, xq, xqLayout(), row), e, fusedDot);
  } else {
    prepareRow(m, x, xf, xq, XQ_I8, row);
    if (ASC_FEATURE_SIMD) enc_f32_1x4__wasmsimd(m, xf, e);
    else enc_f32_1x4__scalar(m, xf, e);
  }
}

// How many rows the next encoder step takes: as many whole 4-row tiles as remain and the model has
// lanes for (int8 without a screen or with an int4 one), else 1.
@inline function rowsPerStep(m: usize, left: i32): i32 {
  const rows = min(left & ~(TILE_ROWS - 1), laneCount(m));
  return rows >= TILE_ROWS ? rows : 1;
}

// The 4-row GEMM over rows x[0..rows), one per lane, their epilogues begun by the caller.
function gemmRows(m: usize, ws: usize, x: usize, rows: i32): void {
  prepareLanes(m, ws, x, rows);
  encodePassRows(m, wsXq(m, ws), wsEpi(ws), wsRow(ws), laneBytes(m), rows, wsTileTmp(m, ws), fusedDot);
}

// Encodes `rows` rows (1, or a multiple of 4 through the 4-row kernels) of x into the selections
// of the first lanes; finish each with finishRow.
function encodeRows(m: usize, ws: usize, x: usize, rows: i32): void {
  if (rows == 1) {
    encodeRow(m, ws, x);
    return;
  }
  if (mp(m, M_SCREEN)) {
    screenRows(m, ws, x, rows, fusedDot);
    return;
  }
  for (let r = 0; r < rows; r++) beginRow(m, wsLane(m, ws, r));
  gemmRows(m, ws, x, rows);
}

// Encodes one row into the selection buffer; finish it with finishRow.
function encodeRow(m: usize, ws: usize, x: usize): void {
  if (mp(m, M_SCREEN)) {
    screenRow(m, ws, x, fusedDot);
    return;
  }
  beginRow(m, ws);
  gemvRow(m, ws, x);
}

// The row's selection and epilogue, for the activation (the GEMV then fills them).
function beginRow(m: usize, ws: usize): void {
  const sel = wsSel(ws), e = wsEpi(ws);
  const act = mi(m, M_ACT);
  const k = act == ACT_TOPK ? mi(m, M_K) : mi(m, M_D_SAE);
  const rescore = act == ACT_TOPK && mi(m, M_QUANT) == QUANT_I8;
  if (!ASC_NO_ASSERT) assert(act != ACT_TOPK || (k > 0 && k <= mi(m, M_D_SAE)), "TopK needs 0 < k <= d_sae");
  selectBegin(sel, wsKeys(m, ws), selectionCapacity(m), rescore ? rescoreCandidates(m) : k);
  if (denseTopK(m)) {
    epilogueBegin(e, sel, OUT_PREACT, wsDense(m, ws), mi(m, M_D_SAE), 0);
    return;
  }
  const gated = act == ACT_GATED;
  const groupSize = act == ACT_GROUPMAX ? mi(m, M_D_SAE) / mi(m, M_K) : 0;
  epilogueBegin(e, sel, OUT_SELECT, 0, mi(m, M_D_SAE), act == ACT_JUMPRELU ? mp(m, M_THRESH) : 0, gated ? mp(m, M_MAG_SCALE) : 0, gated ? mp(m, M_MAG_BIAS) : 0, groupSize);
  // Every int8 activation but TopK (rescored after selection) rescores each latent that could be active.
  if (mi(m, M_QUANT) == QUANT_I8 && !rescore) epilogueRescoring(e, m, wsXf(m, ws), wsRow(ws), wsPend(m, ws));
}

// Row r's (shift, decode scale) into stats f32[n][2]: what decode needs to undo its normalization.
@inline function storeRowStats(stats: usize, r: i32, row: RowStats): void {
  store<f32>(stats + (<usize>r << 3), row.shift);
  store<f32>(stats + (<usize>r << 3) + 4, row.decodeScale);
}

// Ends the row encoded in lane ws: active latents, value descending, in its selection; returns their count.
function finishRow(m: usize, ws: usize): i32 {
  selectRow(m, ws);
  return finishSelection(m, wsXf(m, ws), wsRow(ws), wsSel(ws), wsEpi(ws), wsPend(m, ws));
}
// The row's candidates, all in its selection (int8 TopK: the best rescoreCandidates(m), unsorted).
@inline function selectRow(m: usize, ws: usize): void {
  if (!mp(m, M_SCREEN)) epilogueEnd(wsEpi(ws));
  if (denseTopK(m)) selectDense(wsSel(ws), wsDense(m, ws), mi(m, M_D_SAE));
}

// TopK int8 rescoring (z: the row's 15-bit activations in xf; scratch: 48 bytes, 8-byte aligned), then the final order.
function finishSelection(m: usize, z: usize, row: RowStats, sel: Selection, e: Epilogue, scratch: usize): i32 {
  if (mi(m, M_ACT) == ACT_TOPK && mi(m, M_QUANT) == QUANT_I8) rescoreSelection(m, z, row, mi(m, M_K), sel, e, scratch);
  return selectFinish(sel);
}

// Replaces the int8 TopK candidates' values with ones from unrounded activations (rescore_i8_1x16.ts),
// four at a time; keeps the positive.
function rescoreSelection(m: usize, z: usize, row: RowStats, k: i32, sel: Selection, e: Epilogue, scratch: usize): void {
  const xs = row.xScale;
  let n = selectTrim(sel);
  if (mp(m, M_ENC_RESID) && n > k) n = keepPossibleTopK(m, z, row, k, sel, e, n);
  let kept = 0, c = 0;
  // A group's keys are read before any is rewritten, and kept <= c: rewrites never reach unread keys.
  for (; c + 4 <= n; c += 4) {
    const j0 = keyIndex(load<u64>(keyAt(sel, c))), j1 = keyIndex(load<u64>(keyAt(sel, c + 1)));
    const j2 = keyIndex(load<u64>(keyAt(sel, c + 2))), j3 = keyIndex(load<u64>(keyAt(sel, c + 3)));
    rescoreLatents4(m, z, xs, j0, j1, j2, j3, scratch);
    kept = keepRescored(sel, e, kept, j0, load<f32>(scratch));
    kept = keepRescored(sel, e, kept, j1, load<f32>(scratch, 4));
    kept = keepRescored(sel, e, kept, j2, load<f32>(scratch, 8));
    kept = keepRescored(sel, e, kept, j3, load<f32>(scratch, 12));
  }
  for (; c < n; c++) {
    const j = keyIndex(load<u64>(keyAt(sel, c)));
    kept = keepRescored(sel, e, kept, j, rescoreLatent(m, z, xs, j));
  }
  selectRestart(sel, kept, k);
}
@inline function keepRescored(sel: Selection, e: Epilogue, kept: i32, j: i32, h: f32): i32 {
  epilogueCheck(e, h);
  if (!(h > 0)) return kept;
  store<u64>(keyAt(sel, kept), keyOf(h, j));
  return kept + 1;
}

// With a residual plane, stage 1 of TopK rescoring (docs/kernels.md, "Residual plane"): each
// candidate's int8-weight value h1 is within b = s_x · v_j · ‖y‖ of its plane value, so k candidates
// have a plane value of at least T, the k-th largest h1 − b, and one with h1 + b below T cannot be in
// the top k: only the others (moved to the front; their count returned) read their plane rows.
function keepPossibleTopK(m: usize, z: usize, row: RowStats, k: i32, sel: Selection, e: Epilogue, n: i32): i32 {
  const rerr = mp(m, M_ENC_RERR);
  for (let c = 0; c < n; c++) {
    const j = keyIndex(load<u64>(keyAt(sel, c)));
    const h = rescoreWeightValue(m, j, rescoreWeightSum(m, z, j), row.xScale);
    epilogueCheck(e, h);
    store<u64>(keyAt(sel, c), keyOf(h - weightBound(rerr, row, j), j));
  }
  const t = selectKthValue(sel, n, k);
  let kept = 0;
  for (let c = 0; c < n; c++) {
    const key = load<u64>(keyAt(sel, c)), j = keyIndex(key);
    if (keyValue(key) + 2 * weightBound(rerr, row, j) >= t) store<u64>(keyAt(sel, kept++), key);
  }
  return kept;
}

// Dense pre-activations (before the activation), f32[n][d_sae].
export function preact(m: usize, ws: usize, x: usize, n: i32, out: usize): void {
  const dIn = <usize>mi(m, M_D_IN);
  const dSae = <usize>mi(m, M_D_SAE);
  callBegin(ws);
  for (let r = 0; r < n; ) {
    const rows = rowsPerStep(m, n - r);
    for (let i = 0; i < rows; i++) {
      const lane = wsLane(m, ws, i);
      epilogueBegin(wsEpi(lane), wsSel(lane), OUT_PREACT, out + ((<usize>(r + i) * dSae) << 2), <i32>dSae, 0);
    }
    const xr = x + ((<usize>r * dIn) << 2);
    if (rows == 1) gemvRow(m, ws, xr);
    else gemmRows(m, ws, xr, rows);
    for (let i = 0; i < rows; i++) noteOverflow(ws, r + i, wsLane(m, ws, i));
    r += rows;
  }
}

// Sparse codes for rows 0..n: indices u32 and values f32 into idx/val, row r's
// codes at [rowptr[r], rowptr[r+1]) (rowptr u32[n+1]; rowptr[0] is read, not
// written). Stops before a row that might not fit in cap entries; returns the
// number of rows done. stats (f32[n][2], or 0) receives what decode_sparse needs to undo each
// row's normalization: (shift, decode scale).
export function encode_sparse(m: usize, ws: usize, x: usize, n: i32, idx: usize, val: usize, rowptr: usize, cap: i32, stats: usize): i32 {
  const dIn = <usize>mi(m, M_D_IN);
  const perRow = maxCodesPerRow(m);
  let pos = load<i32>(rowptr);
  callBegin(ws);
  for (let r = 0; r < n; ) {
    let rows = rowsPerStep(m, n - r);
    while (rows > 1 && pos + rows * perRow > cap) rows = rows > TILE_ROWS ? rows - TILE_ROWS : 1;
    if (pos + perRow > cap) return r;
    encodeRows(m, ws, x + ((<usize>r * dIn) << 2), rows);
    for (let i = 0; i < rows; i++, r++) {
      const lane = wsLane(m, ws, i);
      const count = finishRow(m, lane);
      noteOverflow(ws, r, lane);
      if (stats) storeRowStats(stats, r, wsRow(lane));
      pos = selectEmit(wsSel(lane), count, idx, val, pos);
      store<u32>(rowptr + (<usize>(r + 1) << 2), pos);
    }
  }
  return n;
}

// Activated codes as dense rows f32[n][d_sae].
export function encode_dense(m: usize, ws: usize, x: usize, n: i32, out: usize): void {
  const dIn = <usize>mi(m, M_D_IN);
  const dSae = <usize>mi(m, M_D_SAE);
  callBegin(ws);
  for (let r = 0; r < n; ) {
    const rows = rowsPerStep(m, n - r);
    encodeRows(m, ws, x + ((<usize>r * dIn) << 2), rows);
    for (let i = 0; i < rows; i++, r++) {
      const lane = wsLane(m, ws, i);
      const row = out + ((<usize>r * dSae) << 2);
      memory.fill(row, 0, dSae << 2);
      const count = finishRow(m, lane);
      noteOverflow(ws, r, lane);
      for (let e = 0; e < count; e++) {
        const key = load<u64>(keyAt(wsSel(lane), e));
        store<f32>(row + (<usize>keyIndex(key) << 2), keyValue(key));
      }
    }
  }
}

// Reconstructions f32[n][d_out] from sparse codes (layout as encode_sparse); stats as encode_sparse wrote them, or 0.
export function decode_sparse(m: usize, ws: usize, idx: usize, val: usize, rowptr: usize, n: i32, out: usize, stats: usize): void {
  const dIn = <usize>mi(m, M_D_OUT);
  const d = wsDec(ws);
  for (let r = 0; r < n; r++) {
    const row = out + ((<usize>r * dIn) << 2);
    decodeCodesRow(d, m, row, idx, val, rowptr, r, stats);
  }
}

// Reconstructions from dense codes f32[n][d_sae] (non-zero latents, index order); stats or 0.
export function decode_dense(m: usize, ws: usize, z: usize, n: i32, out: usize, stats: usize): void {
  const dIn = <usize>mi(m, M_D_OUT);
  const dSae = mi(m, M_D_SAE);
  const d = wsDec(ws);
  for (let r = 0; r < n; r++) {
    const row = out + ((<usize>r * dIn) << 2);
    const zr = z + ((<usize>r * <usize>dSae) << 2);
    decodeBegin(d, m, row);
    for (let j = 0; j < dSae; j++) {
      const v = load<f32>(zr + (<usize>j << 2));
      if (v != 0) decodeAdd(d, m, row, j, v);
    }
    decodeEnd(d, m, row);
    if (stats) decodeFinish(m, row, load<f32>(stats + (<usize>r << 3)), load<f32>(stats + (<usize>r << 3) + 4));
  }
}

// Per-row reconstruction error of x through the SAE: f64 squared L2 and
// squared L2 / ||x||^2. Same codes and order as encode_sparse + decode_sparse.
// Needs d_out = d_in (the host does not call it for transcoders).
export function score(m: usize, ws: usize, x: usize, n: i32, outSq: usize, outNorm: usize): void {
  const dIn = mi(m, M_D_IN);
  const xhat = wsXhat(m, ws);
  const d = wsDec(ws);
  callBegin(ws);
  for (let r = 0; r < n; ) {
    const rows = rowsPerStep(m, n - r);
    encodeRows(m, ws, x + ((<usize>r * <usize>dIn) << 2), rows);
    for (let i = 0; i < rows; i++, r++) {
      const lane = wsLane(m, ws, i);
      const xr = x + ((<usize>r * <usize>dIn) << 2);
      const count = finishRow(m, lane);
      noteOverflow(ws, r, lane);
      const sel = wsSel(lane), stats = wsRow(lane);
      decodeBegin(d, m, xhat);
      for (let e = 0; e < count; e++) {
        const key = load<u64>(keyAt(sel, e));
        decodeAdd(d, m, xhat, keyIndex(key), keyValue(key));
      }
      decodeEnd(d, m, xhat);
      decodeFinish(m, xhat, stats.shift, stats.decodeScale);
      skipAdd(m, xr, xhat);
      reconErrorRow(xr, xhat, dIn, outSq + (<usize>r << 3), outNorm + (<usize>r << 3));
    }
  }
}

export { train_preact_f32, train_shift_rows, train_select, train_backward_row_t, train_decode_nobias, adam_f32, train_project_decoder_grad, train_normalize_decoder } from "./train";

// Adds the skip connection W_skip · x to n output rows (forward of skip transcoders; no-op without one).
export function skip_add(m: usize, x: usize, n: i32, out: usize): void {
  const dIn = <usize>mi(m, M_D_IN), dOut = <usize>mi(m, M_D_OUT);
  for (let r = 0; r < n; r++) skipAdd(m, x + ((<usize>r * dIn) << 2), out + ((<usize>r * dOut) << 2));
}

// Int8 TopK, one slice of a latent-split pool (src/pool/latent-worker.ts): for each of n rows (x
// f32[n][d_in]), what one Sae's rescoring (rescoreSelection) reads of this slice, from the
// encoder's own passes: its best c = rescoreCandidates(m) candidates by int8 value in the
// selection's order (count i32[n]; row r's at [r·c, r·c + count) of idx u32 and val f32), each
// one's rescored value (h f32) and, with a residual plane, its int8-weight value and weight bound
// (stage 1: h1, b f32). The host keeps the best c of all slices. stats (f32[n][2], or 0) receives
// each row's (shift, decode scale) as encode_sparse writes them; overflow_row, the first row whose
// pre-activations overflowed.
export function topk_candidates_i8(m: usize, ws: usize, x: usize, n: i32, c: i32, count: usize, idx: usize, val: usize, h: usize, h1: usize, b: usize, stats: usize): void {
  if (!ASC_NO_ASSERT) assert(mi(m, M_ACT) == ACT_TOPK && mi(m, M_QUANT) == QUANT_I8 && !mp(m, M_SCREEN) && c == rescoreCandidates(m), "slice candidates need an unscreened int8 TopK model and c = its rescoring candidates");
  const dIn = <usize>mi(m, M_D_IN);
  callBegin(ws);
  for (let r = 0; r < n; ) {
    const rows = rowsPerStep(m, n - r);
    encodeRows(m, ws, x + ((<usize>r * dIn) << 2), rows);
    for (let i = 0; i < rows; i++, r++) {
      const lane = wsLane(m, ws, i), sel = wsSel(lane), row = wsRow(lane);
      selectRow(m, lane);
      noteOverflow(ws, r, lane);
      if (stats) storeRowStats(stats, r, row);
      emitCandidates(m, wsXf(m, lane), row, sel, selectFinish(sel), r, c, count, idx, val, h, h1, b);
    }
  }
}

export { score_codes } from "./latent_split";
