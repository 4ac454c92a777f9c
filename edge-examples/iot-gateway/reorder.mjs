// A stream's samples back in the sender's order. QoS 1 redelivery after a reconnect, and the
// senders' resend after a broker restart, can bring a sample after later ones; a window must
// hold its samples in order, so later samples wait here until the gap fills. At most `limit`
// wait: then the gap is given up (its numbers stay missing) and a sample of it that still
// comes is late, and dropped.
import { WINDOW } from "./dedup.mjs";
import { packF32, unpackF32 } from "./f32.mjs";

export class Reorder {
  /** `next`: the number expected first (0 for a new stream; null: whichever comes first). */
  constructor(limit, state = { next: 0, held: [] }) {
    this.limit = limit;
    this.next = state.next;
    this.held = new Map(state.held.map(([seq, v]) => [seq, unpackF32(v)]));
  }

  /** Adds a new sample → the samples now in order ([[seq, values]]), or null if it came too late. */
  add(seq, values) {
    if (this.next === null) this.next = seq;
    const out = [];
    if (seq <= this.next - WINDOW) {
      // The sender restarted and counts from 0 again: what waits is from before, in order.
      this.#release(out, Infinity);
      this.next = seq;
    } else if (seq < this.next) return null;
    this.held.set(seq, values);
    this.#release(out, this.next);
    if (this.held.size > this.limit) this.#release(out, Math.min(...this.held.keys()));
    return out;
  }

  /** Releases the run of samples from `from` (Infinity: everything held, in order). */
  #release(out, from) {
    if (from === Infinity) {
      for (const seq of [...this.held.keys()].sort((a, b) => a - b)) out.push([seq, this.held.get(seq)]);
      this.held.clear();
      return;
    }
    this.next = from;
    while (this.held.has(this.next)) {
      out.push([this.next, this.held.get(this.next)]);
      this.held.delete(this.next++);
    }
  }

  get waiting() {
    return this.held.size;
  }

  toJSON() {
    return { next: this.next, held: [...this.held].map(([seq, v]) => [seq, packF32(v)]) };
  }
}
