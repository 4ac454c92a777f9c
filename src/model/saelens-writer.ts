// Writes an SAE as a SAELens checkpoint folder (v6 cfg.json + sae_weights.safetensors,
// float32), so what sae-edge trained loads in SAELens and round-trips through our importer.
import { fail } from "../base/errors.js";
import { architecture } from "./architectures/index.js";
import type { SaeWeights } from "./quantize.js";
import { serializeSafetensors, type TensorToWrite } from "../format/safetensors.js";

export function saeLensCheckpoint(w: SaeWeights, metadata: Record<string, unknown> = {}): Record<string, Uint8Array> {
  const arch = architecture(w.architecture);
  if (!arch.saelensConfig) fail("INVALID_ARGUMENT", `SAELens has no ${w.architecture} architecture`);
  const cfg: Record<string, unknown> = {
    architecture: w.architecture,
    d_in: w.dIn,
    d_sae: w.dSae,
    dtype: "float32",
    device: "cpu",
    apply_b_dec_to_input: w.applyBDecToInput,
    normalize_activations: "none",
    reshape_activations: "none",
    ...arch.saelensConfig(w),
    metadata: { sae_lens_version: "6.0.0", ...metadata },
  };
  const t = (shape: number[], data: Float32Array): TensorToWrite => ({ dtype: "F32", shape, data });
  // SAELens names each architecture's per-latent parameters as sae-edge does (b_enc, threshold, b_gate, …).
  const latent = (name: string) => t([w.dSae], (w as unknown as Record<string, Float32Array>)[name]!);
  const [bias, ...rest] = arch.latentTensors;
  const tensors: Record<string, TensorToWrite> = {
    W_enc: t([w.dIn, w.dSae], w.W_enc),
    [bias!]: latent(bias!),
    W_dec: t([w.dSae, w.dIn], w.W_dec),
    b_dec: t([w.dIn], w.b_dec),
  };
  for (const name of rest) tensors[name] = latent(name);
  return {
    "cfg.json": new TextEncoder().encode(JSON.stringify(cfg, null, 2) + "\n"),
    "sae_weights.safetensors": serializeSafetensors(tensors),
  };
}
