// The job's pictures: the 5 × 7 font, the feature atlas (which latents, in what
// order), the anomaly strip, PNG round trips, and the ROC SVG's axes and a
// perfect curve that stays visible.
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { rocSvg } from "../../src/anomaly/roc-svg.js";
import { GLYPH_CHARS, GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from "../../src/demo/bitmap-font.js";
import { anomalyStrip, atlas, latentsInUse } from "../../src/demo/pictures.js";
import { type Image, type Rgb, diverging, drawText, image, textWidth, toPng } from "../../src/demo/raster.js";
import { rocCurve } from "../../src/metrics/detection.js";

const count = (img: Image, c: Rgb) => {
  let n = 0;
  for (let i = 0; i < img.width * img.height; i++) if (img.rgb[3 * i] === c[0] && img.rgb[3 * i + 1] === c[1] && img.rgb[3 * i + 2] === c[2]) n++;
  return n;
};

describe("the bitmap font", () => {
  it("has 7 rows of 5 pixels for every glyph, and draws unknown characters as ?", () => {
    for (const ch of GLYPH_CHARS) {
      const g = glyph(ch);
      expect(g, ch).toHaveLength(GLYPH_HEIGHT);
      for (const row of g) expect(row, ch).toHaveLength(GLYPH_WIDTH);
    }
    expect(glyph("a")).toEqual(glyph("A"));
    expect(glyph("−")).toEqual(glyph("-"));
    expect(glyph("€")).toEqual(glyph("?"));
  });

  it("draws text where textWidth says, each glyph pixel a scale × scale block", () => {
    const img = image(40, 20);
    drawText(img, "1.", 2, 3, [0, 0, 0], 2);
    expect(textWidth("1.", 2)).toBe(22);
    const ink = (x: number, y: number) => img.rgb[(y * img.width + x) * 3] === 0;
    const inked = glyph("1").flat().filter(Boolean).length + glyph(".").flat().filter(Boolean).length;
    expect(count(img, [0, 0, 0])).toBe(4 * inked);
    expect(ink(2 + 2 * 2, 3)).toBe(true); // the 1's top pixel, column 2 of row 0
    for (let y = 0; y < 20; y++) for (let x = 2 + 22; x < 40; x++) expect(ink(x, y)).toBe(false);
  });
});

describe("the feature atlas", () => {
  const side = 4;
  it("draws the latents in use, most used first, ties by id; leaves out dead and too-rare ones", () => {
    const usage = [0.1, 0, 0.3, 0.0004, 0.3, 0.002];
    expect(latentsInUse(usage)).toEqual([2, 4, 0, 5, 3]);
    expect(latentsInUse(usage, 0.001)).toEqual([2, 4, 0, 5]);
  });

  it("draws a latent's atom only when it is in use", () => {
    // Latent 1's atom is half its max everywhere but one pixel: a block of one colour.
    const atoms = new Float32Array(3 * side * side).fill(0.2);
    atoms.fill(0.5, side * side, 2 * side * side);
    atoms[side * side] = 1;
    const half = diverging(0.5);
    const shown = atlas({ atoms, side, usage: [0.5, 0.25, 0.1], inputs: 4, scale: 8 });
    const hidden = atlas({ atoms, side, usage: [0.5, 0, 0.1], inputs: 4, scale: 8 });
    const tilePixels = (side * side - 1) * 64;
    expect(count(shown, half) - count(hidden, half)).toBe(tilePixels);
  });

  it("stays the same picture through PNG", () => {
    const atoms = Float32Array.from({ length: 5 * side * side }, (_, i) => Math.sin(i));
    const img = atlas({ atoms, side, usage: [0.5, 0.25, 0.1, 0, 0.01], inputs: 100 });
    const back = PNG.sync.read(Buffer.from(toPng(img)));
    expect([back.width, back.height]).toEqual([img.width, img.height]);
    for (let i = 0; i < img.width * img.height; i++) {
      for (let c = 0; c < 3; c++) if (back.data[4 * i + c] !== img.rgb[3 * i + c]) throw new Error(`pixel ${i} channel ${c} differs`);
    }
  });
});

describe("the anomaly strip", () => {
  it("draws digit, reconstruction and residual per row, with the residual's colours", () => {
    const side = 4;
    const input = new Float32Array(side * side).fill(1);
    const reconstruction = new Float32Array(side * side).fill(0.5); // residual +0.5 everywhere
    const strip = (n: number) => anomalyStrip(Array.from({ length: n }, () => ({ input, reconstruction, caption: ["row 1", "score 0.25"] })), { title: "t", side, scale: 10 });
    const one = strip(1), two = strip(2);
    expect(two.width).toBe(one.width);
    expect(two.height).toBeGreaterThan(one.height);
    const perRow = side * side * 100; // the residual panel, all one colour
    expect(count(two, diverging(0.5)) - count(one, diverging(0.5))).toBe(perRow);
    expect(count(two, [0, 0, 0]) - count(one, [0, 0, 0])).toBe(perRow); // the digit, full ink
  });
});

describe("the ROC SVG", () => {
  const perfect = rocCurve(Array.from({ length: 1000 }, (_, i) => i), Array.from({ length: 1000 }, (_, i) => (i >= 900 ? 1 : 0)));
  const svg = rocSvg([{ label: "digit 3", points: perfect, auroc: 1 }], "test");

  it("has ticks and labels on both axes and the AUROC in the legend", () => {
    for (const t of ["0", "0.2", "0.4", "0.6", "0.8", "1"]) expect(svg.match(new RegExp(`>${t.replace(".", "\\.")}</text>`, "g"))).toHaveLength(2);
    expect(svg).toContain("false-positive rate");
    expect(svg).toContain("true-positive rate");
    expect(svg).toContain("digit 3: AUROC 1.000");
  });

  it("draws a perfect curve inside the frame, over it, as its three corners", () => {
    const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/.exec(svg)!;
    const [fx, fy, fw, fh] = frame.slice(1).map(Number);
    const line = /<polyline[^>]*points="([^"]+)"/.exec(svg)!;
    expect(svg.indexOf(frame[0])).toBeLessThan(svg.indexOf(line[0]));
    const pts = line[1].split(" ").map((p) => p.split(",").map(Number));
    expect(pts).toHaveLength(3); // (0,0) → (0,1) → (1,1)
    for (const [x, y] of pts) {
      expect(x).toBeGreaterThanOrEqual(fx + 4);
      expect(x).toBeLessThanOrEqual(fx + fw - 4);
      expect(y).toBeGreaterThanOrEqual(fy + 4);
      expect(y).toBeLessThanOrEqual(fy + fh - 4);
    }
  });
});
