// Detection metrics for anomaly scores (higher = more anomalous; label 1 = anomaly).
// Tied scores are one threshold: AUROC counts a tied (anomaly, normal) pair as
// half (Mann–Whitney with midranks), AUPRC steps once per distinct score.
import { fail } from "../base/errors.js";

export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number;
}

interface Groups {
  positives: number;
  negatives: number;
  /** Distinct scores, descending, with their positive and negative counts. */
  groups: { score: number; pos: number; neg: number }[];
}

function group(scores: ArrayLike<number>, labels: ArrayLike<number>): Groups {
  if (scores.length !== labels.length) fail("INPUT_SHAPE", `${scores.length} scores but ${labels.length} labels`);
  const order = Array.from({ length: scores.length }, (_, i) => i);
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) fail("INPUT_NONFINITE", `score ${i} is NaN`);
    if (labels[i] !== 0 && labels[i] !== 1) fail("INVALID_ARGUMENT", `label ${i} is ${labels[i]}, expected 0 or 1`);
  }
  order.sort((a, b) => scores[b] - scores[a]);
  const groups: Groups["groups"] = [];
  let positives = 0;
  for (const i of order) {
    const last = groups[groups.length - 1];
    const g = last && last.score === scores[i] ? last : (groups.push({ score: scores[i], pos: 0, neg: 0 }), groups[groups.length - 1]);
    if (labels[i] === 1) {
      g.pos++;
      positives++;
    } else g.neg++;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) fail("INVALID_ARGUMENT", `need both classes, got ${positives} anomalies and ${negatives} normal rows`);
  return { positives, negatives, groups };
}

/** Area under the ROC curve; ties count half. */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, negatives, groups } = group(scores, labels);
  let negAbove = 0;
  let wins = 0;
  for (const g of groups) {
    wins += g.pos * (negatives - negAbove - g.neg) + 0.5 * g.pos * g.neg;
    negAbove += g.neg;
  }
  return wins / (positives * negatives);
}

/** Average precision: Σ over distinct thresholds of (recall step) × precision. */
export function auprc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { positives, groups } = group(scores, labels);
  let tp = 0, fp = 0, ap = 0;
  for (const g of groups) {
    tp += g.pos;
    fp += g.neg;
    ap += (g.pos / positives) * (tp / (tp + fp));
  }
  return ap;
}

/** ROC curve from (0, 0) to (1, 1), one point per distinct score. */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocPoint[] {
  const { positives, negatives, groups } = group(scores, labels);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0, fp = 0;
  for (const g of groups) {
    tp += g.pos;
    fp += g.neg;
    points.push({ fpr: fp / negatives, tpr: tp / positives, threshold: g.score });
  }
  return points;
}
