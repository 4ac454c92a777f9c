// `sae-edge demo` (npm start): the MNIST job, or the planted-dictionary check.
import type { Command } from "commander";
import type { KernelName } from "../../runtime/index.js";
import { runMnistJob } from "../../demo/mnist-job.js";
import { runDemo } from "../demo.js";
import { intOption } from "../options.js";
import { kernelOption } from "../shared.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("the main job (npm start): the default MNIST SAE's speed and fidelity, the one-class anomaly benchmark, pictures")
    .option("--out <dir>", "folder for the pictures", "sae-edge-out")
    .option("--epochs <n>", "epochs for each one-class model", intOption("epochs", 1, 10000))
    .option("--planted", "run the planted-dictionary check instead (int8 vs f32 atom recovery)")
    .addOption(kernelOption())
    .action(async (o: { out: string; epochs?: number; planted?: boolean; kernel?: KernelName }) =>
      o.planted ? runDemo(o.kernel) : runMnistJob({ kernel: o.kernel, outDir: o.out, epochs: o.epochs }),
    );
}
