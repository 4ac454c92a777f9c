// File helpers for the CLI: every failure becomes a typed error, and every file is written
// atomically (adapters/node/atomic-write.ts).
import { constants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { dirname, sep } from "node:path";
import { fail, failIo } from "../base/errors.js";
import { atomicFile, type AtomicFile } from "../adapters/node/atomic-write.js";
import { readMatrixF32 } from "../format/npy.js";
import { notAnArray } from "./file-kinds.js";

export { writeFileAtomic } from "../adapters/node/atomic-write.js";

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EISDIR") fail("INVALID_ARGUMENT", `${what} ${path} is a folder, not a file`);
    return failIo(`cannot read ${what} ${path}`, e);
  }
}

/**
 * Fails at once when `path` cannot be written as a file (a folder, a missing or read-only folder)
 * or is one of the command's `inputs` (writing it would replace that input): commands call it
 * before their long work, so a bad -o costs one line, not a training run.
 */
export async function checkOutput(path: string, what = "output", inputs: readonly (string | undefined)[] = []): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (path.endsWith(sep) || target?.isDirectory()) fail("INVALID_ARGUMENT", `${what} ${path} is a folder; give a file name`);
  const dir = dirname(path);
  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) fail("INVALID_ARGUMENT", `cannot write ${what} ${path}: ${folder ? `${dir} is not a folder` : `no folder ${dir}`}`);
  await access(dir, constants.W_OK).catch((e: unknown) => failIo(`cannot write ${what} ${path}`, e));
  for (const input of target ? inputs : []) {
    const s = input === undefined ? undefined : await stat(input).catch(() => undefined);
    if (s?.dev === target!.dev && s.ino === target!.ino) fail("INVALID_ARGUMENT", `${what} ${path} would replace the input ${input}; give another file name`);
  }
}

export interface TextSink {
  write(s: string): Promise<void>;
  close(): Promise<void>;
}

/** Text to a file (atomically, on close) or to stdout (main.ts ends quietly when the reader goes). */
export function textSink(path: string | undefined): TextSink {
  if (!path) {
    return {
      write: (s) => (process.stdout.write(s) ? Promise.resolve() : new Promise<void>((resolve) => process.stdout.once("drain", resolve))),
      close: async () => {},
    };
  }
  let file: Promise<AtomicFile> | undefined;
  const opened = () => (file ??= atomicFile(path));
  return {
    write: async (s) => (await opened()).write(s),
    close: async () => (await opened()).commit(),
  };
}

/**
 * A float .npy matrix ([n, d] or [d]) with every value finite, checked before any work starts.
 * `usage` (e.g. "sae-edge encode MODEL INPUT") says what goes where when a model stands in its place.
 */
export async function readMatrix(path: string, what = "input", usage?: string): Promise<{ rows: number; cols: number; data: Float32Array }> {
  const bytes = await readBytes(path, what);
  await notAnArray(path, bytes, usage);
  const m = readMatrixF32(bytes, path);
  if (m.rows === 0) fail("INPUT_SHAPE", `${path} has no rows`);
  const bad = m.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) fail("INPUT_NONFINITE", `${path}: row ${Math.floor(bad / m.cols)}, column ${bad % m.cols} is ${m.data[bad]}`);
  return m;
}

/** An input matrix for a model with d_in columns ([n, d_in] or [d_in]). */
export async function readInput(path: string, dIn: number, usage?: string): Promise<{ rows: number; data: Float32Array }> {
  // Checked up front (readMatrix) so that no partial output is written before an error.
  const m = await readMatrix(path, "input", usage);
  if (m.cols !== dIn) fail("INPUT_SHAPE", `${path} has ${m.cols} columns, the model's d_in is ${dIn}`);
  return { rows: m.rows, data: m.data };
}

/** An importer's warnings, one stderr line each (stdout carries only data). */
export function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}
