// EleutherAI sparsify: a folder per hookpoint with cfg.json and sae.safetensors
// (encoder.weight [num_latents, d_in] as nn.Linear, encoder.bias, W_dec [num_latents, d_in],
// b_dec). TopK or GroupMax on ReLU pre-activations, b_dec subtracted from the input.
import { fail } from "../core/errors.js";
import type { SaeWeights } from "../core/quantize.js";
import { parseSafetensors, toFloat32, type Dtype } from "../format/safetensors.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";

const CFG = "cfg.json";
const WEIGHTS = "sae.safetensors";

export const sparsify: Importer = {
  family: "sparsify",
  async detect(files) {
    const names = await files.list();
    return names.includes(CFG) && names.includes(WEIGHTS);
  },
  async load(files: CheckpointFiles): Promise<ImportedSae> {
    const names = await files.list();
    for (const f of [CFG, WEIGHTS]) if (!names.includes(f)) fail("CHECKPOINT_INVALID", `${files.location}: no ${f} (a sparsify hookpoint folder has ${CFG} and ${WEIGHTS})`);
    let cfg: Record<string, unknown>;
    try {
      cfg = JSON.parse(new TextDecoder().decode(await files.read(CFG)));
    } catch (e) {
      return fail("CHECKPOINT_INVALID", `${CFG} is not valid JSON: ${(e as Error).message}`);
    }
    const activation = String(cfg.activation ?? "topk");
    if (activation !== "topk" && activation !== "groupmax") fail("CHECKPOINT_UNSUPPORTED", `sparsify activation "${activation}" is not supported (topk and groupmax are)`);
    const dIn = Number(cfg.d_in);
    if (!Number.isSafeInteger(dIn) || dIn < 1) fail("CHECKPOINT_INVALID", `${CFG} d_in must be a positive integer`);
    const expansion = Number(cfg.expansion_factor ?? 32);
    const dSae = Number(cfg.num_latents) > 0 ? Number(cfg.num_latents) : dIn * expansion;
    const k = Number(cfg.k ?? 32);
    if (!Number.isSafeInteger(k) || k < 1 || k > dSae) fail("CHECKPOINT_INVALID", `${CFG} k=${cfg.k} must be in 1..${dSae}`);
    if (activation === "groupmax" && dSae % k !== 0) fail("CHECKPOINT_INVALID", `${CFG}: groupmax needs k (${k}) to divide num_latents (${dSae})`);
    const st = parseSafetensors(await files.read(WEIGHTS));
    const tensor = (name: string, shape: number[]) => {
      const t = st.header.tensors.find((x) => x.name === name);
      if (!t) fail("CHECKPOINT_INVALID", `${WEIGHTS} lacks ${name}`);
      if (t.shape.join() !== shape.join()) fail("CHECKPOINT_INVALID", `${WEIGHTS}: ${name} has shape [${t.shape}], cfg implies [${shape}]`);
      return toFloat32(st.tensor(name), t.dtype as Dtype);
    };
    const enc = tensor("encoder.weight", [dSae, dIn]);
    const W_enc = new Float32Array(dIn * dSae);
    for (let j = 0; j < dSae; j++) for (let i = 0; i < dIn; i++) W_enc[i * dSae + j] = enc[j * dIn + i];
    const weights: SaeWeights = {
      // Transcoders (transcode) predict the module's output: b_dec is not subtracted from the input.
      architecture: activation === "groupmax" ? "groupmax" : "topk", dIn, dSae, k, applyBDecToInput: !cfg.transcode,
      W_enc, b_enc: tensor("encoder.bias", [dSae]), W_dec: tensor("W_dec", [dSae, dIn]), b_dec: tensor("b_dec", [dIn]),
      // skip_connection: x @ W_skip.mT is added to the output.
      ...(cfg.skip_connection ? { W_skip: tensor("W_skip", [dIn, dIn]) } : {}),
    };
    const dtype = st.header.tensors.find((t) => t.name === "W_dec")?.dtype;
    return { weights, provenance: { source_format: "sparsify", source: files.location, dtype, ...(cfg.multi_topk ? { multi_topk: true } : {}) } };
  },
};
