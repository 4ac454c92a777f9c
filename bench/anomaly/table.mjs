// A bench table ({ title, note, columns, rows }) as markdown: numbers ≥ 10 to 2 decimals (AUROC %),
// others to 3 significant places; undefined is "—".
export function markdown({ title, note, columns, rows }) {
  const f = (v) => (v === undefined ? "—" : typeof v !== "number" ? String(v) : Number.isInteger(v) ? String(v) : Math.abs(v) >= 10 ? v.toFixed(2) : v.toPrecision(3));
  return [`### ${title}`, "", note, "", `| ${columns.join(" | ")} |`, `|${columns.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`, ...rows.map((r) => `| ${r.map(f).join(" | ")} |`), ""].join("\n");
}
