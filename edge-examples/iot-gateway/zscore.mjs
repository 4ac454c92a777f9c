// Baseline: rolling z-score. Each sample's score is the largest |x − mean| / std over its
// channels, mean and std taken over the `span` samples before it.
export function rollingZScores(samples, span = 60) {
  const C = samples[0].length;
  return samples.map((s, t) => {
    if (t < 2) return 0;
    const past = samples.slice(Math.max(0, t - span), t);
    let best = 0;
    for (let c = 0; c < C; c++) {
      const m = past.reduce((a, p) => a + p[c], 0) / past.length;
      const sd = Math.sqrt(past.reduce((a, p) => a + (p[c] - m) ** 2, 0) / past.length);
      best = Math.max(best, Math.abs(s[c] - m) / Math.max(sd, 1e-6));
    }
    return best;
  });
}
