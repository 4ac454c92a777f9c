// A latent-split worker's shared-memory channel for small int8 TopK calls (docs/architecture.md,
// "Pools"). At batch 1 a slice's work is a few tenths of a millisecond, and a postMessage call and
// its answer (a wake-up each way, structured clones) cost a good share of that: here the pool
// writes the rows into shared memory and wakes the worker with Atomics.notify, and the worker
// writes its candidates back beside them. Both sides wait with Atomics.waitAsync, so neither
// event loop blocks and every other call still travels by message; each stays awake a short
// while first (the worker after an answer when calls come back to back, the pool after its own
// share), because waking a sleeping thread costs tens of microseconds on each side. One call at
// a time per channel; the pool sends a second one by message while the first is out.
import { SaeEdgeError, type SaeErrorCode } from "../base/errors.js";
import type { Candidates } from "./latent-worker.js";
import type { WireError } from "./protocol.js";

/** The most rows a channel call carries; larger batches take long enough that a message costs nothing. */
export const CHANNEL_ROWS = 16;

/** What both ends need to agree on the layout: the shared buffer and the slice's shape. */
export interface ChannelInit {
  buffer: SharedArrayBuffer;
  dIn: number;
  /** Candidates per row (the whole model's rescoring candidates). */
  c: number;
  residual: boolean;
  normalized: boolean;
  /** Whether the worker may stay awake between back-to-back calls: only when no other pool thread needs its core. */
  spin: boolean;
}

// Int32 control words: the last request and answer (sequence numbers), the request's rows, the
// answer's status (0 = candidates, 1 = an error in the error bytes) and its overflow row / error length.
const REQ = 0, DONE = 1, ROWS = 2, STATUS = 3, OVERFLOW = 4, ERROR_LENGTH = 5;
const CONTROL_BYTES = 32;
// The longest a worker stays awake after an answer.
const SPIN_MS = 1;
const ERROR_BYTES = 2048;

// Atomics.waitAsync (ES2024; Node 16+, Deno, Chrome 87+, Safari 16.4+), typed here so the package's
// own types need no newer lib than ES2022.
type WaitAsync = (a: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** Whether this engine can run a channel (SharedArrayBuffer exists only where it may be shared: in browsers, cross-origin isolated pages). */
export function channelAvailable(): boolean {
  return typeof SharedArrayBuffer === "function" && typeof waitAsync === "function";
}

// The candidates' arrays for CHANNEL_ROWS rows, beside the control words, the rows and the error bytes.
type Views = Pick<Candidates, "count" | "index" | "value" | "h" | "h1" | "b" | "rowNorm"> & {
  dIn: number;
  control: Int32Array;
  x: Float32Array;
  error: Uint8Array;
};

function views({ buffer, dIn, c, residual, normalized }: ChannelInit): Views {
  let at = CONTROL_BYTES;
  const take = <T>(Ctor: new (b: SharedArrayBuffer, o: number, l: number) => T, length: number): T => ((at += 4 * length), new Ctor(buffer, at - 4 * length, length));
  const n = CHANNEL_ROWS * c;
  return {
    dIn,
    control: new Int32Array(buffer, 0, CONTROL_BYTES / 4),
    x: take(Float32Array, CHANNEL_ROWS * dIn),
    count: take(Int32Array, CHANNEL_ROWS),
    index: take(Uint32Array, n),
    value: take(Float32Array, n),
    h: take(Float32Array, n),
    ...(residual ? { h1: take(Float32Array, n), b: take(Float32Array, n) } : {}),
    ...(normalized ? { rowNorm: take(Float32Array, 2 * CHANNEL_ROWS) } : {}),
    error: new Uint8Array(buffer, at, ERROR_BYTES),
  };
}

/** A channel's buffer for a slice of this shape. */
export function createChannel(shape: Omit<ChannelInit, "buffer">): ChannelInit {
  const words = CHANNEL_ROWS * (shape.dIn + 1 + shape.c * (shape.residual ? 5 : 3) + (shape.normalized ? 2 : 0));
  return { ...shape, buffer: new SharedArrayBuffer(CONTROL_BYTES + 4 * words + ERROR_BYTES) };
}

/** The pool's end: one call at a time, its answer copied out of shared memory. */
export class ChannelClient {
  readonly #v: Views;
  readonly #c: number;
  #busy = false;
  #seq = 0;
  // Resolves the call out, until its wait for the answer starts (a spinning call's, in spin()).
  #heard: (() => void) | null = null;

  constructor(init: ChannelInit) {
    this.#v = views(init);
    this.#c = init.c;
  }

  /** Whether a call can go now (none is out, and the rows fit). */
  fits(rows: number): boolean {
    return !this.#busy && rows <= CHANNEL_ROWS;
  }

  /**
   * The slice's candidates for x's rows; `died` rejects when the worker stops, which no notify
   * would tell. With `spinning`, the caller calls spin() before it awaits the answer, and the wait
   * for it starts there, if the spin did not see it come.
   */
  async candidates(x: Float32Array, rows: number, died: Promise<never>, spinning = false): Promise<Candidates> {
    const v = this.#v;
    this.#busy = true;
    try {
      v.x.set(x.subarray(0, rows * v.dIn));
      Atomics.store(v.control, ROWS, rows);
      this.#seq = (Atomics.add(v.control, REQ, 1) + 1) | 0; // wraps as the int32 word does
      Atomics.notify(v.control, REQ);
      const heard = new Promise<void>((resolve) => (this.#heard = resolve));
      if (!spinning) this.#wait();
      await Promise.race([heard, died]);
      if (Atomics.load(v.control, STATUS) !== 0) throw readError(v);
      return copyOut(v, rows, this.#c);
    } finally {
      this.#busy = false;
      this.#heard = null;
    }
  }

  /**
   * Stays awake until the call out is answered, or until `until` (performance.now()): a thread that
   * has just computed its own share expects the answer about now, and a sleeping thread takes a
   * wake-up to hear it. Then waits asleep, if the answer has not come.
   */
  spin(until: number): void {
    if (!this.#heard) return;
    const control = this.#v.control;
    while (Atomics.load(control, DONE) !== this.#seq && performance.now() < until);
    this.#wait();
  }

  // Resolves the call out once its answer is in; spin() then has nothing left to wait for.
  #wait(): void {
    const heard = this.#heard!, control = this.#v.control, seq = this.#seq;
    this.#heard = null;
    void (async () => {
      for (;;) {
        const done = Atomics.load(control, DONE);
        if (done === seq) return heard();
        const wait = waitAsync!(control, DONE, done);
        if (wait.async) await wait.value;
      }
    })();
  }
}

function copyOut(v: Views, rows: number, c: number): Candidates {
  const n = rows * c;
  return {
    rows, c,
    count: v.count.slice(0, rows), index: v.index.slice(0, n), value: v.value.slice(0, n), h: v.h.slice(0, n),
    ...(v.h1 ? { h1: v.h1.slice(0, n), b: v.b!.slice(0, n) } : {}),
    ...(v.rowNorm ? { rowNorm: v.rowNorm.slice(0, 2 * rows) } : {}),
    overflowRow: Atomics.load(v.control, OVERFLOW),
  };
}

function readError(v: Views): SaeEdgeError {
  // TextDecoder refuses views of shared memory: copy first.
  const e = JSON.parse(new TextDecoder().decode(v.error.slice(0, Atomics.load(v.control, ERROR_LENGTH)))) as WireError;
  return new SaeEdgeError(e.code as SaeErrorCode, e.message, e.row);
}

/**
 * The worker's end: answers each request with compute's candidates (or its error, as `wire` puts
 * it), until the worker stops. Returns at once; the loop runs on the worker's event loop.
 */
export function serveChannel(init: ChannelInit, compute: (x: Float32Array, rows: number) => Candidates, wire: (e: unknown) => WireError): void {
  const v = views(init);
  void (async () => {
    // When the last answer went out, and how long the worker stayed awake for the next request.
    let answered = 0, awake = Infinity;
    for (let seq = Atomics.load(v.control, REQ); ; ) {
      const wait = waitAsync!(v.control, REQ, seq);
      if (wait.async) await wait.value;
      const next = Atomics.load(v.control, REQ);
      if (next === seq) continue;
      seq = next;
      const started = performance.now();
      // Calls that come back to back (this one within the window) keep the worker awake after the
      // next; a worker called now and then does not burn a core between calls.
      const soon = started - answered <= awake;
      answer(v, compute, wire);
      Atomics.store(v.control, DONE, seq);
      Atomics.notify(v.control, DONE);
      answered = performance.now();
      // Awake for the next request as long as this one took, at most SPIN_MS: a sleeping worker
      // costs the pool a wake-up, tens of microseconds on each side in a VM.
      awake = Math.min(answered - started, SPIN_MS);
      if (init.spin && soon) while (Atomics.load(v.control, REQ) === seq && performance.now() < answered + awake);
    }
  })();
}

function answer(v: Views, compute: (x: Float32Array, rows: number) => Candidates, wire: (e: unknown) => WireError): void {
  const rows = Atomics.load(v.control, ROWS);
  try {
    const c = compute(v.x.subarray(0, rows * v.dIn), rows);
    v.count.set(c.count);
    v.index.set(c.index);
    v.value.set(c.value);
    v.h.set(c.h);
    if (c.h1) v.h1!.set(c.h1);
    if (c.b) v.b!.set(c.b);
    if (c.rowNorm) v.rowNorm!.set(c.rowNorm);
    Atomics.store(v.control, OVERFLOW, c.overflowRow);
    Atomics.store(v.control, STATUS, 0);
  } catch (e) {
    const error = wire(e), encode = (w: WireError) => new TextEncoder().encode(JSON.stringify(w));
    // A message too long for the error bytes keeps its code and row (256 characters are at most 1 KiB).
    let fitted = encode(error);
    if (fitted.length > ERROR_BYTES) fitted = encode({ ...error, message: error.message.slice(0, 256) });
    v.error.set(fitted);
    Atomics.store(v.control, ERROR_LENGTH, fitted.length);
    Atomics.store(v.control, STATUS, 1);
  }
}
