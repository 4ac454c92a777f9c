// The trainer's sparse backward against central finite differences of a float64
// loss written independently (test/reference/train-loss.ts), for every architecture.
import { describe, expect, it } from "vitest";
import { SaeTrainer } from "../../src/train/trainer.js";
import { nodeBuilds } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";
import { refLoss, refThetaGrad, refVariance, type RefLossOptions, type RefParams } from "../reference/train-loss.js";

const dIn = 7, dSae = 10, n = 5;

async function setup(architecture: "topk" | "standard" | "jumprelu", seed: number, extra: Record<string, number> = {}) {
  const r = makeRng(seed);
  const x = r.normals(n * dIn, 1);
  const trainer = await SaeTrainer.create(nodeBuilds, dIn, x, {
    architecture, dSae, k: 3, batchSize: n, seed, lr: 0.05, l1: 0.03, l0: 0.02, jumpThreshold: 0.05, jumpBandwidth: 0.05, ...extra,
  });
  // A few steps move the weights away from the symmetric init (W_enc = W_decᵀ).
  for (let s = 0; s < 3; s++) trainer.step(r.normals(n * dIn, 1));
  return { trainer, x: r.normals(n * dIn, 1), variance: refVariance(x, dIn), r };
}

function params(trainer: SaeTrainer): RefParams {
  const w = trainer.weights();
  return {
    dIn, dSae,
    W_enc: Float64Array.from(w.W_enc), b_enc: Float64Array.from(w.b_enc), W_dec: Float64Array.from(w.W_dec), b_dec: Float64Array.from(w.b_dec),
    theta: w.threshold ? Float64Array.from(w.threshold) : undefined,
  };
}

describe.each(["topk", "standard", "jumprelu"] as const)("sparse backward (%s)", (architecture) => {
  for (const seed of [1, 2, 3]) {
    it(`matches finite differences, seed ${seed}`, async () => {
      const auxExtra: Record<string, number> = architecture === "topk" ? { auxK: 4, deadAfter: 1 } : {};
      const { trainer, x, variance } = await setup(architecture, seed, auxExtra);
      const dead = Array.from(trainer.deadLatents());
      const { stats, grads } = trainer.lossAndGradients(x);
      const p = params(trainer);
      const o: RefLossOptions = {
        architecture, k: 3, l1: 0.03, l0: 0.02, auxK: architecture === "topk" ? 4 : 0, auxAlpha: 1 / 32, applyBDecToInput: true, variance, dead,
      };
      const residuals: Float64Array[] = [];
      const base = refLoss(p, x, o, undefined, residuals);
      expect(stats.loss, `seed ${seed}`).toBeCloseTo(base, 5);
      const h = 1e-4;
      let checked = 0;
      for (const [name, grad] of Object.entries(grads) as [keyof RefParams, Float32Array][]) {
        if (name === "theta" || (name as string) === "threshold") continue; // a straight-through estimate, not a derivative
        const arr = p[name] as Float64Array;
        for (let idx = 0; idx < arr.length; idx++) {
          const keep = arr[idx];
          arr[idx] = keep + h;
          const up = refLoss(p, x, o, residuals);
          arr[idx] = keep - h;
          const down = refLoss(p, x, o, residuals);
          arr[idx] = keep;
          const fd = (up - down) / (2 * h);
          const an = grad[idx];
          // Skip the rare coordinates where the step crosses an activation boundary (a kink).
          const mid = refLoss(p, x, o, residuals);
          if (Math.abs(up + down - 2 * mid) > 1e-6) continue;
          expect(Math.abs(fd - an), `${architecture} seed ${seed} ${name}[${idx}]: fd ${fd} analytic ${an}`).toBeLessThan(2e-4 + 2e-3 * Math.abs(fd));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(100);
      if (architecture === "topk") expect(dead.length, "AuxK exercised").toBeGreaterThan(0);
    });
  }
});

describe("JumpReLU threshold estimate", () => {
  it("is the rectangle-kernel straight-through estimate", async () => {
    // A wide window (in units of the data RMS) so that many (row, latent) pairs fall inside it.
    const { trainer, x, variance } = await setup("jumprelu", 5, { jumpBandwidth: 2 });
    const { grads } = trainer.lossAndGradients(x);
    const p = params(trainer);
    const o: RefLossOptions = { architecture: "jumprelu", k: 3, l1: 0.03, l0: 0.02, auxK: 0, auxAlpha: 0, applyBDecToInput: true, variance, dead: [] };
    const eps = 2 * Math.sqrt(variance / dIn);
    const want = refThetaGrad(p, x, o, eps);
    let nonzero = 0;
    for (let j = 0; j < dSae; j++) {
      expect(Math.abs(grads.threshold![j] - want[j]), `latent ${j}: ${grads.threshold![j]} vs ${want[j]}`).toBeLessThan(1e-4 + 1e-3 * Math.abs(want[j]));
      if (want[j] !== 0) nonzero++;
    }
    expect(nonzero).toBeGreaterThan(3);
  });
});
