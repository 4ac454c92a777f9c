// SAELens cfg.json, v6 and pre-6.0 (SAELens handle_config_defaulting /
// handle_pre_6_0_config): legacy keys renamed, defaults applied. Training-only keys are
// skipped; any other key sae-edge does not read is returned in unknownKeys, for a warning.
import { fail } from "../base/errors.js";
import { SAELENS_TRAINING_KEYS } from "./saelens-keys.js";

export interface SaeLensConfig {
  architecture: string;
  dIn: number;
  dSae: number;
  /** Transcoders' output width (d_in otherwise). */
  dOut: number;
  k: number;
  applyBDecToInput: boolean;
  normalizeActivations: string;
  reshapeActivations: string;
  rescaleActsByDecoderNorm: boolean;
  dtype: string;
  /** hook_name, model_name, sae_lens_version, ... when present. */
  metadata: Record<string, unknown>;
  legacy: boolean;
  /** Top-level keys neither read here nor known as training-only. */
  unknownKeys: string[];
}

const METADATA_KEYS = [
  "model_name", "hook_name", "hook_head_index", "sae_lens_version", "sae_lens_training_version", "neuronpedia_id", "context_size", "dataset_path", "prepend_bos",
  "model_class_name", "model_from_pretrained_kwargs", "exclude_special_tokens", "seqpos_slice",
];
/** Keys read by parseSaeLensConfig (with their pre-6.0 names). */
const READ_KEYS = new Set([
  ...METADATA_KEYS, "metadata", "architecture", "d_in", "d_sae", "d_out", "dtype", "apply_b_dec_to_input", "normalize_activations", "reshape_activations",
  "k", "rescale_acts_by_decoder_norm", "finetuning_scaling_factor", "activation_fn", "activation_fn_str", "activation_fn_kwargs", "hook_point", "hook_point_head_index",
]);
const DTYPES = ["float32", "float64", "float16", "bfloat16"];

function isLegacy(cfg: Record<string, unknown>): boolean {
  const meta = (cfg.metadata ?? {}) as Record<string, unknown>;
  const v = cfg.sae_lens_version ?? meta.sae_lens_version;
  if (typeof v !== "string") return true;
  // SAELens: legacy below 6.0.0-rc.0, so every 6.x (release candidates too) is v6.
  const major = Number(/^(\d+)/.exec(v)?.[1]);
  return !(major >= 6);
}

function int(cfg: Record<string, unknown>, key: string): number {
  const v = cfg[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) fail("CHECKPOINT_INVALID", `cfg.json ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

export function parseSaeLensConfig(text: string): SaeLensConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail("CHECKPOINT_INVALID", `cfg.json is not valid JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) fail("CHECKPOINT_INVALID", "cfg.json is not a JSON object");
  const cfg = { ...(raw as Record<string, unknown>) };
  const legacy = isLegacy(cfg);
  if (legacy) {
    if (cfg.hook_point !== undefined && cfg.hook_name === undefined) cfg.hook_name = cfg.hook_point;
    if (cfg.hook_point_head_index !== undefined && cfg.hook_head_index === undefined) cfg.hook_head_index = cfg.hook_point_head_index;
    if (cfg.activation_fn_str !== undefined && cfg.activation_fn === undefined) cfg.activation_fn = cfg.activation_fn_str;
    const kwargs = (cfg.activation_fn_kwargs ?? {}) as Record<string, unknown>;
    if (kwargs.k !== undefined && cfg.k === undefined) cfg.k = kwargs.k;
    if (cfg.activation_fn === "topk") cfg.architecture = "topk";
    if (cfg.normalize_activations === true) cfg.normalize_activations = "expected_average_only_in";
    if (cfg.reshape_activations === undefined) cfg.reshape_activations = String(cfg.hook_name ?? "").includes("hook_z") ? "hook_z" : "none";
  }
  // Pre-6.0 SAELens also trained tanh-relu SAEs; SAELens 6 drops the key and would run them as ReLU.
  if (cfg.activation_fn !== undefined && cfg.activation_fn !== "relu" && cfg.activation_fn !== "topk") {
    fail("CHECKPOINT_UNSUPPORTED", `cfg.json activation_fn "${String(cfg.activation_fn)}" is not supported (relu and topk are)`);
  }
  const reshape = String(cfg.reshape_activations ?? "none");
  if (reshape !== "none" && reshape !== "hook_z") fail("CHECKPOINT_UNSUPPORTED", `cfg.json reshape_activations "${reshape}" is not supported (none and hook_z are)`);
  const hookName = (cfg.metadata as Record<string, unknown> | undefined)?.hook_name ?? cfg.hook_name;
  if (reshape === "hook_z" && typeof hookName === "string" && !hookName.endsWith("_z")) {
    fail("CHECKPOINT_INVALID", `cfg.json reshape_activations is hook_z but hook_name "${hookName}" is not a hook_z (SAELens refuses this too)`);
  }
  const architecture = String(cfg.architecture ?? "standard");
  const normalize = cfg.normalize_activations == null || cfg.normalize_activations === false ? "none" : String(cfg.normalize_activations);
  const dtype = String(cfg.dtype ?? "float32").replace(/^torch\./, "");
  if (!DTYPES.includes(dtype)) fail("CHECKPOINT_UNSUPPORTED", `cfg.json dtype "${cfg.dtype}" is not one of ${DTYPES.join(", ")}`);
  const meta: Record<string, unknown> = {};
  const nested = (cfg.metadata ?? {}) as Record<string, unknown>;
  for (const key of METADATA_KEYS) {
    const v = nested[key] ?? cfg[key];
    if (v !== undefined && v !== null) meta[key] = v;
  }
  return {
    architecture,
    dIn: int(cfg, "d_in"),
    dOut: cfg.d_out === undefined ? int(cfg, "d_in") : int(cfg, "d_out"),
    dSae: int(cfg, "d_sae"),
    k: architecture === "topk" ? int({ k: cfg.k ?? 100 }, "k") : 0,
    applyBDecToInput: cfg.apply_b_dec_to_input === undefined ? true : Boolean(cfg.apply_b_dec_to_input),
    normalizeActivations: normalize,
    reshapeActivations: reshape,
    rescaleActsByDecoderNorm: Boolean(cfg.rescale_acts_by_decoder_norm),
    dtype,
    metadata: meta,
    legacy,
    unknownKeys: Object.keys(raw as object).filter((key) => !READ_KEYS.has(key) && !SAELENS_TRAINING_KEYS.has(key)),
  };
}
