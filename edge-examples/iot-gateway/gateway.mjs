#!/usr/bin/env node
// IoT gateway: subscribes to sensors/<device>/<stream>, keeps one anomaly detector
// (sliding window + SAE learned on the device) per stream, and publishes every score
// to scores/<device>/<stream> and every alert to alerts/<device>/<stream>, QoS 1.
// Events and statistics go to stdout as JSON Lines. See README.md for the options,
// the memory bound and the broker configuration under which nothing is lost.
import { existsSync, mkdirSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { commandLine, InputError } from "sae-edge";
import { brokerUrl, connectWithBackoff } from "./connect.mjs";
import { SeqTracker } from "./dedup.mjs";
import { StreamDetector } from "./detector.mjs";
import { loadModels, NAME, saveModel } from "./model-files.mjs";
import { PayloadError, parsePayload } from "./payload.mjs";
import { Outbox } from "./outbox.mjs";
import { Reorder } from "./reorder.mjs";
import { GatewayStore } from "./store.mjs";

const KERNELS = ["scalar", "simd128", "relaxed"];
const opts = commandLine(
  "Scores MQTT sensor streams (sensors/<device>/<stream>): one anomaly detector per stream, learned on\nthe gateway; scores and alerts published back, QoS 1. JSON Lines events on stdout.",
  {
    broker: { type: "string", default: "mqtt://127.0.0.1:1883", arg: "url", help: "mqtt://, mqtts://, ws:// or wss:// URL" },
    topic: { type: "string", default: "sensors/+/+", arg: "filter", help: "subscription (QoS 1)" },
    window: { type: "string", default: "8", arg: "n", help: "samples per vector" },
    learn: { type: "string", default: "500", arg: "n", help: "windows per stream to learn from" },
    fpr: { type: "string", default: "0.01", arg: "rate", help: "false-positive rate the threshold is calibrated for" },
    adapt: { type: "string", default: "0.002", arg: "rate", help: "how fast each stream's normal follows drift (0: not at all)" },
    "model-dir": { type: "string", arg: "dir", help: "keep models and stream state here, so a restart goes on where it stopped" },
    "client-id": { type: "string", default: `sae-gateway-${hostname()}`, arg: "id", help: "MQTT client id; keep it across restarts" },
    "max-streams": { type: "string", default: "1000", arg: "n", help: "refuse more streams than this" },
    "max-values": { type: "string", default: "64", arg: "n", help: "refuse a message with more values than this" },
    reorder: { type: "string", default: "128", arg: "n", help: "per stream, samples that wait for an earlier one that is missing" },
    "max-queued": { type: "string", default: "2000", arg: "n", help: "per stream, samples held while its model trains; more are dropped" },
    resend: { type: "string", default: "1000", arg: "n", help: "publish the last n acknowledged scores and alerts again after a reconnect or restart" },
    "max-unacked": { type: "string", default: "100000", arg: "n", help: "scores and alerts held until the broker acknowledges them; beyond, the oldest are dropped" },
    "checkpoint-every": { type: "string", default: "2000", arg: "ms", help: "time between flushes of the journal to disk (with --model-dir)" },
    "stats-every": { type: "string", default: "10000", arg: "ms", help: "time between stats lines" },
    kernel: { type: "string", arg: "name", help: `${KERNELS.join(", ")} (default: the fastest)` },
  },
);
const a = opts.values;
const broker = brokerUrl(a.broker);
const window = opts.int("window"), learn = opts.int("learn", 2), fpr = opts.number("fpr", 0, 1);
const adapt = opts.rate("adapt");
const reorder = opts.int("reorder", 0), maxStreams = opts.int("max-streams"), maxValues = opts.int("max-values"), maxQueued = opts.int("max-queued", 0);
const resend = opts.int("resend", 0), maxUnacked = opts.int("max-unacked"), checkpointEvery = opts.int("checkpoint-every"), statsEvery = opts.int("stats-every"), kernel = opts.choice("kernel", KERNELS);
const log = (o) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...o }) + "\n");
const stats = {
  received: 0, malformed: 0, duplicates: 0, accepted: 0, learned: 0, scored: 0, alerts: 0, streams: 0, busyMs: 0,
  // Acknowledged by the broker the first time, and again; publishes failed (they go out again at the next connection).
  published: 0, republished: 0, publishErrors: 0,
  // Messages refused by a memory cap, by cap.
  dropped: { oversized: 0, "too-many-values": 0, "too-many-streams": 0, "queue-full": 0, late: 0 },
};
const streams = new Map(); // "device/stream" → { detector, seqs, order, nextLocalSeq }
const modelDir = a["model-dir"];

// Models learned before, and the streams' state (a restarted gateway does not learn again).
let saved = new Map(), store = null, restored = { streams: {}, outbox: [], entries: [], acked: new Set() };
if (modelDir) {
  if (existsSync(modelDir) && !statSync(modelDir).isDirectory()) throw new InputError(`--model-dir ${modelDir} is a file, not a folder`);
  mkdirSync(modelDir, { recursive: true });
  store = new GatewayStore(modelDir);
  restored = store.load();
  saved = await loadModels(modelDir, kernel, log);
}

// One training at a time: memory for one trainer, whatever the number of streams learning.
let trainings = Promise.resolve();
function schedule(job) {
  const run = trainings.then(job);
  trainings = run.catch(() => {});
  return run;
}

// Scores and alerts (tagged with their window's seq) until the broker acknowledges them, and the
// last --resend acknowledged ones, sent again at every connection (outbox.mjs). An acknowledgement
// is journaled, so a restart that scores the journal's windows anew does not publish them all again.
let outbox = null;
let ackedBefore = restored.acked; // "topic seq" the broker acknowledged before a restart
function publish(topic, body) {
  outbox.publish(topic, JSON.stringify(body), { tag: body.seq, acked: ackedBefore.has(`${topic} ${body.seq}`) });
}

function streamFor(key, state) {
  let s = streams.get(key);
  if (s) return s;
  if (streams.size >= maxStreams) return null;
  const [device, name] = key.split("/");
  const sae = saved.get(key);
  saved.delete(key);
  const detector = new StreamDetector({
    window,
    learn,
    adapt,
    maxQueued,
    schedule,
    train: { fpr, kernel },
    sae,
    state: state?.detector,
    onResult: (r) => {
      stats.scored++;
      const body = { device, stream: name, ...r };
      publish(`scores/${key}`, body);
      if (r.alert) {
        stats.alerts++;
        publish(`alerts/${key}`, body);
      }
    },
    onModel: ({ bytes }) => {
      stats.learned++;
      log({ event: "model-learned", stream: key });
      try {
        if (modelDir) saveModel(modelDir, key, bytes);
      } catch (e) {
        // A full disk, say: the model keeps scoring, and after a restart the stream learns again.
        log({ event: "model-save-failed", stream: key, message: e.message });
      }
    },
    onError: (e) => log({ event: "learn-failed", stream: key, message: e.message }),
  });
  const fresh = !sae || state; // a stream with a model but no history at all counts from its first message
  const seqs = state?.seqs ? SeqTracker.fromJSON(state.seqs) : new SeqTracker(fresh ? 0 : null);
  const order = new Reorder(reorder, state?.order ?? { next: fresh ? 0 : null, held: [] });
  s = { detector, seqs, order, nextLocalSeq: state?.nextLocalSeq ?? 0 };
  streams.set(key, s);
  stats.streams = streams.size;
  return s;
}

/** A new sample that fits the stream: in the sender's order to the detector. false: it came too late. */
function accept(s, seq, local, values) {
  if (local) {
    s.nextLocalSeq = seq + 1;
    return s.detector.push(seq, values);
  }
  s.seqs.isNew(seq);
  const ready = s.order.add(seq, values);
  if (!ready) return false;
  for (const [q, v] of ready) s.detector.push(q, v);
  return true;
}

function onMessage(topic, payload, packet) {
  const t0 = performance.now();
  stats.received++;
  const reject = (reason) => {
    stats.malformed++;
    if (stats.malformed <= 20 || stats.malformed % 1000 === 0) log({ event: "malformed", topic, reason, count: stats.malformed });
  };
  const drop = (limit) => void stats.dropped[limit]++;
  const [, device, name, ...rest] = topic.split("/");
  if (rest.length || !NAME.test(device ?? "") || !NAME.test(name ?? "")) return reject("topic is not sensors/<device>/<stream>");
  let msg;
  try {
    msg = parsePayload(payload, packet.properties ?? {}, maxValues);
  } catch (e) {
    if (!(e instanceof PayloadError)) throw e;
    return e.limit ? drop(e.limit) : reject(e.message);
  }
  const key = `${device}/${name}`;
  const s = streamFor(key);
  if (!s) return drop("too-many-streams");
  if (!s.detector.fits(msg.values)) return reject(`expected ${s.detector.channels} values, got ${msg.values.length}`);
  // Without a sender's sequence number there is nothing to de-duplicate on.
  const local = msg.seq === undefined;
  if (!local && s.seqs.seen(msg.seq)) {
    stats.duplicates++;
    return;
  }
  if (s.detector.full) return drop("queue-full");
  const seq = local ? s.nextLocalSeq : msg.seq;
  store?.append(key, seq, local, msg.values); // before the PUBACK: a kill from here on loses nothing
  if (!accept(s, seq, local, msg.values)) return drop("late");
  stats.accepted++;
  stats.busyMs += performance.now() - t0;
}

function snapshot() {
  const missing = [...streams.values()].reduce((n, s) => n + s.seqs.missing, 0);
  const senderRestarts = [...streams.values()].reduce((n, s) => n + s.seqs.restarts, 0);
  return { ...stats, dropped: { ...stats.dropped }, missing, senderRestarts, pendingOut: outbox.pending, outboxDropped: outbox.dropped };
}

function* streamStates() {
  for (const [key, s] of streams) yield [key, { detector: s.detector.state(), seqs: s.seqs.toJSON(), order: s.order.toJSON(), nextLocalSeq: s.nextLocalSeq }];
}

const { client, end } = connectWithBackoff(broker, {
  clientId: a["client-id"],
  log,
  // Subscribing again is harmless when the broker kept the session, and needed when it did not.
  onConnect: (c, connack) => {
    outbox.resend();
    c.subscribe(a.topic, { qos: 1 }, (err) => {
      log(err ? { event: "subscribe-failed", message: err.message } : { event: "subscribed", topic: a.topic });
      // A broker that lost our session dropped what senders published before this moment:
      // tell them (retained, so a sender that connects later hears it too) to publish it again.
      if (!err && !connack.sessionPresent) c.publish(`gateways/${a["client-id"]}/subscribed`, JSON.stringify({ t: new Date().toISOString() }), { qos: 1, retain: true });
    });
  },
});
outbox = new Outbox(client, {
  keep: resend,
  limit: maxUnacked,
  forgetUnrouted: true, // e.g. alerts nobody subscribes to

  onAck: (again, topic, seq) => {
    if (again) return void stats.republished++;
    stats.published++;
    store?.appendAck(topic, seq);
  },
  onRetry: () => stats.publishErrors++,
});

// Where the last run stopped: the snapshot, then the journal after it. Windows the last run
// scored but the broker had not acknowledged are published again (consumers de-duplicate on
// seq), and the last --resend acknowledged ones at the first connection, as after a reconnect.
if (store) {
  for (const [topic, text, seq, acked] of restored.outbox ?? []) outbox.publish(topic, text, { tag: seq, acked: acked || ackedBefore.has(`${topic} ${seq}`) });
  for (const [key, state] of Object.entries(restored.streams)) streamFor(key, state);
  for (const [key, seq, local, values] of restored.entries) {
    // A stream the snapshot does not hold began after it: its whole history is in the journal.
    const s = streamFor(key, { detector: {} });
    if (s?.detector.fits(values) && (local || !s.seqs.seen(seq))) accept(s, seq, local, values);
  }
  for (const [key, sae] of saved) streamFor(key, undefined) ?? sae.dispose();
  ackedBefore = new Set();
  outbox.atRisk(); // the broker may have restarted too while the gateway was down
  log({ event: "restored", streams: streams.size, replayed: restored.entries.length, unacked: outbox.pending });
  store.checkpoint(streamStates(), outbox.entries());
}

// Each message is handled (and journaled) before mqtt.js sends its PUBACK.
client.handleMessage = (packet, done) => {
  onMessage(packet.topic, packet.payload, packet);
  done();
};
const ticker = setInterval(() => log({ event: "stats", ...snapshot() }), statsEvery);
const checkpointer = store && setInterval(() => store.sync() && store.checkpoint(streamStates(), outbox.entries()), checkpointEvery);

async function shutdown(signal) {
  clearInterval(ticker);
  clearInterval(checkpointer);
  log({ event: "stopping", signal });
  await end();
  store?.checkpoint(streamStates(), outbox.entries());
  store?.close();
  for (const s of streams.values()) s.detector.dispose();
  // Exit once the line is written: stdout to a pipe is asynchronous, and exit() would drop it.
  process.stdout.write(JSON.stringify({ t: new Date().toISOString(), event: "final-stats", ...snapshot() }) + "\n", () => process.exit(0));
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
