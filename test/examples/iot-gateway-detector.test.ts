// The gateway's detector on streams where the truth is known (issue 14): seeded synthetic faults
// (bench/anomaly/sensors.mjs), the issue's stuck-sensor repro, the Suthaharan motes with their
// drift, and the drift state carried across a restart.
import { loadSae } from "sae-edge";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM without types
import { SYNTHETIC, suthaharanTable, syntheticTable } from "../../bench/anomaly/sensors.mjs";
// @ts-expect-error plain ESM without types
import { motes } from "../../edge-examples/iot-gateway/dataset.mjs";
// @ts-expect-error plain ESM without types
import { modelProblem, StreamDetector } from "../../edge-examples/iot-gateway/detector.mjs";
// @ts-expect-error plain ESM without types
import { scoreSeries } from "../../edge-examples/iot-gateway/offline.mjs";
// @ts-expect-error plain ESM without types
import { FAULTS, mulberry32, NORMALS } from "../../edge-examples/iot-gateway/synthetic.mjs";

type Row = (string | number | undefined)[];
const DETECTOR = "sae-edge detector";

describe("gateway detector on synthetic sensor faults", () => {
  it("finds every fault kind (AUROC ≥ 0.95 on each stream, mean ≥ 0.97) and alerts on fresh normal windows at about --fpr", async () => {
    const fpr = 0.01;
    const { rows } = await syntheticTable({ seeds: 2, fpr, baselines: false });
    const mine = (rows as Row[]).filter((r) => r[1] === DETECTOR);
    const kinds = (r: Row) => FAULTS.map((_: string, i: number) => r[2 + i]).filter((v: unknown) => v !== undefined) as number[];
    for (const r of mine) for (const [i, v] of kinds(r).entries()) expect(v, `${r[0]} ${FAULTS[i]}`).toBeGreaterThanOrEqual(0.95);
    const all = mine.find((r) => r[0] === "all three")!;
    expect(all[2 + FAULTS.length] as number).toBeGreaterThanOrEqual(0.97);
    // Each stream's realized rate varies with its held-out windows (overlapping, so few independent
    // ones); over the streams and seeds it is within 1.5× of the rate asked for.
    const falseAlerts = all.at(-2) as number;
    expect(falseAlerts).toBeGreaterThan(fpr / 1.5);
    expect(falseAlerts).toBeLessThan(fpr * 1.5);
    console.log(`[detector] synthetic, window ${SYNTHETIC.window}: ${mine.map((r) => `${r[0]} mean AUROC ${(r[2 + FAULTS.length] as number).toFixed(3)}, false alerts ${(r.at(-2) as number).toFixed(4)}`).join("; ")}`);
  }, 120_000);

  it("alerts on a stuck sensor (the issue's repro: a 10/14 step with noise 0.1, stuck at 12 for 40 samples)", async () => {
    const W = 8, learn = 500;
    const step = NORMALS.step.make(mulberry32(14));
    const samples: number[][] = Array.from({ length: 2000 }, (_, t) => step(t));
    for (let t = 1500; t < 1540; t++) samples[t] = [12];
    const { score, threshold } = await scoreSeries(samples, { window: W, learn });
    const inside = Array.from({ length: 40 - W + 1 }, (_, i) => score[1500 + W - 1 + i]);
    expect(inside.filter((s) => s > threshold).length).toBe(inside.length);
    const normal: number[] = Array.from(score.slice(learn + W - 1, 1500));
    expect(Math.min(...inside)).toBeGreaterThan(normal.sort((a, b) => a - b)[normal.length >> 1]);
  }, 60_000);
  it("scores a stream that never moved, and then a value at the float32 limit, as finite and far above its threshold", async () => {
    const samples = Array.from({ length: 60 }, (_, t) => [t < 50 ? 5 : 3e38, 1]);
    const { score, threshold } = await scoreSeries(samples, { window: 4, learn: 20 });
    const after: number[] = Array.from(score.slice(23));
    expect(after.every(Number.isFinite)).toBe(true);
    expect(after.slice(0, 50 - 23).every((s) => s <= threshold)).toBe(true);
    expect(after.slice(50 - 23).every((s) => s > threshold + 1e6)).toBe(true);
  });
});

describe("gateway detector on the Suthaharan motes", () => {
  it("pools to AUROC ≥ 0.95, and the drifting outdoor motes alert on ≤ 5 % of their normal readings", async () => {
    const { columns, rows } = await suthaharanTable({ baselines: false });
    const r = (rows as Row[]).find((x) => x[0] === DETECTOR)!;
    const at = (name: string) => r[(columns as string[]).indexOf(name)] as number;
    expect(at("pooled AUROC")).toBeGreaterThanOrEqual(0.95);
    expect(at("outdoor false alerts")).toBeLessThanOrEqual(0.05);
    console.log(`[detector] Suthaharan: pooled AUROC ${at("pooled AUROC").toFixed(3)}, outdoor false alerts ${(100 * at("outdoor false alerts")).toFixed(1)} %`);
  }, 120_000);

  // Stopped at reading 2000 and restarted from the last model file and state(): with relearning, the
  // stop falls while a relearning is pending (the restarted detector learns the same model again).
  it.each([
    ["its drift state", 0],
    ["a relearning that was under way", 300],
  ])("carries %s across a restart: restored from its model file and state(), it scores on identically", async (_, relearn) => {
    const m = motes().find((x: { device: string }) => x.device === "mote3");
    const opts = { window: 8, learn: 300, relearn };
    const settle = async (d: { out: Map<number, number> }, n: number) => {
      while (d.out.size < n - 300 - 8 + 1) await new Promise((r) => setTimeout(r, 20));
    };
    const run = (o: object) => {
      const out = new Map<number, number>();
      let bytes: Uint8Array | undefined, models = 0;
      const det = new StreamDetector({ ...opts, ...o, onResult: (x: { seq: number; score: number }) => out.set(x.seq, x.score), onModel: (x: { bytes: Uint8Array }) => ((bytes = x.bytes), models++) });
      const push = (from: number, to: number) => {
        for (let t = from; t < to; t++) det.push(t, Float32Array.from(m.samples[t]));
      };
      return { det, out, push, bytes: () => bytes!, models: () => models };
    };
    const whole = run({});
    whole.push(0, 3000);
    await settle(whole, 3000);
    const first = run({});
    first.push(0, 1000);
    await settle(first, 1000);
    first.push(1000, 2000); // no waiting: a relearning that began here has not finished
    const state = JSON.parse(JSON.stringify(first.det.state()));
    const sae = await loadSae(first.bytes());
    expect(modelProblem(sae)).toBeNull();
    expect(state.norm.mean).not.toEqual(sae.info.provenance.mean); // it has moved with the drift
    if (relearn) {
      expect(whole.models()).toBeGreaterThan(2);
      expect(state.scored).toBeLessThan(2000 - 8 + 1); // pending: windows wait for the new model
    }
    first.det.dispose();
    const second = run({ sae, state });
    second.push(2000, 3000);
    const from = state.scored + 8 - 1;
    while (second.out.size < 3000 - from) await new Promise((r) => setTimeout(r, 20));
    for (let t = from; t < 3000; t++) expect(second.out.get(t), `reading ${t}`).toBe(whole.out.get(t));
    for (const x of [whole, second]) x.det.dispose();
  }, 60_000);
});
