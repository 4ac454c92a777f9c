// What rescoring, offset folding and the encoder's residual plane cost per row at batch 1: int8
// encode of a d_in × d_sae ReLU / JumpReLU SAE (~1% active, thresholds in the tail like trained
// SAEs), this build (plain, with x_offset, with x_offset and W_enc_residual) against another (e.g. a
// build without rescoring), interleaved in blocks so all see the same machine; wall and process CPU time per row
// (the CPU time is less disturbed by other jobs preempting this one), and each variant's median change
// against the first over paired blocks; the share of latents rescored and of those that read the plane.
//   node bench/rescore-cost.mjs --before /work/main/dist/node.js [--shape 768x24576] [--kernel simd128]
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { rng } from "./lib/rng.mjs";

const { values: o } = parseArgs({ options: {
  before: { type: "string" }, shape: { type: "string", default: "768x24576" }, kernel: { type: "string" },
  blocks: { type: "string", default: "15" }, calls: { type: "string", default: "100" },
} });
const [dIn, dSae] = o.shape.split("x").map(Number);
const after = await import(new URL("../dist/node.js", import.meta.url).href);
const before = o.before ? await import(pathToFileURL(o.before).href) : null;

const n = rng(11).n;
const W_enc = Float32Array.from({ length: dIn * dSae }, () => n() / Math.sqrt(dIn)); // h ~ N(0, ‖x‖²/d_in)
const W_dec = Float32Array.from({ length: dSae * dIn }, () => n() / Math.sqrt(dIn));
const mu = Float32Array.from({ length: dIn }, () => 3 * n()); // a shared offset, cancelled by b_enc
const xs = Array.from({ length: 64 }, () => Float32Array.from({ length: dIn }, (_, i) => n() + mu[i]));
const fold = new Float32Array(dSae);
for (let i = 0; i < dIn; i++) for (let j = 0; j < dSae; j++) fold[j] += W_enc[i * dSae + j] * mu[i];
const b = Float32Array.from(fold, (f) => -f);
const TAIL = 2.33; // 1% of N(0, 1) above
const cases = {
  relu: { architecture: "standard", b_enc: Float32Array.from(b, (v) => v - TAIL) },
  jumprelu: { architecture: "jumprelu", b_enc: b, threshold: new Float32Array(dSae).fill(TAIL) },
};

// Shares of latents rescored over the 64 rows (docs/kernels.md): stage 1, those whose 7-bit value
// is above the bar minus their bound; with the plane, stage 2, those whose 15-bit int8 value is
// still within the weight-rounding bound of the bar (the only ones that read their plane row).
function rescoredShares(model, sae, w) {
  const { W_enc_packed: q, W_enc_residual: r, W_enc_scale: scale } = Object.fromEntries(Object.entries(model.tensors).map(([k, t]) => [k, t.data]));
  const steps = Math.ceil(dIn / 16);
  const sumSq = (plane, at, j) => {
    let s2 = 0;
    for (let i = 0; i < dIn; i++) s2 += plane[at(i, j)] ** 2;
    return s2;
  };
  const packed = (i, j) => (((j >> 2) * steps + (i >> 4)) * 4 + (j & 3)) * 16 + (i & 15);
  const row = (i, j) => j * steps * 16 + i; // the residual plane: one row per latent
  const e = Float64Array.from({ length: dSae }, (_, j) => 4 * scale[j] * Math.sqrt(sumSq(q, packed, j) / 12));
  const v = Float64Array.from({ length: dSae }, (_, j) => (r ? 4 * scale[j] * Math.sqrt(sumSq(r, row, j) / 64516 / dIn) : 0));
  const off = w.xOffset ?? new Float32Array(dIn);
  const bEnc = sae.preActivations(Float32Array.from(off), 1); // x′ = 0: the bias
  let near = 0, plane = 0;
  for (const x of xs) {
    const h = sae.preActivations(x, 1);
    let amax = 0;
    for (let i = 0; i < dIn; i++) amax = Math.max(amax, Math.abs(x[i] - off[i]));
    const z = Array.from({ length: dIn }, (_, i) => Math.round((256 * 63 * (x[i] - off[i])) / amax));
    const sx = amax / 63, yNorm = Math.hypot(...z) / 256;
    for (let j = 0; j < dSae; j++) {
      const bar = w.threshold ? w.threshold[j] : 0;
      if (!(h[j] > bar - sx * (e[j] + v[j] * yNorm))) continue;
      near++;
      if (!r) continue;
      let s = 0;
      for (let i = 0; i < dIn; i++) s += q[packed(i, j)] * z[i];
      if ((s * sx * scale[j]) / 256 + bEnc[j] > bar - sx * v[j] * yNorm) plane++;
    }
  }
  return { near: near / (xs.length * dSae), plane: r ? plane / (xs.length * dSae) : NaN };
}
const median = (a) => a.slice().sort((p, q) => p - q)[a.length >> 1];
for (const [name, c] of Object.entries(cases)) {
  const w = { dIn, dSae, k: 0, applyBDecToInput: false, W_enc, W_dec, b_dec: new Float32Array(dIn), ...c };
  const runs = [];
  if (before) runs.push(["before", before, w]);
  runs.push(["after", after, w], ["after+x_offset", after, { ...w, xOffset: mu }], ["after+x_offset+residual", after, { ...w, xOffset: mu }, { encoderResidual: true }]);
  const timed = [];
  for (const [label, lib, weights, options = {}] of runs) {
    const model = lib.buildModel(weights, "int8", {}, options);
    const bytes = lib.serializeModel(model);
    const t0 = performance.now();
    const sae = await lib.loadSae(bytes, o.kernel ? { kernel: o.kernel } : {});
    const load = performance.now() - t0;
    const codes = sae.encode(Float32Array.from(xs.flatMap((x) => Array.from(x))), xs.length);
    timed.push({ label, sae, load, active: codes.indices.length / xs.length, ms: [], cpu: [], ...(label === "before" ? { near: NaN, plane: NaN } : rescoredShares(model, sae, weights)) });
  }
  const calls = Number(o.calls);
  for (let blk = 0; blk < Number(o.blocks); blk++) {
    // Each block starts with the next variant: whichever runs first or last in a block (measured: ±10%) is not always the same.
    for (const t of timed.map((_, i) => timed[(blk + i) % timed.length])) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      for (let i = 0; i < calls; i++) t.sae.encode(xs[i & 63], 1);
      t.ms.push((performance.now() - t0) / calls);
      const c = process.cpuUsage(c0);
      t.cpu.push((c.user + c.system) / 1000 / calls);
    }
  }
  // Each block against the first variant's same block (paired, so slow swings in the machine's load cancel).
  const paired = (t, key) => median(t[key].map((v, i) => v / timed[0][key][i] - 1));
  const pct = (r) => `${r >= 0 ? "+" : ""}${(100 * r).toFixed(1)}%`;
  for (const t of timed) {
    const s = t.ms.slice().sort((p, q) => p - q);
    console.log(`${name}\t${t.label}\t${t.sae.info.kernel}\tmedian ${median(t.ms).toFixed(3)} ms/row\t[min ${s[0].toFixed(3)}, max ${s.at(-1).toFixed(3)}] over ${t.ms.length}×${calls}\tcpu median ${median(t.cpu).toFixed(3)} ms/row\tactive/row ${t.active.toFixed(1)}\trescored ${(100 * t.near).toFixed(2)}% of latents, ${(100 * t.plane).toFixed(2)}% read the plane\tload ${t.load.toFixed(0)} ms`);
    if (t !== timed[0]) console.log(`${name}\t${t.label}\tvs ${timed[0].label}, median of paired blocks: wall ${pct(paired(t, "ms"))}, cpu ${pct(paired(t, "cpu"))}`);
  }
}
