// Reader and writer for the safetensors container
// (https://github.com/huggingface/safetensors): an 8-byte little-endian u64 N,
// N bytes of UTF-8 JSON header, then the data section. Validation follows the
// reference Rust implementation so a file we accept is one it accepts too.
// Platform-neutral on purpose (browsers, Deno, Workers): no node: imports.

import { fail } from "../base/errors.js";

export type Dtype =
  | "F64" | "F32" | "F16" | "BF16"
  | "I64" | "I32" | "I16" | "I8"
  | "U8" | "BOOL" | "U16" | "U32" | "U64";

export const DTYPE_BYTES: Record<Dtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U8: 1, BOOL: 1, U16: 2, U32: 4, U64: 8,
};

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte range [begin, end) relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** N, the JSON header length in bytes. */
  headerBytes: number;
  /** 8 + N, where the data section starts in the file. */
  dataOffset: number;
  /** Sorted by begin. */
  tensors: TensorInfo[];
  metadata: Record<string, string>;
}

/** Same cap as the reference implementation. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = "__metadata__";
const ENTRY_FIELDS = new Set(["dtype", "shape", "data_offsets"]);

function isDtype(s: unknown): s is Dtype {
  return typeof s === "string" && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/**
 * a * b, or undefined past Number.MAX_SAFE_INTEGER. Exact: if the true product
 * is safe the float product is exact, otherwise it rounds to >= 2^53.
 */
function mulSafe(a: number, b: number): number | undefined {
  const p = a * b;
  return p > Number.MAX_SAFE_INTEGER ? undefined : p;
}

/** prod(shape) x itemsize, or undefined on overflow (checked per step, like the reference). */
function byteSize(shape: readonly number[], itemBytes: number): number | undefined {
  let n: number | undefined = 1;
  for (const d of shape) {
    n = mulSafe(n, d);
    if (n === undefined) return undefined;
  }
  return mulSafe(n, itemBytes);
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Reads and bounds-checks N from the first 8 bytes of a file of `fileSize` bytes. */
export function readSafetensorsHeaderLength(first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first8.length < 8) {
    fail("SAFETENSORS_TRUNCATED",
      `safetensors: need 8 bytes for the header length, file has ${Math.min(fileSize, first8.length)}`);
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  // Any high bit puts N beyond 2^32, far past the cap; don't build the number.
  if (high !== 0) {
    fail("SAFETENSORS_HEADER_TOO_LARGE",
      `safetensors: header length ${high} * 2^32 + ${low} exceeds the cap of ${MAX_HEADER_BYTES} bytes`);
  }
  if (low > MAX_HEADER_BYTES) {
    fail("SAFETENSORS_HEADER_TOO_LARGE",
      `safetensors: header length ${low} exceeds the cap of ${MAX_HEADER_BYTES} bytes`);
  }
  if (8 + low > fileSize) {
    fail("SAFETENSORS_HEADER_TOO_LARGE",
      `safetensors: header length ${low} runs past the end of the file (8 + ${low} > ${fileSize} bytes)`);
  }
  return low;
}

function parseEntry(name: string, raw: unknown): TensorInfo {
  if (!isPlainObject(raw)) {
    fail("SAFETENSORS_INVALID_HEADER", `safetensors: tensor "${name}": entry is not an object`);
  }
  for (const key of Object.keys(raw)) {
    if (!ENTRY_FIELDS.has(key)) {
      fail("SAFETENSORS_INVALID_HEADER", `safetensors: tensor "${name}": unknown field "${key}"`);
    }
  }
  for (const key of ENTRY_FIELDS) {
    if (!(key in raw)) {
      fail("SAFETENSORS_INVALID_HEADER", `safetensors: tensor "${name}": missing field "${key}"`);
    }
  }
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isDtype(dtype)) {
    fail("SAFETENSORS_INVALID_HEADER",
      `safetensors: tensor "${name}": unknown dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(", ")}`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    fail("SAFETENSORS_INVALID_HEADER",
      `safetensors: tensor "${name}": shape ${JSON.stringify(shape)} is not an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1]) {
    fail("SAFETENSORS_INVALID_HEADER",
      `safetensors: tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  const size = byteSize(shape, DTYPE_BYTES[dtype]);
  if (size === undefined) {
    fail("SAFETENSORS_INVALID_OFFSETS",
      `safetensors: tensor "${name}": ${dtype} ${fmtShape(shape)} is larger than 2^53 bytes`);
  }
  if (end - begin !== size) {
    fail("SAFETENSORS_INVALID_OFFSETS",
      `safetensors: tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${fmtShape(shape)} needs ${size}`);
  }
  return { name, dtype, shape: shape.slice(), begin, end };
}

function parseMetadata(raw: unknown): Record<string, string> {
  if (!isPlainObject(raw)) {
    fail("SAFETENSORS_INVALID_HEADER", `safetensors: ${METADATA_KEY} is not an object`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") {
      fail("SAFETENSORS_INVALID_HEADER",
        `safetensors: ${METADATA_KEY} value for "${k}" is ${v === null ? "null" : typeof v}, not a string`);
    }
    out[k] = v;
  }
  return out;
}

/** Parses and validates the N header bytes of a file of `fileSize` bytes. */
export function parseSafetensorsHeader(headerJson: Uint8Array, fileSize: number): SafetensorsHeader {
  const headerBytes = headerJson.length;
  if (headerBytes > MAX_HEADER_BYTES || 8 + headerBytes > fileSize) {
    fail("SAFETENSORS_HEADER_TOO_LARGE",
      `safetensors: header length ${headerBytes} exceeds the cap (${MAX_HEADER_BYTES}) or the file (${fileSize} bytes)`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerJson);
  } catch {
    fail("SAFETENSORS_INVALID_HEADER", `safetensors: header (${headerBytes} bytes) is not valid UTF-8`);
  }
  // The reference rejects a header that does not start with '{' (e.g. leading whitespace).
  if (!text.startsWith("{")) {
    fail("SAFETENSORS_INVALID_HEADER", `safetensors: header does not start with '{'`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail("SAFETENSORS_INVALID_HEADER", `safetensors: header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json)) {
    fail("SAFETENSORS_INVALID_HEADER", `safetensors: header JSON is not an object`);
  }

  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, raw] of Object.entries(json)) {
    if (name === METADATA_KEY) metadata = parseMetadata(raw);
    else tensors.push(parseEntry(name, raw));
  }

  // Sort by (begin, end) so zero-size tensors sharing an offset come first.
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of tensors) {
    if (t.begin !== cursor) {
      fail("SAFETENSORS_INVALID_OFFSETS",
        t.begin < cursor
          ? `safetensors: tensor "${t.name}" starts at ${t.begin}, overlapping the previous tensor that ends at ${cursor}`
          : `safetensors: tensor "${t.name}" starts at ${t.begin}, leaving a gap after byte ${cursor}`);
    }
    cursor = t.end;
  }

  const dataOffset = 8 + headerBytes;
  const dataBytes = fileSize - dataOffset;
  if (cursor < dataBytes) {
    fail("SAFETENSORS_INCOMPLETE_BUFFER",
      `safetensors: tensors cover ${cursor} of ${dataBytes} data bytes; ${dataBytes - cursor} trailing bytes are not part of any tensor`);
  }
  if (cursor > dataBytes) {
    fail("SAFETENSORS_TRUNCATED",
      `safetensors: tensors need ${cursor} data bytes but the file has ${dataBytes}`);
  }
  return { headerBytes, dataOffset, tensors, metadata };
}

/** Parses a whole file held in memory; tensor() returns views into `bytes`, no copy. */
export function parseSafetensors(bytes: Uint8Array): {
  header: SafetensorsHeader;
  tensor(name: string): Uint8Array;
} {
  const n = readSafetensorsHeaderLength(bytes, bytes.length);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  return {
    header,
    tensor(name: string): Uint8Array {
      const t = byName.get(name);
      if (!t) fail("SAFETENSORS_INVALID_HEADER", `safetensors: no tensor named "${name}"`);
      return bytes.subarray(header.dataOffset + t.begin, header.dataOffset + t.end);
    },
  };
}

export interface TensorToWrite {
  dtype: Dtype;
  shape: number[];
  /** Raw little-endian bytes; a typed array's bytes are taken as-is (all JS platforms in use are little-endian). */
  data: Uint8Array | ArrayBufferView;
}

/** Writes a safetensors file into one buffer (see safetensorsParts). */
export function serializeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const parts = safetensorsParts(tensors, metadata);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * A safetensors file as the header followed by each tensor's bytes (views, not copies), to be
 * written in order. Tensors keep the iteration order of `tensors` (note JS orders integer-like
 * keys first) with contiguous offsets; the header is space-padded so the data section starts
 * 8-byte aligned.
 */
export function safetensorsParts(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  // Build the JSON by hand to control key order: __metadata__ first, then tensors.
  const parts: string[] = [];
  if (metadata !== undefined) {
    parseMetadata(metadata); // same rules as the reader
    parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === METADATA_KEY) {
      fail("SAFETENSORS_INVALID_HEADER", `safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    }
    if (!isDtype(t.dtype)) {
      fail("SAFETENSORS_INVALID_HEADER", `safetensors: tensor "${name}": unknown dtype ${JSON.stringify(t.dtype)}`);
    }
    if (!Array.isArray(t.shape) || !t.shape.every(isIndex)) {
      fail("SAFETENSORS_INVALID_HEADER",
        `safetensors: tensor "${name}": shape ${JSON.stringify(t.shape)} is not an array of non-negative integers`);
    }
    const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const size = byteSize(t.shape, DTYPE_BYTES[t.dtype]);
    if (size !== data.length) {
      fail("SAFETENSORS_INVALID_OFFSETS",
        `safetensors: tensor "${name}": ${t.dtype} ${fmtShape(t.shape)} needs ${size ?? "more than 2^53"} bytes, data has ${data.length}`);
    }
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({
      dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size],
    })}`);
    chunks.push(data);
    offset += size;
  }

  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerBytes = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + headerBytes);
  new DataView(head.buffer).setUint32(0, headerBytes, true); // high half stays 0: headers are far below 2^32
  head.set(json, 8);
  head.fill(0x20, 8 + json.length);
  return [head, ...chunks];
}

// f16 bit pattern -> f32 bit pattern, built on first use (256 KiB).
let f16Table: Uint32Array | undefined;

function halfBitsToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / nan (payload kept)
  if (exp !== 0) return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0; // +-0
  // Subnormal: shift the mantissa up until the implicit bit appears.
  let e = -14;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | ((e + 127) << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

function getF16Table(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = halfBitsToFloatBits(h);
  }
  return f16Table;
}

/** Decodes F32/F64/F16/BF16 tensor bytes into a fresh Float32Array (input may be unaligned). */
export function toFloat32(bytes: Uint8Array, dtype: Dtype): Float32Array {
  const item = floatItemBytes(dtype);
  if (bytes.length % item !== 0) {
    fail("SAFETENSORS_INVALID_OFFSETS",
      `safetensors: ${bytes.length} bytes is not a whole number of ${dtype} values (${item} bytes each)`);
  }
  const out = new Float32Array(bytes.length / item);
  decodeFloat32Into(bytes, dtype, out, 0);
  return out;
}

/** Bytes per value of a float dtype sae-edge can read as float32; fails for any other dtype. */
export function floatItemBytes(dtype: Dtype): number {
  if (dtype !== "F32" && dtype !== "F64" && dtype !== "F16" && dtype !== "BF16") {
    fail("SAFETENSORS_INVALID_HEADER",
      `safetensors: cannot convert dtype ${JSON.stringify(dtype)} to float32 (supported: F32, F64, F16, BF16)`);
  }
  return DTYPE_BYTES[dtype];
}

/** Decodes whole values of `bytes` (a float dtype, any alignment) into out[at...]; chunked readers call it per chunk. */
export function decodeFloat32Into(bytes: Uint8Array, dtype: Dtype, out: Float32Array, at: number): void {
  const n = bytes.length / floatItemBytes(dtype);
  switch (dtype) {
    case "F32":
      new Uint8Array(out.buffer, out.byteOffset + at * 4, n * 4).set(bytes);
      return;
    case "F64": {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++) out[at + i] = view.getFloat64(i * 8, true);
      return;
    }
    default: {
      // F16 / BF16: write bit patterns through a u32 view so NaN payloads survive.
      const bits = new Uint32Array(out.buffer, out.byteOffset + at * 4, n);
      const table = dtype === "F16" ? getF16Table() : undefined;
      for (let i = 0; i < n; i++) {
        const h = bytes[2 * i] | (bytes[2 * i + 1] << 8);
        bits[i] = table ? table[h] : (h << 16) >>> 0;
      }
    }
  }
}
