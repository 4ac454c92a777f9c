// What every checkpoint importer implements. Importers read files through
// CheckpointFiles, so they run wherever the host can list and read files.
import type { SaeWeights } from "../core/quantize.js";

export interface CheckpointFiles {
  /** Names of the files in the checkpoint folder. */
  list(): Promise<string[]>;
  read(name: string): Promise<Uint8Array>;
  /** For messages. */
  readonly location: string;
  /** Subfolders holding checkpoints of their own (a multi-layer folder), if any. */
  readonly hookpoints?: readonly string[];
}

export interface ImportedSae {
  weights: SaeWeights;
  /** Where the weights came from, stored in the model's provenance. */
  provenance: Record<string, unknown>;
}

export interface Importer {
  /** The --from name. */
  readonly family: string;
  /** True if the folder looks like this family's checkpoint. */
  detect(files: CheckpointFiles): Promise<boolean>;
  load(files: CheckpointFiles): Promise<ImportedSae>;
}
