// The int4 screen's multi-row kernels (enc_i4_4x4c16.ts): a batch of rows through an int4-screened
// TopK model gets, row for row, the very codes (indices and value bits) each row gets alone through
// the 1-row kernel, at tile-edge shapes and batch sizes around the 4-row tiles and 16 lanes, in
// scalar and simd128 here and in the relaxed build (split and fused dot) under Node 22.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addInt4Screen, buildModel, loadSae, serializeModel } from "../../src/adapters/node/index.js";
import { DIST_NODE, NODE22, gaussian, rng } from "../helpers/common.mjs";
import { rowsAloneMismatch } from "../helpers/rows-alone.mjs";

const BATCHES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 33];
const SHAPES: [number, number][] = [[1, 1], [15, 3], [16, 4], [17, 5], [33, 37], [100, 64], [768, 4096]];
const HELPER = join(import.meta.dirname, "../helpers/rows-alone.mjs");

function screenedModel(dIn: number, dSae: number): Uint8Array {
  const g = gaussian(rng(dIn * 1000 + dSae));
  const k = Math.min(4, Math.max(1, dSae >> 1));
  const weights = {
    architecture: "topk" as const, dIn, dSae, k, applyBDecToInput: true,
    W_enc: Float32Array.from({ length: dIn * dSae }, () => g() / Math.sqrt(dIn)), b_enc: Float32Array.from({ length: dSae }, () => g() * 0.05),
    W_dec: Float32Array.from({ length: dSae * dIn }, () => g() * 0.1), b_dec: Float32Array.from({ length: dIn }, () => g() * 0.1),
  };
  // pool = k: the screen's own ranking picks the codes, so a wrong int4 sum shows.
  return addInt4Screen(serializeModel(buildModel(weights, "int8")), { pool: k });
}
// Gaussian rows, row 2 all zeros and row 5 at a huge scale.
function inputs(dIn: number): Float32Array {
  const g = gaussian(rng(dIn + 7));
  const x = Float32Array.from({ length: 33 * dIn }, g);
  x.fill(0, 2 * dIn, 3 * dIn);
  for (let i = 5 * dIn; i < 6 * dIn; i++) x[i] *= 1e15;
  return x;
}

describe("int4 screen, multi-row kernels", () => {
  for (const [dIn, dSae] of SHAPES) {
    it(`${dIn}x${dSae}: a batch encodes each row as it encodes alone (scalar, simd128)`, async () => {
      const model = screenedModel(dIn, dSae), x = inputs(dIn);
      for (const kernel of ["scalar", "simd128"] as const) {
        const sae = await loadSae(model, { kernel });
        expect(sae.info.kernel).toBe(kernel);
        expect(rowsAloneMismatch(sae, x, dIn, BATCHES), kernel).toBeNull();
      }
    });
  }

  it("the same in the relaxed build under Node 22, split and fused dot", () => {
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-i4rows-"));
    const cases = SHAPES.map(([dIn, dSae]) => {
      const name = `${dIn}x${dSae}`;
      writeFileSync(join(dir, `${name}.safetensors`), screenedModel(dIn, dSae));
      writeFileSync(join(dir, `${name}.bin`), inputs(dIn));
      return { name, dIn };
    });
    const script = `const { loadSae } = await import(${JSON.stringify(`file://${DIST_NODE}`)});
      const { rowsAloneMismatch } = await import(${JSON.stringify(`file://${HELPER}`)}); const fs = await import("node:fs");
      const out = [];
      for (const { name, dIn } of ${JSON.stringify(cases)}) {
        const b = fs.readFileSync(${JSON.stringify(dir)} + "/" + name + ".bin"); const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
        for (const relaxedDot of ["split", "fused"]) {
          const sae = await loadSae(${JSON.stringify(dir)} + "/" + name + ".safetensors", { kernel: "relaxed", relaxedDot });
          out.push([name, sae.info.kernel, sae.info.relaxedDot, rowsAloneMismatch(sae, x, dIn, ${JSON.stringify(BATCHES)})].join(" "));
        }
      }
      process.stdout.write(out.join("\\n"));`;
    const r = spawnSync(NODE22, ["--input-type=module", "-e", script], { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    const want = SHAPES.flatMap(([dIn, dSae]) => ["split", "fused"].map((d) => `${dIn}x${dSae} relaxed ${d} `));
    expect(r.stdout.split("\n")).toEqual(want);
  });
});
