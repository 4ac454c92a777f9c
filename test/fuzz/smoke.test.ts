// The fuzzer's seeded smoke run (npm run fuzz, fuzz/): 20,000 mutated inputs of every format end in
// success or a typed refusal, none over 1 s or 4 × its size + 64 MiB, no crash and no hang.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

it("20,000 seeded inputs: no untyped error, crash, hang, slow or memory-hungry input", () => {
  const crashes = mkdtempSync(join(tmpdir(), "sae-edge-fuzz-"));
  const run = spawnSync(process.execPath, ["fuzz/fuzz.mjs", "--count", "20000", "--seed", "13", "--json", "--crashes", crashes], { encoding: "utf8", timeout: 170_000 });
  expect(run.stderr).toBe("");
  const summary = JSON.parse(run.stdout);
  expect(summary.inputs).toBe(20000);
  expect({ untyped: summary.signatures, crashes: summary.crashes, hangs: summary.hangs, slow: summary.slow, memory: summary.memory }).toEqual({ untyped: {}, crashes: 0, hangs: 0, slow: 0, memory: 0 });
  expect(run.status).toBe(0);
}, 180_000);
