// Camera scenes: the Raspberry Pi camera watcher's scores (edge-examples/raspberry-pi-camera)
// against simple per-position baselines, on scenes made with ffmpeg: a textured still scene
// with objects and sensor noise, then labelled stretches of each defect kind (a small object
// appears, a region's texture changes, the scene shifts, blur), and a scene whose lighting
// drifts (brightness, contrast and a gradient) that must not alert. Every method learns from the
// same first frames: fitted on the first half, threshold set on the second half.
//   node bench/anomaly/camera.mjs [--seeds 3] [--scenes defects,subtle,drift,…] [--margin 2] [--json]
// cameraTables() returns the tables for bench/anomaly/run.mjs; writeScene() makes the scenes for
// test/examples/camera-scenes.test.ts.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { auprc, auroc } from "sae-edge";
import { i420Bytes } from "../../edge-examples/raspberry-pi-camera/frames.mjs";
import { CameraModel } from "../../edge-examples/raspberry-pi-camera/model.mjs";
import { PatchGrid } from "../../edge-examples/raspberry-pi-camera/patches.mjs";
import { knn } from "./baselines.mjs";
import { markdown } from "./table.mjs";

export const SCENE = { width: 160, height: 120, rate: 10, learn: 40, patch: 8, downscale: 1 };
export const DEFECTS = ["object", "texture", "shift", "blur"];
export const SCENES = ["defects", "subtle", "drifting defects", "drift"]; // drift last: the defect scenes' rows need it
const STRETCH = 20; // frames of each defect, with as many normal frames between them
const DRIFT = 360; // frames of drifting light after learning

/** Frame labels of a scene: "learn", "normal", a defect kind, or "drift" (normal frames under drifting light). */
export function sceneLabels(kind) {
  const labels = Array(SCENE.learn).fill("learn");
  if (kind === "drift") return [...labels, ...Array(DRIFT).fill("drift")];
  labels.push(...Array(30).fill("normal"));
  for (const d of DEFECTS) labels.push(...Array(STRETCH).fill(d), ...Array(STRETCH).fill("normal"));
  return labels;
}

/**
 * ffmpeg's lavfi graph for a scene ("defects", "subtle", "drift", or "drifting defects": the
 * defects under the drift's light, which runs its whole course over the frames after learning);
 * `seed` picks the sensor noise.
 */
function sceneGraph(kind, seed) {
  const labels = sceneLabels(kind), { width: W, height: H, rate } = SCENE;
  const during = (d) => `between(N,${labels.indexOf(d)},${labels.lastIndexOf(d)})`;
  const texture = (x, y) =>
    `(120+25*sin(0.9*${x})*sin(0.7*${y})+15*sin(0.31*(${x}+2*${y}))+30*between(${x},20,50)*between(${y},30,70)` +
    `-30*between(${x},100,140)*between(${y},60,100)+25*lt(hypot(${x}-70,${y}-95),12))`;
  let lum;
  if (kind === "drift") {
    lum = texture("X", "Y");
  } else if (kind === "subtle") {
    // Defects that keep the local contrast: the texture turned by 90° (the same spectrum), a
    // one-pixel shift, a mild blur, a small object of the mean grey.
    const region = `between(X,60,83)*between(Y,16,39)*${during("texture")}`;
    lum = `st(0,X-${during("shift")});if(${region},${texture("Y", "X")},${texture("ld(0)", "Y")})`;
  } else {
    const region = `between(X,60,83)*between(Y,16,39)*${during("texture")}`;
    lum = `st(0,X-3*${during("shift")});st(1,Y-2*${during("shift")});if(${region},120+30*sin(1.7*X+0.6*Y),${texture("ld(0)", "ld(1)")})`;
  }
  if (kind.includes("drift")) {
    // Over the frames after learning: brightness ×1.25, back, ×0.75 and back, the black level
    // down by up to 15, and a left-to-right gradient of up to ±12 rising and falling.
    const t = `max(0,(N-${SCENE.learn})/${labels.length - SCENE.learn})`;
    lum = `st(2,${t});(1+0.25*sin(2*PI*ld(2)))*(${lum})-15*sin(PI*ld(2))+0.15*sin(PI*ld(2))*(X-${W / 2})`;
  }
  const filters = [`color=c=gray:size=${W}x${H}:rate=${rate}`, "format=yuv420p", `geq=lum='${lum}':cb=128:cr=128`];
  if (kind !== "drift") {
    const subtle = kind === "subtle";
    filters.push(`drawbox=x=118:y=18:w=${subtle ? 6 : 8}:h=${subtle ? 6 : 8}:color=${subtle ? "0x787878" : "white"}:t=fill:enable='${during("object").replace("N", "n")}'`);
    filters.push(`boxblur=${subtle ? 1 : 2}:1:enable='${during("blur").replace("N", "n")}'`);
  }
  filters.push(`noise=alls=6:allf=t:all_seed=${seed}`);
  return { graph: filters.join(","), frames: labels.length };
}

/** Writes a scene as raw I420 to `path` with ffmpeg (`ffmpeg` on PATH unless given); returns its frame labels. */
export function writeScene(kind, path, { seed = 1, ffmpeg = "ffmpeg" } = {}) {
  const { graph, frames } = sceneGraph(kind, seed);
  const r = spawnSync(ffmpeg, ["-v", "error", "-y", "-f", "lavfi", "-i", graph, "-frames:v", String(frames), "-pix_fmt", "yuv420p", "-f", "rawvideo", path], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr || r.error}`);
  return sceneLabels(kind);
}

// ---- methods: each learn(frames of luma patch rows, grid) → { score(rows) → number, threshold } ----

/**
 * The camera watcher's model, as watch.mjs runs it (the default SAE, `margin`); with `parts`,
 * only these parts of its patch score summed (scores.mjs), the threshold set the same way.
 */
const saeEdge = (parts) => async (learning, grid, margin) => {
  const model = await CameraModel.learn(learning.map((r) => r.slice()), grid, { margin });
  const done = () => model.sae.dispose();
  if (!parts) return { score: (rows) => model.score(rows.slice()).score, threshold: model.camera.threshold, done };
  const { typical } = model.scorer;
  const score = (rows) => {
    const r = model.score(rows.slice()).parts;
    return Math.max(...r[parts[0]].map((_, p) => parts.reduce((s, k) => s + r[k][p] / typical[k][p], 0)));
  };
  return { score, threshold: model.camera.margin * Math.max(...learning.slice(Math.ceil(learning.length / 2)).map(score)), done };
};

/** Per-position pixel z-score: each pixel against its mean and spread on the fit frames; a frame scores its worst patch's mean z². */
function pixelZ(fit, grid) {
  const n = fit[0].length, mean = new Float64Array(n), sd = new Float64Array(n);
  for (const f of fit) for (let i = 0; i < n; i++) mean[i] += f[i] / fit.length;
  for (const f of fit) for (let i = 0; i < n; i++) sd[i] += (f[i] - mean[i]) ** 2 / fit.length;
  for (let i = 0; i < n; i++) sd[i] = Math.sqrt(sd[i]) + 1e-3;
  return (rows) => worstPatch(grid, (i) => ((rows[i] - mean[i]) / sd[i]) ** 2);
}

/** kNN per position: each patch's squared distance to the nearest patch at the same position in a fit frame; a frame scores its worst patch. */
function positionKnn(fit, grid) {
  const d = grid.dIn, rows = (f, p) => f.subarray(p * d, (p + 1) * d);
  const scorers = Array.from({ length: grid.count }, (_, p) => {
    const train = new Float32Array(fit.length * d);
    fit.forEach((f, i) => train.set(rows(f, p), i * d));
    return knn(1)(train, d);
  });
  return (frame) => Math.max(...scorers.map((score, p) => score(rows(frame, p))[0] / d));
}

/** Difference to the mean learning frame: a frame scores its worst patch's mean squared difference. */
function meanDifference(fit, grid) {
  const n = fit[0].length, mean = new Float64Array(n);
  for (const f of fit) for (let i = 0; i < n; i++) mean[i] += f[i] / fit.length;
  return (rows) => worstPatch(grid, (i) => (rows[i] - mean[i]) ** 2);
}

function worstPatch(grid, value) {
  let worst = 0;
  for (let p = 0; p < grid.count; p++) {
    let s = 0;
    for (let i = p * grid.dIn; i < (p + 1) * grid.dIn; i++) s += value(i);
    worst = Math.max(worst, s / grid.dIn);
  }
  return worst;
}

/** A baseline fitted on the first half of the learning frames, its threshold the largest score on the second half. */
const baseline = (make) => async (learning, grid) => {
  const half = Math.ceil(learning.length / 2), score = make(learning.slice(0, half), grid);
  return { score, threshold: Math.max(...learning.slice(half).map(score)) };
};

export const METHODS = {
  "sae-edge camera": saeEdge(),
  "  residual + contrast": saeEdge(["residual", "contrast"]),
  "  residual + novelty": saeEdge(["residual", "novelty"]),
  "  residual alone": saeEdge(["residual"]),
  "  novelty alone": saeEdge(["novelty"]),
  "  contrast alone": saeEdge(["contrast"]),
  "pixel z-score": baseline(pixelZ),
  "kNN per position (k=1)": baseline(positionKnn),
  "mean-frame difference": baseline(meanDifference),
};

// ---- the table ----

function framesOf(path, grid) {
  const bytes = readFileSync(path), size = i420Bytes(grid.width, grid.height);
  return Array.from({ length: bytes.length / size }, (_, i) => grid.extract(bytes.subarray(i * size, (i + 1) * size)));
}

/** Every method's scores (over its threshold) on one seed's scenes: { method: { scene: { label: [scores…] } }, ms, scored }. */
async function runSeed(seed, dir, scenesToRun, margin) {
  const grid = new PatchGrid({ ...SCENE, stride: SCENE.width, step: SCENE.patch });
  const scenes = scenesToRun.map((kind) => {
    const path = join(dir, `${kind}-${seed}.yuv`);
    return { kind, labels: writeScene(kind, path, { seed }), frames: framesOf(path, grid) };
  });
  const out = {};
  for (const [name, learn] of Object.entries(METHODS)) {
    const r = (out[name] = { ms: 0, scored: 0 });
    for (const { kind, labels, frames } of scenes) {
      const m = await learn(frames.slice(0, SCENE.learn), grid, margin);
      for (let i = SCENE.learn; i < frames.length; i++) {
        const t = performance.now(), s = m.score(frames[i]) / m.threshold;
        (r.ms += performance.now() - t), r.scored++;
        ((r[kind] ??= {})[labels[i]] ??= []).push(s);
      }
      m.done?.();
    }
  }
  return out;
}

/**
 * Per defect scene and method: frame-level recall per defect kind at the calibrated threshold,
 * false alerts among its normal frames and among the frames under drifting light, AUROC and AUPRC
 * (every defect frame against every normal and drifting frame), time per frame.
 */
export async function cameraTable({ seeds = 3, scenes = SCENES, margin = 2 } = {}) {
  if (!scenes.includes("drift") || scenes.some((k) => !SCENES.includes(k))) throw new Error(`scenes must include drift, from ${SCENES.join(", ")}`);
  const dir = mkdtempSync(join(tmpdir(), "sae-edge-camera-bench-"));
  const acc = {}; // method → { scene → { label → [scores…] } }, ms, scored
  try {
    for (let seed = 1; seed <= seeds; seed++) {
      for (const [name, r] of Object.entries(await runSeed(seed, dir, scenes, margin))) {
        const a = (acc[name] ??= { ms: 0, scored: 0 });
        for (const kind of scenes) for (const [label, v] of Object.entries(r[kind])) ((a[kind] ??= {})[label] ??= []).push(...v);
        (a.ms += r.ms), (a.scored += r.scored);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const over = (v) => v.filter((s) => s > 1).length / v.length;
  const rows = scenes.filter((k) => k !== "drift").flatMap((kind) =>
    Object.entries(acc).map(([name, a]) => {
      const drift = a.drift.drift, scene = a[kind], normal = [...scene.normal, ...drift], faults = DEFECTS.flatMap((d) => scene[d]);
      const y = [...normal.map(() => 0), ...faults.map(() => 1)];
      return [kind, name, ...DEFECTS.map((d) => over(scene[d])), over(scene.normal), over(drift), auroc([...normal, ...faults], y), auprc([...normal, ...faults], y), a.ms / a.scored];
    }),
  );
  return {
    title: `Camera scenes (${seeds} seeds; ${SCENE.width}×${SCENE.height}, ${SCENE.patch}-pixel patches, ${SCENE.learn} learning frames, ${STRETCH} frames of each defect, ${DRIFT} frames of drifting light)`,
    note: `Scenes: "defects" (a white 8×8 object, a region's texture changed, a shift by (3, 2) pixels, a 2-pixel box blur), "subtle" (a grey 6×6 object, the texture turned by 90°, a 1-pixel shift, a 1-pixel blur), "drifting defects" (the defects while the light drifts as in "drift"). Recall: share of each defect kind's frames above the method's threshold (sae-edge: ${margin} × the largest score on the held-out learning frames, watch.mjs's --margin; baselines: the largest held-out score). False alerts: share of the scene's normal frames, and of the frames of the "drift" scene (no defect, drifting light), above it. AUROC/AUPRC: every defect frame against every normal and drifting frame. Time: scoring one frame's patches, after learning.`,
    columns: ["scene", "method", ...DEFECTS.map((d) => `${d} recall`), "false alerts (its normal frames)", "false alerts (drift)", "AUROC", "AUPRC", "ms / frame"],
    rows,
  };
}

export async function cameraTables(o = {}) {
  return [await cameraTable(o)];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const usage = (why) => {
    process.stderr.write(`camera.mjs: ${why} (usage: node bench/anomaly/camera.mjs [--seeds 3] [--scenes defects,subtle,drift,…] [--margin 2] [--json])\n`);
    process.exit(2);
  };
  let values;
  try {
    ({ values } = parseArgs({ options: { seeds: { type: "string", default: "3" }, json: { type: "boolean" }, scenes: { type: "string", default: SCENES.join(",") }, margin: { type: "string", default: "2" } } }));
  } catch (e) {
    usage(e.message);
  }
  const seeds = Number(values.seeds);
  if (!(Number.isInteger(seeds) && seeds > 0)) usage("--seeds must be a positive integer");
  const scenes = values.scenes.split(",");
  if (!scenes.includes("drift") || scenes.some((k) => !SCENES.includes(k))) usage(`--scenes must name drift and any of ${SCENES.join(", ")}`);
  const margin = Number(values.margin);
  if (!(margin > 0 && Number.isFinite(margin))) usage("--margin must be a positive number");
  const tables = await cameraTables({ seeds, scenes, margin });
  console.log(values.json ? JSON.stringify(tables) : tables.map(markdown).join("\n"));
}
