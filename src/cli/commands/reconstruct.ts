// `sae-edge reconstruct`: each input row through the SAE (encode, then decode).
import type { Command } from "commander";
import { serializeNpy } from "../../format/npy.js";
import type { KernelName } from "../../runtime/index.js";
import { checkOutput, readInput, writeFileAtomic } from "../io.js";
import { INPUT_HELP, batches, kernelOption, open, usage } from "../shared.js";

export function registerReconstruct(program: Command): void {
  program
    .command("reconstruct")
    .description("reconstruct each input row through the SAE (encode then decode)")
    .argument("<model>", "sae-edge model file")
    .argument("<input>", INPUT_HELP)
    .requiredOption("-o, --output <file>", "reconstructions as float32 .npy [n, d_in]")
    .addOption(kernelOption())
    .action(async (model: string, input: string, o: { output: string; kernel?: KernelName }, cmd: Command) => {
      await checkOutput(o.output, "output", [model, input]);
      const sae = await open(model, o.kernel, cmd);
      const { rows, data } = await readInput(input, sae.info.dIn, usage(cmd));
      const { dIn, dOut } = sae.info;
      const out = new Float32Array(rows * dOut);
      batches(rows, "reconstruct", (r0, r1) => out.set(sae.forward(data.subarray(r0 * dIn, r1 * dIn)).reconstruction, r0 * dOut));
      await writeFileAtomic(o.output, serializeNpy(out, [rows, dOut]));
    });
}
