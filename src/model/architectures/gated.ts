// Gated SAE (Rajamanoharan et al. 2024): the gate π = W_encᵀx' + b_gate decides which latents
// fire; a firing latent's value is the magnitude path exp(r_mag)·(W_encᵀx') + b_mag.
import { fail } from "../../base/errors.js";
import type { ArchitectureDef } from "./types.js";

export const gated = {
  name: "gated",
  activation: "gated",
  latentTensors: ["b_gate", "r_mag", "b_mag"],
  derivedTensors: ["mag_scale", "mag_bias"],
  slots: { bias: "b_gate", magScale: "mag_scale", magBias: "mag_bias" },
  prepare(tensor, dSae) {
    // With h = π, the magnitude path is exp(r_mag)·(π − b_gate) + b_mag: one scale and one bias per latent.
    const bGate = tensor("b_gate"), rMag = tensor("r_mag"), bMag = tensor("b_mag");
    const scale = tensor("mag_scale"), bias = tensor("mag_bias");
    for (let j = 0; j < dSae; j++) {
      const e = Math.exp(rMag[j]!);
      if (!Number.isFinite(e)) fail("MODEL_INVALID", `r_mag[${j}] = ${rMag[j]} overflows exp()`);
      scale[j] = e;
      bias[j] = bMag[j]! - e * bGate[j]!;
    }
  },
  saelensConfig: () => ({}),
} as const satisfies ArchitectureDef;
