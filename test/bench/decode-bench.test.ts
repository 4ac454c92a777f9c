// The decode benchmarks at a tiny shape: bench/decode.mjs must run every kernel build (relaxed in
// Node 22 when present) and report finite times, the codes it decoded and both ratios;
// bench/decode-order.mjs must time its three gather orders. No timing assertions: this only keeps
// the harnesses working.
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

describe("bench/decode-order.mjs", () => {
  it("times the three gather orders of one batch at a tiny shape", () => {
    const r = spawnSync(process.execPath, [`${REPO}bench/decode-order.mjs`, "--shape", "16x64", "--k", "8", "--batch", "5", "--runs", "5"], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/distinct latents in 40 codes/); // TopK: exactly k codes a row
    const rows = r.stdout.split("\n").filter((l) => /^\| (as given|by latent)/.test(l));
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const [ms, ratio] = [Number(row.split("|")[2]!.trim().split(" ")[0]), Number(row.split("|")[3]!.trim().replace("×", ""))];
      expect(Number.isFinite(ms) && ms > 0 && Number.isFinite(ratio) && ratio > 0, row).toBe(true);
    }
  });
});
