// The host half of a latent-split pool: the slices' results merged into exactly the codes one
// Sae gives (value descending, ties by lower index). Activations that decide each latent (or
// group) alone concatenate; TopK keeps the best k of the slices' best k; int8 TopK replays one
// Sae's rescoring (assembly/index.ts rescoreSelection) on the slices' candidates.
import { overflow, type SparseCodes } from "../runtime/index.js";
import type { Candidates } from "./latent-worker.js";

/** How many candidates one Sae's int8 TopK selection hands to rescoring (assembly/rescore_i8_1x16.ts rescoreCandidates). */
export function rescoreCandidates(k: number, dSae: number): number {
  return Math.min(dSae, k + Math.max(16, k >> 1));
}

// a before b in the selection's order: value descending, then index ascending.
const before = (va: number, ia: number, vb: number, ib: number) => va > vb || (va === vb && ia < ib);

/**
 * For each row, the first `limit` entries of the slices' lists merged in the selection's order
 * (each list already in it): pick(p, e, n) receives the n-th from list p at e; returns how many.
 */
function mergeRow(lists: { start: number; end: number; value: Float32Array; index: Uint32Array }[], limit: number, pick: (p: number, e: number, n: number) => void): number {
  const at = lists.map((l) => l.start);
  let n = 0;
  for (; n < limit; n++) {
    let best = -1;
    for (let p = 0; p < lists.length; p++) {
      if (at[p]! >= lists[p]!.end) continue;
      const l = lists[p]!, e = at[p]!;
      if (best < 0 || before(l.value[e]!, l.index[e]!, lists[best]!.value[at[best]!]!, lists[best]!.index[at[best]!]!)) best = p;
    }
    if (best < 0) break;
    pick(best, at[best]!++, n);
  }
  return n;
}

/** Codes of the slices (whole-model indices) merged row by row, at most `limit` per row. */
export function mergeCodes(parts: SparseCodes[], limit: number, dSae: number): SparseCodes {
  const rows = parts[0]!.rows;
  const rowOffsets = new Uint32Array(rows + 1);
  const indices: number[] = [], values: number[] = [];
  for (let r = 0; r < rows; r++) {
    const lists = parts.map((p) => ({ start: p.rowOffsets[r]!, end: p.rowOffsets[r + 1]!, value: p.values, index: p.indices }));
    mergeRow(lists, limit, (p, e) => {
      indices.push(parts[p]!.indices[e]!);
      values.push(parts[p]!.values[e]!);
    });
    rowOffsets[r + 1] = indices.length;
  }
  const { rowNorm } = parts[0]!;
  return { rows, dSae, rowOffsets, indices: Uint32Array.from(indices), values: Float32Array.from(values), ...(rowNorm ? { rowNorm } : {}) };
}

/**
 * One Sae's int8 TopK from the slices' candidates: the best C by int8 value, with a residual plane
 * the stage-1 cut (keepPossibleTopK), then the best k positive rescored values. A row whose
 * rescoring one Sae would find non-finite is refused as it refuses it. Plain loops over typed
 * arrays: at batch 1 this merge is on the pool's critical path.
 */
export function mergeTopKCandidates(parts: Candidates[], k: number, dSae: number): SparseCodes {
  const rows = parts[0]!.rows, P = parts.length;
  const C = rescoreCandidates(k, dSae);
  const f = Math.fround;
  const plane = parts[0]!.h1 !== undefined;
  const rowOffsets = new Uint32Array(rows + 1);
  const indices = new Uint32Array(rows * k), values = new Float32Array(rows * k);
  // The row's candidates in int8 order (their slice and position there), then the best k kept so far, in order.
  const slice = new Int32Array(C), pos = new Int32Array(C), low = new Float32Array(C), sorted = new Float32Array(C);
  const bestJ = new Uint32Array(k), bestH = new Float32Array(k);
  const at = new Int32Array(P), end = new Int32Array(P);
  // One Sae refuses the first row whose pre-activations (any slice's) or rescored values are not finite.
  let overflowed = rows;
  for (const p of parts) if (p.overflowRow >= 0 && p.overflowRow < overflowed) overflowed = p.overflowRow;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    if (r === overflowed) overflow(r, "the encoder");
    for (let p = 0; p < P; p++) end[p] = (at[p] = r * parts[p]!.c) + parts[p]!.count[r]!;
    let n = 0;
    for (; n < C; n++) {
      let best = -1, bv = 0, bi = 0;
      for (let p = 0; p < P; p++) {
        const e = at[p]!;
        if (e >= end[p]!) continue;
        const v = parts[p]!.value[e]!, i = parts[p]!.index[e]!;
        if (best < 0 || before(v, i, bv, bi)) (best = p), (bv = v), (bi = i);
      }
      if (best < 0) break;
      slice[n] = best;
      pos[n] = at[best]!++;
    }
    const cut = plane && n > k;
    let t = 0;
    if (cut) {
      // Stage 1: a candidate whose int8-weight value plus its bound is below T, the k-th largest
      // value minus bound, cannot be in the top k (the same f32 operations as the kernel's).
      for (let c = 0; c < n; c++) {
        const h1 = parts[slice[c]!]!.h1![pos[c]!]!;
        if (!Number.isFinite(h1)) overflow(r, "the encoder");
        low[c] = h1 - parts[slice[c]!]!.b![pos[c]!]!;
      }
      sorted.set(low.subarray(0, n));
      t = sorted.subarray(0, n).sort()[n - k]!;
    }
    let kept = 0;
    for (let c = 0; c < n; c++) {
      const p = parts[slice[c]!]!, e = pos[c]!;
      if (cut && !(f(low[c]! + f(2 * p.b![e]!)) >= t)) continue;
      const h = p.h[e]!, j = p.index[e]!;
      if (!Number.isFinite(h)) overflow(r, "the encoder");
      if (!(h > 0) || (kept === k && !before(h, j, bestH[k - 1]!, bestJ[k - 1]!))) continue;
      // Insertion into the best k: value descending, ties by lower index.
      let q = kept < k ? kept++ : k - 1;
      for (; q > 0 && before(h, j, bestH[q - 1]!, bestJ[q - 1]!); q--) (bestH[q] = bestH[q - 1]!), (bestJ[q] = bestJ[q - 1]!);
      bestH[q] = h;
      bestJ[q] = j;
    }
    indices.set(bestJ.subarray(0, kept), total);
    values.set(bestH.subarray(0, kept), total);
    rowOffsets[r + 1] = total += kept;
  }
  const { rowNorm } = parts[0]!;
  return { rows, dSae, rowOffsets, indices: indices.slice(0, total), values: values.slice(0, total), ...(rowNorm ? { rowNorm: rowNorm.slice() } : {}) }; // rowNorm: out of the slice's shared buffer
}
