// createSaePool with mainThread: one share of the work runs on the calling thread (its last
// rows, or its last latent slice), the others on worker threads. Results must equal one Sae's
// bit for bit, errors must name the caller's row, and no worker may start for that share. (A
// share that reads its own slice from a file: latent-pool.test.ts.)
import { describe, expect, it } from "vitest";
import { SaePool, buildModel, createSaePool, loadSae, nodePoolServer, serializeModel, type Architecture } from "../../src/adapters/node/index.js";
import { localEndpoint } from "../../src/pool/local-endpoint.js";
import { randomInput } from "../helpers/common.mjs";
import { weightsFor } from "./weights.js";
import { threadEndpoint } from "./thread-endpoint.js";

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function model(architecture: Architecture, residual = false) {
  const w = weightsFor(architecture, 40, 96, 6, 3);
  return { bytes: serializeModel(buildModel(w, "int8", {}, { encoderResidual: residual })), w };
}

async function expectSameAsSae(pool: SaePool, bytes: Uint8Array, b_dec: Float32Array, label: string): Promise<void> {
  const sae = await loadSae(bytes, { kernel: "simd128" });
  for (const n of [1, 2, 9]) {
    const x = randomInput(n, 40, 200 + n, b_dec);
    const before = x.slice();
    const [a, b] = [await pool.encode(x), sae.encode(x)];
    for (const key of ["rowOffsets", "indices", "values"] as const) expect(bits(a[key]).equals(bits(b[key])), `${label}, ${n} rows: ${key}`).toBe(true);
    expect(bits(await pool.encodeDense(x)).equals(bits(sae.encodeDense(x))), `${label}, ${n} rows: dense`).toBe(true);
    const [s, t] = [await pool.score(x), sae.score(x)];
    expect(bits(s.squared).equals(bits(t.squared)), `${label}, ${n} rows: squared`).toBe(true);
    expect(bits(s.normalized).equals(bits(t.normalized)), `${label}, ${n} rows: normalized`).toBe(true);
    expect(bits(x).equals(bits(before))).toBe(true);
  }
  sae.dispose();
}

describe("SaePool with a share on the main thread", () => {
  for (const [arch, residual] of [["topk", true], ["topk", false], ["jumprelu", false]] as const) {
    it(`${arch}${residual ? " + residual plane" : ""}, latent split: the same bits as one Sae, 1–3 threads`, async () => {
      const { bytes, w } = model(arch, residual);
      for (const threads of [1, 2, 3]) {
        const pool = await createSaePool(bytes, { threads, split: "latents", mainThread: true, kernel: "simd128" });
        try {
          expect([pool.split, pool.threads]).toEqual(["latents", threads]);
          await expectSameAsSae(pool, bytes, w.b_dec, `${threads} threads`);
        } finally {
          await pool.close();
        }
      }
    });
  }

  it("row split: the same bits as one Sae; a bad row in this thread's share is named by its index in the whole input", async () => {
    const { bytes, w } = model("topk");
    const pool = await createSaePool(bytes, { threads: 2, split: "rows", mainThread: true, kernel: "simd128" });
    try {
      await expectSameAsSae(pool, bytes, w.b_dec, "rows");
      const x = randomInput(30, 40, 9, w.b_dec);
      for (const row of [3, 25]) { // a worker's share, then this thread's (rows 15–29)
        const bad = x.slice();
        bad[row * 40 + 7] = Number.NaN;
        await expect(pool.encode(bad)).rejects.toMatchObject({ code: "INPUT_NONFINITE", row, message: expect.stringMatching(new RegExp(`row ${row}\\b.*column 7\\b`)) });
      }
      expect((await pool.encode(x)).rows).toBe(30); // still healthy
    } finally {
      await pool.close();
    }
    await expect(pool.encode(new Float32Array(40))).rejects.toMatchObject({ code: "DISPOSED" });
  });

  it("row split: fewer rows than shares go to the last ones, this thread's among them", async () => {
    const { bytes, w } = model("topk");
    const { worker, endpoint } = threadEndpoint();
    const pool = await SaePool.start([endpoint, localEndpoint(...nodePoolServer())], { model: bytes, wasm: {} }, { split: "rows" });
    try {
      await worker.terminate(); // only this thread's share is left
      const x = randomInput(2, 40, 5, w.b_dec);
      const one = await pool.encode(x.subarray(0, 40));
      expect(bits(one.values).equals(bits((await loadSae(bytes)).encode(x.subarray(0, 40)).values))).toBe(true);
      await expect(pool.encode(x)).rejects.toMatchObject({ code: "DISPOSED" }); // two rows need the worker too
    } finally {
      await pool.close();
    }
  });

  it("one thread in all starts no worker; a bad mainThread is refused", async () => {
    const { bytes, w } = model("topk");
    const missing = "/nonexistent/sae-edge-pool-worker.js";
    for (const split of ["rows", "latents"] as const) {
      const pool = await createSaePool(bytes, { threads: 1, split, mainThread: true, workerUrl: missing, kernel: "simd128" });
      try {
        await expectSameAsSae(pool, bytes, w.b_dec, `1 thread, ${split}`);
      } finally {
        await pool.close();
      }
    }
    await expect(createSaePool(bytes, { threads: 2, split: "rows", mainThread: true, workerUrl: missing })).rejects.toBeDefined(); // the one worker does start
    await expect(createSaePool(bytes, { threads: 2, mainThread: "yes" as never })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/mainThread/) });
  });
});
