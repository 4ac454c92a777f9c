// The zip structures .npz archives and torch.save files are read through: the end record (zip64
// included), the central directory and local headers, every field bounds-checked against the bytes
// that hold it and the file, and members that may not overlap (overlapping members are the classic
// zip bomb). Pure functions over bytes; the callers read them from where the archive is.
import { Inflate, inflateSync } from "fflate";
import { SaeEdgeError, fail } from "../base/errors.js";

export interface ZipEntry {
  name: string;
  method: number;
  compressed: number;
  size: number;
  localOffset: number;
}

/** Where the directory is, or (zip64) where the record that says so is. */
export type DirectoryAt = { offset: number; size: number; count: number } | { zip64At: number };

/** Bytes at the end of a file that hold its end record: the record and a comment of up to 64 KiB. */
export const END_SEARCH = 22 + 0xffff;
const MAX_DIRECTORY = 64 << 20;
/** deflate writes at least 1 bit per 258 bytes: no honest member inflates to more than this times its compressed size. */
const DEFLATE_MAX_RATIO = 1032;

const damaged = (what: string, why: string): never => fail("CHECKPOINT_INVALID", `${what}: ${why}`);

const u64 = (dv: DataView, at: number, what: string): number => {
  const v = dv.getBigUint64(at, true);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : damaged(what, "a zip64 field is larger than 2^53");
};

/** The end record in `tail` (the last bytes of a file of `fileSize`). */
export function findEndRecord(tail: Uint8Array, fileSize: number, what: string): DirectoryAt {
  const dv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) damaged(what, "not a readable zip archive: no end of central directory");
  const count = dv.getUint16(eocd + 10, true), size = dv.getUint32(eocd + 12, true), offset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) damaged(what, "zip64 locator missing");
    return { zip64At: checkedRange(u64(dv, loc + 8, what), 56, fileSize, what) };
  }
  return directoryAt(offset, size, count, fileSize, what);
}

/** The directory's place from the 56-byte zip64 end record. */
export function parseZip64End(rec: Uint8Array, fileSize: number, what: string): DirectoryAt {
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  if (rec.length < 56 || dv.getUint32(0, true) !== 0x06064b50) damaged(what, "zip64 end record missing");
  return directoryAt(u64(dv, 48, what), u64(dv, 40, what), u64(dv, 32, what), fileSize, what);
}

function directoryAt(offset: number, size: number, count: number, fileSize: number, what: string): DirectoryAt {
  if (size > MAX_DIRECTORY) damaged(what, `zip directory of ${size} bytes is implausibly large`);
  // Each entry takes at least 46 bytes: a count the directory cannot hold is a lie.
  if (count * 46 > size) damaged(what, `zip directory of ${size} bytes cannot hold ${count} entries`);
  return { offset: checkedRange(offset, size, fileSize, what), size, count };
}

function checkedRange(offset: number, length: number, fileSize: number, what: string): number {
  if (offset + length > fileSize) damaged(what, "zip structure points outside the file");
  return offset;
}

/** The entries of the central directory `bytes` (`count` of them), checked against a file of `fileSize`. */
export function parseDirectory(bytes: Uint8Array, count: number, fileSize: number, what: string): ZipEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let e = 0; e < count; e++) {
    const bad = (why: string): never => damaged(what, `zip directory entry ${e} ${why}`);
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50) bad("is damaged");
    const flags = dv.getUint16(p + 8, true), method = dv.getUint16(p + 10, true);
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > bytes.length) bad("runs past the directory");
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    let compressed = dv.getUint32(p + 20, true), size = dv.getUint32(p + 24, true), localOffset = dv.getUint32(p + 42, true);
    // zip64 extra field: the 64-bit values, in this order, for the fields that overflowed.
    for (let x = p + 46 + nameLen, end = x + extraLen; x + 4 <= end; ) {
      const id = dv.getUint16(x, true), len = dv.getUint16(x + 2, true);
      if (x + 4 + len > end) bad("has an extra field running past its end");
      if (id === 0x0001) {
        let q = x + 4;
        const field = () => (q + 8 <= x + 4 + len ? ((q += 8), u64(dv, q - 8, what)) : bad("has a zip64 field too short for its values"));
        if (size === 0xffffffff) size = field();
        if (compressed === 0xffffffff) compressed = field();
        if (localOffset === 0xffffffff) localOffset = field();
      }
      x += 4 + len;
    }
    if (flags & 1) fail("CHECKPOINT_UNSUPPORTED", `${what}: member ${name} is encrypted`);
    if (localOffset + 30 + compressed > fileSize) damaged(what, `member ${name} runs past the end of the file`);
    if (method === 8 && size > compressed * DEFLATE_MAX_RATIO + 1024) damaged(what, `member ${name} declares ${size} bytes, more than deflate can make of ${compressed}`);
    entries.push({ name, method, compressed, size, localOffset });
    p = next;
  }
  refuseOverlaps(entries, what);
  return entries;
}

function refuseOverlaps(entries: ZipEntry[], what: string): void {
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (let k = 1; k < byOffset.length; k++) {
    const prev = byOffset[k - 1];
    if (byOffset[k].localOffset < prev.localOffset + 30 + prev.compressed) damaged(what, `members ${prev.name} and ${byOffset[k].name} overlap`);
  }
}

/** Where a member's data starts, from its 30-byte local header at entry.localOffset. */
export function memberDataAt(local: Uint8Array, entry: ZipEntry, fileSize: number, what: string): number {
  const dv = new DataView(local.buffer, local.byteOffset, local.byteLength);
  if (local.length < 30 || dv.getUint32(0, true) !== 0x04034b50) damaged(what, `member ${entry.name}: local header is damaged`);
  const dataAt = entry.localOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
  return checkedRange(dataAt, entry.compressed, fileSize, `${what}: member ${entry.name}`);
}

/** A stored or deflated member's bytes, which must be exactly the `size` its entry declares. */
export function memberBytes(data: Uint8Array, entry: ZipEntry, label: string): Uint8Array {
  if (entry.method === 0) {
    if (entry.compressed !== entry.size) damaged(label, "stored sizes disagree");
    return data;
  }
  if (entry.method !== 8) fail("CHECKPOINT_UNSUPPORTED", `${label} uses zip compression method ${entry.method} (stored and deflate are read)`);
  let bytes: Uint8Array;
  try {
    // One byte of room past the declared size tells a lying size from an honest one.
    bytes = inflateSync(data, { out: new Uint8Array(entry.size + 1) });
  } catch (e) {
    return damaged(label, `does not inflate: ${(e as Error).message}`);
  }
  if (bytes.length !== entry.size) damaged(label, `inflates to ${bytes.length > entry.size ? "more than " : ""}${bytes.length} bytes, not the ${entry.size} it declares`);
  return bytes;
}

/**
 * Inflates a deflate stream piece by piece until `enough(head)` says the head is complete: the work
 * is bounded by the head's length (a 1 KiB piece inflates to at most ~1 MiB), not the member's.
 */
export async function inflateHead(
  readPiece: (at: number, length: number) => Promise<Uint8Array>,
  length: number,
  need: (head: Uint8Array) => number,
  label: string,
): Promise<Uint8Array> {
  const PIECE = 1024;
  let head = new Uint8Array(0);
  let wanted = need(head);
  const inflater = new Inflate((chunk) => {
    if (head.length >= wanted) return;
    const grown = new Uint8Array(head.length + chunk.length);
    grown.set(head);
    grown.set(chunk, head.length);
    head = grown;
    wanted = need(head);
  });
  try {
    for (let p = 0; p < length && head.length < wanted; p += PIECE) {
      inflater.push(await readPiece(p, Math.min(PIECE, length - p)), p + PIECE >= length);
    }
  } catch (e) {
    if (e instanceof SaeEdgeError) throw e; // from need(): the header is too large
    damaged(label, `does not inflate: ${(e as Error).message}`);
  }
  return head;
}

/**
 * The most a zip of `fileSize` bytes may inflate to: real weights barely compress, so an archive
 * that claims more than 8 times its size (past a 16 MiB allowance for small, zero-filled tensors)
 * is refused before anything is inflated.
 */
export function inflationCap(fileSize: number): number {
  return (16 << 20) + 8 * fileSize;
}
