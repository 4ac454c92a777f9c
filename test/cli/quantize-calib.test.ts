// sae-edge quantize --calib: int8 models that quantize around the calibration rows' mean x'.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSae } from "../../src/adapters/node/index.js";
import { serializeNpy } from "../../src/format/npy.js";
import { DIST_CLI, REPO } from "../helpers/common.mjs";
import { runAsync } from "../helpers/child.js";

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-calib-"));
const checkpoint = `${REPO}test/fixtures/upstream/saelens/standard`; // d_in 16, apply_b_dec_to_input
const cli = (...args: string[]) => runAsync(process.execPath, [DIST_CLI, ...args], { cwd: tmp });

describe("quantize --calib", () => {
  it("stores x_offset = the rows' mean x' and its fold; the model loads and encodes", async () => {
    const rows = Float32Array.from({ length: 40 * 16 }, (_, i) => 5 + Math.sin(i));
    writeFileSync(join(tmp, "calib.npy"), serializeNpy(rows, [40, 16]));
    const r = await cli("quantize", checkpoint, "-o", "m.safetensors", "--calib", "calib.npy");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("x_offset: mean of 40 rows");
    const sae = await loadSae(readFileSync(join(tmp, "m.safetensors")));
    expect(sae.info.xOffset).toBe(true);
    expect(sae.encode(rows.subarray(0, 32), 2).rows).toBe(2);
  });

  it("rows of the wrong width: exit 2, one line, no file", async () => {
    writeFileSync(join(tmp, "bad.npy"), serializeNpy(new Float32Array(4 * 15), [4, 15]));
    const r = await cli("quantize", checkpoint, "-o", "bad.safetensors", "--calib", "bad.npy");
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual(["sae-edge: calibration rows have 15 columns, the model's d_in is 16 [INPUT_SHAPE]"]);
    expect(existsSync(join(tmp, "bad.safetensors"))).toBe(false);
    const f32 = await cli("quantize", checkpoint, "-o", "f32.safetensors", "--bits", "32", "--calib", "calib.npy");
    expect(f32.code).toBe(2);
    expect(f32.stderr).toMatch(/--calib is for int8 models.*\[INVALID_ARGUMENT\]/);
  });

  it("fidelity --calib checks the model quantize --calib writes, and refuses --calib with --model", async () => {
    const rows = Float32Array.from({ length: 40 * 16 }, (_, i) => 5 + Math.sin(i));
    writeFileSync(join(tmp, "calib.npy"), serializeNpy(rows, [40, 16]));
    writeFileSync(join(tmp, "acts.npy"), serializeNpy(Float32Array.from({ length: 60 * 16 }, (_, i) => 5 + Math.cos(0.7 * i)), [60, 16]));
    expect((await cli("quantize", checkpoint, "-o", "fc.safetensors", "--calib", "calib.npy")).code).toBe(0);
    const now = await cli("fidelity", checkpoint, "acts.npy", "--calib", "calib.npy", "--json");
    const given = await cli("fidelity", checkpoint, "acts.npy", "--model", "fc.safetensors", "--json");
    expect(now.code, now.stderr).toBe(0);
    expect(given.code, given.stderr).toBe(0);
    expect(JSON.parse(now.stdout)).toEqual(JSON.parse(given.stdout));
    const both = await cli("fidelity", checkpoint, "acts.npy", "--calib", "calib.npy", "--model", "fc.safetensors");
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split("\n")).toHaveLength(1);
  });
});
