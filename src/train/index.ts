// Entry for training (runtime-agnostic core of the trainer).
export { SaeTrainer, type StepStats, type Gradients } from "./trainer.js";
export { trainSae, matrixBatches, type TrainRun, type EpochReport, type BatchSource } from "./train-loop.js";
export { trainOptions, type TrainOptions, type TrainArchitecture } from "./options.js";
export { exportTrained, type TrainedExport } from "./export.js";
