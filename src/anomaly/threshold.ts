// Which score mode and threshold a scoring run uses, from what the caller asked for and the
// model's calibration ("auto" takes the calibration's threshold and mode).
import { fail } from "../base/errors.js";
import type { Calibration, ScoreMode } from "../model/spec.js";

export interface ScoringRequest {
  /** Flag rows scoring above this; "auto" = the calibration's threshold. */
  threshold?: "auto" | number;
  /** Default: the calibration's mode with "auto", else raw. */
  mode?: ScoreMode;
  /** Explanations need a threshold and a calibration (for latent densities). */
  explain?: boolean;
}

export interface Scoring {
  mode: ScoreMode;
  threshold?: number;
}

export function resolveScoring(request: ScoringRequest, calibration: Calibration | undefined): Scoring {
  const auto = request.threshold === "auto";
  if (auto && !calibration) fail("INVALID_ARGUMENT", 'threshold "auto" needs a calibrated model (sae-edge calibrate) or a calibration file');
  if (typeof request.threshold === "number" && !Number.isFinite(request.threshold)) fail("INVALID_ARGUMENT", `threshold must be a finite number, got ${request.threshold}`);
  const threshold = auto ? calibration!.threshold : (request.threshold as number | undefined);
  const mode = request.mode ?? (auto ? calibration!.mode : "raw");
  if (auto && mode !== calibration!.mode) fail("INVALID_ARGUMENT", `the calibration is for score mode ${calibration!.mode}, not ${mode}`);
  if (request.explain && (threshold === undefined || !calibration)) fail("INVALID_ARGUMENT", "explanations need a threshold and a calibration (for latent densities)");
  return { mode, threshold };
}

/**
 * The split-conformal threshold: the ⌈(n + 1)(1 − fpr)⌉-th smallest of n scores of held-out normal
 * rows, so a fresh normal row exceeds it with probability at most fpr (rows not used to learn the
 * scorer, exchangeable with those to come). With too few rows for the fpr it is their largest.
 */
export function conformalThreshold(heldOutScores: ArrayLike<number>, fpr: number): number {
  const n = heldOutScores.length;
  if (n < 1) fail("INPUT_SHAPE", "a threshold needs at least 1 held-out normal row");
  if (!(fpr > 0 && fpr < 1)) fail("INVALID_ARGUMENT", `fpr must be in (0, 1), got ${fpr}`);
  const sorted = Float64Array.from(heldOutScores).sort();
  return sorted[Math.min(n, Math.ceil((n + 1) * (1 - fpr))) - 1];
}
