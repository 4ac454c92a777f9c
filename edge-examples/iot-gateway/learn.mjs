// Learns a device's normal on the device: trains a small TopK SAE on the training rows,
// quantizes it to int8, loads it and calibrates its threshold on held-out rows of the same
// normal (a threshold set on the rows it learned from is too low: they fit better than fresh ones).
// The detector's own score (scores.mjs) is calibrated the same way: its scales and threshold,
// the normal codes and `meta` (the feature statistics) ride in the model's provenance, so a
// saved model file is all a restarted gateway needs. The library's calibration (raw residual)
// is stored too, for tools that score the residual alone (the C host).
import { buildModel, calibrate, loadSae, nodeBuilds, serializeModel, withCalibration } from "sae-edge";
import { matrixBatches, trainSae } from "sae-edge/train";
import { packCodes } from "./novelty.mjs";
import { quantile, SCALE_QUANTILE, WindowScorer } from "./scores.mjs";

export const TRAIN_DEFAULTS = { dSae: 32, k: 4, epochs: 30, batch: 64, seed: 0, fpr: 0.01 };

/** rows, heldOut: Float32Array n × dIn. Returns the loaded Sae and the calibrated model file's bytes. */
export async function learnModel(rows, heldOut, dIn, meta, options = {}) {
  const o = { ...TRAIN_DEFAULTS, ...options };
  const { trainer } = await trainSae(nodeBuilds, {
    dIn,
    epochs: o.epochs,
    batches: matrixBatches(rows, dIn, o.batch, o.seed),
    options: { architecture: "topk", dSae: o.dSae, k: o.k, batchSize: o.batch, seed: o.seed, kernel: o.kernel },
  });
  const weights = trainer.weights();
  const build = (extra) => serializeModel(buildModel(weights, "int8", { source_format: "sae-edge iot-gateway", ...meta, ...extra }));
  // The normal codes come from the int8 model itself, as the scores will.
  const draft = await loadSae(build({}), { kernel: o.kernel });
  const codes = packCodes(draft.forward(rows).codes);
  const scorer = new WindowScorer(draft, { codes });
  const { residual, novelty } = scorer.parts(heldOut);
  // A floor: a stream that never varies would otherwise divide by zero.
  scorer.scales = [residual, novelty].map((v) => Math.max(quantile(v, SCALE_QUANTILE), 1e-9));
  const threshold = quantile(scorer.scores(heldOut).score, 1 - o.fpr);
  const model = build({ codes, scales: scorer.scales, threshold, fpr: o.fpr });
  const calibration = calibrate(draft, heldOut, { fpr: o.fpr, mode: "raw" });
  draft.dispose();
  const bytes = withCalibration(model, calibration);
  return { sae: await loadSae(bytes, { kernel: o.kernel }), bytes };
}
