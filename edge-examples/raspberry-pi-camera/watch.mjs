#!/usr/bin/env node
// Watches a camera for frames that do not look normal. Reads raw I420 frames (rpicam-vid
// --codec yuv420, ffmpeg -pix_fmt yuv420p -f rawvideo), learns the normal look from the
// first frames on the device (or loads a model), scores every later frame by its worst
// patch, and writes JSON Lines events to stdout and a heatmap PNG for each alert.
// See README.md for the options and the commands on a Raspberry Pi.
import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { commandLine, exitWithInputError, InputError, removeAtomicLeftovers } from "sae-edge";
import { i420Bytes, sizeHint } from "./frames.mjs";
import { writeHeatmap } from "./heatmap.mjs";
import { CameraModel } from "./model.mjs";
import { PatchGrid } from "./patches.mjs";
import { frameSource } from "./source.mjs";

const KERNELS = ["scalar", "simd128", "relaxed"];
const opts = commandLine(
  "Flags raw I420 camera frames (from stdin, a file or a camera command) that do not look like the\nscene it learned from the first frames. JSON Lines events on stdout, a heatmap PNG per alert.",
  {
    width: { type: "string", default: "640", arg: "px", help: "frame width" },
    height: { type: "string", default: "480", arg: "px", help: "frame height" },
    stride: { type: "string", arg: "bytes", help: "bytes per luma row, when rows are padded (default: the width)" },
    input: { type: "string", default: "-", arg: "file", help: "a raw I420 file, or - for stdin" },
    exec: { type: "string", arg: "command", help: "a camera command (sh -c) to read from, restarted when it exits" },
    restarts: { type: "string", arg: "n", help: "with --exec: how many restarts (default: unlimited)" },
    patch: { type: "string", default: "16", arg: "px", help: "patch side, in downscaled pixels" },
    step: { type: "string", arg: "px", help: "patch spacing (default: the patch side)" },
    downscale: { type: "string", default: "2", arg: "n", help: "box-filter factor before cutting patches" },
    skip: { type: "string", default: "0", arg: "n", help: "frames to ignore first (auto-exposure)" },
    learn: { type: "string", default: "20", arg: "n", help: "frames to learn from (half train, half calibrate)" },
    margin: { type: "string", default: "2", arg: "x", help: "threshold = margin × the largest held-out learning score" },
    "d-sae": { type: "string", default: "64", arg: "n", help: "SAE width" },
    k: { type: "string", default: "4", arg: "n", help: "active latents per patch (TopK)" },
    epochs: { type: "string", default: "6", arg: "n", help: "training epochs" },
    model: { type: "string", arg: "file", help: "load a camera model instead of learning" },
    save: { type: "string", arg: "file", help: "save the learned camera model" },
    "out-dir": { type: "string", default: "alerts", arg: "dir", help: "where alert PNGs go" },
    "max-png": { type: "string", default: "100", arg: "n", help: "at most this many PNGs" },
    "png-every": { type: "string", default: "10", arg: "n", help: "while an alert lasts, a PNG every n frames" },
    every: { type: "string", default: "1", arg: "n", help: "a frame event for every nth quiet frame" },
    kernel: { type: "string", arg: "name", help: `${KERNELS.join(", ")} (default: the fastest)` },
  },
);
const a = opts.values;
const int = (name, min) => opts.int(name, min);
const log = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const width = int("width"), height = int("height"), stride = a.stride ? int("stride") : width;
if (stride < width) throw new InputError(`--stride ${stride} is less than --width ${width}`);
const patch = int("patch");
const grid = new PatchGrid({ width, height, stride, patch, step: a.step ? int("step") : patch, downscale: int("downscale") });
const frameBytes = i420Bytes(stride, height);
const learnFrames = int("learn", 3), skip = int("skip", 0), every = int("every"), maxPng = int("max-png", 0), pngEvery = int("png-every");
const restarts = a.restarts === undefined ? undefined : int("restarts", 0);
const train = { margin: opts.number("margin", 0), kernel: opts.choice("kernel", KERNELS), dSae: int("d-sae"), k: int("k"), epochs: int("epochs") };
if (train.k > train.dSae) throw new InputError(`--k ${train.k} is more than --d-sae ${train.dSae}`);
if (a.exec && a.input !== "-") throw new InputError("give --input or --exec, not both");
mkdirSync(a["out-dir"], { recursive: true });
// Checked now, not after learning: a --save that cannot be written would waste the learning.
if (a.save) {
  if (existsSync(a.save) && statSync(a.save).isDirectory()) throw new InputError(`--save ${a.save} is a folder, not a file`);
  const folder = dirname(resolve(a.save));
  if (!statSync(folder).isDirectory()) throw new InputError(`--save ${a.save}: ${folder} is not a folder`);
  accessSync(folder, constants.W_OK);
  // What a save killed half-way left behind (the saved model itself is whole: sae-edge's atomic writes).
  removeAtomicLeftovers(folder, basename(resolve(a.save)));
}

// A file's size says at once whether the geometry is right (a pipe's, only at its end).
let hint = null; // what the input's size says about the geometry, if it does not fit
if (!a.exec && a.input !== "-") {
  const file = statSync(a.input);
  if (file.isDirectory()) throw new InputError(`--input ${a.input} is a folder, not a file`);
  if (file.isFile()) hint = sizeHint(file.size, width, height, stride);
  if (hint) log({ event: "size-warning", hint });
}
if (a.model && statSync(a.model).isDirectory()) throw new InputError(`--model ${a.model} is a folder, not a file`);
let model = a.model ? await CameraModel.load(a.model, grid, train.kernel) : null;
log({ event: "start", width, height, stride, frameBytes, patches: grid.count, patchDims: grid.dIn, model: a.model ?? null });

let frame = -1, total = 0, scored = 0, alerts = 0, pngs = 0, scoreMs = 0, child = null, stopping = false, tScore = 0;
let lastPng = -Infinity, prevAlert = false;
const learning = [];
const t0 = performance.now();
const source = frameSource({
  input: a.input, exec: a.exec, restarts, frameBytes,
  onPartial: (bytes, streamBytes) => {
    hint = sizeHint(streamBytes, width, height, stride);
    log({ event: "partial-frame", bytes, after: frame, hint });
  },
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
    model = await CameraModel.learn(learning.splice(0), grid, train);
    if (a.save) model.save(a.save);
    log({ event: "learned", frames: learnFrames, threshold: model.camera.threshold, seconds: (performance.now() - t) / 1000, saved: a.save ?? null });
    continue;
  }
  const t = performance.now();
  tScore ||= t;
  const { score, at, ratio } = model.score(grid.extract(buf));
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
      writeHeatmap(png, buf, grid, ratio, model.camera.threshold, at);
    }
    log({ event: "alert", frame, score, threshold: model.camera.threshold, patch: { x, y, size: grid.patch * grid.downscale }, png });
  } else if (scored % every === 0) {
    log({ event: "frame", frame, score, threshold: model.camera.threshold });
  }
  prevAlert = alert;
}
finish();
model?.sae.dispose();
if (scored === 0 && !stopping) exitWithInputError(`nothing scored: ${whyNothingScored()}`);

function whyNothingScored() {
  const got = `the input ended after ${total} frame${total === 1 ? "" : "s"} of ${width}×${height}`;
  const why = total === 0 ? `the input held no whole ${width}×${height} frame (${frameBytes} bytes)`
    : total <= skip ? `${got}, all skipped (--skip ${skip})`
    : `${got}, before learning was done (--skip ${skip} + --learn ${learnFrames})`;
  return hint ? `${why}; ${hint}` : total > 0 && !model ? `${why}; if the frames are of another size, give --width and --height` : why;
}
