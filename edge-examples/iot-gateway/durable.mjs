// Files that survive a crash: written to a temp file in the same folder, flushed to disk,
// renamed over the target, and the folder flushed so the rename itself is on disk. A crash
// at any point leaves the old file or the new one, never half of one.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

let serial = 0;

/** Writes `data` (bytes, a string, or an iterable of them, written as they come) to `path` atomically and durably. */
export function writeFileDurable(path, data) {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${serial++}`);
  let fd = -1;
  try {
    fd = openSync(tmp, "wx");
    for (const chunk of typeof data === "string" || ArrayBuffer.isView(data) ? [data] : data) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  syncFolder(dirname(path));
}

/** Flushes a folder's entries (a rename, a new or removed file) to disk. */
export function syncFolder(dir) {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A temp file a crash left behind (the names writeFileDurable uses). */
export const isLeftover = (name) => /^\..+\.tmp-\d+-\d+$/.test(name);
