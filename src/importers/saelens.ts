// SAELens checkpoint folder: cfg.json + sae_weights.safetensors (F32/F16/BF16).
// Architectures standard, topk, jumprelu, gated. Normalizations that SAELens itself
// folds into the weights (activation scaler, decoder-norm rescaling, legacy
// scaling_factor) are folded here the same way, so the model takes raw inputs.
import { fail } from "../core/errors.js";
import type { SaeWeights } from "../core/quantize.js";
import { parseSafetensors, toFloat32 } from "../format/safetensors.js";
import { parseSaeLensConfig } from "./saelens-config.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";

const CFG = "cfg.json";
const WEIGHTS = "sae_weights.safetensors";
const SCALER = "activation_scaler.json";
const SPARSITY = "sparsity.safetensors";
const SUPPORTED = ["standard", "topk", "jumprelu", "gated", "transcoder", "jumprelu_transcoder", "skip_transcoder"] as const;
// Transcoders read x and predict another activation (d_out): no b_dec on the input.
const TRANSCODERS: Record<string, "standard" | "jumprelu"> = { transcoder: "standard", jumprelu_transcoder: "jumprelu", skip_transcoder: "standard" };

export const saelens: Importer = {
  family: "saelens",
  async detect(files) {
    const names = await files.list();
    return names.includes(CFG) && names.includes(WEIGHTS);
  },
  load: loadSaeLens,
};

async function loadSaeLens(files: CheckpointFiles): Promise<ImportedSae> {
  const names = await files.list();
  for (const f of [CFG, WEIGHTS]) if (!names.includes(f)) fail("CHECKPOINT_INVALID", `${files.location}: no ${f} (a SAELens checkpoint folder has ${CFG} and ${WEIGHTS})`);
  const cfg = parseSaeLensConfig(new TextDecoder().decode(await files.read(CFG)));
  if (!(SUPPORTED as readonly string[]).includes(cfg.architecture)) {
    fail("CHECKPOINT_UNSUPPORTED", `SAELens architecture "${cfg.architecture}" is not supported yet (supported: ${SUPPORTED.join(", ")})`);
  }
  const st = parseSafetensors(await files.read(WEIGHTS));
  const tensor = (name: string, shape: number[], optional = false): Float32Array | undefined => {
    const info = st.header.tensors.find((t) => t.name === name);
    if (!info) {
      if (optional) return undefined;
      fail("CHECKPOINT_INVALID", `${WEIGHTS} lacks tensor "${name}"`);
    }
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      fail("CHECKPOINT_INVALID", `${WEIGHTS}: "${name}" has shape [${info.shape}], cfg.json implies [${shape}]`);
    }
    if (!["F32", "F16", "BF16", "F64"].includes(info.dtype)) fail("CHECKPOINT_UNSUPPORTED", `${WEIGHTS}: "${name}" has dtype ${info.dtype}`);
    return toFloat32(st.tensor(name), info.dtype);
  };
  const { dIn, dSae } = cfg;
  const transcoder = TRANSCODERS[cfg.architecture];
  const dOut = transcoder ? cfg.dOut : dIn;
  const w: SaeWeights = {
    architecture: transcoder ?? (cfg.architecture as SaeWeights["architecture"]),
    dIn,
    dSae,
    dOut,
    k: cfg.k,
    applyBDecToInput: transcoder ? false : cfg.applyBDecToInput,
    W_enc: tensor("W_enc", [dIn, dSae])!,
    b_enc: cfg.architecture === "gated" ? new Float32Array(dSae) : tensor("b_enc", [dSae])!,
    ...(cfg.architecture === "gated" ? { b_gate: tensor("b_gate", [dSae]), r_mag: tensor("r_mag", [dSae]), b_mag: tensor("b_mag", [dSae]) } : {}),
    W_dec: tensor("W_dec", [dSae, dOut])!,
    b_dec: tensor("b_dec", [dOut])!,
    threshold: cfg.architecture === "jumprelu" || cfg.architecture === "jumprelu_transcoder" ? tensor("threshold", [dSae]) : undefined,
    // skip_transcoder: x @ W_skip.T is added to the output.
    W_skip: cfg.architecture === "skip_transcoder" ? tensor("W_skip", [dOut, dIn]) : undefined,
  };
  const folded: string[] = [];

  const scaling = tensor("scaling_factor", [dSae], true);
  if (scaling && scaling.some((s) => s !== 1)) {
    // Legacy finetuning scaling factor multiplies the features before decoding.
    for (let j = 0; j < dSae; j++) scaleRow(w.W_dec, j, dOut, scaling[j]);
    folded.push("scaling_factor");
  }

  if (cfg.normalizeActivations === "expected_average_only_in") {
    if (!names.includes(SCALER)) {
      fail("CHECKPOINT_UNSUPPORTED", `normalize_activations is expected_average_only_in but ${SCALER} with the scaling factor is missing`);
    }
    const s = Number(JSON.parse(new TextDecoder().decode(await files.read(SCALER))).scaling_factor);
    if (!(s > 0 && Number.isFinite(s))) fail("CHECKPOINT_INVALID", `${SCALER} scaling_factor must be a positive number`);
    // As SAELens fold_activation_norm_scaling_factor: the SAE then takes raw inputs.
    for (let i = 0; i < w.W_enc.length; i++) w.W_enc[i] *= s;
    for (let i = 0; i < w.W_dec.length; i++) w.W_dec[i] /= s;
    for (let i = 0; i < dOut; i++) w.b_dec[i] /= s;
    folded.push(`activation scaling factor ${s}`);
  } else if (cfg.normalizeActivations === "layer_norm" || cfg.normalizeActivations === "constant_norm_rescale") {
    w.normalization = cfg.normalizeActivations; // per row, undone on decode
  } else if (cfg.normalizeActivations !== "none") {
    fail("CHECKPOINT_UNSUPPORTED", `normalize_activations "${cfg.normalizeActivations}" is not supported`);
  }

  if (cfg.architecture === "topk" && cfg.rescaleActsByDecoderNorm) {
    // As SAELens fold_W_dec_norm: unit decoder rows, encoder columns and b_enc times the norm.
    for (let j = 0; j < dSae; j++) {
      let nrm = 0;
      for (let i = 0; i < dOut; i++) nrm += w.W_dec[j * dOut + i] ** 2;
      nrm = Math.sqrt(nrm);
      // A zero decoder row zeroes the latent's pre-activation in SAELens too: it never fires.
      if (nrm > 0) scaleRow(w.W_dec, j, dOut, 1 / nrm);
      for (let i = 0; i < dIn; i++) w.W_enc[i * dSae + j] *= nrm;
      w.b_enc[j] *= nrm;
    }
    folded.push("decoder norm (rescale_acts_by_decoder_norm)");
  }

  if (names.includes(SPARSITY)) {
    // log10(feature density + 1e-10) per latent, written by SAELens training.
    const sp = parseSafetensors(await files.read(SPARSITY));
    const t = sp.header.tensors.find((x) => x.name === "sparsity");
    if (!t || t.shape.join() !== String(dSae)) fail("CHECKPOINT_INVALID", `${SPARSITY} must hold "sparsity" [${dSae}]`);
    w.featureDensity = toFloat32(sp.tensor("sparsity"), t.dtype).map((v) => Math.min(1, Math.max(0, 10 ** v - 1e-10)));
  }

  return {
    weights: w,
    provenance: {
      source_format: "saelens",
      source: files.location,
      saelens_architecture: cfg.architecture,
      saelens_config: cfg.legacy ? "pre-6.0" : "v6",
      dtype: cfg.dtype,
      ...(cfg.reshapeActivations !== "none" ? { reshape_activations: cfg.reshapeActivations } : {}),
      ...(folded.length ? { folded } : {}),
      ...cfg.metadata,
    },
  };
}

function scaleRow(m: Float32Array, row: number, width: number, s: number): void {
  for (let i = 0; i < width; i++) m[row * width + i] *= s;
}
