// The pool-channel benchmark at a tiny shape: bench/pool-channel.mjs must time every setup in its
// own process and print one / setup for the split ones. No timing assertions: this only keeps the
// harness working (its worker loops on shared memory and must still be stopped).
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { REPO } from "../helpers/common.mjs";

describe("bench/pool-channel.mjs", () => {
  it("times one Sae, the pool and the split by hand over postMessage and shared memory, at a tiny shape", () => {
    const args = ["--shape", "32x256", "--k", "8", "--seconds", "0.1", "--runs", "1"];
    const r = spawnSync(process.execPath, [`${REPO}bench/pool-channel.mjs`, ...args], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    for (const setup of ["one", "pool", "post", "atomics", "atomics-async", "half", "half-paused"]) {
      const row = r.stdout.split("\n").find((l) => l.startsWith(`| 1 | ${setup} |`));
      expect(row, setup).toBeDefined();
      const [median, spread, ratio] = row!.split("|").slice(3, -1).map((c) => c.trim());
      expect(Number(median), row).toBeGreaterThan(0);
      expect(spread, row).toMatch(/^\d+\.\d{3}–\d+\.\d{3}$/);
      if (setup.startsWith("half")) expect(ratio, row).toBe("");
      else expect(Number(ratio!.replace("×", "")), row).toBeGreaterThan(0);
    }
  });
});
