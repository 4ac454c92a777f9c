// Latent-split pools (src/pool/latent-split.ts): each worker holds a slice of the latents and
// the host merges the slices' results into exactly one Sae's codes. What the merge needs.
import { mi, mp, M_D_IN, M_D_OUT, M_ENC_RESID, M_ENC_RERR } from "./model";
import { wsDec, wsXhat } from "./workspace";
import { RowStats } from "./quantize_x";
import { Selection, keyAt, keyIndex, keyValue } from "./select";
import { rescoreLatent, rescoreWeightSum, rescoreWeightValue } from "./rescore_i8_1x16";
import { weightBound } from "./epilogue";
import { decodeCodesRow, skipAdd } from "./dec_row";
import { reconErrorRow } from "./recon_error";

// Int8 TopK, one slice (index.ts topk_candidates_i8): row r's candidates in the selection's order
// (cnt of them, at most c) into count, idx, val, with each one's rescored value (h) and, with a
// residual plane, its int8-weight value and weight bound (h1, b), as one Sae's rescoring reads them.
export function emitCandidates(m: usize, z: usize, row: RowStats, sel: Selection, cnt: i32, r: i32, c: i32, count: usize, idx: usize, val: usize, h: usize, h1: usize, b: usize): void {
  const resid = mp(m, M_ENC_RESID) != 0, rerr = mp(m, M_ENC_RERR);
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
