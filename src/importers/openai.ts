// openai/sparse_autoencoder: one <layer>.pt state dict with pre_bias, latent_bias,
// encoder.weight [F, d], decoder.weight [d, F] and the activation's name. ReLU releases
// load as standard SAEs; TopK releases layer-normalize inputs, not supported yet.
import { fail } from "../core/errors.js";
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
    if (activation !== "ReLU") {
      fail("CHECKPOINT_UNSUPPORTED", `OpenAI activation ${JSON.stringify(activation)} is not supported yet (its inputs are layer-normalized); ReLU releases are`);
    }
    const enc = sd.tensor("encoder.weight");
    const [dSae, dIn] = enc.shape;
    return {
      weights: {
        architecture: "standard", dIn, dSae, k: 0, applyBDecToInput: true,
        W_enc: transposed(enc), b_enc: f32(sd.tensor("latent_bias", [dSae])),
        W_dec: transposed(sd.tensor("decoder.weight", [dIn, dSae])), b_dec: f32(sd.tensor("pre_bias", [dIn])),
      },
      provenance: { source_format: "openai", source: files.location, file: pts[0] },
    };
  },
};
