// Seeded randomness for the reference tests: the helpers' mulberry32 for uniforms and
// Box-Muller for normals. Shares no code with src/.
import { rng } from "../helpers/common.mjs";

export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal. */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** A fresh Float32Array of normals times `scale`. */
  normals(n: number, scale?: number): Float32Array;
}

export function makeRng(seed: number): Rng {
  let spare: number | null = null;
  const next = rng(seed);
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return {
    seed: seed >>> 0,
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal,
    int: (n) => Math.floor(next() * n),
    normals(n, scale = 1) {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = normal() * scale;
      return out;
    },
  };
}

/** The base seed of a test run: SAE_TEST_SEED if set, else a fixed default. */
export function baseSeed(): number {
  const env = typeof process !== "undefined" ? process.env.SAE_TEST_SEED : undefined;
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (Number.isFinite(n)) return n >>> 0;
  }
  return 0x5ae0ed6e;
}

/** A per-case seed derived from the base seed and a case label (FNV-1a). */
export function caseSeed(label: string, base = baseSeed()): number {
  let h = (0x811c9dc5 ^ base) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
