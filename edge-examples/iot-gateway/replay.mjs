#!/usr/bin/env node
// Replays the Suthaharan sensor data set over MQTT as four devices: each mote's readings
// ([humidity, temperature]) go to sensors/mote<N>/env with QoS 1, a sequence number in
// the MQTT 5 user property "seq", as JSON, binary float32, or alternating (mixed).
//   node edge-examples/iot-gateway/replay.mjs --broker mqtt://127.0.0.1:1883 [--limit 3000]
//        [--format mixed] [--inflight 100] [--interval 0] [--speed 1]
// --interval waits that many ms between readings (0: as fast as the broker acknowledges).
import { parseArgs } from "node:util";
import { connectWithBackoff } from "./connect.mjs";
import { motes } from "./dataset.mjs";

const { values: a } = parseArgs({
  options: {
    broker: { type: "string", default: "mqtt://127.0.0.1:1883" },
    limit: { type: "string" },
    format: { type: "string", default: "mixed" },
    inflight: { type: "string", default: "100" },
    interval: { type: "string", default: "0" },
    "client-id": { type: "string", default: "sae-replay" },
  },
});
const log = (o) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...o }) + "\n");
const limit = a.limit ? Number(a.limit) : Infinity;
const inflight = Number(a.inflight), interval = Number(a.interval);

function payload(sample, i) {
  const binary = a.format === "binary" || (a.format === "mixed" && i % 2 === 1);
  if (binary) return { body: Buffer.from(Float32Array.from(sample).buffer), contentType: "application/octet-stream" };
  return { body: JSON.stringify(sample), contentType: "application/json" };
}

const { client, end } = connectWithBackoff(a.broker, { clientId: a["client-id"], log });
const data = motes();
const rounds = Math.min(limit, Math.max(...data.map((m) => m.samples.length)));
let published = 0, acked = 0, failed = 0, waiting = 0, wake = null;
const t0 = performance.now();
for (let i = 0; i < rounds; i++) {
  for (const m of data) {
    if (i >= m.samples.length) continue;
    const { body, contentType } = payload(m.samples[i], i);
    // Bounded in flight: while the broker is away, unacknowledged messages wait here.
    while (waiting >= inflight) await new Promise((r) => (wake = r));
    waiting++;
    published++;
    client.publish(`sensors/${m.device}/env`, body, { qos: 1, properties: { contentType, userProperties: { seq: String(i) } } }, (err) => {
      if (err) failed++;
      else acked++;
      waiting--;
      wake?.();
      wake = null;
    });
  }
  if (interval > 0) await new Promise((r) => setTimeout(r, interval));
}
while (waiting > 0) await new Promise((r) => (wake = r));
const seconds = (performance.now() - t0) / 1000;
log({ event: "replayed", published, acked, failed, seconds, perSecond: Math.round(acked / seconds) });
await end();
