// createSaePool with split "latents": real worker threads, each holding a slice of the latents.
// Results must equal one Sae's bit for bit for every architecture and 1–3 threads, "auto" must
// pick latents only for an encoder larger than a core's cache share, bad options and a worker
// that dies must give typed errors.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AUTO_LATENT_BYTES, SaePool, addScreen, buildModel, bytesSource, createSaePool, loadSae, serializeModel, type Architecture, type SaeWeights } from "../../src/adapters/node/index.js";
import { randomInput, randomWeights } from "../helpers/common.mjs";
import { weightsFor } from "./weights.js";
import { threadEndpoint } from "./thread-endpoint.js";

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function model(architecture: Architecture, quant: "int8" | "f32", residual = false): { bytes: Uint8Array; w: SaeWeights } {
  const w = weightsFor(architecture, 40, 96, architecture === "groupmax" ? 8 : 6, 3);
  return { bytes: serializeModel(buildModel(w, quant, {}, { encoderResidual: residual })), w };
}

describe("SaePool, latent split (worker_threads)", () => {
  const cases = [["topk", "int8", true], ["topk", "int8", false], ["topk", "f32"], ["jumprelu", "int8", true], ["standard", "f32"], ["gated", "int8"], ["groupmax", "int8", true]] as const;
  for (const [arch, quant, residual] of cases) {
    it(`${arch} ${quant}${residual ? " + residual plane" : ""}: encode, encodeDense and score equal one Sae's, 1–3 threads`, async () => {
      const { bytes, w } = model(arch, quant, residual);
      const sae = await loadSae(bytes, { kernel: "simd128" });
      for (const threads of [1, 2, 3]) {
        const pool = await createSaePool(bytes, { threads, split: "latents", kernel: "simd128" });
        try {
          expect(pool.split).toBe("latents");
          expect(pool.info).toMatchObject({ dIn: 40, dSae: 96, architecture: arch, kernel: "simd128" });
          for (const n of [1, 9]) {
            const x = randomInput(n, 40, 100 + n, w.b_dec);
            const before = x.slice();
            const [a, b] = [await pool.encode(x), sae.encode(x)];
            for (const key of ["rowOffsets", "indices", "values"] as const) expect(bits(a[key]).equals(bits(b[key])), `${threads} threads, ${n} rows: ${key}`).toBe(true);
            expect(bits(await pool.encodeDense(x)).equals(bits(sae.encodeDense(x)))).toBe(true);
            const [s, t] = [await pool.score(x), sae.score(x)];
            expect(bits(s.squared).equals(bits(t.squared))).toBe(true);
            expect(bits(s.normalized).equals(bits(t.normalized))).toBe(true);
            expect(bits(x).equals(bits(before))).toBe(true);
          }
        } finally {
          await pool.close();
        }
      }
    });
  }

  it("from a file path, each thread reads its own slice (the main thread's share too): the same codes", async () => {
    const { bytes, w } = model("topk", "int8", true);
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-latent-"));
    const path = join(dir, "model.safetensors");
    writeFileSync(path, bytes);
    try {
      for (const mainThread of [false, true]) {
        const pool = await createSaePool(path, { threads: 3, split: "latents", mainThread });
        try {
          const x = randomInput(9, 40, 4, w.b_dec);
          const [a, b] = [await pool.encode(x), (await loadSae(bytes)).encode(x)];
          for (const key of ["rowOffsets", "indices", "values"] as const) expect(bits(a[key]).equals(bits(b[key])), `mainThread ${mainThread}: ${key}`).toBe(true);
        } finally {
          await pool.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports bad rows by their index, refuses work after close", async () => {
    const { bytes, w } = model("topk", "int8");
    const pool = await createSaePool(bytes, { threads: 2, split: "latents" });
    const x = randomInput(30, 40, 9, w.b_dec);
    const bad = x.slice();
    bad[25 * 40 + 7] = Number.NaN;
    await expect(pool.encode(bad)).rejects.toMatchObject({ code: "INPUT_NONFINITE", row: 25, message: expect.stringMatching(/row 25\b.*column 7\b/) });
    const huge = x.slice();
    huge.fill(3e38, 12 * 40, 13 * 40);
    await expect(pool.encode(huge)).rejects.toMatchObject({ code: "INPUT_NONFINITE", row: 12 });
    await expect(pool.encode(x, 3)).rejects.toMatchObject({ code: "INPUT_SHAPE" });
    // Concurrent calls, each merged from its own answers.
    const sae = await loadSae(bytes);
    const runs = await Promise.all([pool.encode(x), pool.score(x), pool.encode(x.subarray(0, 400)), pool.encodeDense(x)]);
    expect(bits(runs[0].values).equals(bits(sae.encode(x).values))).toBe(true);
    expect(bits(runs[1].squared).equals(bits(sae.score(x).squared))).toBe(true);
    expect(bits(runs[2].indices).equals(bits(sae.encode(x.subarray(0, 400)).indices))).toBe(true);
    expect(bits(runs[3]).equals(bits(sae.encodeDense(x)))).toBe(true);
    await pool.close();
    await expect(pool.encode(x)).rejects.toMatchObject({ code: "DISPOSED" });
  });

  it("auto: rows for an encoder that fits a core's cache share, latents above it", async () => {
    const small = model("topk", "int8").bytes;
    const p1 = await createSaePool(small, { threads: 2 });
    expect(p1.split).toBe("rows");
    await p1.close();
    const dIn = 256, dSae = (AUTO_LATENT_BYTES / dIn) * 1.5;
    const w = randomWeights({ architecture: "topk", dIn, dSae, k: 16, seed: 5 });
    const big = serializeModel(buildModel(w as unknown as SaeWeights, "int8"));
    const p2 = await createSaePool(big, { threads: 2 });
    expect(p2.split).toBe("latents");
    const x = randomInput(4, dIn, 6, w.b_dec);
    const sae = await loadSae(big);
    expect(bits((await p2.encode(x)).values).equals(bits(sae.encode(x).values))).toBe(true);
    expect(p2.info).toEqual(sae.info); // the whole model's spec, the build chosen and why faster ones were refused
    await p2.close();
    expect((await createSaePool(big, { threads: 1 }).then(async (p) => [p.split, await p.close()]))[0]).toBe("rows");
  });

  it("refuses bad options and unsplittable models with typed errors", async () => {
    const { bytes } = model("topk", "int8");
    await expect(createSaePool(bytes, { threads: 2, split: "columns" as never })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/split/) });
    // 96 latents are 24 tiles of 4: no 25 slices.
    await expect(createSaePool(bytes, { threads: 25, split: "latents" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/at most 24 latent slices/) });
    const thread = threadEndpoint();
    const exited = new Promise((resolve) => thread.worker.once("exit", resolve));
    await expect(SaePool.start([thread.endpoint], bytes, { split: "latents" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/source/) });
    await exited; // a refused start stops its workers
    const fit = randomInput(200, 40, 4);
    const screened = addScreen(bytes, fit, { rank: 16, pool: 24 });
    await expect(createSaePool(screened, { threads: 2, split: "latents" })).rejects.toMatchObject({ code: "MODEL_UNSUPPORTED", message: expect.stringMatching(/screen/) });
    const auto = await createSaePool(screened, { threads: 2 });
    expect(auto.split).toBe("rows");
    await auto.close();
  });

  it("a worker that dies fails the calls waiting on it with DISPOSED, and later calls too", async () => {
    const { bytes, w } = model("topk", "int8");
    const threads = [threadEndpoint(), threadEndpoint()];
    const pool = await SaePool.start(threads.map((t) => t.endpoint), { model: bytes, wasm: {} }, { split: "latents", source: bytesSource(bytes) });
    const x = randomInput(400, 40, 1, w.b_dec);
    const pending = pool.encode(x);
    await threads[1]!.worker.terminate();
    await expect(pending).rejects.toMatchObject({ code: "DISPOSED" });
    await expect(pool.encode(x)).rejects.toMatchObject({ code: "DISPOSED" });
    await pool.close();
  });
});
