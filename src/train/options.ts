// Trainer options: defaults, and checks that give typed errors.
import { fail } from "../base/errors.js";
import type { KernelName } from "../runtime/index.js";

export type TrainArchitecture = "topk" | "standard" | "jumprelu";

export interface TrainOptions {
  architecture: TrainArchitecture;
  dSae: number;
  /** TopK k. */
  k: number;
  lr: number;
  /** Standard (ReLU) SAE: weight of mean |z| in the loss (the L1 formulation). */
  l1: number;
  /** JumpReLU: weight of the L0 penalty (straight-through estimator). */
  l0: number;
  /** JumpReLU threshold init and estimator bandwidth, in units of the data's per-dimension RMS. */
  jumpThreshold: number;
  jumpBandwidth: number;
  /** TopK: AuxK latents per row (0 = off), its loss weight, and after how many rows without firing a latent is dead. */
  auxK: number;
  auxAlpha: number;
  deadAfter: number;
  batchSize: number;
  seed: number;
  applyBDecToInput: boolean;
  kernel?: KernelName;
}

export function trainOptions(dIn: number, partial: Partial<TrainOptions> = {}): TrainOptions {
  const o: TrainOptions = {
    architecture: "topk",
    dSae: 1024,
    k: 32,
    lr: 1e-3,
    l1: 5e-3,
    l0: 1e-3,
    jumpThreshold: 0.1,
    jumpBandwidth: 0.05,
    auxK: 0,
    auxAlpha: 1 / 32,
    deadAfter: 0,
    batchSize: 256,
    seed: 0,
    applyBDecToInput: true,
    ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)),
  };
  if (!partial.auxK) o.auxK = o.architecture === "topk" ? Math.max(1, Math.min(o.dSae, Math.floor(dIn / 2))) : 0;
  if (!partial.deadAfter) o.deadAfter = 50 * o.batchSize;
  const int = (name: keyof TrainOptions, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) fail("INVALID_ARGUMENT", `${name} must be an integer in ${min}..${max}, got ${v}`);
  };
  const pos = (name: keyof TrainOptions, allowZero = false) => {
    const v = o[name] as number;
    if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) fail("INVALID_ARGUMENT", `${name} must be a ${allowZero ? "non-negative" : "positive"} number, got ${v}`);
  };
  if (!["topk", "standard", "jumprelu"].includes(o.architecture)) fail("INVALID_ARGUMENT", `architecture must be topk, standard or jumprelu, got ${o.architecture}`);
  int("dSae", 1, 1 << 20);
  if (o.architecture === "topk") int("k", 1, o.dSae);
  int("batchSize", 1, 1 << 16);
  int("seed", 0, 2 ** 32 - 1);
  int("auxK", 0, o.dSae);
  int("deadAfter", 1);
  pos("lr");
  pos("l1", true);
  pos("l0", true);
  pos("jumpThreshold");
  pos("jumpBandwidth");
  pos("auxAlpha", true);
  return o;
}
