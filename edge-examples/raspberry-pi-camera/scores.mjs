// A frame's per-patch scores, each against what the same position looked like while learning:
// - residual: the SAE's squared error on the standardized patch (a shape its dictionary cannot build);
// - novelty: the squared distance of the patch's sparse code to the nearest code this position
//   had in a learning frame (a shape the dictionary builds well but this position never showed:
//   the scene shifted, a texture from elsewhere, a blur);
// - contrast: how far the patch's relative contrast (patches.mjs) is from this position's usual one.
// Each part is divided by its position's typical value (its largest on the learning frames) plus
// the mean of those over all positions (so a position that never varied does not turn noise into
// huge ratios); a patch scores their sum. bench/anomaly/camera.mjs measures each part alone.
import { NormalCodeIndex } from "sae-edge";
import { packF32, unpackF32 } from "./f32.mjs";

const PARTS = ["residual", "novelty", "contrast"];

export class PatchScorer {
  /** stats: what toJSON() returned; throws on stats that do not fit `count` positions and `dSae` latents. */
  constructor(sae, count, stats) {
    this.sae = sae;
    this.count = count;
    this.stats = stats;
    this.typical = Object.fromEntries(PARTS.map((p) => [p, unpackF32(stats[p])]));
    this.usual = unpackF32(stats.usualContrast);
    for (const v of [...Object.values(this.typical), this.usual]) {
      if (v.length !== count || !v.every(Number.isFinite)) throw new Error(`its per-position statistics are not ${count} finite numbers`);
    }
    if (!Object.values(this.typical).every((v) => v.every((x) => x > 0))) throw new Error("a typical value is not positive");
    const c = stats.codes;
    this.frames = c.frames;
    this.offsets = unpackF32(c.offsets);
    this.indices = unpackF32(c.indices);
    this.values = unpackF32(c.values);
    const o = this.offsets, nnz = this.indices.length, dSae = sae.info.dSae;
    if (!Number.isInteger(this.frames) || this.frames < 2 || o.length !== this.frames * count + 1 || o[0] !== 0 || o.at(-1) !== nnz || this.values.length !== nnz) {
      throw new Error("its normal codes do not match the geometry");
    }
    if (!this.indices.every((j) => Number.isInteger(j) && j >= 0 && j < dSae) || !this.values.every(Number.isFinite)) throw new Error("a normal code is out of range");
    // One inverted index per position over the learning frames' codes there (row f = frame f).
    this.nearest = Array.from({ length: count }, (_, p) => new NormalCodeIndex(codesAt(this, p, dSae)));
  }

  /**
   * Learns the statistics from standardized learning frames ({ rows, contrast } each, patches.mjs):
   * their codes are the normal codes, and each part's typical value is its largest over these
   * frames (a frame's novelty measured against the other frames, as a fresh frame's would be).
   * The largest, not the mean: a position whose part is noisy (novelty on busy texture) then
   * counts less, and a quiet one shows a small change (bench/anomaly/camera.mjs measured both).
   */
  static learn(sae, count, frames) {
    const codes = sae.forward(concat(frames.map((f) => f.rows))).codes;
    const usual = new Float32Array(count);
    for (const f of frames) for (let p = 0; p < count; p++) usual[p] += f.contrast[p] / frames.length;
    const packed = { frames: frames.length, offsets: packF32(Float32Array.from(codes.rowOffsets)), indices: packF32(Float32Array.from(codes.indices)), values: packF32(codes.values) };
    const ones = packF32(new Float32Array(count).fill(1));
    const draft = new PatchScorer(sae, count, { codes: packed, usualContrast: packF32(usual), residual: ones, novelty: ones, contrast: ones });
    const most = Object.fromEntries(PARTS.map((p) => [p, new Float64Array(count)]));
    frames.forEach((f, i) => {
      const parts = draft.parts(f, i);
      for (const p of PARTS) for (let q = 0; q < count; q++) most[p][q] = Math.max(most[p][q], parts[p][q]);
    });
    const typical = (top) => {
      const overall = top.reduce((a, b) => a + b, 0) / count;
      return packF32(Float32Array.from(top, (m) => m + Math.max(overall, 1e-9)));
    };
    return new PatchScorer(sae, count, { codes: packed, usualContrast: packF32(usual), ...Object.fromEntries(PARTS.map((p) => [p, typical(most[p])])) });
  }

  /** The three parts, unscaled, per position; `self` is a learning frame's index, left out of its own novelty. */
  parts({ rows, contrast }, self = -1) {
    const { codes, reconstruction } = this.sae.forward(rows);
    const d = rows.length / this.count, residual = new Float64Array(this.count), novelty = new Float64Array(this.count), dev = new Float64Array(this.count);
    for (let p = 0; p < this.count; p++) {
      let s = 0;
      for (let j = p * d; j < (p + 1) * d; j++) s += (rows[j] - reconstruction[j]) ** 2;
      residual[p] = s;
      novelty[p] = this.nearest[p].novelty(oneRow(codes, p), 1, self >= 0 ? Int32Array.of(self) : undefined)[0];
      dev[p] = (contrast[p] - this.usual[p]) ** 2;
    }
    return { residual, novelty, contrast: dev };
  }

  /** Each patch's score (the scaled parts summed) and the frame's: the largest, at patch `at`. */
  score(frame) {
    const parts = this.parts(frame);
    const ratio = new Float64Array(this.count);
    let score = 0, at = 0;
    for (let p = 0; p < this.count; p++) {
      for (const k of PARTS) ratio[p] += parts[k][p] / this.typical[k][p];
      if (ratio[p] > score) (score = ratio[p]), (at = p);
    }
    return { score, at, ratio, parts };
  }

  toJSON() {
    return this.stats;
  }
}

// The stored normal codes at position p, one row per learning frame.
function codesAt({ frames, count, offsets, indices, values }, p, dSae) {
  const rowOffsets = new Uint32Array(frames + 1), at = [];
  for (let f = 0; f < frames; f++) {
    const r = f * count + p;
    for (let e = offsets[r]; e < offsets[r + 1]; e++) at.push(e);
    rowOffsets[f + 1] = at.length;
  }
  return { rows: frames, dSae, rowOffsets, indices: Uint32Array.from(at, (e) => indices[e]), values: Float32Array.from(at, (e) => values[e]) };
}

// Row p of `codes` as codes of one row.
function oneRow(codes, p) {
  const a = codes.rowOffsets[p], b = codes.rowOffsets[p + 1];
  return { rows: 1, dSae: codes.dSae, rowOffsets: Uint32Array.of(0, b - a), indices: codes.indices.subarray(a, b), values: codes.values.subarray(a, b) };
}

function concat(arrays) {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) out.set(a, at), (at += a.length);
  return out;
}
