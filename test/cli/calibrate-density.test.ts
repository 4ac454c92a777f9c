// calibrate's latent densities are counts over rows: a latent that fires on every one of 200 rows
// has density exactly 1 (a running sum of 1/200 reached 1.0000000000000007, and the model and the
// --json file calibrate wrote were then refused as MODEL_INVALID).
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { calibrate } from "../../src/anomaly/scoring.js";
import { loadSae } from "../../src/adapters/node/index.js";
import { serializeNpy } from "../../src/format/npy.js";
import { buildModel, serializeModel } from "../../src/model/quantize.js";
import { DIST_CLI, randomInput, randomWeights } from "../helpers/common.mjs";
import { runAsync } from "../helpers/child.js";

const D_IN = 20;
const D_SAE = 48;
const ROWS = 200;
const ALWAYS = 5; // the latent whose bias makes it fire on every row

const weights = randomWeights({ architecture: "standard", dIn: D_IN, dSae: D_SAE, seed: 11 });
weights.b_enc[ALWAYS] = 50;
const modelBytes = serializeModel(buildModel(weights, "int8"));
const X = randomInput(ROWS, D_IN, 12);

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-density-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string) => join(tmp, name);
writeFileSync(at("model.safetensors"), modelBytes);
writeFileSync(at("normal.npy"), serializeNpy(X, [ROWS, D_IN]));
const cli = (...args: string[]) => runAsync(process.execPath, [DIST_CLI, ...args], { cwd: tmp });

/** score --threshold auto succeeds with a line per row. */
async function expectScores(...args: string[]): Promise<void> {
  const r = await cli("score", ...args, "normal.npy", "--threshold", "auto");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split("\n")).toHaveLength(ROWS);
}

describe("latent density of a latent on every row", () => {
  it("the library: exactly 1, and every density is count / rows", async () => {
    const sae = await loadSae(modelBytes);
    const c = calibrate(sae, X);
    expect(c.density[ALWAYS]).toBe(1);
    const codes = sae.encode(X);
    const count = new Array<number>(D_SAE).fill(0);
    for (const j of codes.indices) count[j]++;
    expect(c.density).toEqual(count.map((n) => n / ROWS));
  });

  it("in the model (-o and in place): written, loaded, and scored with", async () => {
    const r = await cli("calibrate", "model.safetensors", "normal.npy", "-o", "calibrated.safetensors");
    expect(r.stderr).toMatch(/^calibrated on 200 rows/);
    expect(r.code).toBe(0);
    expect((await loadSae(readFileSync(at("calibrated.safetensors")))).info.calibration!.density[ALWAYS]).toBe(1);
    await expectScores("calibrated.safetensors");

    copyFileSync(at("model.safetensors"), at("in-place.safetensors"));
    expect((await cli("calibrate", "in-place.safetensors", "normal.npy")).code).toBe(0);
    expect((await loadSae(readFileSync(at("in-place.safetensors")))).info.calibration!.density[ALWAYS]).toBe(1);
    await expectScores("in-place.safetensors");
  });

  it("as a --json file: written, and accepted by score --calibration", async () => {
    const r = await cli("calibrate", "model.safetensors", "normal.npy", "--json", "calibration.json");
    expect(r.code).toBe(0);
    expect((JSON.parse(readFileSync(at("calibration.json"), "utf8")) as { density: number[] }).density[ALWAYS]).toBe(1);
    await expectScores("model.safetensors", "--calibration", "calibration.json");
  });
});
