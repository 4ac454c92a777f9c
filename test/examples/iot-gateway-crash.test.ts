// The IoT gateway against kill -9: the broker (mosquitto with the configuration README.md
// documents) and the gateway are killed at seeded points of the stream while the sensor data
// streams in, and restarted. Every window must be scored, each with the score an
// uninterrupted run gives it (so a window spanning a restart holds the right readings),
// and nothing may be missing. Then the gateway's own files: a model that does not load is
// moved aside and its stream learns again.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM without types
import { mulberry32 as rng } from "../../edge-examples/iot-gateway/synthetic.mjs";
import { REPO } from "../helpers/common.mjs";
import { freePort, GATEWAY, killAll, mosquitto, portOpen, type Proc, REPLAY, start as startIn, waitFor, writeBrokerConfig } from "./iot-gateway-harness.js";

const LIMIT = 1200; // readings per mote
const WINDOW = 8;
const LEARN = 200;
const MOTES = ["mote1", "mote2", "mote3", "mote4"];
const TRIALS = Number(process.env.TRIALS ?? 3);
const SEED = Number(process.env.SEED ?? 20261130);

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-gateway-crash-"));
const procs: Proc[] = [];
const start = (exe: string, args: string[]) => startIn(exe, args, procs);
afterAll(() => {
  killAll(procs);
  rmSync(tmp, { recursive: true, force: true });
});

/** "mote1/5", "mote1/6", "mote1/7", "mote2/9" → "mote1/5-7 mote2/9" (keys in order). */
function ranges(keys: string[]): string {
  const out: [string, number, number][] = [];
  for (const k of keys) {
    const [device, s] = k.split("/");
    const seq = Number(s), last = out.at(-1);
    if (last && last[0] === device && last[2] === seq - 1) last[2] = seq;
    else out.push([device, seq, seq]);
  }
  return out.map(([d, a, b]) => (a === b ? `${d}/${a}` : `${d}/${a}-${b}`)).join(" ");
}

/** The scores an uninterrupted detector gives the first LIMIT readings of each mote: "mote1/seq" → score. */
function referenceScores(): Map<string, number> {
  const script = `
    import { motes } from "./dataset.mjs";
    import { StreamDetector } from "./detector.mjs";
    const out = {};
    for (const m of motes()) {
      const det = new StreamDetector({ window: ${WINDOW}, learn: ${LEARN}, onResult: (r) => (out[m.device + "/" + r.seq] = r.score) });
      m.samples.slice(0, ${LIMIT}).forEach((s, t) => det.push(t, Float32Array.from(s)));
    }
    await new Promise((r) => setTimeout(r, 100));
    while (Object.keys(out).length < ${MOTES.length * (LIMIT - LEARN - WINDOW + 1)}) await new Promise((r) => setTimeout(r, 50));
    console.log(JSON.stringify(out));`;
  const text = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: join(REPO, "edge-examples/iot-gateway"), encoding: "utf8", maxBuffer: 64 << 20 });
  return new Map(Object.entries(JSON.parse(text) as Record<string, number>));
}

describe("IoT gateway: kill -9 of the broker and of the gateway mid-stream", () => {
  it(`scores every window once, with the uninterrupted run's score, in ${TRIALS} seeded trials (seed ${SEED})`, async () => {
    const reference = referenceScores();
    const random = rng(SEED);
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = join(tmp, `trial-${trial}`);
      mkdirSync(dir);
      const first = procs.length; // this trial's processes are procs.slice(first)
      const port = await freePort();
      const url = `mqtt://127.0.0.1:${port}`;
      const config = writeBrokerConfig(dir, port);
      let broker = start(mosquitto(), ["-c", config]);
      await waitFor("mosquitto to listen", () => portOpen(port), 10_000);
      const gatewayArgs = [GATEWAY, "--broker", url, "--window", String(WINDOW), "--learn", String(LEARN), "--model-dir", join(dir, "models"),
        "--client-id", "gw-crash", "--stats-every", "60000", "--checkpoint-every", "300"];
      let gateway = start(process.execPath, gatewayArgs);
      await waitFor("the gateway to subscribe", () => gateway.lines.some((l) => l.event === "subscribed"));

      const seen = new Map<string, number[]>(); // "mote1/seq" → every score delivered for it
      const observer = mqtt.connect(url, { clientId: `observer-${trial}`, protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 100 });
      observer.on("error", () => {});
      observer.on("message", (_topic, payload) => {
        const m = JSON.parse(payload.toString());
        const k = `${m.device}/${m.seq}`;
        seen.set(k, [...(seen.get(k) ?? []), m.score]);
      });
      await observer.subscribeAsync("scores/#", { qos: 1 });
      // mosquitto writes sessions at its saves: one that never saved forgets its subscribers when
      // killed (README.md). A clean restart saves them, as 500 changes would on a running broker.
      broker.child.kill("SIGTERM");
      expect(await broker.exited).toBe(0);
      broker = start(mosquitto(), ["-c", config]);
      await waitFor("the gateway to subscribe again", () => gateway.lines.filter((l) => l.event === "subscribed").length === 2);

      const replay = start(process.execPath, [REPLAY, "--broker", url, "--limit", String(LIMIT), "--interval", "4", "--client-id", `replay-${trial}`, "--stay"]);
      // Kills of the broker and of the gateway while the scores stream in, each at a seeded point
      // of the stream: broker then gateway, the gateway again while it may still publish what it
      // scored anew from its journal, then the broker after that burst.
      const kills = ["broker", "gateway", "gateway", "broker"];
      const killedAt: string[] = [];
      for (const [k, what] of kills.entries()) {
        const at = Math.floor((reference.size * 0.9 * (k + random())) / kills.length);
        await waitFor(`${at} scores before killing the ${what}`, () => seen.size >= at, 60_000, () => `(have ${seen.size})`);
        const victim = what === "broker" ? broker : gateway;
        victim.child.kill("SIGKILL");
        await victim.exited;
        killedAt.push(`${what} at ${seen.size}`);
        await new Promise((r) => setTimeout(r, 100 + random() * 300));
        if (what === "broker") {
          broker = start(mosquitto(), ["-c", config]);
          await waitFor("mosquitto to listen again", () => portOpen(port), 10_000);
        } else gateway = start(process.execPath, gatewayArgs);
      }
      await waitFor("the replay to be acknowledged", () => replay.lines.some((l) => l.event === "replayed"), 60_000, () => replay.stderr);
      expect(replay.lines.find((l) => l.event === "replayed")).toMatchObject({ published: MOTES.length * LIMIT, acked: MOTES.length * LIMIT });

      const gateways = procs.slice(first).filter((p) => p.child.spawnargs.includes(GATEWAY));
      const state = () => `trial ${trial} (killed ${killedAt.join(", ")}): ${seen.size} of ${reference.size} scores; missing ${ranges([...reference.keys()].filter((k) => !seen.has(k)))}; extra ${[...seen.keys()].filter((k) => !reference.has(k)).slice(0, 5)}; each gateway run's last events: ${gateways.map((g) => JSON.stringify(g.lines.slice(-4)) + g.stderr).join(" | ")}`;
      await waitFor("every window's score", () => [...reference.keys()].every((k) => seen.has(k)), 60_000, state);
      replay.child.kill("SIGTERM");
      expect(await replay.exited, replay.stderr).toBe(0);
      gateway.child.kill("SIGTERM");
      expect(await gateway.exited, gateway.stderr).toBe(0);
      const final = gateway.lines.find((l) => l.event === "final-stats")!;
      await observer.endAsync();
      broker.child.kill("SIGTERM");
      await broker.exited;

      // Every window scored, none that should not be, and every delivery of one carries the
      // uninterrupted run's score: a window spanning a restart was built from the right readings.
      expect([...seen.keys()].filter((k) => !reference.has(k)), state()).toEqual([]);
      const wrong = [...reference].filter(([k, score]) => !seen.get(k)!.every((s) => s === score));
      expect(wrong.slice(0, 5).map(([k, score]) => [k, score, seen.get(k)]), state()).toEqual([]);
      expect(final.missing, state()).toBe(0);
      expect(final.senderRestarts).toBe(0);
      expect(final.outboxDropped).toBe(0);
      const repeats = [...seen.values()].reduce((n, s) => n + s.length - 1, 0);
      console.log(`[iot-gateway kill -9] trial ${trial}: killed ${killedAt.join(", ")} of ${reference.size} scores seen; all scored, ${repeats} repeated deliveries, last run's stats: ${JSON.stringify({ accepted: final.accepted, duplicates: final.duplicates, published: final.published, republished: final.republished, publishErrors: final.publishErrors })}`);
    }
  }, TRIALS * 100_000);
});

/** A valid model with the gateway's feature statistics (window 4 × 2 channels, features.mjs) but no calibration. */
function uncalibratedGatewayModel(): Buffer {
  const script = `
    import { buildModel, nodeBuilds, serializeModel } from "sae-edge";
    import { matrixBatches, trainSae } from "sae-edge/train";
    const rows = Float32Array.from({ length: 64 * 10 }, (_, i) => Math.sin(i));
    const { trainer } = await trainSae(nodeBuilds, { dIn: 10, epochs: 1, batches: matrixBatches(rows, 10, 16, 0), options: { architecture: "topk", dSae: 8, k: 2, batchSize: 16, seed: 0 } });
    const norm = { window: 4, mean: [0, 0], std: [1, 1], corr: [1, 0, 0, 1], step: [1, 1], spread: [0, 0], spreadScale: [1, 1] };
    process.stdout.write(Buffer.from(serializeModel(buildModel(trainer.weights(), "int8", norm))).toString("base64"));`;
  return Buffer.from(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: join(REPO, "edge-examples/iot-gateway"), encoding: "utf8" }), "base64");
}

describe("IoT gateway: its own files", () => {
  it("moves a model that does not load aside, with an event, and learns that stream again", async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const dir = join(tmp, "files");
    mkdirSync(dir);
    const broker = start(mosquitto(), ["-c", writeBrokerConfig(dir, port)]);
    await waitFor("mosquitto to listen", () => portOpen(port), 10_000);
    const models = join(dir, "models");
    mkdirSync(models);
    writeFileSync(join(models, "pump@flow.safetensors"), "not a model"); // e.g. what a non-atomic write left
    copyFileSync(join(REPO, "models/mnist-topk-1024.safetensors"), join(models, "pump@vision.safetensors")); // valid, not a gateway model
    writeFileSync(join(models, "pump@heat.safetensors"), uncalibratedGatewayModel()); // a gateway model, never calibrated
    writeFileSync(join(models, ".pump@flow.safetensors.99999999.tmp"), "half"); // what a write killed mid-way leaves (no process has that pid)
    const args = [GATEWAY, "--broker", url, "--window", "4", "--learn", "20", "--model-dir", models, "--client-id", "gw-files", "--stats-every", "60000"];
    let gateway = start(process.execPath, args);
    await waitFor("the gateway to subscribe", () => gateway.lines.some((l) => l.event === "subscribed"), 40_000, () => gateway.stderr);
    const quarantined = gateway.lines.filter((l) => l.event === "model-quarantined");
    expect(quarantined.map((l) => [l.stream, l.file]).sort()).toEqual([["pump/flow", "pump@flow.safetensors"], ["pump/heat", "pump@heat.safetensors"], ["pump/vision", "pump@vision.safetensors"]]);
    const reason = (stream: string) => quarantined.find((l) => l.stream === stream)!.reason;
    expect(reason("pump/flow")).toMatch(/safetensors|header/i);
    expect(reason("pump/heat")).toBe("it is not calibrated");
    expect(reason("pump/vision")).toMatch(/no window\/mean\/std/);
    expect(readdirSync(models).filter((f) => f.includes(".broken-")).sort()).toEqual(quarantined.map((l) => l.movedTo).sort());
    expect(readdirSync(models).filter((f) => f.endsWith(".tmp"))).toEqual([]);

    // The stream learns again from new readings, and the new model loads at the next start.
    const sensor = await mqtt.connectAsync(url, { clientId: "pump", protocolVersion: 5 });
    for (let i = 0; i < 40; i++) await sensor.publishAsync("sensors/pump/flow", JSON.stringify({ seq: i, values: [Math.sin(i / 3), Math.cos(i / 5)] }), { qos: 1 });
    await sensor.endAsync();
    await waitFor("the stream to learn again", () => gateway.lines.some((l) => l.event === "model-learned" && l.stream === "pump/flow"));
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
    expect(gateway.lines.find((l) => l.event === "final-stats")).toMatchObject({ accepted: 40, scored: 40 - 20 - 4 + 1, missing: 0 });

    gateway = start(process.execPath, args);
    await waitFor("the gateway to subscribe again", () => gateway.lines.some((l) => l.event === "subscribed"));
    expect(gateway.lines.filter((l) => l.event === "model-loaded").map((l) => l.stream)).toEqual(["pump/flow"]);
    expect(gateway.lines.filter((l) => l.event === "model-quarantined")).toEqual([]);
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toBe(0);
    expect(gateway.lines.find((l) => l.event === "final-stats")).toMatchObject({ missing: 0, streams: 1 });
    broker.child.kill("SIGTERM");
    await broker.exited;
  }, 120_000);
});
