// Structure-aware mutators: each knows one layer (raw bytes, JSON, .npy headers, safetensors,
// zip archives, pickles) and hands the layer below to the next, so most inputs get past the
// first check and reach the code behind it.
import { deflateSync } from "fflate";
import { END_SEARCH, findEndRecord, parseDirectory, parseZip64End, memberBytes, memberDataAt } from "../src/format/zip.js";

export type Rng = () => number;
export const int = (r: Rng, n: number) => Math.floor(r() * n);
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)];
const enc = new TextEncoder();
const dec = new TextDecoder();

const MAX_JSON = 4 << 20;
const INTERESTING = [0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e9, -(2 ** 31)];

// ---- raw bytes ----
export function mutateBytes(r: Rng, b: Uint8Array, other?: Uint8Array): Uint8Array {
  const out = b.slice();
  const at = () => int(r, Math.max(1, out.length));
  switch (int(r, 10)) {
    case 0: if (out.length) out[at()] ^= 1 << int(r, 8); return out;
    case 1: if (out.length) out[at()] = pick(r, [0, 0xff, 0x7f, 0x80, 0x01, 0x2e, 0x7b, 0x7d]); return out;
    case 2: { // an interesting little-endian 32-bit value
      const p = at();
      if (p + 4 <= out.length) new DataView(out.buffer).setUint32(p, pick(r, INTERESTING) >>> 0, true);
      return out;
    }
    case 3: return out.subarray(0, at()); // truncate
    case 4: { const p = at(), n = 1 + int(r, 64); return concat(out.subarray(0, p), out.subarray(p + n)); } // delete
    case 5: { const p = at(); return concat(out.subarray(0, p), randomBytes(r, 1 + int(r, 32)), out.subarray(p)); } // insert
    case 6: { const p = at(), n = 1 + int(r, 256); return concat(out.subarray(0, p + n), out.subarray(p, p + n), out.subarray(p + n)); } // duplicate
    case 7: return concat(out, randomBytes(r, 1 + int(r, 16))); // trailing bytes
    case 8: if (other?.length) { const p = at(), q = int(r, other.length); return concat(out.subarray(0, p), other.subarray(q, q + 1 + int(r, 512))); } return out; // splice
    default: { const p = at(), n = 1 + int(r, 16); out.fill(pick(r, [0, 0xff, 0x20]), p, p + n); return out; }
  }
}

export function randomBytes(r: Rng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => int(r, 256));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

// ---- JSON ----
function randomJson(r: Rng, depth = 0): unknown {
  switch (int(r, depth > 2 ? 6 : 9)) {
    case 0: return pick(r, INTERESTING);
    case 1: return pick(r, [0.5, -0.0, 1e308, -1e308, 5e-324, 3.4e38, 1e39, 1.5, -3]);
    case 2: return pick(r, ["", "x", "topk", "jumprelu", "float32", "bfloat16", "none", "layer_norm", "NaN", "Infinity", "../x", "\u0000", "é".repeat(40)]);
    case 3: return pick(r, [null, true, false]);
    case 4: return [];
    case 5: return {};
    case 6: return Array.from({ length: int(r, 5) }, () => randomJson(r, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: int(r, 4) }, (_, i) => [pick(r, ["k", "d_in", "d_sae", "__proto__", "values", String(i)]), randomJson(r, depth + 1)]));
    default: return deepNest(r);
  }
}

function deepNest(r: Rng): unknown {
  let v: unknown = 1;
  for (let n = 1 + int(r, 1000); n > 0; n--) v = [v];
  return v;
}

/** One change somewhere in a JSON value: a leaf replaced, a key dropped or added, a number nudged. */
export function mutateJsonValue(r: Rng, v: unknown): unknown {
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const visit = (x: unknown) => {
    if (x === null || typeof x !== "object" || nodes.length > 5000) return;
    for (const k of Array.isArray(x) ? x.keys() : Object.keys(x)) {
      if (nodes.length > 5000) return;
      nodes.push({ parent: x as Record<string, unknown>, key: k });
      visit((x as Record<string, unknown>)[k]);
    }
  };
  const root = { v: structuredClone(v) };
  visit(root);
  if (!nodes.length) return randomJson(r);
  const { parent, key } = pick(r, nodes);
  const old = (parent as Record<string | number, unknown>)[key];
  const set = (x: unknown) => ((parent as Record<string | number, unknown>)[key] = x);
  switch (int(r, 7)) {
    case 0: if (Array.isArray(parent)) parent.splice(key as number, 1); else delete parent[key as string]; break;
    case 1: set(typeof old === "number" ? pick(r, [old + 1, old - 1, -old, old * 2 ** 20, old / 3, Math.round(old) + 0.5]) : randomJson(r)); break;
    case 2: if (Array.isArray(old)) set([...old, ...old]); else set(randomJson(r)); break;
    case 3: { // a long array of one primitive (kept flat: repeated objects would grow without bound)
      const first = Array.isArray(old) && old.length && typeof old[0] !== "object" ? old[0] : pick(r, [0, 1.5, -1, 1e9]);
      set(new Array(r() < 0.9 ? pick(r, [1, 2, 3, 100, 1000]) : pick(r, [70000, 300_001])).fill(first));
      break;
    }
    case 4: if (!Array.isArray(parent)) parent[pick(r, ["k", "d_in", "d_sae", "architecture", "dtype", "x", "__proto__", "normalize_activations"])] = randomJson(r); break;
    case 5: set(typeof old === "string" ? old.slice(0, int(r, old.length + 1)) + (r() < 0.5 ? "" : "_") : JSON.stringify(old) ?? null); break;
    default: set(randomJson(r));
  }
  return root.v;
}

/** JSON text mutated in its structure (or, sometimes, its bytes). */
export function mutateJsonText(r: Rng, bytes: Uint8Array): Uint8Array {
  let v: unknown;
  try {
    v = JSON.parse(dec.decode(bytes));
  } catch {
    return mutateBytes(r, bytes);
  }
  if (r() < 0.15) return mutateBytes(r, bytes);
  try {
    let out = v;
    for (let n = 1 + int(r, 3); n > 0; n--) out = mutateJsonValue(r, out);
    const text = JSON.stringify(out) ?? "null";
    return text.length <= MAX_JSON ? enc.encode(text) : mutateBytes(r, bytes);
  } catch {
    return mutateBytes(r, bytes); // nested too deep to copy or print here
  }
}

// ---- safetensors ----
/** Header JSON, data section, or the length field of a safetensors file. */
export function mutateSafetensors(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length < 8) return mutateBytes(r, b);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(0, true);
  if (dv.getUint32(4, true) !== 0 || 8 + n > b.length) return mutateBytes(r, b);
  const header = b.subarray(8, 8 + n), data = b.subarray(8 + n);
  switch (int(r, 6)) {
    case 0: case 1: case 2: { // the header's JSON, length kept right
      const h = mutateJsonText(r, header);
      const len = new Uint8Array(8);
      new DataView(len.buffer).setUint32(0, h.length, true);
      return concat(len, h, data);
    }
    case 3: { // special floats in the data
      const out = b.slice();
      const odv = new DataView(out.buffer);
      for (let k = 0; k < 1 + int(r, 4) && data.length >= 4; k++) {
        odv.setFloat32(8 + n + 4 * int(r, Math.floor(data.length / 4)), pick(r, [NaN, Infinity, -Infinity, 3.4e38, -0, 1e-45]), true);
      }
      return out;
    }
    case 4: { // the length field
      const out = b.slice();
      new DataView(out.buffer).setUint32(pick(r, [0, 4]), pick(r, INTERESTING) >>> 0, true);
      return out;
    }
    default: return mutateBytes(r, b);
  }
}

// ---- .npy ----
const DESCRS = ["<f4", "<f8", ">f4", "|f4", "<f2", "<i8", "<i4", "|u1", "|b1", "<c8", "f4", "<U3", "[('a', '<f4')]", "<f4'", "", "<f16"];

export function mutateNpy(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length < 10 || b[0] !== 0x93) return mutateBytes(r, b);
  const v1 = b[6] === 1;
  const start = v1 ? 10 : 12;
  const len = v1 ? b[8] | (b[9] << 8) : new DataView(b.buffer, b.byteOffset).getUint32(8, true);
  if (start + len > b.length) return mutateBytes(r, b);
  let text = dec.decode(b.subarray(start, start + len));
  const data = b.subarray(start + len);
  switch (int(r, 8)) {
    case 0: text = text.replace(/'descr': '[^']*'/, `'descr': '${pick(r, DESCRS)}'`); break;
    case 1: text = text.replace(/'fortran_order': \w+/, `'fortran_order': ${pick(r, ["True", "False", "1", "None"])}`); break;
    case 2: text = text.replace(/'shape': \([^)]*\)/, `'shape': (${Array.from({ length: int(r, 5) }, () => pick(r, [0, 1, 2, 3, 4, 8, 16, 2 ** 31, 2 ** 53, 10 ** 30])).join(", ")}${r() < 0.5 ? "," : ""})`); break;
    case 3: text = text.replace(/'shape': \(/, `'shape': (${"1, ".repeat(pick(r, [10, 1000, 20000]))}`); break;
    case 4: return mutateBytes(r, b); // version, length field, anything
    case 5: text = text.replace(/\}/, pick(r, [", 'x': 1}", "}}", "", "} x", "\\'}"])); break;
    case 6: return concat(b.subarray(0, start + len), data.subarray(0, int(r, data.length + 1)), r() < 0.5 ? new Uint8Array(0) : randomBytes(r, 4));
    default: text = mutateBytes(r, enc.encode(text)).reduce((s, c) => s + String.fromCharCode(c), "");
  }
  const head = enc.encode(text);
  const prefix = new Uint8Array(start);
  prefix.set(b.subarray(0, 8));
  const pdv = new DataView(prefix.buffer);
  if (v1 && head.length <= 0xffff) pdv.setUint16(8, head.length, true);
  else if (v1) return concat(new Uint8Array([...b.subarray(0, 6), 2, 0, 0, 0, 0, 0]).map((x, i) => (i >= 8 ? (head.length >>> (8 * (i - 8))) & 255 : x)), head, data);
  else pdv.setUint32(8, head.length, true);
  return concat(prefix, head, data);
}

// ---- zip archives (.npz, torch.save) ----
/** A member as stored: its compressed bytes are kept, so a bomb is never inflated to be rewritten. */
export interface Member { name: string; method: number; stored: Uint8Array; size: number }

/** The members of an archive, or undefined if it does not parse. */
export function unzipMembers(b: Uint8Array): Member[] | undefined {
  try {
    let at = findEndRecord(b.subarray(Math.max(0, b.length - END_SEARCH)), b.length, "seed");
    if ("zip64At" in at) at = parseZip64End(b.subarray(at.zip64At, at.zip64At + 56), b.length, "seed");
    if ("zip64At" in at) return undefined;
    return parseDirectory(b.subarray(at.offset, at.offset + at.size), at.count, b.length, "seed").map((e) => {
      const dataAt = memberDataAt(b.subarray(e.localOffset, e.localOffset + 30), e, b.length, "seed");
      return { name: e.name, method: e.method, stored: b.subarray(dataAt, dataAt + e.compressed), size: e.size };
    });
  } catch {
    return undefined;
  }
}

function setData(m: Member, data: Uint8Array, deflate: boolean): void {
  m.method = deflate ? 8 : 0;
  m.stored = deflate ? deflateSync(data, { level: 6 }) : data;
  m.size = data.length;
}

/** Directory offsets of an archive's central entries (by signature). */
function entries(b: Uint8Array): number[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let p = 0; p + 46 <= b.length; p++) if (dv.getUint32(p, true) === 0x02014b50) out.push(p);
  return out;
}

let bombs: Member[] | undefined;
/** .npy members of zeros that deflate about a thousandfold (4 and 32 MiB), deflated once. */
function bomb(r: Rng, name: string): Member {
  bombs ??= [4 << 20, 32 << 20].map((n) => {
    const data = new Uint8Array(n);
    data.set(npyHeader(n / 4));
    return { name: "", method: 8, stored: deflateSync(data, { level: 9 }), size: n };
  });
  return { ...pick(r, bombs), name };
}

/** A float32 .npy header for `n` values, padded to 128 bytes (the data follows). */
function npyHeader(n: number): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n - 32},), }`.padEnd(117, " ") + "\n";
  return concat(new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]), enc.encode(dict));
}

/** Rewrites a member (by the inner mutator), adds a bomb, or edits the directory's fields. */
export function mutateZip(r: Rng, b: Uint8Array, inner: (r: Rng, name: string, data: Uint8Array) => Uint8Array): Uint8Array {
  const members = unzipMembers(b);
  const choice = int(r, 10);
  if (members && members.length && choice < 5) {
    const m = pick(r, members);
    if (choice === 4) m.name = pick(r, ["../x.npy", "a/b.npy", m.name + m.name, "", "x.npy", "archive/data.pkl", "archive/data/0"]);
    else if (m.size <= 1 << 20) {
      try {
        setData(m, inner(r, m.name, memberBytes(m.stored, { ...m, compressed: m.stored.length, localOffset: 0 }, "seed")), r() < 0.3 ? m.method === 0 : m.method !== 0);
      } catch {
        m.stored = mutateBytes(r, m.stored);
      }
    }
    return zip(members);
  }
  if (members && choice === 5) { // a decompression bomb beside (or instead of) a member
    const at = members.length && r() < 0.5 ? int(r, members.length) : members.length;
    members[at] = bomb(r, members[at]?.name ?? pick(r, ["bomb.npy", "archive/data/0", "archive/data.pkl"]));
    return zip(members);
  }
  if (members && choice === 6) return zip64(r, zip(members));
  // A field of the directory, end record or a local header.
  const out = b.slice();
  const dv = new DataView(out.buffer);
  const dir = entries(out);
  if (!dir.length) return mutateBytes(r, out);
  const e = pick(r, dir);
  const field = pick(r, [[10, 2], [20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [42, 4]] as const);
  const v = pick(r, INTERESTING);
  if (field[1] === 2) dv.setUint16(e + field[0], v & 0xffff, true);
  else dv.setUint32(e + field[0], v >>> 0, true);
  return out;
}

/** A zip of the members as they are (CRCs left 0: the readers do not check them). */
function zip(members: Member[]): Uint8Array {
  const locals: Uint8Array[] = [], central: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = enc.encode(m.name);
    const local = new Uint8Array(30 + name.length), lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, m.method, true);
    lv.setUint32(18, m.stored.length, true);
    lv.setUint32(22, m.size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const entry = new Uint8Array(46 + name.length), cv = new DataView(entry.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, m.method, true);
    cv.setUint32(20, m.stored.length, true);
    cv.setUint32(24, m.size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    entry.set(name, 46);
    locals.push(local, m.stored);
    central.push(entry);
    offset += local.length + m.stored.length;
  }
  const dirSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22), ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  return concat(...locals, ...central, end);
}

/**
 * The same archive as zip64: every entry's sizes and offset moved into a zip64 extra field
 * (sometimes cut short), then a zip64 end record and locator before the end record.
 */
export function zip64(r: Rng, b: Uint8Array): Uint8Array {
  const dirStarts = entries(b);
  if (!dirStarts.length) return b;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dirStart = dirStarts[0];
  const eocd = b.length - 22;
  const parts: Uint8Array[] = [b.subarray(0, dirStart)];
  let dirSize = 0;
  for (const e of dirStarts) {
    const nameLen = dv.getUint16(e + 28, true), extraLen = dv.getUint16(e + 30, true), commentLen = dv.getUint16(e + 32, true);
    const head = b.slice(e, e + 46 + nameLen);
    const hv = new DataView(head.buffer);
    const x = new Uint8Array(4 + 24);
    const xv = new DataView(x.buffer);
    xv.setUint16(0, 1, true);
    xv.setUint16(2, r() < 0.9 ? 24 : pick(r, [8, 16, 60, 0xffff]), true);
    xv.setBigUint64(4, BigInt(hv.getUint32(24, true)), true);
    xv.setBigUint64(12, BigInt(hv.getUint32(20, true)), true);
    xv.setBigUint64(20, BigInt(hv.getUint32(42, true)), true);
    for (const f of [20, 24, 42]) hv.setUint32(f, 0xffffffff, true);
    hv.setUint16(30, x.length + extraLen, true);
    const entry = concat(head, x, b.subarray(e + 46 + nameLen, e + 46 + nameLen + extraLen + commentLen));
    parts.push(entry);
    dirSize += entry.length;
  }
  const count = dirStarts.length;
  const rec = new Uint8Array(56), rv = new DataView(rec.buffer);
  rv.setUint32(0, 0x06064b50, true);
  rv.setBigUint64(4, 44n, true);
  rv.setBigUint64(24, BigInt(count), true);
  rv.setBigUint64(32, BigInt(count), true);
  rv.setBigUint64(40, BigInt(dirSize), true);
  rv.setBigUint64(48, BigInt(dirStart), true);
  const loc = new Uint8Array(20), lv = new DataView(loc.buffer);
  lv.setUint32(0, 0x07064b50, true);
  lv.setBigUint64(8, BigInt(dirStart + dirSize), true);
  lv.setUint32(16, 1, true);
  const end = b.slice(eocd);
  const ev = new DataView(end.buffer);
  ev.setUint16(8, 0xffff, true);
  ev.setUint16(10, 0xffff, true);
  ev.setUint32(12, 0xffffffff, true);
  ev.setUint32(16, 0xffffffff, true);
  return concat(...parts, rec, loc, end);
}

// ---- pickles ----
// Argument bytes of the opcodes the reader knows (-1: a newline-terminated argument, -4: a u32 length then that many bytes).
const ARGS: Record<number, number> = {
  0x80: 1, 0x95: 8, 0x4b: 1, 0x4d: 2, 0x4a: 4, 0x47: 8, 0x71: 1, 0x72: 4, 0x68: 1, 0x6a: 4, 0x8a: -8, 0x8c: -1, 0x58: -4, 0x63: -2,
};
const SIMPLE = [0x28, 0x29, 0x5d, 0x7d, 0x4e, 0x88, 0x89, 0x93, 0x94, 0x74, 0x85, 0x86, 0x87, 0x6c, 0x61, 0x65, 0x73, 0x75, 0x52, 0x81, 0x92, 0x51, 0x62, 0x2e, 0x30, 0x31, 0x32];

/** The pickle's opcodes as [start, end) ranges, as far as they can be told apart. */
function opcodes(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < b.length && out.length < 100_000; ) {
    const op = b[i], a = ARGS[op];
    let end = i + 1;
    if (a === undefined) end = i + 1;
    else if (a > 0) end = i + 1 + a;
    else if (a === -8) end = i + 2 + (b[i + 1] ?? 0);
    else if (a === -1) end = i + 2 + (b[i + 1] ?? 0);
    else if (a === -4) end = i + 5 + (new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(Math.min(i + 1, b.length - 4), true) || 0);
    else { const n1 = b.indexOf(10, i + 1), n2 = n1 < 0 ? -1 : b.indexOf(10, n1 + 1); end = n2 < 0 ? b.length : n2 + 1; }
    out.push([i, Math.min(end, b.length)]);
    i = Math.min(end, b.length);
  }
  return out;
}

const GLOBALS = ["os\nsystem\n", "builtins\neval\n", "collections\nOrderedDict\n", "torch._utils\n_rebuild_tensor_v2\n", "torch\nFloatStorage\n", "subprocess\nPopen\n", "__main__\nSAE\n"];

/** Inserts, deletes, repeats or replaces opcodes: deep nests, memo games, globals, long runs. */
export function mutatePickle(r: Rng, b: Uint8Array): Uint8Array {
  const ops = opcodes(b);
  if (!ops.length) return mutateBytes(r, b);
  const [s, e] = pick(r, ops);
  switch (int(r, 8)) {
    case 0: return concat(b.subarray(0, s), b.subarray(e)); // drop one
    case 1: return concat(b.subarray(0, e), b.subarray(s, e), b.subarray(e)); // repeat one
    case 2: { const run = pick(r, [[0x28], [0x5d], [0x7d], [0x94], [0x85], [0x61]]); return concat(b.subarray(0, s), new Uint8Array(pick(r, [2, 100, 5000, 100_000])).fill(run[0]), b.subarray(s)); }
    case 3: return concat(b.subarray(0, s), new Uint8Array([pick(r, SIMPLE)]), b.subarray(s));
    case 4: return concat(b.subarray(0, s), new Uint8Array([0x63]), enc.encode(pick(r, GLOBALS)), b.subarray(s)); // GLOBAL
    case 5: return concat(b.subarray(0, s), new Uint8Array([pick(r, [0x68, 0x71, 0x4b]), int(r, 256)]), b.subarray(e)); // memo get/put, small int
    case 6: { const n = pick(r, [0, 1, 2 ** 31 - 1, 0xffffffff]); const x = new Uint8Array(5); x[0] = pick(r, [0x58, 0x72, 0x6a, 0x4a]); new DataView(x.buffer).setUint32(1, n >>> 0, true); return concat(b.subarray(0, s), x, b.subarray(e)); }
    default: return mutateBytes(r, b);
  }
}
