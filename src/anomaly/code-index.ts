// Code novelty: how far a row's sparse code lies from the codes of normal rows. An inverted
// index over active latents gives each normal row's dot product with the query from the
// postings of the query's own latents; rows sharing no latent are at ‖q‖² + ‖n‖², so only the
// smallest-norm of them can be among the nearest.
import { fail } from "../base/errors.js";
import type { SparseCodes } from "../runtime/index.js";

export class NormalCodeIndex {
  readonly rows: number;
  private readonly postingStart: Uint32Array;
  private readonly postingRow: Uint32Array;
  private readonly postingValue: Float32Array;
  private readonly norm: Float64Array;
  /** Normal rows by squared code norm, ascending. */
  private readonly byNorm: Uint32Array;

  constructor(normal: SparseCodes) {
    const { rows, dSae, rowOffsets, indices, values } = normal;
    if (rows < 1) fail("INPUT_SHAPE", "a code index needs at least 1 normal row");
    this.rows = rows;
    const start = new Uint32Array(dSae + 1);
    for (let e = 0; e < indices.length; e++) start[indices[e] + 1]++;
    for (let j = 0; j < dSae; j++) start[j + 1] += start[j];
    const fill = start.slice(0, dSae);
    this.postingRow = new Uint32Array(indices.length);
    this.postingValue = new Float32Array(indices.length);
    this.norm = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      for (let e = rowOffsets[r]; e < rowOffsets[r + 1]; e++) {
        const p = fill[indices[e]]++;
        this.postingRow[p] = r;
        this.postingValue[p] = values[e];
        this.norm[r] += values[e] * values[e];
      }
    }
    this.postingStart = start;
    this.byNorm = Uint32Array.from(this.norm.keys()).sort((a, b) => this.norm[a] - this.norm[b] || a - b);
  }

  /**
   * Squared Euclidean distance from each code row to its k-th nearest normal code (k = 1: the nearest).
   * leaveOut[r], when given, is a normal row that query row r does not count (-1: none): scoring the
   * normal rows themselves, each against the others, as a fresh row would be.
   */
  novelty(codes: SparseCodes, k = 1, leaveOut?: Int32Array): Float64Array {
    const most = leaveOut ? this.rows - 1 : this.rows;
    if (!(Number.isInteger(k) && k >= 1 && k <= most)) fail("INVALID_ARGUMENT", `k must be an integer in [1, ${most}], got ${k}`);
    if (codes.dSae !== this.postingStart.length - 1) fail("INPUT_SHAPE", `codes have ${codes.dSae} latents, the index ${this.postingStart.length - 1}`);
    if (leaveOut && leaveOut.length !== codes.rows) fail("INPUT_SHAPE", `leaveOut has ${leaveOut.length} entries for ${codes.rows} code rows`);
    const dot = new Float64Array(this.rows);
    const touched = new Uint8Array(this.rows);
    const seen: number[] = [];
    const out = new Float64Array(codes.rows);
    const best = new Float64Array(k);
    for (let r = 0; r < codes.rows; r++) {
      let qn = 0;
      for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) {
        const j = codes.indices[e], v = codes.values[e];
        qn += v * v;
        for (let p = this.postingStart[j]; p < this.postingStart[j + 1]; p++) {
          const n = this.postingRow[p];
          if (!touched[n]) (touched[n] = 1), seen.push(n);
          dot[n] += v * this.postingValue[p];
        }
      }
      best.fill(Infinity);
      const offer = (d: number) => {
        if (d >= best[k - 1]) return;
        let i = k - 1;
        for (; i > 0 && best[i - 1] > d; i--) best[i] = best[i - 1];
        best[i] = d;
      };
      const skip = leaveOut ? leaveOut[r] : -1;
      for (const n of seen) if (n !== skip) offer(Math.max(0, qn + this.norm[n] - 2 * dot[n]));
      // Untouched rows, smallest norm first: the first k of them are all that can count.
      for (let i = 0, taken = 0; i < this.rows && taken < k; i++) {
        const n = this.byNorm[i];
        if (!touched[n] && n !== skip) offer(qn + this.norm[n]), taken++;
      }
      out[r] = best[k - 1];
      for (const n of seen) (touched[n] = 0), (dot[n] = 0);
      seen.length = 0;
    }
    return out;
  }
}
