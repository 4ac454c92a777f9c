// Float64 reference for the sae-edge tests. Imports nothing from src/.
export * from "./rng.js";
export * from "./quant.js";
export * from "./sae.js";
export * from "./planted.js";
export * from "./metrics.js";
export * from "./saelens-writer.js";
export * from "./harness.js";
