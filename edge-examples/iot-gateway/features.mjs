// What the SAE sees of a window of W samples × C channels. Standardizing each window by its own
// statistics would hide a stuck sensor (a flat window) and a noise burst, so the features keep
// level and spread, measured against the stream's learned normal:
// - every sample, minus the learned channel means and whitened with the learned channel
//   covariance (Cholesky): level, shape, and a channel leaving its usual relation to the others;
// - per channel, the log of the window's median absolute first difference over the learned one,
//   centred and scaled by its learned spread: a flat (stuck) window falls far below, a noisy one
//   far above, and a normal step (one large difference) leaves it where it was.
// The statistics are plain numbers (`norm`), stored in the model's provenance and adapted to
// slow drift by the detector (adapt below).

const RIDGE = 1e-3; // keeps the whitening finite when two channels move as one
const FLAT = Math.log(1e-3); // the log-ratio of a window that does not move at all
const LIMIT = 1e15; // a feature beyond this is anomalous anyway, and float32 and its square stay finite
const bounded = (v) => Math.max(-LIMIT, Math.min(LIMIT, v));

export const featureSize = (W, C) => W * C + C;

/** Learns the normal's statistics from windows (Float32Array W × C each). */
export function learnNorm(windows, W, C) {
  const n = windows.length;
  // Channel statistics over the newest sample of each window (each sample once, but the first W − 1).
  const mean = new Array(C).fill(0);
  for (const w of windows) for (let c = 0; c < C; c++) mean[c] += w[(W - 1) * C + c] / n;
  const cov = Array.from({ length: C }, () => new Array(C).fill(0));
  for (const w of windows) {
    for (let a = 0; a < C; a++) for (let b = 0; b <= a; b++) cov[a][b] += ((w[(W - 1) * C + a] - mean[a]) * (w[(W - 1) * C + b] - mean[b])) / n;
  }
  const std = mean.map((_, c) => Math.max(Math.sqrt(cov[c][c]), 1e-6));
  const norm = { window: W, mean, std, corr: correlation(cov, std), step: new Array(C).fill(0), spread: [], spreadScale: [] };
  // The typical first difference (geometric mean over windows), then the spread of its log-ratio.
  for (const w of windows) for (let c = 0; c < C; c++) norm.step[c] += Math.log(Math.max(medianStep(w, W, C, c), 1e-6 * std[c])) / n;
  norm.step = norm.step.map(Math.exp);
  const ratios = windows.map((w) => norm.step.map((s, c) => logRatio(medianStep(w, W, C, c), s)));
  norm.spread = norm.step.map((_, c) => ratios.reduce((a, r) => a + r[c], 0) / n);
  norm.spreadScale = norm.step.map((_, c) => Math.max(Math.sqrt(ratios.reduce((a, r) => a + (r[c] - norm.spread[c]) ** 2, 0) / n), 0.05));
  return norm;
}

/** Why stored statistics cannot make features for `dIn` inputs, or null. */
export function normProblem(m, dIn) {
  const C = Array.isArray(m.mean) ? m.mean.length : 0;
  if (!(Number.isInteger(m.window) && m.window > 1 && C > 0)) return "it has no window/mean/std in its provenance";
  const lists = [m.std, m.step, m.spread, m.spreadScale];
  if (!lists.every((l) => Array.isArray(l) && l.length === C) || !(Array.isArray(m.corr) && m.corr.length === C * C)) return "its feature statistics are incomplete";
  if (![...m.mean, ...m.corr, ...lists.flat()].every(Number.isFinite) || ![m.std, m.step, m.spreadScale].flat().every((s) => s > 0)) return "its feature statistics are not finite, or a scale is not positive";
  if (featureSize(m.window, C) !== dIn) return `its window ${m.window} × ${C} channels does not give its input size ${dIn}`;
  return null;
}

/** The features of windows (each Float32Array W × C), as rows of one Float32Array. */
export function features(windows, norm) {
  const W = norm.window, C = norm.mean.length, d = featureSize(W, C);
  const L = cholesky(norm.corr, C);
  const out = new Float32Array(windows.length * d);
  const z = new Float64Array(C);
  windows.forEach((w, r) => {
    const o = r * d;
    for (let t = 0; t < W; t++) {
      for (let c = 0; c < C; c++) z[c] = (w[t * C + c] - norm.mean[c]) / norm.std[c];
      // Forward substitution: u = L⁻¹ z.
      for (let c = 0; c < C; c++) {
        let s = z[c];
        for (let k = 0; k < c; k++) s -= L[c * C + k] * out[o + t * C + k];
        out[o + t * C + c] = bounded(s / L[c * C + c]);
      }
    }
    for (let c = 0; c < C; c++) out[o + W * C + c] = bounded((logRatio(medianStep(w, W, C, c), norm.step[c]) - norm.spread[c]) / norm.spreadScale[c]);
  });
  return out;
}

/**
 * Follows slow drift: moves the channel means and covariance a step `rate` towards the window's
 * newest sample (an exponentially weighted average over about 1 / rate windows).
 */
export function adapt(norm, window, rate) {
  const W = norm.window, C = norm.mean.length, { mean, std, corr } = norm;
  const e = Array.from({ length: C }, (_, c) => window[(W - 1) * C + c] - mean[c]);
  const cov = (a, b) => (1 - rate) * corr[a * C + b] * std[a] * std[b] + rate * e[a] * e[b];
  const variance = e.map((_, c) => cov(c, c));
  for (let a = 0; a < C; a++) for (let b = 0; b < a; b++) corr[a * C + b] = corr[b * C + a] = cov(a, b) / Math.sqrt(variance[a] * variance[b]);
  for (let c = 0; c < C; c++) {
    mean[c] += rate * e[c];
    std[c] = Math.max(Math.sqrt(variance[c]), 1e-6);
  }
}

function medianStep(w, W, C, c) {
  const d = new Float64Array(W - 1);
  for (let t = 1; t < W; t++) d[t - 1] = Math.abs(w[t * C + c] - w[(t - 1) * C + c]);
  d.sort();
  return W % 2 ? (d[(W - 3) / 2] + d[(W - 1) / 2]) / 2 : d[(W - 2) / 2];
}

const logRatio = (v, typical) => Math.max(Math.log(v / typical), FLAT);

function correlation(cov, std) {
  const C = std.length, r = new Array(C * C).fill(0);
  for (let a = 0; a < C; a++) for (let b = 0; b <= a; b++) r[a * C + b] = r[b * C + a] = a === b ? 1 : cov[a][b] / (std[a] * std[b]);
  return r;
}

/** Lower-triangular L with L Lᵀ = corr + RIDGE·I (row-major C × C). */
function cholesky(corr, C) {
  const L = new Float64Array(C * C);
  for (let i = 0; i < C; i++) {
    for (let j = 0; j <= i; j++) {
      let s = corr[i * C + j] + (i === j ? RIDGE : 0);
      for (let k = 0; k < j; k++) s -= L[i * C + k] * L[j * C + k];
      L[i * C + j] = i === j ? Math.sqrt(Math.max(s, RIDGE)) : s / L[j * C + j];
    }
  }
  return L;
}
