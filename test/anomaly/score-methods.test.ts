// `sae-edge score --method novelty|surprise|combined --normal rows.npy`: the library's detector
// through the CLI, its held-out threshold, and one line with exit 2 for each misuse.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fitDetector } from "../../src/anomaly/detector.js";
import { buildModel, loadSae, serializeModel, serializeNpy } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";
import { atomDictionary } from "./atom-dictionary.js";

const dIn = 48, dSae = 24;
const r = makeRng(1415);
const { dict, rows: atomRows } = atomDictionary(r, dIn, dSae);
const model = serializeModel(buildModel(dict, "int8"));
// Normal rows mix two of atoms 0..11; anomalies two of atoms 12..23 (which the model reconstructs as well).
const rows = (n: number, from: number) => atomRows(n, from, 12);
const normal = rows(400, 0), mixed = new Float32Array([...rows(100, 0), ...rows(100, 12)]);
const dir = mkdtempSync(join(tmpdir(), "sae-edge-methods-"));
writeFileSync(join(dir, "m.safetensors"), model);
writeFileSync(join(dir, "normal.npy"), serializeNpy(normal, [400, dIn]));
writeFileSync(join(dir, "mixed.npy"), serializeNpy(mixed, [200, dIn]));
writeFileSync(join(dir, "wide.npy"), serializeNpy(new Float32Array(4 * (dIn + 1)), [4, dIn + 1]));
const cli = (...args: string[]) => spawnSync(process.execPath, ["dist/cli.js", "score", join(dir, "m.safetensors"), join(dir, "mixed.npy"), ...args], { encoding: "utf8" });

describe("score --method", () => {
  it("gives the detector's scores, learned from the first 75% of --normal, flagged at the held-out threshold", async () => {
    const sae = await loadSae(model);
    const det = fitDetector(sae, { learn: normal.subarray(0, 300 * dIn), heldOut: normal.subarray(300 * dIn) }, { mode: "raw", fpr: 0.05 });
    const want = det.scores(mixed);
    sae.dispose();
    for (const method of ["novelty", "surprise", "combined"] as const) {
      const s = cli("--method", method, "--normal", join(dir, "normal.npy"), "--threshold", "auto", "--fpr", "0.05");
      expect(s.status, s.stderr).toBe(0);
      const lines = s.stdout.trim().split("\n").map((l) => l.split("\t").map(Number));
      expect(lines).toHaveLength(200);
      lines.forEach(([score, flag], i) => {
        expect(score, `${method} row ${i}`).toBeCloseTo(want[method][i], 9);
        expect(flag).toBe(want[method][i] > det.thresholds[method] ? 1 : 0);
      });
      const flagged = (from: number) => lines.slice(from, from + 100).reduce((a, [, f]) => a + f, 0);
      expect(flagged(0), `${method}: normal rows flagged`).toBeLessThanOrEqual(15);
      expect(flagged(100), `${method}: anomalies flagged`).toBeGreaterThanOrEqual(90);
    }
  });

  it("--method residual --normal --grid: the pooled residual with a held-out threshold", async () => {
    const sae = await loadSae(model);
    const det = fitDetector(sae, { learn: normal.subarray(0, 300 * dIn), heldOut: normal.subarray(300 * dIn) }, { mode: "raw", fpr: 0.01, grid: { height: 6, width: 8, radius: 1 } });
    const want = det.scores(mixed).residual;
    sae.dispose();
    const s = cli("--normal", join(dir, "normal.npy"), "--grid", "6x8", "--threshold", "auto");
    expect(s.status, s.stderr).toBe(0);
    s.stdout.trim().split("\n").forEach((l, i) => {
      const [score, flag] = l.split("\t").map(Number);
      expect(score).toBeCloseTo(want[i], 9);
      expect(flag).toBe(want[i] > det.thresholds.residual ? 1 : 0);
    });
  });

  it("refuses a method it does not know, a method without --normal and options that would be ignored, in one line each", () => {
    const cases: [string[], RegExp][] = [
      [["--method", "bogus"], /--method.*bogus/],
      [["--method", "novelty"], /needs --normal/],
      [["--method", "combined", "--normal", join(dir, "normal.npy"), "--explain"], /--explain uses the model's calibration/],
      [["--grid", "6x8"], /--grid goes with --normal/],
      [["--normal", join(dir, "normal.npy"), "--grid", "6by8"], /--grid must be HxW/],
      [["--normal", join(dir, "normal.npy"), "--grid", "6x9"], /grid 6×9 does not cover the 48 inputs/],
      [["--fpr", "0.05"], /--fpr goes with/],
      [["--method", "surprise", "--normal", join(dir, "normal.npy"), "--fpr", "1"], /--fpr must be below 1/],
      [["--method", "surprise", "--normal", join(dir, "wide.npy")], /49 columns/],
      [["--method", "surprise", "--normal", join(dir, "missing.npy")], /missing\.npy/],
    ];
    for (const [args, message] of cases) {
      const s = cli(...args);
      expect(s.status, args.join(" ")).toBe(2);
      expect(s.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(s.stderr, args.join(" ")).toMatch(message);
      expect(s.stdout).toBe("");
    }
  });
});
