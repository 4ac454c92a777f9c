// `sae-edge score`: an anomaly score per row, with --threshold a flag too, with --explain why.
import type { Command } from "commander";
import { explainRow } from "../../anomaly/scoring.js";
import { resolveScoring } from "../../anomaly/threshold.js";
import { serializeNpy } from "../../format/npy.js";
import type { KernelName } from "../../runtime/index.js";
import type { ScoreMode } from "../../model/spec.js";
import { checkOutput, readInput, textSink, writeFileAtomic } from "../io.js";
import { numberOption } from "../options.js";
import { calibrationOf, detectAll, detectorFrom, methodOption, modeOption, scoreAll } from "../scoring.js";
import type { Method } from "../../anomaly/detector.js";
import type { Grid } from "../../anomaly/pooled-residual.js";
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
  grid?: string;
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
    .option("--normal <file>", "normal rows .npy (needed by every method but residual): the first 75% learn, the last 25% (held out) set --threshold auto")
    .option("--fpr <rate>", "with --normal and --threshold auto: the false-alert rate on fresh normal rows (default: the calibration's, else 0.01)", numberOption("fpr", Number.MIN_VALUE))
    .option("--grid <HxW[:r]>", "with --normal: inputs are H×W images; the residual is summed over (2r+1)² neighbourhoods (r = 1) before squaring")
    .addOption(kernelOption())
    .action(async (model: string, input: string, o: ScoreCli, cmd: Command) => {
      if (o.method !== "residual" && !o.normal) fail("INVALID_ARGUMENT", `--method ${o.method} needs --normal rows.npy (normal rows to learn the codes from)`);
      for (const [flag, given] of [["--fpr", o.fpr !== undefined], ["--grid", o.grid !== undefined]] as const) {
        if (given && !o.normal) fail("INVALID_ARGUMENT", `${flag} goes with --normal (without it, the residual's threshold comes from sae-edge calibrate)`);
      }
      if (o.normal && o.explain) fail("INVALID_ARGUMENT", "--explain uses the model's calibration: leave out --normal");
      if (o.fpr !== undefined && !(o.fpr < 1)) fail("INVALID_ARGUMENT", `--fpr must be below 1, got ${o.fpr}`);
      const grid = o.grid === undefined ? undefined : gridOption(o.grid);
      if (o.output) await checkOutput(o.output, "output", [model, input, o.calibration, o.normal]);
      const sae = await open(model, o.kernel, cmd);
      const { rows, data } = await readInput(input, sae.info.dIn, usage(cmd));
      const calibration = await calibrationOf(sae, o.calibration);
      const threshold = o.threshold === "auto" || o.threshold === undefined ? o.threshold : numberOption("threshold")(o.threshold);
      let scoring, scores;
      if (!o.normal) {
        scoring = resolveScoring({ threshold, mode: o.mode ?? (o.normalized ? "norm" : undefined), explain: o.explain }, calibration);
        scores = scoreAll(sae, data, rows, scoring.mode, calibration);
      } else {
        const normal = await readInput(o.normal!, sae.info.dIn, usage(cmd));
        const mode = o.mode ?? (o.normalized ? "norm" : (calibration?.mode ?? "raw"));
        const detector = detectorFrom(sae, normal.data, normal.rows, { mode, fpr: o.fpr ?? calibration?.fpr ?? 0.01, grid });
        if (typeof threshold === "number" && !Number.isFinite(threshold)) fail("INVALID_ARGUMENT", `threshold must be a finite number, got ${threshold}`);
        scoring = { threshold: threshold === "auto" ? detector.thresholds[o.method] : threshold };
        scores = detectAll(detector, o.method, data, rows, sae.info.dIn);
      }
      const flag = (s: number) => (scoring.threshold !== undefined && s > scoring.threshold ? 1 : 0);
      if (o.output) {
        const flagged = scoring.threshold !== undefined;
        const out = flagged ? Float64Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? flag(scores[i >> 1]) : scores[i >> 1])) : scores;
        await writeFileAtomic(o.output, serializeNpy(out, flagged ? [rows, 2] : [rows]));
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

/** "28x28" or "28x28:2": height × width, and the neighbourhood radius (default 1). */
function gridOption(text: string): Grid {
  const m = /^([1-9]\d{0,5})x([1-9]\d{0,5})(?::(\d{1,5}))?$/.exec(text);
  if (!m) fail("INVALID_ARGUMENT", `--grid must be HxW or HxW:r (like 28x28 or 28x28:1), got ${JSON.stringify(text)}`);
  return { height: Number(m[1]), width: Number(m[2]), radius: m[3] === undefined ? 1 : Number(m[3]) };
}
