// File helpers for the CLI: every failure becomes a typed error, every file is written
// atomically (a temp file in the same folder, then a rename), so a failure never leaves half a file.
import { createWriteStream } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { fail, failIo } from "../base/errors.js";
import { readMatrixF32 } from "../format/npy.js";
import { notAnArray } from "./file-kinds.js";

/** A failed write: a path that cannot be a file is the caller's mistake, anything else the system's. */
function failWrite(path: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") fail("INVALID_ARGUMENT", `cannot write ${path}: ${code}`);
  return failIo(`cannot write ${path}`, e);
}

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EISDIR") fail("INVALID_ARGUMENT", `${what} ${path} is a folder, not a file`);
    return failIo(`cannot read ${what} ${path}`, e);
  }
}

const tempPath = (path: string) => `${path}.${process.pid}.tmp`;

export async function writeBytes(path: string, data: Uint8Array | string | Uint8Array[]): Promise<void> {
  const tmp = tempPath(path);
  try {
    // Parts are written in order: a large model is never joined into one buffer.
    await writeFile(tmp, Array.isArray(data) ? Readable.from(data) : data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    failWrite(path, e);
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
  const tmp = tempPath(path);
  const stream = createWriteStream(tmp);
  let failed: Error | null = null;
  stream.on("error", (e: Error) => (failed = e));
  const check = async () => {
    if (!failed) return;
    await rm(tmp, { force: true });
    failWrite(path, failed);
  };
  return {
    async write(s) {
      await check();
      if (!stream.write(s)) await new Promise<void>((resolve) => { stream.once("drain", resolve); stream.once("error", () => resolve()); });
      await check();
    },
    async close() {
      await check();
      await new Promise<void>((resolve) => { stream.end(resolve); stream.once("error", () => resolve()); });
      await check();
      await rename(tmp, path).catch((e: unknown) => failWrite(path, e));
    },
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
