// What every checkpoint importer implements. Importers read files through
// CheckpointFiles, so they run wherever the host can list and read files.
import type { CheckpointWeights } from "../model/quantize.js";
import { bytesSource, type ByteSource } from "../base/byte-source.js";

export interface CheckpointFiles {
  /** Names of the files in the checkpoint folder. */
  list(): Promise<string[]>;
  read(name: string): Promise<Uint8Array>;
  /** Random access to a file, for checkpoints too big to read whole (default: read it whole). */
  open?(name: string): Promise<ByteSource>;
  /** Closes what open() opened. */
  close?(): Promise<void>;
  /** For messages. */
  readonly location: string;
  /** Subfolders holding checkpoints of their own (a multi-layer folder), if any. */
  readonly hookpoints?: readonly string[];
}

export function openFile(files: CheckpointFiles, name: string): Promise<ByteSource> {
  return files.open ? files.open(name) : files.read(name).then(bytesSource);
}

export interface ImportedSae {
  /** The big matrices may still be on disk (LazyTensor): read them decoder first. */
  weights: CheckpointWeights;
  /** Where the weights came from, stored in the model's provenance. */
  provenance: Record<string, unknown>;
  /**
   * Where sae-edge's reading differs from a plain reading of the checkpoint or needs the user's
   * attention (an option followed in a way worth knowing, a config key not understood): one line
   * each, for the caller to print. openCheckpoint also keeps them in provenance.warnings.
   */
  warnings?: string[];
}

export interface Importer {
  /** The --from name. */
  readonly family: string;
  /** True if the folder looks like this family's checkpoint. */
  detect(files: CheckpointFiles): Promise<boolean>;
  load(files: CheckpointFiles): Promise<ImportedSae>;
}
