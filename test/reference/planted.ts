// Planted-dictionary data: rows that are sparse non-negative combinations of
// known unit-norm atoms plus Gaussian noise.
import { makeRng } from "./rng.js";

export interface PlantedOptions {
  dIn: number;
  dSae: number;
  rows: number;
  /** Atoms per row. */
  active: number;
  /** Amplitudes uniform in [lo, hi]. */
  amplitude: [number, number];
  /** Noise standard deviation per input dimension. */
  noise: number;
  seed: number;
}

export interface Planted {
  /** Unit atoms, [d_sae][d_in] row-major (also the decoder). */
  atoms: Float32Array;
  /** Data rows, [rows][d_in]. */
  x: Float32Array;
  /** The planted atoms of each row (sorted) and their amplitudes. */
  support: number[][];
  amplitudes: number[][];
}

export function plantedDictionary(o: PlantedOptions): Planted {
  const rng = makeRng(o.seed);
  const atoms = new Float32Array(o.dSae * o.dIn);
  for (let j = 0; j < o.dSae; j++) {
    const row = new Float64Array(o.dIn);
    let nrm = 0;
    for (let i = 0; i < o.dIn; i++) {
      row[i] = rng.normal();
      nrm += row[i] * row[i];
    }
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < o.dIn; i++) atoms[j * o.dIn + i] = row[i] / nrm;
  }
  const x = new Float32Array(o.rows * o.dIn);
  const support: number[][] = [];
  const amplitudes: number[][] = [];
  const acc = new Float64Array(o.dIn);
  for (let r = 0; r < o.rows; r++) {
    const chosen = new Set<number>();
    while (chosen.size < o.active) chosen.add(rng.int(o.dSae));
    const s = [...chosen].sort((a, b) => a - b);
    const a = s.map(() => rng.uniform(o.amplitude[0], o.amplitude[1]));
    for (let i = 0; i < o.dIn; i++) acc[i] = o.noise * rng.normal();
    s.forEach((j, e) => {
      for (let i = 0; i < o.dIn; i++) acc[i] += a[e] * atoms[j * o.dIn + i];
    });
    for (let i = 0; i < o.dIn; i++) x[r * o.dIn + i] = acc[i];
    support.push(s);
    amplitudes.push(a);
  }
  return { atoms, x, support, amplitudes };
}

/** Transpose of a [rows][cols] matrix. */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}
