// Messages between a SaePool and its workers. Plain data (structured-cloneable), so the
// same protocol runs over Node worker_threads, Web Workers and Deno workers.
import type { SaeErrorCode } from "../base/errors.js";
import type { KernelName } from "../runtime/index.js";
import type { SaeInfo, SparseCodes } from "../runtime/index.js";
import type { SliceInit } from "./latent-worker.js";
import type { ChannelInit } from "./channel.js";

/**
 * What a pool worker answers; one method per parallel call. Row split: encode, encodeDense,
 * score on a chunk of rows. Latent split: encode (a slice's codes), candidates (a slice's int8
 * TopK candidates) on every row, and scoreCodes (the decoder's worker) on merged codes. Both:
 * memory (the worker's wasm memory bytes; x is empty).
 */
export type PoolMethod = "encode" | "encodeDense" | "score" | "candidates" | "scoreCodes" | "memory";

export type ToWorker =
  | { type: "init"; model: unknown; kernel?: KernelName; slice?: SliceInit; channel?: ChannelInit }
  | { type: "call"; id: number; method: PoolMethod; x: Float32Array; rows: number; start: number; codes?: SparseCodes };

export interface WireError {
  code: SaeErrorCode;
  message: string;
  row?: number;
}

export type FromWorker =
  /** channel: the worker serves the shared-memory channel it was given (an older worker script would not). */
  | { type: "ready"; info: SaeInfo; channel?: boolean }
  | { type: "result"; id: number; result: unknown }
  | { type: "error"; id: number | null; error: WireError };

/** One worker as the pool sees it: runtime adapters wrap worker_threads, Web Workers, … */
export interface PoolEndpoint {
  /** Another thread, which shared memory can reach (channel.ts); the calling thread's own share is not. */
  sharedMemory?: boolean;
  post(message: ToWorker, transfer?: ArrayBuffer[]): void;
  /** onExit: the worker died (crash, out of memory) without answering. */
  listen(onMessage: (message: FromWorker) => void, onExit: (reason: string) => void): void;
  terminate(): Promise<unknown> | void;
}

/** The worker side of the channel. */
export interface WorkerPort {
  post(message: FromWorker, transfer?: ArrayBuffer[]): void;
  listen(onMessage: (message: ToWorker) => void): void;
}
