// The 1-row kernels read an encoder beyond 32 MiB as two streams (tiles b and b + tiles/2 side by
// side, then any odd tile; enc_i8_1x4c16.ts streamPairs), an int4 screen's likewise. Only such wide
// models take that path, so here is one: d_in 17 (two steps, padding), d_sae 2^21 + 3 (an odd
// number of tiles: 33.55 MB of int8 weights, and of int4 ones at 2^22 + 3 latents... too big
// for a test, so the int4 one uses d_in 33). Every build must give the scalar twin's bits: the
// dense pre-activations (every latent) and the codes (TopK, the int4-screened TopK, ReLU).
import { describe, expect, it } from "vitest";
import { addInt4Screen, buildModel, loadSae, serializeModel, type Sae } from "../../src/adapters/node/index.js";
import { node22Codes } from "../helpers/node22-codes.js";
import { makeRng } from "../reference/index.js";

const STREAM_PAIR_BYTES = 32 << 20;

function wide(dIn: number, dSae: number, architecture: "topk" | "standard"): Uint8Array {
  const r = makeRng(dIn + dSae);
  return serializeModel(buildModel({
    architecture, dIn, dSae, k: architecture === "topk" ? 8 : 0, applyBDecToInput: true,
    W_enc: r.normals(dIn * dSae, 1 / Math.sqrt(dIn)), b_enc: architecture === "topk" ? r.normals(dSae, 0.1) : new Float32Array(dSae).fill(-3.5),
    W_dec: new Float32Array(dSae * dIn), b_dec: r.normals(dIn, 0.2),
  }, "int8"));
}

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
function outputs(sae: Sae, x: Float32Array): string {
  const c = sae.encode(x);
  return [b64(c.rowOffsets), b64(c.indices), b64(c.values), b64(sae.preActivations(x.subarray(0, sae.info.dIn), 1))].join("|");
}

describe("two weight streams on encoders beyond 32 MiB", () => {
  const cases = [
    { name: "int8 TopK", dIn: 17, dSae: 2 ** 21 + 3, arch: "topk" as const, int4: false },
    { name: "int8 ReLU", dIn: 17, dSae: 2 ** 21 + 3, arch: "standard" as const, int4: false },
    { name: "int4-screened TopK", dIn: 17, dSae: 2 ** 21 + 3, arch: "topk" as const, int4: true },
  ];
  for (const c of cases) {
    it(`${c.name}, ${c.dIn}×${c.dSae}: simd128 and relaxed (split, fused) give the scalar twin's bits`, async () => {
      const steps = Math.ceil(c.dIn / 16), tiles = Math.ceil(c.dSae / 4);
      expect(tiles % 2).toBe(1);
      expect(tiles * steps * (c.int4 ? 32 : 64)).toBeGreaterThan(STREAM_PAIR_BYTES);
      let model = wide(c.dIn, c.dSae, c.arch);
      if (c.int4) model = addInt4Screen(model, { pool: 8 }); // pool = k: the codes show the pool itself
      const x = makeRng(5).normals(3 * c.dIn, 2);
      const want = outputs(await loadSae(model, { kernel: "scalar" }), x);
      expect(outputs(await loadSae(model, { kernel: "simd128" }), x)).toBe(want);
      const r = node22Codes(model, x, { preact: true });
      expect(r.status, r.stderr).toBe(0);
      expect(r.lines).toEqual([`relaxed split ${want}`, `relaxed fused ${want}`]);
    }, 120_000);
  }
});
