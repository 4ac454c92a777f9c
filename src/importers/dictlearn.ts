// saprmarks/dictionary_learning: ae.pt + config.json ({"trainer": {"dict_class", …}}), read as
// utils.load_dictionary reads it (each class's from_pretrained): AutoEncoder (ReLU, `bias`
// subtracted and added back; from_pretrained normalizes decoder columns by default),
// AutoEncoderNew, GatedAutoEncoder, JumpReluAutoEncoder, AutoEncoderTopK (TopK), and
// BatchTopKSAE / MatryoshkaBatchTopKSAE, whose encode keeps ReLU values above the tracked
// threshold. Final saves take raw activations (training folded norm_factor in with
// scale_biases); a mid-training backup ({"ae": state_dict, "norm_factor", …}) is folded here the same way.
import { parseJsonObject } from "../format/json-object.js";
import { fail } from "../base/errors.js";
import type { SaeWeights } from "../model/quantize.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";
import { f32, readStateDict, stateDictOf, transposed, unreadWarning, type StateDict } from "./torch-state.js";

const AE = "ae.pt";
const CONFIG = "config.json";
const CLASSES = ["AutoEncoder", "AutoEncoderNew", "GatedAutoEncoder", "JumpReluAutoEncoder", "AutoEncoderTopK", "BatchTopKSAE", "MatryoshkaBatchTopKSAE"];

export const dictlearn: Importer = {
  family: "dictlearn",
  async detect(files) {
    const names = await files.list();
    return names.includes(AE) && names.includes(CONFIG);
  },
  async load(files: CheckpointFiles): Promise<ImportedSae> {
    const names = await files.list();
    for (const f of [AE, CONFIG]) if (!names.includes(f)) fail("CHECKPOINT_INVALID", `${files.location}: no ${f}`);
    const config = parseJsonObject(await files.read(CONFIG), CONFIG) as { trainer?: Record<string, unknown> };
    const warnings: string[] = [];
    const folded: string[] = [];
    const t = config.trainer ?? {};
    const saved = await readStateDict(files, AE);
    let sd = saved;
    // training.py's backup_steps save: the state dict under "ae", trained on activations divided by norm_factor.
    const backup = saved.entries.get("ae");
    let normFactor: number | undefined;
    if (backup instanceof Map) {
      sd = stateDictOf(backup, `${AE} ["ae"]`);
      const nf = saved.entries.get("norm_factor");
      if (nf !== null && nf !== undefined) normFactor = typeof nf === "number" ? nf : fail("CHECKPOINT_INVALID", `${AE}: norm_factor must be a number`);
      warnings.push(`${AE} is a training backup (step ${String(saved.entries.get("step"))}), not a final save`);
    }
    if (t.dict_class === undefined) warnings.push(`${CONFIG} names no trainer.dict_class: read as AutoEncoder`);
    const cls = String(t.dict_class ?? "AutoEncoder");
    if (!CLASSES.includes(cls)) fail("CHECKPOINT_UNSUPPORTED", `dictionary_learning dict_class ${cls} is not supported (supported: ${CLASSES.join(", ")})`);
    let w = weightsOf(cls, sd, t, warnings, folded);
    // Matryoshka's group_sizes change nothing at inference (every group is active); AutoEncoderTopK's
    // default encode (use_threshold=False) does not use its threshold.
    warnings.push(...unreadWarning(sd, ["group_sizes", ...(cls === "AutoEncoderTopK" ? ["threshold"] : [])]));
    if (normFactor !== undefined) {
      if (!(normFactor > 0 && Number.isFinite(normFactor))) fail("CHECKPOINT_INVALID", `${AE}: norm_factor must be a positive number`);
      w = scaleBiases(w, normFactor);
      folded.push(`norm_factor ${normFactor} (scale_biases, as the final save does)`);
    }
    return {
      weights: w,
      warnings,
      provenance: {
        source_format: "dictlearn", source: files.location, dict_class: cls,
        ...(t.lm_name ? { model_name: t.lm_name } : {}), ...(t.layer !== undefined ? { layer: t.layer } : {}), ...(t.submodule_name ? { submodule_name: t.submodule_name } : {}),
        ...(typeof t.norm_factor === "number" ? { norm_factor: t.norm_factor } : {}), ...(folded.length ? { folded } : {}),
      },
    };
  },
};

function weightsOf(cls: string, sd: StateDict, t: Record<string, unknown>, warnings: string[], folded: string[]): SaeWeights {
  const linear = () => {
    const enc = sd.tensor("encoder.weight");
    if (enc.shape.length !== 2) fail("CHECKPOINT_INVALID", `${sd.file}: encoder.weight must be 2-D`);
    const [dSae, dIn] = enc.shape;
    return { dIn, dSae, W_enc: transposed(enc), W_dec: transposed(sd.tensor("decoder.weight", [dIn, dSae])) };
  };
  if (cls === "AutoEncoder") {
    const { dIn, dSae, W_enc, W_dec } = linear();
    const w: SaeWeights = { architecture: "standard", dIn, dSae, k: 0, applyBDecToInput: true, W_enc, b_enc: f32(sd.tensor("encoder.bias", [dSae])).slice(), W_dec, b_dec: f32(sd.tensor("bias", [dIn])) };
    if (normalizeDecoder(w)) folded.push("decoder column norms (AutoEncoder.from_pretrained normalize_decoder=True)");
    return w;
  }
  if (cls === "AutoEncoderNew") {
    // encode = ReLU(encoder(x)), decode = decoder(f): nothing subtracted from the input.
    const { dIn, dSae, W_enc, W_dec } = linear();
    return { architecture: "standard", dIn, dSae, k: 0, applyBDecToInput: false, W_enc, b_enc: f32(sd.tensor("encoder.bias", [dSae])), W_dec, b_dec: f32(sd.tensor("decoder.bias", [dIn])) };
  }
  if (cls === "GatedAutoEncoder") {
    const { dIn, dSae, W_enc, W_dec } = linear();
    return {
      architecture: "gated", dIn, dSae, k: 0, applyBDecToInput: true, W_enc, b_enc: new Float32Array(dSae), W_dec, b_dec: f32(sd.tensor("decoder_bias", [dIn])),
      b_gate: f32(sd.tensor("gate_bias", [dSae])), r_mag: f32(sd.tensor("r_mag", [dSae])), b_mag: f32(sd.tensor("mag_bias", [dSae])),
    };
  }
  if (cls === "JumpReluAutoEncoder") {
    const W = sd.tensor("W_enc");
    const [dIn, dSae] = W.shape;
    // from_pretrained leaves apply_b_dec_to_input False (only its SAELens path sets it).
    return {
      architecture: "jumprelu", dIn, dSae, k: 0, applyBDecToInput: Boolean(t.apply_b_dec_to_input ?? false),
      W_enc: f32(W), b_enc: f32(sd.tensor("b_enc", [dSae])), W_dec: f32(sd.tensor("W_dec", [dSae, dIn])), b_dec: f32(sd.tensor("b_dec", [dIn])), threshold: f32(sd.tensor("threshold", [dSae])),
    };
  }
  // The TopK family: k from the state dict, which load_dictionary checks against the config's.
  const stateK = sd.has("k") ? sd.tensor("k").data[0] : undefined;
  if (stateK !== undefined && t.k !== undefined && Number(t.k) !== stateK) fail("CHECKPOINT_INVALID", `${sd.file}: k=${stateK}, but ${CONFIG} says k=${String(t.k)} (from_pretrained refuses this too)`);
  const k = stateK ?? Number(t.k);
  const enc = cls === "MatryoshkaBatchTopKSAE"
    ? (() => {
        const W = sd.tensor("W_enc");
        const [dIn, dSae] = W.shape;
        return { dIn, dSae, W_enc: f32(W), b_enc: f32(sd.tensor("b_enc", [dSae])), W_dec: f32(sd.tensor("W_dec", [dSae, dIn])) };
      })()
    : (() => {
        const l = linear();
        return { ...l, b_enc: f32(sd.tensor("encoder.bias", [l.dSae])) };
      })();
  const base = { ...enc, applyBDecToInput: true, b_dec: f32(sd.tensor("b_dec", [enc.dIn])) };
  if (cls === "AutoEncoderTopK") return { ...base, architecture: "topk", k };
  // BatchTopK encode (use_threshold=True): ReLU(pre) · [ReLU(pre) > threshold].
  const threshold = sd.has("threshold") ? sd.tensor("threshold").data[0] : -1;
  if (threshold < 0) {
    warnings.push(`${cls} threshold is ${threshold} (never tracked): its encode keeps every positive pre-activation, so it runs as a dense ReLU (standard) SAE, not TopK(k=${k})`);
    return { ...base, architecture: "standard", k: 0 };
  }
  return { ...base, architecture: "jumprelu", k: 0, threshold: new Float32Array(enc.dSae).fill(threshold) };
}

/** AutoEncoder.normalize_decoder: unit decoder columns, encoder rows and bias times the norms (skipped when all are ≈1, as upstream). */
function normalizeDecoder(w: SaeWeights): boolean {
  const { dIn, dSae } = w;
  const norms = new Float64Array(dSae);
  for (let j = 0; j < dSae; j++) {
    let s = 0;
    for (let i = 0; i < dIn; i++) s += w.W_dec[j * dIn + i] ** 2;
    norms[j] = Math.sqrt(s);
  }
  // torch.allclose(norms, 1): |n − 1| ≤ 1e-8 + 1e-5.
  if (norms.every((n) => Math.abs(n - 1) <= 1e-8 + 1e-5)) return false;
  for (let j = 0; j < dSae; j++) {
    const n = norms[j];
    if (!(n > 0)) fail("CHECKPOINT_INVALID", `decoder column ${j} has zero norm: AutoEncoder.from_pretrained cannot normalize it (it divides by the norm)`);
    for (let i = 0; i < dIn; i++) w.W_dec[j * dIn + i] /= n;
    for (let i = 0; i < dIn; i++) w.W_enc[i * dSae + j] *= n;
    w.b_enc[j] *= n;
  }
  return true;
}

/** Each class's scale_biases(norm_factor): a ReLU-family SAE on x/n equals one with biases (and threshold) times n on x. */
function scaleBiases(w: SaeWeights, n: number): SaeWeights {
  const out = { ...w, b_enc: w.b_enc.map((v) => v * n), b_dec: w.b_dec.map((v) => v * n) };
  if (w.b_gate) out.b_gate = w.b_gate.map((v) => v * n);
  if (w.b_mag) out.b_mag = w.b_mag.map((v) => v * n);
  if (w.threshold) out.threshold = w.threshold.map((v) => v * n);
  return out;
}
