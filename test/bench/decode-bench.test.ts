// The decode benchmark at a tiny shape (bench/decode.mjs): it must run every kernel build (relaxed
// in Node 22 when present) and report finite times, the codes it decoded and both ratios.
// No timing assertions: this only keeps the harness working.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { NODE22, REPO } from "../helpers/common.mjs";

describe("bench/decode.mjs", () => {
  it("times decode, decode_sparse alone and encode for every build at a tiny shape", () => {
    const args = ["--shapes", "16x64,17x40", "--k", "8", "--batches", "1,3", "--ms-per-case", "20", "--json"];
    const r = spawnSync(process.execPath, [`${REPO}bench/decode.mjs`, ...args], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.k).toBe(8);
    expect(out.load).toMatch(/^load average/);
    const rows = out.runs.flatMap((run: { results: object[] }) => run.results);
    const kernels = ["scalar", "simd128", ...(existsSync(NODE22) ? ["relaxed"] : [])];
    for (const kernel of kernels) {
      for (const shape of ["16x64", "17x40"]) {
        for (const batch of [1, 3]) {
          const row = rows.find((x: { kernel: string; shape: string; batch: number }) => x.kernel === kernel && x.shape === shape && x.batch === batch);
          expect(row, `${kernel} ${shape} batch ${batch}`).toBeDefined();
          expect(row.codes).toBe(8); // TopK: exactly k codes a row
          for (const t of [row.encode, row.decode, row.kernelOnly]) expect(Number.isFinite(t.median_ms) && t.median_ms > 0 && t.p10_ms <= t.p90_ms).toBe(true);
          expect(row.decode_over_encode).toBeGreaterThan(0);
          expect(row.kernel_over_encode).toBeGreaterThan(0);
        }
      }
    }
  });
});
