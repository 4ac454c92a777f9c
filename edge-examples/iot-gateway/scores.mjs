// The detector's score of a window's features: the SAE's squared residual plus its code
// novelty (novelty.mjs), each divided by its 99th percentile on held-out normal windows, so
// neither drowns the other. On the synthetic faults (bench/anomaly/sensors.mjs) the sum beats
// either alone: the residual sees shapes the dictionary cannot build, the novelty strengths it
// never saw.
import { residualScores } from "sae-edge";
import { CodeNovelty } from "./novelty.mjs";

export const SCALE_QUANTILE = 0.99;

export class WindowScorer {
  /** sae: a loaded gateway model; p: what its provenance holds (the normal codes, and once calibrated the scales and threshold). */
  constructor(sae, p = sae.info.provenance) {
    this.sae = sae;
    this.novelty = new CodeNovelty(p.codes, sae.info.dSae);
    this.scales = p.scales ?? [1, 1];
    this.threshold = p.threshold;
  }

  /** Both parts, unscaled: { residual, novelty } per row of `rows` (features). */
  parts(rows) {
    const { codes, reconstruction } = this.sae.forward(rows); // one encode serves both (the residual equals sae.score's bit for bit)
    return { residual: residualScores(rows, reconstruction, this.sae.info.dIn, "raw"), novelty: this.novelty.score(codes) };
  }

  /** The combined score per row, with its parts. */
  scores(rows) {
    const { residual, novelty } = this.parts(rows);
    return { score: residual.map((r, i) => r / this.scales[0] + novelty[i] / this.scales[1]), residual, novelty };
  }
}

/** The q-quantile: the smallest value with at most a share 1 − q of `values` above it (the library's calibrate rule). */
export function quantile(values, q) {
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
