// The camera's model: an SAE over Y-plane patches, plus what turns its per-patch
// errors into a frame score (each position's typical error on held-out learning
// frames) and the frame threshold. All of it lives in one model file: the SAE's
// tensors, the rest in its provenance metadata.
import { readFile } from "node:fs/promises";
import { buildModel, loadSae, nodeBuilds, serializeModel } from "sae-edge";
import { matrixBatches, trainSae } from "sae-edge/train";
import { InputError } from "./cli.mjs";
import { writeFileDurable } from "./durable.mjs";

export const TRAIN_DEFAULTS = { dSae: 64, k: 4, epochs: 6, batch: 256, seed: 0 };

export class CameraModel {
  constructor(sae, bytes, camera) {
    this.sae = sae;
    this.bytes = bytes;
    this.camera = camera; // { grid: {…}, baseline: number[], threshold, margin }
  }

  /** Trains on the patches of the first half of `frames` (rows per frame = grid.count), calibrates on the second half. */
  static async learn(frameRows, grid, { margin = 2, kernel, ...train } = {}) {
    const o = { ...TRAIN_DEFAULTS, ...train };
    const half = Math.max(1, Math.floor(frameRows.length / 2));
    const fit = frameRows.slice(0, half), held = frameRows.slice(half);
    if (held.length === 0) throw new InputError("learning needs at least 2 frames");
    const x = new Float32Array(fit.length * grid.count * grid.dIn);
    fit.forEach((r, i) => x.set(r, i * r.length));
    const { trainer } = await trainSae(nodeBuilds, {
      dIn: grid.dIn,
      epochs: o.epochs,
      batches: matrixBatches(x, grid.dIn, o.batch, o.seed),
      options: { architecture: "topk", dSae: o.dSae, k: o.k, batchSize: o.batch, seed: o.seed, kernel },
    });
    const weights = trainer.weights();
    const sae = await loadSae(serializeModel(buildModel(weights, "int8")), { kernel });
    // Each position's mean error on held-out frames; the overall mean keeps flat patches
    // (tiny typical error) from turning noise into huge ratios.
    const errs = held.map((r) => sae.score(r).squared);
    const mean = new Float64Array(grid.count);
    for (const e of errs) for (let p = 0; p < grid.count; p++) mean[p] += e[p] / errs.length;
    const overall = mean.reduce((a, b) => a + b, 0) / grid.count;
    const baseline = Array.from(mean, (m) => m + overall);
    const camera = { grid: gridSpec(grid), baseline, margin, threshold: 0 };
    const model = new CameraModel(sae, null, camera);
    camera.threshold = margin * Math.max(...errs.map((e) => model.frameScore(e).score));
    model.bytes = serializeModel(buildModel(weights, "int8", { source_format: "sae-edge raspberry-pi-camera", camera }));
    return model;
  }

  static async load(path, grid, kernel) {
    const bytes = new Uint8Array(await readFile(path));
    const sae = await loadSae(bytes, { kernel });
    const camera = sae.info.provenance.camera;
    if (!camera?.baseline) throw new InputError(`${path} is not a camera model (no provenance.camera)`);
    const want = gridSpec(grid), have = camera.grid ?? {};
    for (const k of Object.keys(want)) if (want[k] !== have[k]) throw new InputError(`${path} was learned with --${k} ${have[k]}, not ${want[k]}`);
    // Checked here so that a damaged file fails at start, not as NaN scores on every frame.
    const positive = (v) => typeof v === "number" && v > 0 && Number.isFinite(v);
    if (!Array.isArray(camera.baseline) || camera.baseline.length !== grid.count || !camera.baseline.every(positive) || !positive(camera.threshold)) {
      throw new InputError(`${path}: its camera baseline or threshold is damaged (expected ${grid.count} positive numbers and a positive threshold)`);
    }
    if (sae.info.dIn !== grid.dIn) throw new InputError(`${path} takes ${sae.info.dIn} values per patch, not ${grid.dIn}`);
    return new CameraModel(sae, bytes, camera);
  }

  /** Atomically and durably: a crash while saving leaves the old file, never part of the new one. */
  save(path) {
    writeFileDurable(path, this.bytes);
  }

  /** Per-patch reconstruction errors of one frame's patch rows. */
  patchErrors(rows) {
    return this.sae.score(rows).squared;
  }

  /** Each patch's error over its position's baseline; the frame's score is the largest. */
  frameScore(errors) {
    const ratio = new Float64Array(errors.length);
    let score = 0, at = 0;
    for (let p = 0; p < errors.length; p++) {
      ratio[p] = errors[p] / this.camera.baseline[p];
      if (ratio[p] > score) (score = ratio[p]), (at = p);
    }
    return { score, at, ratio };
  }
}

const gridSpec = (g) => ({ width: g.width, height: g.height, patch: g.patch, step: g.step, downscale: g.downscale });
