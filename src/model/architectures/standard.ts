// ReLU SAE: z = ReLU(W_encᵀx' + b_enc).
import type { ArchitectureDef } from "./types.js";

export const standard = {
  name: "standard",
  activation: "standard",
  latentTensors: ["b_enc"],
  slots: { bias: "b_enc" },
  saelensConfig: () => ({}),
} as const satisfies ArchitectureDef;
