#!/usr/bin/env node
// Watches a camera for frames that do not look normal. Reads raw I420 frames (rpicam-vid
// --codec yuv420, ffmpeg -pix_fmt yuv420p -f rawvideo), learns the normal look from the
// first frames on the device (or loads a model), scores every later frame by its worst
// patch, and writes JSON Lines events to stdout and a heatmap PNG for each alert.
// See README.md for the options and the commands on a Raspberry Pi.
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { i420Bytes, sizeHint } from "./frames.mjs";
import { writeHeatmap } from "./heatmap.mjs";
import { CameraModel } from "./model.mjs";
import { PatchGrid } from "./patches.mjs";
import { frameSource } from "./source.mjs";

const { values: a } = parseArgs({
  options: {
    width: { type: "string", default: "640" },
    height: { type: "string", default: "480" },
    stride: { type: "string" },
    input: { type: "string", default: "-" },
    exec: { type: "string" },
    restarts: { type: "string" },
    patch: { type: "string", default: "16" },
    step: { type: "string" },
    downscale: { type: "string", default: "2" },
    skip: { type: "string", default: "0" },
    learn: { type: "string", default: "20" },
    margin: { type: "string", default: "2" },
    "d-sae": { type: "string", default: "64" },
    k: { type: "string", default: "4" },
    epochs: { type: "string", default: "6" },
    model: { type: "string" },
    save: { type: "string" },
    "out-dir": { type: "string", default: "alerts" },
    "max-png": { type: "string", default: "100" },
    "png-every": { type: "string", default: "10" },
    every: { type: "string", default: "1" },
    kernel: { type: "string" },
  },
});
const int = (name, min = 1) => {
  const v = Number(a[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${a[name]}`);
  return v;
};
const log = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const width = int("width"), height = int("height"), stride = a.stride ? int("stride") : width;
if (stride < width) throw new Error(`--stride ${stride} is less than --width ${width}`);
const patch = int("patch");
const grid = new PatchGrid({ width, height, stride, patch, step: a.step ? int("step") : patch, downscale: int("downscale") });
const frameBytes = i420Bytes(stride, height);
const learnFrames = int("learn", 2), skip = int("skip", 0), every = int("every"), maxPng = int("max-png", 0);
mkdirSync(a["out-dir"], { recursive: true });

// A file's size says at once whether the geometry is right (a pipe's, only at its end).
if (!a.exec && a.input !== "-" && statSync(a.input).isFile()) {
  const hint = sizeHint(statSync(a.input).size, width, height, stride);
  if (hint) log({ event: "size-warning", hint });
}
let model = a.model ? await CameraModel.load(a.model, grid, a.kernel) : null;
log({ event: "start", width, height, stride, frameBytes, patches: grid.count, patchDims: grid.dIn, model: a.model ?? null });

let frame = -1, total = 0, scored = 0, alerts = 0, pngs = 0, scoreMs = 0, child = null, stopping = false, tScore = 0;
let lastPng = -Infinity, prevAlert = false;
const pngEvery = int("png-every");
const learning = [];
const t0 = performance.now();
const source = frameSource({
  input: a.input, exec: a.exec, restarts: a.restarts === undefined ? undefined : int("restarts", 0), frameBytes,
  onPartial: (bytes, streamBytes) => log({ event: "partial-frame", bytes, after: frame, hint: sizeHint(streamBytes, width, height, stride) }),
  onExit: (e) => log({ event: "camera-exit", ...e }),
  onChild: (c) => (child = c),
  stopped: () => stopping,
});
function finish() {
  // fps: frames scored per second of wall time once learned (reading, scoring, events, PNGs);
  // scoreFps: counting only the patch extraction and the SAE.
  const fps = scored > 1 ? (scored - 1) / ((performance.now() - tScore) / 1000) : null;
  log({ event: "end", frames: total, scored, alerts, seconds: (performance.now() - t0) / 1000, fps, scoreFps: scored ? scored / (scoreMs / 1000) : null });
}
// A camera command is stopped and the loop below ends by itself; stdin or a file just stop.
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => ((stopping = true), a.exec ? child?.kill(sig) : (finish(), process.exit(0))));

for await (const buf of source) {
  frame++;
  total++;
  if (frame < skip) continue;
  if (!model) {
    learning.push(grid.extract(buf));
    if (learning.length < learnFrames) continue;
    const t = performance.now();
    model = await CameraModel.learn(learning.splice(0), grid, { margin: Number(a.margin), kernel: a.kernel, dSae: int("d-sae"), k: int("k"), epochs: int("epochs") });
    if (a.save) await model.save(a.save);
    log({ event: "learned", frames: learnFrames, threshold: model.camera.threshold, seconds: (performance.now() - t) / 1000, saved: a.save ?? null });
    continue;
  }
  const t = performance.now();
  tScore ||= t;
  const { score, at, ratio } = model.frameScore(model.patchErrors(grid.extract(buf)));
  scoreMs += performance.now() - t;
  scored++;
  const alert = score > model.camera.threshold;
  const [x, y] = grid.origin(at);
  if (alert) {
    alerts++;
    let png = null;
    // A picture for the first frame of each alert, then one every --png-every frames while it lasts.
    if (pngs < maxPng && (!prevAlert || frame - lastPng >= pngEvery)) {
      lastPng = frame;
      png = join(a["out-dir"], `alert-${String(frame).padStart(6, "0")}.png`);
      pngs++;
      await writeHeatmap(png, buf, grid, ratio, model.camera.threshold, at);
    }
    log({ event: "alert", frame, score, threshold: model.camera.threshold, patch: { x, y, size: grid.patch * grid.downscale }, png });
  } else if (scored % every === 0) {
    log({ event: "frame", frame, score, threshold: model.camera.threshold });
  }
  prevAlert = alert;
}
finish();
model?.sae.dispose();
