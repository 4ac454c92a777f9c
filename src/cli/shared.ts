// Helpers the CLI commands share.
import { createWriteStream } from "node:fs";
import { Option } from "commander";
import { SaeEdgeError, fail } from "../base/errors.js";
import { KERNELS, type KernelName } from "../runtime/index.js";
import type { Sae } from "../runtime/index.js";
import { loadSae } from "../adapters/node/index.js";
import { progress } from "./progress.js";

export const BATCH_ROWS = 256;

export const kernelOption = () => new Option("--kernel <name>", "force a kernel build (default: fastest that passes its self-test)").choices(KERNELS);

export async function open(model: string, kernel?: KernelName): Promise<Sae> {
  return loadSae(model, { kernel });
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

export async function textSink(path: string | undefined): Promise<{ write(s: string): Promise<void>; close(): Promise<void> }> {
  const stream: NodeJS.WritableStream = path ? createWriteStream(path) : process.stdout;
  let failed: Error | null = null;
  stream.on("error", (e: Error) => (failed = e));
  const check = () => {
    if (failed) fail("INVALID_ARGUMENT", `cannot write ${path ?? "stdout"}: ${(failed as NodeJS.ErrnoException).code ?? failed.message}`);
  };
  return {
    async write(s) {
      check();
      if (!stream.write(s)) await new Promise<void>((resolve) => { stream.once("drain", resolve); stream.once("error", () => resolve()); });
      check();
    },
    async close() {
      if (path) await new Promise<void>((resolve) => stream.end(resolve));
      check();
    },
  };
}

