// Metrics against hand-computed values (ties included).
import { describe, expect, it } from "vitest";
import { auprc, auroc, rocCurve } from "../../src/metrics/detection.js";
import { ReconstructionMetricsAccumulator } from "../../src/metrics/reconstruction.js";

describe("detection metrics", () => {
  const scores = [0.9, 0.8, 0.8, 0.3, 0.1];
  const labels = [1, 0, 1, 0, 0];

  it("AUROC counts a tied anomaly/normal pair as half", () => {
    // anomaly 0.9 beats 3 normals; anomaly 0.8 ties one (0.5) and beats two: 5.5 of 6 pairs
    expect(auroc(scores, labels)).toBeCloseTo(5.5 / 6, 12);
    expect(auroc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
    expect(auroc([1, 2, 3], [0, 0, 1])).toBe(1);
    expect(auroc([1, 2, 3], [1, 0, 0])).toBe(0);
  });

  it("AUPRC steps once per distinct score", () => {
    // 0.9: recall 1/2 at precision 1; 0.8 group: recall 2/2 at precision 2/3
    expect(auprc(scores, labels)).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
    expect(auprc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
  });

  it("ROC curve has one point per distinct score", () => {
    const roc = rocCurve(scores, labels);
    expect(roc.map((p) => [p.fpr, p.tpr])).toEqual([[0, 0], [0, 0.5], [1 / 3, 1], [2 / 3, 1], [1, 1]]);
    expect(roc[2].threshold).toBe(0.8);
  });

  it("rejects one-class labels, bad labels, NaN scores and length mismatch", () => {
    expect(() => auroc([1, 2], [1, 1])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => auroc([1, 2], [1, 2])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => auroc([1, NaN], [1, 0])).toThrow(expect.objectContaining({ code: "INPUT_NONFINITE" }));
    expect(() => auprc([1, 2, 3], [1, 0])).toThrow(expect.objectContaining({ code: "INPUT_SHAPE" }));
  });
});

describe("reconstruction metrics", () => {
  const x = new Float32Array([1, 2, 3, 4]);
  const xhat = new Float32Array([1, 1, 3, 5]);
  const codes = { rows: 2, dSae: 3, rowOffsets: new Uint32Array([0, 2, 3]), indices: new Uint32Array([0, 2, 2]), values: new Float32Array([1, 0.5, 2]) };

  it("matches the hand-computed values", () => {
    const acc = new ReconstructionMetricsAccumulator(2, 3);
    acc.add(x, xhat, codes);
    const m = acc.result();
    // errors 1 and 1; E‖x‖² = 15, ‖E x‖² = 13, variance 2
    expect(m.mse).toBe(1);
    expect(m.explainedVariance).toBeCloseTo(0.5, 12);
    expect(m.fvu).toBeCloseTo(0.5, 12);
    expect(m.explainedVarianceLegacy).toBeCloseTo(0.5, 12); // each row: 1 − 1/2
    expect(m.cosineSimilarity).toBeCloseTo((3 / Math.sqrt(10) + 29 / (5 * Math.sqrt(34))) / 2, 12);
    expect(m.l0).toBe(1.5);
    expect(m.aliveLatents).toBe(2);
    expect(m.deadLatents).toBe(1);
    expect(Array.from(m.featureDensity)).toEqual([0.5, 0, 1]);
  });

  it("explained variance streams across batches; the legacy one is per batch", () => {
    const acc = new ReconstructionMetricsAccumulator(2, 3);
    acc.add(x.subarray(0, 2), xhat.subarray(0, 2));
    acc.add(x.subarray(2), xhat.subarray(2));
    const m = acc.result();
    expect(m.explainedVariance).toBeCloseTo(0.5, 12);
    expect(m.explainedVarianceLegacy).toBe(0); // one-row batches have no variance around their own mean
  });
});
