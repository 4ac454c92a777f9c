// What the encoder does with each tile of pre-activations: store them densely
// (preact), or pass those above the activation's bar to the selection.
import { Selection, selectPush } from "./select";
import { RowStats } from "./quantize_x";
import { rescoreLatent, rescoreWeightSum, rescoreWeightValue, addResidualSums, rescorePlaneSum, rescoreResidualValue } from "./rescore_i8_1x16";
import { mp, M_ENC_QERR, M_ENC_RESID, M_ENC_RERR } from "./model";

export const OUT_PREACT: i32 = 0;
export const OUT_SELECT: i32 = 1;

// The epilogue of the row being encoded: a workspace slot (workspace.ts) the GEMV kernels receive.
@unmanaged export class Epilogue {
  sel: Selection;     // where OUT_SELECT candidates go
  mode: i32;
  dense: usize;       // f32[d_sae] row (OUT_PREACT)
  dSae: i32;
  thresh: usize;      // per-latent thresholds (JumpReLU) or 0
  magScale: usize;    // gated: per-latent magnitude scale and bias, or 0
  magBias: usize;
  // GroupMax: group size (0 = off), the end of the current group, and its best two so far.
  gmSize: i32;
  gmEnd: i32;
  gmBest: f32;
  gmBestJ: i32;
  gmSecond: f32;
  gmSecondJ: i32;
  // int8 rescoring of every latent that could be active (0 = off): the model, the row's 15-bit
  // activations z, its statistics (s_x, ‖y‖), the per-latent bounds per unit of s_x and, with a
  // residual plane, their weight terms (else 0).
  rm: usize;
  rz: usize;
  row: RowStats;
  qerr: usize;
  rerr: usize;
  // With a residual plane: latents waiting for their plane sum (stage 2), the count and where
  // they wait (PENDING_CAP i64 weight sums, then as many i32 latents).
  pend: usize;
  pendCount: i32;
  // Set when a pre-activation of the row is not finite (float32 overflow), and the first
  // such row of the current call (or -1), which the host reads with overflow_row(ws).
  overflow: bool;
  overflowRow: i32;
}

export function epilogueBegin(e: Epilogue, sel: Selection, mode: i32, dense: usize, dSae: i32, thresh: usize, magScale: usize = 0, magBias: usize = 0, groupSize: i32 = 0): void {
  if (!ASC_NO_ASSERT) assert(dSae > 0, "epilogue needs d_sae > 0");
  if (!ASC_NO_ASSERT) assert(mode != OUT_PREACT || (dense != 0 && (dense & 3) == 0), "dense output must be 4-byte aligned");
  if (!ASC_NO_ASSERT) assert((thresh & 15) == 0 && (magScale & 15) == 0 && (magBias & 15) == 0, "per-latent vectors must be 16-byte aligned");
  if (!ASC_NO_ASSERT) assert(groupSize >= 0 && (groupSize == 0 || dSae % groupSize == 0), "GroupMax groups must divide d_sae");
  e.sel = sel;
  e.gmSize = groupSize;
  e.gmEnd = groupSize;
  groupReset(e);
  e.rm = 0;
  e.mode = mode;
  e.dense = dense;
  e.dSae = dSae;
  e.thresh = thresh;
  e.magScale = magScale;
  e.magBias = magBias;
  e.overflow = false;
}

// Turns on rescoring for this row (int8 models with bounds): z is filled by
// prepareRow before the GEMV reaches the epilogue.
export function epilogueRescoring(e: Epilogue, m: usize, z: usize, row: RowStats, pend: usize): void {
  if (!ASC_NO_ASSERT) assert((pend & 7) == 0, "the pending latents must be 8-byte aligned");
  e.qerr = mp(m, M_ENC_QERR);
  e.rerr = mp(m, M_ENC_RESID) ? mp(m, M_ENC_RERR) : 0;
  e.rm = e.qerr ? m : 0;
  e.rz = z;
  e.row = row;
  e.pend = pend;
  e.pendCount = 0;
}

// How many latents wait for their residual plane at most; then they are finished in one go.
export const PENDING_CAP: i32 = 64;
export function pendingBytes(): usize {
  return <usize>PENDING_CAP * 12;
}

// Latent j's rescoring bound for this row: s_x · e_j, or with a residual plane s_x · (e_j + v_j · ‖y‖).
@inline function boundOf(e: Epilogue, j: i32): f32 {
  const q = load<f32>(e.qerr + (<usize>j << 2));
  if (!e.rerr) return e.row.xScale * q;
  return e.row.xScale * (q + load<f32>(e.rerr + (<usize>j << 2)) * e.row.yNorm);
}
// Latent j's weight-rounding bound for this row, s_x · v_j · ‖y‖: how far its int8-weight value
// (stage 1) can be from its plane value.
@inline export function weightBound(rerr: usize, row: RowStats, j: i32): f32 {
  return row.xScale * (load<f32>(rerr + (<usize>j << 2)) * row.yNorm);
}
function rescoreAt(e: Epilogue, j: i32): f32 {
  const h = rescoreLatent(e.rm, e.rz, e.row.xScale, j);
  epilogueCheck(e, h);
  return h;
}

@inline function barOf(e: Epilogue, j: i32): f32 {
  const thr = e.sel.thr;
  return e.thresh ? max(load<f32>(e.thresh + (<usize>j << 2)), thr) : thr;
}

// A value computed outside the tiles (rescoring) that must be finite too.
export function epilogueCheck(e: Epilogue, h: f32): void {
  if (h - h != 0) e.overflow = true;
}

// One latent (scalar builds and tails).
@inline export function epilogue1(e: Epilogue, j: i32, h: f32): void {
  if (h - h != 0) e.overflow = true;
  if (e.mode == OUT_PREACT) {
    if (j < e.dSae) store<f32>(e.dense + (<usize>j << 2), h);
    return;
  }
  if (e.gmSize) {
    if (j >= e.dSae) return;
    if (j >= e.gmEnd) groupFlush(e);
    if (h > e.gmBest) {
      e.gmSecond = e.gmBest;
      e.gmSecondJ = e.gmBestJ;
      e.gmBest = h;
      e.gmBestJ = j;
    } else if (h > e.gmSecond) {
      e.gmSecond = h;
      e.gmSecondJ = j;
    }
    return;
  }
  if (j >= e.dSae) return;
  if (e.rm) rescoredCandidate(e, j, h, barOf(e, j));
  else if (h > barOf(e, j)) activate(e, j, h);
}

// h passed the bar: a code (gated: if its magnitude is positive).
@inline function activate(e: Epilogue, j: i32, h: f32): void {
  if (e.magScale) {
    const off = <usize>j << 2;
    const v = load<f32>(e.magScale + off) * h + load<f32>(e.magBias + off);
    if (v > 0) selectPush(e.sel, j, v);
  } else {
    selectPush(e.sel, j, h);
  }
}

// With rescoring: every int8 value above the bar minus its bound could be active, so it is replaced
// by its rescored value, which decides and values it (gated: the magnitude too). Latents below are
// decided by the 7-bit pass alone.
function rescoredCandidate(e: Epilogue, j: i32, h: f32, bar: f32): void {
  if (!(h > bar - boundOf(e, j))) return;
  if (e.rerr) {
    pendOrDrop(e, j, bar);
    return;
  }
  h = rescoreAt(e, j);
  if (h > bar) activate(e, j, h);
}

// With a residual plane, in two stages (docs/kernels.md, "Residual plane"). Stage 1 sums the int8
// weights against z while the GEMV has the latent's tile in cache; that value differs from the
// plane's only by the weights' rounding, within s_x · v_j · ‖y‖, so a latent below its bar minus that
// cannot be active and never reads its plane row. The others wait with their sum; stage 2 reads
// their plane rows together, after the GEMV has moved on, and decides them as rescoreLatent would.
function pendOrDrop(e: Epilogue, j: i32, bar: f32): void {
  const s = rescoreWeightSum(e.rm, e.rz, j);
  const h = rescoreWeightValue(e.rm, j, s, e.row.xScale);
  epilogueCheck(e, h);
  if (!(h > bar - weightBound(e.rerr, e.row, j))) return;
  if (e.pendCount == PENDING_CAP) finishPending(e);
  const c = <usize>e.pendCount;
  e.pendCount = e.pendCount + 1;
  store<i64>(e.pend + (c << 3), s);
  store<i32>(e.pend + (<usize>PENDING_CAP << 3) + (c << 2), j);
}
function finishPending(e: Epilogue): void {
  const n = e.pendCount, js = e.pend + (<usize>PENDING_CAP << 3);
  e.pendCount = 0;
  addResidualSums(e.rm, e.rz, js, e.pend, n);
  for (let c = 0; c < n; c++) {
    const j = load<i32>(js + (<usize>c << 2));
    const h = rescoreResidualValue(e.rm, j, load<i64>(e.pend + (<usize>c << 3)), e.row.xScale);
    epilogueCheck(e, h);
    if (h > barOf(e, j)) activate(e, j, h);
  }
}

// Four latents j0..j0+3 at once; only rare tiles with a candidate go lane by lane.
@inline export function epilogue4(e: Epilogue, j0: i32, h: v128): void {
  if (v128.any_true(f32x4.ne(f32x4.sub(h, h), f32x4.splat(0)))) e.overflow = true;
  if (e.mode == OUT_PREACT) {
    if (j0 + 4 <= e.dSae) {
      v128.store(e.dense + (<usize>j0 << 2), h);
    } else {
      epilogue1Preact(e, j0, h);
    }
    return;
  }
  if (e.gmSize) {
    // Every lane matters to its group's maximum.
    epilogue1(e, j0, f32x4.extract_lane(h, 0));
    epilogue1(e, j0 + 1, f32x4.extract_lane(h, 1));
    epilogue1(e, j0 + 2, f32x4.extract_lane(h, 2));
    epilogue1(e, j0 + 3, f32x4.extract_lane(h, 3));
    return;
  }
  const thr = f32x4.splat(e.sel.thr);
  let bar = e.thresh ? f32x4.max(v128.load(e.thresh + (<usize>j0 << 2)), thr) : thr;
  // The same f32 operations as rescoredCandidate's bar − bound, so no lane it would take is skipped.
  if (e.rm) {
    let d = v128.load(e.qerr + (<usize>j0 << 2));
    if (e.rerr) d = f32x4.add(d, f32x4.mul(v128.load(e.rerr + (<usize>j0 << 2)), f32x4.splat(e.row.yNorm)));
    bar = f32x4.sub(bar, f32x4.mul(f32x4.splat(e.row.xScale), d));
  }
  const pass = i32x4.bitmask(f32x4.gt(h, bar));
  if (!pass) return;
  // Only the lanes above the bar: the bar only rises while they are taken (a compaction), so a lane
  // below it now stays below in epilogue1, which decides the others as it would lane by lane.
  if (pass & 1) epilogue1(e, j0, f32x4.extract_lane(h, 0));
  if (pass & 2) epilogue1(e, j0 + 1, f32x4.extract_lane(h, 1));
  if (pass & 4) epilogue1(e, j0 + 2, f32x4.extract_lane(h, 2));
  if (pass & 8) epilogue1(e, j0 + 3, f32x4.extract_lane(h, 3));
}

// The last, partial tile of a dense row: only lanes below d_sae are stored.
function epilogue1Preact(e: Epilogue, j0: i32, h: v128): void {
  storeLane(e, j0, f32x4.extract_lane(h, 0));
  storeLane(e, j0 + 1, f32x4.extract_lane(h, 1));
  storeLane(e, j0 + 2, f32x4.extract_lane(h, 2));
  storeLane(e, j0 + 3, f32x4.extract_lane(h, 3));
}
@inline function storeLane(e: Epilogue, j: i32, h: f32): void {
  if (j < e.dSae) store<f32>(e.dense + (<usize>j << 2), h);
}

// Ends the current group: its best value, if positive, becomes a code. With rescoring, a best
// above minus its bound (it could be positive) is rescored, and so is the second when the two are
// within the sum of their bounds of each other (either may win).
function groupFlush(e: Epilogue): void {
  let best = e.gmBest, j = e.gmBestJ;
  const d = e.rm && j >= 0 ? boundOf(e, j) : 0;
  if (e.rm && j >= 0 && best > -d) {
    const j2 = e.gmSecondJ;
    const close = j2 >= 0 && best - e.gmSecond <= d + boundOf(e, j2);
    if (e.rerr) {
      groupTwoStage(e, j, close ? j2 : -1);
      best = e.gmBest;
      j = e.gmBestJ;
    } else if (close) {
      best = rescoreAt(e, j);
      const second = rescoreAt(e, j2);
      if (second > best || (second == best && j2 < j)) {
        best = second;
        j = j2;
      }
    } else {
      best = rescoreAt(e, j);
    }
  }
  if (j >= 0 && best > 0) selectPush(e.sel, j, best);
  groupReset(e);
  e.gmEnd += e.gmSize;
}
// A group's rescoring with a residual plane, in two stages as pendOrDrop: the int8-weight values
// of its best (and runner-up j2, or -1) first; the plane then for both if they are within the sum of
// their weight bounds of each other, else for the winner alone if it could be positive. Leaves the
// winner and its value in gmBest / gmBestJ.
function groupTwoStage(e: Epilogue, j: i32, j2: i32): void {
  let s = rescoreWeightSum(e.rm, e.rz, j);
  let h = rescoreWeightValue(e.rm, j, s, e.row.xScale);
  let b = weightBound(e.rerr, e.row, j);
  epilogueCheck(e, h);
  if (j2 >= 0) {
    const s2 = rescoreWeightSum(e.rm, e.rz, j2);
    const h2 = rescoreWeightValue(e.rm, j2, s2, e.row.xScale);
    const b2 = weightBound(e.rerr, e.row, j2);
    epilogueCheck(e, h2);
    if (abs(h - h2) <= b + b2) {
      h = planeValue(e, j, s);
      const p2 = planeValue(e, j2, s2);
      if (p2 > h || (p2 == h && j2 < j)) {
        h = p2;
        j = j2;
      }
      e.gmBest = h;
      e.gmBestJ = j;
      return;
    }
    if (h2 > h) {
      s = s2;
      h = h2;
      b = b2;
      j = j2;
    }
  }
  e.gmBest = h > -b ? planeValue(e, j, s) : h;
  e.gmBestJ = j;
}
@inline function planeValue(e: Epilogue, j: i32, s: i64): f32 {
  const h = rescoreResidualValue(e.rm, j, rescorePlaneSum(e.rm, e.rz, j, s), e.row.xScale);
  epilogueCheck(e, h);
  return h;
}
function groupReset(e: Epilogue): void {
  e.gmBest = -Infinity;
  e.gmBestJ = -1;
  e.gmSecond = -Infinity;
  e.gmSecondJ = -1;
}

// After the last tile of a row.
export function epilogueEnd(e: Epilogue): void {
  if (e.gmSize && e.mode == OUT_SELECT) groupFlush(e);
  if (e.rm && e.pendCount) finishPending(e);
}
