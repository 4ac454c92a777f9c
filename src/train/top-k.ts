// Top-k selection for the trainer: the k largest values (ties: lower index
// first), by quickselect on an index array, O(n) on average.

/** Writes into `out` the indices (from `ids`, or 0..values.length) of the k largest values; returns the count. */
export function topKIndices(values: Float32Array, k: number, out: Int32Array, ids?: Int32Array, idsLength?: number): number {
  const n = ids ? idsLength ?? ids.length : values.length;
  const take = Math.min(k, n);
  if (take <= 0) return 0;
  const idx = scratch(n);
  for (let i = 0; i < n; i++) idx[i] = ids ? ids[i] : i;
  // a before b: larger value, or equal value and lower index.
  const before = (a: number, b: number) => values[a] > values[b] || (values[a] === values[b] && a < b);
  let lo = 0, hi = n - 1;
  const target = take - 1;
  while (lo < hi) {
    const p = idx[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (before(idx[i], p)) i++;
      while (before(p, idx[j])) j--;
      if (i <= j) {
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  for (let i = 0; i < take; i++) out[i] = idx[i];
  return take;
}

let buf = new Int32Array(0);
function scratch(n: number): Int32Array {
  if (buf.length < n) buf = new Int32Array(n);
  return buf;
}
