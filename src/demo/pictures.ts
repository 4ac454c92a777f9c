// Pictures for the MNIST job: the decoder atoms of the latents in use, labelled
// with id and usage, and the most anomalous digits beside where their
// reconstruction missed; each with a title and a key for its colours.
import { type Image, type Rgb, INK, MUTED, diverging, drawSquare, drawText, fillRect, grey, image, textHeight, textWidth } from "./raster.js";

const MARGIN = 16;
const LINE = textHeight(2) + 8; // a line of scale-2 text and its spacing
const SMALL_LINE = textHeight(1) + 4;

/** A diverging colour bar over [-1, 1] with a label under each end and 0 in the middle; returns its height. */
function colourKey(img: Image, x: number, y: number, width: number, negative: string, positive: string): number {
  for (let i = 0; i < width; i++) fillRect(img, x + i, y, 1, 12, diverging((2 * i) / (width - 1) - 1));
  fillRect(img, x + (width >> 1), y + 12, 1, 4, INK);
  const ly = y + 18;
  drawText(img, negative, x, ly, MUTED);
  drawText(img, "0", x + (width >> 1) - 2, ly, MUTED);
  drawText(img, positive, x + width - textWidth(positive), ly, MUTED);
  return 18 + textHeight(1);
}

const percent = (share: number) => {
  const p = 100 * share;
  return `${p < 10 ? Number(p.toPrecision(2)) : Math.round(p)}%`;
};

export interface AtlasOptions {
  /** Decoder atoms, one side × side row per latent. */
  atoms: Float32Array;
  side: number;
  /** Per latent: the share of inputs it fires on. */
  usage: ArrayLike<number>;
  /** Latents that fire on a smaller share are left out (default: only dead ones, that never fire). */
  minUsage?: number;
  /** How many inputs the usage was counted on (for the caption). */
  inputs: number;
  columns?: number;
  scale?: number;
}

/** The latents the atlas draws, in its order: those firing on at least minUsage (and ever), most used first. */
export function latentsInUse(usage: ArrayLike<number>, minUsage = 0): number[] {
  return Array.from({ length: usage.length }, (_, j) => j)
    .filter((j) => usage[j] > 0 && usage[j] >= minUsage)
    .sort((a, b) => usage[b] - usage[a] || a - b);
}

/**
 * The decoder atom of every latent in use, most used first, each scaled to its own
 * max |value| and captioned with its id and usage. Dead and too-rare latents are
 * counted in the notes, not drawn: their atoms have learned no shape.
 */
export function atlas({ atoms, side, usage, inputs, minUsage = 0, columns = 30, scale = 1 }: AtlasOptions): Image {
  const alive = latentsInUse(usage, minUsage);
  const dead = Array.prototype.filter.call(usage, (u: number) => !(u > 0)).length;
  const rare = usage.length - alive.length - dead;
  const tile = side * scale;
  const cellW = Math.max(tile, textWidth("#0000")) + 6;
  const cellH = tile + 2 * SMALL_LINE + 6;
  const title = `Decoder atoms of ${alive.length} of the ${usage.length} latents, most used first`;
  const notes = [
    `Under each: #latent id, and the share of the ${inputs} inputs it fires on.`,
    `Left out: ${dead} dead latents (never fire)${minUsage > 0 ? ` and ${rare} that fire on under ${percent(minUsage)} (no shape learned)` : ""}.`,
  ];
  const keyW = 240;
  const gridW = columns * cellW;
  const width = 2 * MARGIN + Math.max(gridW, textWidth(title, 2), ...notes.map((n) => textWidth(n)));
  const top = MARGIN + LINE + notes.length * SMALL_LINE + 6;
  const keyH = 18 + textHeight(1) + 12;
  const height = top + keyH + Math.ceil(alive.length / columns) * cellH + MARGIN;
  const img = image(width, height);
  drawText(img, title, MARGIN, MARGIN, INK, 2);
  notes.forEach((n, i) => drawText(img, n, MARGIN, MARGIN + LINE + i * SMALL_LINE, MUTED));
  colourKey(img, MARGIN, top, keyW, "removes ink", "adds ink");
  alive.forEach((j, slot) => {
    const x = MARGIN + (slot % columns) * cellW, y = top + keyH + Math.floor(slot / columns) * cellH;
    const atom = atoms.subarray(j * side * side, (j + 1) * side * side);
    let m = 0;
    for (const v of atom) m = Math.max(m, Math.abs(v));
    drawSquare(img, x, y, side, scale, (i) => diverging(m ? atom[i] / m : 0));
    drawText(img, `#${j}`, x, y + tile + 3, INK);
    drawText(img, percent(usage[j]), x, y + tile + 3 + SMALL_LINE, MUTED);
  });
  return img;
}

export interface StripRow {
  input: Float32Array;
  reconstruction: Float32Array;
  /** Lines drawn left of the row (e.g. which row, its score). */
  caption: string[];
}

export interface StripOptions {
  title: string;
  /** Smaller lines under the title. */
  notes?: string[];
  side: number;
  scale?: number;
}

/**
 * One line per digit under column titles: its caption, the input and its
 * reconstruction (ink dark on white), and the residual x − x̂ (diverging, with a key).
 */
export function anomalyStrip(rows: StripRow[], { title, notes = [], side, scale = 5 }: StripOptions): Image {
  const tile = side * scale;
  const columns = ["digit", "reconstruction", "residual"];
  const pitch = Math.max(tile, ...columns.map((c) => textWidth(c, 2))) + 16;
  const captionW = Math.max(...rows.flatMap((r) => r.caption.map((c) => textWidth(c, 2)))) + 24;
  const headerTop = MARGIN + LINE + notes.length * SMALL_LINE + 10;
  const rowsTop = headerTop + LINE;
  const keyTitle = "residual = digit - reconstruction:";
  const keyTop = rowsTop + rows.length * (tile + 10) + 6;
  const keyW = 300;
  const width = 2 * MARGIN + Math.max(captionW + 3 * pitch, textWidth(title, 2), ...notes.map((n) => textWidth(n)), textWidth(keyTitle) + 12 + keyW);
  const img = image(width, keyTop + 18 + textHeight(1) + MARGIN);
  drawText(img, title, MARGIN, MARGIN, INK, 2);
  notes.forEach((n, i) => drawText(img, n, MARGIN, MARGIN + LINE + i * SMALL_LINE, MUTED));
  const colX = (c: number) => MARGIN + captionW + c * pitch + (pitch - tile) / 2;
  columns.forEach((c, i) => drawText(img, c, colX(i) + (tile - textWidth(c, 2)) / 2, headerTop, INK, 2));
  rows.forEach((r, n) => {
    const y = rowsTop + n * (tile + 10);
    r.caption.forEach((c, i) => drawText(img, c, MARGIN, y + i * LINE, i ? MUTED : INK, 2));
    const panels: ((i: number) => Rgb)[] = [(i) => grey(r.input[i]), (i) => grey(r.reconstruction[i]), (i) => diverging(r.input[i] - r.reconstruction[i])];
    panels.forEach((colour, p) => {
      fillRect(img, colX(p) - 1, y - 1, tile + 2, tile + 2, [200, 200, 200]);
      drawSquare(img, colX(p), y, side, scale, colour);
    });
  });
  drawText(img, keyTitle, MARGIN, keyTop + 3, INK);
  colourKey(img, MARGIN + textWidth(keyTitle) + 12, keyTop, keyW, "-1 ink missing", "+1 unexpected ink");
  return img;
}
