// Gemma Scope: params.npz (W_enc [d_model, d_sae], W_dec [d_sae, d_model], threshold,
// b_enc, b_dec; float32) and Gemma Scope 2's params.safetensors (lowercase keys, optional
// affine_skip_connection).
// JumpReLU with no b_dec subtraction on the input (SAELens' gemma_2 loaders).
import { fail } from "../base/errors.js";
import type { CheckpointWeights } from "../model/quantize.js";
import type { LazyTensor } from "../base/lazy-tensor.js";
import { openNpz } from "../format/npz-source.js";
import { openSafetensors } from "../format/safetensors-source.js";
import { openFile, type CheckpointFiles, type ImportedSae, type Importer } from "./types.js";

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
    // Read by range: a 65k-latent params.npz is 1.2 GB and is never held whole.
    const source = await openFile(files, file);
    const tensors = new Map<string, { shape: number[]; data: LazyTensor }>();
    if (file === NPZ) {
      for (const [name, m] of await openNpz(source, file)) {
        if (m.dtype !== "float32" && m.dtype !== "float64") fail("CHECKPOINT_UNSUPPORTED", `${file}: ${name} is ${m.dtype}`);
        tensors.set(name, { shape: m.shape, data: m.tensor });
      }
    } else {
      const st = await openSafetensors(source);
      for (const t of st.header.tensors) tensors.set(t.name, { shape: t.shape, data: st.tensor(t.name) });
    }
    // Gemma Scope 2 and some conversions spell the matrices in lowercase (w_enc, w_dec).
    const get = (name: (typeof NAMES)[number]) => {
      const t = tensors.get(name) ?? tensors.get(name.toLowerCase());
      if (!t) fail("CHECKPOINT_INVALID", `${file} lacks ${name}`);
      return t;
    };
    const [wEnc, wDec, threshold, bEnc, bDec] = NAMES.map(get);
    const small = (t: { data: LazyTensor }) => t.data.load();
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
      const a = await small(affine);
      W_skip = new Float32Array(dIn * dIn);
      for (let i = 0; i < dIn; i++) for (let o = 0; o < dIn; o++) W_skip[o * dIn + i] = a[i * dIn + o];
    }
    const weights: CheckpointWeights = {
      architecture: "jumprelu", dIn, dSae, k: 0, applyBDecToInput: false,
      W_enc: wEnc.data, W_dec: wDec.data, b_enc: await small(bEnc), b_dec: await small(bDec), threshold: await small(threshold), W_skip,
    };
    const read = new Set([...NAMES, ...NAMES.map((n) => n.toLowerCase()), "affine_skip_connection"]);
    const unknown = [...tensors.keys()].filter((n) => !read.has(n));
    return {
      weights,
      warnings: unknown.length ? [`${file} holds tensors sae-edge does not read: ${unknown.join(", ")}`] : [],
      provenance: { source_format: "gemmascope", source: files.location, file, ...(unknown.length ? { unknown_tensors: unknown } : {}) },
    };
  },
};
