// GroupMax (sparsify): latents in k equal groups; each group's largest positive pre-activation fires.
import type { ArchitectureDef } from "./types.js";

export const groupmax = {
  name: "groupmax",
  activation: "groupmax",
  k: { meaning: "k groups dividing d_sae", valid: (k, dSae) => Number.isInteger(k) && k >= 1 && dSae % k === 0 },
  latentTensors: ["b_enc"],
  slots: { bias: "b_enc" },
} as const satisfies ArchitectureDef;
