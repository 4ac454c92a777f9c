// The pool's end of one worker: calls by id, their answers or errors, and the worker's death,
// which fails every call waiting on it and every later one with DISPOSED.
import { SaeEdgeError } from "../base/errors.js";
import type { SaeInfo, SparseCodes } from "../runtime/index.js";
import type { FromWorker, PoolEndpoint, PoolMethod, ToWorker, WireError } from "./protocol.js";
import { ChannelClient } from "./channel.js";
import type { Candidates } from "./latent-worker.js";

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class PoolWorker {
  readonly #endpoint: PoolEndpoint;
  readonly #pending = new Map<number, Pending>();
  #dead: string | null = null;
  #channel: ChannelClient | null;
  // Rejects when the worker dies: what a call waiting on shared memory hears of it.
  readonly #died: Promise<never>;
  readonly #stop: (reason: string) => void;
  ready: Promise<SaeInfo>;

  constructor(endpoint: PoolEndpoint, init: Extract<ToWorker, { type: "init" }>, transfer: ArrayBuffer[] = []) {
    this.#endpoint = endpoint;
    this.#channel = init.channel ? new ChannelClient(init.channel) : null;
    let onDied!: (e: Error) => void;
    this.#died = new Promise<never>((_, reject) => (onDied = reject));
    this.#died.catch(() => {}); // heard by the calls that race it
    let onReady!: Pending;
    this.ready = new Promise<SaeInfo>((resolve, reject) => (onReady = { resolve: resolve as (v: unknown) => void, reject }));
    endpoint.listen((msg: FromWorker) => {
      if (msg.type === "ready") {
        if (!msg.channel) this.#channel = null; // calls go by message
        return onReady.resolve(msg.info);
      }
      const error = msg.type === "error" ? toError(msg.error) : undefined;
      if (msg.id === null) return onReady.reject(error!);
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (error) p?.reject(error);
      else if (msg.type === "result") p?.resolve(msg.result);
    }, (this.#stop = (reason) => {
      this.#dead ??= reason;
      const error = new SaeEdgeError("DISPOSED", `pool worker stopped: ${this.#dead}`);
      onReady.reject(error);
      onDied(error);
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    }));
    endpoint.post(init, transfer);
  }

  call(id: number, method: PoolMethod, x: Float32Array, rows: number, start: number, codes?: SparseCodes): Promise<unknown> {
    if (this.#dead) return Promise.reject(new SaeEdgeError("DISPOSED", `pool worker stopped: ${this.#dead}`));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#endpoint.post({ type: "call", id, method, x, rows, start, ...(codes ? { codes } : {}) }, [x.buffer as ArrayBuffer]);
    });
  }

  /**
   * A latent slice's int8 TopK candidates for x's rows: through shared memory when the call fits
   * its channel, else by message (x copied, the caller's intact). `spinning`: the caller will call
   * spinOnChannel before it awaits the answer (ChannelClient.candidates).
   */
  candidates(id: number, x: Float32Array, rows: number, dIn: number, spinning = false): Promise<Candidates> {
    if (this.#dead) return Promise.reject(new SaeEdgeError("DISPOSED", `pool worker stopped: ${this.#dead}`));
    if (this.#channel?.fits(rows)) return this.#channel.candidates(x, rows, this.#died, spinning);
    return this.call(id, "candidates", x.slice(0, rows * dIn), rows, 0) as Promise<Candidates>;
  }

  /** Whether calls can reach this worker through shared memory (else it is a message away, or this thread's own share). */
  get shared(): boolean {
    return this.#channel !== null;
  }

  /** Spins until the channel call out is answered, or until `until` (ChannelClient.spin). */
  spinOnChannel(until: number): void {
    this.#channel?.spin(until);
  }

  /** Stops the worker; calls still waiting fail with DISPOSED (a terminated Web Worker sends no event that would tell them). */
  terminate(): Promise<unknown> | void {
    this.#stop("closed");
    return this.#endpoint.terminate();
  }
}

function toError(e: WireError): SaeEdgeError {
  return new SaeEdgeError(e.code, e.message, e.row);
}
