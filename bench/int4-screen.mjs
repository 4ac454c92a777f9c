// The int4 screen (addInt4Screen / sae-edge screen --int4) against the plain int8 encode of the same
// model and onnxruntime-node int8 (native, 1 thread) on the same int8 weights: batch-1 time, in
// alternating calls in one process (median, p10–p90, and the median of per-call ratios), and
// active-set recall against the unscreened model and, given the float32 model, against exact f32.
// Workloads: the bundled MNIST SAE on its digits; --model (a trained SAE, e.g. from
// bench/trained_sae.py, with --f32 and --rows); --random dIn x dSae (random weights: speed only).
//   node bench/int4-screen.mjs [--kernel simd128|relaxed] [--model m.safetensors --f32 f.safetensors --rows x.npy]
//                              [--random 2304x65536] [--pool 128] [--calls 400]
// --kernel relaxed restarts the script under Node 22 (test/engines), the relaxed-SIMD engine.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { addInt4Screen, buildModel, fidelityReport, loadSae, parseNpy, parseSafetensors, serializeModel } from "../dist/node.js";
import { mnistDigits } from "../dist/demo.js";
import { NODE22, PEERS_INSTALLED } from "./lib/peers.mjs";
import { unpackI8 } from "./lib/data.mjs";
import { rng } from "./lib/rng.mjs";

const { values: a } = parseArgs({
  options: {
    kernel: { type: "string", default: "simd128" }, model: { type: "string" }, f32: { type: "string" }, rows: { type: "string" },
    random: { type: "string", multiple: true, default: [] }, pool: { type: "string" }, calls: { type: "string", default: "400" },
    "no-mnist": { type: "boolean" },
  },
});
if (a.kernel === "relaxed" && Number(process.versions.node.split(".")[0]) < 22) {
  const r = spawnSync(NODE22, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
const pool = a.pool ? Number(a.pool) : undefined;
const calls = Number(a.calls);
const q = (v, p) => [...v].sort((x, y) => x - y)[Math.min(v.length - 1, Math.floor(p * v.length))];
const fmt = (v) => `${q(v, 0.5).toFixed(3)} (${q(v, 0.1).toFixed(3)}–${q(v, 0.9).toFixed(3)})`;

// onnxruntime-node's int8 encoder graph (bench/peers/onnx.mjs) on the model's own int8 weights.
async function ortNode(model, x) {
  if (!PEERS_INSTALLED) return null;
  const st = parseSafetensors(model);
  const meta = st.header.metadata;
  const f32 = (n) => new Float32Array(st.tensor(n).slice().buffer);
  const [dIn, dSae] = [Number(meta.d_in), Number(meta.d_sae)];
  const { open } = await import("./peers/ort.mjs");
  const b_dec = meta.apply_b_dec_to_input === "true" ? f32("b_dec") : new Float32Array(dIn);
  return open({ dIn, dSae, k: Number(meta.k), arch: "topk", x, b_dec, b_enc: f32("b_enc"), w_scale: f32("W_enc_scale"), Wq: () => unpackI8(new Int8Array(st.tensor("W_enc_packed").slice().buffer), dIn, dSae) }, { flavor: "node", graph: "int8" });
}

function recall(ref, got) {
  let hit = 0;
  for (let r = 0; r < ref.rows; r++) {
    const want = new Set(ref.indices.subarray(ref.rowOffsets[r], ref.rowOffsets[r + 1]));
    for (let e = got.rowOffsets[r]; e < got.rowOffsets[r + 1]; e++) if (want.has(got.indices[e])) hit++;
  }
  return hit / ref.indices.length;
}

async function measure(name, model, x, f32Path) {
  const kernel = a.kernel;
  const plain = await loadSae(model, { kernel });
  const screened = await loadSae(addInt4Screen(model, { pool }), { kernel });
  const { dIn } = plain.info;
  const recallPlain = recall(plain.encode(x), screened.encode(x));
  let vsF32 = "–";
  if (f32Path) {
    const exact = await loadSae(f32Path);
    vsF32 = `${fidelityReport(exact, plain, x).activeSetRecall.toFixed(4)} / ${fidelityReport(exact, screened, x).activeSetRecall.toFixed(4)}`;
  }
  const ort = await ortNode(model, x);
  const rows = x.length / dIn;
  const t = { plain: [], screened: [], ort: [] };
  for (let i = 0; i < calls + 50; i++) {
    const row = x.subarray((i % rows) * dIn, ((i % rows) + 1) * dIn);
    let t0 = performance.now(); plain.encode(row); const tp = performance.now() - t0;
    t0 = performance.now(); screened.encode(row); const ts = performance.now() - t0;
    let to = NaN;
    if (ort) { t0 = performance.now(); await ort.run(row, 1); to = performance.now() - t0; }
    if (i < 50) continue;
    t.plain.push(tp); t.screened.push(ts); t.ort.push(to);
  }
  const ratio = (p, s) => p.map((v, i) => v / s[i]);
  const info = screened.info;
  console.log(`| ${name} | ${info.kernel}${info.relaxedDot ? ` (${info.relaxedDot})` : ""} | ${info.screen.pool} | ${fmt(t.plain)} | ${fmt(t.screened)} | ${fmt(ratio(t.plain, t.screened))} | ${ort ? `${fmt(t.ort)}${/U8U8/.test(ort.label) ? " (U8U8)" : ""} | ${fmt(ratio(t.ort, t.screened))}` : "– | –"} | ${recallPlain.toFixed(4)} | ${vsF32} |`);
  await ort?.close();
}

console.log(`int4 screen, batch 1, ${a.kernel}, node ${process.version} (V8 ${process.versions.v8}), ${cpus()[0].model.trim()} × ${cpus().length}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}, ${calls} alternating calls\n`);
console.log("| workload | kernel | pool | int8 ms (p10–p90) | int4 screen ms | int8 / screen | onnxruntime-node int8 ms | ort / screen | recall vs unscreened | recall vs f32 (int8 / screen) |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");

if (!a["no-mnist"]) {
  const digits = mnistDigits();
  const x = new Float32Array(digits.reduce((n, d) => n + d.length, 0));
  let o = 0;
  for (const d of digits) { x.set(d, o); o += d.length; }
  await measure("MNIST 784×1024 k=32 (bundled)", new Uint8Array(readFileSync(new URL("../models/mnist-topk-1024.safetensors", import.meta.url))), x);
}
if (a.model) {
  const npy = parseNpy(new Uint8Array(readFileSync(a.rows)));
  const x = npy.data instanceof Float32Array ? npy.data : Float32Array.from(npy.data);
  await measure(a.model.split("/").pop(), new Uint8Array(readFileSync(a.model)), x, a.f32);
}
for (const shape of a.random) {
  const [dIn, dSae] = shape.split("x").map(Number);
  const r = rng(dIn + dSae);
  const w = 1 / Math.sqrt(dIn);
  const model = serializeModel(buildModel({
    architecture: "topk", dIn, dSae, k: 32, applyBDecToInput: false,
    W_enc: Float32Array.from({ length: dIn * dSae }, () => r.n() * w), b_enc: new Float32Array(dSae),
    W_dec: new Float32Array(dSae * dIn), b_dec: new Float32Array(dIn),
  }, "int8"));
  await measure(`random ${dIn}×${dSae} k=32`, model, Float32Array.from({ length: 64 * dIn }, () => r.n()));
}
