// Turns f32 SAE weights (SAELens orientation) into sae-edge model tensors:
// symmetric per-latent int8 (scale = max|w| / 127) or exact f32, packed in the
// encoder layouts of docs/model-format.md.
import { LATENT_TILE, I8_K_STEP } from "./abi.js";
import { fail } from "./errors.js";
import { checkSpec, expectedTensors, specToMetadata, type Architecture, type ModelSpec, type Normalization, type Quantization } from "./model-format.js";
import { serializeSafetensors, type TensorToWrite } from "../format/safetensors.js";

/** An SAE in float32, SAELens orientation. */
export interface SaeWeights {
  architecture: Architecture;
  dIn: number;
  dSae: number;
  /** Decoder output width when it differs from d_in (transcoders). */
  dOut?: number;
  /** Skip connection [d_out][d_in], kept in f32: forward adds W_skip·x. */
  W_skip?: Float32Array;
  /** Fraction of training tokens each latent fired on, if known. */
  featureDensity?: Float32Array;
  k: number;
  applyBDecToInput: boolean;
  /** [d_in][d_sae] row-major. */
  W_enc: Float32Array;
  b_enc: Float32Array;
  /** [d_sae][d_in] row-major: one row per latent. */
  W_dec: Float32Array;
  b_dec: Float32Array;
  /** JumpReLU thresholds [d_sae]. */
  threshold?: Float32Array;
  /** Gated: gate bias, magnitude log-scale and magnitude bias [d_sae] (b_enc unused). */
  b_gate?: Float32Array;
  r_mag?: Float32Array;
  b_mag?: Float32Array;
  /** Per-row input normalization (default none). */
  normalization?: Normalization;
}

const I8_MAX = 127;

// Symmetric round half away from zero, clamped to [-127, 127].
function q8(v: number, inv: number): number {
  const r = Math.round(Math.abs(v) * inv);
  return Math.sign(v) * Math.min(r, I8_MAX);
}

function checkWeights(w: SaeWeights): void {
  const want: [string, Float32Array | undefined, number][] = [
    ["W_enc", w.W_enc, w.dIn * w.dSae],
    ["W_dec", w.W_dec, w.dSae * (w.dOut ?? w.dIn)],
    ["b_dec", w.b_dec, w.dOut ?? w.dIn],
    ...(w.W_skip ? [["W_skip", w.W_skip, (w.dOut ?? w.dIn) * w.dIn] as [string, Float32Array, number]] : []),
  ];
  if (w.architecture === "jumprelu") want.push(["threshold", w.threshold, w.dSae]);
  if (w.architecture === "gated") want.push(["b_gate", w.b_gate, w.dSae], ["r_mag", w.r_mag, w.dSae], ["b_mag", w.b_mag, w.dSae]);
  else want.push(["b_enc", w.b_enc, w.dSae]);
  for (const [name, arr, n] of want) {
    if (!(arr instanceof Float32Array) || arr.length !== n) fail("CHECKPOINT_INVALID", `${name} must have ${n} float32 values, got ${arr?.length}`);
    for (let i = 0; i < arr.length; i++) {
      if (!Number.isFinite(arr[i])) fail("CHECKPOINT_INVALID", `${name} has a non-finite value (${arr[i]}) at flat index ${i}`);
    }
  }
}

/** Per-latent int8 for the encoder (columns of W_enc), packed [tile][step][4][16]. */
function quantizeEncoder(w: SaeWeights): { packed: Int8Array; scale: Float32Array } {
  const { dIn, dSae, W_enc } = w;
  const amax = new Float64Array(dSae);
  for (let i = 0; i < dIn; i++) {
    const row = i * dSae;
    for (let j = 0; j < dSae; j++) amax[j] = Math.max(amax[j], Math.abs(W_enc[row + j]));
  }
  const scale = new Float32Array(dSae);
  const inv = new Float64Array(dSae);
  for (let j = 0; j < dSae; j++) {
    scale[j] = amax[j] / I8_MAX;
    inv[j] = scale[j] > 0 ? 1 / scale[j] : 0;
  }
  const steps = Math.ceil(dIn / I8_K_STEP);
  const packed = new Int8Array(Math.ceil(dSae / LATENT_TILE) * steps * LATENT_TILE * I8_K_STEP);
  for (let i = 0; i < dIn; i++) {
    const c = i >> 4, t = i & 15, row = i * dSae;
    for (let j = 0; j < dSae; j++) {
      packed[(((j >> 2) * steps + c) * LATENT_TILE + (j & 3)) * I8_K_STEP + t] = q8(W_enc[row + j], inv[j]);
    }
  }
  return { packed, scale };
}

/** Per-latent int8 for the decoder rows. */
function quantizeDecoder(w: SaeWeights): { q: Int8Array; scale: Float32Array } {
  const { dSae, W_dec } = w;
  const dIn = w.dOut ?? w.dIn; // decoder rows have the output width
  const q = new Int8Array(dSae * dIn);
  const scale = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) {
    const row = W_dec.subarray(j * dIn, (j + 1) * dIn);
    let amax = 0;
    for (let i = 0; i < dIn; i++) amax = Math.max(amax, Math.abs(row[i]));
    scale[j] = amax / I8_MAX;
    const inv = scale[j] > 0 ? 1 / scale[j] : 0;
    for (let i = 0; i < dIn; i++) q[j * dIn + i] = q8(row[i], inv);
  }
  return { q, scale };
}

/** The f32 encoder packed [tile][d_in][4]. */
function packEncoderF32(w: SaeWeights): Float32Array {
  const { dIn, dSae, W_enc } = w;
  const packed = new Float32Array(Math.ceil(dSae / LATENT_TILE) * dIn * LATENT_TILE);
  for (let i = 0; i < dIn; i++) {
    for (let j = 0; j < dSae; j++) packed[((j >> 2) * dIn + i) * LATENT_TILE + (j & 3)] = W_enc[i * dSae + j];
  }
  return packed;
}

export interface BuiltModel {
  spec: ModelSpec;
  tensors: Record<string, TensorToWrite>;
}

export function buildModel(w: SaeWeights, quantization: Quantization, provenance: Record<string, unknown> = {}): BuiltModel {
  const spec = checkSpec({
    architecture: w.architecture,
    dIn: w.dIn,
    dSae: w.dSae,
    dOut: w.dOut ?? w.dIn,
    skip: w.W_skip !== undefined,
    ...(w.featureDensity ? { featureDensity: Array.from(w.featureDensity, (v) => Number(v.toPrecision(6))) } : {}),
    k: w.architecture === "topk" || w.architecture === "groupmax" ? w.k : 0,
    applyBDecToInput: w.applyBDecToInput,
    normalization: w.normalization ?? "none",
    quantization,
    provenance,
  });
  checkWeights(w);
  const shapes = expectedTensors(spec);
  const data: Record<string, Int8Array | Float32Array> = {};
  if (quantization === "int8") {
    const enc = quantizeEncoder(w);
    const dec = quantizeDecoder(w);
    Object.assign(data, { W_enc_packed: enc.packed, W_enc_scale: enc.scale, W_dec: dec.q, W_dec_scale: dec.scale });
  } else {
    Object.assign(data, { W_enc_packed: packEncoderF32(w), W_dec: w.W_dec });
  }
  Object.assign(data, { b_enc: w.b_enc, b_dec: w.b_dec });
  if (w.architecture === "jumprelu") data.threshold = w.threshold!;
  if (w.architecture === "gated") Object.assign(data, { b_gate: w.b_gate!, r_mag: w.r_mag!, b_mag: w.b_mag! });
  if (w.W_skip) data.W_skip = w.W_skip;
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, { dtype, shape }] of Object.entries(shapes)) tensors[name] = { dtype, shape, data: data[name] };
  return { spec, tensors };
}

/** The .safetensors bytes of a model. */
export function serializeModel(model: BuiltModel): Uint8Array {
  return serializeSafetensors(model.tensors, specToMetadata(model.spec));
}
