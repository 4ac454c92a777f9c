// The planted-dictionary problem behind `npm start`: rows are sparse non-negative
// combinations of known unit atoms plus noise, and the SAE whose decoder is those
// atoms (encoder = their transpose, TopK) should recover which atoms were used.
import type { SaeWeights } from "../model/quantize.js";
import { rng } from "../base/rng.js";

export { rng };

export interface PlantedProblem {
  weights: SaeWeights;
  x: Float32Array;
  rows: number;
  /** The atoms used by each row (k per row). */
  truth: Uint32Array;
}

export interface PlantedOptions {
  dIn: number;
  dSae: number;
  k: number;
  rows: number;
  noise: number;
  seed: number;
}

export const PLANTED_DEFAULTS: PlantedOptions = { dIn: 512, dSae: 4096, k: 8, rows: 2048, noise: 0.02, seed: 1 };

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export function plantedProblem(o: PlantedOptions = PLANTED_DEFAULTS): PlantedProblem {
  const rand = rng(o.seed);
  const gauss = gaussian(rand);
  const atoms = new Float32Array(o.dSae * o.dIn);
  for (let j = 0; j < o.dSae; j++) {
    const row = atoms.subarray(j * o.dIn, (j + 1) * o.dIn);
    let n = 0;
    for (let i = 0; i < o.dIn; i++) n += (row[i] = gauss()) ** 2;
    const inv = 1 / Math.sqrt(n);
    for (let i = 0; i < o.dIn; i++) row[i] *= inv;
  }
  const bias = new Float32Array(o.dIn).map(() => 0.5 * gauss());
  const x = new Float32Array(o.rows * o.dIn);
  const truth = new Uint32Array(o.rows * o.k);
  for (let r = 0; r < o.rows; r++) {
    const used = new Set<number>();
    while (used.size < o.k) used.add(Math.floor(rand() * o.dSae));
    const xr = x.subarray(r * o.dIn, (r + 1) * o.dIn);
    for (let i = 0; i < o.dIn; i++) xr[i] = bias[i] + o.noise * gauss();
    let s = 0;
    for (const j of used) {
      truth[r * o.k + s++] = j;
      const a = 1 + rand();
      for (let i = 0; i < o.dIn; i++) xr[i] += a * atoms[j * o.dIn + i];
    }
  }
  const encoder = new Float32Array(o.dIn * o.dSae);
  for (let j = 0; j < o.dSae; j++) for (let i = 0; i < o.dIn; i++) encoder[i * o.dSae + j] = atoms[j * o.dIn + i];
  return {
    weights: {
      architecture: "topk", dIn: o.dIn, dSae: o.dSae, k: o.k, applyBDecToInput: true,
      W_enc: encoder, b_enc: new Float32Array(o.dSae), W_dec: atoms, b_dec: bias,
    },
    x,
    rows: o.rows,
    truth,
  };
}

/** Fraction of planted atoms found among each row's codes. */
export function atomRecovery(truth: Uint32Array, k: number, rowOffsets: Uint32Array, indices: Uint32Array): number {
  const rows = rowOffsets.length - 1;
  let found = 0;
  for (let r = 0; r < rows; r++) {
    const got = new Set(indices.subarray(rowOffsets[r], rowOffsets[r + 1]));
    for (let s = 0; s < k; s++) if (got.has(truth[r * k + s])) found++;
  }
  return found / (rows * k);
}
