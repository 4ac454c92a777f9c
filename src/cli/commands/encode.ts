// `sae-edge encode`: sparse codes as JSON Lines, or dense latents as .npy.
import type { Command } from "commander";
import { fail } from "../../base/errors.js";
import { serializeNpy } from "../../format/npy.js";
import type { KernelName } from "../../runtime/index.js";
import { f32Text } from "../f32-text.js";
import { checkOutput, readInput, textSink, writeFileAtomic } from "../io.js";
import { INPUT_HELP, batches, kernelOption, open, usage } from "../shared.js";

export function registerEncode(program: Command): void {
  program
    .command("encode")
    .description("sparse codes of each input row as JSON Lines {indices, values} (values descending, ties by lower index), or dense latents with --dense")
    .argument("<model>", "sae-edge model file")
    .argument("<input>", INPUT_HELP)
    .option("-o, --output <file>", "output file (default: stdout; required with --dense)")
    .option("--dense", "write dense activated latents [n, d_sae] as float32 .npy")
    .addOption(kernelOption())
    .action(async (model: string, input: string, o: { output?: string; dense?: boolean; kernel?: KernelName }, cmd: Command) => {
      if (o.dense && !o.output) fail("INVALID_ARGUMENT", "--dense writes a .npy file: give it with -o");
      if (o.output) await checkOutput(o.output, "output", [model, input]);
      const sae = await open(model, o.kernel, cmd);
      const { rows, data } = await readInput(input, sae.info.dIn, usage(cmd));
      const { dIn, dSae } = sae.info;
      if (o.dense) {
        const out = new Float32Array(rows * dSae);
        batches(rows, "encode", (r0, r1) => out.set(sae.encodeDense(data.subarray(r0 * dIn, r1 * dIn)), r0 * dSae));
        await writeFileAtomic(o.output!, serializeNpy(out, [rows, dSae]));
        return;
      }
      // Every row is encoded before anything is written, so an error leaves no partial output.
      const lines: string[] = [];
      batches(rows, "encode", (r0, r1) => {
        const c = sae.encode(data.subarray(r0 * dIn, r1 * dIn));
        let text = "";
        for (let r = 0; r < r1 - r0; r++) {
          const a = c.rowOffsets[r], b = c.rowOffsets[r + 1];
          const idx = Array.from(c.indices.subarray(a, b)).join(",");
          const val = Array.from(c.values.subarray(a, b), f32Text).join(",");
          text += `{"indices":[${idx}],"values":[${val}]}\n`;
        }
        lines.push(text);
      });
      const sink = textSink(o.output);
      for (const text of lines) await sink.write(text);
      await sink.close();
    });
}
