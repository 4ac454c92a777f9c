// ROC curves as a small standalone SVG (no dependencies): axes with ticks, one
// polyline per curve, and a legend with each curve's AUROC. The data area is
// inset from the frame and drawn over it, so a perfect curve (AUROC 1, along the
// left and top edges) stays visible.
import type { RocPoint } from "../metrics/detection.js";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Points in tenths of a pixel, without repeats and without points on a straight run (ROC curves have thousands). */
function corners(points: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const p of points) {
    const n = out.length;
    if (n && out[n - 1][0] === p[0] && out[n - 1][1] === p[1]) continue;
    if (n >= 2) {
      const [a, b] = [out[n - 2], out[n - 1]];
      if ((b[0] - a[0]) * (p[1] - b[1]) === (b[1] - a[1]) * (p[0] - b[0])) out.pop();
    }
    out.push(p);
  }
  return out;
}

export function rocSvg(curves: { label: string; points: RocPoint[]; auroc: number }[], title = "ROC"): string {
  const size = 360, inset = 8, left = 64, top = 44, bottom = 56, legendW = 210;
  const w = Math.max(left + size + 24 + legendW, 24 + Math.ceil(title.length * 8)), h = top + size + bottom;
  const round = (v: number) => Math.round(10 * v) / 10;
  const X = (f: number) => round(left + inset + f * (size - 2 * inset));
  const Y = (t: number) => round(top + inset + (1 - t) * (size - 2 * inset));
  const px = (v: number) => (v / 10).toFixed(1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="${top - 18}" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const t of TICKS) {
    const label = String(t);
    parts.push(`<line x1="${X(t)}" y1="${top}" x2="${X(t)}" y2="${top + size}" stroke="#eee"/>`);
    parts.push(`<line x1="${left}" y1="${Y(t)}" x2="${left + size}" y2="${Y(t)}" stroke="#eee"/>`);
    parts.push(`<line x1="${X(t)}" y1="${top + size}" x2="${X(t)}" y2="${top + size + 5}" stroke="#333"/>`);
    parts.push(`<text x="${X(t)}" y="${top + size + 18}" text-anchor="middle">${label}</text>`);
    parts.push(`<line x1="${left - 5}" y1="${Y(t)}" x2="${left}" y2="${Y(t)}" stroke="#333"/>`);
    parts.push(`<text x="${left - 8}" y="${Y(t) + 4}" text-anchor="end">${label}</text>`);
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#333"/>`,
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="#aaa" stroke-dasharray="4 4"/>`,
    `<text x="${left + size / 2}" y="${h - 12}" text-anchor="middle">false-positive rate (normal rows flagged)</text>`,
    `<text x="18" y="${top + size / 2}" text-anchor="middle" transform="rotate(-90 18 ${top + size / 2})">true-positive rate (anomalies caught)</text>`,
  );
  const lx = left + size + 24;
  const legend = (i: number, colour: string, text: string, dash = "") => {
    const y = top + 10 + i * 18;
    parts.push(`<line x1="${lx}" y1="${y - 4}" x2="${lx + 22}" y2="${y - 4}" stroke="${colour}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 28}" y="${y}">${esc(text)}</text>`);
  };
  curves.forEach((c, i) => {
    const colour = COLORS[i % COLORS.length];
    const pts = corners(c.points.map((p) => [Math.round(10 * X(p.fpr)), Math.round(10 * Y(p.tpr))]));
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round" points="${pts.map(([x, y]) => `${px(x)},${px(y)}`).join(" ")}"/>`);
    legend(i, colour, `${c.label}: AUROC ${c.auroc.toFixed(3)}`);
  });
  legend(curves.length, "#aaa", "chance: AUROC 0.500", ` stroke-dasharray="4 4"`);
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
