// One shape's weights and inputs, generated once by the parent and written as raw little-endian
// files, so every peer (each in its own process, to bound memory) reads the very same numbers.
import { readFileSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";

export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

/** f32 weights in SAELens orientation (W [dIn][dSae]) and inputs for one shape. */
export function generate({ dIn, dSae, k, arch }, rows) {
  const r = rng(dIn * 7919 + dSae);
  const W = new Float32Array(dIn * dSae);
  for (let i = 0; i < W.length; i++) W[i] = r();
  const b_enc = new Float32Array(dSae).map(() => 0.5 * r());
  const b_dec = new Float32Array(dIn).map(() => r());
  // JumpReLU bars near 2σ of h (σ ≈ 0.34·√dIn for these distributions): a few percent fire.
  const sigma = 0.34 * Math.sqrt(dIn);
  const threshold = arch === "jumprelu" ? new Float32Array(dSae).map(() => sigma * (2 + r())) : undefined;
  const x = new Float32Array(rows * dIn).map(() => 4 * r());
  return { dIn, dSae, k, arch, W, b_enc, b_dec, threshold, x };
}

/** Packed sae-edge encoder (W[b][c][l][t] = q(latent 4b+l, dim 16c+t)) back to row-major [dIn][dSae]. */
export function unpackI8(packed, dIn, dSae) {
  const steps = Math.ceil(dIn / 16);
  const out = new Int8Array(dIn * dSae);
  for (let j = 0; j < dSae; j++) {
    const base = (j >> 2) * steps * 64 + (j & 3) * 16;
    for (let i = 0; i < dIn; i++) out[i * dSae + j] = packed[base + (i >> 4) * 64 + (i & 15)];
  }
  return out;
}

export function writeArray(dir, name, arr) {
  writeFileSync(join(dir, name), new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
}

export function writeParts(path, parts) {
  const fd = openSync(path, "w");
  try {
    for (const p of parts) writeSync(fd, p);
  } finally {
    closeSync(fd);
  }
}

export function readArray(dir, name, Type) {
  const buf = readFileSync(join(dir, name));
  // Big reads are not pooled, so their offset is aligned; small ones may not be: copy those.
  if (buf.byteOffset % Type.BYTES_PER_ELEMENT === 0) return new Type(buf.buffer, buf.byteOffset, buf.byteLength / Type.BYTES_PER_ELEMENT);
  return new Type(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Everything a peer may need, as written by the parent (meta.json says the shape). */
export function readShape(dir) {
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
  const lazy = (name, Type) => () => readArray(dir, name, Type);
  return {
    ...meta,
    dir,
    b_enc: readArray(dir, "b_enc.bin", Float32Array),
    b_dec: readArray(dir, "b_dec.bin", Float32Array),
    threshold: meta.arch === "jumprelu" ? readArray(dir, "threshold.bin", Float32Array) : undefined,
    x: readArray(dir, "x.bin", Float32Array),
    w_scale: readArray(dir, "w_scale.bin", Float32Array),
    // Big matrices only when a peer asks.
    W: lazy("W_f32.bin", Float32Array),
    Wq: lazy("Wq_i8.bin", Int8Array),
    Wp: lazy("Wp_i8.bin", Int8Array),
    refH: lazy("ref_h.bin", Float32Array),
    refQ: lazy("ref_q.bin", Float32Array),
    modelPath: join(dir, "model_i8.safetensors"),
  };
}
