// How faithful an int8 model is to the checkpoint it came from: the checkpoint's exact f32
// model against the int8 one (quantized now, or a given model file) on the same rows.
import { fail } from "../base/errors.js";
import { buildModel, serializeModel } from "../model/quantize.js";
import { loadSaeWith, type KernelName, type ModelInput, type Sae, type WasmBuilds } from "../runtime/index.js";
import { fidelityReport, type FidelityReport } from "../metrics/fidelity.js";
import { importCheckpoint } from "./registry.js";
import { inputMean } from "../model/input-offset.js";
import type { QuantizeCheckpointOptions } from "./quantize-checkpoint.js";
import type { CheckpointFiles } from "./types.js";

export interface CheckpointFidelityOptions {
  /** The int8 model to check (default: quantize the checkpoint now). */
  model?: ModelInput;
  /** The checkpoint family (default: detect). */
  family?: string;
  kernel?: KernelName;
  /** When quantizing now: the input offset to quantize around, as quantizeCheckpoint's `offset`. */
  offset?: QuantizeCheckpointOptions["offset"];
}

export interface CheckpointFidelity {
  family: string;
  /** The exact f32 model and the int8 one, loaded (the caller disposes them). */
  exact: Sae;
  quantized: Sae;
  report: FidelityReport;
  /** What the importer did not read or changed, one line each. */
  warnings: string[];
}

/**
 * The fidelity report of a checkpoint's int8 model on `rows` (n × d_in, row-major). A given model
 * must match the checkpoint's shape; a transcoder (d_out ≠ d_in) cannot be compared with its inputs.
 */
export async function checkpointFidelity(
  builds: WasmBuilds, files: CheckpointFiles, rows: { data: Float32Array; cols: number }, options: CheckpointFidelityOptions = {},
): Promise<CheckpointFidelity> {
  const imported = await importCheckpoint(files, options.family);
  const load = (m: ModelInput) => loadSaeWith(builds, m, { kernel: options.kernel });
  const exact = await load(serializeModel(buildModel(imported.weights, "f32", imported.provenance)));
  const { offset } = options;
  const xOffset = offset === undefined ? undefined : offset instanceof Float32Array ? offset : inputMean(imported.weights, offset.rows, offset.cols);
  const quantized = await load(options.model ?? serializeModel(buildModel({ ...imported.weights, ...(xOffset ? { xOffset } : {}) }, "int8", imported.provenance)));
  try {
    for (const key of ["dIn", "dSae", "architecture", "k"] as const) {
      if (quantized.info[key] !== exact.info[key]) fail("INPUT_SHAPE", `the model has ${key}=${quantized.info[key]}, the checkpoint ${exact.info[key]}`);
    }
    if (exact.info.dOut !== exact.info.dIn) fail("MODEL_UNSUPPORTED", "fidelity compares reconstructions with their inputs; a transcoder needs its targets");
    if (rows.cols !== exact.info.dIn) fail("INPUT_SHAPE", `the rows have ${rows.cols} columns, the checkpoint's d_in is ${exact.info.dIn}`);
    return { family: imported.family, warnings: imported.warnings, exact, quantized, report: fidelityReport(exact, quantized, rows.data) };
  } catch (e) {
    exact.dispose();
    quantized.dispose();
    throw e;
  }
}
