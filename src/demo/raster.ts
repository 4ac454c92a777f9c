// An RGB raster with the few drawing operations the job's pictures need:
// rectangles, scaled side × side images, 5 × 7 text, and PNG output (pngjs).
import { PNG } from "pngjs";
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from "./bitmap-font.js";

export type Rgb = readonly [number, number, number];

export interface Image {
  width: number;
  height: number;
  /** RGB in [0, 255]. */
  rgb: Uint8Array;
}

export const WHITE: Rgb = [255, 255, 255];
export const INK: Rgb = [34, 34, 34];
export const MUTED: Rgb = [110, 110, 110];

export function image(width: number, height: number, fill: Rgb = WHITE): Image {
  const img = { width, height, rgb: new Uint8Array(width * height * 3) };
  fillRect(img, 0, 0, width, height, fill);
  return img;
}

export function fillRect(img: Image, x: number, y: number, w: number, h: number, [r, g, b]: Rgb): void {
  const x0 = Math.max(0, x), x1 = Math.min(img.width, x + w);
  for (let yy = Math.max(0, y); yy < Math.min(img.height, y + h); yy++) {
    for (let o = (yy * img.width + x0) * 3, end = (yy * img.width + x1) * 3; o < end; o += 3) {
      img.rgb[o] = r;
      img.rgb[o + 1] = g;
      img.rgb[o + 2] = b;
    }
  }
}

/** A side × side picture (pixel i at row ⌊i/side⌋) drawn with each pixel as a scale × scale block. */
export function drawSquare(img: Image, x: number, y: number, side: number, scale: number, colourOf: (i: number) => Rgb): void {
  for (let i = 0; i < side * side; i++) fillRect(img, x + (i % side) * scale, y + Math.floor(i / side) * scale, scale, scale, colourOf(i));
}

/** Width in pixels of a line of text at a scale (one pixel column between glyphs). */
export function textWidth(text: string, scale = 1): number {
  return text.length ? (text.length * (GLYPH_WIDTH + 1) - 1) * scale : 0;
}

export const textHeight = (scale = 1) => GLYPH_HEIGHT * scale;

/** Draws one line of text with its top-left corner at (x, y). */
export function drawText(img: Image, text: string, x: number, y: number, c: Rgb = INK, scale = 1): void {
  Array.from(text).forEach((ch, n) => {
    glyph(ch).forEach((row, gy) =>
      row.forEach((on, gx) => on && fillRect(img, x + (n * (GLYPH_WIDTH + 1) + gx) * scale, y + gy * scale, scale, scale, c)),
    );
  });
}

// Diverging colours for signed values scaled to [-1, 1]: blue negative, white 0, red positive.
// Quantised to 1/16 steps: invisible to the eye, and it lets deflate shrink the atlas a lot.
export function diverging(v: number): Rgb {
  const t = Math.round(16 * Math.max(-1, Math.min(1, v))) / 16;
  const fade = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

/** Grey ink for values in [0, 1]: 0 white paper, 1 black ink. */
export function grey(v: number): Rgb {
  const g = Math.round(255 * (1 - Math.max(0, Math.min(1, v))));
  return [g, g, g];
}

// pngjs's adaptive filter choice loses on these pictures: noisy atoms pack best
// unfiltered, block-scaled digits with the "up" filter; keep the smaller.
export function toPng(img: Image): Uint8Array {
  const options = { width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false } as const;
  const png = new PNG(options);
  png.data = Buffer.from(img.rgb.buffer, img.rgb.byteOffset, img.rgb.byteLength);
  const [none, up] = [0, 2].map((filterType) => PNG.sync.write(png, { ...options, filterType }));
  return none.length <= up.length ? none : up;
}
