// Entry for the demo jobs (Node-only): the MNIST main job and the default model's trainer.
export { runMnistJob, type MnistJobOptions } from "./mnist-job.js";
export { trainDefaultModel, DEFAULT_MODEL_PATH, DEFAULT_TRAINING } from "./default-model.js";
export { mnistDigits, concatRows } from "./mnist-data.js";
