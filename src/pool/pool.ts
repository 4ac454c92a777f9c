// A SaePool runs one model on worker threads, in one of two ways (docs/architecture.md, "Pools"):
// - rows: each worker holds a copy of the model (wasm memory cannot be shared without importing
//   it, which the numbers-only ABI rules out) and encodes a share of each batch's rows;
// - latents: each worker holds a slice of the latents (src/model/latent-slices.ts), one of them
//   the decoder too, so the pool holds one model's worth of weights; every worker encodes every
//   row against its slice and the pool merges the slices (latent-merge.ts).
// Either way results equal one Sae's bit for bit.
import { fail } from "../base/errors.js";
import type { ByteSource } from "../base/byte-source.js";
import { readModelHeader, type KernelName } from "../runtime/index.js";
import type { SaeInfo, Scores, SparseCodes } from "../runtime/index.js";
import { latentRanges, latentSplitRefusal, planLatentSlice, readLatentSlice } from "../model/latent-slices.js";
import type { ModelSpec } from "../model/spec.js";
import { LATENT_TILE } from "../model/layout.js";
import type { PoolEndpoint, PoolMethod } from "./protocol.js";
import { PoolWorker } from "./worker-link.js";
import { mergeCodes, mergeTopKCandidates, rescoreCandidates } from "./latent-merge.js";
import type { Candidates } from "./latent-worker.js";
import { CHANNEL_ROWS, channelAvailable, createChannel } from "./channel.js";

/** How a pool shares the work: by rows (a model copy per worker), by latents (one model in total), or auto. */
export type PoolSplit = "rows" | "latents" | "auto";

export interface PoolOptions {
  /** Force a kernel build in every worker. */
  kernel?: KernelName;
  /**
   * "rows" (default without `source`): every worker holds the whole model and takes a share of
   * each batch's rows. "latents": every worker holds a slice of the latents and takes every row,
   * one model's worth of memory in total, and a single row runs on every core. "auto" (default
   * with `source`): latents when the encoder is larger than one core's share of cache
   * (AUTO_LATENT_BYTES), where row workers would each stream their own copy from memory.
   */
  split?: PoolSplit;
  /** The model's bytes: its header decides "auto" and the latent slices. */
  source?: ByteSource;
  /**
   * The workers can read `model` themselves (a path or URL): each reads its latent slice straight
   * into its wasm memory. Otherwise each slice is read here and moved (not copied) to its worker.
   */
  workersRead?: boolean;
  /** What latent-split workers get as `model` when they do not read it (the kernel builds, without the weights); default `model`. */
  sliceModel?: unknown;
  /**
   * Latent split of an int8 TopK model: calls of up to CHANNEL_ROWS (16) rows reach each worker
   * through shared memory, woken by Atomics, where the engine has SharedArrayBuffer and
   * Atomics.waitAsync (browsers: cross-origin isolated pages); default true. false: by message.
   */
  sharedMemory?: boolean;
  /**
   * The cores this engine offers (the adapters pass availableParallelism() or
   * navigator.hardwareConcurrency). A shared-memory worker stays awake between back-to-back calls
   * only when the pool's threads (the calling thread's share included) fit them: a spinning
   * worker would take the core another thread computes on. Unknown: it sleeps.
   */
  cores?: number;
}

/**
 * Encoders above this many bytes make "auto" split by latents: a per-core L2 share (2 MiB on
 * the machines measured). Below it each row worker's copy stays in its core's cache; above it
 * every copy streams from shared L3 or DRAM, which latent slices divide instead of multiply.
 */
export const AUTO_LATENT_BYTES = 2 << 20;

export class SaePool {
  readonly info: Readonly<SaeInfo>;
  /** How this pool shares the work ("auto" resolved). */
  readonly split: "rows" | "latents";
  /** Whether calls of up to 16 rows reach the workers through shared memory (latent split of an int8 TopK model, where the engine allows it; PoolOptions.sharedMemory). */
  readonly sharedMemory: boolean;
  readonly #workers: PoolWorker[];
  #nextId = 0;
  #closed = false;

  private constructor(workers: PoolWorker[], info: SaeInfo, split: "rows" | "latents") {
    this.#workers = workers;
    this.info = Object.freeze(info);
    this.split = split;
    this.sharedMemory = workers.some((w) => w.shared);
  }

  /**
   * Starts one worker per endpoint. Row split: each loads `model` (what the adapter's workers
   * understand: bytes or a path). Latent split: each gets its slice of `options.source`.
   */
  static async start(endpoints: PoolEndpoint[], model: unknown, options: PoolOptions = {}): Promise<SaePool> {
    if (endpoints.length < 1) fail("INVALID_ARGUMENT", "a pool needs at least one worker");
    const { kernel, source } = options;
    const workers: PoolWorker[] = [];
    try {
      const split = options.split ?? (source ? "auto" : "rows");
      if (!["rows", "latents", "auto"].includes(split)) fail("INVALID_ARGUMENT", `split must be "rows", "latents" or "auto", got ${JSON.stringify(split)}`);
      if (split === "latents" && !source) fail("INVALID_ARGUMENT", "a latent split reads the model's bytes: pass options.source");
      const read = split !== "rows" && source ? await readModelHeader(source) : null;
      const latents = read !== null && (split === "latents" || autoLatents(read.spec, read.header.tensors, endpoints.length));
      if (!latents) {
        for (const e of endpoints) workers.push(new PoolWorker(e, { type: "init", model, kernel }));
      } else {
        const { header, spec } = read!;
        const refusal = latentSplitRefusal(spec);
        if (refusal) fail("MODEL_UNSUPPORTED", `cannot split this model by latents: ${refusal}`);
        const ranges = latentRanges(spec, endpoints.length);
        const candidates = spec.architecture === "topk" && spec.quantization === "int8" ? rescoreCandidates(spec.k, spec.dSae) : 0;
        const shared = candidates > 0 && options.sharedMemory !== false && channelAvailable();
        const spin = endpoints.length <= (options.cores ?? 0);
        for (const [w, e] of endpoints.entries()) {
          const slice = { ...planLatentSlice(header, spec, ranges[w]!, w === 0), dSae: spec.dSae, candidates };
          const channel = shared && e.sharedMemory ? { channel: createChannel({ dIn: spec.dIn, c: candidates, residual: spec.encoderResidual === true, normalized: spec.normalization !== "none", spin }) } : {};
          if (options.workersRead) {
            workers.push(new PoolWorker(e, { type: "init", model, kernel, slice, ...channel }));
          } else {
            // One slice in memory here at a time: read, then moved (not copied) to its worker.
            const tensors = await readLatentSlice(source!, slice);
            const init = { type: "init", model: options.sliceModel ?? model, kernel, slice: { ...slice, tensors }, ...channel } as const;
            workers.push(new PoolWorker(e, init, Object.values(tensors).map((t) => t.buffer as ArrayBuffer)));
          }
        }
      }
      const infos = await Promise.all(workers.map((w) => w.ready));
      const info = latents ? { ...read!.spec, kernel: infos[0]!.kernel, kernelFallbacks: infos[0]!.kernelFallbacks, relaxedDot: infos[0]!.relaxedDot } : infos[0]!;
      return new SaePool(workers, info, latents ? "latents" : "rows");
    } catch (e) {
      // Every worker stops: those started and the endpoints not yet used.
      await Promise.all([...workers.map((w) => w.terminate()), ...endpoints.slice(workers.length).map((p) => p.terminate())]);
      throw e;
    }
  }

  get threads(): number {
    return this.#workers.length;
  }

  /** As Sae.encode. */
  async encode(x: Float32Array, n?: number): Promise<SparseCodes> {
    if (this.split === "latents") return this.#latentEncode(x, n);
    const parts = (await this.#spread("encode", x, n)) as SparseCodes[];
    const rows = parts.reduce((s, p) => s + p.rows, 0);
    const rowOffsets = new Uint32Array(rows + 1);
    let r = 0, total = 0;
    for (const p of parts) {
      for (let i = 1; i <= p.rows; i++) rowOffsets[r + i] = total + p.rowOffsets[i]!;
      r += p.rows;
      total += p.indices.length;
    }
    const indices = join(parts.map((p) => p.indices), Uint32Array);
    const values = join(parts.map((p) => p.values), Float32Array);
    const rowNorm = parts[0]!.rowNorm ? join(parts.map((p) => p.rowNorm!), Float32Array) : undefined;
    return { rows, dSae: this.info.dSae, rowOffsets, indices, values, ...(rowNorm ? { rowNorm } : {}) };
  }

  /** As Sae.encodeDense. */
  async encodeDense(x: Float32Array, n?: number): Promise<Float32Array> {
    if (this.split === "rows") return join((await this.#spread("encodeDense", x, n)) as Float32Array[], Float32Array);
    // One Sae writes its codes' values into a zeroed row: the same from the merged codes.
    const codes = await this.#latentEncode(x, n);
    const { dSae } = this.info;
    const out = new Float32Array(codes.rows * dSae);
    for (let r = 0; r < codes.rows; r++) {
      for (let e = codes.rowOffsets[r]!; e < codes.rowOffsets[r + 1]!; e++) out[r * dSae + codes.indices[e]!] = codes.values[e]!;
    }
    return out;
  }

  /** As Sae.score. */
  async score(x: Float32Array, n?: number): Promise<Scores> {
    if (this.split === "latents") {
      const { dIn, dOut } = this.info;
      if (dOut !== dIn) fail("MODEL_UNSUPPORTED", `score compares x with its reconstruction; this transcoder maps d_in=${dIn} to d_out=${dOut}`);
      const codes = await this.#latentEncode(x, n);
      // The first worker holds the decoder.
      return (await this.#workers[0]!.call(this.#nextId++, "scoreCodes", x.slice(), codes.rows, 0, codes)) as Scores;
    }
    const parts = (await this.#spread("score", x, n)) as Scores[];
    return { squared: join(parts.map((p) => p.squared), Float64Array), normalized: join(parts.map((p) => p.normalized), Float64Array) };
  }

  /** Bytes of wasm memory each worker holds (a row split: a model copy each; a latent split: a slice each). */
  async memoryBytes(): Promise<number[]> {
    if (this.#closed) fail("DISPOSED", "this pool was closed");
    return (await Promise.all(this.#workers.map((w) => w.call(this.#nextId++, "memory", new Float32Array(0), 0, 0)))) as number[];
  }

  /** Stops the workers; later calls throw DISPOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  // Every row to every slice, then the slices' results merged.
  async #latentEncode(x: Float32Array, n: number | undefined): Promise<SparseCodes> {
    if (this.#closed) fail("DISPOSED", "this pool was closed");
    const rows = rowCount(x, n, this.info.dIn);
    const { architecture, quantization, k, dSae, dIn } = this.info;
    const topkInt8 = architecture === "topk" && quantization === "int8";
    const started = performance.now();
    const local = this.#workers.findIndex((w) => !w.shared);
    const spinning = topkInt8 && rows <= CHANNEL_ROWS && local >= 0 && this.sharedMemory;
    // By message, a copy per worker: its buffer moves to the worker, the caller's x stays intact.
    const calls = this.#workers.map((w) => (topkInt8 ? w.candidates(this.#nextId++, x, rows, dIn, spinning) : w.call(this.#nextId++, "encode", x.slice(0, rows * dIn), rows, 0)));
    if (spinning) {
      // This thread computes its share (the last) while the workers compute theirs; then it waits
      // for their answers awake, at most as long as its own share took.
      await calls[local]!.catch(() => {});
      const until = 2 * performance.now() - started;
      for (const w of this.#workers) w.spinOnChannel(until);
    }
    const parts = await settle(calls);
    if (topkInt8) return mergeTopKCandidates(parts as Candidates[], k, dSae);
    return mergeCodes(parts as SparseCodes[], architecture === "topk" ? k : Infinity, dSae);
  }

  // Contiguous, nearly equal row ranges, one per worker; fewer rows than workers go to the last
  // ones, which include a share on the calling thread (the adapters' mainThread) when there is one.
  async #spread(method: PoolMethod, x: Float32Array, n: number | undefined): Promise<unknown[]> {
    if (this.#closed) fail("DISPOSED", "this pool was closed");
    const rows = rowCount(x, n, this.info.dIn);
    const used = Math.min(this.#workers.length, rows);
    const calls: Promise<unknown>[] = [];
    for (let i = 0, r0 = 0; i < used; i++) {
      const r1 = r0 + Math.floor(rows / used) + (i < rows % used ? 1 : 0);
      // A copy per chunk: its buffer moves to the worker, the caller's x stays intact.
      const chunk = x.slice(r0 * this.info.dIn, r1 * this.info.dIn);
      calls.push(this.#workers[this.#workers.length - used + i]!.call(this.#nextId++, method, chunk, r1 - r0, r0));
      r0 = r1;
    }
    return Promise.all(calls);
  }
}

// "auto": latents when there are workers to share the latents and the encoder is too large to
// stay in one core's cache.
function autoLatents(spec: ModelSpec, tensors: { name: string; begin: number; end: number }[], workers: number): boolean {
  const encoder = tensors.find((t) => t.name === "W_enc_packed")!;
  return workers > 1 && latentSplitRefusal(spec) === null && encoder.end - encoder.begin > AUTO_LATENT_BYTES && spec.dSae >= workers * LATENT_TILE * (spec.architecture === "groupmax" ? spec.dSae / spec.k : 1);
}

// All the slices' answers; when some fail, the error one Sae would give: the lowest row's.
async function settle(calls: Promise<unknown>[]): Promise<unknown[]> {
  const done = await Promise.allSettled(calls);
  const errors = done.flatMap((d) => (d.status === "rejected" ? [d.reason as Error & { row?: number }] : []));
  if (errors.length) throw errors.reduce((a, b) => ((b.row ?? -1) < (a.row ?? -1) ? b : a));
  return done.map((d) => (d as PromiseFulfilledResult<unknown>).value);
}

function rowCount(x: Float32Array, n: number | undefined, width: number): number {
  if (!(x instanceof Float32Array)) fail("INVALID_ARGUMENT", "input must be a Float32Array");
  const rows = n ?? x.length / width;
  if (!Number.isSafeInteger(rows) || rows < 1 || x.length !== rows * width) {
    fail("INPUT_SHAPE", `input has ${x.length} values, expected ${n ?? "a positive number of"} rows × ${width}`);
  }
  return rows;
}

function join<T extends Float32Array | Float64Array | Uint32Array>(parts: T[], Ctor: { new (n: number): T }): T {
  if (parts.length === 1) return parts[0];
  const out = new Ctor(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p as never, o);
    o += p.length;
  }
  return out;
}
