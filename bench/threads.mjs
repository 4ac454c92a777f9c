// Batch encode on worker threads (createSaePool) against one Sae on the main thread, same model
// and rows, medians over interleaved blocks of calls: the row split (a model copy per thread) and
// the latent split (a slice of the latents per thread, one model in total); "+main" runs one of
// the threads' shares on the calling thread (mainThread). Then memory, each setup in a child
// process of its own: the sum of its wasm memories and the process's RSS.
// Before the table: the cores this process gets and a worker's bare round trip (postMessage, which
// the pools use for row splits and large batches, against Atomics wait/notify and waitAsync/notify,
// and spinning, which int8 TopK latent splits use up to 16 rows), the two bounds on a batch-1 speed-up.
// Default: 768×24576 TopK k=32 int8, batches 1 and 64, the machine's cores.
//   node bench/threads.mjs [--shape 768x24576] [--k 32] [--batches 1,64] [--threads 2] [--splits rows,latents,latents+main] [--ms-per-block 50]
// With SAE_EDGE_BEFORE=<another build's dist/node.js>, each split also runs on that build's pools
// ("<split> (before)"), interleaved with the rest, so a change to the pools is timed in one run.
import { execFileSync } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { buildModel, createSaePool, loadSae, serializeModel } from "../dist/node.js";
import { rng } from "./lib/data.mjs";
import { workerRoundTrips } from "./lib/worker-latency.mjs";

const { values: args } = parseArgs({
  options: {
    shape: { type: "string", default: "768x24576" },
    k: { type: "string", default: "32" },
    batches: { type: "string", default: "1,64" },
    threads: { type: "string", default: String(cpus().length) },
    splits: { type: "string", default: "rows,latents,latents+main" },
    "ms-per-case": { type: "string", default: "4000" },
    "ms-per-block": { type: "string", default: "50" },
    // Internal: measure one setup's memory and print it as JSON.
    "memory-of": { type: "string" },
    model: { type: "string" },
  },
});
const [dIn, dSae] = args.shape.split("x").map(Number);
const k = Number(args.k), threads = Number(args.threads);
const splits = args.splits.split(",");
const batches = args.batches.split(",").map(Number);
const MiB = 2 ** 20;
// "latents+main": split "latents" with mainThread.
const poolOptions = (setup) => ({ threads, split: setup.replace(/\+main$/, ""), mainThread: setup.endsWith("+main") });

const r = rng(1);
const inputs = (batch) => new Float32Array(batch * dIn).map(() => r() * 2);

if (args["memory-of"]) {
  // One setup, alone in this process: load, encode the largest batch once, report.
  const setup = args["memory-of"];
  const x = inputs(Math.max(...batches));
  if (setup === "none") {
    console.log(JSON.stringify({ wasm: 0, rss: process.memoryUsage().rss }));
  } else if (setup === "one") {
    const sae = await loadSae(args.model);
    sae.encode(x);
    console.log(JSON.stringify({ wasm: sae.memoryBytes, rss: process.memoryUsage().rss }));
  } else {
    const pool = await createSaePool(args.model, poolOptions(setup));
    await pool.encode(x);
    const wasm = (await pool.memoryBytes()).reduce((a, b) => a + b, 0);
    console.log(JSON.stringify({ wasm, rss: process.memoryUsage().rss })); // the worker threads' memory is the process's
    await pool.close();
  }
  process.exit(0);
}

const s = 1 / Math.sqrt(dIn);
const weights = {
  architecture: "topk", dIn, dSae, k, applyBDecToInput: true,
  W_enc: new Float32Array(dIn * dSae).map(() => r() * s), b_enc: new Float32Array(dSae),
  W_dec: new Float32Array(dSae * dIn).map(() => r() * s), b_dec: new Float32Array(dIn),
};
const dir = mkdtempSync(join(tmpdir(), "sae-edge-threads-"));
const path = join(dir, "model.safetensors");
writeFileSync(path, serializeModel(buildModel(weights, "int8")));

// How many cores this process gets right now (the machine may be shared): `threads` workers
// spinning on the same loop as the main thread alone, their throughput ratio.
async function parallelism() {
  const spin = "const t = performance.now(); let s = 0; for (let i = 0; i < 2e8; i++) s += i % 7;";
  const one = new Function(`${spin} return performance.now() - t;`)();
  // Each worker times its own loop (not its start-up); all start within a few ms of each other.
  const each = await Promise.all(Array.from({ length: threads }, () => new Promise((done) => new Worker(`${spin} require("node:worker_threads").parentPort.postMessage(performance.now() - t)`, { eval: true }).once("message", done))));
  return (threads * one) / Math.max(...each);
}

const sae = await loadSae(path);
const pools = {};
const before = process.env.SAE_EDGE_BEFORE ? await import(pathToFileURL(process.env.SAE_EDGE_BEFORE).href) : null;
for (const split of splits) {
  pools[split] = await createSaePool(path, poolOptions(split));
  if (before) pools[`${split} (before)`] = await before.createSaePool(path, poolOptions(split));
}
const setups = Object.keys(pools);
const sorted = (a) => a.slice().sort((p, q) => p - q);
const pct = (a, q) => sorted(a)[Math.floor((a.length - 1) * q)];
const f = (a) => `${pct(a, 0.5).toFixed(2)} (${pct(a, 0.1).toFixed(2)}–${pct(a, 0.9).toFixed(2)})`;
const load = () => loadavg().map((v) => v.toFixed(2)).join(" ");

console.log(`sae-edge threads benchmark: ${dIn}×${dSae} int8 TopK k=${k}, ${sae.info.kernel}, ${threads} threads, node ${process.version}, ${cpus()[0].model.trim()} (${cpus().length} cores), load average ${load()} at start`);
console.log(`Cores this process gets now (${threads} spinning threads vs 1): ${(await parallelism()).toFixed(2)}; pool speed-ups are bounded by it.`);
const trip = await workerRoundTrips();
console.log(`A worker's round trip with no work, median (p10–p90) µs: postMessage (row splits, large batches) ${trip.message}; Atomics.wait/notify ${trip.atomicsWait}; Atomics.waitAsync/notify (int8 TopK latent splits' workers between calls) ${trip.waitAsync}; spinning on shared memory (the same workers right after an answer) ${trip.spin}.\n`);
console.log(`| batch | 1 thread ms, median (p10–p90) | ${setups.map((p) => `${p} split ms | speed-up`).join(" | ")} | runs | load avg (1, 5, 15 min) at end |`);
console.log(`|---:|---:|${setups.map(() => "---:|---:|").join("")}---:|---|`);
for (const batch of batches) {
  const x = inputs(batch);
  const one = [], many = Object.fromEntries(setups.map((p) => [p, []]));
  sae.encode(x);
  for (const p of setups) await pools[p].encode(x); // warm-up
  // Setups take turns in blocks of calls, not call by call: one setup's weights stay in the
  // cache through its block, as a user's one pool or Sae has them, while every setup still sees
  // the machine's slow and fast spells alike. (Call by call, each read its weights after another
  // setup's 19 MB had gone through the 32 MiB L3: a batch-1 Sae ran 7% slower alternating with a
  // second model than alone, on an AMD EPYC VM.)
  const block = async (times, encode) => {
    const end = performance.now() + Number(args["ms-per-block"]);
    do {
      const t = performance.now();
      await encode();
      times.push(performance.now() - t);
    } while (performance.now() < end);
  };
  const deadline = performance.now() + Number(args["ms-per-case"]);
  while (performance.now() < deadline || one.length < 5) {
    await block(one, () => sae.encode(x));
    for (const p of setups) await block(many[p], () => pools[p].encode(x));
  }
  const cells = setups.map((p) => `${f(many[p])} | ${(pct(one, 0.5) / pct(many[p], 0.5)).toFixed(2)}×`);
  console.log(`| ${batch} | ${f(one)} | ${cells.join(" | ")} | ${one.length} | ${load()} |`);
}
for (const p of setups) await pools[p].close();

console.log(`\nMemory after one batch-${Math.max(...batches)} encode, each setup alone in a child process:\n`);
console.log("| setup | wasm memory MiB (sum over instances) | process RSS MiB |");
console.log("|---|---:|---:|");
const me = fileURLToPath(import.meta.url);
const names = { none: "Node with sae-edge imported, no model (the baseline)", one: "1 thread (one Sae)" };
for (const setup of ["none", "one", ...splits]) {
  const out = execFileSync(process.execPath, [me, "--memory-of", setup, "--model", path, "--shape", args.shape, "--k", args.k, "--batches", args.batches, "--threads", String(threads)], { encoding: "utf8" });
  const m = JSON.parse(out.trim().split("\n").pop());
  const label = names[setup] ?? `${threads} threads, ${setup.replace("+main", "")} split${setup.endsWith("+main") ? ", one share on the main thread" : ""}`;
  console.log(`| ${label} | ${(m.wasm / MiB).toFixed(1)} | ${(m.rss / MiB).toFixed(1)} |`);
}
rmSync(dir, { recursive: true, force: true });
