// Training recovers a planted dictionary: data are sparse non-negative sums of
// known unit atoms; a TopK SAE trained from a fixed seed must find ≥ 90% of the
// atoms at cosine ≥ 0.9 (each atom matched by its best decoder row).
import { describe, expect, it } from "vitest";
import { nodeBuilds } from "../../src/adapters/node/index.js";
import { matrixBatches, trainSae } from "../../src/train/train-loop.js";
import { makeRng } from "../reference/rng.js";

function planted(seed: number, dIn: number, atoms: number, active: number, rows: number) {
  const r = makeRng(seed);
  const dict = r.normals(atoms * dIn, 1);
  for (let j = 0; j < atoms; j++) {
    let s = 0;
    for (let i = 0; i < dIn; i++) s += dict[j * dIn + i] ** 2;
    for (let i = 0; i < dIn; i++) dict[j * dIn + i] /= Math.sqrt(s);
  }
  const x = new Float32Array(rows * dIn);
  for (let row = 0; row < rows; row++) {
    const used = new Set<number>();
    while (used.size < active) used.add(r.int(atoms));
    for (const j of used) {
      const a = r.uniform(0.5, 1.5);
      for (let i = 0; i < dIn; i++) x[row * dIn + i] += a * dict[j * dIn + i];
    }
    for (let i = 0; i < dIn; i++) x[row * dIn + i] += 0.01 * r.normal();
  }
  return { dict, x };
}

describe("training on a planted dictionary", () => {
  it("recovers ≥ 90% of the atoms at cosine ≥ 0.9 (TopK, seed 3)", async () => {
    const dIn = 32, atoms = 48, active = 3, rows = 4096, seed = 3;
    const { dict, x } = planted(seed, dIn, atoms, active, rows);
    const { trainer, epochs } = await trainSae(nodeBuilds, {
      dIn, epochs: 12, batches: matrixBatches(x, dIn, 128, seed),
      options: { architecture: "topk", dSae: 96, k: active, batchSize: 128, lr: 3e-3, seed },
    });
    const w = trainer.weights();
    let found = 0;
    for (let a = 0; a < atoms; a++) {
      let best = -1;
      for (let j = 0; j < w.dSae; j++) {
        let c = 0;
        for (let i = 0; i < dIn; i++) c += dict[a * dIn + i] * w.W_dec[j * dIn + i];
        best = Math.max(best, c);
      }
      if (best >= 0.9) found++;
    }
    const last = epochs[epochs.length - 1];
    console.log(`planted recovery: ${found}/${atoms} atoms at cos >= 0.9; final FVU ${last.fvu.toFixed(4)}, L0 ${last.l0.toFixed(2)}`);
    expect(found / atoms).toBeGreaterThanOrEqual(0.9);
    expect(last.fvu).toBeLessThan(0.1);
  });
});
