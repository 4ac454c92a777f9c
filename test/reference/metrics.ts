// Quality metrics for comparing encoders and reconstructions.

/** Sum over rows of |reference ∩ got| / sum of |reference| (1 when the reference is empty everywhere). */
export function activeSetRecall(reference: readonly (readonly number[])[], got: readonly (readonly number[])[]): number {
  let hit = 0, total = 0;
  for (let r = 0; r < reference.length; r++) {
    const g = new Set(got[r]);
    for (const j of reference[r]) if (g.has(j)) hit++;
    total += reference[r].length;
  }
  return total === 0 ? 1 : hit / total;
}

/** Fraction of variance unexplained: sum ||x - x̂||² / sum ||x - mean(x)||² (mean over rows, per dimension). */
export function fvu(x: ArrayLike<number>, xhat: ArrayLike<number>, n: number, d: number): number {
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += x[r * d + i];
  for (let i = 0; i < d; i++) mean[i] /= n;
  let err = 0, vari = 0;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      const xi = x[r * d + i];
      err += (xi - xhat[r * d + i]) ** 2;
      vari += (xi - mean[i]) ** 2;
    }
  }
  return err / vari;
}

/** Largest |a - b| / tol[i] over the arrays (<= 1 means within bounds) and where it happens. */
export function worstRatio(got: ArrayLike<number>, want: ArrayLike<number>, tol: ArrayLike<number>): { ratio: number; at: number } {
  let ratio = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i] - want[i]) / tol[i];
    if (!(r <= ratio)) {
      ratio = r;
      at = i;
      if (Number.isNaN(r)) break;
    }
  }
  return { ratio, at };
}
