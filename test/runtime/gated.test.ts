// Gated SAEs (SAELens gated_sae.py): gate = 1[x'W_enc + b_gate > 0], magnitude =
// ReLU(x'(W_enc ⊙ exp(r_mag)) + b_mag), f = gate · magnitude, against a float64 reference.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, checkpointFolder, importCheckpoint, loadSae, serializeModel } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";
import { writeSaeLensCheckpoint } from "../reference/saelens-writer.js";

const dIn = 18, dSae = 30, rows = 16;
const r = makeRng(71);
const W_enc = r.normals(dIn * dSae, 0.4), W_dec = r.normals(dSae * dIn, 0.3), b_dec = r.normals(dIn, 0.2);
const b_gate = r.normals(dSae, 0.3), r_mag = r.normals(dSae, 0.3), b_mag = r.normals(dSae, 0.3);
const x = r.normals(rows * dIn, 1);

describe("gated SAELens checkpoint", () => {
  it("encodes and decodes as the float64 reference (f32), int8 within fidelity, scalar = simd128", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-gated-"));
    await writeSaeLensCheckpoint(dir, {
      cfg: { architecture: "gated", d_in: dIn, d_sae: dSae, dtype: "float32", apply_b_dec_to_input: true, normalize_activations: "none", metadata: { sae_lens_version: "6.5.0" } },
      tensors: [
        { name: "W_enc", dtype: "F32", shape: [dIn, dSae], values: W_enc },
        { name: "b_gate", dtype: "F32", shape: [dSae], values: b_gate },
        { name: "b_mag", dtype: "F32", shape: [dSae], values: b_mag },
        { name: "r_mag", dtype: "F32", shape: [dSae], values: r_mag },
        { name: "W_dec", dtype: "F32", shape: [dSae, dIn], values: W_dec },
        { name: "b_dec", dtype: "F32", shape: [dIn], values: b_dec },
      ],
    });
    const imported = await importCheckpoint(await checkpointFolder(dir));
    expect(imported.weights.architecture).toBe("gated");
    const sae = await loadSae(serializeModel(buildModel(imported.weights, "f32")));
    const z = sae.encodeDense(x), xhat = sae.forward(x).reconstruction;
    let active = 0;
    for (let row = 0; row < rows; row++) {
      const xp = Array.from({ length: dIn }, (_, i) => x[row * dIn + i] - b_dec[i]);
      const want = new Array<number>(dSae).fill(0);
      for (let j = 0; j < dSae; j++) {
        let g = 0, m = 0;
        for (let i = 0; i < dIn; i++) {
          g += xp[i] * W_enc[i * dSae + j];
          m += xp[i] * W_enc[i * dSae + j] * Math.exp(r_mag[j]);
        }
        want[j] = g + b_gate[j] > 0 ? Math.max(0, m + b_mag[j]) : 0;
        if (want[j] > 0) active++;
        expect(z[row * dSae + j], `row ${row} latent ${j}`).toBeCloseTo(want[j], 4);
      }
      for (let i = 0; i < dIn; i++) {
        const s = want.reduce((a, v, j) => a + v * W_dec[j * dIn + i], b_dec[i]);
        expect(xhat[row * dIn + i]).toBeCloseTo(s, 4);
      }
    }
    expect(active).toBeGreaterThan(rows * 3);
    const q = await loadSae(serializeModel(buildModel(imported.weights, "int8")));
    const qs = await loadSae(serializeModel(buildModel(imported.weights, "int8")), { kernel: "scalar" });
    expect(Array.from(qs.encode(x).values)).toEqual(Array.from(q.encode(x).values));
    const fvu = (rec: Float32Array) => rec.reduce((a, v, i) => a + (x[i] - v) ** 2, 0);
    expect(fvu(q.forward(x).reconstruction)).toBeLessThanOrEqual(1.02 * fvu(xhat));
  });
});
