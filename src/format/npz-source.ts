// NumPy .npz archives behind a ByteSource. fflate's unzip wants the whole archive
// in memory; a 1.2 GB Gemma Scope params.npz must not be, so the zip directory is
// read here (./zip.ts, zip64 included) and each member by range: stored members straight
// into the destination, deflated ones inflated with fflate into a buffer of their
// declared size (never more), after their .npy header was inflated piece by piece (so a
// decompression bomb costs what its header costs). Flat member names only.
// Fortran-order members are read as stored, then reordered in place (fortranToC: one
// bit per value of bookkeeping, no second copy of the matrix).
import { fail } from "../base/errors.js";
import type { ByteSource } from "../base/byte-source.js";
import { mapTensor, type LazyTensor } from "../base/lazy-tensor.js";
import { fortranToC, npyHeaderLength, parseNpyHeader, type NpyDtype, type NpyHeader } from "./npy.js";
import { rangeTensor } from "./range-tensor.js";
import { decodeFloat32Into } from "./safetensors.js";
import { END_SEARCH, findEndRecord, inflateHead, inflationCap, memberBytes, memberDataAt, parseDirectory, parseZip64End, type ZipEntry } from "./zip.js";

export const MAX_NPZ_INFLATED = 4 * 2 ** 30;
const MAX_NPY_HEADER = 1 << 20;

export interface NpzMember {
  name: string;
  shape: number[];
  dtype: NpyDtype;
  /** float32/float64 members as float32. */
  tensor: LazyTensor;
}

async function readAt(src: ByteSource, offset: number, length: number, what: string): Promise<Uint8Array> {
  if (offset < 0 || length < 0 || offset + length > src.size) fail("CHECKPOINT_INVALID", `${what}: zip structure points outside the file`);
  const out = new Uint8Array(length);
  await src.read(offset, out);
  return out;
}

async function readDirectory(src: ByteSource, what: string): Promise<ZipEntry[]> {
  const tailLen = Math.min(src.size, END_SEARCH);
  let at = findEndRecord(await readAt(src, src.size - tailLen, tailLen, what), src.size, what);
  if ("zip64At" in at) at = parseZip64End(await readAt(src, at.zip64At, 56, what), src.size, what);
  if ("zip64At" in at) return fail("CHECKPOINT_INVALID", `${what}: zip64 end record points at another`);
  const entries = parseDirectory(await readAt(src, at.offset, at.size, what), at.count, src.size, what);
  for (const { name } of entries) {
    if (name.includes("/") || name.includes("\\") || name.includes("..")) fail("CHECKPOINT_INVALID", `${what}: member "${name}" is not a plain file name`);
  }
  return entries;
}

/** Opens an .npz: member headers are read and checked now, float data on load. */
export async function openNpz(src: ByteSource, what: string, maxInflated = MAX_NPZ_INFLATED): Promise<Map<string, NpzMember>> {
  const out = new Map<string, NpzMember>();
  const cap = Math.min(maxInflated, inflationCap(src.size));
  let inflated = 0;
  for (const entry of await readDirectory(src, what)) {
    if (!entry.name.endsWith(".npy")) continue;
    const label = `${what}: member ${entry.name}`;
    if (entry.method !== 0 && entry.method !== 8) fail("CHECKPOINT_UNSUPPORTED", `${label} uses zip compression method ${entry.method} (stored and deflate are read)`);
    const dataAt = memberDataAt(await readAt(src, entry.localOffset, 30, what), entry, src.size, what);
    if (entry.method === 8 && (inflated += entry.size) > cap) fail("CHECKPOINT_INVALID", `${label}: members inflate to more than ${cap} bytes${cap < maxInflated ? ` (${src.size} compressed: a decompression bomb?)` : ""}`);
    const member = entry.method === 0 ? await storedMember(src, dataAt, entry, label) : await deflatedMember(src, dataAt, entry, label);
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
  if (headerLen > MAX_NPY_HEADER) fail("CHECKPOINT_INVALID", `${label}: .npy header of ${headerLen} bytes is implausibly large`);
  const header = parseNpyHeader(await readAt(src, dataAt, Math.min(entry.size, headerLen), label), label);
  checkSize(header, entry.size, label);
  const length = header.dataBytes / header.itemBytes;
  const tensor = floatTensor(header.dtype, label, length, () => rangeTensor(src, dataAt + header.dataStart, header.dtype === "float32" ? "F32" : "F64", length));
  return { shape: header.shape, dtype: header.dtype, tensor, fortranOrder: header.fortranOrder };
}

function checkSize(header: NpyHeader, size: number, label: string): void {
  if (header.dataStart + header.dataBytes !== size) fail("CHECKPOINT_INVALID", `${label}: holds ${size - header.dataStart} data bytes, its header implies ${header.dataBytes}`);
}

async function deflatedMember(src: ByteSource, dataAt: number, entry: ZipEntry, label: string): Promise<MemberData> {
  const headerBytes = (head: Uint8Array) => {
    const need = head.length < 12 ? 12 : npyHeaderLength(head);
    if (need > MAX_NPY_HEADER) fail("CHECKPOINT_INVALID", `${label}: .npy header of ${need} bytes is implausibly large`);
    return need;
  };
  const head = await inflateHead((at, length) => readAt(src, dataAt + at, length, label), entry.compressed, headerBytes, label);
  const header = parseNpyHeader(head.subarray(0, Math.max(12, npyHeaderLength(head))), label);
  checkSize(header, entry.size, label);
  const length = header.dataBytes / header.itemBytes;
  const tensor = floatTensor(header.dtype, label, length, () => ({
    length,
    async load({ into, onValues } = {}) {
      const bytes = memberBytes(await readAt(src, dataAt, entry.compressed, label), entry, label);
      const values = into && into.length >= length ? into.subarray(0, length) : new Float32Array(length);
      decodeFloat32Into(bytes.subarray(header.dataStart), header.dtype === "float32" ? "F32" : "F64", values, 0);
      onValues?.(length);
      return values;
    },
  }));
  return { shape: header.shape, dtype: header.dtype, tensor, fortranOrder: header.fortranOrder };
}
