// Baselines for the anomaly bench (not part of the library): each fit(train, d) learns from
// normal rows (row-major, d values per row) and returns score(rows) → Float64Array, higher =
// more anomalous.
import { fitPca, pcaScores } from "../../dist/demo.js";
import { rng } from "../lib/rng.mjs";

/** k-th nearest normal row, squared distance, for each k of `ks` from one pass: score(rows) → one Float64Array per k. */
export const knnMany = (ks) => (train, d) => (rows) => {
  const n = train.length / d, m = rows.length / d, kMax = Math.max(...ks);
  const norm = Float64Array.from({ length: n }, (_, q) => train.subarray(q * d, (q + 1) * d).reduce((a, v) => a + v * v, 0));
  const out = ks.map(() => new Float64Array(m));
  const best = new Float64Array(kMax);
  for (let r = 0; r < m; r++) {
    let rn = 0;
    for (let j = 0; j < d; j++) rn += rows[r * d + j] ** 2;
    best.fill(Infinity);
    for (let q = 0; q < n; q++) {
      let dot = 0;
      for (let j = 0, a = r * d, b = q * d; j < d; j++) dot += rows[a + j] * train[b + j];
      const s = Math.max(0, rn + norm[q] - 2 * dot);
      if (s < best[kMax - 1]) {
        let i = kMax - 1;
        for (; i > 0 && best[i - 1] > s; i--) best[i] = best[i - 1];
        best[i] = s;
      }
    }
    ks.forEach((k, i) => (out[i][r] = best[k - 1]));
  }
  return out;
};

/** k-th nearest normal row (squared distance). */
export const knn = (k) => (train, d) => {
  const score = knnMany([k])(train, d);
  return (rows) => score(rows)[0];
};

/**
 * IsolationForest (Liu, Ting and Zhou 2008): `trees` trees grown on samples of `psi` rows to depth
 * ⌈log₂ psi⌉, score 2^(−mean path length / c(psi)). Seeded; written here because the npm
 * implementations are unmaintained 0.x releases that draw from Math.random.
 */
export function isolationForest({ trees = 100, psi = 256, seed = 1 } = {}) {
  return (train, d) => {
    const rand = rng(seed).u, n = train.length / d, size = Math.min(psi, n), limit = Math.ceil(Math.log2(size));
    const c = (m) => (m > 2 ? 2 * (Math.log(m - 1) + 0.5772156649) - (2 * (m - 1)) / m : m === 2 ? 1 : 0);
    const grow = (idx, depth) => {
      if (depth >= limit || idx.length <= 1) return { size: idx.length };
      // A feature constant on these rows cannot split them: try a few others first.
      for (let tries = 0; tries < 16; tries++) {
        const j = Math.floor(rand() * d);
        let lo = Infinity, hi = -Infinity;
        for (const i of idx) (lo = Math.min(lo, train[i * d + j])), (hi = Math.max(hi, train[i * d + j]));
        if (lo === hi) continue;
        const split = lo + rand() * (hi - lo);
        return { j, split, left: grow(idx.filter((i) => train[i * d + j] < split), depth + 1), right: grow(idx.filter((i) => train[i * d + j] >= split), depth + 1) };
      }
      return { size: idx.length };
    };
    const forest = Array.from({ length: trees }, () => grow(Array.from({ length: size }, () => Math.floor(rand() * n)), 0));
    const path = (node, rows, r, depth) => (node.size !== undefined ? depth + c(node.size) : path(rows[r * d + node.j] < node.split ? node.left : node.right, rows, r, depth + 1));
    return (rows) => Float64Array.from({ length: rows.length / d }, (_, r) => 2 ** -(forest.reduce((a, t) => a + path(t, rows, r, 0), 0) / trees / c(size)));
  };
}

/** PCA residual with q components (the demo's subspace iteration), over ‖x‖² when `normalized`. */
export const pca = (q, normalized = false) => (train, d) => {
  const p = fitPca(train, d, q);
  return (rows) => {
    const s = pcaScores(p, rows);
    if (normalized) for (let r = 0; r < s.length; r++) s[r] /= rows.subarray(r * d, (r + 1) * d).reduce((a, v) => a + v * v, 0);
    return s;
  };
};

/** PCA residual with the fewest components that explain `share` of the variance (Jacobi eigenvectors: small d, e.g. sensor windows). */
export const pcaExplaining = (share) => (train, d) => {
  const n = train.length / d, mean = new Float64Array(d), A = new Float64Array(d * d), V = new Float64Array(d * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += train[r * d + i] / n;
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) A[i * d + j] += ((train[r * d + i] - mean[i]) * (train[r * d + j] - mean[j])) / n;
  for (let i = 0; i < d; i++) V[i * d + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        if (Math.abs(A[p * d + q]) < 1e-12) continue;
        const theta = (A[q * d + q] - A[p * d + p]) / (2 * A[p * d + q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1)), cs = 1 / Math.sqrt(t * t + 1), sn = t * cs;
        for (let k = 0; k < d; k++) {
          const akp = A[k * d + p], akq = A[k * d + q];
          (A[k * d + p] = cs * akp - sn * akq), (A[k * d + q] = sn * akp + cs * akq);
        }
        for (let k = 0; k < d; k++) {
          const apk = A[p * d + k], aqk = A[q * d + k];
          (A[p * d + k] = cs * apk - sn * aqk), (A[q * d + k] = sn * apk + cs * aqk);
        }
        for (let k = 0; k < d; k++) {
          const vkp = V[k * d + p], vkq = V[k * d + q];
          (V[k * d + p] = cs * vkp - sn * vkq), (V[k * d + q] = sn * vkp + cs * vkq);
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => A[b * d + b] - A[a * d + a]);
  const total = order.reduce((s, i) => s + Math.max(0, A[i * d + i]), 0);
  const kept = [];
  for (let s = 0; kept.length < d && s < share * total; ) (kept.push(order[kept.length]), (s += Math.max(0, A[kept.at(-1) * d + kept.at(-1)])));
  return (rows) => Float64Array.from({ length: rows.length / d }, (_, r) => {
    let all = 0, inside = 0;
    for (let i = 0; i < d; i++) all += (rows[r * d + i] - mean[i]) ** 2;
    for (const k of kept) {
      let p = 0;
      for (let i = 0; i < d; i++) p += (rows[r * d + i] - mean[i]) * V[i * d + k];
      inside += p * p;
    }
    return Math.max(0, all - inside);
  });
};
