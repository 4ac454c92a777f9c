// Latent split, in process: each slice in its own kernel instance exactly as a pool worker holds
// it (LatentWorker), merged as the pool merges (latent-merge.ts). The merged codes must equal one
// Sae's bit for bit (indices, f32 values, order) for every architecture, int8 with and without
// the residual plane, 1–4 slices, and planted hard cases: exact ties across slices, rows with
// fewer positive candidates than k, k near d_sae, GroupMax groups.
import { describe, expect, it } from "vitest";
import { buildModel, bytesSource, loadSae, nodeBuilds, selectKernel, serializeModel, type KernelName, type SaeWeights, type SparseCodes } from "../../src/adapters/node/index.js";
import { openKernelModelFrom, readModelHeader } from "../../src/runtime/index.js";
import { latentRanges, planLatentSlice, readSliceTensor } from "../../src/model/latent-slices.js";
import { LatentWorker } from "../../src/pool/latent-worker.js";
import { mergeCodes, mergeTopKCandidates, rescoreCandidates } from "../../src/pool/latent-merge.js";
import { randomInput, randomWeights } from "../helpers/common.mjs";
import { makeRng } from "../reference/rng.js";
import { weightsFor } from "./weights.js";

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function openSlices(bytes: Uint8Array, parts: number, kernel: KernelName) {
  const source = bytesSource(bytes);
  const { header, spec } = await readModelHeader(source);
  const candidates = spec.architecture === "topk" && spec.quantization === "int8" ? rescoreCandidates(spec.k, spec.dSae) : 0;
  const workers: LatentWorker[] = [];
  for (const [w, range] of latentRanges(spec, parts).entries()) {
    // Read straight into the instance, as a worker given a path does.
    const slice = planLatentSlice(header, spec, range, w === 0);
    const sizes = Object.fromEntries(Object.entries(slice.ranges).map(([name, [, bytes]]) => [name, bytes]));
    const km = await openKernelModelFrom(nodeBuilds, slice.spec, sizes, (name, into) => readSliceTensor(source, slice, name, into), kernel);
    workers.push(new LatentWorker(km, { ...slice, dSae: spec.dSae, candidates }));
  }
  const encode = (x: Float32Array, n: number): SparseCodes =>
    candidates ? mergeTopKCandidates(workers.map((w) => w.candidates(x, n)), spec.k, spec.dSae) : mergeCodes(workers.map((w) => w.encode(x, n)), spec.architecture === "topk" ? spec.k : Infinity, spec.dSae);
  return { spec, workers, encode };
}

function expectSameCodes(a: SparseCodes, b: SparseCodes, what: string): void {
  expect(a.rows, what).toBe(b.rows);
  expect(bits(a.rowOffsets).equals(bits(b.rowOffsets)), `${what}: row offsets`).toBe(true);
  expect(bits(a.indices).equals(bits(b.indices)), `${what}: indices`).toBe(true);
  expect(bits(a.values).equals(bits(b.values)), `${what}: values`).toBe(true);
  expect(a.rowNorm === undefined, what).toBe(b.rowNorm === undefined);
  if (a.rowNorm) expect(bits(a.rowNorm).equals(bits(b.rowNorm!)), `${what}: rowNorm`).toBe(true);
}

// The builds this engine runs (relaxed where it passes its self-test).
const KERNELS: KernelName[] = ["scalar", "simd128", ...(await selectKernel(nodeBuilds, "relaxed").then(() => ["relaxed" as const], () => []))];
const KERNEL: KernelName = "simd128";

describe("latent split equals one Sae", () => {
  const cases: { name: string; w: SaeWeights; quant: "int8" | "f32"; residual?: boolean }[] = [];
  for (const quant of ["int8", "f32"] as const) {
    for (const residual of quant === "int8" ? [false, true] : [false]) {
      const tag = `${quant}${residual ? "+plane" : ""}`;
      cases.push({ name: `topk k=8 ${tag}`, w: weightsFor("topk", 40, 200, 8, 1), quant, residual });
      cases.push({ name: `topk k=1 ${tag}`, w: weightsFor("topk", 33, 96, 1, 2), quant, residual });
      cases.push({ name: `topk k=60 of 64 ${tag}`, w: weightsFor("topk", 24, 64, 60, 3), quant, residual });
      cases.push({ name: `topk k=d_sae=30 ${tag}`, w: weightsFor("topk", 24, 30, 30, 16), quant, residual });
      cases.push({ name: `standard ${tag}`, w: weightsFor("standard", 40, 150, 0, 4), quant, residual });
      cases.push({ name: `jumprelu ${tag}`, w: weightsFor("jumprelu", 40, 150, 0, 5), quant, residual });
      cases.push({ name: `gated ${tag}`, w: weightsFor("gated", 40, 150, 0, 6), quant, residual });
      cases.push({ name: `groupmax 12 groups ${tag}`, w: weightsFor("groupmax", 40, 144, 12, 7), quant, residual });
      cases.push({ name: `topk layer_norm ${tag}`, w: weightsFor("topk", 40, 128, 10, 8, { normalization: "layer_norm" }), quant, residual });
      const rng = makeRng(9);
      cases.push({ name: `topk x_offset ${tag}`, w: weightsFor("topk", 40, 128, 10, 9, { xOffset: rng.normals(40, 0.5) }), quant, residual });
      cases.push({ name: `jumprelu skip connection ${tag}`, w: weightsFor("jumprelu", 40, 128, 0, 10, { W_skip: rng.normals(40 * 40, 0.1) }), quant, residual });
    }
  }
  for (const { name, w, quant, residual } of cases) {
    it.each(KERNELS)(`${name}, %s build`, async (kernel) => {
      const bytes = serializeModel(buildModel(w, quant, {}, { encoderResidual: residual }));
      const sae = await loadSae(bytes, { kernel });
      const x = randomInput(23, w.dIn, 11, w.b_dec);
      const want = sae.encode(x);
      for (const parts of [1, 2, 3, 4]) {
        const split = await openSlices(bytes, parts, kernel);
        expectSameCodes(split.encode(x, 23), want, `${name}, ${parts} slices`);
        const sq = split.workers[0]!.scoreCodes(x, 23, want);
        const s = sae.score(x);
        expect(bits(sq.squared).equals(bits(s.squared)), `${name}, ${parts} slices: score`).toBe(true);
        expect(bits(sq.normalized).equals(bits(s.normalized)), `${name}, ${parts} slices: score`).toBe(true);
      }
    });
  }

  it("inputs larger than a worker's io chunk: candidates and scores chunk by chunk, the same bits", async () => {
    // 256 × 64 in 2 slices, 4000 rows: about 2700 rows per candidates chunk and 3700 per score chunk
    // (src/pool/latent-worker.ts CHUNK_BYTES); 256 × 8192, 500 rows: wide slices in one chunk.
    for (const [dSae, k, rows] of [[8192, 8, 500], [64, 8, 4000]] as const) {
      const w = weightsFor("topk", 256, dSae, k, 14);
      const bytes = serializeModel(buildModel(w, "int8", {}, { encoderResidual: true }));
      const sae = await loadSae(bytes, { kernel: KERNEL });
      const x = randomInput(rows, 256, 15, w.b_dec);
      const split = await openSlices(bytes, 2, KERNEL);
      const want = sae.encode(x);
      expectSameCodes(split.encode(x, rows), want, `256×${dSae}, ${rows} rows`);
      const [got, s] = [split.workers[0]!.scoreCodes(x, rows, want), sae.score(x)];
      expect(bits(got.squared).equals(bits(s.squared))).toBe(true);
      expect(bits(got.normalized).equals(bits(s.normalized))).toBe(true);
    }
  });

  it("a row that overflows float32 in one slice only is refused as one Sae refuses it", async () => {
    const w = weightsFor("topk", 40, 64, 8, 17);
    const W = w.W_enc as Float32Array; // [d_in][d_sae]: latents 32.. (the second slice) get huge weights
    for (let i = 0; i < 40; i++) for (let j = 32; j < 64; j++) W[i * 64 + j] *= 1e35;
    const x = randomInput(9, 40, 18);
    x.fill(1e4, 5 * 40, 6 * 40);
    for (const quant of ["int8", "f32"] as const) {
      const bytes = serializeModel(buildModel(w, quant));
      const sae = await loadSae(bytes, { kernel: KERNEL });
      const split = await openSlices(bytes, 2, KERNEL);
      let want: unknown, got: unknown;
      try { sae.encode(x); } catch (e) { want = e; }
      try { split.encode(x, 9); } catch (e) { got = e; }
      expect(want, quant).toMatchObject({ code: "INPUT_NONFINITE", row: 5 });
      expect(got, quant).toMatchObject({ code: "INPUT_NONFINITE", row: 5, message: (want as Error).message });
      expectSameCodes(split.encode(x.subarray(0, 5 * 40), 5), sae.encode(x.subarray(0, 5 * 40)), `${quant}: the rows before it`);
    }
  });

  it("a transcoder (d_out ≠ d_in): the same codes", async () => {
    const rng = makeRng(12);
    const w = { ...weightsFor("topk", 40, 128, 10, 12), applyBDecToInput: false, dOut: 24, W_dec: rng.normals(128 * 24, 0.2), b_dec: rng.normals(24, 0.1) };
    for (const quant of ["int8", "f32"] as const) {
      const bytes = serializeModel(buildModel(w, quant));
      const x = randomInput(9, 40, 13);
      const want = (await loadSae(bytes, { kernel: KERNEL })).encode(x);
      expectSameCodes((await openSlices(bytes, 3, KERNEL)).encode(x, 9), want, `transcoder ${quant}`);
    }
  });

  it("int8 TopK merge: rescored ties go by lower index whatever the int8 order, also at the k-th place", () => {
    // Two slices' candidates in int8 order; their rescored values tie in another order (planted:
    // weights that tie after rescoring but not in int8 are rare in random models).
    const k = 4, dSae = 64, c = rescoreCandidates(k, dSae);
    const slice = (index: number[], value: number[], h: number[]) => ({
      rows: 1, c, count: Int32Array.of(index.length), overflowRow: -1,
      index: new Uint32Array(c).map((_, i) => index[i] ?? 0),
      value: new Float32Array(c).map((_, i) => value[i] ?? 0),
      h: new Float32Array(c).map((_, i) => h[i] ?? 0),
    });
    // Merged int8 order: 5, 40, 3, 33, 9, 7, 50, 35; rescored 2, 2, 2, 3, 1, 0, 2, 2.
    const a = slice([5, 3, 9, 7], [10, 9, 8, 7.5], [2, 2, 1, 0]);
    const b = slice([40, 33, 50, 35], [9.5, 8.5, 7, 6], [2, 3, 2, 2]);
    const got = mergeTopKCandidates([a, b], k, dSae);
    expect([...got.indices]).toEqual([33, 3, 5, 35]);
    expect([...got.values]).toEqual([3, 2, 2, 2]);
    expect([...got.rowOffsets]).toEqual([0, 4]);
  });

  it("int8 TopK over many random models, ties across slices and rows with few positive candidates", async () => {
    const rng = makeRng(99);
    let checked = 0;
    for (let t = 0; t < 24; t++) {
      const dIn = 8 + rng.int(60);
      const dSae = 4 * (4 + rng.int(60)) - rng.int(4); // some end inside a tile
      const k = 1 + rng.int(Math.min(dSae, 40));
      const w = randomWeights({ architecture: "topk", dIn, dSae, k, seed: 1000 + t, ties: t % 2 === 0 }) as unknown as SaeWeights;
      // Every third model has most biases far below zero: few positive candidates per row.
      if (t % 3 === 0) w.b_enc = (w.b_enc as Float32Array).map((b, j) => (j % 5 === 0 ? b : b - 3));
      const bytes = serializeModel(buildModel(w, "int8", {}, { encoderResidual: t % 4 < 2 }));
      const sae = await loadSae(bytes, { kernel: KERNEL });
      const x = randomInput(17, dIn, 2000 + t, w.b_dec);
      const want = sae.encode(x);
      for (const parts of [2, 3]) {
        expectSameCodes((await openSlices(bytes, parts, KERNEL)).encode(x, 17), want, `model ${t} (${dIn}×${dSae}, k=${k}), ${parts} slices`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});
