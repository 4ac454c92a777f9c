// Gemma Scope: params.npz (W_enc [d_model, d_sae], W_dec [d_sae, d_model], threshold,
// b_enc, b_dec; float32) and Gemma Scope 2's params.safetensors (lowercase keys, optional
// affine_skip_connection).
// JumpReLU with no b_dec subtraction on the input (SAELens' gemma_2 loaders).
import { fail } from "../core/errors.js";
import type { SaeWeights } from "../core/quantize.js";
import { parseSafetensors, toFloat32, type Dtype } from "../format/safetensors.js";
import { readNpz } from "./npz.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";

const NPZ = "params.npz";
const ST = "params.safetensors";
const NAMES = ["W_enc", "W_dec", "threshold", "b_enc", "b_dec"] as const;

export const gemmascope: Importer = {
  family: "gemmascope",
  async detect(files) {
    const names = await files.list();
    return names.includes(NPZ) || names.includes(ST);
  },
  async load(files: CheckpointFiles): Promise<ImportedSae> {
    const names = await files.list();
    const file = names.includes(NPZ) ? NPZ : names.includes(ST) ? ST : fail("CHECKPOINT_INVALID", `${files.location}: no ${NPZ} or ${ST}`);
    const bytes = await files.read(file);
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    if (file === NPZ) {
      for (const [name, a] of readNpz(bytes, file)) {
        if (a.dtype !== "float32" && a.dtype !== "float64") fail("CHECKPOINT_UNSUPPORTED", `${file}: ${name} is ${a.dtype}`);
        tensors.set(name, { shape: a.shape, data: Float32Array.from(a.data as ArrayLike<number>) });
      }
    } else {
      const st = parseSafetensors(bytes);
      for (const t of st.header.tensors) tensors.set(t.name, { shape: t.shape, data: toFloat32(st.tensor(t.name), t.dtype as Dtype) });
    }
    // Gemma Scope 2 and some conversions spell the matrices in lowercase (w_enc, w_dec).
    const get = (name: (typeof NAMES)[number]) => {
      const t = tensors.get(name) ?? tensors.get(name.toLowerCase());
      if (!t) fail("CHECKPOINT_INVALID", `${file} lacks ${name}`);
      return t;
    };
    const [wEnc, wDec, threshold, bEnc, bDec] = NAMES.map(get);
    if (wEnc.shape.length !== 2) fail("CHECKPOINT_INVALID", `${file}: W_enc must be 2-D, got [${wEnc.shape}]`);
    const [dIn, dSae] = wEnc.shape;
    const want: [string, { shape: number[] }, number[]][] = [["W_dec", wDec, [dSae, dIn]], ["threshold", threshold, [dSae]], ["b_enc", bEnc, [dSae]], ["b_dec", bDec, [dIn]]];
    for (const [name, t, shape] of want) {
      if (t.shape.join() !== shape.join()) fail("CHECKPOINT_INVALID", `${file}: ${name} has shape [${t.shape}], W_enc [${dIn}, ${dSae}] implies [${shape}]`);
    }
    // Gemma Scope 2's optional affine skip: output += x @ A, A [d_in, d_in], i.e. W_skip = Aᵀ.
    const affine = tensors.get("affine_skip_connection");
    let W_skip: Float32Array | undefined;
    if (affine) {
      if (affine.shape.join() !== [dIn, dIn].join()) fail("CHECKPOINT_INVALID", `${file}: affine_skip_connection has shape [${affine.shape}], expected [${dIn}, ${dIn}]`);
      W_skip = new Float32Array(dIn * dIn);
      for (let i = 0; i < dIn; i++) for (let o = 0; o < dIn; o++) W_skip[o * dIn + i] = affine.data[i * dIn + o];
    }
    const weights: SaeWeights = {
      architecture: "jumprelu", dIn, dSae, k: 0, applyBDecToInput: false,
      W_enc: wEnc.data, W_dec: wDec.data, b_enc: bEnc.data, b_dec: bDec.data, threshold: threshold.data, W_skip,
    };
    return { weights, provenance: { source_format: "gemmascope", source: files.location, file } };
  },
};
