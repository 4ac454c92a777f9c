// Types for common.mjs (plain JavaScript so child processes can run it).
import type { BuiltModel, SaeWeights } from "../../src/model/quantize.js";
import type { Sae } from "../../src/runtime/sae.js";
import type { Architecture, Quantization } from "../../src/model/spec.js";

export declare const REPO: string;
export declare const NODE22: string;
export declare const DIST_NODE: string;
export declare const DIST_INDEX: string;
export declare const DIST_CLI: string;
export declare const BUILD_DIR: string;

export declare function rng(seed: number): () => number;
export declare function gaussian(rand: () => number): () => number;

export interface WeightsSpec {
  architecture: Architecture;
  dIn: number;
  dSae: number;
  k?: number;
  seed: number;
  applyBDecToInput?: boolean;
  ties?: boolean;
}
export declare function randomWeights(spec: WeightsSpec): SaeWeights;
export declare function randomInput(rows: number, dIn: number, seed: number, bDec?: Float32Array): Float32Array;

export interface VectorCase {
  id: string;
  quant: Quantization;
  /** int8: build the model with the encoder's residual plane (W_enc_residual). */
  encoderResidual?: boolean;
  rows: number;
  weights: WeightsSpec;
  inputSeed: number;
}
export declare function vectorCases(): VectorCase[];

export interface Lib {
  buildModel(w: SaeWeights, q: Quantization, provenance?: Record<string, unknown>): BuiltModel;
  serializeModel(m: BuiltModel): Uint8Array;
}
export interface MaterializedCase extends Omit<VectorCase, "weights"> {
  weights: SaeWeights;
  model: BuiltModel;
  bytes: Uint8Array;
  x: Float32Array;
}
export declare function materialize(c: VectorCase, lib: Lib): MaterializedCase;

export interface Outputs {
  rowOffsets: Uint32Array;
  indices: Uint32Array;
  values: Float32Array;
  dense: Float32Array;
  preact: Float32Array;
  recon: Float32Array;
  forwardRecon: Float32Array;
  denseRecon: Float32Array;
  squared: Float64Array;
  normalized: Float64Array;
}
export declare function saeOutputs(sae: Sae, x: Float32Array, rows: number): Outputs;
export declare function referenceOutputs(model: BuiltModel, x: Float32Array, rows: number): Outputs;

export declare function sha256(...arrays: ArrayBufferView[]): string;
export declare const PARTS: readonly string[];
export declare function hashOutputs(o: Outputs): { all: string; parts: Record<string, string> };
export declare function allFinite(o: Outputs): boolean;
