// What the encoder does with each tile of pre-activations: store them densely
// (preact), or pass those above the activation's bar to the selection.
import { selectPush, selThr } from "./select";

export const OUT_PREACT: i32 = 0;
export const OUT_SELECT: i32 = 1;

export let epiMode: i32 = OUT_SELECT;
export let epiDense: usize = 0;      // f32[d_sae] row (OUT_PREACT)
export let epiDSae: i32 = 0;
export let epiThresh: usize = 0;     // per-latent thresholds (JumpReLU) or 0
export let epiMagScale: usize = 0;   // gated: per-latent magnitude scale and bias, or 0
export let epiMagBias: usize = 0;
// GroupMax: group size (0 = off), the end of the current group, and its best so far.
let gmSize: i32 = 0;
let gmEnd: i32 = 0;
let gmBest: f32 = 0;
let gmBestJ: i32 = -1;
// Set when a pre-activation is not finite (float32 overflow): the host reports it.
export let epiOverflow: bool = false;

export function epilogueBegin(mode: i32, dense: usize, dSae: i32, thresh: usize, magScale: usize = 0, magBias: usize = 0, groupSize: i32 = 0): void {
  gmSize = groupSize;
  gmEnd = groupSize;
  gmBest = 0;
  gmBestJ = -1;
  epiMode = mode;
  epiDense = dense;
  epiDSae = dSae;
  epiThresh = thresh;
  epiMagScale = magScale;
  epiMagBias = magBias;
  epiOverflow = false;
}

@inline function barOf(j: i32): f32 {
  return epiThresh ? max(load<f32>(epiThresh + (<usize>j << 2)), selThr) : selThr;
}

// A value computed outside the tiles (rescoring) that must be finite too.
export function epilogueCheck(h: f32): void {
  if (h - h != 0) epiOverflow = true;
}

// One latent (scalar builds and tails).
@inline export function epilogue1(j: i32, h: f32): void {
  if (h - h != 0) epiOverflow = true;
  if (epiMode == OUT_PREACT) {
    if (j < epiDSae) store<f32>(epiDense + (<usize>j << 2), h);
    return;
  }
  if (gmSize) {
    if (j >= epiDSae) return;
    if (j >= gmEnd) groupFlush();
    if (h > gmBest) {
      gmBest = h;
      gmBestJ = j;
    }
    return;
  }
  if (h > barOf(j) && j < epiDSae) {
    if (epiMagScale) {
      const off = <usize>j << 2;
      const v = load<f32>(epiMagScale + off) * h + load<f32>(epiMagBias + off);
      if (v > 0) selectPush(j, v);
    } else {
      selectPush(j, h);
    }
  }
}

// Four latents j0..j0+3 at once; only rare tiles with a candidate go lane by lane.
@inline export function epilogue4(j0: i32, h: v128): void {
  if (v128.any_true(f32x4.ne(f32x4.sub(h, h), f32x4.splat(0)))) epiOverflow = true;
  if (epiMode == OUT_PREACT) {
    if (j0 + 4 <= epiDSae) {
      v128.store(epiDense + (<usize>j0 << 2), h);
    } else {
      epilogue1Preact(j0, h);
    }
    return;
  }
  if (gmSize) {
    // Every lane matters to its group's maximum.
    epilogue1(j0, f32x4.extract_lane(h, 0));
    epilogue1(j0 + 1, f32x4.extract_lane(h, 1));
    epilogue1(j0 + 2, f32x4.extract_lane(h, 2));
    epilogue1(j0 + 3, f32x4.extract_lane(h, 3));
    return;
  }
  const bar = epiThresh
    ? f32x4.max(v128.load(epiThresh + (<usize>j0 << 2)), f32x4.splat(selThr))
    : f32x4.splat(selThr);
  if (!v128.any_true(f32x4.gt(h, bar))) return;
  epilogue1(j0, f32x4.extract_lane(h, 0));
  epilogue1(j0 + 1, f32x4.extract_lane(h, 1));
  epilogue1(j0 + 2, f32x4.extract_lane(h, 2));
  epilogue1(j0 + 3, f32x4.extract_lane(h, 3));
}

// The last, partial tile of a dense row: only lanes below d_sae are stored.
function epilogue1Preact(j0: i32, h: v128): void {
  storeLane(j0, f32x4.extract_lane(h, 0));
  storeLane(j0 + 1, f32x4.extract_lane(h, 1));
  storeLane(j0 + 2, f32x4.extract_lane(h, 2));
  storeLane(j0 + 3, f32x4.extract_lane(h, 3));
}
@inline function storeLane(j: i32, h: f32): void {
  if (j < epiDSae) store<f32>(epiDense + (<usize>j << 2), h);
}

// Ends the current group: its best positive value becomes a code.
function groupFlush(): void {
  if (gmBestJ >= 0) selectPush(gmBestJ, gmBest);
  gmBest = 0;
  gmBestJ = -1;
  gmEnd += gmSize;
}

// After the last tile of a row.
export function epilogueEnd(): void {
  if (gmSize && epiMode == OUT_SELECT) groupFlush();
}
