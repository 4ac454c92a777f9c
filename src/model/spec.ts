// The sae-edge model file (docs/model-format.md): one safetensors file whose
// __metadata__ describes the SAE and whose tensors hold packed weights.
// This module is the single place that knows the names, dtypes and shapes.
import { LATENT_TILE, I8_K_STEP } from "./layout.js";
import { fail } from "../base/errors.js";
import { ARCHITECTURES, architecture, architectureNames, type Architecture } from "./architectures/index.js";

export { ARCHITECTURES, type Architecture };
import type { Dtype, SafetensorsHeader, TensorInfo } from "../format/safetensors.js";

export const FORMAT_NAME = "sae-edge";
export const FORMAT_VERSION = "1";
export const QUANTIZATIONS = ["int8", "f32"] as const;
/** Per-row input normalization, undone on decode (SAELens normalize_activations). */
export const NORMALIZATIONS = ["none", "layer_norm", "constant_norm_rescale"] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];
export type Quantization = (typeof QUANTIZATIONS)[number];

// Limits that keep every int32 accumulator and wasm32 offset in range:
// |sum q_w * q_x| <= d_in * 127 * 127 < 2^31 for d_in <= 2^16.
export const MAX_D_IN = 1 << 16;
export const MAX_D_SAE = 1 << 24;

export interface ModelSpec {
  architecture: Architecture;
  dIn: number;
  dSae: number;
  /** Decoder output width: d_in for SAEs, the target's width for transcoders. */
  dOut: number;
  /** A skip connection W_skip [d_out, d_in]: forward adds W_skip·x (skip transcoders, sparsify skip_connection). */
  skip?: boolean;
  /** TopK k, or GroupMax's number of groups; 0 for other architectures. */
  k: number;
  applyBDecToInput: boolean;
  normalization: Normalization;
  quantization: Quantization;
  /** Where the weights came from (free-form JSON object). */
  provenance: Record<string, unknown>;
  /** Anomaly-score calibration on normal data, when the model has been calibrated. */
  calibration?: Calibration;
  /** Fraction of training tokens each latent fired on, when the checkpoint had it (SAELens sparsity.safetensors). */
  featureDensity?: number[];
  /** int8 TopK: a low-rank or int4 screen that picks `pool` candidates for rescoring (sae-edge screen). */
  screen?: Screen;
  /**
   * int8: the model stores x_offset μ [d_in], the typical input x', and x_offset_fold W_encᵀμ [d_sae]
   * from the float32 weights; encode quantizes x' − μ and the loader adds the fold to the bias, so a
   * shared offset costs no int8 precision.
   */
  xOffset?: boolean;
  /**
   * int8: the model stores W_enc_residual, an int8 residual plane r of the encoder weights
   * (w ≈ scale·(q + r/254)) that rescoring reads, so the latents it rescores get ~15-bit weights;
   * the GEMV reads the int8 weights only.
   */
  encoderResidual?: boolean;
}

/**
 * A screen picks each row's `pool` best candidates with a cheaper pass; rescoring with W_enc then
 * decides among them. Low-rank: the input x' projected on `rank` directions P (learned from sample
 * inputs), int8 scores against P^T W_enc. int4: the int8 pass itself with W_enc rounded to 4 bits
 * (half the bytes to read per row).
 */
export type Screen = LowRankScreen | Int4Screen;
export interface LowRankScreen {
  rank: number;
  pool: number;
}
export interface Int4Screen {
  bits: 4;
  pool: number;
}

/** The most candidates a row's selection buffer holds (assembly/workspace.ts selectionCapacity). */
export function selectionCapacity(k: number, dSae: number): number {
  return Math.min(Math.max(4 * k, 256), Math.ceil(dSae / LATENT_TILE) * LATENT_TILE);
}

export function checkScreen(s: unknown, spec: ModelSpec): Screen {
  const bad = (why: string): never => fail("MODEL_INVALID", `screen: ${why}`);
  if (!s || typeof s !== "object" || Array.isArray(s)) bad("not a JSON object");
  const { rank, bits, pool, ...rest } = s as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) bad(`unknown key ${JSON.stringify(extra[0])}`);
  if (spec.architecture !== "topk" || spec.quantization !== "int8") fail("MODEL_UNSUPPORTED", "a screen needs an int8 TopK model");
  const cap = Math.min(selectionCapacity(spec.k, spec.dSae), spec.dSae);
  if (!Number.isSafeInteger(pool) || (pool as number) < spec.k || (pool as number) > cap) bad(`pool must be an integer from k=${spec.k} to ${cap}, got ${JSON.stringify(pool)}`);
  if (bits !== undefined) {
    if (bits !== 4 || rank !== undefined) bad(`an int4 screen is {"bits": 4, "pool": p}, got bits ${JSON.stringify(bits)}${rank !== undefined ? " with a rank" : ""}`);
    return { bits: 4, pool: pool as number };
  }
  // The projection P is learned on x' as encode sees it, which normalization would change per row.
  if (spec.normalization !== "none") fail("MODEL_UNSUPPORTED", "a low-rank screen needs a model without input normalization");
  if (!Number.isSafeInteger(rank) || (rank as number) < I8_K_STEP || (rank as number) % I8_K_STEP !== 0 || (rank as number) > roundUp16(spec.dIn)) {
    bad(`rank must be a multiple of ${I8_K_STEP} from ${I8_K_STEP} to ${roundUp16(spec.dIn)}, got ${JSON.stringify(rank)}`);
  }
  return { rank: rank as number, pool: pool as number };
}

const roundUp16 = (n: number) => Math.ceil(n / I8_K_STEP) * I8_K_STEP;

export const SCORE_MODES = ["raw", "norm", "var"] as const;
export type ScoreMode = (typeof SCORE_MODES)[number];

/** What `calibrate` learned from normal rows (stored as the metadata key "calibration", JSON). */
export interface Calibration {
  /** raw: ‖x−x̂‖²; norm: ‖x−x̂‖²/‖x‖²; var: Σ_i (x_i−x̂_i)²/residualVariance_i. */
  mode: ScoreMode;
  /** Rows scoring above this are flagged. */
  threshold: number;
  /** The false-positive rate on the calibration rows the threshold was chosen for. */
  fpr: number;
  rows: number;
  /** Per-dimension variance of the residual on the calibration rows (mode "var"). */
  residualVariance?: number[];
  /** Fraction of calibration rows on which each latent fired. */
  density: number[];
}

export interface TensorShape {
  dtype: Dtype;
  shape: number[];
}

/** The tensors a model with this spec must contain, by name. */
export function expectedTensors(spec: ModelSpec): Record<string, TensorShape> {
  const { dIn, dSae } = spec;
  const tiles = Math.ceil(dSae / LATENT_TILE);
  const t: Record<string, TensorShape> = {};
  if (spec.quantization === "int8") {
    t.W_enc_packed = { dtype: "I8", shape: [tiles, Math.ceil(dIn / I8_K_STEP), LATENT_TILE, I8_K_STEP] };
    t.W_enc_scale = { dtype: "F32", shape: [dSae] };
    // One row per latent: rescoring reads it a latent at a time.
    if (spec.encoderResidual) t.W_enc_residual = { dtype: "I8", shape: [dSae, Math.ceil(dIn / I8_K_STEP), I8_K_STEP] };
    t.W_dec = { dtype: "I8", shape: [dSae, spec.dOut] };
    t.W_dec_scale = { dtype: "F32", shape: [dSae] };
  } else {
    t.W_enc_packed = { dtype: "F32", shape: [tiles, dIn, LATENT_TILE] };
    t.W_dec = { dtype: "F32", shape: [dSae, spec.dOut] };
  }
  for (const name of architecture(spec.architecture).latentTensors) t[name] = { dtype: "F32", shape: [dSae] };
  t.b_dec = { dtype: "F32", shape: [spec.dOut] };
  if (spec.skip) t.W_skip = { dtype: "F32", shape: [spec.dOut, dIn] };
  if (spec.xOffset) {
    t.x_offset = { dtype: "F32", shape: [dIn] };
    t.x_offset_fold = { dtype: "F32", shape: [dSae] };
  }
  if (spec.screen && "bits" in spec.screen) {
    // Two latents per byte: [tile][step][latent pair][dim], low nibble the even latent.
    t.screen_W4_packed = { dtype: "U8", shape: [tiles, Math.ceil(dIn / I8_K_STEP), LATENT_TILE / 2, I8_K_STEP] };
    t.screen_W_scale = { dtype: "F32", shape: [dSae] };
  } else if (spec.screen) {
    const r = spec.screen.rank;
    t.screen_P = { dtype: "F32", shape: [dIn, r] };
    t.screen_W_packed = { dtype: "I8", shape: [tiles, r / I8_K_STEP, LATENT_TILE, I8_K_STEP] };
    t.screen_W_scale = { dtype: "F32", shape: [dSae] };
  }
  return t;
}

export function specToMetadata(spec: ModelSpec): Record<string, string> {
  return {
    format: FORMAT_NAME,
    format_version: FORMAT_VERSION,
    architecture: spec.architecture,
    d_in: String(spec.dIn),
    d_sae: String(spec.dSae),
    ...(spec.dOut !== spec.dIn ? { d_out: String(spec.dOut) } : {}),
    ...(spec.skip ? { skip_connection: "true" } : {}),
    k: String(spec.k),
    apply_b_dec_to_input: String(spec.applyBDecToInput),
    normalization: spec.normalization,
    quantization: spec.quantization,
    provenance: JSON.stringify(spec.provenance),
    ...(spec.calibration ? { calibration: JSON.stringify(spec.calibration) } : {}),
    ...(spec.featureDensity ? { feature_density: JSON.stringify(spec.featureDensity) } : {}),
    ...(spec.screen ? { screen: JSON.stringify(spec.screen) } : {}),
  };
}

export function checkCalibration(c: unknown, dIn: number, dSae: number): Calibration {
  const bad = (why: string): never => fail("MODEL_INVALID", `calibration: ${why}`);
  if (!c || typeof c !== "object" || Array.isArray(c)) bad("not a JSON object");
  const o = c as Record<string, unknown>;
  if (!(SCORE_MODES as readonly unknown[]).includes(o.mode)) bad(`mode ${JSON.stringify(o.mode)} is not one of ${SCORE_MODES.join(", ")}`);
  if (typeof o.threshold !== "number" || !Number.isFinite(o.threshold) || o.threshold < 0) bad("threshold must be a finite number >= 0");
  if (typeof o.fpr !== "number" || !(o.fpr > 0 && o.fpr < 1)) bad("fpr must be in (0, 1)");
  if (!Number.isSafeInteger(o.rows) || (o.rows as number) < 1) bad("rows must be a positive integer");
  const vec = (v: unknown, n: number, name: string, ok: (x: number) => boolean) => {
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === "number" && ok(x))) bad(`${name} must be ${n} numbers in range`);
  };
  vec(o.density, dSae, "density", (x) => x >= 0 && x <= 1);
  if (o.mode === "var") vec(o.residualVariance, dIn, "residualVariance", (x) => Number.isFinite(x) && x > 0);
  return o as unknown as Calibration;
}

function field(meta: Record<string, string>, key: string): string {
  const v = meta[key];
  if (v === undefined) fail("MODEL_INVALID", `model metadata lacks "${key}" (is this an sae-edge model file?)`);
  return v;
}

function positiveInt(meta: Record<string, string>, key: string, max: number, allowZero = false): number {
  const s = field(meta, key);
  if (!/^(0|[1-9][0-9]{0,9})$/.test(s)) fail("MODEL_INVALID", `metadata ${key}="${s}" is not a non-negative integer`);
  const n = Number(s);
  if (!allowZero && n === 0) fail("MODEL_INVALID", `metadata ${key} must be at least 1`);
  if (n > max) fail("MODEL_UNSUPPORTED", `metadata ${key}=${n} is above the supported ${max}`);
  return n;
}

// An optional metadata value holding JSON: undefined when absent, a typed error when not JSON.
function jsonField(meta: Record<string, string>, key: string): unknown {
  if (meta[key] === undefined) return undefined;
  try {
    return JSON.parse(meta[key]);
  } catch {
    return fail("MODEL_INVALID", `metadata ${key} is not JSON`);
  }
}

function oneOf<T extends string>(meta: Record<string, string>, key: string, allowed: readonly T[]): T {
  const s = field(meta, key);
  if (!(allowed as readonly string[]).includes(s)) {
    fail("MODEL_UNSUPPORTED", `metadata ${key}="${s}" is not one of ${allowed.join(", ")}`);
  }
  return s as T;
}

export function checkSpec(spec: ModelSpec): ModelSpec {
  for (const [name, v, max] of [["d_in", spec.dIn, MAX_D_IN], ["d_sae", spec.dSae, MAX_D_SAE], ["d_out", spec.dOut, MAX_D_IN]] as const) {
    if (!Number.isInteger(v) || v < 1) fail("MODEL_INVALID", `${name}=${v} must be a positive integer`);
    if (v > max) fail("MODEL_UNSUPPORTED", `${name}=${v} is above the supported ${max}`);
  }
  if (spec.dOut !== spec.dIn && (spec.applyBDecToInput || spec.normalization !== "none")) {
    fail("MODEL_INVALID", "a transcoder (d_out ≠ d_in) cannot subtract b_dec from its input or normalize it");
  }
  if (spec.xOffset && spec.quantization !== "int8") fail("MODEL_INVALID", "x_offset is for int8 models only (f32 encoders need no offset folding)");
  if (spec.encoderResidual && spec.quantization !== "int8") fail("MODEL_INVALID", "W_enc_residual is for int8 models only (f32 encoders have no rounding to correct)");
  const { k } = architecture(spec.architecture);
  if (k) {
    if (!k.valid(spec.k, spec.dSae)) fail("MODEL_INVALID", `${spec.architecture} needs ${k.meaning} (${spec.dSae}), got k=${spec.k}`);
  } else if (spec.k !== 0) {
    fail("MODEL_INVALID", `k=${spec.k} is set but architecture is ${spec.architecture}`);
  }
  return spec;
}

/** Reads and checks the metadata, then checks every tensor's dtype and shape against it. */
export function specFromHeader(header: SafetensorsHeader): ModelSpec {
  const meta = header.metadata;
  if (meta.format !== FORMAT_NAME) {
    fail("MODEL_INVALID", `not an sae-edge model: metadata format is ${meta.format === undefined ? "missing" : `"${meta.format}"`} (quantize a checkpoint with "sae-edge quantize")`);
  }
  if (meta.format_version !== FORMAT_VERSION) {
    fail("MODEL_UNSUPPORTED", `model format_version "${meta.format_version}" is not supported (this version reads "${FORMAT_VERSION}")`);
  }
  const p = meta.provenance === undefined ? {} : jsonField(meta, "provenance");
  if (!p || typeof p !== "object" || Array.isArray(p)) fail("MODEL_INVALID", "metadata provenance is not a JSON object");
  const provenance = p as Record<string, unknown>;
  const applyB = field(meta, "apply_b_dec_to_input");
  if (applyB !== "true" && applyB !== "false") fail("MODEL_INVALID", `apply_b_dec_to_input="${applyB}" is not true or false`);
  const spec = checkSpec({
    architecture: oneOf(meta, "architecture", architectureNames()) as Architecture,
    dIn: positiveInt(meta, "d_in", MAX_D_IN),
    dSae: positiveInt(meta, "d_sae", MAX_D_SAE),
    dOut: meta.d_out === undefined ? positiveInt(meta, "d_in", MAX_D_IN) : positiveInt(meta, "d_out", MAX_D_IN),
    skip: meta.skip_connection === "true",
    k: positiveInt(meta, "k", MAX_D_SAE, true),
    applyBDecToInput: applyB === "true",
    normalization: oneOf(meta, "normalization", NORMALIZATIONS),
    quantization: oneOf(meta, "quantization", QUANTIZATIONS),
    provenance,
    // Their only trace is the tensor (they change no other metadata).
    ...(header.tensors.some((t) => t.name === "x_offset") ? { xOffset: true } : {}),
    ...(header.tensors.some((t) => t.name === "W_enc_residual") ? { encoderResidual: true } : {}),
  });
  const screen = jsonField(meta, "screen");
  if (screen !== undefined) spec.screen = checkScreen(screen, spec);
  checkTensors(header.tensors, expectedTensors(spec));
  const d = jsonField(meta, "feature_density");
  if (d !== undefined) {
    if (!Array.isArray(d) || d.length !== spec.dSae || !d.every((v) => typeof v === "number" && v >= 0 && v <= 1)) {
      fail("MODEL_INVALID", `metadata feature_density must be ${spec.dSae} numbers in [0, 1]`);
    }
    spec.featureDensity = d as number[];
  }
  const c = jsonField(meta, "calibration");
  if (c !== undefined) spec.calibration = checkCalibration(c, spec.dIn, spec.dSae);
  return spec;
}

function checkTensors(tensors: TensorInfo[], expected: Record<string, TensorShape>): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const [name, want] of Object.entries(expected)) {
    const got = byName.get(name);
    if (!got) fail("MODEL_INVALID", `model lacks tensor "${name}"`);
    if (got.dtype !== want.dtype || got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      fail("MODEL_INVALID", `tensor "${name}" is ${got.dtype}[${got.shape}], expected ${want.dtype}[${want.shape}] for this metadata`);
    }
  }
  for (const t of tensors) {
    if (!Object.hasOwn(expected, t.name)) fail("MODEL_INVALID", `unexpected tensor "${t.name}" in a format ${FORMAT_VERSION} model`);
  }
}
