// Regressions from review: hostile tensor names, padding, tiny rows, row numbers in CLI errors.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, loadSae, parseSafetensors, serializeModel, serializeNpy, serializeSafetensors, type Dtype } from "../../src/adapters/node/index.js";

const dIn = 20, dSae = 6; // d_sae not a multiple of 4: the last tile has padding lanes
const ramp = (n: number, s: number) => new Float32Array(n).map((_, i) => Math.sin(1 + i * s));
const weights = {
  architecture: "topk" as const, dIn, dSae, k: 2, applyBDecToInput: false,
  W_enc: ramp(dIn * dSae, 0.37), b_enc: new Float32Array(dSae), W_dec: ramp(dSae * dIn, 0.21), b_dec: new Float32Array(dIn),
};

function rewrite(bytes: Uint8Array, edit: (tensors: Record<string, { dtype: Dtype; shape: number[]; data: Uint8Array }>) => void): Uint8Array {
  const st = parseSafetensors(bytes);
  const tensors: Record<string, { dtype: Dtype; shape: number[]; data: Uint8Array }> = Object.create(null); // so "__proto__" is a plain key
  for (const t of st.header.tensors) tensors[t.name] = { dtype: t.dtype, shape: t.shape, data: st.tensor(t.name).slice() };
  edit(tensors);
  return serializeSafetensors(tensors, st.header.metadata);
}

describe.each(["int8", "f32"] as const)("model files (%s)", (quant) => {
  const good = serializeModel(buildModel(weights, quant));

  it("rejects tensors named after built-in object properties", async () => {
    for (const name of ["__proto__", "toString", "constructor"]) {
      const bad = rewrite(good, (t) => {
        t[name] = { dtype: "U8", shape: [64], data: new Uint8Array(64) };
      });
      await expect(loadSae(bad)).rejects.toMatchObject({ code: "MODEL_INVALID" });
    }
  });

  it("rejects non-zero padding in the packed encoder", async () => {
    const bad = rewrite(good, (t) => {
      const w = t.W_enc_packed.data;
      w[w.length - 1] = 1; // latent 7 (> d_sae) of the last tile, last dim
    });
    await expect(loadSae(bad)).rejects.toMatchObject({ code: "MODEL_INVALID", message: expect.stringContaining("padding") });
  });

  it("encodes rows far below float32's normal range like their scaled-up twins", async () => {
    const sae = await loadSae(good);
    const x = ramp(dIn, 0.9);
    const tiny = x.map((v) => v * 2 ** -126 * 8); // amax ~ 1e-37: 63/amax overflows float32
    const h = sae.preActivations(x);
    const ht = sae.preActivations(tiny);
    for (let j = 0; j < dSae; j++) {
      expect(ht[j] / (2 ** -126 * 8)).toBeCloseTo(h[j], 3);
    }
  });
});

describe("CLI errors name rows of the whole input", () => {
  it("an overflow in row 280 of 300 is reported as row 280, with nothing on stdout", () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-hard-"));
    const w = { ...weights, W_enc: new Float32Array(dIn * dSae).fill(0.5) };
    writeFileSync(join(dir, "m.safetensors"), serializeModel(buildModel(w, "int8")));
    const x = new Float32Array(300 * dIn).fill(0.25);
    x.fill(3e38, 280 * dIn, 281 * dIn);
    writeFileSync(join(dir, "x.npy"), serializeNpy(x, [300, dIn]));
    for (const cmd of ["encode", "score"]) {
      const r = spawnSync(process.execPath, ["dist/cli.js", cmd, join(dir, "m.safetensors"), join(dir, "x.npy")], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/row 280\b.*overflowed.*\[INPUT_NONFINITE\]/);
      expect(r.stdout).toBe("");
    }
  });
});
