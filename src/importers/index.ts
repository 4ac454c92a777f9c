// Checkpoint importers: the registry (family detection, --from names) and the pipelines built on it.
export { IMPORTERS, importerFor, openCheckpoint, importCheckpoint } from "./registry.js";
export type { CheckpointFiles, ImportedSae, Importer } from "./types.js";
export { quantizeCheckpoint, type QuantizeCheckpointOptions } from "./quantize-checkpoint.js";
export { checkpointFidelity, type CheckpointFidelity, type CheckpointFidelityOptions } from "./checkpoint-fidelity.js";
