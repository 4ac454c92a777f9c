// Training throughput: sae-edge's TopK trainer (784→1024, k=32, batch 256, MNIST)
// beside PyTorch CPU on the same data, architecture, recipe and batch, same run.
// PyTorch comes from Debian's python3-torch (/usr/bin/python3); without it the
// script says so and reports sae-edge alone.
//   npm run bench:train [-- --epochs 3]
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { nodeBuilds, serializeNpy } from "../dist/node.js";
import { concatRows, mnistDigits } from "../dist/demo.js";
import { matrixBatches, trainSae } from "../dist/train.js";

const { values: args } = parseArgs({ options: { epochs: { type: "string", default: "3" }, python: { type: "string", default: "/usr/bin/python3" } } });
const epochs = Number(args.epochs);
const x = concatRows(mnistDigits());
const rows = x.length / 784;
const options = { architecture: "topk", dSae: 1024, k: 32, batchSize: 256, lr: 2e-3, seed: 0 };

const t0 = performance.now();
const { trainer } = await trainSae(nodeBuilds, { dIn: 784, epochs, batches: matrixBatches(x, 784, 256, 0), options });
const seconds = (performance.now() - t0) / 1000;
const ours = { engine: `sae-edge (node ${process.version}, kernel ${trainer.kernel}, 1 thread)`, samples_per_s: (rows * epochs) / seconds, seconds, fvu: trainer.evaluate(x).fvu };

const results = [ours];
const dir = mkdtempSync(join(tmpdir(), "sae-edge-train-bench-"));
writeFileSync(join(dir, "mnist.npy"), serializeNpy(x, [rows, 784]));
const script = join(dirname(fileURLToPath(import.meta.url)), "train_torch.py");
const probe = spawnSync(args.python, ["-c", "import torch"], { encoding: "utf8" });
if (probe.status !== 0) {
  console.log(`PyTorch not found for ${args.python} (apt-get install python3-torch): reporting sae-edge alone`);
} else {
  for (const threads of [cpus().length, 1]) {
    const r = spawnSync(args.python, [script, join(dir, "mnist.npy"), "--epochs", String(epochs), "--threads", String(threads)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
    results.push(JSON.parse(r.stdout.trim().split("\n").pop()));
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(`TopK SAE training, MNIST ${rows} digits, 784→1024, k=32, batch 256, ${epochs} epochs; machine ${cpus()[0].model}, ${cpus().length} cores`);
console.log("| trainer | samples/s | seconds | FVU after training | throughput vs sae-edge |");
console.log("|---|---:|---:|---:|---:|");
for (const r of results) {
  console.log(`| ${r.engine} | ${Math.round(r.samples_per_s)} | ${r.seconds.toFixed(1)} | ${r.fvu.toFixed(4)} | ${(r.samples_per_s / ours.samples_per_s).toFixed(2)}× |`);
}
