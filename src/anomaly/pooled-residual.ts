// The residual pooled over neighbourhoods of a grid (an image, or a window of samples as 1 × n):
// a stroke drawn a pixel off leaves a + and a − side by side that cancel in the local sum, while
// missing or extra ink leaves a same-signed blob that does not.
import { fail } from "../base/errors.js";

export interface Grid {
  height: number;
  width: number;
  /** Half-size of the square neighbourhood summed around each cell (1: 3 × 3). */
  radius: number;
}

export function checkGrid(grid: Grid, dIn: number): void {
  const { height, width, radius } = grid;
  if (![height, width].every((n) => Number.isSafeInteger(n) && n >= 1) || height * width !== dIn) fail("INVALID_ARGUMENT", `grid ${height}×${width} does not cover the ${dIn} inputs`);
  if (!(Number.isSafeInteger(radius) && radius >= 0)) fail("INVALID_ARGUMENT", `grid radius must be a non-negative integer, got ${radius}`);
}

/** Σ over cells of (Σ of x − x̂ over the cell's neighbourhood)², over ‖x‖² (as the "norm" mode). */
export function pooledResidual(x: Float32Array, xhat: Float32Array, grid: Grid): Float64Array {
  const { height: h, width: w, radius } = grid;
  const dIn = h * w;
  checkGrid(grid, dIn);
  if (x.length % dIn !== 0 || xhat.length !== x.length) fail("INPUT_SHAPE", `grid ${h}×${w} does not cover rows of ${x.length} inputs (reconstruction: ${xhat.length})`);
  const rows = x.length / dIn;
  const out = new Float64Array(rows);
  // Summed-area table of the residual: each neighbourhood sum is four reads.
  const sat = new Float64Array((h + 1) * (w + 1));
  for (let r = 0; r < rows; r++) {
    let nrm = 0;
    for (let y = 0; y < h; y++) {
      let line = 0;
      for (let c = 0; c < w; c++) {
        const i = r * dIn + y * w + c;
        line += x[i] - xhat[i];
        nrm += x[i] * x[i];
        sat[(y + 1) * (w + 1) + c + 1] = sat[y * (w + 1) + c + 1] + line;
      }
    }
    let s = 0;
    for (let y = 0; y < h; y++) {
      const y0 = Math.max(0, y - radius), y1 = Math.min(h, y + radius + 1);
      for (let c = 0; c < w; c++) {
        const c0 = Math.max(0, c - radius), c1 = Math.min(w, c + radius + 1);
        const a = sat[y1 * (w + 1) + c1] - sat[y0 * (w + 1) + c1] - sat[y1 * (w + 1) + c0] + sat[y0 * (w + 1) + c0];
        s += a * a;
      }
    }
    out[r] = nrm > 0 ? s / nrm : s === 0 ? 0 : Infinity;
  }
  return out;
}
