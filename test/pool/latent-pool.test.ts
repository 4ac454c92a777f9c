// createSaePool with split "latents": real worker threads, each holding a slice of the latents.
// Results must equal one Sae's bit for bit for every architecture and 1–3 threads, "auto" must
// pick latents only for an encoder larger than a core's cache share, bad options and a worker
// that dies must give typed errors.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AUTO_LATENT_BYTES, SaePool, addScreen, type PoolEndpoint, buildModel, bytesSource, createSaePool, loadSae, serializeModel, type Architecture, type SaeWeights } from "../../src/adapters/node/index.js";
import { randomInput, randomWeights } from "../helpers/common.mjs";
import type { ToWorker } from "../../src/pool/protocol.js";
import { weightsFor } from "./weights.js";
import { threadEndpoint } from "./thread-endpoint.js";

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

type InitMessage = Extract<ToWorker, { type: "init" }>;

// Two worker threads whose init message passes through `init` on its way (to see or change it).
function twoThreads(init: (message: InitMessage) => InitMessage): PoolEndpoint[] {
  return [threadEndpoint(), threadEndpoint()].map(({ endpoint }) => ({ ...endpoint, post: (m, t) => endpoint.post(m.type === "init" ? init(m) : m, t) }));
}

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

  it("int8 TopK calls of up to 16 rows go through shared memory: one Sae's bits and errors, by message past 16 rows or when asked", async () => {
    const { bytes, w } = model("topk", "int8", true);
    const sae = await loadSae(bytes);
    const shared = await createSaePool(bytes, { threads: 2, split: "latents" });
    const byMessage = await createSaePool(bytes, { threads: 2, split: "latents", sharedMemory: false });
    const main = await createSaePool(bytes, { threads: 2, split: "latents", mainThread: true });
    try {
      expect([shared.sharedMemory, byMessage.sharedMemory, main.sharedMemory]).toEqual([true, false, true]);
      for (const n of [1, 2, 15, 16, 17]) {
        const x = randomInput(n, 40, 300 + n, w.b_dec);
        const want = sae.encode(x);
        for (const pool of [shared, byMessage, main]) {
          const got = await pool.encode(x);
          for (const key of ["rowOffsets", "indices", "values"] as const) expect(bits(got[key]).equals(bits(want[key])), `${n} rows, sharedMemory ${pool.sharedMemory}: ${key}`).toBe(true);
        }
      }
      // Concurrent calls: one takes the channel, the others go by message; each gets its own codes.
      const xs = [3, 1, 5, 16].map((n, i) => randomInput(n, 40, 400 + i, w.b_dec));
      const codes = await Promise.all(xs.map((x) => shared.encode(x)));
      xs.forEach((x, i) => expect(bits(codes[i]!.values).equals(bits(sae.encode(x).values)), `concurrent call ${i}`).toBe(true));
      // Errors come back through shared memory as they do by message.
      const bad = randomInput(3, 40, 9, w.b_dec);
      bad[2 * 40 + 5] = Number.NaN;
      for (const pool of [shared, main]) await expect(pool.encode(bad)).rejects.toMatchObject({ code: "INPUT_NONFINITE", row: 2, message: expect.stringMatching(/row 2\b.*column 5\b/) });
      const huge = randomInput(4, 40, 10, w.b_dec).fill(3e38, 40, 80);
      await expect(shared.encode(huge)).rejects.toMatchObject({ code: "INPUT_NONFINITE", row: 1 });
      const ok = randomInput(2, 40, 11, w.b_dec);
      expect(bits((await shared.encode(ok)).values).equals(bits(sae.encode(ok).values)), "the channel serves the call after an error").toBe(true);
    } finally {
      await Promise.all([shared.close(), byMessage.close(), main.close()]);
    }
    // Only a latent split of an int8 TopK model has candidates to share.
    for (const [arch, quant, split] of [["topk", "f32", "latents"], ["jumprelu", "int8", "latents"], ["topk", "int8", "rows"]] as const) {
      const pool = await createSaePool(model(arch, quant).bytes, { threads: 2, split });
      expect(pool.sharedMemory, `${arch} ${quant} ${split}`).toBe(false);
      await pool.close();
    }
  });

  it("a worker that does not serve the channel it was given (an older worker script) gets every call by message", async () => {
    const { bytes, w } = model("topk", "int8");
    const pool = await SaePool.start(twoThreads((init) => ({ ...init, channel: undefined })), { model: bytes, wasm: {} }, { split: "latents", source: bytesSource(bytes) });
    try {
      expect(pool.sharedMemory).toBe(false);
      const x = randomInput(1, 40, 21, w.b_dec);
      expect(bits((await pool.encode(x)).values).equals(bits((await loadSae(bytes)).encode(x).values))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it("shared-memory workers stay awake between calls only when the pool's threads fit the cores", async () => {
    const { bytes, w } = model("topk", "int8");
    const x = randomInput(2, 40, 22, w.b_dec);
    const want = (await loadSae(bytes)).encode(x);
    for (const [cores, spin] of [[undefined, false], [1, false], [2, true], [8, true]] as const) {
      const told: (boolean | undefined)[] = [];
      const pool = await SaePool.start(twoThreads((init) => (told.push(init.channel?.spin), init)), { model: bytes, wasm: {} }, { split: "latents", source: bytesSource(bytes), ...(cores ? { cores } : {}) });
      try {
        expect(told, `${cores} cores`).toEqual([spin, spin]);
        for (let call = 0; call < 3; call++) expect(bits((await pool.encode(x)).values).equals(bits(want.values)), `${cores} cores, call ${call}`).toBe(true);
      } finally {
        await pool.close();
      }
    }
  });

  it("a worker that dies while a call waits on shared memory fails it with DISPOSED", async () => {
    // Wide enough that a 16-row slice takes milliseconds, should the stopping worker still start it.
    const w = randomWeights({ architecture: "topk", dIn: 256, dSae: 16384, k: 16, seed: 5 });
    const bytes = serializeModel(buildModel(w, "int8"));
    const threads = [threadEndpoint(), threadEndpoint()];
    const pool = await SaePool.start(threads.map((t) => t.endpoint), { model: bytes, wasm: {} }, { split: "latents", source: bytesSource(bytes) });
    expect(pool.sharedMemory).toBe(true);
    // Stopped before the call, which still goes out by shared memory: the pool hears of the exit only later.
    const stopping = threads[0]!.worker.terminate();
    const pending = pool.encode(randomInput(16, 256, 2, w.b_dec)).then(() => "answered", (e: unknown) => e);
    await stopping;
    expect(await pending).toMatchObject({ code: "DISPOSED" });
    await expect(pool.encode(randomInput(1, 256, 3, w.b_dec))).rejects.toMatchObject({ code: "DISPOSED" });
    await pool.close();
    // Closing the pool fails the calls still out, by shared memory and by message.
    const other = await createSaePool(bytes, { threads: 2, split: "latents" });
    const out = [other.encode(randomInput(16, 256, 4, w.b_dec)), other.encode(randomInput(40, 256, 5, w.b_dec))].map((call) => call.then(() => "answered", (e: unknown) => e));
    await other.close();
    for (const call of out) expect(await call).toMatchObject({ code: "DISPOSED" });
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
