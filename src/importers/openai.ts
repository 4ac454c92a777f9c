// openai/sparse_autoencoder: one <layer>.pt state dict with pre_bias, latent_bias,
// encoder.weight [F, d], decoder.weight [d, F] and the activation's name. ReLU releases
// load as standard SAEs; TopK releases as TopK with layer-normalized inputs.
import { fail } from "../base/errors.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";
import { f32, hasStateDict, ptFiles, readStateDict, transposed } from "./torch-state.js";

export const openai: Importer = {
  family: "openai",
  detect: (files) => hasStateDict(files, ["pre_bias", "latent_bias", "encoder.weight", "decoder.weight"]),
  async load(files: CheckpointFiles): Promise<ImportedSae> {
    const pts = ptFiles(await files.list());
    if (pts.length !== 1) fail("CHECKPOINT_INVALID", `${files.location}: expected one .pt file, found ${pts.length}`);
    const sd = await readStateDict(files, pts[0]);
    const activation = sd.entries.get("activation");
    const state = sd.entries.get("activation_state_dict");
    const k = activation === "TopK" && state instanceof Map ? Number(state.get("k")) : 0;
    if (activation !== "ReLU" && !(activation === "TopK" && Number.isSafeInteger(k) && k > 0)) {
      fail("CHECKPOINT_UNSUPPORTED", `OpenAI activation ${JSON.stringify(activation)} is not supported (ReLU and TopK are)`);
    }
    const enc = sd.tensor("encoder.weight");
    const [dSae, dIn] = enc.shape;
    return {
      weights: {
        // TopK releases layer-normalize inputs (and undo it on decode), as Autoencoder.from_state_dict does.
        ...(activation === "TopK" ? { architecture: "topk" as const, k, normalization: "layer_norm" as const } : { architecture: "standard" as const, k: 0 }),
        dIn, dSae, applyBDecToInput: true,
        W_enc: transposed(enc), b_enc: f32(sd.tensor("latent_bias", [dSae])),
        W_dec: transposed(sd.tensor("decoder.weight", [dIn, dSae])), b_dec: f32(sd.tensor("pre_bias", [dIn])),
      },
      provenance: { source_format: "openai", source: files.location, file: pts[0] },
    };
  },
};
