// Files written atomically and durably: a temp file in the same folder, fsync, rename, fsync of
// the folder. A failure, a full disk or a kill never leaves half a file in place of the old one.
// One writer for the CLI, the demo and the examples (exported by sae-edge/node); the sync twin is
// for callers that must not yield between writes (the gateway's snapshot follows its journal).
import { closeSync, fsyncSync, openSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeSync, fchmodSync } from "node:fs";
import { open, readdir, realpath, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fail, failIo } from "../../base/errors.js";

/** A failed write: a path that cannot be a file is the caller's mistake, anything else the system's. */
function failWrite(path: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") fail("INVALID_ARGUMENT", `cannot write ${path}: ${code}`);
  return failIo(`cannot write ${path}`, e);
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

/** Whether `name` is a temp file of ours that a dead process left (for `target`, when given). */
function stale(name: string, target?: string): boolean {
  const m = TEMP.exec(name);
  return m !== null && (target === undefined || m[1] === target) && !running(Number(m[2]));
}

async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  for (const name of await readdir(dir).catch(() => [])) if (stale(name, basename(path))) await rm(join(dir, name), { force: true });
}

/** Removes the temp files that writers killed mid-write left in `dir` (only those for `file`, when given; a live process's are kept). */
export function removeAtomicLeftovers(dir: string, file?: string): void {
  for (const name of readdirSync(dir)) if (stale(name, file)) rmSync(join(dir, name), { force: true });
}

const UNSYNCABLE_FOLDER = ["EISDIR", "EPERM", "EACCES", "EINVAL", "ENOTSUP"];

/** Makes a rename in `dir` survive a power cut; skipped where a folder cannot be synced (Windows). */
async function syncFolder(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (e) {
    if (!UNSYNCABLE_FOLDER.includes((e as NodeJS.ErrnoException).code ?? "")) throw e;
  } finally {
    await handle?.close();
  }
}

/** Makes the entries of `dir` (a rename, a new or removed file) survive a power cut. */
export function syncFolderSync(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch (e) {
    if (!UNSYNCABLE_FOLDER.includes((e as NodeJS.ErrnoException).code ?? "")) throw e;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export interface AtomicFile {
  write(chunk: Uint8Array | string): Promise<void>;
  /** fsync, rename over the target, fsync the folder. */
  commit(): Promise<void>;
}

/**
 * A file that appears at `path` complete or not at all; any failure removes the temp file.
 * A symlink stays: the file it names is replaced. A device, pipe or socket (-o /dev/stdout)
 * cannot be renamed over, so it is written in place.
 */
export async function atomicFile(path: string): Promise<AtomicFile> {
  const target = await realpath(path).catch(() => path);
  const old = await stat(target).catch(() => undefined);
  const inPlace = old !== undefined && !old.isFile();
  if (!inPlace) await removeStaleTemps(target);
  const tmp = inPlace ? target : tempPath(target);
  let handle: FileHandle | undefined;
  const guarded = async (step: () => Promise<void>) => {
    try {
      await step();
    } catch (e) {
      await handle?.close().catch(() => {});
      handle = undefined;
      if (!inPlace) await rm(tmp, { force: true });
      failWrite(path, e);
    }
  };
  await guarded(async () => {
    handle = await open(tmp, "w");
    if (old && !inPlace) await handle.chmod(old.mode & 0o7777); // a replaced file keeps its permissions
  });
  return {
    write: (chunk) => guarded(() => handle!.writeFile(chunk)),
    commit: () =>
      guarded(async () => {
        if (!inPlace) await handle!.sync();
        await handle!.close();
        handle = undefined;
        if (inPlace) return;
        await rename(tmp, target);
        await syncFolder(dirname(target));
      }),
  };
}

/** Writes `data` to `path` atomically; parts are written in order, so a large model is never joined into one buffer. */
export async function writeFileAtomic(path: string, data: Uint8Array | string | Iterable<Uint8Array | string>): Promise<void> {
  const file = await atomicFile(path);
  for (const part of parts(data)) await file.write(part);
  await file.commit();
}

const parts = (data: Uint8Array | string | Iterable<Uint8Array | string>) => (typeof data === "string" || data instanceof Uint8Array ? [data] : data);

/** writeFileAtomic without yielding: the same temp file, checks and guarantees, for callers that must finish a write before anything else runs. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string | Iterable<Uint8Array | string>): void {
  let target = path;
  try {
    target = realpathSync(path);
  } catch {}
  const old = statSync(target, { throwIfNoEntry: false });
  const inPlace = old !== undefined && !old.isFile();
  const tmp = inPlace ? target : tempPath(target);
  let fd = -1;
  try {
    if (!inPlace) for (const name of readdirSync(dirname(target))) if (stale(name, basename(target))) rmSync(join(dirname(target), name), { force: true });
    fd = openSync(tmp, "w");
    if (old && !inPlace) fchmodSync(fd, old.mode & 0o7777);
    for (const part of parts(data)) {
      const bytes = typeof part === "string" ? Buffer.from(part) : part;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    }
    if (!inPlace) fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    if (inPlace) return;
    renameSync(tmp, target);
    syncFolderSync(dirname(target));
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    if (!inPlace) rmSync(tmp, { force: true });
    failWrite(path, e);
  }
}

