// PCA reconstruction baseline for anomaly scoring: the top-q principal
// directions of the training rows (subspace iteration on the covariance, float64);
// score = squared distance to the mean-centred subspace.
export interface Pca {
  mean: Float64Array;
  /** q orthonormal rows of length d. */
  components: Float64Array[];
}

export function fitPca(x: Float32Array, d: number, q: number, iterations = 60, seed = 1): Pca {
  const n = x.length / d;
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += x[r * d + i] / n;
  // Dimensions where every row equals the mean (blank image borders) add exact zeros to the
  // covariance: leaving them out gives the same components, a (d'/d)² fraction of the work.
  const varies = new Uint8Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) if (x[r * d + i] - mean[i] !== 0) varies[i] = 1;
  const dims = Uint32Array.from(varies.keys()).filter((i) => varies[i]);
  const m = dims.length;
  const cov = new Float64Array(m * m);
  const c = new Float64Array(m);
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < m; a++) c[a] = x[r * d + dims[a]] - mean[dims[a]];
    for (let a = 0; a < m; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      const row = a * m;
      for (let b = 0; b < m; b++) cov[row + b] += ca * c[b];
    }
  }
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5;
  // Drawn over all d dimensions, as the seed's sequence was before the dimensions were dropped.
  let basis = Array.from({ length: q }, () => {
    const full = Float64Array.from({ length: d }, rand);
    return Float64Array.from(dims, (i) => full[i]);
  });
  for (let it = 0; it < iterations; it++) {
    basis = basis.map((b) => {
      const out = new Float64Array(m);
      for (let a = 0; a < m; a++) {
        let acc = 0;
        const row = a * m;
        for (let j = 0; j < m; j++) acc += cov[row + j] * b[j];
        out[a] = acc;
      }
      return out;
    });
    orthonormalize(basis);
  }
  const components = basis.map((b) => {
    const full = new Float64Array(d);
    dims.forEach((i, a) => (full[i] = b[a]));
    return full;
  });
  return { mean, components };
}

function orthonormalize(v: Float64Array[]): void {
  for (let a = 0; a < v.length; a++) {
    for (let b = 0; b < a; b++) {
      let p = 0;
      for (let i = 0; i < v[a].length; i++) p += v[a][i] * v[b][i];
      for (let i = 0; i < v[a].length; i++) v[a][i] -= p * v[b][i];
    }
    let nrm = 0;
    for (const x of v[a]) nrm += x * x;
    nrm = Math.sqrt(nrm) || 1;
    for (let i = 0; i < v[a].length; i++) v[a][i] /= nrm;
  }
}

/** Squared reconstruction error of each row from the PCA subspace. */
export function pcaScores(p: Pca, x: Float32Array): Float64Array {
  const d = p.mean.length;
  const n = x.length / d;
  const out = new Float64Array(n);
  const c = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    let total = 0;
    for (let i = 0; i < d; i++) {
      c[i] = x[r * d + i] - p.mean[i];
      total += c[i] * c[i];
    }
    let kept = 0;
    for (const comp of p.components) {
      let proj = 0;
      for (let i = 0; i < d; i++) proj += comp[i] * c[i];
      kept += proj * proj;
    }
    out[r] = Math.max(0, total - kept);
  }
  return out;
}
