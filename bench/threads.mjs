// Batch encode on worker threads (createSaePool) against one Sae on the main thread, same
// model and rows, medians over alternating runs. Default: 768×24576 TopK k=32, batches 16 and 64.
//   node bench/threads.mjs [--shape 768x24576] [--k 32] [--batches 16,64] [--threads 2]
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { buildModel, createSaePool, loadSae, serializeModel } from "../dist/node.js";
import { rng } from "./lib/data.mjs";

const { values: args } = parseArgs({
  options: {
    shape: { type: "string", default: "768x24576" },
    k: { type: "string", default: "32" },
    batches: { type: "string", default: "16,64" },
    threads: { type: "string", default: String(cpus().length) },
    "ms-per-case": { type: "string", default: "3000" },
  },
});
const [dIn, dSae] = args.shape.split("x").map(Number);
const k = Number(args.k), threads = Number(args.threads);

const r = rng(1);
const s = 1 / Math.sqrt(dIn);
const weights = {
  architecture: "topk", dIn, dSae, k, applyBDecToInput: true,
  W_enc: new Float32Array(dIn * dSae).map(() => r() * s), b_enc: new Float32Array(dSae),
  W_dec: new Float32Array(dSae * dIn).map(() => r() * s), b_dec: new Float32Array(dIn),
};
const dir = mkdtempSync(join(tmpdir(), "sae-edge-threads-"));
const path = join(dir, "model.safetensors");
writeFileSync(path, serializeModel(buildModel(weights, "int8")));

const sae = await loadSae(path);
const pool = await createSaePool(path, { threads });
const median = (a) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)];
const pct = (a, q) => a.slice().sort((p, q2) => p - q2)[Math.floor((a.length - 1) * q)];

console.log(`sae-edge threads benchmark: ${dIn}×${dSae} int8 TopK k=${k}, ${pool.info.kernel}, ${threads} threads, node ${process.version}, ${cpus()[0].model.trim()} (${cpus().length} cores)\n`);
console.log("| batch | 1 thread median ms (p10–p90) | pool median ms (p10–p90) | speed-up | runs |");
console.log("|---:|---:|---:|---:|---:|");
for (const batch of args.batches.split(",").map(Number)) {
  const x = new Float32Array(batch * dIn).map(() => r() * 2);
  const one = [], many = [];
  await pool.encode(x); sae.encode(x); // warm-up
  const deadline = performance.now() + Number(args["ms-per-case"]);
  while (performance.now() < deadline || one.length < 5) {
    let t = performance.now();
    sae.encode(x);
    one.push(performance.now() - t);
    t = performance.now();
    await pool.encode(x);
    many.push(performance.now() - t);
  }
  const f = (a) => `${median(a).toFixed(2)} (${pct(a, 0.1).toFixed(2)}–${pct(a, 0.9).toFixed(2)})`;
  console.log(`| ${batch} | ${f(one)} | ${f(many)} | ${(median(one) / median(many)).toFixed(2)}× | ${one.length} |`);
}
await pool.close();
rmSync(dir, { recursive: true, force: true });
