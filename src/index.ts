// sae-edge core: runtime-agnostic (no node: imports). Runtime adapters (src/node.ts)
// supply the kernel builds and byte sources.
export { SaeEdgeError, type SaeErrorCode } from "./core/errors.js";
export { Sae, type SaeInfo, type SparseCodes, type Scores } from "./core/sae.js";
export { steer, editCodes, steeringVector, type LatentEdit, type SteerOptions } from "./core/steer.js";
export { loadSaeWith, type LoadOptions, type ModelInput } from "./core/load.js";
export { selectKernel, KERNELS, type KernelName, type WasmBuilds, type WasmInput } from "./core/kernels.js";
export { bytesSource, type ByteSource } from "./core/source.js";
export { buildModel, serializeModel, type SaeWeights, type BuiltModel } from "./core/quantize.js";
export { specFromHeader, expectedTensors, ARCHITECTURES, type ModelSpec, type Architecture, type Quantization } from "./core/model-format.js";
export { importCheckpoint, importerFor, IMPORTERS, type CheckpointFiles, type Importer, type ImportedSae } from "./importers/index.js";
export * from "./format/safetensors.js";
export * from "./format/npy.js";
