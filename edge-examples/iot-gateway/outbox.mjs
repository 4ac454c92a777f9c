// QoS 1 publishes that survive a broker killed with -9 and a connection that drops.
// "At least once" holds only while the broker keeps what it acknowledged, and mosquitto
// acknowledges a message before it is on disk: killed with -9, it loses what it took in since
// its last save (at most autosave_interval queued messages plus max_inflight_messages per
// subscriber, with autosave_on_changes; README.md). And mqtt.js fails, with "Connection
// closed", the publishes it held back while it sent its stored ones again after a reconnect,
// when that connection drops too. So a message stays here until the broker acknowledges it,
// and the last `keep` acknowledged ones stay too; at every connection, each one mqtt.js is not
// already sending again goes out again. Consumers drop repeats on their own key (e.g. device,
// stream, seq). At most `limit` unacknowledged messages wait; beyond, the oldest is dropped
// and counted, so memory stays bounded while the broker is away.
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
    this.messages = new Map(); // id → { topic, payload, options, state, acks }, oldest first
    this.acked = new Set(); // ids of acknowledged messages still kept, in the order the broker acknowledged them
    this.dropped = 0;
    this.next = 0;
  }

  /**
   * Publishes now if connected, else at the next connection. `properties`: MQTT 5 publish
   * properties; `tag`: handed to onAck and kept in entries(); `acked`: the broker acknowledged
   * it before (in an earlier run): kept among the last `keep` and sent again only at a connection.
   */
  publish(topic, payload, { properties, tag, acked = false } = {}) {
    const id = this.next++;
    const m = { topic, payload, properties, tag, state: acked ? ACKED : WAITING, acks: acked ? 1 : 0 };
    this.messages.set(id, m);
    if (acked) {
      this.acked.add(id);
      this.#trim();
    } else {
      if (this.pending > this.limit) this.#dropOldestUnacked();
      if (this.client.connected) this.#send(id, m);
    }
  }

  /** At every connection: publishes again every message that mqtt.js is not sending again itself. → how many. */
  resend() {
    let n = 0;
    for (const [id, m] of this.messages) if (m.state !== SENDING) n += this.#send(id, m);
    return n;
  }

  /** Messages not acknowledged yet (sent or waiting). */
  get pending() {
    return this.messages.size - this.acked.size;
  }

  /** [[topic, payload, tag, acked]], oldest first: what a snapshot keeps (JSON-able when payloads and tags are). */
  entries() {
    return [...this.messages.values()].map((m) => [m.topic, m.payload, m.tag, m.acks > 0]);
  }

  #send(id, m) {
    if (m.state === ACKED) this.acked.delete(id);
    m.state = SENDING;
    this.client.publish(m.topic, m.payload, { qos: 1, properties: m.properties }, (err, packet) => {
      const unrouted = this.unrouted.delete(packet?.messageId);
      if (this.messages.get(id) !== m) return; // dropped meanwhile
      if (err) {
        m.state = WAITING;
        return this.onRetry(err);
      }
      this.onAck(m.acks++ > 0, m.topic, m.tag);
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
      if (m.state === ACKED) continue;
      this.messages.delete(id);
      this.dropped++;
      return;
    }
  }
}
