// The low-rank screen (sae-edge screen) against the plain int8 TopK encode, same model, same
// rows, batch 1: active-set recall vs the unscreened codes and the speed-up (medians of
// alternating runs). Two workloads: the bundled MNIST model on held-out digits (real data), and
// a 768×24576 SAE on inputs that live near a 48-dimensional subspace (the screen's best case).
//   node bench/screen.mjs [--kernel simd128] [--rank 64] [--pool 128]
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { addScreen, buildModel, fidelityReport, loadSae, serializeModel } from "../dist/node.js";
import { mnistDigits } from "../dist/demo.js";

const { values: args } = parseArgs({ options: { kernel: { type: "string" }, rank: { type: "string", default: "64" }, pool: { type: "string", default: "128" }, runs: { type: "string", default: "1500" } } });
const rank = Number(args.rank), pool = Number(args.pool);
let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5);
const gauss = () => { let s = 0; for (let i = 0; i < 6; i++) s += rnd(); return s; };

async function compare(name, model, fit, val, dIn) {
  const base = await loadSae(model, { kernel: args.kernel });
  const t0 = performance.now();
  const screened = await loadSae(addScreen(model, fit, { rank, pool }), { kernel: args.kernel });
  const build = performance.now() - t0;
  const recall = fidelityReport(base, screened, val).activeSetRecall;
  const x = val.subarray(0, dIn), tb = [], ts = [];
  for (let i = 0; i < 100; i++) { base.encode(x); screened.encode(x); }
  for (let i = 0; i < Number(args.runs); i++) {
    let t = performance.now(); base.encode(x); tb.push(performance.now() - t);
    t = performance.now(); screened.encode(x); ts.push(performance.now() - t);
  }
  const med = (v) => v.sort((p, q) => p - q)[v.length >> 1];
  const p = (v, q) => v[Math.floor((v.length - 1) * q)];
  console.log(`| ${name} | ${base.info.kernel} | ${rank} | ${pool} | ${recall.toFixed(4)} | ${med(tb).toFixed(4)} (${p(tb, 0.1).toFixed(4)}–${p(tb, 0.9).toFixed(4)}) | ${med(ts).toFixed(4)} (${p(ts, 0.1).toFixed(4)}–${p(ts, 0.9).toFixed(4)}) | ${(med(tb) / med(ts)).toFixed(2)}× | ${(build / 1000).toFixed(1)} s |`);
}

console.log(`sae-edge screen benchmark, batch 1, node ${process.version}, ${cpus()[0].model.trim()} (${cpus().length} cores)\n`);
console.log("| workload | kernel | rank | pool | recall vs unscreened | plain ms (p10–p90) | screened ms (p10–p90) | speed-up | screen build |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|");

// MNIST: odd-indexed digits fit the screen, even-indexed ones are measured.
const fit = [], val = [];
for (const d of mnistDigits()) for (let r = 0; r < d.length / 784; r++) (r % 2 ? fit : val).push(d.subarray(r * 784, (r + 1) * 784));
const cat = (rows, n) => { const o = new Float32Array(n * rows[0].length); for (let i = 0; i < n; i++) o.set(rows[i], i * rows[0].length); return o; };
await compare("MNIST 784×1024 k=32", new Uint8Array(readFileSync(new URL("../models/mnist-topk-1024.safetensors", import.meta.url))), cat(fit, 2000), cat(val, 2000), 784);

// 768×24576 k=32 with random weights, inputs x = A s + 0.05·noise, A 768×48.
const [dIn, dSae, sub] = [768, 24576, 48];
const A = Float32Array.from({ length: dIn * sub }, gauss);
const rows = (n) => {
  const x = new Float32Array(n * dIn);
  for (let r = 0; r < n; r++) {
    const s = Array.from({ length: sub }, gauss);
    for (let i = 0; i < dIn; i++) { let v = 0.05 * gauss(); for (let a = 0; a < sub; a++) v += A[i * sub + a] * s[a]; x[r * dIn + i] = v / Math.sqrt(sub); }
  }
  return x;
};
const w = 1 / Math.sqrt(dIn);
const model = serializeModel(buildModel({
  architecture: "topk", dIn, dSae, k: 32, applyBDecToInput: false,
  W_enc: Float32Array.from({ length: dIn * dSae }, () => gauss() * w), b_enc: new Float32Array(dSae),
  W_dec: Float32Array.from({ length: dSae * dIn }, () => gauss() * w), b_dec: new Float32Array(dIn),
}, "int8"));
await compare("768×24576 k=32, inputs near a 48-dim subspace", model, rows(1000), rows(500), dIn);
