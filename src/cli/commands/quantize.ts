// `sae-edge quantize`: a checkpoint folder to an sae-edge model file (quantizeCheckpoint).
import { Option, type Command } from "commander";
import { fail } from "../../base/errors.js";
import { IMPORTERS, quantizeCheckpoint } from "../../importers/index.js";
import { serializeModelParts } from "../../model/quantize.js";
import { checkpointFolder } from "../../adapters/node/index.js";
import { expectCheckpoint, notCheckpointFile } from "../file-kinds.js";
import { checkOutput, printWarnings, readMatrix, writeFileAtomic } from "../io.js";
import { progress, type Progress } from "../progress.js";

export const familyOption = () => new Option("--from <family>", "checkpoint family (default: detect)").choices(IMPORTERS.map((i) => i.family));

export function registerQuantize(program: Command): void {
  program
    .command("quantize")
    .description("quantize a checkpoint folder (SAELens cfg.json + sae_weights.safetensors) into an sae-edge model")
    .argument("<checkpoint>", "checkpoint folder")
    .requiredOption("-o, --output <file>", "model file to write (.safetensors)")
    .addOption(new Option("--bits <n>", "8: int8 weights; 32: exact f32 weights").choices(["8", "32"]).default("8"))
    .addOption(familyOption())
    .option("--hookpoint <name>", "in a multi-layer folder (sparsify), the hookpoint subfolder, e.g. layers.6")
    .option("--calib <acts.npy>", "typical inputs [n, d_in]: int8 encodes quantize around their mean (x_offset), which keeps a shared input offset from costing precision")
    .option("--encoder-residual", "int8: also store the encoder weights' rounding residual (W_enc_residual, +1 byte per weight), so every code's value and near-boundary decision use ~15-bit weights")
    .action(async (checkpoint: string, o: { output: string; bits: string; from?: string; hookpoint?: string; calib?: string; encoderResidual?: boolean }) => {
      await checkOutput(o.output, "output", [checkpoint, o.calib]);
      await expectCheckpoint(checkpoint, "quantize");
      await notCheckpointFile(o.output, checkpoint, o.hookpoint);
      if (o.calib && o.bits !== "8") fail("INVALID_ARGUMENT", "--calib is for int8 models (--bits 8): an f32 encoder has no quantization to center");
      if (o.encoderResidual && o.bits !== "8") fail("INVALID_ARGUMENT", "--encoder-residual is for int8 models (--bits 8): f32 weights have no rounding residual");
      const calib = o.calib ? await readMatrix(o.calib, "calibration") : undefined;
      let bar: Progress | undefined, shown = 0;
      const { model, family, warnings } = await quantizeCheckpoint(await checkpointFolder(checkpoint, o.hookpoint), {
        quantization: o.bits === "8" ? "int8" : "f32",
        family: o.from,
        ...(calib && o.bits === "8" ? { offset: { rows: calib.data, cols: calib.cols } } : {}),
        ...(o.encoderResidual ? { encoderResidual: true } : {}),
        onProgress: (done, total) => {
          (bar ??= progress("quantize", total)).advance(done - shown);
          shown = done;
        },
      });
      bar?.stop();
      printWarnings(warnings);
      const parts = serializeModelParts(model);
      await writeFileAtomic(o.output, parts);
      const { spec } = model;
      process.stderr.write(
        `wrote ${o.output}: ${spec.architecture} d_in=${spec.dIn} d_sae=${spec.dSae}${spec.k ? ` k=${spec.k}` : ""} ${spec.quantization}${spec.xOffset ? ` (x_offset: mean of ${calib!.rows} rows)` : ""}${spec.encoderResidual ? " with W_enc_residual" : ""}, ${parts.reduce((n, p) => n + p.length, 0)} bytes (from ${family})\n`,
      );
    });
}
