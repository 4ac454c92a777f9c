// Loads the model at argv[2] with dist/node.js in a fresh process and prints
// {"file", "rssBefore", "maxRss", "growth"}: process.memoryUsage().rss before,
// process.resourceUsage().maxRSS (KiB -> bytes) after await loadSae(path).
// Run with --expose-gc so the baseline is taken after a full collection.
import { statSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { DIST_NODE } from "./common.mjs";

const { loadSae } = await import(pathToFileURL(DIST_NODE).href);
const path = process.argv[2];
const file = statSync(path).size;
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;
const sae = await loadSae(path);
const maxRss = process.resourceUsage().maxRSS * 1024;
// The loaded model works.
const x = new Float32Array(sae.info.dIn).map((_, i) => Math.sin(i));
const codes = sae.encode(x);
process.stdout.write(JSON.stringify({
  file, rssBefore, maxRss, growth: maxRss - rssBefore, kernel: sae.info.kernel,
  dIn: sae.info.dIn, dSae: sae.info.dSae, k: sae.info.k, codes: codes.indices.length,
}) + "\n");
