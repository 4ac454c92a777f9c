// How close the int8 model is to the exact f32 path on the same rows: active-set
// recall and precision, code value error, and reconstruction metrics of each.
import type { Sae } from "../runtime/index.js";
import { ReconstructionMetricsAccumulator, type ReconstructionMetrics } from "./reconstruction.js";

export interface FidelityReport {
  rows: number;
  /** Σ |S_int8 ∩ S_f32| / Σ |S_f32| over rows (S = active latents). */
  activeSetRecall: number;
  /** Σ |S_int8 ∩ S_f32| / Σ |S_int8|. */
  activeSetPrecision: number;
  /** ‖z_int8 − z_f32‖ / ‖z_f32‖ over all codes (dense). */
  relativeCodeError: number;
  f32: Omit<ReconstructionMetrics, "featureDensity">;
  int8: Omit<ReconstructionMetrics, "featureDensity">;
  /** (FVU_int8 − FVU_f32) / FVU_f32. */
  fvuIncrease: number;
}

const BATCH = 256;

export function fidelityReport(exact: Sae, quantized: Sae, x: Float32Array): FidelityReport {
  const { dIn, dSae } = exact.info;
  const rows = x.length / dIn;
  const accF = new ReconstructionMetricsAccumulator(dIn, dSae);
  const accQ = new ReconstructionMetricsAccumulator(dIn, dSae);
  let both = 0, nF = 0, nQ = 0, diff2 = 0, ref2 = 0;
  for (let r0 = 0; r0 < rows; r0 += BATCH) {
    const xb = x.subarray(r0 * dIn, Math.min(rows, r0 + BATCH) * dIn);
    const f = exact.forward(xb), q = quantized.forward(xb);
    accF.add(xb, f.reconstruction, f.codes);
    accQ.add(xb, q.reconstruction, q.codes);
    for (let r = 0; r < f.codes.rows; r++) {
      const zf = new Map<number, number>();
      for (let e = f.codes.rowOffsets[r]; e < f.codes.rowOffsets[r + 1]; e++) zf.set(f.codes.indices[e], f.codes.values[e]);
      nF += zf.size;
      for (const v of zf.values()) ref2 += v * v;
      for (let e = q.codes.rowOffsets[r]; e < q.codes.rowOffsets[r + 1]; e++) {
        const j = q.codes.indices[e], v = q.codes.values[e];
        nQ++;
        const w = zf.get(j);
        if (w !== undefined) {
          both++;
          diff2 += (v - w) ** 2;
          zf.delete(j);
        } else diff2 += v * v;
      }
      for (const w of zf.values()) diff2 += w * w;
    }
  }
  const strip = ({ featureDensity, ...m }: ReconstructionMetrics) => (void featureDensity, m);
  const f32 = strip(accF.result()), int8 = strip(accQ.result());
  return {
    rows,
    activeSetRecall: nF ? both / nF : 1,
    activeSetPrecision: nQ ? both / nQ : 1,
    relativeCodeError: ref2 > 0 ? Math.sqrt(diff2 / ref2) : 0,
    f32,
    int8,
    fvuIncrease: f32.fvu > 0 ? (int8.fvu - f32.fvu) / f32.fvu : int8.fvu,
  };
}
