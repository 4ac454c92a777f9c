// The int8 fidelity table of issue 12: every architecture × apply_b_dec_to_input at 768×16384 and
// 2304×16384, on a planted dictionary whose inputs carry an offset ten times the rows' spread and
// Student-t (3) per-dim noise, int8 without offset folding, with it (μ = inputMean of calibration
// rows), and with it plus the encoder's residual plane (W_enc_residual), each against the f32
// encoder of the same weights. Reports what it measures; tunes nothing.
// Needs `npm run build`.
//   node bench/fidelity-table.mjs [--rows 300] [--calib 400] [--out bench/results/fidelity-table.md]
//     [--shapes 768x16384,2304x16384] [--arch standard,topk,jumprelu,gated,groupmax] (a subset of the rows)
import { writeFileSync, renameSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { rng } from "./lib/rng.mjs";
import { planted } from "./lib/planted.mjs";

const { values: o } = parseArgs({ options: {
  rows: { type: "string", default: "300" }, calib: { type: "string", default: "400" },
  out: { type: "string", default: "bench/results/fidelity-table.md" },
  shapes: { type: "string", default: "768x16384,2304x16384" },
  arch: { type: "string" },
} });
const lib = await import(new URL("../dist/node.js", import.meta.url).href);
const GOAL = { recall: 0.995, precision: 0.995, value: 5e-3, fvu: 0.01 };
const OFFSET = 10; // × the rows' spread
const ALL_ARCHS = [
  { label: "standard (ReLU)", architecture: "standard", k: 0 },
  { label: "topk k=32", architecture: "topk", k: 32 },
  { label: "topk k=64", architecture: "topk", k: 64 },
  { label: "jumprelu", architecture: "jumprelu", k: 0 },
  { label: "gated", architecture: "gated", k: 0 },
  { label: "groupmax k=64", architecture: "groupmax", k: 64 },
];
const ARCHS = o.arch ? ALL_ARCHS.filter((a) => o.arch.split(",").includes(a.architecture)) : ALL_ARCHS;

// The latent tensors of each architecture, from the planted dictionary: bars t in the tail of the
// cross-talk, and the input offset cancelled by the bias (fold = W_encᵀμ) when b_dec is not subtracted.
function weightsFor(arch, d, applyBDecToInput) {
  const { dIn, dSae, W_enc, W_dec, mu, t, fold } = d;
  const cancel = Float32Array.from(applyBDecToInput ? new Float32Array(dSae) : fold, (f) => -f);
  const base = { architecture: arch.architecture, dIn, dSae, k: arch.k, applyBDecToInput, W_enc, W_dec, b_dec: mu };
  switch (arch.architecture) {
    case "standard": return { ...base, b_enc: Float32Array.from(cancel, (c, j) => c - t[j]) };
    case "jumprelu": return { ...base, b_enc: cancel, threshold: t };
    case "gated": return { ...base, b_enc: new Float32Array(dSae), b_gate: Float32Array.from(cancel, (c, j) => c - t[j]), r_mag: new Float32Array(dSae), b_mag: cancel };
    default: return { ...base, b_enc: cancel };
  }
}

const load = (w, q) => lib.loadSae(lib.serializeModel(lib.buildModel(w, q)));
// The int8 variants of each model: offset folding, and the residual plane on top of it.
const VARIANTS = [{ fold: false, plane: false }, { fold: true, plane: false }, { fold: true, plane: true }];

// Share of latents rescored per row (docs/kernels.md): TopK its candidate pool; the others those above
// their bar minus their bound (GroupMax: a group's best, and its runner-up when close), recomputed
// here in float64 from the model's tensors and the kernel's own int8 pre-activations.
function rescoredShare(model, sae, x, rows) {
  const { spec, tensors } = model;
  const { dIn, dSae, k, architecture } = spec;
  if (architecture === "topk") return Math.min(dSae, k + Math.max(16, k >> 1)) / dSae;
  const q = tensors.W_enc_packed.data, r = tensors.W_enc_residual?.data, scale = tensors.W_enc_scale.data;
  const steps = Math.ceil(dIn / 16);
  const e = new Float64Array(dSae), v = new Float64Array(dSae);
  for (let j = 0; j < dSae; j++) {
    let q2 = 0, r2 = 0;
    for (let c = 0; c < steps; c++) {
      const at = (((j >> 2) * steps + c) * 4 + (j & 3)) * 16, row = (j * steps + c) * 16; // the plane: one row per latent
      for (let t = 0; t < 16; t++) {
        q2 += q[at + t] ** 2;
        if (r) r2 += r[row + t] ** 2;
      }
    }
    e[j] = 4 * scale[j] * Math.sqrt(q2 / 12);
    v[j] = 4 * scale[j] * Math.sqrt(r2 / 64516 / dIn);
  }
  const shift = Float32Array.from({ length: dIn }, (_, i) => (spec.applyBDecToInput ? tensors.b_dec.data[i] : 0) + (spec.xOffset ? tensors.x_offset.data[i] : 0));
  const bar = (j) => (architecture === "jumprelu" ? Math.max(0, tensors.threshold.data[j]) : 0);
  const pre = sae.preActivations(x, rows);
  const group = architecture === "groupmax" ? dSae / k : 0;
  let count = 0;
  for (let row = 0; row < rows; row++) {
    const xp = Float64Array.from({ length: dIn }, (_, i) => x[row * dIn + i] - shift[i]);
    const amax = xp.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    let zz = 0;
    for (const x of xp) zz += Math.round((256 * 63 * x) / amax) ** 2;
    const d = (j) => (amax / 63) * (e[j] + v[j] * (Math.sqrt(zz) / 256));
    const h = pre.subarray(row * dSae, (row + 1) * dSae);
    if (!group) {
      for (let j = 0; j < dSae; j++) if (h[j] > bar(j) - d(j)) count++;
      continue;
    }
    for (let g = 0; g < dSae; g += group) {
      let b = g, s = -1;
      for (let j = g + 1; j < g + group; j++) {
        if (h[j] > h[b]) [s, b] = [b, j];
        else if (s < 0 || h[j] > h[s]) s = j;
      }
      if (h[b] > -d(b)) count += s >= 0 && h[b] - h[s] <= d(b) + d(s) ? 2 : 1;
    }
  }
  return count / (rows * dSae);
}

// fidelityReport's view of a model, each batch's forward kept: the f32 model runs once for both
// int8 variants, and the value error reads the codes the report saw.
function remembered(sae) {
  const seen = new Map();
  const forward = (xb) => seen.get(xb.byteOffset) ?? seen.set(xb.byteOffset, sae.forward(xb)).get(xb.byteOffset);
  return { info: sae.info, forward, codes: () => [...seen.values()].map((f) => f.codes) };
}

// Per row: max |z_int8 − z_f32| over latents active in both, over the row's max |z_f32| (sorted).
function valueErrors(exactBatches, gotBatches) {
  const errs = [];
  exactBatches.forEach((exact, b) => {
    const got = gotBatches[b];
    for (let r = 0; r < exact.rows; r++) {
      const zf = new Map();
      let top = 0;
      for (let e = exact.rowOffsets[r]; e < exact.rowOffsets[r + 1]; e++) {
        zf.set(exact.indices[e], exact.values[e]);
        top = Math.max(top, Math.abs(exact.values[e]));
      }
      let worst = 0;
      for (let e = got.rowOffsets[r]; e < got.rowOffsets[r + 1]; e++) {
        const f = zf.get(got.indices[e]);
        if (f !== undefined) worst = Math.max(worst, Math.abs(got.values[e] - f));
      }
      if (top > 0) errs.push(worst / top);
    }
  });
  return errs.sort((a, b) => a - b);
}

// Median ms of a batch-1 encode over blocks of calls.
function batch1Ms(sae, x, dIn) {
  const rows = Array.from({ length: 16 }, (_, i) => x.subarray(i * dIn, (i + 1) * dIn));
  const ms = [];
  for (let b = 0; b < 5; b++) {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) sae.encode(rows[i & 15], 1);
    ms.push((performance.now() - t0) / 20);
  }
  return ms.sort((a, b) => a - b)[2];
}

const lines = [], results = [];
const t0 = performance.now();
let kernel = "";
for (const [dIn, dSae] of o.shapes.split(",").map((s) => s.split("x").map(Number))) {
  const d = planted(dIn, dSae, { rows: Number(o.rows), calib: Number(o.calib), offset: OFFSET, seed: dIn + dSae });
  for (const arch of ARCHS) for (const applyBDecToInput of [false, true]) {
    const w = weightsFor(arch, d, applyBDecToInput);
    const exactSae = await load(w, "f32"), exact = remembered(exactSae);
    for (const { fold, plane } of VARIANTS) {
      const wq = fold ? { ...w, xOffset: lib.inputMean(w, d.calib) } : w;
      const model = lib.buildModel(wq, "int8", {}, { encoderResidual: plane });
      const sae = await lib.loadSae(lib.serializeModel(model));
      kernel = sae.info.kernel;
      const got = remembered(sae);
      const rep = lib.fidelityReport(exact, got, d.x);
      const v = valueErrors(exact.codes(), got.codes());
      const value = v.at(-1) ?? 0;
      const miss = [
        rep.activeSetRecall < GOAL.recall && "recall",
        rep.activeSetPrecision < GOAL.precision && "precision",
        value > GOAL.value && "value",
        rep.fvuIncrease > GOAL.fvu && "FVU",
      ].filter(Boolean);
      const row = [
        `${dIn}×${dSae}`, arch.label, applyBDecToInput, fold ? "μ = mean" : "none", plane ? "yes" : "no",
        rep.f32.l0.toFixed(1), rep.activeSetRecall.toFixed(4), rep.activeSetPrecision.toFixed(4),
        `${v[v.length >> 1]?.toExponential(1) ?? "-"} / ${value.toExponential(1)}`,
        rep.f32.fvu.toFixed(4), `${(100 * rep.fvuIncrease).toFixed(2)}%`, `${(100 * rescoredShare(model, sae, d.x, Number(o.rows))).toFixed(2)}%`,
        batch1Ms(sae, d.x, dIn).toFixed(2), miss.length ? `unmet: ${miss.join(", ")}` : "met",
      ];
      lines.push(`| ${row.join(" | ")} |`);
      results.push({ fold, plane, met: !miss.length, miss });
      console.error(row.join("\t"));
      sae.dispose();
    }
    exactSae.dispose();
  }
}
const seconds = ((performance.now() - t0) / 1000).toFixed(0);

// How many rows meet every goal in each variant, and which goal each unmet row misses.
function summary() {
  const part = (rs, name) => {
    const by = {};
    for (const r of rs) for (const m of r.miss) by[m] = (by[m] ?? 0) + 1;
    const why = Object.entries(by).map(([m, c]) => `${m} ${c}`).join(", ");
    return `${name}: ${rs.filter((r) => r.met).length} of ${rs.length} rows meet every goal${why ? ` (rows missing each goal: ${why})` : ""}`;
  };
  return [
    part(results.filter((r) => !r.fold), "no folding"),
    part(results.filter((r) => r.fold && !r.plane), "folding"),
    part(results.filter((r) => r.plane), "folding + residual plane"),
  ].join("; ");
}

const cpu = cpus();
const md = `# int8 fidelity table (generated by bench/fidelity-table.mjs; do not edit by hand)

\`node bench/fidelity-table.mjs${process.argv.slice(2).length ? " " + process.argv.slice(2).join(" ") : ""}\` on ${cpu[0]?.model ?? "?"} (${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB), Node ${process.version}, kernel ${kernel}; ${seconds} s.

Each model is int8 against the f32 encoder of the same weights, on ${o.rows} held-out rows. Planted dictionary
per shape (unit-norm decoder atoms, encoder = decoderᵀ, 40 atoms of amplitude e^{0.5·N(0,1)} per row, per-latent
bars t ~ σ·U(3, 4), σ the spread of a non-planted latent's pre-activation); rows = atoms + 0.05·Student-t(3) noise per dim + an offset μ of ${OFFSET} × the rows' spread
(μ_i = ${OFFSET}·spread·N(0, 1)). b_dec = μ; with apply_b_dec_to_input false the bias cancels W_encᵀμ. ReLU:
b_enc = −t; JumpReLU: thresholds t; Gated: b_gate = −t, r_mag = 0, b_mag = 0 (each plus the cancel); TopK / GroupMax:
no bar. "folding": none, or the library's offset option (xOffset = inputMean of ${o.calib} calibration rows);
"plane": the model also stores the encoder's residual plane (\`{ encoderResidual: true }\`, \`quantize --encoder-residual\`).

Columns: L0 of the f32 model; active-set recall and precision (Σ over rows); value error = per row
max |z_int8 − z_f32| over latents active in both, over the row's max |z_f32| (median row / worst row);
FVU of the f32 model and the int8 FVU change relative to it; share of latents rescored per row (TopK: its
candidate pool; the others: those that could be active, docs/kernels.md); median time of one int8 batch-1 encode.
Goals (issue 12): recall ≥ ${GOAL.recall}, precision ≥ ${GOAL.precision}, value error ≤ ${GOAL.value} on the
worst row, FVU increase ≤ ${100 * GOAL.fvu}%.

Summary: ${summary()}.

| shape | architecture | apply_b_dec | folding | plane | L0 | recall | precision | value err (p50 / max) | FVU f32 | ΔFVU | rescored | int8 batch-1 ms | goals |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${lines.join("\n")}
`;
const tmp = `${o.out}.${process.pid}.tmp`;
writeFileSync(tmp, md);
renameSync(tmp, o.out);
console.error(`wrote ${o.out} (${seconds} s)`);
