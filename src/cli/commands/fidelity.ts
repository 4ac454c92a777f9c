// `sae-edge fidelity`: the int8 model against the checkpoint's exact f32 path (checkpointFidelity).
import type { Command } from "commander";
import { fail } from "../../base/errors.js";
import { checkpointFidelity } from "../../importers/index.js";
import type { KernelName } from "../../runtime/index.js";
import type { FidelityReport } from "../../metrics/fidelity.js";
import { checkpointFolder, fileSource, nodeBuilds } from "../../adapters/node/index.js";
import { expectCheckpoint, expectModel } from "../file-kinds.js";
import { printWarnings, readMatrix } from "../io.js";
import { ROWS_HELP, kernelOption, usage } from "../shared.js";
import { familyOption } from "./quantize.js";

export function registerFidelity(program: Command): void {
  program
    .command("fidelity")
    .description("how close the int8 model is to the exact f32 path: active-set recall, code error, FVU and explained variance of each, L0")
    .argument("<checkpoint>", "checkpoint folder (as for quantize)")
    .argument("<activations>", ROWS_HELP)
    .option("--model <file>", "the int8 model to check (default: quantize the checkpoint now)")
    .addOption(familyOption())
    .option("--hookpoint <name>", "in a multi-layer folder (sparsify), the hookpoint subfolder")
    .option("--calib <acts.npy>", "when quantizing now: quantize around the mean of these rows, as quantize --calib does")
    .option("--json", "machine-readable output")
    .addOption(kernelOption())
    .action(async (checkpoint: string, activations: string, o: { model?: string; from?: string; hookpoint?: string; json?: boolean; kernel?: KernelName; calib?: string }, cmd: Command) => {
      await expectCheckpoint(checkpoint, "fidelity");
      if (o.calib && o.model) fail("INVALID_ARGUMENT", "--calib quantizes the checkpoint now; --model gives a model already quantized: use one of them");
      const rows = await readMatrix(activations, "activations");
      const calib = o.calib ? await readMatrix(o.calib, "calibration") : undefined;
      const model = o.model === undefined ? undefined : await fileSource(o.model);
      try {
        if (model) await expectModel(o.model!, model, `${usage(cmd)} --model MODEL`);
        const f = await checkpointFidelity(nodeBuilds, await checkpointFolder(checkpoint, o.hookpoint), rows, {
          model, family: o.from, kernel: o.kernel, ...(calib ? { offset: { rows: calib.data, cols: calib.cols } } : {}),
        });
        const { exact, quantized, report: r } = f;
        printWarnings(f.warnings);
        if (o.json) {
          process.stdout.write(JSON.stringify({ family: f.family, architecture: exact.info.architecture, kernel: quantized.info.kernel, ...r }) + "\n");
          return;
        }
        const row = (name: string, m: FidelityReport["f32"]) =>
          `${name.padEnd(6)} ${m.fvu.toFixed(5).padStart(9)} ${m.explainedVariance.toFixed(5).padStart(9)} ${m.explainedVarianceLegacy.toFixed(5).padStart(9)} ${m.l0.toFixed(2).padStart(7)}`;
        process.stdout.write(
          [
            `${f.family} ${exact.info.architecture} ${exact.info.dIn}→${exact.info.dSae} on ${r.rows} rows (int8 kernel ${quantized.info.kernel})`,
            `active-set recall ${r.activeSetRecall.toFixed(4)}, precision ${r.activeSetPrecision.toFixed(4)}, relative code error ${r.relativeCodeError.toExponential(3)}`,
            `model        FVU        EV  EV(legacy)    L0`,
            row("f32", r.f32),
            row("int8", r.int8),
            `FVU increase ${(100 * r.fvuIncrease).toFixed(3)}% (relative)`,
          ].join("\n") + "\n",
        );
      } finally {
        await model?.close?.();
      }
    });
}
