// End-to-end fidelity on planted-dictionary data: sparse non-negative
// combinations of known unit atoms plus noise, encoded by an SAE whose
// encoder is the atoms' transpose and whose decoder is the atoms. The int8
// model must pick (almost) the same latents as the float64 reference on the
// exact f32 weights and reconstruct (almost) as well; the f32 model must match
// the reference to float32 rounding.
import { describe, expect, it } from "vitest";
import { buildModel, loadSae, serializeModel, type Sae, type SaeWeights } from "../../src/adapters/node/index.js";
import {
  ReferenceSae, activeSetRecall, baseSeed, caseSeed, checkSelection, csrRows, expectSameBits, expectWithin, fvu, mismatch,
  plantedDictionary, transpose, type Arch, type RefWeights,
} from "../reference/index.js";

const D_IN = 256;
const D_SAE = 2048;
const ACTIVE = 8;
const ROWS = 256;
const NOISE = 0.01;

const SEED = caseSeed("planted dictionary");
const planted = plantedDictionary({ dIn: D_IN, dSae: D_SAE, rows: ROWS, active: ACTIVE, amplitude: [1, 2], noise: NOISE, seed: SEED });
const W_enc = transpose(planted.atoms, D_SAE, D_IN); // [d_in][d_sae]

interface Variant {
  name: string;
  arch: Arch;
  k: number;
  bEnc: number;
  threshold?: number;
}

// Interference between the 2048 random atoms in 256 dims is about N(0, 0.27) per latent,
// so ReLU needs a negative bias and JumpReLU a threshold above the noise floor.
const VARIANTS: Variant[] = [
  { name: "topk k=8", arch: "topk", k: ACTIVE, bEnc: 0 },
  { name: "relu, b_enc=-1", arch: "standard", k: 0, bEnc: -1 },
  { name: "jumprelu, threshold=1", arch: "jumprelu", k: 0, bEnc: 0, threshold: 1 },
];

function weightsFor(v: Variant): RefWeights {
  return {
    architecture: v.arch, dIn: D_IN, dSae: D_SAE, k: v.k, applyBDecToInput: false,
    W_enc, b_enc: new Float32Array(D_SAE).fill(v.bEnc), W_dec: planted.atoms, b_dec: new Float32Array(D_IN),
    threshold: v.threshold === undefined ? undefined : new Float32Array(D_SAE).fill(v.threshold),
  };
}

async function load(w: RefWeights, quantization: "int8" | "f32", kernel: "simd128" | "scalar" = "simd128"): Promise<Sae> {
  return loadSae(serializeModel(buildModel(w as SaeWeights, quantization)), { kernel });
}

describe("planted-dictionary fidelity (d_in 256, d_sae 2048, 8 atoms per row)", () => {
  for (const v of VARIANTS) {
    it(v.name, async () => {
      const ctx = `seed=${SEED} (SAE_TEST_SEED=${baseSeed()}) ${v.name} d_in=${D_IN} d_sae=${D_SAE} rows=${ROWS} kernel=simd128`;
      const w = weightsFor(v);
      const x = planted.x;

      // Float64 reference on the exact f32 weights.
      const ref = new ReferenceSae(w, "f32");
      const refPre = ref.preact(x, ROWS);
      const refCodes = ref.activate(refPre.v, ROWS);
      const refRec = ref.decode(refCodes);
      const fvuRef = fvu(x, refRec.v, ROWS, D_IN);
      const plantedRecall = activeSetRecall(planted.support, refCodes.map((c) => c.indices));

      // f32 model: within float32 rounding of the reference.
      const f32 = await load(w, "f32");
      expectWithin(f32.preActivations(x, ROWS), refPre, `${ctx} quant=f32`, "f32 preActivations vs reference", D_SAE);
      const f32Fwd = f32.forward(x, ROWS);
      const f32Rows = csrRows(f32Fwd.codes);
      for (let r = 0; r < ROWS; r++) {
        const h = refPre.v.subarray(r * D_SAE, (r + 1) * D_SAE), tol = refPre.tol.subarray(r * D_SAE, (r + 1) * D_SAE);
        const problems = checkSelection(h, tol, v.arch, v.k, w.threshold, f32Rows[r].indices);
        if (problems.length) mismatch(`${ctx} quant=f32 row=${r}`, "f32 selection vs reference", problems);
      }
      expectWithin(f32Fwd.reconstruction, ref.decode(f32Rows), `${ctx} quant=f32`, "f32 reconstruction vs reference", D_IN);
      const recallF32 = activeSetRecall(refCodes.map((c) => c.indices), f32Rows.map((c) => c.indices));
      const fvuF32 = fvu(x, f32Fwd.reconstruction, ROWS, D_IN);

      // int8 model vs the same float64 reference.
      const int8 = await load(w, "int8");
      const i8Fwd = int8.forward(x, ROWS);
      const i8Rows = csrRows(i8Fwd.codes);
      const recallI8 = activeSetRecall(refCodes.map((c) => c.indices), i8Rows.map((c) => c.indices));
      const precisionI8 = activeSetRecall(i8Rows.map((c) => c.indices), refCodes.map((c) => c.indices));
      const fvuI8 = fvu(x, i8Fwd.reconstruction, ROWS, D_IN);
      const scoreI8 = int8.score(x, ROWS);
      let sq = 0;
      for (const s of scoreI8.squared) sq += s;

      const nnz = refCodes.reduce((a, c) => a + c.indices.length, 0) / ROWS;
      console.log(
        `[fidelity] ${v.name}: L0(ref)=${nnz.toFixed(2)} planted-recall(ref)=${plantedRecall.toFixed(4)} ` +
          `recall(f32)=${recallF32.toFixed(4)} recall(int8)=${recallI8.toFixed(4)} precision(int8)=${precisionI8.toFixed(4)} ` +
          `FVU ref=${fvuRef.toFixed(6)} f32=${fvuF32.toFixed(6)} int8=${fvuI8.toFixed(6)} int8/ref=${(fvuI8 / fvuRef).toFixed(5)} (${ctx})`,
      );

      // The setup itself is meaningful: the reference finds most planted atoms and explains most variance.
      expect(nnz, ctx).toBeGreaterThan(4);
      expect(plantedRecall, ctx).toBeGreaterThan(0.8);
      expect(fvuRef, ctx).toBeLessThan(v.arch === "standard" ? 0.6 : 0.2); // ReLU's bias shrinks every code
      expect(recallF32, ctx).toBeGreaterThanOrEqual(0.999);
      expect(Math.abs(fvuF32 - fvuRef) / fvuRef, ctx).toBeLessThan(1e-4);
      expect(recallI8, ctx).toBeGreaterThanOrEqual(0.99);
      expect(precisionI8, ctx).toBeGreaterThanOrEqual(0.99);
      expect(fvuI8, ctx).toBeLessThanOrEqual(1.02 * fvuF32);
      expect(fvuI8, ctx).toBeLessThanOrEqual(1.02 * fvuRef);
      // score agrees with the reconstruction it reports.
      let own = 0;
      for (let i = 0; i < x.length; i++) own += (x[i] - i8Fwd.reconstruction[i]) ** 2;
      expect(Math.abs(sq - own) / own, ctx).toBeLessThan(1e-9);
      // The scalar build gives the same int8 codes and reconstructions, bit for bit.
      const scalar = await load(w, "int8", "scalar");
      const scFwd = scalar.forward(x, ROWS);
      expectSameBits(scFwd.codes.rowOffsets, i8Fwd.codes.rowOffsets, `${ctx} quant=int8`, "rowOffsets scalar vs simd128");
      expectSameBits(scFwd.codes.indices, i8Fwd.codes.indices, `${ctx} quant=int8`, "indices scalar vs simd128");
      expectSameBits(scFwd.codes.values, i8Fwd.codes.values, `${ctx} quant=int8`, "values scalar vs simd128");
      expectSameBits(scFwd.reconstruction, i8Fwd.reconstruction, `${ctx} quant=int8`, "reconstruction scalar vs simd128");
      scalar.dispose();
      f32.dispose();
      int8.dispose();
    });
  }
});
