// Writes an SAE as a SAELens checkpoint folder (v6 cfg.json + sae_weights.safetensors,
// float32), so what sae-edge trained loads in SAELens and round-trips through our importer.
import type { SaeWeights } from "./quantize.js";
import { serializeSafetensors, type TensorToWrite } from "../format/safetensors.js";

export function saeLensCheckpoint(w: SaeWeights, metadata: Record<string, unknown> = {}): Record<string, Uint8Array> {
  const cfg: Record<string, unknown> = {
    architecture: w.architecture,
    d_in: w.dIn,
    d_sae: w.dSae,
    dtype: "float32",
    device: "cpu",
    apply_b_dec_to_input: w.applyBDecToInput,
    normalize_activations: "none",
    reshape_activations: "none",
    ...(w.architecture === "topk" ? { k: w.k, rescale_acts_by_decoder_norm: false } : {}),
    metadata: { sae_lens_version: "6.0.0", ...metadata },
  };
  const t = (shape: number[], data: Float32Array): TensorToWrite => ({ dtype: "F32", shape, data });
  const tensors: Record<string, TensorToWrite> = {
    W_enc: t([w.dIn, w.dSae], w.W_enc),
    b_enc: t([w.dSae], w.b_enc),
    W_dec: t([w.dSae, w.dIn], w.W_dec),
    b_dec: t([w.dIn], w.b_dec),
  };
  if (w.architecture === "jumprelu") tensors.threshold = t([w.dSae], w.threshold!);
  return {
    "cfg.json": new TextEncoder().encode(JSON.stringify(cfg, null, 2) + "\n"),
    "sae_weights.safetensors": serializeSafetensors(tensors),
  };
}
