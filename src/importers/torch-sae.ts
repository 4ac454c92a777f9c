// The plain PyTorch SparseAutoencoder: nn.Linear encoder (d → F) and decoder (F → d),
// x̂ = decoder(ReLU(encoder(x))): a standard SAE with no bias subtracted from the input.
import { fail } from "../base/errors.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";
import { f32, hasStateDict, ptFiles, readStateDict, transposed, unreadWarning } from "./torch-state.js";

const KEYS = ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"];

export const torchSae: Importer = {
  family: "torch",
  detect: (files) => hasStateDict(files, KEYS),
  async load(files: CheckpointFiles): Promise<ImportedSae> {
    const pts = ptFiles(await files.list());
    if (pts.length !== 1) fail("CHECKPOINT_INVALID", `${files.location}: expected one .pt file, found ${pts.length}`);
    const sd = await readStateDict(files, pts[0]);
    const enc = sd.tensor("encoder.weight");
    if (enc.shape.length !== 2) fail("CHECKPOINT_INVALID", `${pts[0]}: encoder.weight must be 2-D`);
    const [dSae, dIn] = enc.shape;
    const weights = {
      architecture: "standard" as const, dIn, dSae, k: 0, applyBDecToInput: false,
      W_enc: transposed(enc), b_enc: f32(sd.tensor("encoder.bias", [dSae])),
      W_dec: transposed(sd.tensor("decoder.weight", [dIn, dSae])), b_dec: f32(sd.tensor("decoder.bias", [dIn])),
    };
    return {
      weights,
      warnings: unreadWarning(sd),
      provenance: { source_format: "torch", source: files.location, file: pts[0] },
    };
  },
};
