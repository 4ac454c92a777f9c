// Decode time against encode time of the same rows, per kernel build: TopK k = 128 codes straight
// from encode (value-descending, as a TopK SAE hands them to decode), batch 1 and 64. The relaxed
// build runs in Node 22 (test/engines) when this Node lacks it.
//   npm run bench:decode
//   npm run bench:decode -- --shapes 768x24576,784x1024,2304x16384 --batches 1,64
// Each timed decode follows an encode of its rows, as in forward(): the decoder rows it gathers are
// as cold as they are in service. "kernel" is decode_sparse alone, the codes already in wasm memory
// (the same call Sae.decode made, replayed), so the host's copies and checks are the difference.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadSae, buildModel, serializeModel } from "../dist/node.js";
import { rng } from "./lib/data.mjs";
import { NODE22 } from "./lib/peers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    shapes: { type: "string", default: "768x24576" },
    k: { type: "string", default: "128" },
    batches: { type: "string", default: "1,64" },
    kernels: { type: "string", default: "scalar,simd128,relaxed" },
    models: { type: "string" },
    json: { type: "boolean", default: false },
    "ms-per-case": { type: "string", default: "1500" },
  },
});
const shapes = args.shapes.split(",").map((s) => s.split("x").map(Number));
const k = Number(args.k);
const batches = args.batches.split(",").map(Number);
const msPerCase = Number(args["ms-per-case"]);

// The kernel's exports, with decode_sparse wrapped so the bench can replay the last call on its own:
// the wrapper only keeps the call's arguments (so the timed Sae.decode pays nothing for it);
// snapshotDecode() copies that call's inputs, once and untimed, restoreDecode() puts them back where
// they were (an encode reuses that memory), replayDecode() calls it. `newest` is the instance
// loadSae made last.
let newest;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (...a) => {
  const result = await instantiate(...a);
  if (!(a[0] instanceof WebAssembly.Module)) return result;
  const exports = { ...result.exports };
  const call = exports.decode_sparse;
  let lastArgs = [], saved = [];
  exports.decode_sparse = (...args) => call(...(lastArgs = args));
  exports.snapshotDecode = () => {
    const [, , idx, val, rp, n, , st] = lastArgs;
    const u8 = (p, bytes) => new Uint8Array(exports.memory.buffer, p, bytes);
    const nnz = new Uint32Array(exports.memory.buffer, rp, n + 1)[n];
    saved = [[idx, 4 * nnz], [val, 4 * nnz], [rp, 4 * (n + 1)], [st, st ? 8 * n : 0]].map(([p, bytes]) => [p, u8(p, bytes).slice()]);
  };
  exports.restoreDecode = () => saved.forEach(([p, bytes]) => new Uint8Array(exports.memory.buffer, p, bytes.length).set(bytes));
  exports.replayDecode = () => call(...lastArgs);
  return (newest = { exports });
};

function randomModel(dIn, dSae) {
  const r = rng(7);
  const W_enc = new Float32Array(dIn * dSae).map(r);
  const W_dec = new Float32Array(dSae * dIn).map(() => r() / Math.sqrt(dIn));
  return serializeModel(buildModel({ architecture: "topk", dIn, dSae, k, applyBDecToInput: true, W_enc, b_enc: new Float32Array(dSae), W_dec, b_dec: new Float32Array(dIn).map(r) }, "int8"));
}

const dSaeOf = (shape) => Number(shape.split("x")[1]);
const quantile = (s, q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
const stats = (s) => (s.sort((a, b) => a - b), { median_ms: quantile(s, 0.5), p10_ms: quantile(s, 0.1), p90_ms: quantile(s, 0.9), runs: s.length });

async function measure(dIn, modelPath, kernel) {
  let sae;
  try {
    sae = await loadSae(modelPath, { kernel });
  } catch (e) {
    if (e.code === "KERNEL_UNAVAILABLE") return [];
    throw e;
  }
  const kx = newest.exports;
  const r = rng(11);
  const x = new Float32Array(Math.max(...batches) * dIn).map(() => 4 * r());
  const results = [];
  for (const batch of batches) {
    const xb = x.subarray(0, batch * dIn);
    const codes = sae.encode(xb);
    for (let i = 0; i < 3; i++) sae.decode(sae.encode(xb)); // warm up (tier-up); replayDecode repeats these codes
    kx.snapshotDecode();
    const enc = [], dec = [], ker = [];
    const start = performance.now();
    for (let i = 0; performance.now() - start < msPerCase || i < 10; i++) {
      let t0 = performance.now();
      sae.encode(xb);
      enc.push(performance.now() - t0);
      if (i & 1) kx.restoreDecode();
      t0 = performance.now();
      if (i & 1) kx.replayDecode();
      else sae.decode(codes);
      (i & 1 ? ker : dec).push(performance.now() - t0);
    }
    const e = stats(enc), d = stats(dec), kk = stats(ker);
    results.push({ kernel, batch, codes: codes.indices.length / batch, encode: e, decode: d, kernelOnly: kk, decode_over_encode: d.median_ms / e.median_ms, kernel_over_encode: kk.median_ms / e.median_ms });
  }
  sae.dispose();
  return results;
}

async function measureAll(models, kernels) {
  const out = [];
  for (const { dIn, dSae, path } of models) {
    for (const kernel of kernels) out.push(...(await measure(dIn, path, kernel)).map((r) => ({ shape: `${dIn}x${dSae}`, ...r })));
  }
  return { engine: `node ${process.version} (V8 ${process.versions.v8})`, results: out };
}

if (process.env.SAE_EDGE_BENCH_CHILD) {
  const out = await measureAll(JSON.parse(args.models), args.kernels.split(","));
  process.stdout.write(JSON.stringify(out));
} else {
  const load0 = loadavg();
  const dir = mkdtempSync(join(tmpdir(), "sae-edge-bench-"));
  const models = shapes.map(([dIn, dSae]) => {
    const path = join(dir, `model-${dIn}x${dSae}.safetensors`);
    writeFileSync(path, randomModel(dIn, dSae));
    return { dIn, dSae, path };
  });
  const kernels = args.kernels.split(",");
  const runs = [await measureAll(models, kernels)];
  const haveRelaxed = runs[0].results.some((r) => r.kernel === "relaxed");
  if (!haveRelaxed && kernels.includes("relaxed") && existsSync(NODE22)) {
    const child = spawnSync(NODE22, [fileURLToPath(import.meta.url), "--models", JSON.stringify(models), "--k", args.k, "--batches", args.batches, "--kernels", "relaxed", "--ms-per-case", String(msPerCase)], {
      env: { ...process.env, SAE_EDGE_BENCH_CHILD: "1" },
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`Node 22 run failed: ${child.stderr}`);
    runs.push(JSON.parse(child.stdout));
  }
  rmSync(dir, { recursive: true, force: true });
  const machine = `${cpus()[0].model}, ${cpus().length} cores`;
  const load = `load average ${load0.map((l) => l.toFixed(2)).join(" ")} at start, ${loadavg().map((l) => l.toFixed(2)).join(" ")} at end`;
  if (args.json) {
    process.stdout.write(JSON.stringify({ machine, load, k, runs }, null, 2) + "\n");
  } else {
    const ms = (s) => `${s.median_ms.toFixed(4)} (${s.p10_ms.toFixed(4)}–${s.p90_ms.toFixed(4)})`;
    console.log(`sae-edge decode vs encode: int8 TopK k=${k}, median ms (p10–p90)`);
    console.log(`machine: ${machine}; ${load}`);
    console.log("");
    // Decode does k·d_out multiply-adds (f32) per row where encode does d_in·d_sae (int8): their ratio is the floor-setter.
    console.log("| engine | shape | kernel | batch | encode | decode | decode_sparse alone | decode / encode | kernel / encode | k·d_out / (d_in·d_sae) |");
    console.log("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const run of runs) {
      for (const r of run.results) {
        console.log(`| ${run.engine} | ${r.shape} | ${r.kernel} | ${r.batch} | ${ms(r.encode)} | ${ms(r.decode)} | ${ms(r.kernelOnly)} | ${(100 * r.decode_over_encode).toFixed(2)}% | ${(100 * r.kernel_over_encode).toFixed(2)}% | ${(100 * r.codes / dSaeOf(r.shape)).toFixed(2)}% |`);
      }
    }
  }
}
