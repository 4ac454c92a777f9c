// SAELens sparsity.safetensors (log10 feature density + 1e-10) is kept as model metadata.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, checkpointFolder, importCheckpoint, loadSae, serializeModel } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";
import { writeSafetensors, writeSaeLensCheckpoint } from "../reference/saelens-writer.js";

const dIn = 8, dSae = 12;
const r = makeRng(3);
const density = Array.from({ length: dSae }, (_, j) => (j === 0 ? 0 : r.uniform(0.0001, 0.2)));
const cfg = { architecture: "standard", d_in: dIn, d_sae: dSae, dtype: "float32", apply_b_dec_to_input: true, normalize_activations: "none", metadata: { sae_lens_version: "6.5.0" } };
const tensors = [
  { name: "W_enc", dtype: "F32" as const, shape: [dIn, dSae], values: r.normals(dIn * dSae, 0.3) },
  { name: "b_enc", dtype: "F32" as const, shape: [dSae], values: new Float32Array(dSae) },
  { name: "W_dec", dtype: "F32" as const, shape: [dSae, dIn], values: r.normals(dSae * dIn, 0.3) },
  { name: "b_dec", dtype: "F32" as const, shape: [dIn], values: new Float32Array(dIn) },
];

describe("sparsity.safetensors", () => {
  it("becomes the model's feature_density", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-sp-"));
    await writeSaeLensCheckpoint(dir, { cfg, tensors });
    writeFileSync(join(dir, "sparsity.safetensors"), writeSafetensors([{ name: "sparsity", dtype: "F32", shape: [dSae], values: density.map((d) => Math.log10(d + 1e-10)) }]));
    const imported = await importCheckpoint(await checkpointFolder(dir));
    const sae = await loadSae(serializeModel(buildModel(imported.weights, "int8")));
    expect(sae.info.featureDensity).toHaveLength(dSae);
    sae.info.featureDensity!.forEach((v, j) => expect(v).toBeCloseTo(density[j], 5));
  });

  it("of the wrong shape is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-sp-"));
    await writeSaeLensCheckpoint(dir, { cfg, tensors });
    writeFileSync(join(dir, "sparsity.safetensors"), writeSafetensors([{ name: "sparsity", dtype: "F32", shape: [3], values: [0, 0, 0] }]));
    await expect(importCheckpoint(await checkpointFolder(dir))).rejects.toMatchObject({ code: "CHECKPOINT_INVALID" });
  });
});
