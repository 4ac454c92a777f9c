// Builds the low-rank screen of an int8 TopK model (docs/model-format.md, "screen"): the top
// `rank` principal directions P of sample inputs x' (subspace iteration on their second moment,
// float64) and the int8 encoder of width rank holding P^T W_enc, from the model's own weights.
import { I8_K_STEP, packedOffset } from "./layout.js";
import { fail } from "../base/errors.js";
import { checkScreen, expectedTensors, specFromHeader, specToMetadata, type Screen } from "./spec.js";
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
  const screen: Screen = checkScreen({ rank: options.rank, pool: options.pool ?? Math.min(4 * k, dSae) }, spec);
  if (samples.length === 0 || samples.length % dIn !== 0) fail("INPUT_SHAPE", `samples must be rows of d_in=${dIn} values`);
  const f32 = (name: string) => new Float32Array(st.tensor(name).slice().buffer);
  const P = principalDirections(samples, dIn, spec.applyBDecToInput ? f32("b_dec") : null, screen.rank, options.seed ?? 0);
  const Ws = projectEncoder(new Int8Array(st.tensor("W_enc_packed").slice().buffer), f32("W_enc_scale"), P, dIn, dSae, screen.rank);
  const q = quantizeEncoder(Ws, screen.rank, dSae);
  const out = { ...spec, screen };
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, { dtype, shape }] of Object.entries(expectedTensors(out))) {
    const data = name === "screen_P" ? P : name === "screen_W_packed" ? q.packed : name === "screen_W_scale" ? q.scale : st.tensor(name);
    tensors[name] = { dtype, shape, data };
  }
  return serializeSafetensors(tensors, specToMetadata(out));
}

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
