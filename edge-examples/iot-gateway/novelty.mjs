// Code novelty: how far a window's sparse code is from the nearest code of a normal window.
// The residual alone misses an anomaly that is a scaled normal (a level between two usual
// ones, a level shift along a normal shape): the SAE rebuilds it with the same latents at
// other strengths. Its code, though, sits where no normal code is. The normal codes are
// stored in the model's provenance (k entries per learning window, a few tens of KiB).
import { packF32, unpackF32 } from "./f32.mjs";

/** The codes of `sae.forward(rows).codes`, as plain data for the provenance. */
export function packCodes(codes) {
  return { rows: codes.rows, offsets: packF32(Float32Array.from(codes.rowOffsets)), indices: packF32(Float32Array.from(codes.indices)), values: packF32(codes.values) };
}

/** Why stored normal codes are unusable for a model with dSae latents, or null. */
export function codesProblem(p, dSae) {
  try {
    const n = new CodeNovelty(p, dSae);
    return n.rows > 0 ? null : "it has no normal codes";
  } catch (e) {
    return `its normal codes are damaged (${e.message})`;
  }
}

export class CodeNovelty {
  constructor(p, dSae) {
    if (!p || typeof p !== "object" || !Number.isInteger(p.rows)) throw new Error("no codes");
    this.rows = p.rows;
    this.dSae = dSae;
    this.offsets = unpackF32(p.offsets);
    this.indices = unpackF32(p.indices);
    this.values = unpackF32(p.values);
    const o = this.offsets, nnz = this.indices.length;
    if (o.length !== this.rows + 1 || o[0] !== 0 || o[this.rows] !== nnz || this.values.length !== nnz) throw new Error("sizes do not match");
    for (let r = 0; r < this.rows; r++) if (!(o[r + 1] >= o[r])) throw new Error("offsets go back");
    if (!this.indices.every((j) => Number.isInteger(j) && j >= 0 && j < dSae) || !this.values.every(Number.isFinite)) throw new Error("an entry is out of range");
    this.norms = Float64Array.from({ length: this.rows }, (_, r) => {
      let s = 0;
      for (let e = o[r]; e < o[r + 1]; e++) s += this.values[e] ** 2;
      return s;
    });
  }

  /**
   * Squared distance of each row's code to its nearest normal code. `near(r)`, if given, is the
   * range [from, to) of normal codes row r may not match: for a learning window, itself and the
   * windows overlapping it, so that its novelty is what a fresh window's would be.
   */
  score(codes, near) {
    const out = new Float64Array(codes.rows), v = new Float64Array(this.dSae);
    const { offsets: o, indices, values, norms } = this;
    for (let r = 0; r < codes.rows; r++) {
      let vv = 0;
      for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) (v[codes.indices[e]] = codes.values[e], (vv += codes.values[e] ** 2));
      let best = Infinity;
      const [skipFrom, skipTo] = near?.(r) ?? [0, 0];
      for (let q = 0; q < this.rows; q++) {
        if (q >= skipFrom && q < skipTo) continue;
        let dot = 0;
        for (let e = o[q]; e < o[q + 1]; e++) dot += v[indices[e]] * values[e];
        best = Math.min(best, vv + norms[q] - 2 * dot);
      }
      out[r] = Math.max(0, best);
      for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) v[codes.indices[e]] = 0;
    }
    return out;
  }
}
