// Builds the screens of an int8 TopK model (docs/model-format.md, "screen") from its own weights:
// - low-rank: the top `rank` principal directions P of sample inputs x' (subspace iteration on
//   their second moment, float64) and the int8 encoder of width rank holding P^T W_enc;
// - int4: W_enc rounded to 4 bits per latent (from its int8 codes), two latents per byte.
import { I8_K_STEP, LATENT_TILE, packedOffset } from "./layout.js";
import { fail } from "../base/errors.js";
import { checkScreen, expectedTensors, specFromHeader, specToMetadata, type ModelSpec, type Screen } from "./spec.js";
import { quantizeEncoder } from "./quantize.js";
import { rng as uniform } from "../base/rng.js";
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from "../format/safetensors.js";

export interface ScreenOptions {
  rank: number;
  /** Candidates rescored per row (default 4k, at most the selection buffer). */
  pool?: number;
  seed?: number;
}

export function addScreen(model: Uint8Array, samples: Float32Array, options: ScreenOptions): Uint8Array {
  const st = parseSafetensors(model);
  const spec = specFromHeader(st.header);
  const { dIn, dSae, k } = spec;
  const screen = checkScreen({ rank: options.rank, pool: options.pool ?? Math.min(4 * k, dSae) }, spec);
  if (samples.length === 0 || samples.length % dIn !== 0) fail("INPUT_SHAPE", `samples must be rows of d_in=${dIn} values`);
  const f32 = (name: string) => new Float32Array(st.tensor(name).slice().buffer);
  const P = principalDirections(samples, dIn, spec.applyBDecToInput ? f32("b_dec") : null, options.rank, options.seed ?? 0);
  const Ws = projectEncoder(new Int8Array(st.tensor("W_enc_packed").slice().buffer), f32("W_enc_scale"), P, dIn, dSae, options.rank);
  const q = quantizeEncoder(Ws, options.rank, dSae);
  return withScreen(st, spec, screen, { screen_P: P, screen_W_packed: q.packed, screen_W_scale: q.scale });
}

export interface Int4ScreenOptions {
  /** Candidates rescored per row (default 4k, at most the selection buffer). */
  pool?: number;
}

/**
 * Adds an int4 screen: each row's int8 pass reads W_enc in 4 bits (half the bytes) to pick `pool`
 * candidates, which the int8 weights then rescore as usual. Needs no samples.
 */
export function addInt4Screen(model: Uint8Array, options: Int4ScreenOptions = {}): Uint8Array {
  const st = parseSafetensors(model);
  const spec = specFromHeader(st.header);
  const screen = checkScreen({ bits: 4, pool: options.pool ?? Math.min(4 * spec.k, spec.dSae) }, spec);
  const q = quantizeInt4(new Int8Array(st.tensor("W_enc_packed").slice().buffer), new Float32Array(st.tensor("W_enc_scale").slice().buffer), spec.dIn, spec.dSae);
  return withScreen(st, spec, screen, { screen_W4_packed: q.packed, screen_W_scale: q.scale });
}

// The model's tensors (less any screen it had) plus the new screen's.
function withScreen(st: ReturnType<typeof parseSafetensors>, spec: ModelSpec, screen: Screen, added: Record<string, ArrayBufferView>): Uint8Array {
  const out = { ...spec, screen };
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, { dtype, shape }] of Object.entries(expectedTensors(out))) tensors[name] = { dtype, shape, data: added[name] ?? st.tensor(name) };
  return serializeSafetensors(tensors, specToMetadata(out));
}

/**
 * int4 codes from the int8 ones, per latent j: with a = max_i |q8_ij|, scale4_j = f32(f32(scale8_j · a) / 7)
 * and q4 = sign(q8) · min(7, round_half_away(7 |q8| / a)) (the ratio exact in float64), 0 when a = 0.
 * Packed [tile][step][pair][16]: latent 4b + 2p in the low nibble as q + 8, 4b + 2p + 1 in the high one as q
 * (two's complement), so each byte read as an int8 is 16 · q_hi + q_lo + 8; padding q = 0 (0x08 per byte).
 */
export function quantizeInt4(packed8: Int8Array, scale8: Float32Array, dIn: number, dSae: number): { packed: Uint8Array; scale: Float32Array } {
  const steps = Math.ceil(dIn / I8_K_STEP);
  const tiles = Math.ceil(dSae / LATENT_TILE);
  // Both layouts are [tile][step][...][16]: walk them in order (one pass for the maxima, one to write).
  const amax = new Int32Array(tiles * LATENT_TILE);
  for (let b = 0, o = 0; b < tiles; b++) {
    for (let c = 0; c < steps; c++) {
      for (let l = 0; l < LATENT_TILE; l++) {
        const j = b * LATENT_TILE + l;
        let a = amax[j];
        for (let t = 0; t < I8_K_STEP; t++, o++) a = Math.max(a, Math.abs(packed8[o]));
        amax[j] = a;
      }
    }
  }
  const scale = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) if (amax[j]) scale[j] = Math.fround(scale8[j] * amax[j]) / 7;
  const packed = new Uint8Array(tiles * steps * (LATENT_TILE / 2) * I8_K_STEP);
  for (let b = 0, o = 0, p = 0; b < tiles; b++) {
    for (let c = 0; c < steps; c++) {
      for (let pair = 0; pair < LATENT_TILE / 2; pair++, o += 2 * I8_K_STEP, p += I8_K_STEP) {
        const lo = b * LATENT_TILE + 2 * pair;
        for (let t = 0; t < I8_K_STEP; t++) {
          packed[p + t] = (quantize4(packed8[o + t], amax[lo]) + 8) | ((quantize4(packed8[o + I8_K_STEP + t], amax[lo + 1]) & 15) << 4);
        }
      }
    }
  }
  return { packed, scale };
}

const quantize4 = (q8: number, a: number): number => {
  if (a === 0) return 0;
  const m = Math.min(7, Math.round((7 * Math.abs(q8)) / a));
  return q8 < 0 ? -m : m;
};

// P [d_in][rank]: an orthonormal basis of the dominant subspace of Σ x' x'ᵀ (uncentered: the
// screen scores x' itself, mean included).
// At most MAX_ROWS sample rows: the second moment costs rows · d_in² and settles long before.
const MAX_ROWS = 4096;

function principalDirections(x: Float32Array, dIn: number, bDec: Float32Array | null, rank: number, seed: number): Float32Array {
  const n = Math.min(x.length / dIn, MAX_ROWS);
  const C = new Float64Array(dIn * dIn);
  const row = new Float64Array(dIn);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < dIn; i++) row[i] = Math.fround(x[r * dIn + i] - (bDec ? bDec[i] : 0));
    for (let i = 0; i < dIn; i++) {
      const v = row[i];
      if (v === 0) continue;
      for (let j = 0; j < dIn; j++) C[i * dIn + j] += v * row[j];
    }
  }
  const u = uniform(seed);
  let Q = new Float64Array(dIn * rank).map(() => u() - 0.5);
  orthonormalize(Q, dIn, rank);
  for (let it = 0; it < 12; it++) {
    const Y = new Float64Array(dIn * rank);
    for (let i = 0; i < dIn; i++) {
      for (let j = 0; j < dIn; j++) {
        const c = C[i * dIn + j];
        if (c === 0) continue;
        for (let a = 0; a < rank; a++) Y[i * rank + a] += c * Q[j * rank + a];
      }
    }
    orthonormalize(Y, dIn, rank);
    Q = Y;
  }
  return Float32Array.from(Q);
}

// Modified Gram-Schmidt on the columns of M [rows][cols]; a dependent column becomes a unit axis.
function orthonormalize(M: Float64Array, rows: number, cols: number): void {
  for (let a = 0; a < cols; a++) {
    for (let b = 0; b < a; b++) {
      let d = 0;
      for (let i = 0; i < rows; i++) d += M[i * cols + a] * M[i * cols + b];
      for (let i = 0; i < rows; i++) M[i * cols + a] -= d * M[i * cols + b];
    }
    let nrm = 0;
    for (let i = 0; i < rows; i++) nrm += M[i * cols + a] ** 2;
    nrm = Math.sqrt(nrm);
    if (nrm < 1e-12) {
      for (let i = 0; i < rows; i++) M[i * cols + a] = i === a % rows ? 1 : 0;
      continue;
    }
    for (let i = 0; i < rows; i++) M[i * cols + a] /= nrm;
  }
}

// P^T W_enc [rank][d_sae] from the int8 encoder (packed [tile][step][4][16], per-latent scales).
function projectEncoder(packed: Int8Array, scale: Float32Array, P: Float32Array, dIn: number, dSae: number, rank: number): Float32Array {
  const steps = Math.ceil(dIn / I8_K_STEP);
  const out = new Float32Array(rank * dSae);
  const col = new Float64Array(dIn);
  for (let j = 0; j < dSae; j++) {
    for (let i = 0; i < dIn; i++) col[i] = packed[packedOffset(i, j, steps)] * scale[j];
    for (let a = 0; a < rank; a++) {
      let s = 0;
      for (let i = 0; i < dIn; i++) s += P[i * rank + a] * col[i];
      out[a * dSae + j] = s;
    }
  }
  return out;
}
