// `sae-edge calibrate`: an anomaly threshold and latent densities learned from normal rows.
import type { Command } from "commander";
import { fail } from "../../base/errors.js";
import { calibrate } from "../../anomaly/scoring.js";
import { withCalibration } from "../../model/calibration-file.js";
import type { KernelName } from "../../runtime/index.js";
import type { ScoreMode } from "../../model/spec.js";
import { checkOutput, readBytes, readInput, writeFileAtomic } from "../io.js";
import { numberOption } from "../options.js";
import { modeOption } from "../scoring.js";
import { kernelOption, open, usage } from "../shared.js";

export function registerCalibrate(program: Command): void {
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
    .action(async (model: string, normal: string, o: { fpr: number; mode: ScoreMode; output?: string; json?: string; kernel?: KernelName }, cmd: Command) => {
      if (!(o.fpr < 1)) fail("INVALID_ARGUMENT", `--fpr must be below 1, got ${o.fpr}`);
      // -o MODEL (or no -o) updates the model in place, on purpose; nothing else may replace an input.
      await checkOutput(o.json ?? o.output ?? model, o.json ? "calibration" : "model", o.json ? [model, normal] : [normal]);
      const sae = await open(model, o.kernel, cmd);
      const { data } = await readInput(normal, sae.info.dIn, usage(cmd));
      const c = calibrate(sae, data, { fpr: o.fpr, mode: o.mode });
      if (o.json) await writeFileAtomic(o.json, JSON.stringify(c) + "\n");
      else await writeFileAtomic(o.output ?? model, withCalibration(await readBytes(model, "model"), c));
      process.stderr.write(`calibrated on ${c.rows} rows: mode ${c.mode}, threshold ${c.threshold} (fpr ${c.fpr}); wrote ${o.json ?? o.output ?? model}\n`);
    });
}
