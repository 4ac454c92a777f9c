// `sae-edge eval`: reconstruction metrics; with labels, detection quality and a ROC picture.
import { basename } from "node:path";
import type { Command } from "commander";
import { fail } from "../../base/errors.js";
import { rocSvg } from "../../anomaly/roc-svg.js";
import { parseNpy } from "../../format/npy.js";
import { auprc, auroc, rocCurve } from "../../metrics/detection.js";
import { ReconstructionMetricsAccumulator } from "../../metrics/reconstruction.js";
import type { KernelName } from "../../runtime/index.js";
import type { ScoreMode } from "../../model/spec.js";
import { checkOutput, readBytes, readInput, writeFileAtomic } from "../io.js";
import { calibrationOf, modeOption, scoreAll } from "../scoring.js";
import { batches, kernelOption, open, usage } from "../shared.js";

async function readLabels(path: string, rows: number): Promise<Float64Array> {
  const a = parseNpy(await readBytes(path, "labels"));
  if (a.shape.length !== 1 || a.shape[0] !== rows) fail("INPUT_SHAPE", `${path} must be a 1-D array of ${rows} labels, got shape [${a.shape}]`);
  const labels = Float64Array.from(a.data as ArrayLike<number | bigint>, (v) => Number(v));
  const bad = labels.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0) fail("INPUT_SHAPE", `${path}: label ${bad} is ${labels[bad]}, expected 0 (normal) or 1 (anomaly)`);
  return labels;
}

interface EvalCli {
  labels?: string;
  mode?: ScoreMode;
  roc?: string;
  calibration?: string;
  json?: boolean;
  kernel?: KernelName;
}

export function registerEval(program: Command): void {
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
    .action(async (model: string, dataPath: string, o: EvalCli, cmd: Command) => {
      const roc = o.labels ? (o.roc ?? `${basename(dataPath).replace(/\.npy$/, "")}.roc.svg`) : o.roc;
      if (roc) await checkOutput(roc, "ROC picture", [model, dataPath, o.labels, o.calibration]);
      const sae = await open(model, o.kernel, cmd);
      const { rows, data } = await readInput(dataPath, sae.info.dIn, usage(cmd));
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
        await writeFileAtomic(roc!, rocSvg([{ label: basename(model), points: rocCurve(scores, labels), auroc: result.auroc as number }], `ROC: ${basename(model)} on ${basename(dataPath)}`));
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
