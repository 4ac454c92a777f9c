// Code novelty: how far a window's sparse code is from the nearest code of a normal window.
// The residual alone misses an anomaly that is a scaled normal (a level between two usual
// ones, a level shift along a normal shape): the SAE rebuilds it with the same latents at
// other strengths. Its code, though, sits where no normal code is. The normal codes are
// stored in the model's provenance (k entries per learning window, a few tens of KiB).
import { NormalCodeIndex } from "sae-edge";
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

/** The stored normal codes, checked, behind the package's inverted index (NormalCodeIndex). */
export class CodeNovelty {
  constructor(p, dSae) {
    if (!p || typeof p !== "object" || !Number.isInteger(p.rows)) throw new Error("no codes");
    this.rows = p.rows;
    const rowOffsets = unpackF32(p.offsets), indices = unpackF32(p.indices), values = unpackF32(p.values);
    const o = rowOffsets, nnz = indices.length;
    if (o.length !== this.rows + 1 || o[0] !== 0 || o[this.rows] !== nnz || values.length !== nnz) throw new Error("sizes do not match");
    for (let r = 0; r < this.rows; r++) if (!(o[r + 1] >= o[r])) throw new Error("offsets go back");
    if (!indices.every((j) => Number.isInteger(j) && j >= 0 && j < dSae) || !values.every(Number.isFinite)) throw new Error("an entry is out of range");
    if (this.rows > 0) this.index = new NormalCodeIndex({ rows: this.rows, dSae, rowOffsets, indices, values });
  }

  /** Squared distance of each row's code to its nearest normal code. */
  score(codes) {
    return this.index.novelty(codes);
  }
}
