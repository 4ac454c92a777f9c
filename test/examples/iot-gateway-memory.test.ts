// The IoT gateway's memory under hostile publishers: 1000 streams (the --max-streams cap)
// and 200 more, each sent garbage, oversized payloads, too many values, out-of-order and
// huge sequence numbers, and enough readings to fill its learning window; some streams are
// flooded while their models wait to train. The gateway's peak RSS must stay within the
// bound README.md states over its caps, and every refusal is counted under its reason.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, GATEWAY, killAll, mosquitto, portOpen, type Proc, start as startIn, waitFor, writeBrokerConfig } from "./iot-gateway-harness.js";

const CAPS = { streams: 1000, values: 64, learn: 50, window: 8, queued: 100, reorder: 128, resend: 1000, unacked: 10_000 };
const EXTRA_STREAMS = 200;
const FLOODED = 20; // streams that learn and are flooded while their models wait to train

/**
 * README.md's bound on the gateway's memory: a base, each stream's held samples (learning
 * window, queue, reorder buffer, sliding window), each model, each message in the outbox.
 */
function memoryBound(c: typeof CAPS, models: number): number {
  const MiB = 2 ** 20;
  const sample = 4 * c.values + 256; // a sample's values and its objects
  const perStream = 4096 + (c.learn + c.window + c.queued + c.reorder + 1) * sample;
  const perModel = 256 * 1024 + 8 * c.window * c.values * 32 + 16 * c.learn * 4; // a wasm instance, its d_in × d_sae weights, its normal codes (k = 4)
  return 120 * MiB + c.streams * perStream + models * perModel + (2 * c.resend + c.unacked) * 512;
}

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-gateway-memory-"));
const procs: Proc[] = [];
afterAll(() => {
  killAll(procs);
  rmSync(tmp, { recursive: true, force: true });
});

const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

describe("IoT gateway: memory under hostile publishers", () => {
  it(`stays within its stated bound with ${CAPS.streams} hostile streams and ${EXTRA_STREAMS} over the cap`, async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    startIn(mosquitto(), ["-c", writeBrokerConfig(tmp, port)], procs);
    await waitFor("mosquitto to listen", () => portOpen(port), 10_000);
    const gateway = startIn(process.execPath, [GATEWAY, "--broker", url, "--model-dir", join(tmp, "models"), "--client-id", "gw-memory", "--stats-every", "1000",
      "--max-streams", String(CAPS.streams), "--max-values", String(CAPS.values), "--learn", String(CAPS.learn), "--window", String(CAPS.window),
      "--max-queued", String(CAPS.queued), "--reorder", String(CAPS.reorder), "--resend", String(CAPS.resend), "--max-unacked", String(CAPS.unacked)], procs);
    await waitFor("the gateway to subscribe", () => gateway.lines.some((l) => l.event === "subscribed"));

    const publishers = await Promise.all(Array.from({ length: 4 }, (_, i) => mqtt.connectAsync(url, { clientId: `hostile-${i}`, protocolVersion: 5 })));
    let sent = 0;
    const expected = { malformed: 0, oversized: 0, "too-many-values": 0, "too-many-streams": 0 };
    const reading = (i: number, seq: number) => JSON.stringify({ seq, values: Array.from({ length: CAPS.values }, (_, c) => Math.sin(seq / 7 + c + i)) });
    async function send(messages: [string, string | Buffer][]) {
      for (let at = 0; at < messages.length; at += 400) {
        await Promise.all(messages.slice(at, at + 400).map(([topic, body], j) => publishers[(at + j) % publishers.length].publishAsync(topic, body, { qos: 1 })));
      }
      sent += messages.length;
    }
    const streams = CAPS.streams + EXTRA_STREAMS;
    // Round after round over every stream, so all of them exist and hold samples at once.
    for (let round = 0; round < CAPS.learn + CAPS.window - 2; round++) {
      const batch: [string, string | Buffer][] = [];
      for (let i = 0; i < streams; i++) {
        const topic = `sensors/h${i}/s`;
        const over = i >= CAPS.streams;
        // A gap at seq 3 (it comes 40 readings late, as a resend would): the reorder buffer holds them.
        const seq = round === 3 ? -1 : round === 3 + 40 ? 3 : round;
        if (seq >= 0) (batch.push([topic, reading(i, seq)]), over && expected["too-many-streams"]++);
        if (round % 10 === 0) {
          batch.push([topic, "{not json"], [topic, Buffer.alloc(4096, 7)], [topic, JSON.stringify(Array(CAPS.values + 1).fill(1))]);
          // Checked before the stream is looked up, so counted the same for streams over the cap.
          expected.malformed++;
          expected.oversized++;
          expected["too-many-values"]++;
        }
      }
      await send(batch);
    }
    // A few streams learn, and are flooded while their models wait their turn to train.
    const flood: [string, string][] = [];
    for (let seq = CAPS.learn + CAPS.window - 2; seq < CAPS.learn + CAPS.window + 400; seq++) for (let i = 0; i < FLOODED; i++) flood.push([`sensors/h${i}/s`, reading(i, seq)]);
    await send(flood);
    // Hostile sequence numbers: the largest safe integer, then 0 again (a sender "restart").
    await send([["sensors/h500/s", reading(500, Number.MAX_SAFE_INTEGER)], ["sensors/h500/s", reading(500, 0)]]);
    await Promise.all(publishers.map((p) => p.endAsync()));

    console.log(`[iot-gateway memory] ${sent} messages sent in ${Math.round(performance.now())} ms`);
    const stats = () => gateway.lines.filter((l) => l.event === "stats").at(-1);
    const events = () => JSON.stringify(gateway.lines.filter((l) => !["stats", "malformed"].includes(l.event)).slice(-10)) + gateway.stderr;
    await waitFor("every message counted", () => stats()?.received === sent, 300_000, () => JSON.stringify(stats()) + events());
    await waitFor("the flooded streams to learn", () => stats()?.learned >= FLOODED, 300_000, () => JSON.stringify(stats()));
    const peak = peakRss(gateway.child.pid!);
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited, gateway.stderr).toBe(0);
    const final = gateway.lines.find((l) => l.event === "final-stats")!;

    expect(final.streams).toBe(CAPS.streams);
    expect(final.dropped.oversized).toBe(expected.oversized);
    expect(final.dropped["too-many-values"]).toBe(expected["too-many-values"]);
    expect(final.dropped["too-many-streams"]).toBe(expected["too-many-streams"]);
    expect(final.dropped["queue-full"]).toBeGreaterThan(0); // the flood outran training
    expect(final.malformed).toBe(expected.malformed);
    expect(final.received).toBe(final.accepted + final.malformed + final.duplicates + Object.values(final.dropped as Record<string, number>).reduce((a, b) => a + b, 0));
    const bound = memoryBound(CAPS, final.learned);
    console.log(`[iot-gateway memory] ${sent} hostile messages to ${streams} streams: peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB, bound ${(bound / 2 ** 20).toFixed(0)} MiB; dropped ${JSON.stringify(final.dropped)}, malformed ${final.malformed}, ${final.learned} models`);
    expect(peak).toBeLessThan(bound);
  }, 900_000);
});
