// Steering and ablation: edit chosen latents of the codes and decode. With the
// error term (SAELens' use_error_term) the output is x + (SAE_edited(x) − SAE(x)),
// so with no edits it is x exactly and an edit moves it by (Δz_j) × W_dec[j].
import { fail } from "../base/errors.js";
import type { Sae, SparseCodes } from "./sae.js";

export type LatentEdit =
  | { latent: number; op: "zero" }
  | { latent: number; op: "set" | "scale" | "add"; value: number }
  | { latent: number; op: "clamp"; min: number; max: number };

export interface SteerOptions {
  /** Keep what the SAE cannot reconstruct (default true). */
  errorTerm?: boolean;
}

function apply(z: number, e: LatentEdit): number {
  switch (e.op) {
    case "zero": return 0;
    case "set": return e.value;
    case "scale": return z * e.value;
    case "add": return z + e.value;
    case "clamp": return Math.min(Math.max(z, e.min), e.max);
  }
}

function checkEdits(edits: readonly LatentEdit[], dSae: number): void {
  for (const e of edits) {
    if (!Number.isInteger(e.latent) || e.latent < 0 || e.latent >= dSae) fail("INVALID_ARGUMENT", `latent ${e.latent} is outside 0..${dSae - 1}`);
    const nums = e.op === "clamp" ? [e.min, e.max] : e.op === "zero" ? [] : [e.value];
    if (!["zero", "set", "scale", "add", "clamp"].includes(e.op)) fail("INVALID_ARGUMENT", `unknown edit "${(e as { op: string }).op}"`);
    if (nums.some((v) => !Number.isFinite(v))) fail("INVALID_ARGUMENT", `edit ${e.op} of latent ${e.latent} needs finite numbers`);
    if (e.op === "clamp" && e.min > e.max) fail("INVALID_ARGUMENT", `clamp of latent ${e.latent}: min ${e.min} > max ${e.max}`);
  }
}

/** The codes with the edits applied to every row, in order (latents an edit makes non-zero are added). */
export function editCodes(codes: SparseCodes, edits: readonly LatentEdit[]): SparseCodes {
  checkEdits(edits, codes.dSae);
  const idx: number[] = [], val: number[] = [];
  const rowOffsets = new Uint32Array(codes.rows + 1);
  for (let r = 0; r < codes.rows; r++) {
    const row = new Map<number, number>();
    for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) row.set(codes.indices[e], codes.values[e]);
    for (const ed of edits) row.set(ed.latent, apply(row.get(ed.latent) ?? 0, ed));
    for (const [j, v] of row) {
      if (v !== 0) {
        idx.push(j);
        val.push(v);
      }
    }
    rowOffsets[r + 1] = idx.length;
  }
  return { rows: codes.rows, dSae: codes.dSae, rowOffsets, indices: Uint32Array.from(idx), values: Float32Array.from(val), ...(codes.rowNorm ? { rowNorm: codes.rowNorm } : {}) };
}

/** Rows of x encoded, edited and decoded (n × d_in). */
export function steer(sae: Sae, x: Float32Array, edits: readonly LatentEdit[], options: SteerOptions = {}): Float32Array {
  const codes = sae.encode(x);
  const edited = sae.decode(editCodes(codes, edits));
  if (options.errorTerm === false) return edited;
  if (sae.info.dOut !== sae.info.dIn) fail("INVALID_ARGUMENT", "the error term needs d_out = d_in; use errorTerm: false for a transcoder");
  const clean = sae.decode(codes);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + (edited[i] - clean[i]);
  return out;
}

/** coefficient × W_dec[latent] (the decoder row as the model stores it, dequantized; in the normalized space for models with input normalization). */
export function steeringVector(sae: Sae, latent: number, coefficient = 1): Float32Array {
  checkEdits([{ latent, op: "set", value: coefficient }], sae.info.dSae);
  const one = sae.decode({ rows: 1, dSae: sae.info.dSae, rowOffsets: new Uint32Array([0, 1]), indices: new Uint32Array([latent]), values: new Float32Array([coefficient]) });
  const bias = sae.decode({ rows: 1, dSae: sae.info.dSae, rowOffsets: new Uint32Array([0, 0]), indices: new Uint32Array(0), values: new Float32Array(0) });
  return one.map((v, i) => v - bias[i]);
}
