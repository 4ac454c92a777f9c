// Helpers the CLI commands share.
import { Option, type Command } from "commander";
import { SaeEdgeError } from "../base/errors.js";
import { INPUT_DTYPES } from "../format/npy.js";
import { KERNELS, type KernelName, type Sae } from "../runtime/index.js";
import { fileSource, loadSae } from "../adapters/node/index.js";
import { expectModel } from "./file-kinds.js";
import { progress } from "./progress.js";

export const BATCH_ROWS = 256;

/** Help text of an input rows argument. */
export const INPUT_HELP = `input .npy (${INPUT_DTYPES.join("/")}, [n, d_in] or [d_in])`;
export const ROWS_HELP = `rows .npy (${INPUT_DTYPES.join("/")}, [n, d_in])`;

export const kernelOption = () => new Option("--kernel <name>", "force a kernel build (default: fastest that passes its self-test)").choices(KERNELS);

/** "sae-edge encode MODEL INPUT": what goes where, for messages about swapped arguments. */
export function usage(cmd: Command): string {
  return ["sae-edge", cmd.name(), ...cmd.registeredArguments.map((a) => a.name().toUpperCase())].join(" ");
}

/** Loads the model file `path`, after checking that it is one (a .npy in its place is named as such). */
export async function open(path: string, kernel: KernelName | undefined, cmd: Command): Promise<Sae> {
  const src = await fileSource(path);
  try {
    await expectModel(path, src, usage(cmd));
    return await loadSae(src, { kernel });
  } finally {
    await src.close?.();
  }
}

// Runs fn over the input in batches of rows, with a progress bar; errors name rows of the whole input.
export function batches(rows: number, label: string, fn: (r0: number, r1: number) => void): void {
  const bar = progress(label, rows);
  try {
    for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
      const r1 = Math.min(rows, r0 + BATCH_ROWS);
      try {
        fn(r0, r1);
      } catch (e) {
        throw e instanceof SaeEdgeError ? e.atRowOffset(r0) : e;
      }
      bar.advance(r1 - r0);
    }
  } finally {
    bar.stop();
  }
}
