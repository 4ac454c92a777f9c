// What the gateway published lately, kept to publish again. QoS 1 is "at least once" only
// while the broker keeps what it acknowledged, and mosquitto acknowledges a message before
// it is on disk: a broker killed with -9 loses the messages since its last save. So the
// gateway publishes the last `keep` messages (and any not acknowledged yet) again when it
// reconnects and when it restarts; consumers drop repeats on (device, stream, seq).
export class Outbox {
  constructor(keep) {
    this.keep = keep;
    this.recent = new Map(); // id → [topic, text], oldest first
    this.unacked = new Set();
    this.next = 0;
  }

  /** → the message's id. */
  add(topic, text) {
    const id = this.next++;
    this.recent.set(id, [topic, text]);
    this.unacked.add(id);
    this.#trim();
    return id;
  }

  /** The message `id` goes out again: wait for its acknowledgement again. */
  again(id) {
    this.unacked.add(id);
  }

  acked(id) {
    this.unacked.delete(id);
    this.#trim();
  }

  #trim() {
    for (const id of this.recent.keys()) {
      if (this.recent.size <= this.keep) break;
      if (!this.unacked.has(id)) this.recent.delete(id);
      else if (this.recent.size - this.unacked.size <= 0) break; // only unacknowledged ones left
    }
  }

  /** [[id, topic, text]], oldest first. */
  entries() {
    return [...this.recent].map(([id, m]) => [id, ...m]);
  }

  /** [[topic, text]], oldest first: what a snapshot keeps. */
  messages() {
    return [...this.recent.values()];
  }
}
