// The pool benchmark at a tiny shape: bench/threads.mjs must report the cores it gets, a worker's
// four round trips, a finite time and speed-up for every split and batch, and each setup's
// memory. No timing assertions: this only keeps the harness working.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { REPO } from "../helpers/common.mjs";

const number = String.raw`(\d+(?:\.\d+)?)`;
const timeCell = new RegExp(`^${number} \\(${number}–${number}\\)$`);

describe("bench/threads.mjs", () => {
  it("times every split against one Sae in blocks and measures memory, at a tiny shape", () => {
    const args = ["--shape", "32x256", "--k", "8", "--batches", "1,3", "--threads", "2", "--splits", "rows,latents,latents+main", "--ms-per-case", "100", "--ms-per-block", "10"];
    const r = spawnSync(process.execPath, [`${REPO}bench/threads.mjs`, ...args], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Cores this process gets now \(2 spinning threads vs 1\): \d+\.\d\d/);
    const trip = r.stdout.split("\n").find((l) => l.startsWith("A worker's round trip"));
    expect(trip, r.stdout).toBeDefined();
    expect(trip!.match(/\d+\.\d \(\d+\.\d–\d+\.\d\)/g)).toHaveLength(4); // postMessage, Atomics.wait, waitAsync, spinning
    for (const batch of [1, 3]) {
      const row = r.stdout.split("\n").find((l) => l.startsWith(`| ${batch} |`));
      expect(row, `batch ${batch}`).toBeDefined();
      const cells = row!.split("|").slice(2, -1).map((c) => c.trim());
      // one Sae, then (time, speed-up) per split, then runs and the load average
      expect(cells).toHaveLength(1 + 2 * 3 + 2);
      for (const c of [cells[0], cells[1], cells[3], cells[5]]) expect(c, row).toMatch(timeCell);
      for (const c of [cells[2], cells[4], cells[6]]) expect(Number(c!.replace("×", ""))).toBeGreaterThan(0);
      expect(Number(cells[7])).toBeGreaterThanOrEqual(5);
    }
    for (const setup of ["1 thread (one Sae)", "2 threads, rows split", "2 threads, latents split", "2 threads, latents split, one share on the main thread"]) {
      const row = r.stdout.split("\n").find((l) => l.startsWith(`| ${setup} |`));
      expect(row, setup).toBeDefined();
      expect(Number(row!.split("|")[2])).toBeGreaterThan(0); // its wasm memory, MiB
    }
  });
});
