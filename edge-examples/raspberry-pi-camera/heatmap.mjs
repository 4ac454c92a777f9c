// An alert picture: the frame's luma in grey, patches scoring over half the threshold
// tinted red (most at 1.15 × the threshold), and the worst patch outlined in yellow.
import { PNG } from "pngjs";
import { writeFileAtomicSync } from "sae-edge";

export function writeHeatmap(path, frame, grid, ratio, threshold, worst) {
  const { width, height, stride } = grid;
  const png = new PNG({ width, height });
  const heat = new Float32Array(width * height);
  const size = grid.patch * grid.downscale;
  for (let p = 0; p < ratio.length; p++) {
    const a = Math.min(0.65, Math.max(0, ratio[p] / threshold - 0.5)); // the object stays visible
    const [x0, y0] = grid.origin(p);
    for (let y = y0; y < Math.min(height, y0 + size); y++) for (let x = x0; x < Math.min(width, x0 + size); x++) heat[y * width + x] = Math.max(heat[y * width + x], a);
  }
  const [wx, wy] = grid.origin(worst);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const g = frame[y * stride + x], a = heat[y * width + x], o = (y * width + x) * 4;
      const edge = (x === wx || x === wx + size - 1) && y >= wy && y < wy + size || (y === wy || y === wy + size - 1) && x >= wx && x < wx + size;
      png.data[o] = edge ? 255 : Math.round(g * (1 - a) + 255 * a);
      png.data[o + 1] = edge ? 255 : Math.round(g * (1 - a));
      png.data[o + 2] = edge ? 0 : Math.round(g * (1 - a));
      png.data[o + 3] = 255;
    }
  }
  writeFileAtomicSync(path, PNG.sync.write(png, { deflateLevel: 3 })); // fast: alerts come in runs
}
