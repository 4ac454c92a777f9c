// What an architecture is to sae-edge: a kernel activation, the per-latent tensors it stores,
// what its k means, and how its stored tensors fold into what the kernel reads.

/** The activations the kernels implement (assembly/epilogue.ts; codes in src/runtime/abi.ts). */
export type KernelActivation = "standard" | "topk" | "jumprelu" | "gated" | "groupmax";

/** The per-latent f32 slots the kernel epilogue reads, besides the encoder scales. */
export interface KernelSlots {
  /** Added to each pre-activation (b_enc, or gated's b_gate). */
  bias: string;
  /** Per-latent bars a pre-activation must pass (JumpReLU). */
  threshold?: string;
  /** Gated: a value that passes is replaced by magScale·h + magBias. */
  magScale?: string;
  magBias?: string;
}

export interface ArchitectureDef {
  /** The model file's `architecture` metadata value. */
  readonly name: string;
  readonly activation: KernelActivation;
  /** What k means (TopK's k, GroupMax's number of groups); absent: k is 0. */
  readonly k?: { readonly meaning: string; valid(k: number, dSae: number): boolean };
  /** Per-latent f32 tensors the model file stores (SaeWeights fields of the same names). */
  readonly latentTensors: readonly string[];
  /** Per-latent f32 regions computed at load from the stored ones (by prepare). */
  readonly derivedTensors?: readonly string[];
  readonly slots: KernelSlots;
  /**
   * Folds the stored tensors into what the kernel reads, in wasm memory at load (views by name,
   * d_sae values each). Throws MODEL_INVALID for values the fold cannot take.
   */
  prepare?(tensor: (name: string) => Float32Array, dSae: number): void;
  /** SAELens cfg.json fields of its own, when written as a SAELens checkpoint (absent: no such SAELens architecture). */
  saelensConfig?(w: { k: number }): Record<string, unknown>;
}
