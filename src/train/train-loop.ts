// Epochs over mini-batches from an async iterator (so data larger than memory
// works), with per-step and per-epoch callbacks and held-out FVU.
import { fail } from "../base/errors.js";
import type { WasmBuilds } from "../runtime/index.js";
import { SaeTrainer, type StepStats } from "./trainer.js";
import type { TrainOptions } from "./options.js";

export type BatchSource = (epoch: number) => AsyncIterable<Float32Array> | Iterable<Float32Array>;

export interface EpochReport {
  epoch: number;
  steps: number;
  /** Means over the epoch's steps. */
  loss: number;
  fvu: number;
  l0: number;
  deadFraction: number;
  /** Held-out FVU after the epoch, when validation data was given. */
  valFvu?: number;
}

export interface TrainRun {
  dIn: number;
  epochs: number;
  batches: BatchSource;
  validation?: Float32Array;
  options?: Partial<TrainOptions>;
  onStep?(stats: StepStats, epoch: number, step: number): void;
  onEpoch?(report: EpochReport): void;
}

export async function trainSae(builds: WasmBuilds, run: TrainRun): Promise<{ trainer: SaeTrainer; epochs: EpochReport[] }> {
  if (!Number.isInteger(run.epochs) || run.epochs < 1) fail("INVALID_ARGUMENT", `epochs must be a positive integer, got ${run.epochs}`);
  let trainer: SaeTrainer | null = null;
  const reports: EpochReport[] = [];
  for (let epoch = 0; epoch < run.epochs; epoch++) {
    let steps = 0, loss = 0, fvu = 0, l0 = 0, dead = 0;
    for await (const batch of run.batches(epoch)) {
      trainer ??= await SaeTrainer.create(builds, run.dIn, batch, run.options);
      const s = trainer.step(batch);
      steps++;
      loss += s.loss;
      fvu += s.fvu;
      l0 += s.l0;
      dead += s.deadFraction;
      run.onStep?.(s, epoch, steps);
    }
    if (!trainer || steps === 0) fail("INPUT_SHAPE", "the training data produced no batches");
    const report: EpochReport = { epoch, steps, loss: loss / steps, fvu: fvu / steps, l0: l0 / steps, deadFraction: dead / steps };
    if (run.validation) report.valFvu = trainer.evaluate(run.validation).fvu;
    reports.push(report);
    run.onEpoch?.(report);
  }
  return { trainer: trainer!, epochs: reports };
}

/** Shuffled mini-batches of an in-memory matrix, the same order for a given seed and epoch. */
export function matrixBatches(x: Float32Array, dIn: number, batchSize: number, seed: number): BatchSource {
  const rows = x.length / dIn;
  return function* (epoch: number) {
    const order = Uint32Array.from({ length: rows }, (_, i) => i);
    let a = (seed * 0x9e3779b1 + epoch * 0x85ebca6b + 1) >>> 0;
    for (let i = rows - 1; i > 0; i--) {
      a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
      const j = Math.floor((a / 4294967296) * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (let r0 = 0; r0 < rows; r0 += batchSize) {
      const n = Math.min(batchSize, rows - r0);
      const b = new Float32Array(n * dIn);
      for (let r = 0; r < n; r++) b.set(x.subarray(order[r0 + r] * dIn, (order[r0 + r] + 1) * dIn), r * dIn);
      yield b;
    }
  };
}
