// QoS 1 delivers at least once: a message resent after a broker restart arrives twice.
// Per stream, the sender's sequence numbers (from 0) tell a repeat from a new message,
// and show messages that never came. Repeats arrive within the sender's in-flight window;
// a number far below the newest means the sender restarted and counts from 0 again.
// The numbers seen are a bitmap of the last WINDOW, so a stream costs 128 bytes here
// whatever the sender does, and the state is saved with the stream's windows.
export const WINDOW = 1024; // repeats come at most this far behind the newest number

export class SeqTracker {
  /** `from`: the first number expected (0 for a new stream; null: whichever comes first). */
  constructor(from = 0) {
    this.restarts = 0;
    this.#reset(from);
  }

  #reset(from) {
    this.from = from;
    this.max = (from ?? 0) - 1;
    this.unique = 0;
    this.lost = 0; // missing numbers from before a sender restart
    this.bits = new Uint8Array(WINDOW / 8); // bit s % WINDOW: s in (max − WINDOW, max] has arrived
  }

  #bit(s) {
    return [s % WINDOW >> 3, 1 << (s % 8)];
  }

  /** true for a message not seen before. */
  isNew(seq) {
    if (seq <= this.max - WINDOW) {
      const { missing, restarts } = this;
      this.#reset(0);
      Object.assign(this, { lost: missing, restarts: restarts + 1 });
    }
    const [i, m] = this.#bit(seq);
    if (seq > this.max) {
      for (let s = Math.max(this.max + 1, seq - WINDOW + 1); s <= seq; s++) {
        const [j, n] = this.#bit(s);
        this.bits[j] &= ~n;
      }
      this.max = seq;
    } else if (this.bits[i] & m) return false;
    this.bits[i] |= m;
    this.unique++;
    this.from = Math.min(this.from ?? seq, seq);
    return true;
  }

  /** Whether `seq` is a repeat (isNew would say false), without counting it. */
  seen(seq) {
    const [i, m] = this.#bit(seq);
    return seq <= this.max && seq > this.max - WINDOW && (this.bits[i] & m) !== 0;
  }

  /** Sequence numbers that have not arrived (yet). */
  get missing() {
    return this.lost + this.max + 1 - (this.from ?? 0) - this.unique;
  }

  toJSON() {
    return { from: this.from, max: this.max, unique: this.unique, lost: this.lost, restarts: this.restarts, bits: Buffer.from(this.bits).toString("base64") };
  }

  static fromJSON(j) {
    const t = new SeqTracker();
    Object.assign(t, { from: j.from, max: j.max, unique: j.unique, lost: j.lost, restarts: j.restarts });
    t.bits.set(Buffer.from(j.bits, "base64").subarray(0, WINDOW / 8));
    return t;
  }
}
