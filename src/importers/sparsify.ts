// EleutherAI sparsify: a folder per hookpoint with cfg.json and sae.safetensors
// (encoder.weight [num_latents, d_in] as nn.Linear, encoder.bias, W_dec [num_latents, d_in],
// b_dec). TopK or GroupMax on ReLU pre-activations, b_dec subtracted from the input.
import { parseJsonObject } from "../format/json-object.js";
import { fail } from "../base/errors.js";
import type { CheckpointWeights } from "../model/quantize.js";
import { openSafetensors } from "../format/safetensors-source.js";
import { openFile, type CheckpointFiles, type ImportedSae, type Importer } from "./types.js";

const CFG = "cfg.json";
const WEIGHTS = "sae.safetensors";
// SparseCoderConfig's fields plus d_in; `signed` is an obsolete field older releases carry (always false there).
const KNOWN_KEYS = new Set(["activation", "expansion_factor", "normalize_decoder", "num_latents", "k", "multi_topk", "skip_connection", "transcode", "d_in", "signed"]);

export const sparsify: Importer = {
  family: "sparsify",
  async detect(files) {
    const names = await files.list();
    return names.includes(CFG) && names.includes(WEIGHTS);
  },
  async load(files: CheckpointFiles): Promise<ImportedSae> {
    const names = await files.list();
    for (const f of [CFG, WEIGHTS]) if (!names.includes(f)) fail("CHECKPOINT_INVALID", `${files.location}: no ${f} (a sparsify hookpoint folder has ${CFG} and ${WEIGHTS})`);
    const cfg = parseJsonObject(await files.read(CFG), CFG);
    const activation = String(cfg.activation ?? "topk");
    if (activation !== "topk" && activation !== "groupmax") fail("CHECKPOINT_UNSUPPORTED", `sparsify activation "${activation}" is not supported (topk and groupmax are)`);
    const dIn = Number(cfg.d_in);
    if (!Number.isSafeInteger(dIn) || dIn < 1) fail("CHECKPOINT_INVALID", `${CFG} d_in must be a positive integer`);
    const expansion = Number(cfg.expansion_factor ?? 32);
    const dSae = Number(cfg.num_latents) > 0 ? Number(cfg.num_latents) : dIn * expansion;
    const k = Number(cfg.k ?? 32);
    if (!Number.isSafeInteger(k) || k < 1 || k > dSae) fail("CHECKPOINT_INVALID", `${CFG} k=${cfg.k} must be in 1..${dSae}`);
    if (activation === "groupmax" && dSae % k !== 0) fail("CHECKPOINT_INVALID", `${CFG}: groupmax needs k (${k}) to divide num_latents (${dSae})`);
    // Read by range: the matrices stay on disk until quantization streams them.
    const st = await openSafetensors(await openFile(files, WEIGHTS));
    const lazy = (name: string, shape: number[]) => {
      const t = st.info(name);
      if (!t) fail("CHECKPOINT_INVALID", `${WEIGHTS} lacks ${name}`);
      if (t.shape.join() !== shape.join()) fail("CHECKPOINT_INVALID", `${WEIGHTS}: ${name} has shape [${t.shape}], cfg implies [${shape}]`);
      return st.tensor(name);
    };
    const tensor = (name: string, shape: number[]) => lazy(name, shape).load();
    const weights: CheckpointWeights = {
      // Transcoders (transcode) predict the module's output: b_dec is not subtracted from the input.
      architecture: activation === "groupmax" ? "groupmax" : "topk", dIn, dSae, k, applyBDecToInput: !cfg.transcode,
      // encoder.weight is nn.Linear's [num_latents, d_in]: quantized as it is, no transposed copy.
      W_enc: lazy("encoder.weight", [dSae, dIn]), encoderLatentRows: true,
      b_enc: await tensor("encoder.bias", [dSae]), W_dec: lazy("W_dec", [dSae, dIn]), b_dec: await tensor("b_dec", [dIn]),
      // skip_connection: x @ W_skip.mT is added to the output.
      ...(cfg.skip_connection ? { W_skip: await tensor("W_skip", [dIn, dIn]) } : {}),
    };
    const dtype = st.header.tensors.find((t) => t.name === "W_dec")?.dtype;
    const unknown = Object.keys(cfg).filter((key) => !KNOWN_KEYS.has(key));
    if (cfg.signed) fail("CHECKPOINT_UNSUPPORTED", `${CFG}: signed=true (signed latents) is not supported`);
    return {
      weights,
      warnings: unknown.length ? [`${CFG} keys sae-edge does not read (no such sparsify option): ${unknown.join(", ")}`] : [],
      // multi_topk is a training loss; inference is plain top-k (SparseCoder.forward decodes with k).
      provenance: { source_format: "sparsify", source: files.location, dtype, ...(cfg.multi_topk ? { multi_topk: true } : {}), ...(unknown.length ? { unknown_config_keys: unknown } : {}) },
    };
  },
};
