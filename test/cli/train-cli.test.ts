// `sae-edge train`: outputs, the SAELens checkpoint round trip, and bad data.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, checkpointFolder, importCheckpoint, loadSae, serializeModel, serializeNpy } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";

const dir = mkdtempSync(join(tmpdir(), "sae-edge-train-"));
const cli = (...args: string[]) => spawnSync(process.execPath, ["dist/cli.js", ...args], { encoding: "utf8" });
const dIn = 12;
const r = makeRng(11);
const x = r.normals(300 * dIn, 1);
writeFileSync(join(dir, "x.npy"), serializeNpy(x, [300, dIn]));
writeFileSync(join(dir, "val.npy"), serializeNpy(r.normals(50 * dIn, 1), [50, dIn]));

describe("sae-edge train", () => {
  it("writes an int8 model and a SAELens checkpoint that round-trips through the quantizer", async () => {
    const res = cli("train", join(dir, "x.npy"), "-o", join(dir, "m.safetensors"), "--d-sae", "24", "--k", "4", "--epochs", "3", "--batch", "64", "--val", join(dir, "val.npy"), "--seed", "5");
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(/epoch 3\/3: loss [0-9.]+ FVU [0-9.]+ L0 [0-9.]+ dead [0-9.]+% val FVU [0-9.]+/);
    const cfg = JSON.parse(readFileSync(join(dir, "m.saelens", "cfg.json"), "utf8"));
    expect(cfg).toMatchObject({ architecture: "topk", d_in: dIn, d_sae: 24, k: 4, dtype: "float32", apply_b_dec_to_input: true, normalize_activations: "none" });
    const imported = await importCheckpoint(await checkpointFolder(join(dir, "m.saelens")));
    // Quantizing the SAELens checkpoint gives exactly the int8 model train wrote (same weights, same quantizer).
    const requantized = await loadSae(serializeModel(buildModel(imported.weights, "int8")));
    const trained = await loadSae(join(dir, "m.safetensors"));
    const a = trained.encode(x), b = requantized.encode(x);
    expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(trained.info.provenance).toMatchObject({ source_format: "sae-edge train", rows: 300, epochs: 3, seed: 5 });
  });

  it("is deterministic for a seed", () => {
    for (const name of ["d1", "d2"]) {
      expect(cli("train", join(dir, "x.npy"), "-o", join(dir, `${name}.safetensors`), "--d-sae", "16", "--k", "3", "--epochs", "2", "--batch", "50", "--seed", "9").status).toBe(0);
    }
    const weights = (n: string) => readFileSync(join(dir, `${n}.saelens`, "sae_weights.safetensors"));
    expect(weights("d1").equals(weights("d2"))).toBe(true);
  });

  it("trains relu and jumprelu too", () => {
    for (const arch of ["relu", "jumprelu"]) {
      const res = cli("train", join(dir, "x.npy"), "-o", join(dir, `${arch}.safetensors`), "--arch", arch, "--d-sae", "16", "--epochs", "1", "--batch", "100");
      expect(res.status, res.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, `${arch}.saelens`, "cfg.json"), "utf8")).architecture).toBe(arch === "relu" ? "standard" : "jumprelu");
    }
  });

  const bad: [string, () => string[], RegExp][] = [
    ["NaN rows", () => { const y = x.slice(); y[5 * dIn + 3] = NaN; writeFileSync(join(dir, "nan.npy"), serializeNpy(y, [300, dIn])); return ["nan.npy"]; }, /row 5, column 3 is NaN.*\[INPUT_NONFINITE\]/],
    ["an empty file", () => { writeFileSync(join(dir, "empty.npy"), new Uint8Array(0)); return ["empty.npy"]; }, /\[NPY_INVALID\]/],
    ["zero rows", () => { writeFileSync(join(dir, "zero.npy"), serializeNpy(new Float32Array(0), [0, dIn])); return ["zero.npy"]; }, /no rows.*\[INPUT_SHAPE\]/],
    ["one row", () => { writeFileSync(join(dir, "one.npy"), serializeNpy(x.slice(0, dIn), [1, dIn])); return ["one.npy"]; }, /at least 2.*\[INPUT_SHAPE\]/],
    ["identical rows", () => { writeFileSync(join(dir, "same.npy"), serializeNpy(new Float32Array(4 * dIn).fill(1), [4, dIn])); return ["same.npy"]; }, /nothing to learn.*\[INPUT_SHAPE\]/],
    ["validation with other dims", () => { writeFileSync(join(dir, "v5.npy"), serializeNpy(new Float32Array(10), [2, 5])); return ["x.npy", "--val", join(dir, "v5.npy")]; }, /columns.*\[INPUT_SHAPE\]/],
    ["k above d_sae", () => ["x.npy", "--k", "40", "--d-sae", "16"], /--k 40 is larger than --d-sae 16.*\[INVALID_ARGUMENT\]/],
    ["a bad number", () => ["x.npy", "--epochs", "many"], /--epochs must be an integer.*\[INVALID_ARGUMENT\]/],
  ];
  for (const [what, setup, message] of bad) {
    it(`rejects ${what} with exit code 2`, () => {
      const [data, ...rest] = setup();
      const res = cli("train", join(dir, data), "-o", join(dir, "never.safetensors"), ...rest);
      expect(res.status, res.stderr).toBe(2);
      expect(res.stderr.trim().split("\n")).toHaveLength(1);
      expect(res.stderr).toMatch(message);
    });
  }
});
