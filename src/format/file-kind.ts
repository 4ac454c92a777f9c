// What kind of file some bytes are, from their magic bytes, so a wrong file gets named for
// what it is ("a .npy array") instead of failing deep inside the wrong parser.
import type { ByteSource } from "../base/byte-source.js";
import { MAX_HEADER_BYTES } from "./safetensors.js";
import { parseNpyHeader } from "./npy.js";

export type FileKind =
  | { kind: "npy"; dtype?: string; shape?: number[] }
  | { kind: "npz" }            // zip of .npy members
  | { kind: "torch-zip" }      // torch.save since 1.6: a zip holding <name>/data.pkl
  | { kind: "zip" }
  | { kind: "safetensors"; metadata: Record<string, unknown> }
  | { kind: "torch-legacy" }   // torch.save before 1.6: pickles after a pickled magic number
  | { kind: "pickle" }
  | { kind: "json" }
  | { kind: "empty" }
  | { kind: "unknown" };

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
// pickle protocol 2, LONG1 of 10 bytes: torch's legacy magic number 0x1950a86a20f9469cfc6c.
const TORCH_LEGACY = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const HEAD = 4096;
const MAX_SNIFFED_HEADER = 16 << 20;

const startsWith = (b: Uint8Array, magic: number[]) => b.length >= magic.length && magic.every((m, i) => b[i] === m);

async function readHead(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(Math.max(0, Math.min(length, src.size - offset)));
  await src.read(offset, out);
  return out;
}

function zipKind(head: Uint8Array): FileKind {
  // The first local file header's name: torch writes <archive>/data.pkl first, numpy a member.npy.
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 30) return { kind: "zip" };
  const nameLen = dv.getUint16(26, true);
  const name = new TextDecoder().decode(head.subarray(30, 30 + nameLen));
  if (/(^|\/)data\.pkl$/.test(name)) return { kind: "torch-zip" };
  if (name.endsWith(".npy")) return { kind: "npz" };
  return { kind: "zip" };
}

async function safetensorsKind(src: ByteSource, head: Uint8Array): Promise<FileKind | null> {
  if (head.length < 10) return null;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const n = dv.getUint32(0, true);
  if (dv.getUint32(4, true) !== 0 || n < 2 || n > MAX_HEADER_BYTES || 8 + n > src.size || head[8] !== 0x7b /* { */) return null;
  if (n > MAX_SNIFFED_HEADER) return { kind: "safetensors", metadata: {} };
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(8 + n <= head.length ? head.subarray(8, 8 + n) : await readHead(src, 8, n)));
  } catch {
    return null;
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) return null;
  const meta = (header as Record<string, unknown>).__metadata__;
  return { kind: "safetensors", metadata: meta && typeof meta === "object" ? (meta as Record<string, unknown>) : {} };
}

function npyKind(head: Uint8Array): FileKind {
  try {
    const { dtype, shape } = parseNpyHeader(head);
    return { kind: "npy", dtype, shape };
  } catch {
    return { kind: "npy" }; // an unsupported dtype or a header past the head: still a .npy
  }
}

function isJson(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head).trimStart();
  return /^[{[]\s*["{[\]}0-9-]/.test(text) || /^[{[]\s*$/.test(text);
}

/** The kind of file `src` holds, from its first bytes (and a safetensors header's metadata). */
export async function fileKind(src: ByteSource): Promise<FileKind> {
  if (src.size === 0) return { kind: "empty" };
  const head = await readHead(src, 0, HEAD);
  if (startsWith(head, NPY_MAGIC)) return npyKind(head);
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return zipKind(head);
  // Before pickle: a safetensors header length can start with the byte 0x80 too.
  const st = await safetensorsKind(src, head);
  if (st) return st;
  if (startsWith(head, TORCH_LEGACY)) return { kind: "torch-legacy" };
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return { kind: "pickle" };
  if (isJson(head)) return { kind: "json" };
  return { kind: "unknown" };
}
