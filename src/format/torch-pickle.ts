// PyTorch .pt files (torch.save's zip format: <name>/data.pkl + <name>/data/<key> storages)
// read without executing anything: a small pickle machine that knows only the opcodes
// state dicts use and only an allow-list of globals (OrderedDict, tensor rebuilders,
// storage types). Any other global — os.system, builtins.eval, … — is refused.
import { unzipSync } from "fflate";
import { fail } from "../base/errors.js";

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
const ALLOWED = new Set(["collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter", ...Object.keys(STORAGES).map((s) => `torch.${s}`)]);
const MAX_INFLATED = 8 * 2 ** 30;

interface Global { kind: "global"; name: string }
interface Storage { kind: "storage"; dtype: TorchDtype; size: number; bytes: Uint8Array }

/** The unpickled top-level object: state dicts become Maps, tensors TorchTensor. */
export function readTorchPt(bytes: Uint8Array, what: string): unknown {
  const bad = (why: string): never => fail("CHECKPOINT_INVALID", `${what}: ${why}`);
  let total = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter(f) {
        if (f.name.includes("..") || f.name.startsWith("/")) bad(`member "${f.name}" is not a plain path`);
        total += f.originalSize;
        if (total > MAX_INFLATED) bad(`members inflate to more than ${MAX_INFLATED} bytes`);
        return true;
      },
    });
  } catch (e) {
    if ((e as { code?: string }).code === "CHECKPOINT_INVALID") throw e;
    return bad(`not a PyTorch zip checkpoint (${(e as Error).message}); legacy (pre-1.6) .pt files are not supported`);
  }
  const pkl = Object.keys(files).filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length !== 1) bad(`expected one <name>/data.pkl in the archive, found ${pkl.length}`);
  const prefix = pkl[0].slice(0, -"data.pkl".length);
  const order = files[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order) !== "little") bad("big-endian storages are not supported");
  const storage = (type: unknown, key: unknown, numel: unknown): Storage => {
    const name = (type as Global)?.kind === "global" ? (type as Global).name.replace(/^torch\./, "") : "";
    const spec = STORAGES[name] ?? bad(`unknown storage type ${String(name)}`);
    const data = files[`${prefix}data/${String(key)}`] ?? bad(`storage ${String(key)} is missing`);
    if (typeof numel !== "number" || data.length !== numel * spec[1]) bad(`storage ${String(key)} has ${data.length} bytes, expected ${String(numel)} × ${spec[1]}`);
    return { kind: "storage", dtype: spec[0], size: spec[1], bytes: data };
  };
  return unpickle(files[pkl[0]], bad, storage);
}

function unpickle(p: Uint8Array, bad: (why: string) => never, storage: (type: unknown, key: unknown, numel: unknown) => Storage): unknown {
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const text = new TextDecoder("utf-8", { fatal: true });
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let i = 0;
  const need = (n: number) => {
    if (i + n > p.length) bad("truncated pickle");
  };
  const u8 = () => (need(1), p[i++]);
  const u16 = () => (need(2), (i += 2), dv.getUint16(i - 2, true));
  const u32 = () => (need(4), (i += 4), dv.getUint32(i - 4, true));
  const str = (n: number) => {
    need(n);
    try {
      return text.decode(p.subarray(i, (i += n)));
    } catch {
      return bad("invalid UTF-8 in pickle string");
    }
  };
  const line = () => {
    const end = p.indexOf(10, i);
    if (end < 0) bad("truncated pickle");
    const s = new TextDecoder().decode(p.subarray(i, end));
    i = end + 1;
    return s;
  };
  const pop = () => (stack.length ? stack.pop() : bad("pickle stack underflow"));
  const popMark = () => {
    const m = marks.pop() ?? bad("pickle MARK missing");
    return stack.splice(m);
  };
  const global = (module: string, name: string): Global => {
    const full = `${module}.${name}`;
    if (!ALLOWED.has(full)) bad(`refuses to load global ${full}: only tensors and plain containers may be unpickled`);
    return { kind: "global", name: full };
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) bad("SETITEM on something that is not a dict");
    for (let k = 0; k < items.length; k += 2) target.set(items[k], items[k + 1]);
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    const name = (fn as Global)?.kind === "global" ? (fn as Global).name : bad("REDUCE of a non-global");
    if (!Array.isArray(args)) bad("REDUCE arguments are not a tuple");
    if (name === "collections.OrderedDict") return new Map();
    if (name === "torch._utils._rebuild_parameter") return args[0];
    if (name === "torch._utils._rebuild_tensor_v2") return tensor(args[0], args[1], args[2], args[3], bad);
    return bad(`cannot call ${name}`);
  };
  for (let steps = 0; ; steps++) {
    if (steps > 50_000_000) bad("pickle too long");
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: need(8); i += 8; break; // FRAME
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: need(4); stack.push(dv.getInt32(i, true)); i += 4; break; // BININT
      case 0x8a: { // LONG1
        const n = u8();
        need(n);
        let v = 0n;
        for (let b = n - 1; b >= 0; b--) v = (v << 8n) | BigInt(p[i + b]);
        if (n && p[i + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        i += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: need(8); stack.push(dv.getFloat64(i, false)); i += 8; break; // BINFLOAT
      case 0x58: stack.push(str(u32())); break; // BINUNICODE
      case 0x8c: stack.push(str(u8())); break; // SHORT_BINUNICODE
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== "string" || typeof name !== "string") bad("STACK_GLOBAL needs strings");
        stack.push(global(module, name));
        break;
      }
      case 0x71: memo.set(u8(), stack[stack.length - 1]); break; // BINPUT
      case 0x72: memo.set(u32(), stack[stack.length - 1]); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: { const k = u8(); stack.push(memo.has(k) ? memo.get(k) : bad(`memo ${k} missing`)); break; } // BINGET
      case 0x6a: { const k = u32(); stack.push(memo.has(k) ? memo.get(k) : bad(`memo ${k} missing`)); break; } // LONG_BINGET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); const l = stack[stack.length - 1]; Array.isArray(l) ? l.push(v) : bad("APPEND to a non-list"); break; } // APPEND
      case 0x65: { const items = popMark(); const l = stack[stack.length - 1]; Array.isArray(l) ? l.push(...items) : bad("APPENDS to a non-list"); break; } // APPENDS
      case 0x73: { const v = pop(), k = pop(); setItems(stack[stack.length - 1], [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(stack[stack.length - 1], items); break; } // SETITEMS
      case 0x52: { const args = pop(), fn = pop(); stack.push(reduce(fn, args)); break; } // REDUCE
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length !== 5) bad("unknown persistent id");
        stack.push(storage(pid[1], pid[2], pid[4]));
        break;
      }
      case 0x62: { // BUILD: only an empty state on a container is harmless
        const state = pop();
        if (!(state instanceof Map && state.size === 0) && state !== null) bad("BUILD with object state is not allowed");
        break;
      }
      case 0x2e: return pop(); // STOP
      default:
        bad(`pickle opcode 0x${op.toString(16)} is not supported`);
    }
  }
}

function tensor(st: unknown, offset: unknown, size: unknown, stride: unknown, bad: (why: string) => never): TorchTensor {
  const s = st as Storage;
  if (s?.kind !== "storage") bad("a tensor without storage");
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.every((v) => Number.isSafeInteger(v) && v >= 0);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0 || !ok(size) || !ok(stride) || size.length !== stride.length) bad("malformed tensor size or stride");
  const shape = size as number[];
  const strides = stride as number[];
  const count = shape.reduce((a, b) => a * b, 1);
  const numel = s.bytes.length / s.size;
  let last = offset as number;
  for (let d = 0; d < shape.length; d++) if (shape[d] > 0) last += (shape[d] - 1) * strides[d];
  if (count > 0 && last >= numel) bad(`tensor reaches element ${last} of a storage of ${numel}`);
  const dv = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
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
