// A planted TopK SAE for the anomaly tests: d_sae random unit atoms, encoder = decoder = the
// atoms (k = 2), and rows that mix two atoms of one range at strengths in [1, 2] plus noise.
// Normal rows use one range of atoms, anomalies another the model reconstructs as well.
import type { Rng } from "../reference/rng.js";

export function atomDictionary(r: Rng, dIn: number, dSae: number) {
  const atoms = r.normals(dSae * dIn);
  for (let j = 0; j < dSae; j++) {
    let s = 0;
    for (let i = 0; i < dIn; i++) s += atoms[j * dIn + i] ** 2;
    for (let i = 0; i < dIn; i++) atoms[j * dIn + i] /= Math.sqrt(s);
  }
  const W_enc = new Float32Array(dIn * dSae);
  for (let j = 0; j < dSae; j++) for (let i = 0; i < dIn; i++) W_enc[i * dSae + j] = atoms[j * dIn + i];
  const dict = { architecture: "topk" as const, dIn, dSae, k: 2, applyBDecToInput: true, W_enc, b_enc: new Float32Array(dSae), W_dec: atoms, b_dec: new Float32Array(dIn) };
  /** n rows, each two atoms of from … from + span − 1, noise 0.05, plus `offset` on every value. */
  const rows = (n: number, from: number, span: number, offset = 0) => {
    const x = new Float32Array(n * dIn);
    for (let row = 0; row < n; row++) {
      for (let s = 0; s < 2; s++) {
        const j = from + r.int(span), a = r.uniform(1, 2);
        for (let i = 0; i < dIn; i++) x[row * dIn + i] += a * atoms[j * dIn + i];
      }
      for (let i = 0; i < dIn; i++) x[row * dIn + i] += 0.05 * r.normal() + offset;
    }
    return x;
  };
  return { atoms, dict, rows };
}
