// The runtime layer's published interface: what the layers above (importers, train, anomaly,
// metrics, pool, http, adapters, CLI) may use. Placement, self-test and kernel selection
// internals stay behind it.
export { Sae, overflow, takeScores, type SaeInfo, type SparseCodes, type Scores } from "./sae.js";
export { loadSaeWith, readModelHeader, type LoadOptions, type ModelInput } from "./load.js";
export { selectKernel, KERNELS, type Kernel, type KernelName, type WasmBuilds, type WasmBytes, type WasmInput } from "./kernel-select.js";
export { RELAXED_DOTS, probeRelaxedDot, type RelaxedDot } from "./dot-probe.js";
export { steer, editCodes, steeringVector, type LatentEdit, type SteerOptions } from "./steer.js";
export { openKernelModel, openKernelModelFrom, type KernelModel } from "./kernel-model.js";
export { M, ACT, type KernelExports } from "./abi.js";
export type { PlacedModel } from "./placement.js";
