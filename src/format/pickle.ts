// A pickle machine that executes nothing: it knows the opcodes torch.save's state dicts use
// (protocols 2–4), builds dicts as Maps and tuples/lists as arrays, and hands every call of a
// global to the caller's `call`, which returns a value for an allowed global or refuses.
// A global that is only named, never called, is harmless; a class instantiated with NEWOBJ (a
// pickled object such as a whole nn.Module) goes to `instantiate`, which refuses it by name.

export interface PickleGlobal {
  kind: "global";
  /** module.name, e.g. collections.OrderedDict. */
  name: string;
}

export interface PickleHooks {
  bad(why: string): never;
  /** The value of calling `fn` with `args` (REDUCE), or a refusal. */
  call(fn: PickleGlobal, args: unknown[]): unknown;
  /** A persistent id (torch storages). */
  persistent(pid: unknown): unknown;
  /** An object of class `cls` created with NEWOBJ: always refused, by name. */
  instantiate(cls: PickleGlobal): never;
}

// Bounds on what a pickle may build, whatever its size: legitimate state dicts are a few levels
// deep and hold a few objects per tensor.
const MAX_DEPTH = 100;
const MAX_CONTAINERS = 1 << 16;
const MAX_MEMO = 1 << 18;

export function isGlobal(x: unknown): x is PickleGlobal {
  return (x as PickleGlobal)?.kind === "global";
}

/** Runs the pickle starting at `start`; returns its value and the offset after its STOP. */
export function unpickle(p: Uint8Array, start: number, hooks: PickleHooks): { value: unknown; end: number } {
  const bad: (why: string) => never = hooks.bad;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const text = new TextDecoder("utf-8", { fatal: true });
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let i = start;
  const need = (n: number) => {
    if (i + n > p.length) bad("truncated pickle");
  };
  const u8 = () => (need(1), p[i++]);
  const u16 = () => (need(2), (i += 2), dv.getUint16(i - 2, true));
  const u32 = () => (need(4), (i += 4), dv.getUint32(i - 4, true));
  const u64 = () => (need(8), (i += 8), Number(dv.getBigUint64(i - 8, true)));
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
  const top = () => (stack.length ? stack[stack.length - 1] : bad("pickle stack underflow"));
  const pop = () => (stack.length ? stack.pop() : bad("pickle stack underflow"));
  const popMark = () => {
    const m = marks.pop() ?? bad("pickle MARK missing");
    return stack.splice(m);
  };
  const get = (k: number) => (memo.has(k) ? memo.get(k) : bad(`memo ${k} missing`));
  const remember = (k: number) => {
    if (memo.size >= MAX_MEMO && !memo.has(k)) bad(`pickle memo holds more than ${MAX_MEMO} objects`);
    memo.set(k, top());
  };
  // Each container's nesting depth. A container inside another may not change any more, so
  // depths stay exact and no structure is recursive (consumers walk it without a cycle check).
  const depth = new Map<object, number>();
  const nested = new Set<object>();
  let containers = 0;
  const contain = <T extends object>(parent: T, items: readonly unknown[]): T => {
    if (nested.has(parent)) bad("pickle changes a container after nesting it (a recursive structure)");
    let d = depth.get(parent) ?? (++containers > MAX_CONTAINERS ? bad(`pickle builds more than ${MAX_CONTAINERS} containers`) : 1);
    for (const item of items) {
      if (item === null || typeof item !== "object") continue;
      if (item === parent) bad("pickle puts a container inside itself");
      nested.add(item);
      d = Math.max(d, 1 + (depth.get(item) ?? 1));
    }
    if (d > MAX_DEPTH) bad(`pickle nests containers more than ${MAX_DEPTH} deep`);
    depth.set(parent, d);
    return parent;
  };
  const sequence = (items: unknown[]) => contain(items, items);
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) bad("SETITEM on something that is not a dict");
    contain(target, items);
    for (let k = 0; k < items.length; k += 2) target.set(items[k], items[k + 1]);
  };
  const append = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) bad("APPEND to a non-list");
    contain(target, items);
    for (const item of items) target.push(item);
  };
  const newobj = (cls: unknown): never => (isGlobal(cls) ? hooks.instantiate(cls) : bad("NEWOBJ of a non-class"));
  for (let steps = 0; ; steps++) {
    if (steps > 50_000_000) bad("pickle too long");
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: need(8); i += 8; break; // FRAME
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x29: stack.push(sequence([])); break; // EMPTY_TUPLE
      case 0x5d: stack.push(sequence([])); break; // EMPTY_LIST
      case 0x7d: stack.push(contain(new Map(), [])); break; // EMPTY_DICT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: need(4); stack.push(dv.getInt32(i, true)); i += 4; break; // BININT
      case 0x8a: { // LONG1: a number when exact, else a bigint (torch's legacy magic number)
        const n = u8();
        need(n);
        let v = 0n;
        for (let b = n - 1; b >= 0; b--) v = (v << 8n) | BigInt(p[i + b]);
        if (n && p[i + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        i += n;
        stack.push(Number.isSafeInteger(Number(v)) ? Number(v) : v);
        break;
      }
      case 0x47: need(8); stack.push(dv.getFloat64(i, false)); i += 8; break; // BINFLOAT
      case 0x58: stack.push(str(u32())); break; // BINUNICODE
      case 0x8c: stack.push(str(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(str(u64())); break; // BINUNICODE8
      case 0x63: { // GLOBAL
        const module = line();
        stack.push({ kind: "global", name: `${module}.${line()}` });
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== "string" || typeof name !== "string") bad("STACK_GLOBAL needs strings");
        stack.push({ kind: "global", name: `${module}.${name}` });
        break;
      }
      case 0x71: remember(u8()); break; // BINPUT
      case 0x72: remember(u32()); break; // LONG_BINPUT
      case 0x94: remember(memo.size); break; // MEMOIZE
      case 0x68: stack.push(get(u8())); break; // BINGET
      case 0x6a: stack.push(get(u32())); break; // LONG_BINGET
      case 0x74: stack.push(sequence(popMark())); break; // TUPLE
      case 0x85: stack.push(sequence([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(sequence([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(sequence([a, b, c])); break; } // TUPLE3
      case 0x6c: stack.push(sequence(popMark())); break; // LIST
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        if (!isGlobal(fn)) bad("REDUCE of a non-global");
        if (!Array.isArray(args)) bad("REDUCE arguments are not a tuple");
        const made = hooks.call(fn, args);
        stack.push(made !== null && typeof made === "object" ? contain(made, [args]) : made);
        break;
      }
      case 0x81: { pop(); newobj(pop()); break; } // NEWOBJ
      case 0x92: { pop(); pop(); newobj(pop()); break; } // NEWOBJ_EX
      case 0x51: stack.push(hooks.persistent(pop())); break; // BINPERSID
      case 0x62: { // BUILD: attributes on a dict (state_dict()'s OrderedDict carries _metadata) change none of its items
        const state = pop();
        if (!(top() instanceof Map) && !(state === null || (state instanceof Map && state.size === 0))) bad("BUILD with object state is not allowed");
        break;
      }
      case 0x2e: return { value: pop(), end: i }; // STOP
      default:
        bad(`pickle opcode 0x${op.toString(16)} is not supported`);
    }
  }
}
