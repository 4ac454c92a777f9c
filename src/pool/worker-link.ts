// The pool's end of one worker: calls by id, their answers or errors, and the worker's death,
// which fails every call waiting on it and every later one with DISPOSED.
import { SaeEdgeError } from "../base/errors.js";
import type { SaeInfo, SparseCodes } from "../runtime/index.js";
import type { FromWorker, PoolEndpoint, PoolMethod, ToWorker, WireError } from "./protocol.js";

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class PoolWorker {
  readonly #endpoint: PoolEndpoint;
  readonly #pending = new Map<number, Pending>();
  #dead: string | null = null;
  ready: Promise<SaeInfo>;

  constructor(endpoint: PoolEndpoint, init: Extract<ToWorker, { type: "init" }>, transfer: ArrayBuffer[] = []) {
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
    endpoint.post(init, transfer);
  }

  call(id: number, method: PoolMethod, x: Float32Array, rows: number, start: number, codes?: SparseCodes): Promise<unknown> {
    if (this.#dead) return Promise.reject(new SaeEdgeError("DISPOSED", `pool worker stopped: ${this.#dead}`));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#endpoint.post({ type: "call", id, method, x, rows, start, ...(codes ? { codes } : {}) }, [x.buffer as ArrayBuffer]);
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
