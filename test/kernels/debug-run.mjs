// Runs the fixed test vectors, plus the paths they leave out (gated, GroupMax, input
// normalization, the residual plane with gated and GroupMax, a low-rank screen, a short training run), through the release builds
// (build/) and the debug builds (build/debug/, precondition asserts on) of the given kernels
// and prints JSON Lines:
//   {"kernel": "simd128", "build": "debug", "case": "int8/topk/20x48k4/b3", "sha256": "..."}
//   {"kernel": "relaxed", "build": "debug", "error": "KERNEL_UNAVAILABLE: ..."}
// Usage: node debug-run.mjs [--out file] kernel...   (--out: the lines go to that file, not stdout;
// the test reads a file, and names the last case written when a child fails)
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { BUILD_DIR, DIST_NODE, REPO, hashOutputs, materialize, randomInput, randomWeights, saeOutputs, sha256, vectorCases } from "../helpers/common.mjs";

const lib = await import(pathToFileURL(DIST_NODE).href);
const train = await import(pathToFileURL(`${REPO}dist/train.js`).href);
const args = process.argv.slice(2);
const file = args[0] === "--out" ? args.splice(0, 2)[1] : null;
if (file) writeFileSync(file, "");
const out = (o) => (file ? appendFileSync(file, JSON.stringify(o) + "\n") : process.stdout.write(JSON.stringify(o) + "\n"));
// Each build compiled once, as the Node adapter does.
function buildsIn(dir) {
  const compiled = new Map();
  const build = (name) => async () => {
    const bytes = readFileSync(`${dir}${name}.wasm`);
    if (!WebAssembly.validate(bytes)) return bytes; // the core reports it as unsupported
    if (!compiled.has(name)) compiled.set(name, WebAssembly.compile(bytes));
    return compiled.get(name);
  };
  return Object.fromEntries(lib.KERNELS.map((name) => [name, build(name)]));
}

function otherCases() {
  const cases = [];
  // offset: rows shifted by μ_i = offset · sin(i), which int8 models then quantize around (x_offset).
  // encoderResidual: the int8 model stores its encoder's residual plane (W_enc_residual).
  const add = (id, weights, quant, rows, seed, offset = 0, encoderResidual = false) => {
    const mu = Float32Array.from({ length: weights.dIn }, (_, i) => offset * Math.sin(i));
    const x = randomInput(rows, weights.dIn, seed, weights.b_dec).map((v, i) => v + mu[i % weights.dIn]);
    const bytes = lib.serializeModel(lib.buildModel(offset ? { ...weights, xOffset: lib.inputMean(weights, x) } : weights, quant, {}, { encoderResidual }));
    cases.push({ id, bytes, rows, x });
  };
  let seed = 5000;
  for (const quant of ["int8", "f32"]) {
    const base = randomWeights({ architecture: "standard", dIn: 37, dSae: 48, seed: ++seed });
    const per = (s) => Float32Array.from({ length: 48 }, (_, j) => Math.sin(j * s) * 0.3);
    add(`${quant}/gated/37x48/b5`, { ...base, architecture: "gated", b_gate: per(1.3), r_mag: per(0.7), b_mag: per(2.1) }, quant, 5, ++seed);
    add(`${quant}/groupmax/37x48k6/b5`, { ...base, architecture: "groupmax", k: 6 }, quant, 5, ++seed);
    if (quant === "int8") {
      add("int8/gated-offset/37x48/b9", { ...base, architecture: "gated", b_gate: per(1.1), r_mag: per(0.5), b_mag: per(1.7) }, quant, 9, ++seed, 4);
      add("int8/groupmax-offset/37x48k6/b9", { ...base, architecture: "groupmax", k: 6 }, quant, 9, ++seed, 4);
      add("int8/standard-offset/37x48/b9", { ...base, b_enc: per(0.9).map((v) => v - 0.05) }, quant, 9, ++seed, 4);
      add("int8-residual/gated-offset/37x48/b9", { ...base, architecture: "gated", b_gate: per(1.1), r_mag: per(0.5), b_mag: per(1.7) }, quant, 9, ++seed, 4, true);
      add("int8-residual/groupmax/37x48k6/b9", { ...base, architecture: "groupmax", k: 6 }, quant, 9, ++seed, 0, true);
    }
    for (const normalization of ["layer_norm", "constant_norm_rescale"]) {
      add(`${quant}/topk-${normalization}/37x48k5/b5`, { ...randomWeights({ architecture: "topk", dIn: 37, dSae: 48, k: 5, seed: ++seed }), normalization }, quant, 5, ++seed);
    }
  }
  const topk = lib.serializeModel(lib.buildModel(randomWeights({ architecture: "topk", dIn: 64, dSae: 96, k: 6, seed: ++seed }), "int8"));
  cases.push({ id: "int8/topk-screen/64x96k6/b7", bytes: lib.addScreen(topk, randomInput(200, 64, ++seed), { rank: 16, pool: 24 }), rows: 7, x: randomInput(7, 64, ++seed) });
  cases.push({ id: "int8/topk-int4screen/64x96k6/b7", bytes: lib.addInt4Screen(topk, { pool: 24 }), rows: 7, x: randomInput(7, 64, ++seed) });
  return cases;
}

const cases = [...vectorCases().map((c) => materialize(c, lib)), ...otherCases()];

async function trainedModel(builds, kernel) {
  const x = randomInput(128, 24, 77);
  const { trainer } = await train.trainSae(builds, {
    dIn: 24, epochs: 2, batches: train.matrixBatches(x, 24, 32, 0), options: { architecture: "topk", dSae: 32, k: 4, batchSize: 32, kernel },
  });
  return lib.serializeModel(lib.buildModel(trainer.weights(), "f32"));
}

// Node 20 can stall when its event loop runs idle while a promise waits on V8 (here wasm
// instantiation) and a background compile job waits for a GC (nodejs/node#54918) until a timer
// turns the loop: one that fires every 10 ms keeps each stall that short (at 60 s, the dozens of
// instantiations here sometimes ran past the test's 120 s under load).
const keepAlive = setInterval(() => {}, 10);
for (const kernel of args) {
  for (const [build, dir] of [["release", BUILD_DIR], ["debug", `${BUILD_DIR}debug/`]]) {
    const builds = buildsIn(dir);
    try {
      for (const c of cases) {
        const sae = await lib.loadSaeWith(builds, c.bytes, { kernel });
        out({ kernel, build, case: c.id, sha256: hashOutputs(saeOutputs(sae, c.x, c.rows)).all });
        sae.dispose();
      }
      out({ kernel, build, case: "train/topk/24x32k4", sha256: sha256(await trainedModel(builds, kernel)) });
    } catch (e) {
      out({ kernel, build, error: `${e.code ?? e.name}: ${e.message}` });
    }
  }
}
clearInterval(keepAlive);
// Then exit explicitly: with every line written, Node 20 also hung at exit about once in six runs
// here, all its threads waiting (a reproduction: the last case written, no CPU used, killed after
// 40 s), which the test saw as a rare stall. Lines sent to a pipe are flushed first.
if (file) process.exit(0);
else process.stdout.write("", () => process.exit(0));
