// `npm start`: the main job on the bundled default. Loads the default MNIST SAE,
// encodes every digit (throughput, FVU, L0), runs the one-class anomaly
// benchmark (ten small SAEs trained here), and writes pictures to a folder.
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { calibrate, anomalyScores, explainRow } from "../anomaly/scoring.js";
import { rocSvg } from "../anomaly/roc-svg.js";
import type { KernelName } from "../runtime/index.js";
import { ReconstructionMetricsAccumulator } from "../metrics/reconstruction.js";
import { createRequire } from "node:module";
import { loadSae, nodeBuilds } from "../adapters/node/index.js";
import { writeFileAtomic } from "../adapters/node/atomic-write.js";
import { fail, failIo } from "../base/errors.js";
import { DEFAULT_MODEL_PATH } from "./default-model.js";
import { MNIST_DIM, MNIST_SIDE, concatRows, mnistDigits, splitDigit } from "./mnist-data.js";
import { oneClassBenchmark, ONE_CLASS_DEFAULTS, type OneClassResult, type OneClassScore } from "./one-class.js";
import { anomalyStrip, atlas } from "./pictures.js";
import { toPng } from "./raster.js";

export interface MnistJobOptions {
  kernel?: KernelName;
  outDir: string;
  modelPath?: string;
  /** Epochs for each one-class model. */
  epochs?: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Makes the picture folder before any work: a file in its place is one line, not a crash at the end. */
async function pictureFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") fail("INVALID_ARGUMENT", `cannot make the picture folder ${dir}: a file is in its place`);
    failIo(`cannot make the picture folder ${dir}`, e);
  }
}

export async function runMnistJob(o: MnistJobOptions, out: (line: string) => void = console.log): Promise<void> {
  const t0 = performance.now();
  await pictureFolder(o.outDir);
  const digits = mnistDigits();
  const all = concatRows(digits);
  const rows = all.length / MNIST_DIM;
  const modelPath = o.modelPath ?? createRequire(import.meta.url).resolve(`sae-edge/${DEFAULT_MODEL_PATH}`) // the package's own copy;
  const sae = await loadSae(modelPath, { kernel: o.kernel });
  const { dSae, k } = sae.info;
  out(`sae-edge: MNIST job on the default model ${DEFAULT_MODEL_PATH} (TopK ${MNIST_DIM}→${dSae}, k=${k}, int8, kernel ${sae.info.kernel})`);

  // 1. Encode every digit.
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    sae.encode(all);
    times.push(performance.now() - s);
  }
  const single = all.subarray(0, MNIST_DIM);
  const oneTimes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    sae.encode(single);
    oneTimes.push(performance.now() - s);
  }
  const { codes, reconstruction } = sae.forward(all);
  const acc = new ReconstructionMetricsAccumulator(MNIST_DIM, dSae);
  acc.add(all, reconstruction, codes);
  const m = acc.result();
  out(`encode: ${rows} digits at ${Math.round(rows / (median(times) / 1000))} digits/s (batch), ${(1000 * median(oneTimes)).toFixed(0)} µs per single digit`);
  out(`reconstruction: FVU ${m.fvu.toFixed(4)} (explained variance ${m.explainedVariance.toFixed(4)}), L0 ${m.l0.toFixed(1)}, alive latents ${m.aliveLatents}/${dSae}`);

  // 2. Pictures of the default model: its decoder atoms, and the digits it reconstructs worst.
  const bias = sae.decodeDense(new Float32Array(dSae));
  const atoms = new Float32Array(dSae * MNIST_DIM);
  for (let j0 = 0; j0 < dSae; j0 += 128) {
    const n = Math.min(128, dSae - j0);
    const eye = new Float32Array(n * dSae);
    for (let r = 0; r < n; r++) eye[r * dSae + j0 + r] = 1;
    const dec = sae.decodeDense(eye);
    for (let r = 0; r < n; r++) for (let i = 0; i < MNIST_DIM; i++) atoms[(j0 + r) * MNIST_DIM + i] = dec[r * MNIST_DIM + i] - bias[i];
  }
  // Latents that fire on under 0.1% of the digits have learned no shape: their atoms are noise.
  const featureAtlas = atlas({ atoms, side: MNIST_SIDE, usage: m.featureDensity, inputs: rows, minUsage: 0.001 });
  await writeFileAtomic(join(o.outDir, "feature-atlas.png"), toPng(featureAtlas));
  const splits = digits.map(splitDigit);
  const trainAll = concatRows(splits.map((s) => s.train));
  const testAll = concatRows(splits.map((s) => s.test));
  const cal = calibrate(sae, trainAll, { mode: "norm", fpr: 0.01 });
  const testScores = anomalyScores(sae, testAll, "norm");
  const worst = Array.from(testScores.keys()).sort((a, b) => testScores[b] - testScores[a]).slice(0, 8);
  const worstRows = worst.map((r) => testAll.slice(r * MNIST_DIM, (r + 1) * MNIST_DIM));
  const strip = anomalyStrip(
    worst.map((r, i) => ({ input: worstRows[i], reconstruction: sae.forward(worstRows[i]).reconstruction, caption: [`test row ${r}`, `score ${testScores[r].toFixed(3)}`, testScores[r] > cal.threshold ? "anomalous" : "normal"] })),
    {
      title: `The ${worst.length} test digits the default model reconstructs worst`,
      notes: [
        `score = squared residual / squared digit (sum over pixels); higher is more anomalous.`,
        `Anomalous above the threshold ${cal.threshold.toFixed(3)}, which 1% of the training digits exceed.`,
      ],
      side: MNIST_SIDE,
    },
  );
  await writeFileAtomic(join(o.outDir, "most-anomalous.png"), toPng(strip));
  out(`most anomalous test digits under the default model (threshold ${cal.threshold.toFixed(4)} at 1% FPR on training digits):`);
  worst.forEach((r, i) => {
    const ex = explainRow(sae, worstRows[i], cal, 3);
    const px = ex.dims.map(([d, v]) => `(${Math.floor(d / MNIST_SIDE)},${d % MNIST_SIDE}) ${v > 0 ? "unexpected ink" : "ink missing"} ${Math.abs(v).toFixed(2)}`).join(", ");
    const rare = ex.rareLatents.map(([j, , d]) => `#${j} (${(100 * d).toFixed(2)}%)`).join(" ") || "none";
    out(`  test row ${r}: score ${testScores[r].toFixed(4)}; worst pixels ${px}; rare latents ${rare}`);
  });
  sae.dispose();

  // 3. One-class benchmark.
  out("");
  out(`one-class MNIST (learn from the first 80% of digit c, test on the last 20% of all digits; AUROC %):`);
  const cols: [OneClassScore, string][] = [["norm", "residual"], ["residual", "pooled"], ["novelty", "novelty"], ["surprise", "surprise"], ["combined", "combined"], ["pca", "PCA-32"]];
  out(`digit  ${cols.map(([, h]) => h.padStart(8)).join("  ")}  Deep SVDD`);
  const line = (label: string, v: (s: OneClassScore) => number, svdd: number) => `${label.padStart(5)}  ${cols.map(([s]) => v(s).toFixed(2).padStart(8)).join("  ")}  ${svdd.toFixed(1).padStart(9)}`;
  const config = { ...ONE_CLASS_DEFAULTS, epochs: o.epochs ?? ONE_CLASS_DEFAULTS.epochs };
  const { results } = await oneClassBenchmark(nodeBuilds, digits, config, (r) => out(line(String(r.digit), (s) => r.auroc[s], r.deepSvdd)));
  const mean = (f: (r: OneClassResult) => number) => results.reduce((a, r) => a + f(r), 0) / results.length;
  out(line("mean", (s) => mean((r) => r.auroc[s]), mean((r) => r.deepSvdd)));
  const wins = results.filter((r) => r.auroc.residual >= Math.max(r.auroc.pca, r.deepSvdd)).length;
  out(`the pooled residual is at or above both PCA and Deep SVDD on ${wins}/10 digits (the plain residual on ${results.filter((r) => r.auroc.norm >= Math.max(r.auroc.pca, r.deepSvdd)).length}/10)`);
  out(`(SAE ${config.train.dSae} latents, k=${config.train.k}, ${config.epochs} epochs on 75% of the rows, 25% held out; residual ‖x−x̂‖²/‖x‖²; pooled: the residual summed over 3×3 pixels first;`);
  out(` novelty: distance to the nearest normal code; surprise: −log density of the active latents; combined: the three standardized on held-out rows; PCA ${config.pcaComponents} components, residual/‖x‖²)`);
  await writeFileAtomic(join(o.outDir, "one-class-roc.svg"), rocSvg(results.map((r) => ({ label: `digit ${r.digit}`, points: r.roc, auroc: r.auroc.residual / 100 })), "One-class MNIST: sae-edge int8 pooled residual, one model per digit"));
  out("");
  out(`pictures in ${resolve(o.outDir)}/: feature-atlas.png (decoder atoms, most used first), most-anomalous.png (digit | reconstruction | residual), one-class-roc.svg`);
  out(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
