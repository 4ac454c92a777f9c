// Latent-split pools (src/pool/latent-split.ts): each worker holds a slice of the latents and
// the host merges the slices' results into exactly one Sae's codes. Two kernels the merge needs.
import { mi, mp, M_D_IN, M_D_OUT, M_D_SAE, M_ENC_RESID, M_ENC_RERR } from "./model";
import { wsXf, wsXq, wsKeys, wsSel, wsRow, wsDec, wsXhat, selectionCapacity } from "./workspace";
import { prepareRow, XQ_I8 } from "./quantize_x";
import { Selection, selectBegin, selectPush, selectFinish, keyAt, keyIndex, keyValue } from "./select";
import { rescoreLatent, rescoreWeightSum, rescoreWeightValue } from "./rescore_i8_1x16";
import { weightBound } from "./epilogue";
import { decodeCodesRow, skipAdd } from "./dec_row";
import { reconErrorRow } from "./recon_error";

// Int8 TopK, one slice: for each of n rows (x f32[n][d_in], pre its pre-activations f32[n][d_sae]
// from preact), what one Sae's rescoring (index.ts rescoreSelection) reads of this slice: its best
// c candidates by int8 value in the selection's order (count i32[n]; row r's at [r·c, r·c + count)
// of idx u32 and val f32), each one's rescored value (h f32) and, with a residual plane, its
// int8-weight value and weight bound (stage 1: h1, b f32). The host keeps the best c of all slices.
// stats (f32[n][2], or 0) receives each row's (shift, decode scale) as encode_sparse writes them.
export function topk_candidates_i8(m: usize, ws: usize, x: usize, pre: usize, n: i32, c: i32, count: usize, idx: usize, val: usize, h: usize, h1: usize, b: usize, stats: usize): void {
  const dIn = <usize>mi(m, M_D_IN), dSae = mi(m, M_D_SAE);
  const sel = wsSel(ws), row = wsRow(ws), z = wsXf(m, ws);
  const resid = mp(m, M_ENC_RESID) != 0, rerr = mp(m, M_ENC_RERR);
  for (let r = 0; r < n; r++) {
    // The row's 15-bit activations z and statistics, as the encoder's prepareRow made them.
    prepareRow(m, x + ((<usize>r * dIn) << 2), z, wsXq(m, ws), XQ_I8, row);
    if (stats) {
      store<f32>(stats + (<usize>r << 3), row.shift);
      store<f32>(stats + (<usize>r << 3) + 4, row.decodeScale);
    }
    const p = pre + ((<usize>r * <usize>dSae) << 2);
    selectBegin(sel, wsKeys(m, ws), selectionCapacity(m), c);
    selectAbove(sel, p, dSae);
    const cnt = selectFinish(sel);
    store<i32>(count + (<usize>r << 2), cnt);
    for (let e = 0; e < cnt; e++) {
      const key = load<u64>(keyAt(sel, e)), j = keyIndex(key);
      const o = (<usize>r * <usize>c + <usize>e) << 2;
      store<u32>(idx + o, j);
      store<f32>(val + o, keyValue(key));
      store<f32>(h + o, rescoreLatent(m, z, row.xScale, j));
      if (resid) {
        store<f32>(h1 + o, rescoreWeightValue(m, j, rescoreWeightSum(m, z, j), row.xScale));
        store<f32>(b + o, weightBound(rerr, row, j));
      }
    }
  }
}

// The epilogue's TopK bar (epilogue1) over a row of pre-activations, in index order as the GEMV
// visits the latents; the SIMD twin skips four at a time that are all at or below the bar.
function selectAbove(sel: Selection, p: usize, n: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= n; j += 4) {
      if (!v128.any_true(f32x4.gt(v128.load(p + (<usize>j << 2)), f32x4.splat(sel.thr)))) continue;
      for (let l = j; l < j + 4; l++) pushAbove(sel, p, l);
    }
  }
  for (; j < n; j++) pushAbove(sel, p, j);
}
@inline function pushAbove(sel: Selection, p: usize, j: i32): void {
  const v = load<f32>(p + (<usize>j << 2));
  if (v > sel.thr) selectPush(sel, j, v);
}

// index.ts score for codes encoded elsewhere (layout as encode_sparse; stats as it wrote them,
// or 0): the same decode, skip connection and f64 error sums, so the same bits.
export function score_codes(m: usize, ws: usize, x: usize, idx: usize, val: usize, rowptr: usize, n: i32, stats: usize, outSq: usize, outNorm: usize): void {
  const dIn = mi(m, M_D_IN);
  if (!ASC_NO_ASSERT) assert(dIn == mi(m, M_D_OUT), "score needs d_out = d_in");
  const xhat = wsXhat(m, ws), d = wsDec(ws);
  for (let r = 0; r < n; r++) {
    const xr = x + ((<usize>r * <usize>dIn) << 2);
    decodeCodesRow(d, m, xhat, idx, val, rowptr, r, stats);
    skipAdd(m, xr, xhat);
    reconErrorRow(xr, xhat, dIn, outSq + (<usize>r << 3), outNorm + (<usize>r << 3));
  }
}
