// Random weights for every architecture (the common helper makes standard, TopK and JumpReLU ones).
import type { Architecture, SaeWeights } from "../../src/adapters/node/index.js";
import { randomWeights } from "../helpers/common.mjs";
import { makeRng } from "../reference/rng.js";

/** k: TopK's k, or GroupMax's number of groups; ignored by the others. */
export function weightsFor(architecture: Architecture, dIn: number, dSae: number, k: number, seed: number, extra: Partial<SaeWeights> = {}): SaeWeights {
  const base = architecture === "gated" || architecture === "groupmax" ? "standard" : architecture;
  const { b_enc, ...w } = randomWeights({ architecture: base, dIn, dSae, k, seed }) as unknown as SaeWeights & { b_enc: Float32Array };
  const rng = makeRng(seed + 1);
  const biases = architecture === "gated"
    ? { b_gate: b_enc, r_mag: rng.normals(dSae, 0.3), b_mag: rng.normals(dSae, 0.2) }
    : { b_enc };
  return { ...w, ...biases, architecture, k: architecture === "groupmax" || architecture === "topk" ? k : 0, ...extra } as SaeWeights;
}
