// Anomaly scoring with an SAE: what its dictionary cannot reconstruct is unusual.
// Scores, calibration of a threshold on normal rows, and a per-row explanation.
import { fail } from "../base/errors.js";
import type { Calibration, ScoreMode } from "../model/spec.js";
import type { Sae } from "../runtime/index.js";

/** One score per row (higher = more anomalous). */
export function anomalyScores(sae: Sae, x: Float32Array, mode: ScoreMode, residualVariance?: ArrayLike<number>): Float64Array {
  if (mode === "raw") return sae.score(x).squared;
  if (mode === "norm") return sae.score(x).normalized;
  return residualScores(x, sae.forward(x).reconstruction, sae.info.dIn, mode, residualVariance);
}

// The same scores from a reconstruction already at hand, summed in float64 in input order as the
// kernel's score does, so the values agree with anomalyScores bit for bit.
export function residualScores(x: Float32Array, xhat: Float32Array, dIn: number, mode: ScoreMode, residualVariance?: ArrayLike<number>): Float64Array {
  if (mode === "var" && !residualVariance) fail("INVALID_ARGUMENT", 'score mode "var" needs a calibration (sae-edge calibrate --mode var)');
  const rows = x.length / dIn;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let sq = 0, nrm = 0;
    for (let i = 0; i < dIn; i++) {
      const xi = x[r * dIn + i];
      const e = xi - xhat[r * dIn + i];
      sq += mode === "var" ? (e * e) / residualVariance![i] : e * e;
      nrm += xi * xi;
    }
    out[r] = mode !== "norm" ? sq : nrm > 0 ? sq / nrm : sq === 0 ? 0 : Infinity;
  }
  return out;
}

export interface CalibrateOptions {
  /** Target false-positive rate on normal data (default 0.01). */
  fpr?: number;
  mode?: ScoreMode;
}

/** Learns a threshold (the empirical quantile of normal scores at 1 − fpr), latent densities, and for mode "var" the residual variance per dimension. */
export function calibrate(sae: Sae, normal: Float32Array, options: CalibrateOptions = {}): Calibration {
  const fpr = options.fpr ?? 0.01;
  const mode = options.mode ?? "raw";
  if (!(fpr > 0 && fpr < 1)) fail("INVALID_ARGUMENT", `fpr must be in (0, 1), got ${fpr}`);
  const { dIn, dSae } = sae.info;
  const { codes, reconstruction } = sae.forward(normal);
  const rows = codes.rows;
  if (rows < 2) fail("INPUT_SHAPE", "calibration needs at least 2 normal rows");
  // Counted, then divided once: a running sum of 1/rows drifts past 1 for a latent on every row.
  const count = new Uint32Array(dSae);
  for (let e = 0; e < codes.indices.length; e++) count[codes.indices[e]]++;
  const density = Array.from(count, (n) => n / rows);
  let residualVariance: number[] | undefined;
  if (mode === "var") {
    const mean = new Float64Array(dIn), sq = new Float64Array(dIn);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < dIn; i++) {
        const e = normal[r * dIn + i] - reconstruction[r * dIn + i];
        mean[i] += e / rows;
        sq[i] += (e * e) / rows;
      }
    }
    const v = Array.from(sq, (s, i) => Math.max(0, s - mean[i] ** 2));
    // A floor keeps dimensions that never vary (image borders) from dividing by zero.
    const floor = Math.max(1e-12, 1e-3 * (v.reduce((a, b) => a + b, 0) / dIn));
    residualVariance = v.map((x) => Math.max(x, floor));
  }
  const scores = residualScores(normal, reconstruction, dIn, mode, residualVariance).sort();
  // Smallest threshold with at most fpr of the normal rows above it.
  const threshold = scores[Math.min(rows - 1, Math.ceil((1 - fpr) * rows) - 1)];
  return { mode, threshold, fpr, rows, density, ...(residualVariance ? { residualVariance } : {}) };
}

export interface Explanation {
  /** Input dimensions with the largest squared residual: [dimension, x − x̂]. */
  dims: [number, number][];
  /** Active latents that are rare on normal data: [latent, value, density], rarest first. */
  rareLatents: [number, number, number][];
}

/** Why a row scored high: where the reconstruction missed, and which unusual features fired. */
export function explainRow(sae: Sae, row: Float32Array, calibration: Calibration, top = 5, rareDensity = 0.01): Explanation {
  const { codes, reconstruction } = sae.forward(row);
  const dims = Array.from(row, (v, i) => [i, v - reconstruction[i]] as [number, number])
    .sort((a, b) => b[1] ** 2 - a[1] ** 2 || a[0] - b[0])
    .slice(0, top);
  const rare: [number, number, number][] = [];
  for (let e = 0; e < codes.indices.length; e++) {
    const j = codes.indices[e];
    const d = calibration.density[j];
    if (d <= rareDensity) rare.push([j, codes.values[e], d]);
  }
  rare.sort((a, b) => a[2] - b[2] || b[1] - a[1]);
  return { dims, rareLatents: rare.slice(0, top) };
}
