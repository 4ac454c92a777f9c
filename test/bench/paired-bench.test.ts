// The paired benchmark at a tiny shape (bench/paired.mjs): two peers in one process, alternating
// blocks; it must print a finite time ratio per batch, with sae-edge's own peers and with a peer
// from bench/peers (installed by npm test's pretest). No timing assertions: this only keeps the
// harness working.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { REPO } from "../helpers/common.mjs";

describe("bench/paired.mjs", () => {
  it("prints each batch's median time ratio of two peers timed in alternating blocks", () => {
    const args = ["--shape", "64x256", "--k", "8", "--batches", "1,5", "--blocks", "3", "--ms-per-block", "5", "--a", "sae-simd128", "--b", "js-loop"];
    const r = spawnSync(process.execPath, [`${REPO}bench/paired.mjs`, ...args], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sae-edge simd128 vs JS loop f32, 64x256 TopK k=8/);
    for (const batch of [1, 5]) {
      const row = new RegExp(`^\\| ${batch} \\| ([\\d.]+) \\| ([\\d.]+) \\| ([\\d.]+)× \\(([\\d.]+)–([\\d.]+)\\) \\| 3 \\|$`, "m").exec(r.stdout);
      expect(row, `batch ${batch}:\n${r.stdout}`).not.toBeNull();
      const [a, b, ratio, p10, p90] = row!.slice(1).map(Number);
      expect(a > 0 && b > 0 && ratio > 0 && p10 <= ratio && ratio <= p90).toBe(true);
    }
  }, 130_000);

  it("runs an onnxruntime peer, which chooses U8S8 or U8U8 on the rows it times (no check reference here)", () => {
    const args = ["--shape", "64x256", "--k", "8", "--batches", "1", "--blocks", "3", "--ms-per-block", "5", "--a", "sae-simd128", "--b", "ortnode-int8"];
    const r = spawnSync(process.execPath, [`${REPO}bench/paired.mjs`, ...args], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sae-edge simd128 vs onnxruntime-node int8( \(U8U8: U8S8 saturates on this CPU\))?, 64x256 TopK k=8/);
    expect(r.stdout).toMatch(/^\| 1 \| [\d.]+ \| [\d.]+ \| [\d.]+× \([\d.]+–[\d.]+\) \| 3 \|$/m);
  }, 130_000);
});
