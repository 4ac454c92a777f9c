// Encode time per kernel build on real SAE shapes (default: 768×24576 TopK k=32,
// the GPT-2 small residual shape), batch 1 and 16. The relaxed build runs in
// Node 22 (test/engines) when this Node lacks it.
//   npm run bench                      # default shape
//   npm run bench -- --shape 784x1024 --k 32 --batches 1,4,16,64
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadSae, buildModel, serializeModel } from "../dist/node.js";
import { rng } from "./lib/data.mjs";
import { NODE22 } from "./lib/peers.mjs";

const { values: args } = parseArgs({
  options: {
    shape: { type: "string", default: "768x24576" },
    k: { type: "string", default: "32" },
    batches: { type: "string", default: "1,16" },
    kernels: { type: "string", default: "scalar,simd128,relaxed" },
    model: { type: "string" },
    json: { type: "boolean", default: false },
    "ms-per-case": { type: "string", default: "1500" },
  },
});
const [dIn, dSae] = args.shape.split("x").map(Number);
const k = Number(args.k);
const batches = args.batches.split(",").map(Number);
const msPerCase = Number(args["ms-per-case"]);


function randomModel() {
  const r = rng(7);
  const W_enc = new Float32Array(dIn * dSae).map(r);
  const W_dec = new Float32Array(dSae * dIn).map(r);
  return serializeModel(buildModel({ architecture: "topk", dIn, dSae, k, applyBDecToInput: true, W_enc, b_enc: new Float32Array(dSae), W_dec, b_dec: new Float32Array(dIn).map(r) }, "int8"));
}

const quantile = (s, q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];

async function measure(modelPath, kernels) {
  const saes = [];
  for (const kernel of kernels) {
    try {
      saes.push(await loadSae(modelPath, { kernel }));
    } catch (e) {
      if (e.code !== "KERNEL_UNAVAILABLE") throw e;
    }
  }
  const r = rng(11);
  const x = new Float32Array(Math.max(...batches) * dIn).map(() => 4 * r());
  const results = [];
  // SIMD builds alternate in short blocks so machine noise hits them alike; each block starts with
  // two untimed encodes, because the other build's weights evicted this one's from L3 (a model in
  // service stays warm). The scalar build, 20× slower, runs on its own.
  const groups = [saes.filter((s) => s.info.kernel === "scalar"), saes.filter((s) => s.info.kernel !== "scalar")].filter((g) => g.length);
  for (const batch of batches) {
    const xb = x.subarray(0, batch * dIn);
    for (const group of groups) {
      const samples = group.map(() => []);
      for (const sae of group) for (let i = 0; i < 3; i++) sae.encode(xb); // warm up (tier-up)
      const start = performance.now();
      while (performance.now() - start < msPerCase * group.length) {
        group.forEach((sae, i) => {
          sae.encode(xb);
          sae.encode(xb);
          const blockEnd = performance.now() + 20;
          do {
            const t0 = performance.now();
            sae.encode(xb);
            samples[i].push(performance.now() - t0);
          } while (performance.now() < blockEnd);
        });
      }
      group.forEach((sae, i) => {
        const s = samples[i].sort((a, b) => a - b);
        const med = quantile(s, 0.5);
        results.push({ kernel: sae.info.kernel, batch, runs: s.length, median_ms: med, p10_ms: quantile(s, 0.1), p90_ms: quantile(s, 0.9), ms_per_row: med / batch, gops: (2 * dIn * dSae * batch) / (med * 1e6) });
      });
    }
  }
  return { engine: `node ${process.version} (V8 ${process.versions.v8})`, results };
}

if (process.env.SAE_EDGE_BENCH_CHILD) {
  const out = await measure(args.model, args.kernels.split(","));
  process.stdout.write(JSON.stringify(out));
} else {
  const dir = mkdtempSync(join(tmpdir(), "sae-edge-bench-"));
  const modelPath = join(dir, "model.safetensors");
  writeFileSync(modelPath, randomModel());
  const runs = [await measure(modelPath, args.kernels.split(","))];
  const haveRelaxed = runs[0].results.some((r) => r.kernel === "relaxed");
  if (!haveRelaxed && args.kernels.includes("relaxed") && existsSync(NODE22)) {
    const child = spawnSync(NODE22, [fileURLToPath(import.meta.url), "--model", modelPath, "--shape", args.shape, "--k", args.k, "--batches", args.batches, "--kernels", "simd128,relaxed", "--ms-per-case", String(msPerCase)], {
      env: { ...process.env, SAE_EDGE_BENCH_CHILD: "1" },
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`Node 22 run failed: ${child.stderr}`);
    runs.push(JSON.parse(child.stdout));
  }
  rmSync(dir, { recursive: true, force: true });
  const machine = `${cpus()[0].model}, ${cpus().length} cores`;
  if (args.json) {
    process.stdout.write(JSON.stringify({ machine, shape: { dIn, dSae, k }, runs }, null, 2) + "\n");
  } else {
    console.log(`sae-edge encode benchmark: ${dIn}×${dSae} int8 TopK k=${k} (${((dIn * dSae) / 2 ** 20).toFixed(1)} MiB encoder weights)`);
    console.log(`machine: ${machine}`);
    console.log("");
    console.log("| engine | kernel | batch | median ms | p10–p90 ms | ms/row | GOPS | runs |");
    console.log("|---|---|---:|---:|---:|---:|---:|---:|");
    for (const run of runs) {
      for (const r of run.results) {
        console.log(`| ${run.engine} | ${r.kernel} | ${r.batch} | ${r.median_ms.toFixed(3)} | ${r.p10_ms.toFixed(3)}–${r.p90_ms.toFixed(3)} | ${r.ms_per_row.toFixed(3)} | ${r.gops.toFixed(1)} | ${r.runs} |`);
      }
    }
  }
}
