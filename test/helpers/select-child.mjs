// selectKernel (from dist/index.js) with hand-made builds objects, for engines other
// than the test runner's. Prints one JSON line per scenario: {scenario, chosen} or {scenario, error}.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { BUILD_DIR, DIST_INDEX } from "./common.mjs";

const { selectKernel } = await import(pathToFileURL(DIST_INDEX).href);
const real = (name) => new Uint8Array(readFileSync(`${BUILD_DIR}${name}.wasm`));
const relaxed = real("relaxed");
const scenarios = {
  real: () => ({ relaxed: real("relaxed"), simd128: real("simd128"), scalar: real("scalar") }),
  corruptRelaxed: () => ({ relaxed: relaxed.map((b, i) => (i >= 8 && i % 7 === 0 ? b ^ 0x5a : b)), simd128: real("simd128"), scalar: real("scalar") }),
  truncatedRelaxed: () => ({ relaxed: relaxed.subarray(0, relaxed.length >> 1), simd128: real("simd128"), scalar: real("scalar") }),
  emptyModuleRelaxed: () => ({ relaxed: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), simd128: real("simd128"), scalar: real("scalar") }),
  throwingRelaxed: () => ({ relaxed: async () => { throw new Error("fetch failed"); }, simd128: real("simd128"), scalar: real("scalar") }),
};
for (const [scenario, builds] of Object.entries(scenarios)) {
  for (const force of [undefined, "relaxed"]) {
    try {
      const k = await selectKernel(builds(), force);
      process.stdout.write(JSON.stringify({ scenario, force, chosen: k.name }) + "\n");
    } catch (e) {
      process.stdout.write(JSON.stringify({ scenario, force, error: e.code ?? String(e) }) + "\n");
    }
  }
}
