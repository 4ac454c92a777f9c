// A checkpoint folder to an sae-edge model: detect (or take) the family, stream the big
// matrices from disk one at a time (a 1.2 GB Gemma Scope 65k fits in 1.5 GB) and quantize.
import { buildModelStreamed, type BuiltModel } from "../model/quantize.js";
import { inputMean } from "../model/input-offset.js";
import type { Quantization } from "../model/spec.js";
import { CREATED_BY } from "../base/version.js";
import { openCheckpoint } from "./registry.js";
import type { CheckpointFiles } from "./types.js";

export interface QuantizeCheckpointOptions {
  /** int8 (default) or exact f32 weights. */
  quantization?: Quantization;
  /** The checkpoint family (default: detect). */
  family?: string;
  /**
   * int8: the input offset μ [d_in] to quantize around (encode quantizes x' − μ, the loader folds
   * W_encᵀμ into the bias): the mean x' of these calibration rows ([n][d_in]), or μ itself. Default none.
   */
  offset?: { rows: Float32Array; cols?: number } | Float32Array;
  /** int8: also store the encoder's residual plane (W_enc_residual, one more byte per weight) that rescoring reads (BuildOptions). Default false. */
  encoderResidual?: boolean;
  /** Values read so far of the total in the two big matrices. */
  onProgress?: (done: number, total: number) => void;
}

/** The model of a checkpoint (and the importer's warnings: what it did not read or changed), stamped with sae-edge's version and the time; the folder's files are closed afterwards. */
export async function quantizeCheckpoint(files: CheckpointFiles, options: QuantizeCheckpointOptions = {}): Promise<{ model: BuiltModel; family: string; warnings: string[] }> {
  try {
    const opened = await openCheckpoint(files, options.family);
    const total = opened.weights.W_enc.length + opened.weights.W_dec.length;
    let done = 0;
    const provenance = { ...opened.provenance, created_by: CREATED_BY, created_at: new Date().toISOString() };
    const { offset } = options;
    const w = opened.weights;
    if (offset) w.xOffset = offset instanceof Float32Array ? offset : inputMean(w, offset.rows, offset.cols);
    const model = await buildModelStreamed(w, options.quantization ?? "int8", provenance, (n) => options.onProgress?.((done += n), total), { encoderResidual: options.encoderResidual });
    return { model, family: opened.family, warnings: opened.warnings };
  } finally {
    await files.close?.();
  }
}
