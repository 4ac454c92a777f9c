// Anomaly commands: score (with a threshold and explanations), calibrate, eval.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { Option, type Command } from "commander";
import { anomalyScores, calibrate, explainRow } from "../../anomaly/scoring.js";
import { withCalibration } from "../../model/calibration-file.js";
import { rocSvg } from "../../anomaly/roc-svg.js";
import { fail } from "../../base/errors.js";
import type { KernelName } from "../../runtime/index.js";
import { SCORE_MODES, checkCalibration, type Calibration, type ScoreMode } from "../../model/spec.js";
import type { Sae } from "../../runtime/index.js";
import { parseNpy, serializeNpy } from "../../format/npy.js";
import { auprc, auroc, rocCurve } from "../../metrics/detection.js";
import { ReconstructionMetricsAccumulator } from "../../metrics/reconstruction.js";
import { readBytes, readInput, writeBytes } from "../io.js";
import { numberOption } from "../options.js";
import { batches, kernelOption, open, textSink } from "../shared.js";

const modeOption = () => new Option("--mode <mode>", "raw: ‖x−x̂‖²; norm: / ‖x‖²; var: per-dimension residual variance from calibration").choices(SCORE_MODES);

async function calibrationOf(sae: Sae, path: string | undefined): Promise<Calibration | undefined> {
  if (!path) return sae.info.calibration;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await readBytes(path, "calibration")));
  } catch (e) {
    if ((e as { code?: string }).code) throw e;
    fail("INVALID_ARGUMENT", `${path} is not JSON`);
  }
  try {
    return checkCalibration(json, sae.info.dIn, sae.info.dSae);
  } catch (e) {
    return fail("INVALID_ARGUMENT", `${path}: ${(e as Error).message}`);
  }
}

// Scores every row in batches (errors name rows of the whole input).
function scoreAll(sae: Sae, data: Float32Array, rows: number, mode: ScoreMode, calibration?: Calibration): Float64Array {
  const { dIn } = sae.info;
  const scores = new Float64Array(rows);
  batches(rows, "score", (r0, r1) => scores.set(anomalyScores(sae, data.subarray(r0 * dIn, r1 * dIn), mode, calibration?.residualVariance), r0));
  return scores;
}

async function readLabels(path: string, rows: number): Promise<Float64Array> {
  const a = parseNpy(await readBytes(path, "labels"));
  if (a.shape.length !== 1 || a.shape[0] !== rows) fail("INPUT_SHAPE", `${path} must be a 1-D array of ${rows} labels, got shape [${a.shape}]`);
  const labels = Float64Array.from(a.data as ArrayLike<number | bigint>, (v) => Number(v));
  const bad = labels.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0) fail("INPUT_SHAPE", `${path}: label ${bad} is ${labels[bad]}, expected 0 (normal) or 1 (anomaly)`);
  return labels;
}

interface ScoreCli {
  output?: string;
  normalized?: boolean;
  mode?: ScoreMode;
  threshold?: string;
  explain?: boolean;
  calibration?: string;
  kernel?: KernelName;
}

export function registerAnomaly(program: Command): void {
  program
    .command("score")
    .description("anomaly score per input row (reconstruction error); with --threshold, a flag too")
    .argument("<model>", "sae-edge model file")
    .argument("<input>", "input .npy (float32/float64, [n, d_in] or [d_in])")
    .option("-o, --output <file>", "float64 .npy: [n] scores, or [n, 2] (score, flag) with --threshold (default: text lines on stdout)")
    .addOption(modeOption())
    .option("--normalized", "same as --mode norm")
    .option("--threshold <auto|value>", "flag rows scoring above it; auto = the model's calibration")
    .option("--explain", "JSON Lines per row with, for flagged rows, the dimensions with the largest residual and the rare latents that fired")
    .option("--calibration <file>", "calibration JSON written by sae-edge calibrate --json (default: the model's own)")
    .addOption(kernelOption())
    .action(async (model: string, input: string, o: ScoreCli) => {
      const sae = await open(model, o.kernel);
      const { rows, data } = await readInput(input, sae.info.dIn);
      const calibration = await calibrationOf(sae, o.calibration);
      let threshold: number | undefined;
      if (o.threshold === "auto") {
        if (!calibration) fail("INVALID_ARGUMENT", "--threshold auto needs a calibrated model (sae-edge calibrate) or --calibration");
        threshold = calibration.threshold;
      } else if (o.threshold !== undefined) {
        threshold = numberOption("threshold")(o.threshold);
      }
      const mode: ScoreMode = o.mode ?? (o.normalized ? "norm" : o.threshold === "auto" ? calibration!.mode : "raw");
      if (o.threshold === "auto" && mode !== calibration!.mode) fail("INVALID_ARGUMENT", `the calibration is for --mode ${calibration!.mode}, not ${mode}`);
      if (o.explain && (threshold === undefined || !calibration)) fail("INVALID_ARGUMENT", "--explain needs --threshold and a calibration (for latent densities)");
      const scores = scoreAll(sae, data, rows, mode, calibration);
      const flag = (s: number) => (threshold !== undefined && s > threshold ? 1 : 0);
      if (o.output) {
        const out = threshold === undefined ? scores : Float64Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? flag(scores[i >> 1]) : scores[i >> 1]));
        await writeBytes(o.output, serializeNpy(out, threshold === undefined ? [rows] : [rows, 2]));
        return;
      }
      const sink = await textSink(undefined);
      const { dIn } = sae.info;
      let text = "";
      for (let r = 0; r < rows; r++) {
        if (o.explain) {
          const f = flag(scores[r]);
          const line: Record<string, unknown> = { row: r, score: scores[r], flag: f };
          if (f) {
            const ex = explainRow(sae, data.subarray(r * dIn, (r + 1) * dIn), calibration!);
            line.dims = ex.dims;
            line.rare_latents = ex.rareLatents;
          }
          text += JSON.stringify(line) + "\n";
        } else {
          text += threshold === undefined ? `${scores[r]}\n` : `${scores[r]}\t${flag(scores[r])}\n`;
        }
        if (text.length > 1 << 16) {
          await sink.write(text);
          text = "";
        }
      }
      await sink.write(text);
    });

  program
    .command("calibrate")
    .description("learn an anomaly threshold from normal rows (the score's 1 − fpr quantile) and latent densities; stored in the model")
    .argument("<model>", "sae-edge model file")
    .argument("<normal>", "normal rows .npy")
    .option("--fpr <rate>", "false-positive rate on normal data", numberOption("fpr", Number.MIN_VALUE), 0.01)
    .addOption(modeOption().default("raw"))
    .option("-o, --output <file>", "write the calibrated model here (default: update the model file in place)")
    .option("--json <file>", "write the calibration as JSON instead of into the model")
    .addOption(kernelOption())
    .action(async (model: string, normal: string, o: { fpr: number; mode: ScoreMode; output?: string; json?: string; kernel?: KernelName }) => {
      if (!(o.fpr < 1)) fail("INVALID_ARGUMENT", `--fpr must be below 1, got ${o.fpr}`);
      const sae = await open(model, o.kernel);
      const { data } = await readInput(normal, sae.info.dIn);
      const c = calibrate(sae, data, { fpr: o.fpr, mode: o.mode });
      if (o.json) await writeBytes(o.json, JSON.stringify(c) + "\n");
      else await writeBytes(o.output ?? model, withCalibration(new Uint8Array(await readFile(model)), c));
      process.stderr.write(`calibrated on ${c.rows} rows: mode ${c.mode}, threshold ${c.threshold} (fpr ${c.fpr}); wrote ${o.json ?? o.output ?? model}\n`);
    });

  program
    .command("eval")
    .description("reconstruction metrics (explained variance new and legacy, FVU, MSE, cosine, L0, dead latents); with --labels, AUROC and AUPRC and a ROC picture")
    .argument("<model>", "sae-edge model file")
    .argument("<data>", "rows .npy")
    .option("--labels <file>", "1-D .npy of 0 (normal) / 1 (anomaly) per row")
    .addOption(modeOption())
    .option("--roc <file>", "ROC curve picture (SVG) path (default: <data>.roc.svg)")
    .option("--calibration <file>", "calibration JSON (for --mode var)")
    .option("--json", "machine-readable output")
    .addOption(kernelOption())
    .action(async (model: string, dataPath: string, o: { labels?: string; mode?: ScoreMode; roc?: string; calibration?: string; json?: boolean; kernel?: KernelName }) => {
      const sae = await open(model, o.kernel);
      const { rows, data } = await readInput(dataPath, sae.info.dIn);
      const { dIn, dSae } = sae.info;
      if (sae.info.dOut !== dIn) fail("MODEL_UNSUPPORTED", "eval compares reconstructions with their inputs; a transcoder needs its targets");
      const acc = new ReconstructionMetricsAccumulator(dIn, dSae);
      batches(rows, "eval", (r0, r1) => {
        const x = data.subarray(r0 * dIn, r1 * dIn);
        const { codes, reconstruction } = sae.forward(x);
        acc.add(x, reconstruction, codes);
      });
      const { featureDensity, ...metrics } = acc.result();
      void featureDensity;
      const result: Record<string, unknown> = { ...metrics, kernel: sae.info.kernel };
      if (o.labels) {
        const labels = await readLabels(o.labels, rows);
        const calibration = await calibrationOf(sae, o.calibration);
        const mode = o.mode ?? calibration?.mode ?? "raw";
        const scores = scoreAll(sae, data, rows, mode, calibration);
        result.scoreMode = mode;
        result.auroc = auroc(scores, labels);
        result.auprc = auprc(scores, labels);
        const roc = o.roc ?? `${basename(dataPath).replace(/\.npy$/, "")}.roc.svg`;
        await writeBytes(roc, rocSvg([{ label: basename(model), points: rocCurve(scores, labels), auroc: result.auroc as number }], `ROC: ${basename(model)} on ${basename(dataPath)}`));
        result.rocPicture = roc;
      }
      if (o.json) {
        process.stdout.write(JSON.stringify(result) + "\n");
        return;
      }
      const fmt = (v: unknown) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : String(v));
      process.stdout.write(Object.entries(result).map(([k, v]) => `${k.padEnd(24)} ${fmt(v)}`).join("\n") + "\n");
    });
}
