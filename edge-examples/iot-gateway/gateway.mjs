#!/usr/bin/env node
// IoT gateway: subscribes to sensors/<device>/<stream>, keeps one anomaly detector
// (sliding window + SAE learned on the device) per stream, and publishes every score
// to scores/<device>/<stream> and every alert to alerts/<device>/<stream>, QoS 1.
// Events and statistics go to stdout as JSON Lines. See README.md for the options.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { loadSae } from "sae-edge";
import { commandLine, InputError } from "./cli.mjs";
import { brokerUrl, connectWithBackoff } from "./connect.mjs";
import { SeqTracker } from "./dedup.mjs";
import { StreamDetector } from "./detector.mjs";
import { PayloadError, parsePayload } from "./payload.mjs";

const KERNELS = ["scalar", "simd128", "relaxed"];
const opts = commandLine(
  "Scores MQTT sensor streams (sensors/<device>/<stream>): one anomaly detector per stream, learned on\nthe gateway; scores and alerts published back, QoS 1. JSON Lines events on stdout.",
  {
    broker: { type: "string", default: "mqtt://127.0.0.1:1883", arg: "url", help: "mqtt://, mqtts://, ws:// or wss:// URL" },
    topic: { type: "string", default: "sensors/+/+", arg: "filter", help: "subscription (QoS 1)" },
    window: { type: "string", default: "8", arg: "n", help: "samples per vector" },
    learn: { type: "string", default: "500", arg: "n", help: "windows per stream to learn from" },
    fpr: { type: "string", default: "0.01", arg: "rate", help: "false-positive rate the threshold is calibrated for" },
    "model-dir": { type: "string", arg: "dir", help: "save learned models here and load them at start" },
    "client-id": { type: "string", default: `sae-gateway-${hostname()}`, arg: "id", help: "MQTT client id; keep it across restarts" },
    "max-streams": { type: "string", default: "1000", arg: "n", help: "refuse more streams than this" },
    "stats-every": { type: "string", default: "10000", arg: "ms", help: "time between stats lines" },
    kernel: { type: "string", arg: "name", help: `${KERNELS.join(", ")} (default: the fastest)` },
  },
);
const a = opts.values;
const broker = brokerUrl(a.broker);
const window = opts.int("window"), learn = opts.int("learn", 2), fpr = opts.number("fpr", 0, 1);
const maxStreams = opts.int("max-streams"), statsEvery = opts.int("stats-every"), kernel = opts.choice("kernel", KERNELS);
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/; // a device or stream name that is safe as a file name
const log = (o) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...o }) + "\n");
const stats = { received: 0, malformed: 0, duplicates: 0, accepted: 0, learned: 0, scored: 0, alerts: 0, published: 0, publishErrors: 0, streams: 0, busyMs: 0 };
let sent = 0; // publishes issued; those not yet acknowledged are pendingOut
const streams = new Map(); // "device/stream" → { detector, seqs, nextLocalSeq }
const modelDir = a["model-dir"];
let mqttClient = null;

// Models learned before (a restarted gateway does not learn again).
const saved = new Map();
if (modelDir) {
  if (existsSync(modelDir) && !statSync(modelDir).isDirectory()) throw new InputError(`--model-dir ${modelDir} is a file, not a folder`);
  mkdirSync(modelDir, { recursive: true });
  for (const f of readdirSync(modelDir).filter((f) => f.endsWith(".safetensors"))) {
    const key = f.slice(0, -".safetensors".length).replace("@", "/");
    const path = join(modelDir, f);
    try {
      saved.set(key, await loadSae(readFileSync(path), { kernel }));
    } catch (e) {
      throw e.name === "SaeEdgeError" ? new InputError(`${path}: ${e.message}`) : e;
    }
    log({ event: "model-loaded", stream: key });
  }
}

function publish(topic, body) {
  sent++;
  mqttClient.publish(topic, JSON.stringify(body), { qos: 1 }, (err) => {
    if (err) stats.publishErrors++;
    else stats.published++;
  });
}

function streamFor(device, name) {
  const key = `${device}/${name}`;
  let s = streams.get(key);
  if (s) return s;
  if (streams.size >= maxStreams) return null;
  const detector = new StreamDetector({
    window,
    learn,
    train: { fpr, kernel },
    sae: saved.get(key),
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
      if (modelDir) writeFileSync(join(modelDir, `${device}@${name}.safetensors`), bytes);
      log({ event: "model-learned", stream: key });
    },
    onError: (e) => log({ event: "learn-failed", stream: key, message: e.message }),
  });
  s = { detector, seqs: new SeqTracker(), nextLocalSeq: 0 };
  streams.set(key, s);
  stats.streams = streams.size;
  return s;
}

function onMessage(topic, payload, packet) {
  const t0 = performance.now();
  stats.received++;
  const reject = (reason) => {
    stats.malformed++;
    if (stats.malformed <= 20 || stats.malformed % 1000 === 0) log({ event: "malformed", topic, reason, count: stats.malformed });
  };
  const [, device, name, ...rest] = topic.split("/");
  if (rest.length || !NAME.test(device ?? "") || !NAME.test(name ?? "")) return reject("topic is not sensors/<device>/<stream>");
  let msg;
  try {
    msg = parsePayload(payload, packet.properties ?? {});
  } catch (e) {
    if (e instanceof PayloadError) return reject(e.message);
    throw e;
  }
  const s = streamFor(device, name);
  if (!s) return reject(`more than ${maxStreams} streams`);
  if (!s.detector.fits(msg.values)) return reject(`expected ${s.detector.channels} values, got ${msg.values.length}`);
  // Without a sender's sequence number there is nothing to de-duplicate on.
  const seq = msg.seq ?? s.nextLocalSeq++;
  if (msg.seq !== undefined && !s.seqs.isNew(seq)) {
    stats.duplicates++;
    return;
  }
  s.detector.push(seq, msg.values);
  stats.accepted++;
  stats.busyMs += performance.now() - t0;
}

function snapshot() {
  const missing = [...streams.values()].reduce((n, s) => n + s.seqs.missing, 0);
  const senderRestarts = [...streams.values()].reduce((n, s) => n + s.seqs.restarts, 0);
  return { ...stats, missing, senderRestarts, pendingOut: sent - stats.published - stats.publishErrors };
}

const { client, end } = connectWithBackoff(broker, {
  clientId: a["client-id"],
  log,
  // Subscribing again is harmless when the broker kept the session, and needed when it did not.
  onConnect: (c) => c.subscribe(a.topic, { qos: 1 }, (err) => log(err ? { event: "subscribe-failed", message: err.message } : { event: "subscribed", topic: a.topic })),
});
mqttClient = client;
client.on("message", onMessage);
const ticker = setInterval(() => log({ event: "stats", ...snapshot() }), statsEvery);

async function shutdown(signal) {
  clearInterval(ticker);
  log({ event: "stopping", signal });
  await end();
  for (const s of streams.values()) s.detector.dispose();
  log({ event: "final-stats", ...snapshot() });
  process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
