// sae-edge core: runtime-agnostic (no node: imports). Runtime adapters (src/adapters/<runtime>/)
// supply the kernel builds and byte sources.
/**
 * The runtime-free core: the model API (Sae, steering), model building and formats, importers, anomaly scoring and metrics.
 * Every runtime entry re-exports all of it; `sae-edge/core` alone loads kernels only through {@link loadSaeWith}.
 * @module sae-edge/core
 */
export { SaeEdgeError, isCallerError, type SaeErrorCode } from "./base/errors.js";
export { VERSION } from "./base/version.js";
export {
  Sae, type SaeInfo, type SparseCodes, type Scores,
  steer, editCodes, steeringVector, type LatentEdit, type SteerOptions,
  loadSaeWith, type LoadOptions, type ModelInput,
  selectKernel, KERNELS, type KernelName, type WasmBuilds, type WasmBytes, type WasmInput, RELAXED_DOTS, probeRelaxedDot, type RelaxedDot,
} from "./runtime/index.js";
export { bytesSource, type ByteSource } from "./base/byte-source.js";
export { buildModel, buildModelStreamed, serializeModel, serializeModelParts, materializeWeights, type SaeWeights, type CheckpointWeights, type BuiltModel, type BuildOptions } from "./model/quantize.js";
export { inputMean, type InputSpace } from "./model/input-offset.js";
export { loadTensor, mapTensor, type LazyTensor, type TensorLike, type TensorLoadOptions } from "./base/lazy-tensor.js";
export { specFromHeader, expectedTensors, ARCHITECTURES, type ModelSpec, type Architecture, type Quantization } from "./model/spec.js";
export {
  importCheckpoint, openCheckpoint, importerFor, IMPORTERS, type CheckpointFiles, type Importer, type ImportedSae,
  quantizeCheckpoint, type QuantizeCheckpointOptions, checkpointFidelity, type CheckpointFidelity, type CheckpointFidelityOptions,
} from "./importers/index.js";
export * from "./format/safetensors.js";
export * from "./format/npy.js";
export { openSafetensors, readSafetensorsHeader, type SafetensorsFile } from "./format/safetensors-source.js";
export { openNpz, type NpzMember } from "./format/npz-source.js";
export { fileKind, type FileKind } from "./format/file-kind.js";
export { SaePool, AUTO_LATENT_BYTES, type PoolSplit, type PoolOptions } from "./pool/pool.js";
export { serveSae } from "./pool/serve.js";
export type { PoolEndpoint, WorkerPort, ToWorker, FromWorker } from "./pool/protocol.js";
export { anomalyScores, residualScores, calibrate, explainRow, type CalibrateOptions, type Explanation } from "./anomaly/scoring.js";
export { resolveScoring, conformalThreshold, type ScoringRequest, type Scoring } from "./anomaly/threshold.js";
export { fitDetector, METHODS, type Method, type Detector, type DetectorOptions } from "./anomaly/detector.js";
export { NormalCodeIndex } from "./anomaly/code-index.js";
export { latentSurprise } from "./anomaly/surprise.js";
export { pooledResidual, type Grid } from "./anomaly/pooled-residual.js";
export { withCalibration } from "./model/calibration-file.js";
export { auroc, auprc, rocCurve, type RocPoint } from "./metrics/detection.js";
export { fidelityReport, type FidelityReport } from "./metrics/fidelity.js";
export type { Calibration, ScoreMode, Screen, LowRankScreen, Int4Screen } from "./model/spec.js";
export { addScreen, addInt4Screen, type ScreenOptions, type Int4ScreenOptions } from "./model/screen.js";

