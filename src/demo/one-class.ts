// The MNIST one-class benchmark: for each digit c, fit on the first 80% of digit
// c, test on the last 20% of every digit (c normal, the rest anomalies); AUROC
// of the int8 SAE's reconstruction error, beside PCA on the same split and the
// published One-Class Deep SVDD row.
import type { WasmBuilds } from "../runtime/index.js";
import { loadSaeWith } from "../runtime/index.js";
import { buildModel, serializeModel } from "../model/quantize.js";
import { auroc, rocCurve, type RocPoint } from "../metrics/detection.js";
import { matrixBatches, trainSae } from "../train/train-loop.js";
import type { TrainOptions } from "../train/options.js";
import { fitPca, pcaScores } from "./pca.js";
import { anomalyScores, calibrate } from "../anomaly/scoring.js";
import type { ScoreMode } from "../model/spec.js";
import { MNIST_DIM, concatRows, splitDigit } from "./mnist-data.js";

/** Ruff et al. 2018 (ICML), Table 1, One-Class Deep SVDD on MNIST, AUROC %. */
export const DEEP_SVDD_ONE_CLASS = [98.0, 99.7, 91.7, 91.9, 94.9, 88.5, 98.3, 94.6, 93.9, 96.5];

export interface OneClassConfig {
  train: Partial<TrainOptions>;
  /** How test rows are scored; "var" and "norm" are calibrated on the training rows. */
  scoreMode: ScoreMode;
  epochs: number;
  pcaComponents: number;
}

export const ONE_CLASS_DEFAULTS: OneClassConfig = {
  train: { architecture: "topk", dSae: 256, k: 16, batchSize: 64, lr: 2e-3, seed: 0 },
  scoreMode: "norm",
  epochs: 20,
  pcaComponents: 32,
};

export interface OneClassResult {
  digit: number;
  sae: number;
  pca: number;
  deepSvdd: number;
  roc: RocPoint[];
  /** Test rows (all digits) in order, their labels and SAE scores, for pictures. */
  scores: Float64Array;
  labels: Uint8Array;
  model: Uint8Array;
}

export async function oneClassBenchmark(builds: WasmBuilds, digits: Float32Array[], config = ONE_CLASS_DEFAULTS, onDigit?: (r: OneClassResult) => void): Promise<{ results: OneClassResult[]; test: Float32Array }> {
  const tests = digits.map((d) => splitDigit(d).test);
  const test = concatRows(tests);
  const testDigit = Uint8Array.from(tests.flatMap((t, d) => new Array<number>(t.length / MNIST_DIM).fill(d)));
  const results: OneClassResult[] = [];
  for (let c = 0; c < 10; c++) {
    const { train } = splitDigit(digits[c]);
    const { trainer } = await trainSae(builds, {
      dIn: MNIST_DIM, epochs: config.epochs, batches: matrixBatches(train, MNIST_DIM, config.train.batchSize ?? 64, c), options: config.train,
    });
    const model = serializeModel(buildModel(trainer.weights(), "int8", { source_format: "sae-edge one-class", digit: c }));
    const sae = await loadSaeWith(builds, model);
    const calibration = config.scoreMode === "var" ? calibrate(sae, train, { mode: "var" }) : undefined;
    const scores = anomalyScores(sae, test, config.scoreMode, calibration?.residualVariance);
    sae.dispose();
    const labels = Uint8Array.from(testDigit, (d) => (d === c ? 0 : 1));
    const pca = pcaScores(fitPca(train, MNIST_DIM, config.pcaComponents), test);
    if (config.scoreMode === "norm") {
      // The same score as the SAE's: squared error over ‖x‖².
      for (let r = 0; r < pca.length; r++) {
        let n = 0;
        for (let i = 0; i < MNIST_DIM; i++) n += test[r * MNIST_DIM + i] ** 2;
        pca[r] /= n;
      }
    }
    const r: OneClassResult = {
      digit: c, sae: 100 * auroc(scores, labels), pca: 100 * auroc(pca, labels), deepSvdd: DEEP_SVDD_ONE_CLASS[c],
      roc: rocCurve(scores, labels), scores, labels, model,
    };
    results.push(r);
    onDigit?.(r);
  }
  return { results, test };
}
