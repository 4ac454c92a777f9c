// Scores beyond the residual, learned from normal rows in two parts: the learn rows give the
// normal-code index, the latent densities and (mode "var") the residual variance; the held-out
// rows, which nothing was fitted on, give each score's scale for the combination and the
// thresholds, so the false-alert rate on fresh normal rows matches fpr.
import { fail } from "../base/errors.js";
import type { ScoreMode } from "../model/spec.js";
import type { Sae } from "../runtime/index.js";
import { NormalCodeIndex } from "./code-index.js";
import { type Grid, checkGrid, pooledResidual } from "./pooled-residual.js";
import { calibrate, residualScores } from "./scoring.js";
import { latentSurprise } from "./surprise.js";
import { conformalThreshold } from "./threshold.js";

export const METHODS = ["residual", "novelty", "surprise", "combined"] as const;
/** residual: reconstruction error; novelty: distance to the nearest normal codes; surprise: how rare the active latents are; combined: the three, standardized on held-out rows, averaged. */
export type Method = (typeof METHODS)[number];

export interface DetectorOptions {
  /** Target false-alert rate on fresh normal rows (default 0.01). */
  fpr?: number;
  /** The residual's mode (default "norm"); ignored with `grid`. */
  mode?: ScoreMode;
  /** Pool the residual over this grid (images: height × width, radius 1), see pooledResidual. */
  grid?: Grid;
  /** Novelty is the distance to the k-th nearest normal code (default 1). */
  neighbours?: number;
}

export interface Detector {
  /** Every method's score per row (higher = more anomalous). */
  scores(x: Float32Array): Record<Method, Float64Array>;
  /** Per method: flag rows scoring above it. */
  thresholds: Record<Method, number>;
  fpr: number;
}

type Parts = Record<Exclude<Method, "combined">, Float64Array>;

/** Learns the scores from `learn` normal rows and their scale and thresholds from `heldOut` normal rows (ideally rows the SAE was not trained on either). */
export function fitDetector(sae: Sae, normal: { learn: Float32Array; heldOut: Float32Array }, options: DetectorOptions = {}): Detector {
  const fpr = options.fpr ?? 0.01;
  const mode = options.mode ?? "norm";
  const k = options.neighbours ?? 1;
  const { dIn } = sae.info;
  if (options.grid) checkGrid(options.grid, dIn);
  if (normal.heldOut.length < dIn) fail("INPUT_SHAPE", "the detector needs at least 1 held-out normal row");
  const calibration = calibrate(sae, normal.learn, { mode: options.grid ? "raw" : mode, fpr });
  const index = new NormalCodeIndex(sae.encode(normal.learn));
  const parts = (x: Float32Array): Parts => {
    const { codes, reconstruction } = sae.forward(x);
    return {
      residual: options.grid ? pooledResidual(x, reconstruction, options.grid) : residualScores(x, reconstruction, dIn, mode, calibration.residualVariance),
      novelty: index.novelty(codes, k),
      surprise: latentSurprise(codes, calibration.density, calibration.rows),
    };
  };
  const held = parts(normal.heldOut);
  const scales = Object.fromEntries(Object.entries(held).map(([m, s]) => [m, logScale(s)])) as Record<keyof Parts, Scale>;
  const combine = (p: Parts): Float64Array => {
    const names = Object.keys(p) as (keyof Parts)[];
    return p.residual.map((_, r) => names.reduce((a, m) => a + standardize(p[m][r], scales[m]), 0) / names.length);
  };
  const scores = (x: Float32Array) => {
    const p = parts(x);
    return { ...p, combined: combine(p) };
  };
  const heldScores = { ...held, combined: combine(held) };
  const thresholds = Object.fromEntries(METHODS.map((m) => [m, conformalThreshold(heldScores[m], fpr)])) as Record<Method, number>;
  return { scores, thresholds, fpr };
}

// Scores are positive and skewed: standardized as log(1 + s / median) by the held-out rows' mean
// and spread, so a 0 (a code seen in the learn rows) stays finite.
interface Scale {
  median: number;
  mean: number;
  sd: number;
}

function logScale(s: Float64Array): Scale {
  const median = Float64Array.from(s).sort()[s.length >> 1] || 1;
  const logs = Array.from(s, (v) => Math.log1p(v / median));
  const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / logs.length) || 1;
  return { median, mean, sd };
}

function standardize(v: number, s: Scale): number {
  return (Math.log1p(v / s.median) - s.mean) / s.sd;
}
