// A SaePool spreads the rows of a batch over worker threads, each with its own copy of the
// model (wasm memory cannot be shared without importing it, which the numbers-only ABI
// rules out), and joins the answers in row order. Results equal one Sae's bit for bit.
import { SaeEdgeError, fail } from "../base/errors.js";
import type { KernelName } from "../runtime/index.js";
import type { SaeInfo, Scores, SparseCodes } from "../runtime/index.js";
import type { FromWorker, PoolEndpoint, PoolMethod, WireError } from "./protocol.js";

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class PoolWorker {
  readonly #endpoint: PoolEndpoint;
  readonly #pending = new Map<number, Pending>();
  #dead: string | null = null;
  ready: Promise<SaeInfo>;

  constructor(endpoint: PoolEndpoint, model: unknown, kernel: KernelName | undefined) {
    this.#endpoint = endpoint;
    let onReady!: Pending;
    this.ready = new Promise<SaeInfo>((resolve, reject) => (onReady = { resolve: resolve as (v: unknown) => void, reject }));
    endpoint.listen((msg: FromWorker) => {
      if (msg.type === "ready") return onReady.resolve(msg.info);
      const error = msg.type === "error" ? toError(msg.error) : undefined;
      if (msg.id === null) return onReady.reject(error!);
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (error) p?.reject(error);
      else if (msg.type === "result") p?.resolve(msg.result);
    }, (reason) => {
      this.#dead = reason;
      const error = new SaeEdgeError("DISPOSED", `pool worker stopped: ${reason}`);
      onReady.reject(error);
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    });
    endpoint.post({ type: "init", model, kernel });
  }

  call(id: number, method: PoolMethod, x: Float32Array, rows: number, start: number): Promise<unknown> {
    if (this.#dead) return Promise.reject(new SaeEdgeError("DISPOSED", `pool worker stopped: ${this.#dead}`));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#endpoint.post({ type: "call", id, method, x, rows, start }, [x.buffer as ArrayBuffer]);
    });
  }

  terminate(): Promise<unknown> | void {
    this.#dead ??= "closed";
    return this.#endpoint.terminate();
  }
}

function toError(e: WireError): SaeEdgeError {
  return new SaeEdgeError(e.code, e.message, e.row);
}

export class SaePool {
  readonly info: Readonly<SaeInfo>;
  readonly #workers: PoolWorker[];
  #nextId = 0;
  #closed = false;

  private constructor(workers: PoolWorker[], info: SaeInfo) {
    this.#workers = workers;
    this.info = Object.freeze(info);
  }

  /** Starts one worker per endpoint, each loading `model` (what the adapter's workers understand: bytes or a path). */
  static async start(endpoints: PoolEndpoint[], model: unknown, options: { kernel?: KernelName } = {}): Promise<SaePool> {
    if (endpoints.length < 1) fail("INVALID_ARGUMENT", "a pool needs at least one worker");
    const workers = endpoints.map((e) => new PoolWorker(e, model, options.kernel));
    try {
      const infos = await Promise.all(workers.map((w) => w.ready));
      return new SaePool(workers, infos[0]);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
  }

  get threads(): number {
    return this.#workers.length;
  }

  /** As Sae.encode, rows spread over the workers. */
  async encode(x: Float32Array, n?: number): Promise<SparseCodes> {
    const parts = (await this.#spread("encode", x, n)) as SparseCodes[];
    const rows = parts.reduce((s, p) => s + p.rows, 0);
    const rowOffsets = new Uint32Array(rows + 1);
    let r = 0, total = 0;
    for (const p of parts) {
      for (let i = 1; i <= p.rows; i++) rowOffsets[r + i] = total + p.rowOffsets[i];
      r += p.rows;
      total += p.indices.length;
    }
    const indices = join(parts.map((p) => p.indices), Uint32Array);
    const values = join(parts.map((p) => p.values), Float32Array);
    const rowNorm = parts[0].rowNorm ? join(parts.map((p) => p.rowNorm!), Float32Array) : undefined;
    return { rows, dSae: this.info.dSae, rowOffsets, indices, values, ...(rowNorm ? { rowNorm } : {}) };
  }

  /** As Sae.encodeDense. */
  async encodeDense(x: Float32Array, n?: number): Promise<Float32Array> {
    return join((await this.#spread("encodeDense", x, n)) as Float32Array[], Float32Array);
  }

  /** As Sae.score. */
  async score(x: Float32Array, n?: number): Promise<Scores> {
    const parts = (await this.#spread("score", x, n)) as Scores[];
    return { squared: join(parts.map((p) => p.squared), Float64Array), normalized: join(parts.map((p) => p.normalized), Float64Array) };
  }

  /** Stops the workers; later calls throw DISPOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  // Contiguous, nearly equal row ranges, one per worker (fewer when there are fewer rows).
  async #spread(method: PoolMethod, x: Float32Array, n: number | undefined): Promise<unknown[]> {
    if (this.#closed) fail("DISPOSED", "this pool was closed");
    const rows = rowCount(x, n, this.info.dIn);
    const used = Math.min(this.#workers.length, rows);
    const calls: Promise<unknown>[] = [];
    for (let w = 0, r0 = 0; w < used; w++) {
      const r1 = r0 + Math.floor(rows / used) + (w < rows % used ? 1 : 0);
      // A copy per chunk: its buffer moves to the worker, the caller's x stays intact.
      const chunk = x.slice(r0 * this.info.dIn, r1 * this.info.dIn);
      calls.push(this.#workers[w].call(this.#nextId++, method, chunk, r1 - r0, r0));
      r0 = r1;
    }
    return Promise.all(calls);
  }
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
