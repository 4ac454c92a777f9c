// Turns f32 SAE weights (SAELens orientation) into sae-edge model tensors:
// symmetric per-latent int8 (scale = max|w| / 127) or exact f32, packed in the
// encoder layouts of docs/model-format.md.
import { LATENT_TILE, I8_K_STEP, packedOffset } from "./layout.js";
import { fail } from "../base/errors.js";
import { architecture } from "./architectures/index.js";
import { checkSpec, expectedTensors, specToMetadata, type Architecture, type ModelSpec, type Normalization, type Quantization } from "./spec.js";
import { safetensorsParts, serializeSafetensors, type TensorToWrite } from "../format/safetensors.js";
import { loadTensor, type TensorLike } from "../base/lazy-tensor.js";
import { offsetShift } from "./input-offset.js";

/**
 * An SAE in float32, SAELens orientation. M is how the large tensors are held: in memory, or
 * (CheckpointWeights, from importers) possibly still on disk.
 */
export interface SaeWeights<M extends TensorLike = Float32Array> {
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
  W_enc: M;
  b_enc: M;
  /** [d_sae][d_in] row-major: one row per latent. */
  W_dec: M;
  b_dec: Float32Array;
  /** JumpReLU thresholds [d_sae]. */
  threshold?: Float32Array;
  /** Gated: gate bias, magnitude log-scale and magnitude bias [d_sae] (b_enc unused). */
  b_gate?: Float32Array;
  r_mag?: Float32Array;
  b_mag?: Float32Array;
  /** Per-row input normalization (default none). */
  normalization?: Normalization;
  /** int8: the input offset μ [d_in] to quantize around (x' − μ), e.g. inputMean of calibration rows; f32 models ignore it. */
  xOffset?: Float32Array;
}

/**
 * What importers return: W_enc, b_enc and W_dec may be read on demand (decoder first: folds may
 * depend on it), and W_enc may come one row per latent ([d_sae][d_in], nn.Linear's layout), which
 * the quantizer reads as it is rather than holding a transposed copy.
 */
export type CheckpointWeights = SaeWeights<TensorLike> & { encoderLatentRows?: boolean };

/** Every tensor in memory, W_enc in SAELens orientation. */
export async function materializeWeights(w: CheckpointWeights): Promise<SaeWeights> {
  const { encoderLatentRows, ...rest } = w;
  const W_dec = await loadTensor(w.W_dec);
  const b_enc = await loadTensor(w.b_enc);
  const W_enc = await loadTensor(w.W_enc);
  return { ...rest, W_dec, b_enc, W_enc: encoderLatentRows ? transposeRows(W_enc, w.dSae, w.dIn) : W_enc };
}

function transposeRows(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

const I8_MAX = 127;

// Symmetric round half away from zero, clamped to [-127, 127].
function q8(v: number, inv: number): number {
  const r = Math.round(Math.abs(v) * inv);
  return Math.sign(v) * Math.min(r, I8_MAX);
}

// The architecture's own per-latent tensors travel as SaeWeights fields of the same name.
function latentTensor(w: SaeWeights<TensorLike>, name: string): Float32Array | undefined {
  return (w as unknown as Record<string, Float32Array | undefined>)[name];
}
const usesBEnc = (w: SaeWeights<TensorLike>) => architecture(w.architecture).latentTensors.includes("b_enc");

function checkTensor(name: string, arr: Float32Array | undefined, n: number): void {
  if (!(arr instanceof Float32Array) || arr.length !== n) fail("CHECKPOINT_INVALID", `${name} must have ${n} float32 values, got ${arr?.length}`);
  for (let i = 0; i < arr.length; i++) {
    if (!Number.isFinite(arr[i])) fail("CHECKPOINT_INVALID", `${name} has a non-finite value (${arr[i]}) at flat index ${i}`);
  }
}

// Everything but the two big matrices, which are checked as they are quantized.
function checkSmallTensors(w: SaeWeights<TensorLike>, b_enc: Float32Array | null): void {
  const dOut = w.dOut ?? w.dIn;
  checkTensor("b_dec", w.b_dec, dOut);
  if (w.W_skip) checkTensor("W_skip", w.W_skip, dOut * w.dIn);
  if (w.xOffset) checkTensor("x_offset", w.xOffset, w.dIn);
  // b_enc may still be on disk: checked by the caller once read.
  for (const name of architecture(w.architecture).latentTensors) if (name !== "b_enc") checkTensor(name, latentTensor(w, name), w.dSae);
  if (b_enc && usesBEnc(w)) checkTensor("b_enc", b_enc, w.dSae);
}

// Visits every encoder weight (i: input dim, j: latent) in memory order: W_enc is [d_in][d_sae],
// or [d_sae][d_in] (one row per latent, as nn.Linear stores it) when latentRows.
function eachWeight(W: Float32Array, dIn: number, dSae: number, latentRows: boolean, f: (i: number, j: number, w: number) => void): void {
  if (latentRows) for (let j = 0; j < dSae; j++) for (let i = 0; i < dIn; i++) f(i, j, W[j * dIn + i]);
  else for (let i = 0; i < dIn; i++) for (let j = 0; j < dSae; j++) f(i, j, W[i * dSae + j]);
}

/** What rounding to a multiple of 1/254 of a step leaves of a weight: r with |w|/scale ≈ |q| + r/254 (signed like w). */
function residual(a: number, m: number): number {
  const v = 254 * (a - m);
  return Math.sign(v) * Math.min(Math.round(Math.abs(v)), I8_MAX);
}

/**
 * Per-latent int8 for the encoder (latent j's weights over the inputs), packed [tile][step][4][16];
 * with `withResidual`, also the residual plane r (w ≈ scale·(q + r/254)), one row per latent [d_sae][step][16].
 */
export function quantizeEncoder(
  W_enc: Float32Array, dIn: number, dSae: number, latentRows = false, withResidual = false,
): { packed: Int8Array; scale: Float32Array; residual?: Int8Array } {
  const amax = new Float64Array(dSae);
  eachWeight(W_enc, dIn, dSae, latentRows, (_, j, w) => (amax[j] = Math.max(amax[j], Math.abs(w))));
  const scale = new Float32Array(dSae);
  const inv = new Float64Array(dSae);
  for (let j = 0; j < dSae; j++) {
    scale[j] = amax[j] / I8_MAX;
    inv[j] = scale[j] > 0 ? 1 / scale[j] : 0;
  }
  const steps = Math.ceil(dIn / I8_K_STEP);
  const packed = new Int8Array(Math.ceil(dSae / LATENT_TILE) * steps * LATENT_TILE * I8_K_STEP);
  const resid = withResidual ? new Int8Array(dSae * steps * I8_K_STEP) : undefined;
  eachWeight(W_enc, dIn, dSae, latentRows, (i, j, w) => {
    const at = packedOffset(i, j, steps);
    packed[at] = q8(w, inv[j]);
    if (resid) resid[j * steps * I8_K_STEP + i] = Math.sign(w) * residual(Math.abs(w) * inv[j], Math.abs(packed[at]));
  });
  return { packed, scale, ...(resid ? { residual: resid } : {}) };
}

/** Per-latent int8 for the decoder rows. */
function quantizeDecoder(W_dec: Float32Array, dSae: number, dIn: number): { q: Int8Array; scale: Float32Array } {
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
function packEncoderF32(W_enc: Float32Array, dIn: number, dSae: number, latentRows = false): Float32Array {
  const packed = new Float32Array(Math.ceil(dSae / LATENT_TILE) * dIn * LATENT_TILE);
  eachWeight(W_enc, dIn, dSae, latentRows, (i, j, w) => (packed[((j >> 2) * dIn + i) * LATENT_TILE + (j & 3)] = w));
  return packed;
}

/** How buildModel quantizes, besides the quantization itself. */
export interface BuildOptions {
  /**
   * int8: also store W_enc_residual, an int8 residual plane of the encoder (one more byte per
   * weight, read only when rescoring), so rescored latents and every code's value use ~15-bit
   * weights (docs/model-format.md). Default false; f32 models ignore it.
   */
  encoderResidual?: boolean;
}

export interface BuiltModel {
  spec: ModelSpec;
  tensors: Record<string, TensorToWrite>;
}

function modelSpec(w: SaeWeights<TensorLike>, quantization: Quantization, provenance: Record<string, unknown>, options: BuildOptions): ModelSpec {
  return checkSpec({
    architecture: w.architecture,
    dIn: w.dIn,
    dSae: w.dSae,
    dOut: w.dOut ?? w.dIn,
    skip: w.W_skip !== undefined,
    ...(w.featureDensity ? { featureDensity: Array.from(w.featureDensity, (v) => Number(v.toPrecision(6))) } : {}),
    k: architecture(w.architecture).k ? w.k : 0,
    applyBDecToInput: w.applyBDecToInput,
    normalization: w.normalization ?? "none",
    quantization,
    provenance,
    ...(w.xOffset && quantization === "int8" ? { xOffset: true } : {}),
    ...(options.encoderResidual && quantization === "int8" ? { encoderResidual: true } : {}),
  });
}

// The model's tensors from one encoder and one decoder matrix (each checked, then packed or quantized).
function encoderTensors(spec: ModelSpec, W_enc: Float32Array, latentRows = false, w?: SaeWeights<TensorLike>): Record<string, Int8Array | Float32Array> {
  checkTensor("W_enc", W_enc, spec.dIn * spec.dSae);
  if (spec.quantization === "f32") return { W_enc_packed: packEncoderF32(W_enc, spec.dIn, spec.dSae, latentRows) };
  const enc = quantizeEncoder(W_enc, spec.dIn, spec.dSae, latentRows, spec.encoderResidual);
  const out: Record<string, Int8Array | Float32Array> = { W_enc_packed: enc.packed, W_enc_scale: enc.scale };
  if (enc.residual) out.W_enc_residual = enc.residual;
  if (spec.xOffset && w?.xOffset) out.x_offset_fold = offsetFold(W_enc, spec, latentRows, w.xOffset, w.b_dec);
  return out;
}

// W_encᵀμ' from the float32 weights (float64 sums): the loader adds it to the bias, so the int8
// GEMV sees only x' − μ and the weights' rounding is multiplied by ‖x' − μ‖, not by ‖x'‖.
function offsetFold(W_enc: Float32Array, spec: ModelSpec, latentRows: boolean, mu: Float32Array, bDec: Float32Array): Float32Array {
  const { removed } = offsetShift(mu, spec.applyBDecToInput ? bDec : undefined);
  const acc = new Float64Array(spec.dSae);
  eachWeight(W_enc, spec.dIn, spec.dSae, latentRows, (i, j, v) => (acc[j] += v * removed[i]));
  return Float32Array.from(acc);
}
function decoderTensors(spec: ModelSpec, W_dec: Float32Array): Record<string, Int8Array | Float32Array> {
  checkTensor("W_dec", W_dec, spec.dSae * spec.dOut);
  if (spec.quantization === "f32") return { W_dec };
  const dec = quantizeDecoder(W_dec, spec.dSae, spec.dOut);
  return { W_dec: dec.q, W_dec_scale: dec.scale };
}

function assemble(spec: ModelSpec, w: SaeWeights<TensorLike>, b_enc: Float32Array, data: Record<string, Int8Array | Float32Array>): BuiltModel {
  Object.assign(data, { b_dec: w.b_dec });
  for (const name of architecture(w.architecture).latentTensors) data[name] = name === "b_enc" ? b_enc : latentTensor(w, name)!;
  if (w.W_skip) data.W_skip = w.W_skip;
  if (w.xOffset) data.x_offset = w.xOffset;
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, { dtype, shape }] of Object.entries(expectedTensors(spec))) tensors[name] = { dtype, shape, data: data[name] };
  return { spec, tensors };
}

export function buildModel(w: SaeWeights, quantization: Quantization, provenance: Record<string, unknown> = {}, options: BuildOptions = {}): BuiltModel {
  const spec = modelSpec(w, quantization, provenance, options);
  checkSmallTensors(w, w.b_enc);
  return assemble(spec, w, w.b_enc, { ...decoderTensors(spec, w.W_dec), ...encoderTensors(spec, w.W_enc, false, w) });
}

/**
 * buildModel for checkpoints whose matrices are still on disk: the decoder, then the encoder,
 * each read into one reused float32 buffer and quantized before the next is read, so the peak
 * is one f32 matrix plus the int8 model. onValues reports values read.
 */
export async function buildModelStreamed(
  w: CheckpointWeights, quantization: Quantization, provenance: Record<string, unknown> = {}, onValues?: (values: number) => void, options: BuildOptions = {},
): Promise<BuiltModel> {
  const spec = modelSpec(w, quantization, provenance, options);
  // f32 models keep the decoder as read, so it cannot share a buffer with the encoder.
  const into = quantization === "int8" ? new Float32Array(Math.max(w.W_enc.length, w.W_dec.length)) : undefined;
  checkSmallTensors(w, null);
  const dec = decoderTensors(spec, await loadTensor(w.W_dec, { into, onValues }));
  const b_enc = await loadTensor(w.b_enc); // after the decoder: its fold may need the decoder's norms
  if (usesBEnc(w)) checkTensor("b_enc", b_enc, w.dSae);
  const enc = encoderTensors(spec, await loadTensor(w.W_enc, { into, onValues }), w.encoderLatentRows, w);
  return assemble(spec, w, b_enc, { ...dec, ...enc });
}

/** The .safetensors bytes of a model. */
export function serializeModel(model: BuiltModel): Uint8Array {
  return serializeSafetensors(model.tensors, specToMetadata(model.spec));
}

/** The same bytes as serializeModel, as parts to write in order (no copy of the weights). */
export function serializeModelParts(model: BuiltModel): Uint8Array[] {
  return safetensorsParts(model.tensors, specToMetadata(model.spec));
}
