// Writes one shape's data folder: f32 weights, the sae-edge int8 model, its int8 weights unpacked
// for ONNX (and packed for the C twin), inputs; then reference outputs for the check rows from
// sae-edge's f32 path (and its int8 pre-activations, which the C twin must equal bit for bit).
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildModel, serializeModelParts, loadSae } from "../../dist/node.js";
import { generate, unpackI8, writeArray, writeParts, readShape } from "./data.mjs";

function weights(g) {
  // The decoder does not affect encoding: W stands in for it (same length) to save a copy.
  return { architecture: g.arch === "relu" ? "standard" : g.arch, dIn: g.dIn, dSae: g.dSae, k: g.arch === "topk" ? g.k : 0, applyBDecToInput: true, W_enc: g.W, b_enc: g.b_enc, W_dec: g.W, b_dec: g.b_dec, threshold: g.threshold };
}

/** Writes dir for shape {dIn, dSae, k, arch}; rows = largest batch; checkRows get reference outputs. */
export function prepare(dir, shape, rows, checkRows) {
  const g = generate(shape, rows);
  const model = buildModel(weights(g), "int8");
  writeParts(join(dir, "model_i8.safetensors"), serializeModelParts(model));
  const packed = model.tensors.W_enc_packed.data;
  writeArray(dir, "W_f32.bin", g.W);
  writeArray(dir, "Wp_i8.bin", packed);
  writeArray(dir, "Wq_i8.bin", unpackI8(packed, g.dIn, g.dSae));
  writeArray(dir, "w_scale.bin", model.tensors.W_enc_scale.data);
  writeArray(dir, "b_enc.bin", g.b_enc);
  writeArray(dir, "b_dec.bin", g.b_dec);
  if (g.threshold) writeArray(dir, "threshold.bin", g.threshold);
  writeArray(dir, "x.bin", g.x);
  writeFileSync(join(dir, "meta.json"), JSON.stringify({ ...shape, rows, checkRows }));
}

/** In a child (the f32 model is 2 × 4 bytes per weight): ref_h.bin (f32 path) and ref_q.bin (int8 preact). */
export async function reference(dir) {
  const d = readShape(dir);
  const x = d.x.subarray(0, d.checkRows * d.dIn);
  // Through a file, so the f32 model's bytes are never concatenated in memory.
  const f32Path = join(dir, "model_f32.safetensors");
  writeParts(f32Path, serializeModelParts(buildModel(weights({ ...d, W: d.W() }), "f32")));
  const f32 = await loadSae(f32Path, { kernel: "simd128" });
  rmSync(f32Path);
  writeArray(dir, "ref_h.bin", f32.preActivations(x, d.checkRows));
  f32.dispose();
  const i8 = await loadSae(d.modelPath, { kernel: "simd128" });
  writeArray(dir, "ref_q.bin", i8.preActivations(x, d.checkRows));
  i8.dispose();
}
