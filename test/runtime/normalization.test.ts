// Input normalization (SAELens normalize_activations layer_norm / constant_norm_rescale):
// applied per row before b_dec is subtracted, undone on decode, against a float64 reference.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, checkpointFolder, importCheckpoint, loadSae, serializeModel } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";
import { writeSaeLensCheckpoint } from "../reference/saelens-writer.js";

const dIn = 20, dSae = 36, k = 5, rows = 12;
const r = makeRng(44);
const W_enc = r.normals(dIn * dSae, 0.4), b_enc = r.normals(dSae, 0.1), W_dec = r.normals(dSae * dIn, 0.3), b_dec = r.normals(dIn, 0.2);
// Offset rows; the last two have σ ≈ 1e-4, where decoding with σ + 1e-5 instead of σ is off by 10%.
const x = Float32Array.from(r.normals(rows * dIn, 1.5), (v, i) => (i >= (rows - 2) * dIn ? 0.02 + 1e-4 * v : v + 0.3 * (i % 7)));

// Reference: normalize, encode (TopK, ties by lower index, ReLU), decode, undo.
function reference(mode: "layer_norm" | "constant_norm_rescale") {
  return Array.from({ length: rows }, (_, row) => {
    const xr = Array.from(x.subarray(row * dIn, (row + 1) * dIn), Number);
    // Encode divides by σ + 1e-5, decode multiplies by σ (OpenAI's and SAELens's LayerNorm).
    let shift = 0, scale = 1, decodeScale = 1;
    if (mode === "layer_norm") {
      shift = xr.reduce((a, b) => a + b, 0) / dIn;
      decodeScale = Math.sqrt(xr.reduce((a, b) => a + (b - shift) ** 2, 0) / (dIn - 1));
      scale = decodeScale + 1e-5;
    } else scale = decodeScale = Math.sqrt(xr.reduce((a, b) => a + b * b, 0) / dIn);
    const xn = xr.map((v, i) => (v - shift) / scale - b_dec[i]);
    const h = Array.from({ length: dSae }, (_, j) => xn.reduce((a, v, i) => a + v * W_enc[i * dSae + j], b_enc[j]));
    const keep = Array.from(h.keys()).sort((a, b) => h[b] - h[a] || a - b).slice(0, k).filter((j) => h[j] > 0);
    const xhat = Array.from({ length: dIn }, (_, i) => (keep.reduce((a, j) => a + h[j] * W_dec[j * dIn + i], b_dec[i])) * decodeScale + shift);
    return { keep, h, xhat, xr, shift };
  });
}

describe.each(["layer_norm", "constant_norm_rescale"] as const)("normalize_activations %s", (mode) => {
  it("encodes, decodes, scores and steers as the float64 reference (f32 path); int8 close", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-norm-"));
    await writeSaeLensCheckpoint(dir, {
      cfg: { architecture: "topk", d_in: dIn, d_sae: dSae, k, dtype: "float32", apply_b_dec_to_input: true, normalize_activations: mode, metadata: { sae_lens_version: "6.5.0" } },
      tensors: [
        { name: "W_enc", dtype: "F32", shape: [dIn, dSae], values: W_enc },
        { name: "b_enc", dtype: "F32", shape: [dSae], values: b_enc },
        { name: "W_dec", dtype: "F32", shape: [dSae, dIn], values: W_dec },
        { name: "b_dec", dtype: "F32", shape: [dIn], values: b_dec },
      ],
    });
    const imported = await importCheckpoint(await checkpointFolder(dir));
    expect(imported.weights.normalization).toBe(mode);
    const sae = await loadSae(serializeModel(buildModel(imported.weights, "f32")));
    expect(sae.info.normalization).toBe(mode);
    const ref = reference(mode);
    const { codes, reconstruction } = sae.forward(x);
    expect(codes.rowNorm).toHaveLength(2 * rows);
    const scores = sae.score(x).squared;
    for (let row = 0; row < rows; row++) {
      const got = Array.from(codes.indices.subarray(codes.rowOffsets[row], codes.rowOffsets[row + 1]));
      expect(got, `row ${row}`).toEqual(ref[row].keep);
      codes.values.subarray(codes.rowOffsets[row], codes.rowOffsets[row + 1]).forEach((v, e) => expect(v).toBeCloseTo(ref[row].h[ref[row].keep[e]], 4));
      let sq = 0;
      // Relative to the row's spread around its mean, so the low-σ rows test the decode scale too.
      const spread = Math.max(...ref[row].xhat.map((v) => Math.abs(v - ref[row].shift)));
      for (let i = 0; i < dIn; i++) {
        expect(Math.abs(reconstruction[row * dIn + i] - ref[row].xhat[i]), `row ${row} dim ${i}`).toBeLessThan(1e-4 * spread + 1e-8);
        sq += (ref[row].xr[i] - ref[row].xhat[i]) ** 2;
      }
      expect(scores[row] / sq).toBeCloseTo(1, 4);
    }
    // Dense decode with the rows' normalization gives the same reconstruction.
    const dense = sae.decodeDense(sae.encodeDense(x), rows, codes.rowNorm);
    dense.forEach((v, i) => expect(v).toBeCloseTo(reconstruction[i], 5));
    // int8: same active sets on almost every row, the same normalization statistics.
    const q = await loadSae(serializeModel(buildModel(imported.weights, "int8")));
    const qc = q.encode(x);
    expect(Array.from(qc.rowNorm!)).toEqual(Array.from(codes.rowNorm!));
    let same = 0;
    for (let row = 0; row < rows; row++) {
      const a = new Set(qc.indices.subarray(qc.rowOffsets[row], qc.rowOffsets[row + 1]));
      same += ref[row].keep.filter((j) => a.has(j)).length / Math.max(1, ref[row].keep.length);
    }
    expect(same / rows).toBeGreaterThan(0.9);
    // scalar and simd128 agree bit for bit on normalized models too.
    const qs = await loadSae(serializeModel(buildModel(imported.weights, "int8")), { kernel: "scalar" });
    expect(Array.from(qs.encode(x).values)).toEqual(Array.from(qc.values));
    expect(Array.from(qs.score(x).squared)).toEqual(Array.from(q.score(x).squared));
  });
});

describe("rowNorm validation", () => {
  it("rejects a rowNorm of the wrong length or with a negative scale; a constant row's σ = 0 decodes to its mean", async () => {
    const sae = await loadSae(serializeModel(buildModel({ architecture: "topk", dIn, dSae, k, applyBDecToInput: true, W_enc, b_enc, W_dec, b_dec, normalization: "layer_norm" }, "f32")));
    const codes = sae.encode(x);
    expect(() => sae.decode({ ...codes, rowNorm: new Float32Array(3) })).toThrow(expect.objectContaining({ code: "INPUT_SHAPE" }));
    const bad = codes.rowNorm!.slice();
    bad[1] = -1e-3;
    expect(() => sae.decode({ ...codes, rowNorm: bad })).toThrow(expect.objectContaining({ code: "INPUT_NONFINITE" }));
    bad[1] = Number.NaN;
    expect(() => sae.decode({ ...codes, rowNorm: bad })).toThrow(expect.objectContaining({ code: "INPUT_NONFINITE" }));
    const flat = new Float32Array(dIn).fill(2.5);
    const c = sae.encode(flat);
    expect(Array.from(c.rowNorm!)).toEqual([2.5, 0]);
    expect(Array.from(sae.decode(c))).toEqual(Array.from(flat));
  });
});
