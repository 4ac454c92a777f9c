// Issue 12's int8 goals at realistic shapes, in CI: every architecture at 768×16384 and
// 2304×16384 on bench/fidelity-table.mjs's planted dictionary (inputs with an offset ten times
// the rows' spread and Student-t noise), int8 with the input offset folded and the encoder's
// residual plane (the configuration that meets them; the table shows what each part does),
// against a float64 forward pass written here. Goals: active-set recall and precision ≥ 0.995,
// the worst row's value error ≤ 5e-3 of its largest code, FVU at most 1% above the exact model's.
import { describe, expect, it } from "vitest";
import { buildModel, inputMean, loadSae, serializeModel } from "../../src/adapters/node/index.js";
import { fvu } from "../reference/index.js";
// @ts-expect-error plain-JS bench helper, no types
import { planted } from "../../bench/lib/planted.mjs";

const ROWS = 200, CALIB = 400, OFFSET = 10;
const GOAL = { recall: 0.995, precision: 0.995, value: 5e-3, fvu: 0.01 };

interface Dictionary {
  dIn: number; dSae: number;
  W_enc: Float32Array; W_dec: Float32Array; mu: Float32Array; fold: Float32Array; t: Float32Array;
  calib: Float32Array; x: Float32Array;
}
type Arch = { architecture: "standard" | "topk" | "jumprelu" | "gated" | "groupmax"; k: number };
const ARCHS: Arch[] = [
  { architecture: "standard", k: 0 }, { architecture: "topk", k: 32 }, { architecture: "topk", k: 64 },
  { architecture: "jumprelu", k: 0 }, { architecture: "gated", k: 0 }, { architecture: "groupmax", k: 64 },
];

// The table's weights: bars t above the cross-talk; with apply_b_dec_to_input false the bias cancels W_encᵀμ.
function weightsFor(arch: Arch, d: Dictionary, applyBDecToInput: boolean) {
  const cancel = Float32Array.from(applyBDecToInput ? new Float32Array(d.dSae) : d.fold, (f) => -f);
  const base = { architecture: arch.architecture, dIn: d.dIn, dSae: d.dSae, k: arch.k, applyBDecToInput, W_enc: d.W_enc, W_dec: d.W_dec, b_dec: d.mu };
  switch (arch.architecture) {
    case "standard": return { ...base, b_enc: Float32Array.from(cancel, (c, j) => c - d.t[j]) };
    case "jumprelu": return { ...base, b_enc: cancel, threshold: d.t };
    case "gated": return { ...base, b_enc: new Float32Array(d.dSae), b_gate: Float32Array.from(cancel, (c, j) => c - d.t[j]), r_mag: new Float32Array(d.dSae), b_mag: cancel };
    default: return { ...base, b_enc: cancel };
  }
}

/** W_encᵀx per row in float64 (the part every architecture shares), and W_encᵀb_dec to take off when b_dec is applied. */
function encoderProducts(d: Dictionary): { rows: Float64Array[]; ofMu: Float64Array } {
  const rows: Float64Array[] = [];
  const ofMu = new Float64Array(d.dSae);
  for (let r = 0; r <= ROWS; r++) {
    const h = r < ROWS ? new Float64Array(d.dSae) : ofMu;
    for (let i = 0; i < d.dIn; i++) {
      const xi = r < ROWS ? d.x[r * d.dIn + i] : d.mu[i];
      const w = d.W_enc.subarray(i * d.dSae, (i + 1) * d.dSae);
      for (let j = 0; j < d.dSae; j++) h[j] += xi * w[j];
    }
    if (r < ROWS) rows.push(h);
  }
  return { rows, ofMu };
}

/** One row's exact code, as a map latent → value. */
function activate(arch: Arch, w: ReturnType<typeof weightsFor>, h: Float64Array): Map<number, number> {
  const z = new Map<number, number>();
  const dSae = h.length;
  const pre = (j: number) => h[j] + w.b_enc[j];
  switch (arch.architecture) {
    case "standard":
      for (let j = 0; j < dSae; j++) if (pre(j) > 0) z.set(j, pre(j));
      break;
    case "jumprelu": {
      const t = (w as { threshold: Float32Array }).threshold;
      for (let j = 0; j < dSae; j++) if (pre(j) > t[j]) z.set(j, pre(j));
      break;
    }
    case "gated": {
      const g = w as unknown as { b_gate: Float32Array; r_mag: Float32Array; b_mag: Float32Array };
      for (let j = 0; j < dSae; j++) {
        const mag = Math.exp(g.r_mag[j]) * h[j] + g.b_mag[j];
        if (h[j] + g.b_gate[j] > 0 && mag > 0) z.set(j, mag);
      }
      break;
    }
    case "topk": {
      const order = Array.from({ length: dSae }, (_, j) => j).sort((a, b) => pre(b) - pre(a));
      for (const j of order.slice(0, arch.k)) if (pre(j) > 0) z.set(j, pre(j));
      break;
    }
    case "groupmax": {
      const size = dSae / arch.k;
      for (let g = 0; g < dSae; g += size) {
        let best = g;
        for (let j = g + 1; j < g + size; j++) if (pre(j) > pre(best)) best = j;
        if (pre(best) > 0) z.set(best, pre(best));
      }
      break;
    }
  }
  return z;
}

function reconstruct(d: Dictionary, codes: Map<number, number>[]): Float64Array {
  const xhat = new Float64Array(ROWS * d.dIn);
  codes.forEach((z, r) => {
    const row = xhat.subarray(r * d.dIn, (r + 1) * d.dIn);
    row.set(d.mu);
    for (const [j, v] of z) for (let i = 0; i < d.dIn; i++) row[i] += v * d.W_dec[j * d.dIn + i];
  });
  return xhat;
}

describe.each([[768, 16384], [2304, 16384]])("%i×%i", (dIn, dSae) => {
  const d: Dictionary = planted(dIn, dSae, { rows: ROWS, calib: CALIB, offset: OFFSET, seed: dIn + dSae });
  let products: ReturnType<typeof encoderProducts> | undefined;
  const productsFor = (apply: boolean) => {
    products ??= encoderProducts(d);
    const { rows, ofMu } = products;
    return apply ? rows.map((h) => h.map((v, j) => v - ofMu[j])) : rows;
  };

  // Offset-heavy inputs with apply_b_dec_to_input false (Gemma Scope's layout) and, at 768, true (SAELens's).
  describe.each(dIn === 768 ? [false, true] : [false])("apply_b_dec_to_input %s", (applyBDecToInput) => {
    it.each(ARCHS.map((a) => [`${a.architecture}${a.k ? ` k=${a.k}` : ""}`, a] as const))("%s meets the int8 goals", async (_, arch) => {
      const w = weightsFor(arch, d, applyBDecToInput);
      const exact = productsFor(applyBDecToInput).map((h) => activate(arch, w, h));
      const model = buildModel({ ...w, xOffset: inputMean(w, d.calib) }, "int8", {}, { encoderResidual: true });
      const sae = await loadSae(serializeModel(model));
      const { codes, reconstruction } = sae.forward(d.x.subarray(0, ROWS * dIn), ROWS);
      sae.dispose();

      let hit = 0, want = 0, got = 0, worst = 0, worstRow = -1;
      for (let r = 0; r < ROWS; r++) {
        const ref = exact[r];
        let top = 0, err = 0;
        for (const v of ref.values()) top = Math.max(top, Math.abs(v));
        for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) {
          const v = ref.get(codes.indices[e]);
          if (v === undefined) continue;
          hit++;
          err = Math.max(err, Math.abs(codes.values[e] - v));
        }
        want += ref.size;
        got += codes.rowOffsets[r + 1] - codes.rowOffsets[r];
        if (top > 0 && err / top > worst) [worst, worstRow] = [err / top, r];
      }
      const x = d.x.subarray(0, ROWS * dIn);
      const fvuExact = fvu(x, reconstruct(d, exact), ROWS, dIn);
      const fvuInt8 = fvu(x, reconstruction, ROWS, dIn);
      const report = `recall ${(hit / want).toFixed(4)}, precision ${(hit / got).toFixed(4)}, worst value error ${worst.toExponential(2)} (row ${worstRow}), FVU ${fvuExact.toFixed(4)} → ${fvuInt8.toFixed(4)}`;
      expect(hit / want, report).toBeGreaterThanOrEqual(GOAL.recall);
      expect(hit / got, report).toBeGreaterThanOrEqual(GOAL.precision);
      expect(worst, report).toBeLessThanOrEqual(GOAL.value);
      expect((fvuInt8 - fvuExact) / fvuExact, report).toBeLessThanOrEqual(GOAL.fvu);
    }, 300_000);
  });
});
