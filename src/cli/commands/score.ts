// `sae-edge score`: an anomaly score per row, with --threshold a flag too, with --explain why.
import type { Command } from "commander";
import { explainRow } from "../../anomaly/scoring.js";
import { resolveScoring } from "../../anomaly/threshold.js";
import { serializeNpy } from "../../format/npy.js";
import type { KernelName } from "../../runtime/index.js";
import type { ScoreMode } from "../../model/spec.js";
import { checkOutput, readInput, textSink, writeBytes } from "../io.js";
import { numberOption } from "../options.js";
import { calibrationOf, detectAll, detectorFrom, methodOption, modeOption, scoreAll } from "../scoring.js";
import type { Method } from "../../anomaly/detector.js";
import { fail } from "../../base/errors.js";
import { INPUT_HELP, kernelOption, open, usage } from "../shared.js";

interface ScoreCli {
  output?: string;
  normalized?: boolean;
  mode?: ScoreMode;
  threshold?: string;
  explain?: boolean;
  calibration?: string;
  method: Method;
  normal?: string;
  fpr?: number;
  kernel?: KernelName;
}

export function registerScore(program: Command): void {
  program
    .command("score")
    .description("anomaly score per input row (reconstruction error, or --method); with --threshold, a flag too")
    .argument("<model>", "sae-edge model file")
    .argument("<input>", INPUT_HELP)
    .option("-o, --output <file>", "float64 .npy: [n] scores, or [n, 2] (score, flag) with --threshold (default: text lines on stdout)")
    .addOption(modeOption())
    .option("--normalized", "same as --mode norm")
    .option("--threshold <auto|value>", "flag rows scoring above it; auto = the model's calibration")
    .option("--explain", "JSON Lines per row with, for flagged rows, the dimensions with the largest residual and the rare latents that fired")
    .option("--calibration <file>", "calibration JSON written by sae-edge calibrate --json (default: the model's own)")
    .addOption(methodOption())
    .option("--normal <file>", "normal rows .npy for --method novelty|surprise|combined: the first 75% learn, the last 25% (held out) set --threshold auto")
    .option("--fpr <rate>", "with --normal and --threshold auto: the false-alert rate on fresh normal rows (default: the calibration's, else 0.01)", numberOption("fpr", Number.MIN_VALUE))
    .addOption(kernelOption())
    .action(async (model: string, input: string, o: ScoreCli, cmd: Command) => {
      if (o.method !== "residual" && !o.normal) fail("INVALID_ARGUMENT", `--method ${o.method} needs --normal rows.npy (normal rows to learn the codes from)`);
      if (o.method === "residual" && o.normal) fail("INVALID_ARGUMENT", "--normal goes with --method novelty|surprise|combined");
      if (o.method !== "residual" && o.explain) fail("INVALID_ARGUMENT", "--explain goes with --method residual");
      if (o.fpr !== undefined && o.method === "residual") fail("INVALID_ARGUMENT", "--fpr goes with --method novelty|surprise|combined (the residual's threshold comes from sae-edge calibrate)");
      if (o.fpr !== undefined && !(o.fpr < 1)) fail("INVALID_ARGUMENT", `--fpr must be below 1, got ${o.fpr}`);
      if (o.output) await checkOutput(o.output, "output", [model, input, o.calibration, o.normal]);
      const sae = await open(model, o.kernel, cmd);
      const { rows, data } = await readInput(input, sae.info.dIn, usage(cmd));
      const calibration = await calibrationOf(sae, o.calibration);
      const threshold = o.threshold === "auto" || o.threshold === undefined ? o.threshold : numberOption("threshold")(o.threshold);
      let scoring, scores;
      if (o.method === "residual") {
        scoring = resolveScoring({ threshold, mode: o.mode ?? (o.normalized ? "norm" : undefined), explain: o.explain }, calibration);
        scores = scoreAll(sae, data, rows, scoring.mode, calibration);
      } else {
        const normal = await readInput(o.normal!, sae.info.dIn, usage(cmd));
        const mode = o.mode ?? (o.normalized ? "norm" : (calibration?.mode ?? "raw"));
        const detector = detectorFrom(sae, normal.data, normal.rows, { mode, fpr: o.fpr ?? calibration?.fpr ?? 0.01 });
        if (typeof threshold === "number" && !Number.isFinite(threshold)) fail("INVALID_ARGUMENT", `threshold must be a finite number, got ${threshold}`);
        scoring = { threshold: threshold === "auto" ? detector.thresholds[o.method] : threshold };
        scores = detectAll(detector, o.method, data, rows, sae.info.dIn);
      }
      const flag = (s: number) => (scoring.threshold !== undefined && s > scoring.threshold ? 1 : 0);
      if (o.output) {
        const flagged = scoring.threshold !== undefined;
        const out = flagged ? Float64Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? flag(scores[i >> 1]) : scores[i >> 1])) : scores;
        await writeBytes(o.output, serializeNpy(out, flagged ? [rows, 2] : [rows]));
        return;
      }
      const sink = textSink(undefined);
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
          text += scoring.threshold === undefined ? `${scores[r]}\n` : `${scores[r]}\t${flag(scores[r])}\n`;
        }
        if (text.length > 1 << 16) {
          await sink.write(text);
          text = "";
        }
      }
      await sink.write(text);
    });
}
