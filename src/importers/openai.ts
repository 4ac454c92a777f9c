// openai/sparse_autoencoder: one <layer>.pt state dict with pre_bias, latent_bias,
// encoder.weight [F, d], decoder.weight [d, F] (or decoder.linear.weight, the encoder's, when
// tied) and the activation's name, as Autoencoder.from_state_dict reads it. ReLU releases load
// as standard SAEs; TopK as TopK on layer-normalized inputs (upstream normalizes exactly when
// the activation is TopK).
import { fail } from "../base/errors.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";
import { f32, hasStateDict, ptFiles, readStateDict, transposed, unreadWarning } from "./torch-state.js";

// Read by the activation logic above, or training statistics with no effect on encode/decode;
// activation.* are TopK.state_dict's own keys, written again inside the parent's.
const NOT_WEIGHTS = ["activation", "activation_state_dict", "stats_last_nonzero", "latents_activation_frequency", "latents_mean_square", "activation.k", "activation.postact_fn"];

export const openai: Importer = {
  family: "openai",
  detect: (files) => hasStateDict(files, ["pre_bias", "latent_bias", "encoder.weight"]),
  async load(files: CheckpointFiles): Promise<ImportedSae> {
    const pts = ptFiles(await files.list());
    if (pts.length !== 1) fail("CHECKPOINT_INVALID", `${files.location}: expected one .pt file, found ${pts.length}`);
    const sd = await readStateDict(files, pts[0]);
    // from_state_dict: a missing activation is ReLU; TopK's state holds k and postact_fn.
    const activation = sd.entries.get("activation") ?? "ReLU";
    const state = sd.entries.get("activation_state_dict");
    const option = (key: string) => (state instanceof Map ? state.get(key) : undefined);
    let k = 0;
    if (activation === "TopK") {
      k = Number(option("k"));
      if (!Number.isSafeInteger(k) || k < 1) fail("CHECKPOINT_INVALID", `${pts[0]}: TopK activation_state_dict k must be a positive integer, got ${JSON.stringify(option("k"))}`);
      const post = option("postact_fn") ?? "ReLU";
      if (post !== "ReLU") {
        // The kernels keep the k largest *positive* values; Identity also keeps negative ones.
        fail("CHECKPOINT_UNSUPPORTED", `${pts[0]}: OpenAI TopK with postact_fn=${JSON.stringify(post)} is not supported: it keeps negative top-k values, and sae-edge's TopK keeps only positive ones (postact_fn=ReLU is supported)`);
      }
    } else if (activation !== "ReLU") {
      // Upstream would silently run an unknown name as ReLU; Identity is a linear autoencoder.
      fail("CHECKPOINT_UNSUPPORTED", `${pts[0]}: OpenAI activation ${JSON.stringify(activation)} is not supported (ReLU and TopK with postact_fn=ReLU are)`);
    }
    const enc = sd.tensor("encoder.weight");
    if (enc.shape.length !== 2) fail("CHECKPOINT_INVALID", `${pts[0]}: encoder.weight must be 2-D`);
    const [dSae, dIn] = enc.shape;
    // Tied (TiedTranspose): the decoder is the encoder's weight transposed, so W_dec [F, d] is encoder.weight.
    const tied = !sd.has("decoder.weight") && sd.has("decoder.linear.weight");
    const W_dec = tied ? f32(sd.tensor("decoder.linear.weight", [dSae, dIn])).slice() : transposed(sd.tensor("decoder.weight", [dIn, dSae]));
    const weights = {
      ...(activation === "TopK" ? { architecture: "topk" as const, k, normalization: "layer_norm" as const } : { architecture: "standard" as const, k: 0 }),
      dIn, dSae, applyBDecToInput: true,
      W_enc: transposed(enc), b_enc: f32(sd.tensor("latent_bias", [dSae])),
      W_dec, b_dec: f32(sd.tensor("pre_bias", [dIn])),
    };
    return {
      weights,
      warnings: unreadWarning(sd, NOT_WEIGHTS),
      provenance: { source_format: "openai", source: files.location, file: pts[0], activation, ...(k ? { k, postact_fn: "ReLU", normalize: "layer_norm" } : {}), ...(tied ? { tied: true } : {}) },
    };
  },
};
