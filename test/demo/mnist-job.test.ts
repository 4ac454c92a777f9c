// npm start's job on the bundled default model, held to issue 14's one-class bar, and the
// default model's bit-for-bit reproduction.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "sae-edge-mnist-"));

describe("the MNIST job (npm start)", () => {
  it("reports speed, fidelity, the one-class table and writes its pictures", () => {
    const r = spawnSync(process.execPath, ["dist/cli.js", "demo", "--out", join(dir, "out")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    const fvu = Number(/reconstruction: FVU ([\d.]+)/.exec(out)?.[1]);
    expect(fvu).toBeGreaterThan(0);
    expect(fvu).toBeLessThan(0.2); // the committed model reconstructs MNIST
    expect(Number(/L0 ([\d.]+)/.exec(out)?.[1])).toBe(32);
    expect(Number(/at (\d+) digits\/s/.exec(out)?.[1])).toBeGreaterThan(0);
    // digit, then AUROC % of: residual, pooled residual, novelty, surprise, combined, PCA, Deep SVDD.
    const table = out.split("\n").filter((l) => /^\s+\d(\s+[\d.]+){7}$/.test(l));
    expect(table, out).toHaveLength(10);
    const rows = table.map((line) => line.trim().split(/\s+/).map(Number));
    for (const [digit, residual, pooled, novelty, surprise, combined, pca, deepSvdd] of rows) {
      for (const v of [residual, novelty, surprise, combined, pca]) expect(v).toBeGreaterThan(50);
      // Issue 14: on every digit the pooled residual is at or above PCA and the published Deep SVDD
      // (kNN on raw pixels is too slow for a test: bench/results/anomaly.md compares it).
      expect(pooled, `digit ${digit}`).toBeGreaterThanOrEqual(Math.max(pca, deepSvdd));
    }
    // The mean row averages the digits' rows (printed to two decimals, Deep SVDD to one).
    const mean = /^ mean((\s+[\d.]+){7})$/m.exec(out);
    expect(mean, out).not.toBeNull();
    const means = mean![1].trim().split(/\s+/).map(Number);
    for (let col = 1; col <= 7; col++) {
      const avg = rows.reduce((s, r) => s + r[col]!, 0) / rows.length;
      expect(Math.abs(means[col - 1] - avg)).toBeLessThanOrEqual(col === 7 ? 0.051 : 0.0051);
    }
    expect(means[1], "mean AUROC of the pooled residual").toBeGreaterThanOrEqual(97.5);
    for (const f of ["feature-atlas.png", "most-anomalous.png", "one-class-roc.svg"]) {
      expect(existsSync(join(dir, "out", f)), f).toBe(true);
      expect(statSync(join(dir, "out", f)).size).toBeGreaterThan(1000);
    }
    expect(readFileSync(join(dir, "out", "feature-atlas.png")).subarray(1, 4).toString()).toBe("PNG");
    expect(statSync(join(dir, "out", "feature-atlas.png")).size).toBeLessThan(1_000_000); // was 2.2 MB with dead-latent noise
  }, 600_000); // trains ten one-class models: minutes on a busy 2-core machine

  it("npm run train:default reproduces the committed default model bit for bit", () => {
    const r = spawnSync(process.execPath, ["scripts/train-default.mjs", join(dir, "default.safetensors")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "default.safetensors")).equals(readFileSync("models/mnist-topk-1024.safetensors"))).toBe(true);
  }, 600_000);
});
