// Batch encoding against each row encoded alone, bit for bit (indices and value bits), for the
// multi-row kernels' tests; shared by the vitest files and the Node 22 children they start.
const bits = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

/** The first difference between sae.encode(x[0..n)) and encoding each row alone, for each n, or null. */
export function rowsAloneMismatch(sae, x, dIn, batches) {
  const alone = [];
  const most = Math.max(...batches);
  for (let r = 0; r < most; r++) {
    const c = sae.encode(x.subarray(r * dIn, (r + 1) * dIn));
    alone.push([bits(c.indices), bits(c.values)]);
  }
  for (const n of batches) {
    const c = sae.encode(x.subarray(0, n * dIn));
    for (let r = 0; r < n; r++) {
      const [a, b] = [c.rowOffsets[r], c.rowOffsets[r + 1]];
      const got = [bits(c.indices.subarray(a, b)), bits(c.values.subarray(a, b))];
      if (got[0] !== alone[r][0] || got[1] !== alone[r][1]) return `batch ${n} row ${r}: ${got.join("/")} alone ${alone[r].join("/")}`;
    }
  }
  return null;
}
