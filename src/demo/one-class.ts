// The MNIST one-class benchmark: for each digit c, learn from the first 80% of digit c, test on
// the last 20% of every digit (c normal, the rest anomalies). The SAE trains on the first 75% of
// those rows; the other 25% are held out to scale the scores and set the thresholds. AUROC of
// every sae-edge score, beside PCA on the same rows and the published One-Class Deep SVDD row.
import type { WasmBuilds } from "../runtime/index.js";
import { loadSaeWith } from "../runtime/index.js";
import { buildModel, serializeModel } from "../model/quantize.js";
import { auroc, rocCurve, type RocPoint } from "../metrics/detection.js";
import { matrixBatches, trainSae } from "../train/train-loop.js";
import type { TrainOptions } from "../train/options.js";
import { fitPca, pcaScores } from "./pca.js";
import { anomalyScores } from "../anomaly/scoring.js";
import { fitDetector, METHODS, type Method } from "../anomaly/detector.js";
import { MNIST_DIM, MNIST_SIDE, concatRows, splitDigit } from "./mnist-data.js";

/** Ruff et al. 2018 (ICML), Table 1, One-Class Deep SVDD on MNIST, AUROC %. */
export const DEEP_SVDD_ONE_CLASS = [98.0, 99.7, 91.7, 91.9, 94.9, 88.5, 98.3, 94.6, 93.9, 96.5];

export interface OneClassConfig {
  train: Partial<TrainOptions>;
  epochs: number;
  pcaComponents: number;
  /** Fraction of each digit's training rows held out from the SAE for scales and thresholds. */
  heldOut: number;
  /** The residual pooled over 28 × 28 neighbourhoods of this radius (see pooledResidual). */
  poolRadius: number;
  fpr: number;
}

export const ONE_CLASS_DEFAULTS: OneClassConfig = {
  train: { architecture: "topk", dSae: 256, k: 16, batchSize: 64, lr: 2e-3, seed: 0 },
  epochs: 20,
  pcaComponents: 32,
  heldOut: 0.25,
  poolRadius: 1,
  fpr: 0.01,
};

/** "norm": the residual ‖x−x̂‖²/‖x‖² as before; the detector's methods, the residual pooled; PCA's residual over ‖x‖². */
export type OneClassScore = "norm" | Method | "pca";
export const ONE_CLASS_SCORES: readonly OneClassScore[] = ["norm", ...METHODS, "pca"];

export interface OneClassResult {
  digit: number;
  /** AUROC % per score. */
  auroc: Record<OneClassScore, number>;
  deepSvdd: number;
  /** ROC of the pooled residual. */
  roc: RocPoint[];
  /** Test rows (all digits) in order: their scores and labels (1 = another digit). */
  scores: Record<OneClassScore, Float64Array>;
  labels: Uint8Array;
  /** Per detector method: the threshold set on held-out rows at config.fpr, and those rows' scores (for other rates). */
  thresholds: Record<Method, number>;
  heldOutScores: Record<Method, Float64Array>;
  /** Milliseconds per test row for every sae-edge score together (one encode and decode). */
  msPerRow: number;
  model: Uint8Array;
}

export async function oneClassBenchmark(builds: WasmBuilds, digits: Float32Array[], config = ONE_CLASS_DEFAULTS, onDigit?: (r: OneClassResult) => void): Promise<{ results: OneClassResult[]; test: Float32Array }> {
  const tests = digits.map((d) => splitDigit(d).test);
  const test = concatRows(tests);
  const testRows = test.length / MNIST_DIM;
  const testDigit = Uint8Array.from(tests.flatMap((t, d) => new Array<number>(t.length / MNIST_DIM).fill(d)));
  const norms = Float64Array.from({ length: testRows }, (_, r) => test.subarray(r * MNIST_DIM, (r + 1) * MNIST_DIM).reduce((a, v) => a + v * v, 0));
  const results: OneClassResult[] = [];
  for (let c = 0; c < 10; c++) {
    const { train } = splitDigit(digits[c]);
    const cut = Math.round((1 - config.heldOut) * (train.length / MNIST_DIM)) * MNIST_DIM;
    const learn = train.subarray(0, cut), heldOut = train.subarray(cut);
    const { trainer } = await trainSae(builds, {
      dIn: MNIST_DIM, epochs: config.epochs, batches: matrixBatches(learn, MNIST_DIM, config.train.batchSize ?? 64, c), options: config.train,
    });
    const model = serializeModel(buildModel(trainer.weights(), "int8", { source_format: "sae-edge one-class", digit: c }));
    const sae = await loadSaeWith(builds, model);
    const detector = fitDetector(sae, { learn, heldOut }, { fpr: config.fpr, grid: { height: MNIST_SIDE, width: MNIST_SIDE, radius: config.poolRadius } });
    const t0 = performance.now();
    const detected = detector.scores(test);
    const msPerRow = (performance.now() - t0) / testRows;
    const heldOutScores = detector.scores(heldOut);
    const norm = anomalyScores(sae, test, "norm");
    sae.dispose();
    // PCA learns from every training row (held-out ones too: it needs none), scored as the SAE's "norm".
    const pca = pcaScores(fitPca(train, MNIST_DIM, config.pcaComponents), test).map((s, r) => s / norms[r]);
    const scores = { norm, ...detected, pca };
    const labels = Uint8Array.from(testDigit, (d) => (d === c ? 0 : 1));
    const r: OneClassResult = {
      digit: c,
      auroc: Object.fromEntries(ONE_CLASS_SCORES.map((s) => [s, 100 * auroc(scores[s], labels)])) as Record<OneClassScore, number>,
      deepSvdd: DEEP_SVDD_ONE_CLASS[c],
      roc: rocCurve(detected.residual, labels), scores, labels, thresholds: detector.thresholds, heldOutScores, msPerRow, model,
    };
    results.push(r);
    onDigit?.(r);
  }
  return { results, test };
}
