// TopK SAE: the k largest positive pre-activations, others zero.
import type { ArchitectureDef } from "./types.js";

export const topk = {
  name: "topk",
  activation: "topk",
  k: { meaning: "1 <= k <= d_sae", valid: (k, dSae) => Number.isInteger(k) && k >= 1 && k <= dSae },
  latentTensors: ["b_enc"],
  slots: { bias: "b_enc" },
  saelensConfig: (w) => ({ k: w.k, rescale_acts_by_decoder_norm: false }),
} as const satisfies ArchitectureDef;
