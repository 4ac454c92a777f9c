// createSaePool: real worker threads, each with its own model copy. Results must equal one
// Sae's bit for bit, errors must name the caller's row, and a closed pool must refuse work.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModel, createSaePool, loadSae, serializeModel, type Sae, type SaePool } from "../../src/adapters/node/index.js";
import { randomInput, randomWeights } from "../helpers/common.mjs";

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("SaePool (worker_threads)", () => {
  const weights = randomWeights({ architecture: "topk", dIn: 40, dSae: 96, k: 6, seed: 3 });
  const model = serializeModel(buildModel(weights, "int8"));
  let pool: SaePool;
  let sae: Sae;
  beforeAll(async () => {
    pool = await createSaePool(model, { threads: 3, kernel: "simd128" });
    sae = await loadSae(model, { kernel: "simd128" });
  });
  afterAll(() => pool.close());

  it("encodes, encodes densely and scores exactly as one Sae, for row counts that split unevenly", async () => {
    expect(pool.threads).toBe(3);
    expect(pool.info).toMatchObject({ dIn: 40, dSae: 96, k: 6, kernel: "simd128" });
    for (const n of [1, 2, 7, 37]) {
      const x = randomInput(n, 40, 100 + n, weights.b_dec);
      const before = x.slice();
      const [a, b] = [await pool.encode(x), sae.encode(x)];
      expect(a.rows).toBe(n);
      expect(bits(a.rowOffsets).equals(bits(b.rowOffsets))).toBe(true);
      expect(bits(a.indices).equals(bits(b.indices))).toBe(true);
      expect(bits(a.values).equals(bits(b.values))).toBe(true);
      expect(bits(await pool.encodeDense(x)).equals(bits(sae.encodeDense(x)))).toBe(true);
      const [s, t] = [await pool.score(x), sae.score(x)];
      expect(bits(s.squared).equals(bits(t.squared))).toBe(true);
      expect(bits(s.normalized).equals(bits(t.normalized))).toBe(true);
      expect(bits(x).equals(bits(before))).toBe(true); // the caller's rows are not moved or changed
    }
  });

  it("runs concurrent calls and reports bad rows by their index in the whole input", async () => {
    const x = randomInput(30, 40, 9, weights.b_dec);
    const runs = await Promise.all([pool.encode(x), pool.score(x), pool.encode(x.subarray(0, 400))]);
    expect(runs[0].rows).toBe(30);
    expect(runs[2].rows).toBe(10);
    const bad = x.slice();
    bad[25 * 40 + 7] = Number.NaN;
    await expect(pool.encode(bad)).rejects.toMatchObject({ code: "INPUT_NONFINITE", row: 25, message: expect.stringMatching(/row 25\b.*column 7\b/) });
    await expect(pool.encode(x, 3)).rejects.toMatchObject({ code: "INPUT_SHAPE" });
    await expect(pool.encode(new Float64Array(40) as unknown as Float32Array)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect((await pool.encode(x)).rows).toBe(30); // still healthy
  });

  it("refuses a bad model at start and work after close", async () => {
    await expect(createSaePool(new Uint8Array([1, 2, 3]), { threads: 2 })).rejects.toMatchObject({ code: expect.stringMatching(/^SAFETENSORS_/) });
    await expect(createSaePool(model, { threads: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const p = await createSaePool(model, { threads: 1 });
    await p.close();
    await expect(p.encode(new Float32Array(40))).rejects.toMatchObject({ code: "DISPOSED" });
  });
});
