// SAELens checkpoint folder: cfg.json + sae_weights.safetensors (F32/F16/BF16).
// Architectures standard, topk, jumprelu, gated. Normalizations that SAELens itself
// folds into the weights (activation scaler, decoder-norm rescaling, legacy
// scaling_factor) are folded here the same way, so the model takes raw inputs.
import { parseJsonObject } from "../format/json-object.js";
import { fail } from "../base/errors.js";
import type { CheckpointWeights } from "../model/quantize.js";
import { loadTensor, mapTensor, type LazyTensor } from "../base/lazy-tensor.js";
import { parseSafetensors, toFloat32 } from "../format/safetensors.js";
import { openSafetensors } from "../format/safetensors-source.js";
import { parseSaeLensConfig } from "./saelens-config.js";
import { openFile, type CheckpointFiles, type ImportedSae, type Importer } from "./types.js";

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
  // Read by range: the matrices stay on disk until quantization streams them.
  const st = await openSafetensors(await openFile(files, WEIGHTS));
  const lazy = (name: string, shape: number[], optional = false): LazyTensor | undefined => {
    const info = st.info(name);
    if (!info) {
      if (optional) return undefined;
      fail("CHECKPOINT_INVALID", `${WEIGHTS} lacks tensor "${name}"`);
    }
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      fail("CHECKPOINT_INVALID", `${WEIGHTS}: "${name}" has shape [${info.shape}], cfg.json implies [${shape}]`);
    }
    if (!["F32", "F16", "BF16", "F64"].includes(info.dtype)) fail("CHECKPOINT_UNSUPPORTED", `${WEIGHTS}: "${name}" has dtype ${info.dtype}`);
    return st.tensor(name);
  };
  const tensor = async (name: string, shape: number[], optional = false) => lazy(name, shape, optional)?.load();
  const { dIn, dSae } = cfg;
  const transcoder = TRANSCODERS[cfg.architecture];
  const dOut = transcoder ? cfg.dOut : dIn;
  const gated = cfg.architecture === "gated";
  const w: CheckpointWeights = {
    architecture: transcoder ?? (cfg.architecture as CheckpointWeights["architecture"]),
    dIn,
    dSae,
    dOut,
    k: cfg.k,
    applyBDecToInput: transcoder ? false : cfg.applyBDecToInput,
    W_enc: lazy("W_enc", [dIn, dSae])!,
    b_enc: gated ? new Float32Array(dSae) : (await tensor("b_enc", [dSae]))!,
    ...(gated ? { b_gate: await tensor("b_gate", [dSae]), r_mag: await tensor("r_mag", [dSae]), b_mag: await tensor("b_mag", [dSae]) } : {}),
    W_dec: lazy("W_dec", [dSae, dOut])!,
    b_dec: (await tensor("b_dec", [dOut]))!,
    threshold: cfg.architecture === "jumprelu" || cfg.architecture === "jumprelu_transcoder" ? await tensor("threshold", [dSae]) : undefined,
    // skip_transcoder: x @ W_skip.T is added to the output.
    W_skip: cfg.architecture === "skip_transcoder" ? await tensor("W_skip", [dOut, dIn]) : undefined,
  };
  const folded: string[] = [];
  const warnings: string[] = [];
  // SAELens casts every tensor to cfg.dtype on load; sae-edge widens the stored values to f32 exactly.
  const WIDTH: Record<string, number> = { float16: 16, bfloat16: 16, float32: 32, float64: 64, F16: 16, BF16: 16, F32: 32, F64: 64 };
  const wider = [...new Set(st.header.tensors.map((t) => t.dtype))].filter((d) => (WIDTH[d] ?? 0) > WIDTH[cfg.dtype]);
  if (wider.length) warnings.push(`cfg.json dtype is ${cfg.dtype} but ${WEIGHTS} stores ${wider.join(", ")}: SAELens would round the weights to ${cfg.dtype} on load; sae-edge keeps the stored values`);
  const readTensors = new Set(["W_enc", "W_dec", "b_enc", "b_dec", "scaling_factor", ...(w.threshold ? ["threshold"] : []), ...(gated ? ["b_gate", "r_mag", "b_mag"] : []), ...(w.W_skip ? ["W_skip"] : [])]);
  const unreadTensors = st.header.tensors.map((t) => t.name).filter((n) => !readTensors.has(n));
  if (unreadTensors.length) warnings.push(`${WEIGHTS} holds tensors the ${cfg.architecture} architecture does not use: ${unreadTensors.join(", ")}`);
  if (cfg.unknownKeys.length) warnings.push(`cfg.json keys sae-edge does not read (no such SAELens option up to 6.18): ${cfg.unknownKeys.join(", ")}`);

  const scaling = await tensor("scaling_factor", [dSae], true);
  if (scaling && scaling.some((s) => s !== 1)) {
    // Legacy finetuning scaling factor multiplies the features before decoding.
    w.W_dec = mapTensor(w.W_dec, (W) => {
      for (let j = 0; j < dSae; j++) scaleRow(W, j, dOut, scaling[j]);
    });
    folded.push("scaling_factor");
  }

  if (cfg.normalizeActivations === "expected_average_only_in") {
    if (!names.includes(SCALER)) {
      fail("CHECKPOINT_UNSUPPORTED", `normalize_activations is expected_average_only_in but ${SCALER} with the scaling factor is missing`);
    }
    const s = Number(parseJsonObject(await files.read(SCALER), SCALER).scaling_factor);
    if (!(s > 0 && Number.isFinite(s))) fail("CHECKPOINT_INVALID", `${SCALER} scaling_factor must be a positive number`);
    // As SAELens fold_activation_norm_scaling_factor: the SAE then takes raw inputs.
    w.W_enc = mapTensor(w.W_enc, (W) => {
      for (let i = 0; i < W.length; i++) W[i] *= s;
    });
    w.W_dec = mapTensor(w.W_dec, (W) => {
      for (let i = 0; i < W.length; i++) W[i] /= s;
    });
    for (let i = 0; i < dOut; i++) w.b_dec[i] /= s;
    folded.push(`activation scaling factor ${s}`);
    warnings.push(`${SCALER}'s scaling factor ${s} is folded into the weights (as SAELens does when training ends), so the model takes raw activations; SAELens' load_from_disk of this checkpoint applies no scaling and expects inputs already multiplied by ${s}`);
  } else if (transcoder && cfg.normalizeActivations !== "none") {
    // SAELens transcoders normalize the input and leave the output as decoded; sae-edge's normalization is undone on decode.
    fail("CHECKPOINT_UNSUPPORTED", `SAELens ${cfg.architecture} with normalize_activations "${cfg.normalizeActivations}" is not supported: it normalizes the input but not the output`);
  } else if (cfg.normalizeActivations === "layer_norm" || cfg.normalizeActivations === "constant_norm_rescale") {
    w.normalization = cfg.normalizeActivations; // per row, undone on decode
  } else if (cfg.normalizeActivations !== "none") {
    fail("CHECKPOINT_UNSUPPORTED", `normalize_activations "${cfg.normalizeActivations}" is not supported`);
  }

  if (cfg.architecture === "topk" && cfg.rescaleActsByDecoderNorm) {
    // As SAELens fold_W_dec_norm: unit decoder rows, encoder columns and b_enc times the norm.
    // The norms come from the decoder as it loads (decoder first; else it is loaded for them).
    let norms: Float64Array | undefined;
    const decoder = w.W_dec;
    const normsOf = async () => norms ?? (await loadTensor(w.W_dec), norms!);
    w.W_dec = mapTensor(decoder, (W) => {
      norms = new Float64Array(dSae);
      for (let j = 0; j < dSae; j++) {
        let nrm = 0;
        for (let i = 0; i < dOut; i++) nrm += W[j * dOut + i] ** 2;
        norms[j] = Math.sqrt(nrm);
        // A zero decoder row zeroes the latent's pre-activation in SAELens too: it never fires.
        if (norms[j] > 0) scaleRow(W, j, dOut, 1 / norms[j]);
      }
    });
    w.W_enc = mapTensor(w.W_enc, async (W) => {
      const n = await normsOf();
      for (let i = 0; i < dIn; i++) for (let j = 0; j < dSae; j++) W[i * dSae + j] *= n[j];
    });
    w.b_enc = mapTensor(w.b_enc, async (b) => {
      const n = await normsOf();
      for (let j = 0; j < dSae; j++) b[j] *= n[j];
    });
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
    warnings,
    provenance: {
      source_format: "saelens",
      source: files.location,
      saelens_architecture: cfg.architecture,
      saelens_config: cfg.legacy ? "pre-6.0" : "v6",
      dtype: cfg.dtype,
      // hook_z: rows are attn.hook_z's [n_heads, d_head] flattened row-major, as SAELens' reshape_fn_in lays them out.
      ...(cfg.reshapeActivations !== "none" ? { reshape_activations: cfg.reshapeActivations } : {}),
      ...(cfg.unknownKeys.length ? { unknown_config_keys: cfg.unknownKeys } : {}),
      ...(unreadTensors.length ? { unread_tensors: unreadTensors } : {}),
      ...(folded.length ? { folded } : {}),
      ...cfg.metadata,
    },
  };
}

function scaleRow(m: Float32Array, row: number, width: number, s: number): void {
  for (let i = 0; i < width; i++) m[row * width + i] *= s;
}
