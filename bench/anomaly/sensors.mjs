// Sensor streams: the IoT gateway's detector (edge-examples/iot-gateway) against strong simple
// baselines, on seeded synthetic streams with each fault kind labelled and on the Suthaharan
// motes. Every method learns from the same windows and sets its threshold the same way: fitted
// on the first 70 % of the learning windows, threshold at --fpr on the other 30 %.
//   node bench/anomaly/sensors.mjs [--seeds 3] [--fpr 0.01] [--json]
// sensorTables() returns the tables for bench/anomaly/run.mjs.
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { auprc, auroc } from "sae-edge";
import { motes } from "../../edge-examples/iot-gateway/dataset.mjs";
import { DETECTOR_DEFAULTS } from "../../edge-examples/iot-gateway/detector.mjs";
import { scoreSeries } from "../../edge-examples/iot-gateway/offline.mjs";
import { quantile } from "../../edge-examples/iot-gateway/scores.mjs";
import { FAULTS, NORMALS, syntheticStream, windowLabel } from "../../edge-examples/iot-gateway/synthetic.mjs";
import { rollingZScores } from "../../edge-examples/iot-gateway/zscore.mjs";
import { isolationForest, knn, pcaExplaining } from "./baselines.mjs";
import { markdown } from "./table.mjs";

export const SYNTHETIC = { window: 16, learn: 3000, fresh: 5000, faulty: 6000 };
export const SUTHAHARAN = { window: 8, learn: 1500, outdoor: ["mote3", "mote4"] };
const HELD_OUT = DETECTOR_DEFAULTS.holdout;

const BASELINES = { "kNN k=1": knn(1), "kNN k=5": knn(5), IsolationForest: isolationForest(), "PCA (95 % of the variance)": pcaExplaining(0.95) };

// ---- running every method on one series ----

/** Windows ending at samples `ends`, each channel scaled by the learning windows' spread (raw inputs otherwise). */
function windowRows(samples, ends, W, C, scale) {
  const rows = new Float32Array(ends.length * W * C);
  ends.forEach((t, r) => {
    for (let i = 0; i < W; i++) for (let c = 0; c < C; c++) rows[(r * W + i) * C + c] = samples[t - W + 1 + i][c] / scale[c];
  });
  return rows;
}

/**
 * Scores of every method for the windows ending at sample `learn + W − 1` and later, with each
 * method's threshold: { method: { score: Map end → score, threshold, usPerWindow } }. Without
 * `baselines`, the detector alone.
 */
async function allMethods(samples, { window: W, learn, fpr, adapt, relearn, baselines = true }) {
  const C = samples[0].length, ends = Array.from({ length: samples.length - learn - W + 1 }, (_, i) => learn + W - 1 + i);
  const learnEnds = Array.from({ length: learn }, (_, i) => W - 1 + i), cut = Math.round(learn * (1 - HELD_OUT));
  const out = {};
  const t0 = performance.now();
  const det = await scoreSeries(samples, { window: W, learn, train: { fpr }, ...(adapt !== undefined && { adapt }), ...(relearn !== undefined && { relearn }) });
  const us = det.msPerWindow * 1000;
  const pick = (a) => new Map(ends.map((t) => [t, a[t]]));
  // Over the threshold each window was judged by: a relearned model has its own.
  out["sae-edge detector"] = { score: pick(det.score.map((v, t) => v / det.thresholds[t])), threshold: 1, usPerWindow: us, seconds: (performance.now() - t0) / 1000 };
  out["  its residual alone"] = { score: pick(det.residual), usPerWindow: NaN };
  out["  its novelty alone"] = { score: pick(det.novelty), usPerWindow: NaN };
  if (!baselines) return out;

  const scale = Array.from({ length: C }, (_, c) => {
    const v = learnEnds.slice(0, cut).map((t) => samples[t][c]), m = v.reduce((a, b) => a + b, 0) / v.length;
    return Math.max(Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length), 1e-6);
  });
  const d = W * C, fit = windowRows(samples, learnEnds.slice(0, cut), W, C, scale), held = windowRows(samples, learnEnds.slice(cut), W, C, scale), rows = windowRows(samples, ends, W, C, scale);
  for (const [name, make] of Object.entries(BASELINES)) {
    const score = make(fit, d);
    const threshold = quantile(score(held), 1 - fpr);
    const t1 = performance.now(), s = score(rows);
    out[name] = { score: new Map(ends.map((t, i) => [t, s[i]])), threshold, usPerWindow: ((performance.now() - t1) * 1000) / ends.length };
  }
  // Rolling z-score: a window scores its largest sample z-score (each against the 60 samples before it).
  const t2 = performance.now(), z = rollingZScores(samples, 60);
  const zWindow = (t) => Math.max(...z.slice(t - W + 1, t + 1));
  const zs = new Map(ends.map((t) => [t, zWindow(t)]));
  out["rolling z-score"] = { score: zs, threshold: quantile(learnEnds.slice(cut).map(zWindow), 1 - fpr), usPerWindow: ((performance.now() - t2) * 1000) / samples.length };
  return out;
}

const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;

// ---- the tables ----

/**
 * A synthetic stream's scores (Map window end → score) against its labels: AUROC per fault kind
 * (its windows against every normal window), AUPRC over all faults, and the share of the fresh
 * normal windows (before the faults begin) above `threshold`.
 */
export function faultMetrics(stream, score, threshold, W) {
  const normal = [], faults = {}, fresh = [];
  for (const [t, v] of score) {
    const label = windowLabel(stream.fault, t, W);
    if (label === "normal") (normal.push(v), t < stream.faultyFrom && fresh.push(v));
    else if (label) (faults[label] ??= []).push(v);
  }
  const y = (pos) => [...normal.map(() => 0), ...pos.map(() => 1)];
  const all = Object.values(faults).flat();
  return {
    auroc: Object.fromEntries(Object.entries(faults).map(([kind, pos]) => [kind, auroc([...normal, ...pos], y(pos))])),
    auprc: auprc([...normal, ...all], y(all)),
    falseAlerts: fresh.filter((v) => v > threshold).length / fresh.length,
    fresh: fresh.length,
  };
}

/** Synthetic streams: AUROC per fault kind, AUPRC over all faults, false-alert rate on fresh normal windows. */
export async function syntheticTable({ seeds = 3, fpr = 0.01, ...o } = {}) {
  const cfg = { ...SYNTHETIC, ...o };
  const acc = new Map(); // "stream|method" → { kind: [auroc…], auprc: […], far: […], us: […] }
  for (let seed = 1; seed <= seeds; seed++) {
    for (const name of Object.keys(NORMALS)) {
      const s = syntheticStream(name, { normal: cfg.learn + cfg.window - 1 + cfg.fresh, faulty: cfg.faulty, seed });
      const methods = await allMethods(s.samples, { ...cfg, fpr });
      for (const [method, m] of Object.entries(methods)) {
        const a = acc.get(`${name}|${method}`) ?? { far: [], us: [], auprc: [] };
        acc.set(`${name}|${method}`, a);
        const r = faultMetrics(s, m.score, m.threshold, cfg.window);
        for (const [kind, v] of Object.entries(r.auroc)) (a[kind] ??= []).push(v);
        a.auprc.push(r.auprc);
        if (m.threshold !== undefined) a.far.push(r.falseAlerts);
        if (Number.isFinite(m.usPerWindow)) a.us.push(m.usPerWindow);
      }
    }
  }
  const columns = ["stream", "method", ...FAULTS, "mean AUROC", "AUPRC", `false alerts at fpr ${fpr}`, "µs / window"];
  const rows = [...acc].map(([key, a]) => {
    const [stream, method] = key.split("|"), kinds = FAULTS.map((k) => (a[k] ? mean(a[k]) : undefined));
    const present = kinds.filter((v) => v !== undefined);
    return [stream, method, ...kinds, mean(present), mean(a.auprc), a.far.length ? mean(a.far) : undefined, a.us.length ? mean(a.us) : undefined];
  });
  // Per method over the three streams: each fault kind's AUROC averaged over the streams that have it.
  for (const method of new Set(rows.map((r) => r[1]))) {
    const mine = rows.filter((r) => r[1] === method);
    const kinds = FAULTS.map((_, i) => mean(mine.map((r) => r[2 + i]).filter((v) => v !== undefined)));
    rows.push(["all three", method, ...kinds, mean(kinds), mean(mine.map((r) => r[2 + FAULTS.length + 1])), mine[0].at(-2) === undefined ? undefined : mean(mine.map((r) => r.at(-2))), mine[0].at(-1) === undefined ? undefined : mean(mine.map((r) => r.at(-1)))]);
  }
  return {
    title: `Synthetic sensor streams (${seeds} seeds; window ${cfg.window}, ${cfg.learn} learning windows, ${cfg.fresh} fresh normal samples, ${cfg.faulty} with faults)`,
    note: "AUROC of each fault kind's windows against every normal window after learning; a window counts as faulty when it holds the whole fault or half its samples are faulty, and is left out when it only grazes one. False alerts: share of the fresh normal windows above the method's threshold. Means over the seeds.",
    columns, rows,
  };
}

/** The Suthaharan motes: pooled AUROC/AUPRC (scores over each mote's threshold), per labelled mote, and false alerts outdoors. */
export async function suthaharanTable({ fpr = 0.01, ...o } = {}) {
  const cfg = { ...SUTHAHARAN, ...o };
  const acc = {}; // method → { s: [], y: [], perMote: {}, outdoorAlerts, outdoorNormal, us: [] }
  for (const m of motes()) {
    const methods = await allMethods(m.samples, { ...cfg, fpr });
    for (const [method, r] of Object.entries(methods)) {
      if (r.threshold === undefined) continue;
      const a = (acc[method] ??= { s: [], y: [], perMote: {}, outdoorAlerts: 0, outdoorNormal: 0, us: [] });
      const s = [], y = [];
      for (const [t, v] of r.score) (s.push(v / r.threshold), y.push(m.labels[t]));
      a.s.push(...s), a.y.push(...y), a.us.push(r.usPerWindow);
      if (y.some(Boolean)) a.perMote[m.device] = auroc(s, y);
      if (cfg.outdoor.includes(m.device)) {
        for (let i = 0; i < s.length; i++) if (!y[i]) (a.outdoorNormal++, (a.outdoorAlerts += s[i] > 1));
      }
    }
  }
  const labelled = Object.keys(Object.values(acc)[0].perMote);
  return {
    title: `Suthaharan sensor network (4 motes, humidity + temperature; window ${cfg.window}, ${cfg.learn} learning windows per mote)`,
    note: `Scores divided by each mote's threshold, then pooled. Outdoor false alerts: share of the labelled-normal windows of ${cfg.outdoor.join(" and ")} above the threshold.`,
    columns: ["method", "pooled AUROC", "pooled AUPRC", ...labelled.map((d) => `${d} AUROC`), "outdoor false alerts", "µs / window"],
    rows: Object.entries(acc).map(([method, a]) => [method, auroc(a.s, a.y), auprc(a.s, a.y), ...labelled.map((d) => a.perMote[d]), a.outdoorAlerts / a.outdoorNormal, mean(a.us)]),
  };
}

export async function sensorTables(o = {}) {
  return [await syntheticTable(o), await suthaharanTable({ fpr: o.fpr })];
}


if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const usage = (why) => {
    process.stderr.write(`sensors.mjs: ${why} (usage: node bench/anomaly/sensors.mjs [--seeds 3] [--fpr 0.01] [--json])\n`);
    process.exit(2);
  };
  let values;
  try {
    ({ values } = parseArgs({ options: { seeds: { type: "string", default: "3" }, fpr: { type: "string", default: "0.01" }, json: { type: "boolean" } } }));
  } catch (e) {
    usage(e.message);
  }
  const seeds = Number(values.seeds), fpr = Number(values.fpr);
  if (!(Number.isInteger(seeds) && seeds > 0) || !(fpr > 0 && fpr < 1)) usage("--seeds must be a positive integer and --fpr a number in (0, 1)");
  const tables = await sensorTables({ seeds, fpr });
  console.log(values.json ? JSON.stringify(tables) : tables.map(markdown).join("\n"));
}
