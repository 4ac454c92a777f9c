// Entry for the demo jobs (Node-only): the MNIST main job and the default model's trainer.
export { runMnistJob, type MnistJobOptions } from "./mnist-job.js";
export { trainDefaultModel, DEFAULT_MODEL_PATH, DEFAULT_TRAINING } from "./default-model.js";
export { mnistDigits, concatRows } from "./mnist-data.js";
export { oneClassBenchmark, ONE_CLASS_DEFAULTS, ONE_CLASS_SCORES, DEEP_SVDD_ONE_CLASS, type OneClassResult, type OneClassScore, type OneClassConfig } from "./one-class.js";
export { splitDigit, MNIST_DIM, MNIST_SIDE } from "./mnist-data.js";
export { fitPca, pcaScores, type Pca } from "./pca.js";
