// PyTorch .pt files read without executing anything (the pickle machine in ./pickle.ts):
// torch.save's zip format (<name>/data.pkl + <name>/data/<key> storages) and its legacy
// stream (_use_new_zipfile_serialization=False: magic, version and sys_info pickles, the
// object pickle, the storage keys, then each storage as an int64 count and raw bytes).
// Only an allow-list of globals may be called (OrderedDict, tensor and parameter
// rebuilders); storage types are only named. Any other global — os.system, a pickled
// module's class, … — is refused by name.
import { fail } from "../base/errors.js";
import { isGlobal, unpickle, type PickleGlobal } from "./pickle.js";
import { END_SEARCH, findEndRecord, inflationCap, memberBytes, memberDataAt, parseDirectory, parseZip64End, type ZipEntry } from "./zip.js";

export type TorchDtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

export interface TorchTensor {
  kind: "tensor";
  dtype: TorchDtype;
  shape: number[];
  /** Row-major (contiguous) values; 64-bit integers as numbers. */
  data: Float32Array | Float64Array;
}

const STORAGES: Record<string, [TorchDtype, number]> = {
  DoubleStorage: ["F64", 8], FloatStorage: ["F32", 4], HalfStorage: ["F16", 2], BFloat16Storage: ["BF16", 2],
  LongStorage: ["I64", 8], IntStorage: ["I32", 4], ShortStorage: ["I16", 2], CharStorage: ["I8", 1], ByteStorage: ["U8", 1], BoolStorage: ["BOOL", 1],
};

interface Storage { kind: "storage"; dtype: TorchDtype; size: number; key: string; numel: number }
/** A tensor whose storage bytes may come after the pickle (legacy format): built once they are read. */
interface PendingTensor { kind: "pending"; args: unknown[] }

const MAX_DIMS = 64;
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** The unpickled top-level object: dicts become Maps, tensors TorchTensor. */
export function readTorchPt(bytes: Uint8Array, what: string): unknown {
  const bad = (why: string): never => fail("CHECKPOINT_INVALID", `${what}: ${why}`);
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
  if (isZip) return readZip(bytes, what, bad);
  if (bytes[0] === 0x80) return readLegacy(bytes, what, bad);
  return bad("not a PyTorch checkpoint (neither torch.save's zip format nor its legacy pickle stream)");
}

function readZip(bytes: Uint8Array, what: string, bad: (why: string) => never): unknown {
  const entries = zipEntries(bytes, what);
  for (const e of entries) if (e.name.includes("..") || e.name.startsWith("/")) bad(`member "${e.name}" is not a plain path`);
  // data.pkl is found by name before anything is inflated; storages are inflated when a tensor asks.
  const pkl = entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkl.length !== 1) bad(`expected one <name>/data.pkl in the archive, found ${pkl.length}`);
  const prefix = pkl[0].name.slice(0, -"data.pkl".length);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const cap = inflationCap(bytes.length);
  let inflated = 0;
  const member = (entry: ZipEntry) => {
    if (entry.method !== 0 && (inflated += entry.size) > cap) bad(`members inflate to more than ${cap} bytes (${bytes.length} compressed: a decompression bomb?)`);
    const dataAt = memberDataAt(bytes.subarray(entry.localOffset, entry.localOffset + 30), entry, bytes.length, what);
    return memberBytes(bytes.subarray(dataAt, dataAt + entry.compressed), entry, `${what}: member ${entry.name}`);
  };
  const order = byName.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(member(order)) !== "little") bad("big-endian storages are not supported");
  const pickle = member(pkl[0]);
  const { value } = unpickle(pickle, 0, torchHooks(pickle, what, bad, 5));
  return resolveTensors(value, bad, (s) => {
    const entry = byName.get(`${prefix}data/${s.key}`) ?? bad(`storage ${s.key} is missing`);
    // Checked before inflating: a storage of the wrong size costs nothing to refuse.
    if (entry.size !== s.numel * s.size) bad(`storage ${s.key} has ${entry.size} bytes, expected ${s.numel} × ${s.size}`);
    return member(entry);
  });
}

function zipEntries(bytes: Uint8Array, what: string): ZipEntry[] {
  let at = findEndRecord(bytes.subarray(Math.max(0, bytes.length - END_SEARCH)), bytes.length, what);
  if ("zip64At" in at) at = parseZip64End(bytes.subarray(at.zip64At, at.zip64At + 56), bytes.length, what);
  if ("zip64At" in at) return fail("CHECKPOINT_INVALID", `${what}: zip64 end record points at another`);
  return parseDirectory(bytes.subarray(at.offset, at.offset + at.size), at.count, bytes.length, what);
}

function readLegacy(bytes: Uint8Array, what: string, bad: (why: string) => never): unknown {
  const plain = (at: number) => unpickle(bytes, at, torchHooks(bytes, what, bad, 6));
  const magic = plain(0);
  if (magic.value !== LEGACY_MAGIC) bad("not a PyTorch checkpoint (a pickle, but not torch.save's)");
  const version = plain(magic.end);
  if (version.value !== LEGACY_PROTOCOL) bad(`legacy torch.save protocol ${String(version.value)} is not supported (${LEGACY_PROTOCOL} is)`);
  const sysInfo = plain(version.end);
  if (!(sysInfo.value instanceof Map) || sysInfo.value.get("little_endian") !== true) bad("big-endian storages are not supported");
  const main = plain(sysInfo.end);
  const keys = plain(main.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === "string")) bad("legacy storage key list is malformed");
  // Each storage: its element count as a little-endian int64, then its bytes, in key order.
  const stored = new Map<string, { at: number; numel: number }>();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = keys.end;
  const sizes = new Map<string, number>();
  for (const s of collectStorages(main.value)) sizes.set(s.key, s.size);
  for (const key of keys.value as string[]) {
    const size = sizes.get(key) ?? bad(`storage ${key} is listed but no tensor uses it`);
    if (at + 8 > bytes.length) bad(`storage ${key} is missing`);
    const numel = Number(dv.getBigInt64(at, true));
    if (numel < 0 || at + 8 + numel * size > bytes.length) bad(`storage ${key} is truncated`);
    stored.set(key, { at: at + 8, numel });
    at += 8 + numel * size;
  }
  return resolveTensors(main.value, bad, (s) => {
    const found = stored.get(s.key) ?? bad(`storage ${s.key} is missing`);
    if (found.numel !== s.numel) bad(`storage ${s.key} has ${found.numel} elements, expected ${s.numel}`);
    return bytes.subarray(found.at, found.at + s.numel * s.size);
  });
}

/** The pickle hooks of both formats: the zip format's storage ids have 5 fields, the legacy one's 6. */
function torchHooks(pickle: Uint8Array, what: string, bad: (why: string) => never, pidFields: 5 | 6) {
  return {
    bad,
    call(fn: PickleGlobal, args: unknown[]): unknown {
      switch (fn.name) {
        case "collections.OrderedDict": return new Map();
        case "torch._utils._rebuild_parameter":
        case "torch._utils._rebuild_parameter_with_state": return args[0];
        case "torch._utils._rebuild_tensor_v2": return { kind: "pending", args } satisfies PendingTensor;
        default: return bad(`refuses to load global ${fn.name}: only tensors and plain containers may be unpickled`);
      }
    },
    persistent(pid: unknown): Storage {
      if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length !== pidFields) bad("unknown persistent id");
      if (pidFields === 6 && pid[5] !== null) bad("legacy storage views are not supported");
      const name = isGlobal(pid[1]) ? pid[1].name.replace(/^torch\./, "") : "";
      const spec = STORAGES[name] ?? bad(`unknown storage type ${String(name)}`);
      if (!Number.isSafeInteger(pid[4]) || (pid[4] as number) < 0) bad(`storage ${String(pid[2])} has a bad size`);
      return { kind: "storage", dtype: spec[0], size: spec[1], key: String(pid[2]), numel: pid[4] as number };
    },
    instantiate(cls: PickleGlobal): never {
      // nn.Module pickles carry the module's _parameters dict; anything else is some other object.
      const module = indexOfAscii(pickle, "_parameters") >= 0;
      return fail(
        "CHECKPOINT_UNSUPPORTED",
        `${what} holds a pickled ${module ? "module" : "object"} \`${cls.name}\`, not a state_dict: save it with torch.save(model.state_dict(), path)`,
      );
    },
  };
}

function indexOfAscii(bytes: Uint8Array, s: string): number {
  const first = s.charCodeAt(0);
  outer: for (let i = bytes.indexOf(first); i >= 0 && i + s.length <= bytes.length; i = bytes.indexOf(first, i + 1)) {
    for (let j = 1; j < s.length; j++) if (bytes[i + j] !== s.charCodeAt(j)) continue outer;
    return i;
  }
  return -1;
}

/** Every object reachable from `value`, each once (iterative: a deep pickle needs no deep stack). */
function walk(value: unknown): unknown[] {
  const seen = new Set<unknown>();
  const todo = [value];
  while (todo.length) {
    const v = todo.pop();
    if (v === null || typeof v !== "object" || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Map) for (const [k, x] of v) todo.push(k, x);
    else if (Array.isArray(v)) for (const x of v) todo.push(x);
    else if ((v as PendingTensor).kind === "pending") for (const x of (v as PendingTensor).args) todo.push(x);
  }
  return [...seen];
}

function collectStorages(value: unknown): Storage[] {
  return walk(value).filter((v): v is Storage => (v as Storage).kind === "storage");
}

/** Replaces each pending tensor (in Maps and arrays, shared ones once) by its values. */
function resolveTensors(value: unknown, bad: (why: string) => never, bytesOf: (s: Storage) => Uint8Array): unknown {
  const done = new Map<PendingTensor, TorchTensor>();
  // Views may share and overlap storages, but their values are copied out: a budget of twice the
  // values stored keeps a few bytes of pickle from expanding one storage a million times.
  const stored = new Set<string>();
  let budget = 1 << 16;
  const build = (t: PendingTensor) => {
    let r = done.get(t);
    if (!r) {
      const [st, offset, size, stride] = t.args;
      if ((st as Storage)?.kind !== "storage") bad("a tensor without storage");
      const s = st as Storage;
      const bytes = bytesOf(s);
      if (!stored.has(s.key)) (stored.add(s.key), (budget += 2 * s.numel));
      r = tensor(s, bytes, offset, size, stride, bad, budget);
      budget -= r.data.length;
      done.set(t, r);
    }
    return r;
  };
  const fix = (v: unknown): unknown => ((v as PendingTensor)?.kind === "pending" ? build(v as PendingTensor) : v);
  for (const node of walk(value)) {
    if (node instanceof Map) for (const [k, v] of node) node.set(k, fix(v));
    else if (Array.isArray(node)) for (let i = 0; i < node.length; i++) node[i] = fix(node[i]);
  }
  return fix(value);
}

function tensor(s: Storage, bytes: Uint8Array, offset: unknown, size: unknown, stride: unknown, bad: (why: string) => never, budget: number): TorchTensor {
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.every((v) => Number.isSafeInteger(v) && v >= 0);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0 || !ok(size) || !ok(stride) || size.length !== stride.length) bad("malformed tensor size or stride");
  const shape = size as number[];
  if (shape.length > MAX_DIMS) bad(`tensor has ${shape.length} dimensions (torch allows ${MAX_DIMS})`);
  const strides = stride as number[];
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > budget) bad(`tensor views ${count} values of storage ${s.key}, more than twice what the storages hold (an expanded view? save .contiguous() tensors)`);
  const numel = s.numel;
  let last = offset as number;
  for (let d = 0; d < shape.length; d++) if (shape[d] > 0) last += (shape[d] - 1) * strides[d];
  if (count > 0 && last >= numel) bad(`tensor reaches element ${last} of a storage of ${numel}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = (e: number): number => {
    const o = e * s.size;
    switch (s.dtype) {
      case "F64": return dv.getFloat64(o, true);
      case "F32": return dv.getFloat32(o, true);
      case "F16": return f16(dv.getUint16(o, true));
      case "BF16": return new Float32Array(new Uint32Array([dv.getUint16(o, true) << 16]).buffer)[0];
      case "I64": return Number(dv.getBigInt64(o, true));
      case "I32": return dv.getInt32(o, true);
      case "I16": return dv.getInt16(o, true);
      case "I8": return dv.getInt8(o);
      default: return dv.getUint8(o);
    }
  };
  const data = s.dtype === "F64" || s.dtype === "I64" ? new Float64Array(count) : new Float32Array(count);
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < count; n++) {
    let e = offset as number;
    for (let d = 0; d < shape.length; d++) e += idx[d] * strides[d];
    data[n] = read(e);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { kind: "tensor", dtype: s.dtype, shape: shape.slice(), data };
}

function f16(h: number): number {
  const e = (h >> 10) & 31, m = h & 1023, sign = h & 0x8000 ? -1 : 1;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

export function isTensor(x: unknown): x is TorchTensor {
  return (x as TorchTensor)?.kind === "tensor";
}
