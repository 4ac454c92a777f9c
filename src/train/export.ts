// What a training run leaves behind: the int8 sae-edge model (its provenance says how it was
// trained) and the f32 weights as a SAELens checkpoint folder's files.
import { buildModel, serializeModel } from "../model/quantize.js";
import { saeLensCheckpoint } from "../model/saelens-writer.js";
import { CREATED_BY } from "../base/version.js";
import type { SaeTrainer } from "./trainer.js";
import type { EpochReport } from "./train-loop.js";

export interface TrainedExport {
  /** The int8 model's .safetensors bytes. */
  model: Uint8Array;
  /** File name -> bytes of the SAELens checkpoint (cfg.json, sae_weights.safetensors). */
  checkpoint: Record<string, Uint8Array>;
}

/** The run's files; `provenance` adds what the caller knows (data file, rows, epochs, batch, seed). */
export function exportTrained(run: { trainer: SaeTrainer; epochs: EpochReport[] }, provenance: Record<string, unknown> = {}): TrainedExport {
  const last = run.epochs[run.epochs.length - 1];
  const weights = run.trainer.weights();
  const model = buildModel(weights, "int8", {
    source_format: "sae-edge train",
    ...provenance,
    lr: run.trainer.options.lr,
    final_fvu: last.fvu,
    ...(last.valFvu !== undefined ? { val_fvu: last.valFvu } : {}),
    created_by: CREATED_BY,
  });
  return { model: serializeModel(model), checkpoint: saeLensCheckpoint(weights, { trained_by: CREATED_BY }) };
}
