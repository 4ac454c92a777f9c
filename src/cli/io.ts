// File helpers for the CLI: every failure becomes a typed error (exit code 2).
import { readFile, writeFile } from "node:fs/promises";
import { Readable } from "node:stream";
import { fail } from "../base/errors.js";
import { readMatrixF32 } from "../format/npy.js";

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    return fail("INVALID_ARGUMENT", `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function writeBytes(path: string, data: Uint8Array | string | Uint8Array[]): Promise<void> {
  try {
    // Parts are written in order: a large model is never joined into one buffer.
    await writeFile(path, Array.isArray(data) ? Readable.from(data) : data);
  } catch (e) {
    fail("INVALID_ARGUMENT", `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A float32/float64 .npy matrix ([n, d] or [d]) with every value finite, checked before any work starts. */
export async function readMatrix(path: string, what = "input"): Promise<{ rows: number; cols: number; data: Float32Array }> {
  const m = readMatrixF32(await readBytes(path, what), path);
  if (m.rows === 0) fail("INPUT_SHAPE", `${path} has no rows`);
  const bad = m.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) fail("INPUT_NONFINITE", `${path}: row ${Math.floor(bad / m.cols)}, column ${bad % m.cols} is ${m.data[bad]}`);
  return m;
}

/** An input matrix for a model with d_in columns: float32/float64 .npy, 2-D [n, d_in] or 1-D [d_in]. */
export async function readInput(path: string, dIn: number): Promise<{ rows: number; data: Float32Array }> {
  // Checked up front (readMatrix) so that no partial output is written before an error.
  const m = await readMatrix(path);
  if (m.cols !== dIn) fail("INPUT_SHAPE", `${path} has ${m.cols} columns, the model's d_in is ${dIn}`);
  return { rows: m.rows, data: m.data };
}
