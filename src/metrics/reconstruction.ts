// Reconstruction and sparsity metrics, accumulated over any number of batches
// in float64 (as SAELens' newest evals do): one implementation for the trainer,
// `sae-edge eval` and the library.
import type { SparseCodes } from "../runtime/index.js";

export interface ReconstructionMetrics {
  rows: number;
  /** 1 − E‖x−x̂‖² / (E‖x‖² − ‖E x‖²), SAELens' explained_variance (PR #665 definition). */
  explainedVariance: number;
  /** Mean over rows of 1 − ‖x−x̂‖² / ‖x − mean_batch(x)‖², SAELens' explained_variance_legacy (batch = each add() call). */
  explainedVarianceLegacy: number;
  /** Fraction of variance unexplained, Σ‖x−x̂‖² / Σ‖x − mean(x)‖² = 1 − explainedVariance. */
  fvu: number;
  /** Mean over rows of ‖x−x̂‖² (summed over dimensions). */
  mse: number;
  /** Mean cosine similarity of x and x̂ over rows where both are non-zero. */
  cosineSimilarity: number;
  /** Mean number of active latents per row. */
  l0: number;
  /** Latents that fired on at least one row, and on none. */
  aliveLatents: number;
  deadLatents: number;
  /** Fraction of rows on which each latent fired. */
  featureDensity: Float64Array;
}

const TINY = 1e-10;

export class ReconstructionMetricsAccumulator {
  readonly #dIn: number;
  readonly #sumX: Float64Array;
  readonly #fired: Float64Array;
  #rows = 0;
  #sumX2 = 0;
  #sumErr = 0;
  #sumCos = 0;
  #cosRows = 0;
  #sumLegacy = 0;
  #legacyRows = 0;
  #nnz = 0;

  constructor(dIn: number, dSae: number) {
    this.#dIn = dIn;
    this.#sumX = new Float64Array(dIn);
    this.#fired = new Float64Array(dSae);
  }

  /** Adds a batch: inputs and reconstructions (n × d_in) and, for sparsity metrics, their codes. */
  add(x: Float32Array, xhat: Float32Array, codes?: SparseCodes): void {
    const d = this.#dIn;
    const n = x.length / d;
    const batchMean = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) batchMean[i] += x[r * d + i] / n;
    for (let r = 0; r < n; r++) {
      let err = 0, x2 = 0, h2 = 0, dot = 0, centered = 0;
      for (let i = 0; i < d; i++) {
        const a = x[r * d + i], b = xhat[r * d + i];
        err += (a - b) ** 2;
        x2 += a * a;
        h2 += b * b;
        dot += a * b;
        centered += (a - batchMean[i]) ** 2;
        this.#sumX[i] += a;
      }
      this.#sumErr += err;
      this.#sumX2 += x2;
      if (x2 > 0 && h2 > 0) {
        this.#sumCos += dot / Math.sqrt(x2 * h2);
        this.#cosRows++;
      }
      if (centered > TINY) {
        this.#sumLegacy += 1 - err / centered;
        this.#legacyRows++;
      }
    }
    if (codes) {
      for (let e = 0; e < codes.indices.length; e++) {
        if (codes.values[e] !== 0) {
          this.#nnz++;
          this.#fired[codes.indices[e]]++;
        }
      }
    }
    this.#rows += n;
  }

  result(): ReconstructionMetrics {
    const n = this.#rows;
    let meanSq = 0;
    for (const s of this.#sumX) meanSq += (s / n) ** 2;
    const variance = this.#sumX2 / n - meanSq;
    const mse = this.#sumErr / n;
    const ev = variance < TINY ? (mse < TINY ? 1 : 0) : 1 - mse / variance;
    const density = this.#fired.map((f) => f / n);
    const alive = density.reduce((c, v) => c + (v > 0 ? 1 : 0), 0);
    return {
      rows: n,
      explainedVariance: ev,
      explainedVarianceLegacy: this.#legacyRows ? this.#sumLegacy / this.#legacyRows : 0,
      fvu: 1 - ev,
      mse,
      cosineSimilarity: this.#cosRows ? this.#sumCos / this.#cosRows : 0,
      l0: this.#nnz / n,
      aliveLatents: alive,
      deadLatents: density.length - alive,
      featureDensity: density,
    };
  }
}
