// NumPy .npz archives behind a ByteSource. fflate's unzip wants the whole archive
// in memory; a 1.2 GB Gemma Scope params.npz must not be, so the zip directory is
// read here (zip64 included) and each member by range: stored members straight
// into the destination, deflated ones inflated with fflate into a buffer of their
// declared size (never more: no decompression bombs). Flat member names only.
// Fortran-order members are read as stored, then reordered in place (fortranToC: one
// bit per value of bookkeeping, no second copy of the matrix).
import { Inflate, inflateSync } from "fflate";
import { fail } from "../base/errors.js";
import type { ByteSource } from "../base/byte-source.js";
import { mapTensor, type LazyTensor } from "../base/lazy-tensor.js";
import { fortranToC, npyHeaderLength, parseNpyHeader, type NpyDtype, type NpyHeader } from "./npy.js";
import { rangeTensor } from "./range-tensor.js";
import { decodeFloat32Into } from "./safetensors.js";

export const MAX_NPZ_INFLATED = 4 * 2 ** 30;
const MAX_DIRECTORY = 64 << 20;
const MAX_NPY_HEADER = 1 << 20;

export interface NpzMember {
  name: string;
  shape: number[];
  dtype: NpyDtype;
  /** float32/float64 members as float32. */
  tensor: LazyTensor;
}

interface ZipEntry {
  name: string;
  method: number;
  compressed: number;
  size: number;
  localOffset: number;
}

async function readAt(src: ByteSource, offset: number, length: number, what: string): Promise<Uint8Array> {
  if (offset < 0 || length < 0 || offset + length > src.size) fail("CHECKPOINT_INVALID", `${what}: zip structure points outside the file`);
  const out = new Uint8Array(length);
  await src.read(offset, out);
  return out;
}

// The end-of-central-directory record (and its zip64 twin): where the directory is.
async function findDirectory(src: ByteSource, what: string): Promise<{ offset: number; size: number; count: number }> {
  const tailLen = Math.min(src.size, 22 + 0xffff);
  const tail = await readAt(src, src.size - tailLen, tailLen, what);
  const dv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) fail("CHECKPOINT_INVALID", `${what} is not a readable .npz (zip) archive: no end of central directory`);
  let count = dv.getUint16(eocd + 10, true);
  let size = dv.getUint32(eocd + 12, true);
  let offset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) fail("CHECKPOINT_INVALID", `${what}: zip64 locator missing`);
    const rec = await readAt(src, Number(dv.getBigUint64(loc + 8, true)), 56, what);
    const rv = new DataView(rec.buffer);
    if (rv.getUint32(0, true) !== 0x06064b50) fail("CHECKPOINT_INVALID", `${what}: zip64 end record missing`);
    count = Number(rv.getBigUint64(32, true));
    size = Number(rv.getBigUint64(40, true));
    offset = Number(rv.getBigUint64(48, true));
  }
  if (size > MAX_DIRECTORY) fail("CHECKPOINT_INVALID", `${what}: zip directory of ${size} bytes is implausibly large`);
  return { offset, size, count };
}

async function readDirectory(src: ByteSource, what: string): Promise<ZipEntry[]> {
  const dir = await findDirectory(src, what);
  const bytes = await readAt(src, dir.offset, dir.size, what);
  const dv = new DataView(bytes.buffer);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let e = 0; e < dir.count; e++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50) fail("CHECKPOINT_INVALID", `${what}: zip directory entry ${e} is damaged`);
    const flags = dv.getUint16(p + 8, true);
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    let compressed = dv.getUint32(p + 20, true), size = dv.getUint32(p + 24, true), localOffset = dv.getUint32(p + 42, true);
    // zip64 extra field: the 64-bit values, in this order, for the fields that overflowed.
    for (let x = p + 46 + nameLen, end = x + extraLen; x + 4 <= end; ) {
      const id = dv.getUint16(x, true), len = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        const next = () => { const v = Number(dv.getBigUint64(q, true)); q += 8; return v; };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      x += 4 + len;
    }
    if (name.includes("/") || name.includes("\\") || name.includes("..")) fail("CHECKPOINT_INVALID", `${what}: member "${name}" is not a plain file name`);
    if (flags & 1) fail("CHECKPOINT_UNSUPPORTED", `${what}: member ${name} is encrypted`);
    entries.push({ name, method: dv.getUint16(p + 10, true), compressed, size, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Opens an .npz: member headers are read and checked now, float data on load. */
export async function openNpz(src: ByteSource, what: string, maxInflated = MAX_NPZ_INFLATED): Promise<Map<string, NpzMember>> {
  const out = new Map<string, NpzMember>();
  let inflated = 0;
  for (const entry of await readDirectory(src, what)) {
    if (!entry.name.endsWith(".npy")) continue;
    const label = `${what}: member ${entry.name}`;
    if (entry.method !== 0 && entry.method !== 8) fail("CHECKPOINT_UNSUPPORTED", `${label} uses zip compression method ${entry.method} (stored and deflate are read)`);
    const local = await readAt(src, entry.localOffset, 30, what);
    const lv = new DataView(local.buffer);
    if (lv.getUint32(0, true) !== 0x04034b50) fail("CHECKPOINT_INVALID", `${label}: local header is damaged`);
    const dataAt = entry.localOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataAt + entry.compressed > src.size) fail("CHECKPOINT_INVALID", `${label} runs past the end of the file`);
    const member = entry.method === 0
      ? await storedMember(src, dataAt, entry, label)
      : await deflatedMember(src, dataAt, entry, label, (inflated += entry.size) <= maxInflated ? 0 : maxInflated);
    if (member.fortranOrder) member.tensor = mapTensor(member.tensor, (v) => fortranToC(v, member.shape));
    out.set(entry.name.slice(0, -4), { name: entry.name.slice(0, -4), shape: member.shape, dtype: member.dtype, tensor: member.tensor });
  }
  return out;
}

type MemberData = Omit<NpzMember, "name"> & { fortranOrder: boolean };

// Non-float members are listed (with shape and dtype) but cannot be loaded as float32.
function floatTensor(dtype: NpyDtype, label: string, length: number, read: () => LazyTensor): LazyTensor {
  if (dtype === "float32" || dtype === "float64") return read();
  return { length, load: () => fail("CHECKPOINT_UNSUPPORTED", `${label} is ${dtype}, not float32/float64`) };
}

async function storedMember(src: ByteSource, dataAt: number, entry: ZipEntry, label: string): Promise<MemberData> {
  if (entry.compressed !== entry.size) fail("CHECKPOINT_INVALID", `${label}: stored sizes disagree`);
  const head = await readAt(src, dataAt, Math.min(entry.size, 12), label);
  const headerLen = npyHeaderLength(head) || entry.size;
  const header = parseNpyHeader(await readAt(src, dataAt, Math.min(entry.size, headerLen), label), label);
  checkSize(header, entry.size, label);
  const length = header.dataBytes / header.itemBytes;
  const tensor = floatTensor(header.dtype, label, length, () => rangeTensor(src, dataAt + header.dataStart, header.dtype === "float32" ? "F32" : "F64", length));
  return { shape: header.shape, dtype: header.dtype, tensor, fortranOrder: header.fortranOrder };
}

function checkSize(header: NpyHeader, size: number, label: string): void {
  if (header.dataStart + header.dataBytes !== size) fail("CHECKPOINT_INVALID", `${label}: holds ${size - header.dataStart} data bytes, its header implies ${header.dataBytes}`);
}

async function deflatedMember(src: ByteSource, dataAt: number, entry: ZipEntry, label: string, overCap: number): Promise<MemberData> {
  if (overCap) fail("CHECKPOINT_INVALID", `${label}: members inflate to more than ${overCap} bytes`);
  const compressed = () => readAt(src, dataAt, entry.compressed, label);
  const header = parseNpyHeader(await inflateHead(await compressed(), label), label);
  checkSize(header, entry.size, label);
  const length = header.dataBytes / header.itemBytes;
  const tensor = floatTensor(header.dtype, label, length, () => ({
    length,
    async load({ into, onValues } = {}) {
      // One byte of room past the declared size tells a lying size from an honest one.
      const bytes = inflateAll(await compressed(), entry.size + 1, label);
      if (bytes.length !== entry.size) fail("CHECKPOINT_INVALID", `${label} inflates to ${bytes.length > entry.size ? "more than" : ""} ${bytes.length} bytes, not the ${entry.size} it declares`);
      const values = into && into.length >= length ? into.subarray(0, length) : new Float32Array(length);
      decodeFloat32Into(bytes.subarray(header.dataStart), header.dtype === "float32" ? "F32" : "F64", values, 0);
      onValues?.(length);
      return values;
    },
  }));
  return { shape: header.shape, dtype: header.dtype, tensor, fortranOrder: header.fortranOrder };
}

function inflateAll(data: Uint8Array, room: number, label: string): Uint8Array {
  try {
    return inflateSync(data, { out: new Uint8Array(room) });
  } catch (e) {
    return fail("CHECKPOINT_INVALID", `${label} does not inflate: ${(e as Error).message}`);
  }
}

// Inflates just enough of a member to hold its .npy header.
function inflateHead(data: Uint8Array, label: string): Uint8Array {
  let head = new Uint8Array(0);
  let need = 12;
  const inflater = new Inflate((chunk) => {
    if (head.length >= need) return;
    const grown = new Uint8Array(head.length + chunk.length);
    grown.set(head);
    grown.set(chunk, head.length);
    head = grown;
    if (head.length >= 12) need = npyHeaderLength(head);
    if (need > MAX_NPY_HEADER) fail("CHECKPOINT_INVALID", `${label}: .npy header of ${need} bytes is implausibly large`);
  });
  try {
    for (let p = 0; p < data.length && head.length < need; p += 1 << 16) inflater.push(data.subarray(p, p + (1 << 16)), p + (1 << 16) >= data.length);
  } catch (e) {
    if ((e as { code?: string }).code === "CHECKPOINT_INVALID") throw e;
    fail("CHECKPOINT_INVALID", `${label} does not inflate: ${(e as Error).message}`);
  }
  return head;
}
