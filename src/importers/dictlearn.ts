// saprmarks/dictionary_learning: ae.pt + config.json ({"trainer": {"dict_class", …}}).
// AutoEncoder (ReLU, `bias` subtracted and added back), GatedAutoEncoder, AutoEncoderTopK, BatchTopKSAE and
// MatryoshkaBatchTopKSAE (the tracked scalar threshold at inference, else TopK),
// JumpReluAutoEncoder. Saved dictionaries take raw activations (scale_biases folds norm_factor).
import { fail } from "../base/errors.js";
import type { SaeWeights } from "../model/quantize.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";
import { f32, readStateDict, transposed, type StateDict } from "./torch-state.js";

const AE = "ae.pt";
const CONFIG = "config.json";

function topkFamily(sd: StateDict, dIn: number, dSae: number, k: number, enc: { W_enc: Float32Array; b_enc: Float32Array; W_dec: Float32Array }, batch: boolean): SaeWeights {
  const b_dec = f32(sd.tensor("b_dec", [dIn]));
  const threshold = sd.has("threshold") ? sd.tensor("threshold").data[0] : -1;
  if (batch && threshold >= 0) {
    // BatchTopK at inference: relu(pre) * (relu(pre) > threshold), a JumpReLU with one threshold.
    return { architecture: "jumprelu", dIn, dSae, k: 0, applyBDecToInput: true, ...enc, b_dec, threshold: new Float32Array(dSae).fill(threshold) };
  }
  return { architecture: "topk", dIn, dSae, k, applyBDecToInput: true, ...enc, b_dec };
}

export const dictlearn: Importer = {
  family: "dictlearn",
  async detect(files) {
    const names = await files.list();
    return names.includes(AE) && names.includes(CONFIG);
  },
  async load(files: CheckpointFiles): Promise<ImportedSae> {
    const names = await files.list();
    for (const f of [AE, CONFIG]) if (!names.includes(f)) fail("CHECKPOINT_INVALID", `${files.location}: no ${f}`);
    let config: { trainer?: Record<string, unknown> };
    try {
      config = JSON.parse(new TextDecoder().decode(await files.read(CONFIG)));
    } catch (e) {
      return fail("CHECKPOINT_INVALID", `${CONFIG} is not valid JSON: ${(e as Error).message}`);
    }
    const t = config.trainer ?? {};
    const cls = String(t.dict_class ?? "AutoEncoder");
    const sd = await readStateDict(files, AE);
    let w: SaeWeights;
    if (cls === "AutoEncoder") {
      const enc = sd.tensor("encoder.weight");
      const [dSae, dIn] = enc.shape;
      const bias = f32(sd.tensor("bias", [dIn]));
      w = { architecture: "standard", dIn, dSae, k: 0, applyBDecToInput: true, W_enc: transposed(enc), b_enc: f32(sd.tensor("encoder.bias", [dSae])), W_dec: transposed(sd.tensor("decoder.weight", [dIn, dSae])), b_dec: bias };
    } else if (cls === "AutoEncoderTopK" || cls === "BatchTopKSAE") {
      const enc = sd.tensor("encoder.weight");
      const [dSae, dIn] = enc.shape;
      const k = sd.has("k") ? sd.tensor("k").data[0] : Number(t.k);
      w = topkFamily(sd, dIn, dSae, k, { W_enc: transposed(enc), b_enc: f32(sd.tensor("encoder.bias", [dSae])), W_dec: transposed(sd.tensor("decoder.weight", [dIn, dSae])) }, cls === "BatchTopKSAE");
    } else if (cls === "MatryoshkaBatchTopKSAE") {
      const W = sd.tensor("W_enc");
      const [dIn, dSae] = W.shape;
      const k = sd.has("k") ? sd.tensor("k").data[0] : Number(t.k);
      w = topkFamily(sd, dIn, dSae, k, { W_enc: f32(W), b_enc: f32(sd.tensor("b_enc", [dSae])), W_dec: f32(sd.tensor("W_dec", [dSae, dIn])) }, true);
    } else if (cls === "GatedAutoEncoder") {
      const enc = sd.tensor("encoder.weight");
      const [dSae, dIn] = enc.shape;
      w = {
        architecture: "gated", dIn, dSae, k: 0, applyBDecToInput: true,
        W_enc: transposed(enc), b_enc: new Float32Array(dSae), W_dec: transposed(sd.tensor("decoder.weight", [dIn, dSae])), b_dec: f32(sd.tensor("decoder_bias", [dIn])),
        b_gate: f32(sd.tensor("gate_bias", [dSae])), r_mag: f32(sd.tensor("r_mag", [dSae])), b_mag: f32(sd.tensor("mag_bias", [dSae])),
      };
    } else if (cls === "JumpReluAutoEncoder") {
      const W = sd.tensor("W_enc");
      const [dIn, dSae] = W.shape;
      w = {
        architecture: "jumprelu", dIn, dSae, k: 0, applyBDecToInput: Boolean(t.apply_b_dec_to_input ?? false),
        W_enc: f32(W), b_enc: f32(sd.tensor("b_enc", [dSae])), W_dec: f32(sd.tensor("W_dec", [dSae, dIn])), b_dec: f32(sd.tensor("b_dec", [dIn])), threshold: f32(sd.tensor("threshold", [dSae])),
      };
    } else {
      return fail("CHECKPOINT_UNSUPPORTED", `dictionary_learning dict_class ${cls} is not supported yet`);
    }
    return { weights: w, provenance: { source_format: "dictlearn", source: files.location, dict_class: cls, ...(t.lm_name ? { model_name: t.lm_name } : {}), ...(t.layer !== undefined ? { layer: t.layer } : {}) } };
  },
};
