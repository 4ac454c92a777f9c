// Runtime-neutral probe (plain ES module, Web APIs only): loads every test-vector
// model with each kernel build the runtime can run, hashes all outputs the way
// test/helpers/common.mjs hashOutputs does (SHA-256 via WebCrypto), and times
// batch-1 encode of the 768 x 24576 model. Every runtime runner calls runProbe.
import { readVectors } from "./vectors-format.js";

const KERNELS = ["default", "relaxed", "simd128", "scalar"];
const PARTS = ["codes", "dense", "preact", "recon", "forwardRecon", "denseRecon", "score"];
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

async function sha256(...arrays) {
  const total = arrays.reduce((s, a) => s + a.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const a of arrays) {
    all.set(a instanceof Uint8Array ? a : bytesOf(a), at);
    at += a.byteLength;
  }
  return hex(await crypto.subtle.digest("SHA-256", all));
}
const text = (s) => new TextEncoder().encode(s);

/** Same bytes and order as hashOutputs(saeOutputs(...)).all in test/helpers/common.mjs. */
async function hashAll(sae, x, rows) {
  const codes = sae.encode(x, rows);
  const dense = sae.encodeDense(x, rows);
  const preact = sae.preActivations(x, rows);
  const recon = sae.decode(codes);
  const fwd = sae.forward(x, rows);
  const denseRecon = sae.decodeDense(dense, rows);
  const s = sae.score(x, rows);
  const parts = {
    codes: await sha256(codes.rowOffsets, codes.indices, codes.values),
    dense: await sha256(dense), preact: await sha256(preact), recon: await sha256(recon),
    forwardRecon: await sha256(fwd.reconstruction), denseRecon: await sha256(denseRecon),
    score: await sha256(s.squared, s.normalized),
  };
  return sha256(text(PARTS.map((p) => parts[p]).join(",")));
}

/** Which of the package's entries (package.json "exports" conditions) the runtime resolved. */
export function entryOf(lib) {
  if ("workerBuilds" in lib) return "workers";
  if ("nodeBuilds" in lib) return "node";
  if ("webBuilds" in lib) return "fileSource" in lib ? "deno" : "web";
  return "core";
}

/**
 * lib: the adapter's exports ({ loadSae }); vectors: the bytes of vectors.bin;
 * kernels: "default" (the runtime's own choice) and the builds to force;
 * big: what lib.loadSae accepts for the 768 x 24576 model (omit to skip timing);
 * now: a clock in ms (performance.now by default).
 */
export async function runProbe({ lib, vectors, big, kernels = KERNELS, bigRounds = 7, bigPerRound = 20, now = () => performance.now(), pool = false }) {
  const { cases, bigX } = readVectors(vectors);
  const result = { entry: entryOf(lib), kernel: null, kernels: {}, int8: null, f32: null, cases: {} };
  // First, while the address space is fresh: terminated workers give theirs back at once.
  if (pool) result.pool = await checkPool(lib, cases, big, bigX);
  for (const kernel of kernels) {
    const options = kernel === "default" ? {} : { kernel };
    const hashes = { int8: [], f32: [] };
    try {
      for (const c of cases) {
        const sae = await lib.loadSae(c.model, options);
        if (kernel === "default") result.kernel = sae.info.kernel;
        const h = await hashAll(sae, c.x, c.rows);
        sae.dispose();
        hashes[c.quant].push(h);
        if (kernel === "default") result.cases[c.id] = h;
      }
    } catch (e) {
      result.kernels[kernel] = { error: `${e.code ?? e.name}: ${e.message}` };
      continue;
    }
    result.kernels[kernel] = { int8: await sha256(text(hashes.int8.join(","))), f32: await sha256(text(hashes.f32.join(","))) };
  }
  result.int8 = result.kernels.default.int8 ?? null;
  result.f32 = result.kernels.default.f32 ?? null;
  if (big !== undefined) Object.assign(result, await timeBig(lib, big, bigX, bigRounds, bigPerRound, now));
  return result;
}

/**
 * 2-thread SaePools (createSaePool of the runtime's adapter), split by rows, by latents, and by
 * latents with one share on this thread (mainThread), against one Sae on a few int8 cases (codes,
 * dense codes and scores). A few: every worker and instance reserves wasm address space until it
 * is collected, and browsers cap it (Chromium fails new instances past the cap).
 */
async function checkPool(lib, cases, big, bigX) {
  const hashOf = async (c, codes, dense, s) => sha256(codes.rowOffsets, codes.indices, codes.values, dense, s.squared, s.normalized);
  let equal = true, checked = 0, sharedMemory = true;
  const int8 = cases.filter((c) => c.quant === "int8" && c.rows >= 2);
  // The latent split's hard case is int8 TopK's rescoring: ties, a compacting candidate buffer, the residual plane.
  const topk = int8.filter((c) => /topk\/(24x40k6-ties|64x301k8)/.test(c.id));
  // "latents+main": one of the two shares on this thread (mainThread).
  const runs = [...int8.slice(0, 3).map((c) => [c, "rows"]), ...topk.slice(-3).map((c) => [c, "latents"]), ...topk.slice(-1).map((c) => [c, "latents+main"])];
  for (const [c, setup] of runs) {
    const split = setup.replace("+main", "");
    const sae = await lib.loadSae(c.model);
    const pool = await lib.createSaePool(c.model, { threads: 2, split, mainThread: setup.endsWith("+main") });
    try {
      const one = await hashOf(c, sae.encode(c.x, c.rows), sae.encodeDense(c.x, c.rows), sae.score(c.x, c.rows));
      const two = await hashOf(c, await pool.encode(c.x, c.rows), await pool.encodeDense(c.x, c.rows), await pool.score(c.x, c.rows));
      if (one !== two || pool.split !== split) equal = false;
      // int8 TopK latent splits take small calls through shared memory where the runtime has it.
      if (split === "latents" && !pool.sharedMemory) sharedMemory = false;
      checked++;
    } finally {
      sae.dispose();
      await pool.close();
    }
  }
  // The big model as the runtime names it (a file the workers read by range, or a URL): "auto" splits it by latents.
  let big768 = null;
  if (big !== undefined) {
    const sae = await lib.loadSae(big);
    const pool = await lib.createSaePool(big, { threads: 2 });
    try {
      const [a, b] = [await pool.encode(bigX, 1), sae.encode(bigX, 1)];
      big768 = { split: pool.split, equal: (await sha256(a.rowOffsets, a.indices, a.values)) === (await sha256(b.rowOffsets, b.indices, b.values)) };
    } finally {
      sae.dispose();
      await pool.close();
    }
  }
  return { threads: 2, cases: checked, splits: [...new Set(runs.map(([, setup]) => setup))], equal, sharedMemory, big768 };
}

/** Median over rounds of the mean batch-1 encode time (rounds tolerate coarse clocks). */
export async function timeBig(lib, big, x, rounds, perRound, now) {
  const sae = await lib.loadSae(big);
  const codes = sae.encode(x, 1);
  const bigHash = await sha256(codes.rowOffsets, codes.indices, codes.values);
  for (let i = 0; i < 3; i++) sae.encode(x, 1);
  const means = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    for (let i = 0; i < perRound; i++) sae.encode(x, 1);
    means.push((now() - t0) / perRound);
  }
  sae.dispose();
  means.sort((a, b) => a - b);
  return { bigKernel: sae.info.kernel, bigHash, encodeMs: means[means.length >> 1] };
}
