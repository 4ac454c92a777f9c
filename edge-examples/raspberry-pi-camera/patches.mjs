// The Y plane (luma) cut into square patches after an optional box downscale; each
// patch becomes one row of the SAE's input (values in [0, 1], standardized before scoring).
import { InputError } from "sae-edge";

// The spread (luma in [0, 1]) under which a patch counts as flat: its standardized pixels are
// then mostly sensor noise, and are damped rather than blown up to unit spread.
const FLAT = 0.01;

export class PatchGrid {
  constructor({ width, height, stride, patch = 16, step = patch, downscale = 2 }) {
    Object.assign(this, { width, height, stride, patch, step, downscale });
    this.w = Math.floor(width / downscale);
    this.h = Math.floor(height / downscale);
    if (this.w < patch || this.h < patch) throw new InputError(`a ${patch}-pixel patch does not fit a ${this.w}×${this.h} image (lower --patch or --downscale)`);
    this.cols = Math.floor((this.w - patch) / step) + 1;
    this.rows = Math.floor((this.h - patch) / step) + 1;
    this.count = this.cols * this.rows;
    this.dIn = patch * patch;
    this.small = new Float32Array(this.w * this.h);
  }

  /** The downscaled luma of a frame, [0, 1]. */
  luma(frame) {
    const { stride, downscale: d, w, h, small } = this;
    const inv = 1 / (255 * d * d);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dy = 0; dy < d; dy++) {
          const row = (y * d + dy) * stride + x * d;
          for (let dx = 0; dx < d; dx++) s += frame[row + dx];
        }
        small[y * w + x] = s * inv;
      }
    }
    return small;
  }

  /** All patches of a frame as rows (count × patch²), into `out` if given. */
  extract(frame, out = new Float32Array(this.count * this.dIn)) {
    const img = this.luma(frame);
    const { patch: p, step, cols, w } = this;
    for (let i = 0; i < this.count; i++) {
      const x0 = (i % cols) * step, y0 = Math.floor(i / cols) * step;
      for (let y = 0; y < p; y++) out.set(img.subarray((y0 + y) * w + x0, (y0 + y) * w + x0 + p), i * this.dIn + y * p);
    }
    return out;
  }

  /**
   * Makes each patch row (in place) zero-mean with unit spread, so that a change of brightness
   * or contrast over the scene leaves it as it was. Returns what that takes away and a blur must
   * still show: each patch's log contrast over the frame's median one (a global dimming moves
   * them all alike, a blur flattens fine texture more than coarse).
   */
  standardize(rows) {
    const d = this.dIn, contrast = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const row = rows.subarray(i * d, (i + 1) * d);
      let m = 0, v = 0;
      for (let j = 0; j < d; j++) m += row[j];
      m /= d;
      for (let j = 0; j < d; j++) v += (row[j] - m) ** 2;
      const sd = Math.sqrt(v / d) + FLAT;
      for (let j = 0; j < d; j++) row[j] = (row[j] - m) / sd;
      contrast[i] = Math.log(sd);
    }
    const median = Float64Array.from(contrast).sort()[this.count >> 1];
    for (let i = 0; i < this.count; i++) contrast[i] -= median;
    return contrast;
  }

  /** Top-left corner of patch i in full-resolution pixels. */
  origin(i) {
    return [(i % this.cols) * this.step * this.downscale, Math.floor(i / this.cols) * this.step * this.downscale];
  }
}
