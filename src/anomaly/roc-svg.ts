// ROC curves as a small standalone SVG (no dependencies): one polyline per curve.
import type { RocPoint } from "../metrics/detection.js";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export function rocSvg(curves: { label: string; points: RocPoint[]; auroc: number }[], title = "ROC"): string {
  const size = 360, pad = 40, w = size + 2 * pad + 170, h = size + 2 * pad;
  const X = (f: number) => (pad + f * size).toFixed(1);
  const Y = (t: number) => (pad + (1 - t) * size).toFixed(1);
  const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${pad}" y="${pad - 14}" font-size="14">${esc(title)}</text>`,
    `<rect x="${pad}" y="${pad}" width="${size}" height="${size}" fill="none" stroke="#333"/>`,
    `<line x1="${X(0)}" y1="${Y(0)}" x2="${X(1)}" y2="${Y(1)}" stroke="#bbb" stroke-dasharray="4 4"/>`,
    `<text x="${pad + size / 2}" y="${h - 8}" text-anchor="middle">false-positive rate</text>`,
    `<text x="12" y="${pad + size / 2}" text-anchor="middle" transform="rotate(-90 12 ${pad + size / 2})">true-positive rate</text>`,
  ];
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length];
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${c.points.map((p) => `${X(p.fpr)},${Y(p.tpr)}`).join(" ")}"/>`);
    parts.push(`<text x="${pad + size + 14}" y="${pad + 14 + i * 16}" fill="${color}">${esc(c.label)}: AUROC ${c.auroc.toFixed(3)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
