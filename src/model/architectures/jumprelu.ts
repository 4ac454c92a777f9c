// JumpReLU SAE: h where h > threshold (per latent), else zero.
import type { ArchitectureDef } from "./types.js";

export const jumprelu = {
  name: "jumprelu",
  activation: "jumprelu",
  latentTensors: ["b_enc", "threshold"],
  slots: { bias: "b_enc", threshold: "threshold" },
  prepare(tensor) {
    // ReLU(h)·[h > θ] is active iff h > max(θ, 0): the kernel's bar is the clamped threshold.
    const t = tensor("threshold");
    for (let i = 0; i < t.length; i++) if (t[i]! < 0) t[i] = 0;
  },
  saelensConfig: () => ({}),
} as const satisfies ArchitectureDef;
