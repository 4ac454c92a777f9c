// int8 active-set recall / precision against the exact (f32) encoder, on the upstream fixtures
// (test/fixtures/upstream) and on offset-heavy versions of their inputs, for several choices of
// the input offset μ that int8 quantizes around (x_offset). Needs `npm run build`.
// Usage: node bench/int8-fidelity.mjs [--rows 400] [--before /path/to/other/dist/node.js]
import { readdirSync, existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { rng } from "./lib/rng.mjs";

const { values: o } = parseArgs({ options: { rows: { type: "string", default: "400" }, before: { type: "string" } } });
const lib = await import(new URL("../dist/node.js", import.meta.url).href);
const before = o.before ? await import(pathToFileURL(o.before).href) : undefined;
const ROOT = new URL("../test/fixtures/upstream/", import.meta.url);
const rows = Number(o.rows);

// Rows like the fixture's x (resampled, per-dim noise at its spread) plus offset c · rms · u, u a fixed random direction of norm √d_in.
function inputs(x0, dIn, n, c, seed) {
  const r = rng(seed), n0 = x0.length / dIn;
  let ss = 0;
  for (const v of x0) ss += v * v;
  const rms = Math.sqrt(ss / x0.length) || 1;
  const dir = Float64Array.from({ length: dIn }, () => r.n());
  const x = new Float32Array(n * dIn);
  for (let k = 0; k < n; k++) {
    const src = Math.floor(r.u() * n0);
    for (let i = 0; i < dIn; i++) x[k * dIn + i] = x0[src * dIn + i] + 0.3 * rms * r.n() + c * rms * dir[i];
  }
  return x;
}

function median(rowsX, dIn) {
  const n = rowsX.length / dIn;
  return Float32Array.from({ length: dIn }, (_, i) => {
    const col = Array.from({ length: n }, (_, r) => rowsX[r * dIn + i]).sort((a, b) => a - b);
    return n % 2 ? col[(n - 1) / 2] : (col[n / 2 - 1] + col[n / 2]) / 2;
  });
}

function score(exact, got) {
  let both = 0, want = 0, have = 0;
  for (let r = 0; r < exact.rows; r++) {
    const e = new Set(exact.indices.subarray(exact.rowOffsets[r], exact.rowOffsets[r + 1]));
    const g = got.indices.subarray(got.rowOffsets[r], got.rowOffsets[r + 1]);
    want += e.size;
    have += g.length;
    for (const j of g) if (e.has(j)) both++;
  }
  return `${(want ? both / want : 1).toFixed(4)}/${(have ? both / have : 1).toFixed(4)}`;
}

// A planted JumpReLU dictionary like ../shared/tools/int8_fidelity_sim.py: unit atoms, encoder =
// decoderᵀ, ~40 of 4096 active, inputs sharing the offset c · N(0, 1) per dim, cancelled by b_enc.
async function planted(dIn, dSae, c) {
  const r = rng(100 + c);
  const atoms = new Float32Array(dSae * dIn);
  for (let j = 0; j < dSae; j++) {
    let s = 0;
    for (let i = 0; i < dIn; i++) s += (atoms[j * dIn + i] = r.n()) ** 2;
    for (let i = 0; i < dIn; i++) atoms[j * dIn + i] /= Math.sqrt(s);
  }
  const W_enc = new Float32Array(dIn * dSae);
  for (let j = 0; j < dSae; j++) for (let i = 0; i < dIn; i++) W_enc[i * dSae + j] = atoms[j * dIn + i];
  const mu = Float64Array.from({ length: dIn }, () => c * r.n());
  const make = () => {
    const x = new Float32Array(rows * dIn);
    for (let k = 0; k < rows; k++) {
      const row = Float64Array.from({ length: dIn }, (_, i) => 0.05 * r.n() + mu[i]);
      for (let a = 0; a < 40; a++) {
        const j = Math.floor(r.u() * dSae), amp = Math.exp(0.5 * r.n());
        for (let i = 0; i < dIn; i++) row[i] += amp * atoms[j * dIn + i];
      }
      x.set(row, k * dIn);
    }
    return x;
  };
  const calib = make(), x = make();
  const b_enc = new Float32Array(dSae), threshold = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) {
    let s = 0;
    for (let i = 0; i < dIn; i++) s += W_enc[i * dSae + j] * mu[i];
    b_enc[j] = -s;
    threshold[j] = 0.5 + 0.5 * r.u();
  }
  const w = { architecture: "jumprelu", dIn, dSae, k: 0, applyBDecToInput: false, W_enc, b_enc, W_dec: atoms, b_dec: new Float32Array(dIn), threshold };
  const exact = (await lib.loadSae(lib.serializeModel(lib.buildModel(w, "f32")))).encode(x);
  const run = async (weights, l = lib) => score(exact, (await l.loadSae(l.serializeModel(l.buildModel(weights, "int8")))).encode(x));
  const cols = [`planted jumprelu ${dIn}x${dSae}`, c];
  if (before) cols.push(await run(w, before));
  cols.push(await run(w), await run({ ...w, xOffset: lib.inputMean(w, calib) }), await run({ ...w, xOffset: median(calib, dIn) }), await run({ ...w, xOffset: Float32Array.from(mu) }));
  console.log(cols.join("\t"));
}

console.log(`recall/precision of int8 active sets vs the f32 encoder, ${rows} rows (held-out from ${rows} calibration rows)`);
console.log(["planted", "offset", before ? "main int8" : "", "int8 no μ", "μ=mean", "μ=median", "μ=true μ"].filter(Boolean).join("\t"));
for (const [dIn, dSae] of [[200, 1024], [768, 4096]]) for (const c of [0, 1, 10]) await planted(dIn, dSae, c);
console.log(`recall/precision of int8 active sets vs the f32 encoder, ${rows} rows (held-out from ${rows} calibration rows)`);
console.log(["fixture", "offset", before ? "main int8" : "", "int8 no μ", "μ=mean", "μ=median", "μ=b_dec"].filter(Boolean).join("\t"));
for (const project of readdirSync(ROOT)) {
  const dir = new URL(`${project}/`, ROOT);
  if (!existsSync(dir) || project.includes(".")) continue;
  for (const name of readdirSync(dir)) {
    const folder = new URL(`${name}/`, dir);
    if (!existsSync(new URL("x.npy", folder))) continue;
    let w;
    try {
      w = (await lib.importCheckpoint(await lib.checkpointFolder(folder.pathname))).weights;
    } catch {
      continue; // the fixtures sae-edge must refuse
    }
    if (w.dOut && w.dOut !== w.dIn) continue; // transcoders: same story, skipped for brevity
    const xFix = Float32Array.from(lib.parseNpy(readFileSync(new URL("x.npy", folder))).data, Number); // any shape: rows of d_in
    const exactSae = await lib.loadSae(lib.serializeModel(lib.buildModel(w, "f32")));
    for (const c of [0, 1, 10]) {
      const calib = inputs(xFix, w.dIn, rows, c, 1);
      const x = inputs(xFix, w.dIn, rows, c, 2);
      const exact = exactSae.encode(x);
      const run = async (weights, l = lib) => score(exact, (await l.loadSae(l.serializeModel(l.buildModel(weights, "int8")))).encode(x));
      const toXp = (mu) => (w.applyBDecToInput ? Float32Array.from(mu, (m, i) => m - w.b_dec[i]) : mu);
      const cols = [`${project}/${name}`, c];
      if (before) cols.push(await run(w, before));
      cols.push(await run(w));
      cols.push(await run({ ...w, xOffset: lib.inputMean(w, calib) }));
      cols.push(w.normalization && w.normalization !== "none" ? "-" : await run({ ...w, xOffset: toXp(median(calib, w.dIn)) }));
      cols.push(w.normalization && w.normalization !== "none" ? "-" : await run({ ...w, xOffset: toXp(w.b_dec) }));
      console.log(cols.join("\t"));
    }
  }
}
