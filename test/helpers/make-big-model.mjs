// The random 768 x 24576 TopK (k = 32) int8 sae-edge model (~38 MB). As a script it writes
// the model to argv[2] and prints {"bytes": N}: run in its own process so the f32 weights it
// builds (~150 MB) never inflate the memory measurement of load-peak.mjs.
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { DIST_NODE, rng } from "./common.mjs";

/** The model, built by lib's buildModel (lib: the built library, dist/node.js by default). */
export async function bigModel(lib) {
  const { buildModel } = lib ?? (await import(pathToFileURL(DIST_NODE).href));
  const dIn = 768, dSae = 24576, k = 32;
  const r = rng(2024);
  const uniform = (n, s) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * s;
    return a;
  };
  const weights = {
    architecture: "topk", dIn, dSae, k, applyBDecToInput: true,
    W_enc: uniform(dIn * dSae, 0.06), b_enc: uniform(dSae, 0.1),
    W_dec: uniform(dSae * dIn, 0.06), b_dec: uniform(dIn, 0.1),
  };
  return buildModel(weights, "int8", { source_format: "peak-memory-test" });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { serializeModel } = await import(pathToFileURL(DIST_NODE).href);
  const bytes = serializeModel(await bigModel());
  writeFileSync(process.argv[2], bytes);
  process.stdout.write(JSON.stringify({ bytes: bytes.length }) + "\n");
}
