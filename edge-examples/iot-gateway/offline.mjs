// The detector over a whole recorded series, offline (evaluate.mjs, the benchmark, the tests).
import { StreamDetector } from "./detector.mjs";

/**
 * Scores every window of `samples` (arrays of C values) after the first `learn` windows.
 * Returns { score, residual, novelty, threshold, thresholds, msPerWindow }: score[t] (and its two
 * parts) for the window ending at sample t (NaN while learning), the first model's threshold, the
 * threshold each window was judged by (models relearned with `relearn` have their own), and the
 * milliseconds spent per scored window (features and score).
 */
export async function scoreSeries(samples, opts) {
  const score = new Float64Array(samples.length).fill(NaN);
  const residual = new Float64Array(samples.length).fill(NaN), novelty = new Float64Array(samples.length).fill(NaN);
  const thresholds = new Float64Array(samples.length).fill(NaN);
  let threshold = NaN, failed = null, done, first = 0, scored = 0;
  const finished = new Promise((r) => (done = r));
  const det = new StreamDetector({
    ...opts,
    parts: true,
    onResult: (r) => {
      if (scored++ === 0) first = performance.now();
      score[r.seq] = r.score;
      thresholds[r.seq] = r.threshold;
      if (Number.isNaN(threshold)) threshold = r.threshold;
      residual[r.seq] = r.residual;
      novelty[r.seq] = r.novelty;
      if (r.seq === samples.length - 1) done();
    },
    onError: (e) => ((failed = e), done()),
    onModel: opts.onModel,
  });
  samples.forEach((s, t) => det.push(t, Float32Array.from(s)));
  await finished;
  det.dispose();
  if (failed) throw failed;
  // The windows held while the model trained are scored in one go, so this is the scoring alone.
  return { score, residual, novelty, threshold, thresholds, msPerWindow: (performance.now() - first) / Math.max(1, scored - 1) };
}
