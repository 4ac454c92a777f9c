// `sae-edge score`: an anomaly score per row, with --threshold a flag too, with --explain why.
import type { Command } from "commander";
import { explainRow } from "../../anomaly/scoring.js";
import { resolveScoring } from "../../anomaly/threshold.js";
import { serializeNpy } from "../../format/npy.js";
import type { KernelName } from "../../runtime/index.js";
import type { ScoreMode } from "../../model/spec.js";
import { checkOutput, readInput, textSink, writeBytes } from "../io.js";
import { numberOption } from "../options.js";
import { calibrationOf, modeOption, scoreAll } from "../scoring.js";
import { INPUT_HELP, kernelOption, open, usage } from "../shared.js";

interface ScoreCli {
  output?: string;
  normalized?: boolean;
  mode?: ScoreMode;
  threshold?: string;
  explain?: boolean;
  calibration?: string;
  kernel?: KernelName;
}

export function registerScore(program: Command): void {
  program
    .command("score")
    .description("anomaly score per input row (reconstruction error); with --threshold, a flag too")
    .argument("<model>", "sae-edge model file")
    .argument("<input>", INPUT_HELP)
    .option("-o, --output <file>", "float64 .npy: [n] scores, or [n, 2] (score, flag) with --threshold (default: text lines on stdout)")
    .addOption(modeOption())
    .option("--normalized", "same as --mode norm")
    .option("--threshold <auto|value>", "flag rows scoring above it; auto = the model's calibration")
    .option("--explain", "JSON Lines per row with, for flagged rows, the dimensions with the largest residual and the rare latents that fired")
    .option("--calibration <file>", "calibration JSON written by sae-edge calibrate --json (default: the model's own)")
    .addOption(kernelOption())
    .action(async (model: string, input: string, o: ScoreCli, cmd: Command) => {
      if (o.output) await checkOutput(o.output);
      const sae = await open(model, o.kernel, cmd);
      const { rows, data } = await readInput(input, sae.info.dIn, usage(cmd));
      const calibration = await calibrationOf(sae, o.calibration);
      const threshold = o.threshold === "auto" || o.threshold === undefined ? o.threshold : numberOption("threshold")(o.threshold);
      const scoring = resolveScoring({ threshold, mode: o.mode ?? (o.normalized ? "norm" : undefined), explain: o.explain }, calibration);
      const scores = scoreAll(sae, data, rows, scoring.mode, calibration);
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
