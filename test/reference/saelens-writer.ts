// A tiny SAELens checkpoint writer: cfg.json plus sae_weights.safetensors built
// byte by byte (u64 LE header length, JSON header, little-endian data), with
// our own F16 / BF16 rounding. Independent of src/.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type StDtype = "F32" | "F16" | "BF16";

export interface StTensor {
  name: string;
  dtype: StDtype;
  shape: number[];
  values: ArrayLike<number>;
}

const scratch = new DataView(new ArrayBuffer(4));

function f32Bits(v: number): number {
  scratch.setFloat32(0, v, true);
  return scratch.getUint32(0, true);
}

function bitsToF32(b: number): number {
  scratch.setUint32(0, b >>> 0, true);
  return scratch.getFloat32(0, true);
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** IEEE binary16 bits of v (round to nearest even; overflow to infinity). */
export function toF16Bits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a >= 65520) return sign | 0x7c00; // halfway past 65504 rounds (to even) to infinity
  if (a < 2 ** -14) return sign | roundHalfEven(a / 2 ** -24); // subnormal (may round up to 0x0400, the smallest normal)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e) * 1024) - 1024;
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e + 15 >= 31) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

export function fromF16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits of v: the top half of its float32 bits, rounded to nearest even. */
export function toBf16Bits(v: number): number {
  if (Number.isNaN(v)) return 0x7fc0;
  const b = f32Bits(v);
  const lsb = Math.floor(b / 65536) & 1;
  return Math.floor((b + 0x7fff + lsb) / 65536) & 0xffff;
}

export function fromBf16Bits(h: number): number {
  return bitsToF32(h * 65536);
}

/** The values a tensor of `dtype` holds after rounding (what a reader must see). */
export function roundTo(dtype: StDtype, values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = dtype === "F32" ? v : dtype === "F16" ? fromF16Bits(toF16Bits(v)) : fromBf16Bits(toBf16Bits(v));
  }
  return out;
}

const ITEM: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * safetensors bytes: header {name: {dtype, shape, data_offsets}} in the given
 * order (plus __metadata__ if given), space-padded to 8 bytes when `align`.
 */
export function writeSafetensors(tensors: readonly StTensor[], metadata?: Record<string, string>, align = true): Uint8Array {
  let offset = 0;
  const entries: string[] = [];
  if (metadata) entries.push(`"__metadata__":${JSON.stringify(metadata)}`);
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.values.length) throw new Error(`writer: ${t.name} has ${t.values.length} values for shape [${t.shape}]`);
    const size = count * ITEM[t.dtype];
    entries.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${offset + size}]}`);
    offset += size;
  }
  let header = `{${entries.join(",")}}`;
  if (align) while ((8 + header.length) % 8 !== 0) header += " ";
  const hb = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + hb.length + offset);
  // u64 little-endian header length, byte by byte.
  let n = hb.length;
  for (let b = 0; b < 8; b++) {
    out[b] = n & 0xff;
    n = Math.floor(n / 256);
  }
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of tensors) {
    for (let i = 0; i < t.values.length; i++) {
      const v = t.values[i];
      let bits: number;
      if (t.dtype === "F32") bits = f32Bits(v);
      else if (t.dtype === "F16") bits = toF16Bits(v);
      else bits = toBf16Bits(v);
      for (let b = 0; b < ITEM[t.dtype]; b++) {
        out[p++] = bits & 0xff;
        bits = bits >>> 8;
      }
    }
  }
  return out;
}

export interface CheckpointSpec {
  /** cfg.json contents: an object (serialized) or raw text; omitted = no cfg.json. */
  cfg?: Record<string, unknown> | string;
  tensors?: readonly StTensor[];
  /** activation_scaler.json scaling factor. */
  scaler?: number;
  /** Extra raw files. */
  extra?: Record<string, string | Uint8Array>;
}

/** Writes a SAELens checkpoint folder at `dir`. */
export async function writeSaeLensCheckpoint(dir: string, spec: CheckpointSpec): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (spec.cfg !== undefined) {
    await writeFile(join(dir, "cfg.json"), typeof spec.cfg === "string" ? spec.cfg : JSON.stringify(spec.cfg, null, 2));
  }
  if (spec.tensors) await writeFile(join(dir, "sae_weights.safetensors"), writeSafetensors(spec.tensors, { format: "pt" }));
  if (spec.scaler !== undefined) await writeFile(join(dir, "activation_scaler.json"), JSON.stringify({ scaling_factor: spec.scaler }));
  for (const [name, data] of Object.entries(spec.extra ?? {})) await writeFile(join(dir, name), data);
}
