// Finite inputs too large for float32 arithmetic get a typed error, never Infinity or NaN answers.
import { describe, expect, it } from "vitest";
import { buildModel, loadSae, serializeModel } from "../../src/adapters/node/index.js";

const dIn = 20, dSae = 12;
const ramp = (n: number, s: number) => new Float32Array(n).map((_, i) => Math.sin(i * s));

describe.each(["int8", "f32"] as const)("float32 overflow (%s)", (quant) => {
  it("encode, score and decode report the row instead of returning non-finite values", async () => {
    const sae = await loadSae(serializeModel(buildModel({
      architecture: "topk", dIn, dSae, k: 3, applyBDecToInput: false,
      W_enc: new Float32Array(dIn * dSae).fill(0.5), b_enc: new Float32Array(dSae), W_dec: ramp(dSae * dIn, 0.3), b_dec: new Float32Array(dIn),
    }, quant)));
    const x = new Float32Array(2 * dIn).fill(0.5);
    x.fill(3e38, dIn); // row 1 is finite, but 20 × 0.5 × 3e38 overflows float32
    for (const call of [() => sae.encode(x), () => sae.score(x), () => sae.encodeDense(x), () => sae.preActivations(x)]) {
      expect(call).toThrow(expect.objectContaining({ code: "INPUT_NONFINITE", message: expect.stringContaining("row 1") }));
    }
    const huge = { rows: 1, dSae, rowOffsets: new Uint32Array([0, 2]), indices: new Uint32Array([0, 1]), values: new Float32Array([3e38, 3e38]) };
    expect(() => sae.decode(huge)).toThrow(expect.objectContaining({ code: "INPUT_NONFINITE", message: expect.stringContaining("decoder overflowed") }));
    // The instance still answers the good row.
    const good = sae.encode(x.subarray(0, dIn));
    expect(good.values.every(Number.isFinite)).toBe(true);
    expect(good.indices.length).toBeGreaterThan(0);
  });
});
