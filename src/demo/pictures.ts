// Pictures for the MNIST job (PNG via pngjs): decoder atoms as 28×28 tiles, and
// anomalous digits beside where their reconstruction missed.
import { PNG } from "pngjs";

export interface Image {
  width: number;
  height: number;
  /** RGB in [0, 255]. */
  rgb: Uint8Array;
}

function image(width: number, height: number, fill = 255): Image {
  return { width, height, rgb: new Uint8Array(width * height * 3).fill(fill) };
}

function put(img: Image, x: number, y: number, r: number, g: number, b: number): void {
  const o = (y * img.width + x) * 3;
  img.rgb[o] = r;
  img.rgb[o + 1] = g;
  img.rgb[o + 2] = b;
}

export function toPng(img: Image): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  for (let i = 0; i < img.width * img.height; i++) {
    png.data[i * 4] = img.rgb[i * 3];
    png.data[i * 4 + 1] = img.rgb[i * 3 + 1];
    png.data[i * 4 + 2] = img.rgb[i * 3 + 2];
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

// Diverging colours for signed values scaled to [-1, 1]: blue negative, white 0, red positive.
function diverging(v: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, v));
  return t >= 0 ? [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))] : [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255];
}

/** Decoder atoms (rows of side×side) in a grid, each scaled to its own max |value|. */
export function atlas(rows: Float32Array, side: number, count: number, columns = 32, scale = 2): Image {
  const cell = side * scale + 2;
  const gridRows = Math.ceil(count / columns);
  const img = image(columns * cell, gridRows * cell, 200);
  for (let a = 0; a < count; a++) {
    const atom = rows.subarray(a * side * side, (a + 1) * side * side);
    let m = 0;
    for (const v of atom) m = Math.max(m, Math.abs(v));
    const ox = (a % columns) * cell + 1, oy = Math.floor(a / columns) * cell + 1;
    for (let y = 0; y < side * scale; y++) {
      for (let x = 0; x < side * scale; x++) {
        const [r, g, b] = diverging(m ? atom[Math.floor(y / scale) * side + Math.floor(x / scale)] / m : 0);
        put(img, ox + x, oy + y, r, g, b);
      }
    }
  }
  return img;
}

/** One line per digit: the input (grey), its reconstruction (grey), and the residual x − x̂ (diverging). */
export function anomalyStrip(inputs: Float32Array[], recons: Float32Array[], side: number, scale = 3): Image {
  const cell = side * scale + 4;
  const img = image(3 * cell, inputs.length * cell, 255);
  inputs.forEach((x, row) => {
    const panels: ((i: number) => [number, number, number])[] = [
      (i) => grey(x[i]),
      (i) => grey(recons[row][i]),
      (i) => diverging(x[i] - recons[row][i]),
    ];
    panels.forEach((colour, p) => {
      for (let y = 0; y < side * scale; y++) {
        for (let xx = 0; xx < side * scale; xx++) {
          const [r, g, b] = colour(Math.floor(y / scale) * side + Math.floor(xx / scale));
          put(img, p * cell + 2 + xx, row * cell + 2 + y, r, g, b);
        }
      }
    });
  });
  return img;
}

function grey(v: number): [number, number, number] {
  const g = Math.round(255 * (1 - Math.max(0, Math.min(1, v))));
  return [g, g, g];
}
