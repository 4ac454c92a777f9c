// Steering and ablation: the error-term splice, edits moving the output along decoder rows, the CLI.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, editCodes, loadSae, parseNpy, serializeModel, serializeNpy, steer, steeringVector } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";

const dIn = 20, dSae = 40;
const r = makeRng(31);
const weights = {
  architecture: "topk" as const, dIn, dSae, k: 5, applyBDecToInput: true,
  W_enc: r.normals(dIn * dSae, 0.3), b_enc: r.normals(dSae, 0.1), W_dec: r.normals(dSae * dIn, 0.3), b_dec: r.normals(dIn, 0.2),
};
const x = r.normals(6 * dIn, 1);

describe.each(["int8", "f32"] as const)("steering (%s)", (quant) => {
  it("with the error term and no edits the output is x exactly", async () => {
    const sae = await loadSae(serializeModel(buildModel(weights, quant)));
    expect(Array.from(steer(sae, x, []))).toEqual(Array.from(x));
  });

  it("zeroing a latent moves the output by −value × its decoder row; adding c moves it by c × the row", async () => {
    const sae = await loadSae(serializeModel(buildModel(weights, quant)));
    const codes = sae.encode(x);
    for (let row = 0; row < 6; row++) {
      const xr = x.subarray(row * dIn, (row + 1) * dIn);
      const j = codes.indices[codes.rowOffsets[row]], z = codes.values[codes.rowOffsets[row]];
      const w = steeringVector(sae, j, 1);
      const zeroed = steer(sae, xr, [{ latent: j, op: "zero" }]);
      const added = steer(sae, xr, [{ latent: 3, op: "add", value: 2.5 }]);
      const w3 = steeringVector(sae, 3, 2.5);
      for (let i = 0; i < dIn; i++) {
        expect(zeroed[i] - xr[i]).toBeCloseTo(-z * w[i], 4);
        expect(added[i] - xr[i]).toBeCloseTo(w3[i], 4);
      }
    }
  });

  it("without the error term the output is the edited reconstruction", async () => {
    const sae = await loadSae(serializeModel(buildModel(weights, quant)));
    const codes = sae.encode(x);
    const edits = [{ latent: 7, op: "set" as const, value: 1.5 }, { latent: codes.indices[0], op: "scale" as const, value: 0.5 }];
    expect(Array.from(steer(sae, x, edits, { errorTerm: false }))).toEqual(Array.from(sae.decode(editCodes(codes, edits))));
  });
});

describe("editCodes", () => {
  it("zeroes, sets, scales, adds and clamps, dropping latents that become zero", () => {
    const codes = { rows: 1, dSae: 10, rowOffsets: new Uint32Array([0, 3]), indices: new Uint32Array([4, 1, 8]), values: new Float32Array([3, 2, 1]) };
    const e = editCodes(codes, [
      { latent: 4, op: "clamp", min: 0, max: 2.5 },
      { latent: 1, op: "scale", value: 3 },
      { latent: 8, op: "zero" },
      { latent: 6, op: "add", value: 0.5 },
      { latent: 9, op: "set", value: -1 },
    ]);
    const got = Object.fromEntries(Array.from(e.indices, (j, i) => [j, e.values[i]]));
    expect(got).toEqual({ 4: 2.5, 1: 6, 6: 0.5, 9: -1 });
    expect(() => editCodes(codes, [{ latent: 10, op: "zero" }])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => editCodes(codes, [{ latent: 1, op: "clamp", min: 2, max: 1 }])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("sae-edge steer", () => {
  const dir = mkdtempSync(join(tmpdir(), "sae-edge-steer-"));
  const cli = (...args: string[]) => spawnSync(process.execPath, ["dist/cli.js", ...args], { encoding: "utf8" });
  writeFileSync(join(dir, "m.safetensors"), serializeModel(buildModel(weights, "int8")));
  writeFileSync(join(dir, "x.npy"), serializeNpy(x, [6, dIn]));

  it("writes what the API computes", async () => {
    const res = cli("steer", join(dir, "m.safetensors"), join(dir, "x.npy"), "--set", "12=4.0", "--zero", "7", "-o", join(dir, "out.npy"));
    expect(res.status, res.stderr).toBe(0);
    const sae = await loadSae(join(dir, "m.safetensors"));
    const want = steer(sae, x, [{ latent: 12, op: "set", value: 4 }, { latent: 7, op: "zero" }]);
    const got = parseNpy(readFileSync(join(dir, "out.npy")));
    expect(got.shape).toEqual([6, dIn]);
    expect(Array.from(got.data as Float32Array)).toEqual(Array.from(want));
  });

  for (const [what, args] of [["a latent out of range", ["--zero", "40"]], ["a malformed edit", ["--set", "12"]], ["a bad clamp", ["--clamp", "3=1"]]] as const) {
    it(`rejects ${what} with exit code 2`, () => {
      const res = cli("steer", join(dir, "m.safetensors"), join(dir, "x.npy"), ...args, "-o", join(dir, "never.npy"));
      expect(res.status).toBe(2);
      expect(res.stderr).toMatch(/\[INVALID_ARGUMENT\]/);
    });
  }
});
