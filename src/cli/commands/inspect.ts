// `sae-edge inspect`: a model's metadata and tensors, and the kernel this engine runs it on.
import type { Command } from "commander";
import { readModelHeader, selectKernel, type KernelName } from "../../runtime/index.js";
import { fileSource, nodeBuilds } from "../../adapters/node/index.js";
import { expectModel } from "../file-kinds.js";
import { kernelOption, usage } from "../shared.js";

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("print a model's metadata and tensors")
    .argument("<model>", "sae-edge model file")
    .option("--json", "machine-readable output")
    .addOption(kernelOption())
    .action(async (model: string, o: { json?: boolean; kernel?: KernelName }, cmd: Command) => {
      const { name: kernel, fallbacks: kernelFallbacks } = await selectKernel(nodeBuilds, o.kernel);
      const src = await fileSource(model);
      try {
        await expectModel(model, src, usage(cmd));
        const { header, spec } = await readModelHeader(src);
        const tensors = header.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin }));
        if (o.json) {
          process.stdout.write(JSON.stringify({ file: model, bytes: src.size, ...spec, kernel, kernelFallbacks, metadata: header.metadata, tensors }) + "\n");
          return;
        }
        const lines = [
          `file           ${model} (${src.size} bytes)`,
          `architecture   ${spec.architecture}${spec.k ? ` (k=${spec.k})` : ""}`,
          `d_in × d_sae   ${spec.dIn} × ${spec.dSae}`,
          `quantization   ${spec.quantization}`,
          `b_dec on input ${spec.applyBDecToInput}`,
          `normalization  ${spec.normalization}`,
          `provenance     ${JSON.stringify(spec.provenance)}`,
          `kernel         ${kernel} (the build this engine runs)`,
          ...kernelFallbacks.map((why) => `  refused      ${why}`),
          `tensors`,
          ...tensors.map((t) => `  ${t.name.padEnd(14)} ${t.dtype.padEnd(4)} [${t.shape.join(", ")}]  ${t.bytes} bytes`),
        ];
        process.stdout.write(lines.join("\n") + "\n");
      } finally {
        await src.close?.();
      }
    });
}
