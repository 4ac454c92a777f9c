// Runs the fixed test vectors through the built library (dist/node.js) and
// prints JSON Lines on stdout:
//   {"defaultKernel": "...", "node": "v20..."}
//   {"kernel": "simd128", "case": "int8/topk/20x48k4/b3", "sha256": "...", "parts": {...}, "model": "...", "finite": true}
//   {"kernel": "relaxed", "error": "KERNEL_UNAVAILABLE: ..."}   (a kernel this engine cannot run)
// Usage: node vectors-run.mjs [kernel ...]   kernels: scalar simd128 relaxed default (default: all four)
// "default" loads with no kernel option (the engine's automatic choice); relaxed-fused and
// relaxed-split force the relaxed build's inner loop.
import { pathToFileURL } from "node:url";
import { DIST_NODE, allFinite, hashOutputs, materialize, saeOutputs, sha256, vectorCases } from "./common.mjs";

const lib = await import(pathToFileURL(DIST_NODE).href);
const kernels = process.argv.slice(2).length ? process.argv.slice(2) : ["scalar", "simd128", "relaxed", "default"];
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const cases = vectorCases().map((c) => materialize(c, lib));

{
  const probe = await lib.loadSae(cases[0].bytes);
  out({ defaultKernel: probe.info.kernel, node: process.version, execArgv: process.execArgv });
  probe.dispose();
}

for (const kernel of kernels) {
  const [build, relaxedDot] = kernel.split("-");
  const options = kernel === "default" ? {} : relaxedDot ? { kernel: build, relaxedDot } : { kernel };
  for (const c of cases) {
    let sae;
    try {
      sae = await lib.loadSae(c.bytes, options);
    } catch (e) {
      out({ kernel, error: `${e.code ?? e.name}: ${e.message}` });
      break;
    }
    const o = saeOutputs(sae, c.x, c.rows);
    const { all, parts } = hashOutputs(o);
    out({ kernel, chosen: sae.info.kernel, relaxedDot: sae.info.relaxedDot, case: c.id, sha256: all, parts, model: sha256(c.bytes), finite: allFinite(o) });
    sae.dispose();
  }
}
