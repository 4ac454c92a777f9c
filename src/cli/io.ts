// File helpers for the CLI: every failure becomes a typed error, and every file is written
// atomically and durably: a temp file in the same folder, fsync, rename, fsync of the folder.
// A failure, a full disk or a kill never leaves half a file in place of the old one.
import { constants } from "node:fs";
import { access, open, readFile, readdir, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";
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

/**
 * Fails at once when `path` cannot be written as a file (a folder, a missing or read-only folder):
 * commands call it before their long work, so a bad -o costs one line, not a training run.
 */
export async function checkOutput(path: string, what = "output"): Promise<void> {
  if (path.endsWith(sep) || (await stat(path).catch(() => undefined))?.isDirectory()) fail("INVALID_ARGUMENT", `${what} ${path} is a folder; give a file name`);
  const dir = dirname(path);
  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) fail("INVALID_ARGUMENT", `cannot write ${what} ${path}: ${folder ? `${dir} is not a folder` : `no folder ${dir}`}`);
  await access(dir, constants.W_OK).catch((e: unknown) => failIo(`cannot write ${what} ${path}`, e));
}

// The temp file is `.<name>.<pid>.tmp` beside its target. One left by a killed run is removed by
// the next write of the same target; a live process's is left alone.
const TEMP = /^\.(.+)\.(\d+)\.tmp$/;
const tempPath = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);

function running(pid: number): boolean {
  if (pid === process.pid) return false; // ours was left by an earlier process with this pid
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  for (const name of await readdir(dir).catch(() => [])) {
    const m = TEMP.exec(name);
    if (m && m[1] === basename(path) && !running(Number(m[2]))) await rm(join(dir, name), { force: true });
  }
}

/** Makes a rename in `dir` survive a power cut; skipped where a folder cannot be synced (Windows). */
async function syncFolder(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (e) {
    if (!["EISDIR", "EPERM", "EACCES", "EINVAL", "ENOTSUP"].includes((e as NodeJS.ErrnoException).code ?? "")) throw e;
  } finally {
    await handle?.close();
  }
}

interface AtomicFile {
  write(chunk: Uint8Array | string): Promise<void>;
  /** fsync, rename over the target, fsync the folder. */
  commit(): Promise<void>;
}

/** A file that appears at `path` complete or not at all; any failure removes the temp file. */
async function atomicFile(path: string): Promise<AtomicFile> {
  await removeStaleTemps(path);
  const tmp = tempPath(path);
  let handle: FileHandle | undefined;
  const guarded = async (step: () => Promise<void>) => {
    try {
      await step();
    } catch (e) {
      await handle?.close().catch(() => {});
      handle = undefined;
      await rm(tmp, { force: true });
      failWrite(path, e);
    }
  };
  const old = await stat(path).catch(() => undefined);
  await guarded(async () => {
    handle = await open(tmp, "w");
    if (old) await handle.chmod(old.mode & 0o7777); // a replaced file keeps its permissions
  });
  return {
    write: (chunk) => guarded(() => handle!.writeFile(chunk)),
    commit: () =>
      guarded(async () => {
        await handle!.sync();
        await handle!.close();
        handle = undefined;
        await rename(tmp, path);
        await syncFolder(dirname(path));
      }),
  };
}

export async function writeBytes(path: string, data: Uint8Array | string | Uint8Array[]): Promise<void> {
  const file = await atomicFile(path);
  // Parts are written in order: a large model is never joined into one buffer.
  for (const part of Array.isArray(data) ? data : [data]) await file.write(part);
  await file.commit();
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
