// Reader and writer for NumPy .npy files (format versions 1.0, 2.0, 3.0),
// limited to the little-endian numeric dtypes sae-edge needs. Fortran-order arrays
// (numpy writes them for transposed arrays) are reordered to C order in place on read.
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
// Platform-neutral on purpose (browsers, Deno, Workers): no node: imports.

import { fail, type SaeErrorCode } from "../base/errors.js";

export type NpyDtype = "float32" | "float64" | "int64" | "int32" | "uint8" | "bool";

export interface NpyArray {
  shape: number[];
  dtype: NpyDtype;
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGN = 64; // numpy aligns the data start to 64 bytes
const GROWTH_AXIS_MAX_DIGITS = 21; // numpy leaves room to grow shape[0] in place

// descr type code (without byte-order char) -> dtype and item size.
const TYPES: Record<string, { dtype: NpyDtype; size: number }> = {
  f4: { dtype: "float32", size: 4 },
  f8: { dtype: "float64", size: 8 },
  i8: { dtype: "int64", size: 8 },
  i4: { dtype: "int32", size: 4 },
  u1: { dtype: "uint8", size: 1 },
  b1: { dtype: "bool", size: 1 },
};

const ALL_DTYPES = Object.values(TYPES).map((t) => t.dtype);

/** The dtypes an input matrix may have (readMatrixF32): the one list every message names. */
export const INPUT_DTYPES: readonly NpyDtype[] = ["float32", "float64"];

const KIND_NAMES: Record<string, string> = { f: "float", i: "int", u: "uint", c: "complex" };

/** numpy's name for a descr ('<f2' -> float16), or the descr itself if it has none. */
function dtypeName(descr: string): string {
  const m = /^[<>=|]?([fiucb])(\d+)$/.exec(descr);
  if (!m) return `'${descr}'`;
  return m[1] === "b" ? "bool" : `${KIND_NAMES[m[1]]}${8 * Number(m[2])}`;
}

function unsupportedDtype(descr: string, accept: readonly NpyDtype[]): string {
  return `dtype ${dtypeName(descr)} ('${descr}') is not supported; accepted: ${accept.join(", ")}`;
}

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Error helper: every message starts with the caller's label (e.g. the file name). */
function failer(what: string | undefined) {
  const prefix = what ? `${what}: ` : "npy: ";
  return (code: SaeErrorCode, msg: string): never => fail(code, prefix + msg);
}
type Fail = ReturnType<typeof failer>;

function fmtShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/**
 * Strict parser for the header dict numpy writes, e.g.
 * {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * Not a Python parser: exactly the three keys, quoted-string descr,
 * True/False, and a tuple of non-negative integers.
 */
function parseHeaderDict(src: string, bad: Fail): Header {
  let i = 0;
  const malformed = (why: string): never =>
    bad("NPY_INVALID", `malformed header dict (${why} at offset ${i}): ${JSON.stringify(src.trimEnd().slice(0, 200))}${src.trimEnd().length > 200 ? "…" : ""}`);
  const ws = () => {
    while (i < src.length && " \t\r\n".includes(src[i])) i++;
  };
  const expect = (ch: string) => {
    ws();
    if (src[i] !== ch) malformed(`expected '${ch}'`);
    i++;
  };
  const peek = (): string | undefined => {
    ws();
    return src[i];
  };
  const str = (): string => {
    const q = peek();
    if (q !== "'" && q !== '"') return malformed("expected a quoted string");
    const close = src.indexOf(q, i + 1);
    if (close < 0) return malformed("unterminated string");
    const s = src.slice(i + 1, close);
    if (s.includes("\\")) return malformed("escapes are not supported");
    i = close + 1;
    return s;
  };
  const digits = /[0-9]+/y;
  const int = (): number => {
    ws();
    digits.lastIndex = i;
    const m = digits.exec(src);
    if (!m) return malformed("expected a non-negative integer");
    i += m[0].length;
    const v = Number(m[0]);
    if (!Number.isSafeInteger(v)) return malformed(`integer ${m[0]} is too large`);
    return v;
  };
  const bool = (): boolean => {
    ws();
    for (const [word, v] of [["True", true], ["False", false]] as const) {
      if (src.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return malformed("expected True or False");
  };
  const tuple = (): number[] => {
    expect("(");
    const out: number[] = [];
    if (peek() === ")") {
      i++;
      return out;
    }
    for (;;) {
      out.push(int());
      const c = peek();
      if (c === ")") {
        // Python: (5) is the integer 5, not a tuple.
        if (out.length === 1) malformed("one-element tuple needs a trailing comma");
        i++;
        return out;
      }
      expect(",");
      if (peek() === ")") {
        i++;
        return out;
      }
    }
  };

  const seen: Partial<Header> = {};
  expect("{");
  while (peek() !== "}") {
    const key = str();
    expect(":");
    if (key in seen) malformed(`duplicate key '${key}'`);
    if (key === "descr") {
      // A list here is a structured dtype: valid numpy, but not something we read.
      if (peek() === "[") bad("NPY_UNSUPPORTED", `structured dtypes are not supported; accepted: ${ALL_DTYPES.join(", ")}`);
      seen.descr = str();
    } else if (key === "fortran_order") {
      seen.fortranOrder = bool();
    } else if (key === "shape") {
      seen.shape = tuple();
    } else {
      malformed(`unexpected key '${key}'`);
    }
    if (peek() === "}") break;
    expect(",");
  }
  i++; // '}'
  ws();
  if (i !== src.length) malformed("trailing characters after '}'");
  if (seen.descr === undefined || seen.fortranOrder === undefined || seen.shape === undefined) {
    malformed("need exactly the keys 'descr', 'fortran_order' and 'shape'");
  }
  return seen as Header;
}

function resolveDescr(descr: string, bad: Fail, accept: readonly NpyDtype[]): { dtype: NpyDtype; size: number } {
  const order = descr[0];
  const t = Object.prototype.hasOwnProperty.call(TYPES, descr.slice(1)) ? TYPES[descr.slice(1)] : undefined;
  if (!t || !"<>=|".includes(order) || !accept.includes(t.dtype)) return bad("NPY_UNSUPPORTED", unsupportedDtype(descr, accept));
  // Byte order only matters for multi-byte items.
  if (t.size > 1 && order === ">") {
    bad("NPY_UNSUPPORTED", `dtype '${descr}' is big-endian; only little-endian ('<') arrays are read`);
  }
  if (t.size > 1 && order === "|") {
    bad("NPY_UNSUPPORTED", `dtype '${descr}' has no byte order; only little-endian ('<') arrays are read`);
  }
  return t;
}

/** prod(shape) x itemsize, or undefined past Number.MAX_SAFE_INTEGER (float product is exact below that). */
function byteSize(shape: readonly number[], itemSize: number): number | undefined {
  let n = itemSize;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return n;
}

export interface NpyHeader {
  shape: number[];
  dtype: NpyDtype;
  itemBytes: number;
  /** Where the data starts (the header's length in bytes). */
  dataStart: number;
  /** Bytes of data the shape implies. */
  dataBytes: number;
  /** The data is in Fortran (column-major) order: fortranToC puts it in C order. */
  fortranOrder: boolean;
}

/**
 * The bytes a header needs: 10 or 12 for the length field, then the whole header (0 = `head` is
 * too short to tell). Lets a reader fetch just the header of a large member.
 */
export function npyHeaderLength(head: Uint8Array): number {
  if (head.length < 12) return 0;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return head[6] === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
}

/** Parses and checks the header at the start of `bytes` (which may hold only the header); `accept` limits the dtypes. */
export function parseNpyHeader(bytes: Uint8Array, what?: string, accept: readonly NpyDtype[] = ALL_DTYPES): NpyHeader {
  const bad = failer(what);
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) {
    bad("NPY_INVALID", `not a .npy file (missing the \\x93NUMPY magic; ${bytes.length} bytes)`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    bad("NPY_INVALID", `unknown .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) {
    bad("NPY_INVALID", `truncated: file ends inside the header length (${bytes.length} bytes)`);
  }
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.length) {
    bad("NPY_INVALID", `truncated: header needs ${dataStart} bytes, file has ${bytes.length}`);
  }
  // v1/v2 are latin1, v3 UTF-8; a valid header is ASCII either way, so map bytes directly.
  let text = "";
  for (let k = 8 + lenBytes; k < dataStart; k++) {
    const b = bytes[k];
    if (b >= 0x80) bad("NPY_INVALID", `header has a non-ASCII byte 0x${b.toString(16)} at offset ${k}`);
    text += String.fromCharCode(b);
  }
  const header = parseHeaderDict(text, bad);
  const { dtype, size } = resolveDescr(header.descr, bad, accept);
  const need = byteSize(header.shape, size);
  if (need === undefined) bad("NPY_INVALID", `${header.descr} ${fmtShape(header.shape)} needs more than 2^53 bytes`);
  return { shape: header.shape, dtype, itemBytes: size, dataStart, dataBytes: need!, fortranOrder: header.fortranOrder };
}

function parse(bytes: Uint8Array, what: string | undefined, accept?: readonly NpyDtype[]): NpyArray {
  const bad = failer(what);
  const { shape, dtype, dataStart, dataBytes, fortranOrder } = parseNpyHeader(bytes, what, accept);
  const have = bytes.length - dataStart;
  if (dataBytes !== have) {
    bad("NPY_INVALID", `data is ${have} bytes but ${dtype} ${fmtShape(shape)} needs ${dataBytes}`);
  }
  // A fresh, aligned copy (Node's Buffer.slice would share the whole pool slab, so copy explicitly).
  const buf = new Uint8Array(bytes.subarray(dataStart)).buffer;
  const data =
    dtype === "float32" ? new Float32Array(buf)
    : dtype === "float64" ? new Float64Array(buf)
    : dtype === "int64" ? new BigInt64Array(buf)
    : dtype === "int32" ? new Int32Array(buf)
    : new Uint8Array(buf);
  if (fortranOrder) fortranToC(data, shape);
  return { shape, dtype, data };
}

/**
 * Reorders Fortran-order (column-major) values of `shape` into C (row-major) order, in place:
 * each permutation cycle is followed once, with one bit of bookkeeping per value, so a large
 * matrix needs no second copy.
 */
export function fortranToC(values: { length: number; [i: number]: number | bigint }, fullShape: readonly number[]): void {
  // Axes of length 1 change no order; without them the rank is at most log2(values), so a shape
  // of a million ones costs nothing.
  const shape = fullShape.filter((d) => d !== 1);
  if (shape.length < 2) return;
  const n = values.length;
  // C index p holds the value at Fortran offset from(p).
  const from = shape.length === 2
    ? (p: number) => Math.floor(p / shape[1]) + (p % shape[1]) * shape[0]
    : (p: number) => {
        let off = 0, stride = 1, rest = p;
        const idx = new Array<number>(shape.length);
        for (let d = shape.length - 1; d >= 0; d--) {
          idx[d] = rest % shape[d];
          rest = Math.floor(rest / shape[d]);
        }
        for (let d = 0; d < shape.length; d++) {
          off += idx[d] * stride;
          stride *= shape[d];
        }
        return off;
      };
  const done = new Uint8Array(Math.ceil(n / 8));
  for (let start = 0; start < n; start++) {
    if (done[start >> 3] & (1 << (start & 7))) continue;
    const first = values[start];
    for (let cur = start; ; ) {
      done[cur >> 3] |= 1 << (cur & 7);
      const src = from(cur);
      if (src === start) {
        values[cur] = first;
        break;
      }
      values[cur] = values[src];
      cur = src;
    }
  }
}

/** Parses a .npy file; the data is copied into a fresh, aligned typed array. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  return parse(bytes, undefined);
}

/**
 * Writes a little-endian, C-order .npy file with the same header bytes numpy
 * 2.x writes: version 1.0 (2.0 if the header outgrows a u16), data at a
 * multiple of 64 bytes.
 */
export function serializeNpy(
  data: Float32Array | Float64Array | Int32Array | Uint8Array,
  shape: number[],
): Uint8Array {
  const descr =
    data instanceof Float32Array ? "<f4"
    : data instanceof Float64Array ? "<f8"
    : data instanceof Int32Array ? "<i4"
    : data instanceof Uint8Array ? "|u1"
    : fail("NPY_UNSUPPORTED", `npy: cannot write ${Object.prototype.toString.call(data)}; accepted: Float32Array, Float64Array, Int32Array, Uint8Array`);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail("NPY_INVALID", `npy: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  const count = byteSize(shape, 1);
  if (count !== data.length) {
    fail("NPY_INVALID", `npy: shape ${fmtShape(shape)} holds ${count ?? "more than 2^53"} elements, data has ${data.length}`);
  }

  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${fmtShape(shape)}, }`;
  if (shape.length > 0) dict += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // numpy's padding rule: 1..64 spaces, then '\n', so the data starts 64-aligned.
  const withNewline = dict.length + 1;
  let prefix = 10;
  let pad = ALIGN - ((prefix + withNewline) % ALIGN);
  if (withNewline + pad > 0xffff) {
    prefix = 12;
    pad = ALIGN - ((prefix + withNewline) % ALIGN);
  }
  const headerLen = withNewline + pad;

  const out = new Uint8Array(prefix + headerLen + data.byteLength);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  if (prefix === 10) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  for (let k = 0; k < dict.length; k++) out[prefix + k] = dict.charCodeAt(k);
  out.fill(0x20, prefix + dict.length, prefix + headerLen - 1);
  out[prefix + headerLen - 1] = 0x0a;
  // Raw bytes as-is: all JS platforms in use are little-endian.
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefix + headerLen);
  return out;
}

/**
 * Reads a float matrix: float32 or float64 (converted), shape [n, d] or [d]
 * (one row). `what` (e.g. the file name) prefixes error messages.
 */
export function readMatrixF32(
  bytes: Uint8Array,
  what?: string,
): { rows: number; cols: number; data: Float32Array } {
  const bad = failer(what);
  const arr = parse(bytes, what, INPUT_DTYPES);
  if (arr.shape.length !== 1 && arr.shape.length !== 2) {
    bad("NPY_UNSUPPORTED",
      `found shape ${fmtShape(arr.shape)} (${arr.shape.length}-D); accepted: 2-D (n, d) or 1-D (d,)`);
  }
  const [rows, cols] = arr.shape.length === 2 ? [arr.shape[0], arr.shape[1]] : [1, arr.shape[0]];
  const data = arr.data instanceof Float32Array ? arr.data : new Float32Array(arr.data as Float64Array);
  return { rows, cols, data };
}
