// QoS 1 delivers at least once: a message resent after a broker restart arrives twice.
// Per stream, the sender's sequence numbers (from 0) tell a repeat from a new message,
// and show messages that never came. Repeats arrive within the sender's in-flight window;
// a number far below the newest means the sender restarted and counts from 0 again.
const WINDOW = 1024; // repeats come at most this far behind the newest number

export class SeqTracker {
  constructor() {
    this.restarts = 0;
    this.#reset();
  }

  #reset() {
    this.max = -1;
    this.unique = 0;
    this.lost = 0; // missing numbers from before a sender restart
    this.seen = new Set();
  }

  /** true for a message not seen before. */
  isNew(seq) {
    if (seq < this.max - WINDOW) {
      const lost = this.missing;
      this.#reset();
      this.lost = lost;
      this.restarts++;
    }
    if (this.seen.has(seq)) return false;
    this.seen.add(seq);
    this.unique++;
    if (seq > this.max) this.max = seq;
    if (this.seen.size > 4 * WINDOW) for (const s of this.seen) if (s < this.max - WINDOW) this.seen.delete(s);
    return true;
  }

  /** Sequence numbers that have not arrived (yet). */
  get missing() {
    return this.lost + this.max + 1 - this.unique;
  }
}
