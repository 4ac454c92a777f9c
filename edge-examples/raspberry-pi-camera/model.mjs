// The camera's model: an SAE over standardized Y-plane patches, plus what turns a frame's
// patches into a score (each position's normal codes and typical scores, scores.mjs) and the
// frame threshold. All of it lives in one model file: the SAE's tensors, the rest in its
// provenance metadata.
import { readFile } from "node:fs/promises";
import { buildModel, InputError, loadSae, nodeBuilds, serializeModel, writeFileAtomicSync } from "sae-edge";
import { matrixBatches, trainSae } from "sae-edge/train";
import { PatchScorer } from "./scores.mjs";

export const TRAIN_DEFAULTS = { dSae: 64, k: 4, epochs: 6, batch: 256, seed: 0 };

export class CameraModel {
  constructor(sae, bytes, camera, grid) {
    this.sae = sae;
    this.bytes = bytes;
    this.camera = camera; // { grid: {…}, scorer: {…} (scores.mjs), threshold, margin }
    this.grid = grid;
    this.scorer = new PatchScorer(sae, grid.count, camera.scorer);
  }

  /**
   * Learns from the patch rows of the learning frames (grid.extract): the first half trains the
   * SAE and gives each position its normal codes and typical scores; the threshold is set on the
   * second half, which neither saw (on the frames it learned from, a model scores too low).
   */
  static async learn(frameRows, grid, { margin = 2, kernel, ...train } = {}) {
    const o = { ...TRAIN_DEFAULTS, ...train };
    const frames = frameRows.map((rows) => ({ rows, contrast: grid.standardize(rows) }));
    const half = Math.ceil(frames.length / 2);
    const fit = frames.slice(0, half), held = frames.slice(half);
    if (held.length === 0 || fit.length < 2) throw new InputError("learning needs at least 3 frames (2 to learn from, 1 to set the threshold)");
    const x = new Float32Array(fit.length * grid.count * grid.dIn);
    fit.forEach((f, i) => x.set(f.rows, i * f.rows.length));
    const { trainer } = await trainSae(nodeBuilds, {
      dIn: grid.dIn,
      epochs: o.epochs,
      batches: matrixBatches(x, grid.dIn, o.batch, o.seed),
      options: { architecture: "topk", dSae: o.dSae, k: o.k, batchSize: o.batch, seed: o.seed, kernel },
    });
    const weights = trainer.weights();
    // The statistics come from the int8 model itself, as the scores will.
    const sae = await loadSae(serializeModel(buildModel(weights, "int8")), { kernel });
    const scorer = PatchScorer.learn(sae, grid.count, fit);
    const threshold = margin * Math.max(...held.map((f) => scorer.score(f).score));
    const camera = { grid: gridSpec(grid), scorer: scorer.toJSON(), margin, threshold };
    const bytes = serializeModel(buildModel(weights, "int8", { source_format: "sae-edge raspberry-pi-camera", camera }));
    return new CameraModel(sae, bytes, camera, grid);
  }

  static async load(path, grid, kernel) {
    const bytes = new Uint8Array(await readFile(path));
    const sae = await loadSae(bytes, { kernel });
    const camera = sae.info.provenance.camera;
    if (!camera?.scorer) throw new InputError(`${path} is not a camera model (no provenance.camera)`);
    const want = gridSpec(grid), have = camera.grid ?? {};
    for (const k of Object.keys(want)) if (want[k] !== have[k]) throw new InputError(`${path} was learned with --${k} ${have[k]}, not ${want[k]}`);
    if (sae.info.dIn !== grid.dIn) throw new InputError(`${path} takes ${sae.info.dIn} values per patch, not ${grid.dIn}`);
    // Checked here so that a damaged file fails at start, not as NaN scores on every frame.
    if (!(typeof camera.threshold === "number" && camera.threshold > 0 && Number.isFinite(camera.threshold))) throw new InputError(`${path}: its camera threshold is damaged (expected a positive number)`);
    try {
      return new CameraModel(sae, bytes, camera, grid);
    } catch (e) {
      throw new InputError(`${path}: its camera statistics are damaged (${e.message})`);
    }
  }

  /** Atomically and durably: a crash while saving leaves the old file, never part of the new one. */
  save(path) {
    writeFileAtomicSync(path, this.bytes);
  }

  /** Scores one frame's patch rows (grid.extract; standardized in place): { score, at, ratio, parts }. */
  score(rows) {
    return this.scorer.score({ rows, contrast: this.grid.standardize(rows) });
  }
}

const gridSpec = (g) => ({ width: g.width, height: g.height, patch: g.patch, step: g.step, downscale: g.downscale });
