// Anomaly scoring: calibration quantile, thresholds and explanations, eval with labels.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { calibrate, anomalyScores } from "../../src/anomaly/scoring.js";
import { buildModel, loadSae, serializeModel, serializeNpy } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";
import { atomDictionary } from "./atom-dictionary.js";

const dIn = 16, dSae = 32;
const r = makeRng(21);
// A dictionary of unit atoms; normal rows use atoms 0..15, anomalies atoms 16..31 plus an offset the SAE cannot reconstruct.
const { dict, rows: atomRows } = atomDictionary(r, dIn, dSae);
const rows = (n: number, from: number) => atomRows(n, from, 16, from ? 0.5 : 0);
const normal = rows(400, 0), test = rows(100, 0), odd = rows(100, 16);

describe("calibrate", () => {
  it("puts the threshold at the (1 − fpr) quantile of normal scores", async () => {
    const sae = await loadSae(serializeModel(buildModel(dict, "int8")));
    for (const mode of ["raw", "norm", "var"] as const) {
      const c = calibrate(sae, normal, { fpr: 0.05, mode });
      const s = anomalyScores(sae, normal, mode, c.residualVariance);
      const above = s.filter((v) => v > c.threshold).length;
      expect(above, mode).toBeLessThanOrEqual(0.05 * 400);
      expect(above, mode).toBeGreaterThanOrEqual(0.05 * 400 - 1);
      expect(Array.from(s)).toContain(c.threshold);
      const rareMax = Math.max(...c.density.slice(16)), commonMin = Math.min(...c.density.slice(0, 16));
      expect(rareMax, "anomaly atoms seldom fire on normal data").toBeLessThan(commonMin);
    }
  });
});

describe("anomaly CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "sae-edge-anom-"));
  const cli = (...args: string[]) => spawnSync(process.execPath, ["dist/cli.js", ...args], { encoding: "utf8" });
  writeFileSync(join(dir, "m.safetensors"), serializeModel(buildModel(dict, "int8")));
  writeFileSync(join(dir, "normal.npy"), serializeNpy(normal, [400, dIn]));
  const mixed = new Float32Array([...test, ...odd]);
  writeFileSync(join(dir, "mixed.npy"), serializeNpy(mixed, [200, dIn]));
  writeFileSync(join(dir, "labels.npy"), serializeNpy(new Float64Array(200).map((_, i) => (i >= 100 ? 1 : 0)), [200]));

  it("calibrates in place, flags with --threshold auto and explains flagged rows", () => {
    expect(cli("score", join(dir, "m.safetensors"), join(dir, "mixed.npy"), "--threshold", "auto").status).toBe(2); // not calibrated yet
    const c = cli("calibrate", join(dir, "m.safetensors"), join(dir, "normal.npy"), "--fpr", "0.02", "--mode", "var");
    expect(c.status, c.stderr).toBe(0);
    const s = cli("score", join(dir, "m.safetensors"), join(dir, "mixed.npy"), "--threshold", "auto");
    expect(s.status, s.stderr).toBe(0);
    const flags = s.stdout.trim().split("\n").map((l) => Number(l.split("\t")[1]));
    const normalFlagged = flags.slice(0, 100).reduce((a, b) => a + b, 0);
    const oddFlagged = flags.slice(100).reduce((a, b) => a + b, 0);
    expect(normalFlagged).toBeLessThanOrEqual(10);
    expect(oddFlagged).toBeGreaterThanOrEqual(90);
    const ex = cli("score", join(dir, "m.safetensors"), join(dir, "mixed.npy"), "--threshold", "auto", "--explain");
    const lines = ex.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(200);
    const flagged = lines.filter((l) => l.flag === 1);
    expect(flagged.every((l) => l.dims.length === 5 && Array.isArray(l.rare_latents))).toBe(true);
    // Anomalies fire latents 16..31, which never fired on normal data: they are the rare latents named.
    expect(flagged.filter((l) => l.row >= 100).some((l) => l.rare_latents.some(([j]: number[]) => j >= 16))).toBe(true);
  });

  it("eval --labels reports AUROC/AUPRC and writes a ROC picture", () => {
    const e = cli("eval", join(dir, "m.safetensors"), join(dir, "mixed.npy"), "--labels", join(dir, "labels.npy"), "--roc", join(dir, "roc.svg"), "--json");
    expect(e.status, e.stderr).toBe(0);
    const m = JSON.parse(e.stdout);
    expect(m.auroc).toBeGreaterThan(0.95);
    expect(m.auprc).toBeGreaterThan(0.9);
    expect(m.rows).toBe(200);
    expect(m.explainedVariance).toBeGreaterThan(0);
    const svg = readFileSync(join(dir, "roc.svg"), "utf8");
    expect(svg).toMatch(/<polyline/);
    expect(svg).toMatch(/AUROC 0\.9\d\d|AUROC 1\.000/);
  });

  it("rejects labels of the wrong length or values", () => {
    writeFileSync(join(dir, "short.npy"), serializeNpy(new Float64Array(5), [5]));
    writeFileSync(join(dir, "twos.npy"), serializeNpy(new Float64Array(200).fill(2), [200]));
    for (const f of ["short.npy", "twos.npy"]) {
      const e = cli("eval", join(dir, "m.safetensors"), join(dir, "mixed.npy"), "--labels", join(dir, f));
      expect(e.status).toBe(2);
      expect(e.stderr).toMatch(/\[INPUT_SHAPE\]/);
    }
  });
});
