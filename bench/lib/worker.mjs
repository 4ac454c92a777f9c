// Child process: one job on one shape's data folder, result as JSON on stdout.
//   --job ref                    reference outputs (prepare.mjs)
//   --job roofline [--bw]        compute ceilings of this engine (and read bandwidth over the weights)
//   --job peer --peer ID         correctness check, then timing per batch
// Exit 3 when a peer's output does not match the reference.
import { parseArgs } from "node:util";
import { readShape } from "./data.mjs";
import { PEERS } from "./peers.mjs";
import { compare, exactVsInt8, TOL } from "./check.mjs";

const { values: a } = parseArgs({
  options: {
    job: { type: "string" }, dir: { type: "string" }, peer: { type: "string" }, bw: { type: "boolean", default: false },
    batches: { type: "string", default: "1" }, "ms-per-case": { type: "string", default: "1000" }, "max-run-ms": { type: "string", default: "2000" },
  },
});
const emit = (obj) => process.stdout.write(JSON.stringify(obj));
const quantile = (s, q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];

async function timeBatch(peer, x, n, msPerCase) {
  // Warm up (wasm tier-up, JIT) for 3 runs and up to 200 ms (less for tiny runs), but stop after 600 ms.
  const w0 = performance.now(), warm = Math.min(200, msPerCase);
  for (let runs = 0; runs === 0 || performance.now() - w0 < warm || (runs < 3 && performance.now() - w0 < 600); runs++) await peer.run(x, n);
  const samples = [];
  const start = performance.now();
  while (samples.length < 3 || performance.now() - start < msPerCase) {
    const t0 = performance.now();
    await peer.run(x, n);
    samples.push(performance.now() - t0);
  }
  samples.sort((p, q) => p - q);
  return { batch: n, runs: samples.length, median_ms: quantile(samples, 0.5), p10_ms: quantile(samples, 0.1), p90_ms: quantile(samples, 0.9), samples };
}

async function peerJob() {
  const d = readShape(a.dir);
  const spec = PEERS[a.peer];
  const peer = await spec.open(d);
  const n = d.checkRows;
  const raw = await peer.run(d.x, n);
  const out = peer.normalize ? peer.normalize(raw, n) : raw;
  const tol = spec.int8 ? TOL.int8 : TOL.f32;
  const check = { ...compare(d, peer.output, out, n), tol, rows: n };
  // Anything computing sae-edge's int8 pre-activations must equal them exactly.
  if (peer.output === "preact" && spec.int8) check.mismatchVsInt8 = exactVsInt8(d, out, n);
  check.ok = check.relErr <= tol && !check.mismatchVsInt8;
  const head = { peer: a.peer, label: peer.label, version: peer.version, output: peer.output, check };
  if (!check.ok) {
    emit({ ...head, results: [] });
    process.exit(3);
  }
  const results = [];
  const msPerCase = Number(a["ms-per-case"]), maxRun = Number(a["max-run-ms"]);
  let last = null;
  for (const b of a.batches.split(",").map(Number)) {
    const est = last ? (last.median_ms * b) / last.batch : 0;
    if (est > maxRun) {
      results.push({ batch: b, skipped: `one run ≈ ${(est / 1000).toFixed(1)} s > --max-run-ms` });
      continue;
    }
    last = await timeBatch(peer, d.x, b, msPerCase);
    results.push(last);
  }
  await peer.close?.();
  emit({ ...head, results });
}

async function rooflineJob() {
  const { bandwidth, ceilings } = await import("../roofline/roofline.mjs");
  const relaxed = Number(process.versions.node.split(".")[0]) >= 22;
  const out = { engine: `node ${process.version}`, simd128: await ceilings("simd128") };
  if (relaxed) out.relaxed = await ceilings("relaxed");
  if (a.bw) {
    const d = readShape(a.dir);
    out.bandwidth = await bandwidth(d.dIn * d.dSae, Number(a["ms-per-case"]));
  }
  emit(out);
}

if (a.job === "ref") {
  await (await import("./prepare.mjs")).reference(a.dir);
  emit({ ok: true });
} else if (a.job === "roofline") {
  await rooflineJob();
} else {
  await peerJob();
}
