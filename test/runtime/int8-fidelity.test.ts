// int8 active sets against the exact path (float64 reference of the f32 encoder): offset folding
// (x_offset, docs/model-format.md) and near-boundary rescoring (docs/kernels.md) on inputs that
// share a large offset, and a ReLU SAE whose pre-activations crowd around zero.
import { describe, expect, it } from "vitest";
import { buildModel, inputMean, loadSae, serializeModel, type Sae, type SaeWeights } from "../../src/adapters/node/index.js";
import { csrRows, makeRng, plantedDictionary, preactF64, shiftInput, transpose } from "../reference/index.js";

const dIn = 200, dSae = 1024;

/** Recall and precision of got's active sets against the exact ones, pooled over rows. */
function activeSets(sae: Sae, w: SaeWeights, x: Float32Array, n: number): { recall: number; precision: number } {
  const exact = preactF64(w.W_enc, w.b_enc, dIn, dSae, shiftInput(x, n, dIn, w.applyBDecToInput ? w.b_dec : null), n).v;
  const rows = csrRows(sae.encode(x, n));
  let both = 0, want = 0, got = 0;
  for (let r = 0; r < n; r++) {
    const have = new Set(rows[r].indices);
    got += have.size;
    for (let j = 0; j < dSae; j++) {
      const bar = w.threshold ? Math.max(0, w.threshold[j]) : 0;
      if (exact[r * dSae + j] > bar) {
        want++;
        if (have.has(j)) both++;
      }
    }
  }
  return { recall: both / want, precision: both / got };
}

/** A planted dictionary (encoder = decoderᵀ) whose inputs share the offset μ, cancelled by b_enc = −W_encᵀμ as training would. */
function planted(seed: number, offset: number, rows: number) {
  const p = plantedDictionary({ dIn, dSae, rows: 2 * rows, active: 12, amplitude: [0.5, 3], noise: 0.02, seed });
  const rng = makeRng(seed + 1);
  const mu = Float32Array.from(rng.normals(dIn, offset));
  const x = Float32Array.from(p.x, (v, i) => v + mu[i % dIn]);
  const W_enc = transpose(p.atoms, dSae, dIn);
  const b_enc = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) {
    let s = 0;
    for (let i = 0; i < dIn; i++) s += W_enc[i * dSae + j] * mu[i];
    b_enc[j] = -s;
  }
  return { x: x.subarray(0, rows * dIn), calib: x.subarray(rows * dIn), W_enc, b_enc, W_dec: p.atoms };
}

describe("int8 fidelity against the exact path", () => {
  it("planted JumpReLU, d_in 200, large input offset: recall and precision >= 0.995 with x_offset folded", async () => {
    const rows = 400;
    const p = planted(71, 10, rows);
    const rng = makeRng(72);
    const threshold = Float32Array.from({ length: dSae }, () => 0.3 + 0.4 * rng.uniform(0, 1));
    const w: SaeWeights = { architecture: "jumprelu", dIn, dSae, k: 0, applyBDecToInput: false, W_enc: p.W_enc, b_enc: p.b_enc, W_dec: p.W_dec, b_dec: new Float32Array(dIn), threshold };
    const plain = activeSets(await loadSae(serializeModel(buildModel(w, "int8"))), w, p.x, rows);
    const folded = activeSets(await loadSae(serializeModel(buildModel({ ...w, xOffset: inputMean(w, p.calib) }, "int8"))), w, p.x, rows);
    console.log(`jumprelu offset 10: unfolded recall ${plain.recall.toFixed(4)} precision ${plain.precision.toFixed(4)}; folded ${folded.recall.toFixed(4)} / ${folded.precision.toFixed(4)}`);
    expect(folded.recall).toBeGreaterThanOrEqual(0.995);
    expect(folded.precision).toBeGreaterThanOrEqual(0.995);
    expect(folded.recall).toBeGreaterThan(plain.recall);
  });

  it("standard ReLU with pre-activations crowding zero: near-zero latents decided by their rescored values", async () => {
    const rows = 300;
    const p = planted(81, 0, rows);
    // Biases that put most latents just below zero on typical rows.
    const rng = makeRng(82);
    const b_enc = Float32Array.from(p.b_enc, () => -0.05 * rng.uniform(0, 1));
    const w: SaeWeights = { architecture: "standard", dIn, dSae, k: 0, applyBDecToInput: false, W_enc: p.W_enc, b_enc, W_dec: p.W_dec, b_dec: new Float32Array(dIn) };
    const s = activeSets(await loadSae(serializeModel(buildModel(w, "int8"))), w, p.x, rows);
    console.log(`standard near zero: recall ${s.recall.toFixed(4)} precision ${s.precision.toFixed(4)}`);
    expect(s.recall).toBeGreaterThanOrEqual(0.99);
    expect(s.precision).toBeGreaterThanOrEqual(0.99);
  });
});

describe("x_offset in the model file", () => {
  const p = planted(91, 2, 8);
  const w: SaeWeights = { architecture: "standard", dIn, dSae, k: 0, applyBDecToInput: true, W_enc: p.W_enc, b_enc: p.b_enc, W_dec: p.W_dec, b_dec: Float32Array.from({ length: dIn }, (_, i) => 0.01 * (i % 5)) };

  it("is written for int8 only, with its fold, and loads back", async () => {
    expect(Object.keys(buildModel({ ...w, xOffset: inputMean(w, p.calib) }, "f32").tensors)).not.toContain("x_offset");
    const m = buildModel({ ...w, xOffset: inputMean(w, p.calib) }, "int8");
    expect(m.tensors.x_offset.shape).toEqual([dIn]);
    expect(m.tensors.x_offset_fold.shape).toEqual([dSae]);
    expect((await loadSae(serializeModel(m))).info.xOffset).toBe(true);
  });

  it("a file with x_offset but no fold, or a fold of the wrong shape, is MODEL_INVALID", async () => {
    const m = buildModel({ ...w, xOffset: inputMean(w, p.calib) }, "int8");
    const { x_offset_fold, ...rest } = m.tensors;
    await expect(loadSae(serializeModel({ ...m, tensors: rest }))).rejects.toMatchObject({ code: "MODEL_INVALID" });
    const short = { ...x_offset_fold, shape: [dSae - 1], data: (x_offset_fold.data as Float32Array).subarray(1) };
    await expect(loadSae(serializeModel({ ...m, tensors: { ...rest, x_offset_fold: short } }))).rejects.toMatchObject({ code: "MODEL_INVALID" });
  });

  it("inputMean refuses rows of the wrong width", () => {
    expect(() => inputMean(w, new Float32Array(3 * dIn), dIn + 1)).toThrow(expect.objectContaining({ code: "INPUT_SHAPE" }));
    expect(() => inputMean(w, new Float32Array(dIn + 1))).toThrow(expect.objectContaining({ code: "INPUT_SHAPE" }));
  });
});

