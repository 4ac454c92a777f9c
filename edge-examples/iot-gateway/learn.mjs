// Learns a device's normal on the device: trains a small TopK SAE on the learning rows,
// quantizes it to int8, loads it and calibrates its threshold on the same rows.
// `meta` (window, channel mean/std) rides in the model's provenance, so a saved model
// file is all a restarted gateway needs.
import { buildModel, calibrate, loadSae, nodeBuilds, serializeModel, withCalibration } from "sae-edge";
import { matrixBatches, trainSae } from "sae-edge/train";

export const TRAIN_DEFAULTS = { dSae: 32, k: 4, epochs: 30, batch: 64, seed: 0, fpr: 0.01 };

/** rows: Float32Array n × dIn. Returns the loaded Sae and the calibrated model file's bytes. */
export async function learnModel(rows, dIn, meta, options = {}) {
  const o = { ...TRAIN_DEFAULTS, ...options };
  const { trainer } = await trainSae(nodeBuilds, {
    dIn,
    epochs: o.epochs,
    batches: matrixBatches(rows, dIn, o.batch, o.seed),
    options: { architecture: "topk", dSae: o.dSae, k: o.k, batchSize: o.batch, seed: o.seed, kernel: o.kernel },
  });
  const model = serializeModel(buildModel(trainer.weights(), "int8", { source_format: "sae-edge iot-gateway", ...meta }));
  const sae = await loadSae(model, { kernel: o.kernel });
  const calibration = calibrate(sae, rows, { fpr: o.fpr, mode: "raw" });
  const bytes = withCalibration(model, calibration);
  sae.dispose();
  return { sae: await loadSae(bytes, { kernel: o.kernel }), bytes };
}
