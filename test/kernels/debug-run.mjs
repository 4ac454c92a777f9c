// Runs the fixed test vectors through the release builds (build/) and the debug builds
// (build/debug/, precondition asserts on) of the given kernels and prints JSON Lines:
//   {"kernel": "simd128", "build": "debug", "case": "int8/topk/20x48k4/b3", "sha256": "..."}
//   {"kernel": "relaxed", "build": "debug", "error": "KERNEL_UNAVAILABLE: ..."}
// Usage: node debug-run.mjs kernel...
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { BUILD_DIR, DIST_NODE, hashOutputs, materialize, saeOutputs, vectorCases } from "../helpers/common.mjs";

const lib = await import(pathToFileURL(DIST_NODE).href);
const cases = vectorCases().map((c) => materialize(c, lib));
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const buildsIn = (dir) => Object.fromEntries(lib.KERNELS.map((name) => [name, () => Promise.resolve(readFileSync(`${dir}${name}.wasm`))]));

for (const kernel of process.argv.slice(2)) {
  for (const [build, dir] of [["release", BUILD_DIR], ["debug", `${BUILD_DIR}debug/`]]) {
    const builds = buildsIn(dir);
    for (const c of cases) {
      let sae;
      try {
        sae = await lib.loadSaeWith(builds, c.bytes, { kernel });
      } catch (e) {
        out({ kernel, build, error: `${e.code ?? e.name}: ${e.message}` });
        break;
      }
      out({ kernel, build, case: c.id, sha256: hashOutputs(saeOutputs(sae, c.x, c.rows)).all });
      sae.dispose();
    }
  }
}
