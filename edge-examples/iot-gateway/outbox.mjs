// QoS 1 publishes that survive a broker killed with -9 and a connection that drops.
// "At least once" holds only while the broker keeps what it acknowledged, and mosquitto
// acknowledges a message before it is on disk: killed with -9, it loses what it took in since
// its last save (at most autosave_interval queued messages plus max_inflight_messages per
// subscriber, with autosave_on_changes; README.md). And mqtt.js fails, with "Connection
// closed", the publishes it held back while it sent its stored ones again after a reconnect,
// when that connection drops too. So a message stays here until the broker acknowledges it,
// and the last `keep` acknowledged ones stay too. When a connection ends, those last `keep`
// are at risk: they go out again at the next connection, however many mqtt.js's own resends
// get acknowledged before it. Consumers drop repeats on their own key (e.g. device, stream,
// seq). At most `limit` unacknowledged messages wait; beyond, the oldest is dropped and
// counted, so memory stays bounded while the broker is away.
const WAITING = 0, SENDING = 1, ACKED = 2;
const NO_MATCHING_SUBSCRIBERS = 16; // an MQTT 5 PUBACK reason code

export class Outbox {
  /**
   * @param {import("mqtt").MqttClient} client
   * @param {{ keep: number, limit?: number, forgetUnrouted?: boolean, onAck?: (again: boolean, topic: string, tag: any) => void, onRetry?: (err: Error) => void }} o
   *   forgetUnrouted: a message the broker acknowledged with "no matching subscribers" reached
   *   nobody, so a broker crash cannot lose it: it is not kept, and `keep` counts only messages
   *   that reached a subscriber (the ones a broker's saves count).
   *   onAck: a message acknowledged (again: it had been before); onRetry: a publish failed, it waits for the next connection
   */
  constructor(client, o) {
    this.client = client;
    this.keep = o.keep;
    this.limit = o.limit ?? Infinity;
    this.onAck = o.onAck ?? (() => {});
    this.onRetry = o.onRetry ?? (() => {});
    this.unrouted = new Set(); // ids of publishes acknowledged with NO_MATCHING_SUBSCRIBERS, until their callback
    if (o.forgetUnrouted) client.on("packetreceive", (p) => p.cmd === "puback" && p.reasonCode === NO_MATCHING_SUBSCRIBERS && this.unrouted.add(p.messageId));
    this.messages = new Map(); // id → { topic, payload, properties, tag, state, acks }, oldest first
    this.acked = new Set(); // ids of acknowledged messages still kept, in the order the broker acknowledged them
    this.pending = 0; // messages the broker never acknowledged
    this.dropped = 0;
    this.next = 0;
    client.on("close", () => this.atRisk());
  }

  /**
   * Publishes now if connected, else at the next connection. `properties`: MQTT 5 publish
   * properties; `tag`: handed to onAck and kept in entries(); `acked`: the broker acknowledged
   * it before (in an earlier run): kept among the last `keep`, sent again after atRisk().
   */
  publish(topic, payload, { properties, tag, acked = false } = {}) {
    const id = this.next++;
    const m = { topic, payload, properties, tag, state: acked ? ACKED : WAITING, acks: acked ? 1 : 0 };
    this.messages.set(id, m);
    if (acked) {
      this.acked.add(id);
      this.#trim();
    } else {
      if (++this.pending > this.limit) this.#dropOldestUnacked();
      if (this.client.connected) this.#send(id, m);
    }
  }

  /** The last `keep` acknowledged messages wait to be sent again: the broker may have lost them (it restarted, or lost a subscriber's session). */
  atRisk() {
    for (const id of this.acked) this.messages.get(id).state = WAITING;
    this.acked.clear();
  }

  /** At every connection: publishes what waits (failed, at risk, or published while away). → how many. */
  resend() {
    let n = 0;
    for (const [id, m] of this.messages) if (m.state === WAITING) n += this.#send(id, m);
    return n;
  }

  /** [[topic, payload, tag, acked]], oldest first: what a snapshot keeps (JSON-able when payloads and tags are). */
  entries() {
    return [...this.messages.values()].map((m) => [m.topic, m.payload, m.tag, m.acks > 0]);
  }

  #send(id, m) {
    m.state = SENDING;
    this.client.publish(m.topic, m.payload, { qos: 1, properties: m.properties }, (err, packet) => {
      const unrouted = this.unrouted.delete(packet?.messageId);
      if (this.messages.get(id) !== m) return; // dropped meanwhile
      if (err) {
        m.state = WAITING;
        return this.onRetry(err);
      }
      if (m.acks++ === 0) this.pending--;
      this.onAck(m.acks > 1, m.topic, m.tag);
      if (unrouted) return void this.messages.delete(id);
      m.state = ACKED;
      this.acked.add(id);
      this.#trim();
    });
    return 1;
  }

  #trim() {
    for (const id of this.acked) {
      if (this.acked.size <= this.keep) break;
      this.acked.delete(id);
      this.messages.delete(id);
    }
  }

  #dropOldestUnacked() {
    for (const [id, m] of this.messages) {
      if (m.acks > 0) continue;
      this.messages.delete(id);
      this.pending--;
      this.dropped++;
      return;
    }
  }
}
