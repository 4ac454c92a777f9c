// `sae-edge train`: fits an SAE on a .npy matrix on this device, then writes the
// int8 model and, beside it, the f32 checkpoint in SAELens layout.
import { mkdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Option, type Command } from "commander";
import { fail, failIo } from "../../base/errors.js";
import type { KernelName } from "../../runtime/index.js";
import { exportTrained } from "../../train/export.js";
import { nodeBuilds } from "../../adapters/node/index.js";
import { matrixBatches, trainSae } from "../../train/train-loop.js";
import { meanCenteredNorm } from "../../train/trainer.js";
import { checkOutput, readMatrix, writeFileAtomic } from "../io.js";
import { intOption, numberOption } from "../options.js";
import { progress } from "../progress.js";
import { ROWS_HELP, kernelOption } from "../shared.js";

interface TrainCli {
  output: string;
  arch: "topk" | "relu" | "jumprelu";
  k: number;
  dSae: number;
  epochs: number;
  batch: number;
  lr?: number;
  l1?: number;
  l0?: number;
  seed: number;
  val?: string;
  kernel?: KernelName;
}

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("train an SAE on a .npy matrix [n, d_in]; writes the int8 model and a SAELens checkpoint folder beside it")
    .argument("<data>", `training data ${ROWS_HELP}`)
    .requiredOption("-o, --output <file>", "int8 model to write (.safetensors); the f32 SAELens checkpoint goes to <name>.saelens/")
    .addOption(new Option("--arch <name>", "activation").choices(["topk", "relu", "jumprelu"]).default("topk"))
    .option("--k <n>", "TopK: active latents per row", intOption("k", 1), 32)
    .option("--d-sae <n>", "number of latents", intOption("d-sae", 1, 1 << 20), 1024)
    .option("--epochs <n>", "passes over the data", intOption("epochs", 1, 100000), 10)
    .option("--batch <n>", "rows per step", intOption("batch", 1, 65536), 256)
    .option("--lr <x>", "Adam learning rate (default 1e-3)", numberOption("lr", Number.MIN_VALUE))
    .option("--l1 <x>", "relu: weight of mean |z| (default 5e-3)", numberOption("l1"))
    .option("--l0 <x>", "jumprelu: weight of the L0 penalty (default 1e-3)", numberOption("l0"))
    .option("--seed <n>", "seed for the initial weights and the data order", intOption("seed", 0, 2 ** 32 - 1), 0)
    .option("--val <file>", "held-out .npy: FVU reported after each epoch")
    .addOption(kernelOption())
    .action(async (data: string, o: TrainCli) => {
      await checkOutput(o.output, "model", [data, o.val]);
      const folder = join(dirname(o.output), `${basename(o.output).replace(/\.safetensors$/, "")}.saelens`);
      if ((await stat(folder).catch(() => undefined))?.isDirectory() === false) fail("INVALID_ARGUMENT", `the checkpoint goes to ${folder}/, which is a file`);
      const x = await readMatrix(data, "training data");
      if (x.rows < 2) fail("INPUT_SHAPE", `${data} has ${x.rows} row; training needs at least 2`);
      if (!(meanCenteredNorm(x.data, x.cols) > 0)) fail("INPUT_SHAPE", `${data}: every row is the same, there is nothing to learn`);
      const val = o.val ? await readMatrix(o.val, "validation data") : undefined;
      if (val && val.cols !== x.cols) fail("INPUT_SHAPE", `${o.val} has ${val.cols} columns, the training data ${x.cols}`);
      const architecture = o.arch === "relu" ? "standard" : o.arch;
      if (architecture === "topk" && o.k > o.dSae) fail("INVALID_ARGUMENT", `--k ${o.k} is larger than --d-sae ${o.dSae}`);
      const stepsPerEpoch = Math.ceil(x.rows / o.batch);
      const bar = progress("train", o.epochs * stepsPerEpoch, ["epoch", "loss", "FVU", "L0", "dead"]);
      const t0 = performance.now();
      let result;
      try {
        result = await trainSae(nodeBuilds, {
          dIn: x.cols,
          epochs: o.epochs,
          batches: matrixBatches(x.data, x.cols, o.batch, o.seed),
          validation: val?.data,
          options: { architecture, dSae: o.dSae, k: o.k, batchSize: o.batch, lr: o.lr, l1: o.l1, l0: o.l0, seed: o.seed, kernel: o.kernel },
          onStep: (s, epoch) =>
            bar.advance(1, { epoch: `${epoch + 1}/${o.epochs}`, loss: s.loss.toFixed(4), FVU: s.fvu.toFixed(4), L0: s.l0.toFixed(1), dead: `${(100 * s.deadFraction).toFixed(1)}%` }),
          onEpoch: (r) => {
            if (process.stderr.isTTY) return;
            process.stderr.write(
              `epoch ${r.epoch + 1}/${o.epochs}: loss ${r.loss.toFixed(5)} FVU ${r.fvu.toFixed(5)} L0 ${r.l0.toFixed(2)} dead ${(100 * r.deadFraction).toFixed(2)}%` +
                (r.valFvu !== undefined ? ` val FVU ${r.valFvu.toFixed(5)}` : "") + "\n",
            );
          },
        });
      } finally {
        bar.stop();
      }
      const seconds = (performance.now() - t0) / 1000;
      const last = result.epochs[result.epochs.length - 1];
      const out = exportTrained(result, { data: basename(data), rows: x.rows, epochs: o.epochs, batch: o.batch, seed: o.seed });
      await writeFileAtomic(o.output, out.model);
      await mkdir(folder, { recursive: true }).catch((e: unknown) => failIo(`cannot make ${folder}`, e));
      for (const [name, bytes] of Object.entries(out.checkpoint)) await writeFileAtomic(join(folder, name), bytes);
      process.stderr.write(
        `trained ${architecture} ${x.cols}→${o.dSae} on ${x.rows} rows × ${o.epochs} epochs in ${seconds.toFixed(1)} s ` +
          `(${Math.round((x.rows * o.epochs) / seconds)} rows/s, kernel ${result.trainer.kernel}): FVU ${last.fvu.toFixed(4)}` +
          (last.valFvu !== undefined ? `, val FVU ${last.valFvu.toFixed(4)}` : "") + `\nwrote ${o.output} and ${folder}/\n`,
      );
    });
}
