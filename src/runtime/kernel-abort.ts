// What a kernel's abort(msg, file, line, col) says: debug builds abort on a failed precondition
// assert, passing AssemblyScript strings (UTF-16, byte length in the u32 before the pointer).

function readString(memory: WebAssembly.Memory | undefined, ptr: number): string | null {
  if (!memory || !ptr) return null;
  const p = ptr >>> 0;
  const buf = memory.buffer;
  if (p < 4 || p > buf.byteLength) return null;
  const bytes = new DataView(buf).getUint32(p - 4, true);
  if (bytes % 2 !== 0 || p + bytes > buf.byteLength) return null;
  return String.fromCharCode(...new Uint16Array(buf.slice(p, p + bytes)));
}

/** "message at file:line:col", or what is known of it. */
export function abortMessage(memory: WebAssembly.Memory | undefined, msg: number, file: number, line: number, col: number): string {
  const text = readString(memory, msg) ?? "no message";
  const where = readString(memory, file);
  return where ? `${text} at ${where}:${line}:${col}` : text;
}
