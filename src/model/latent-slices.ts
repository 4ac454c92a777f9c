// Cuts a model into latent slices for a latent-split pool (src/pool/latent-split.ts): slice
// [begin, end) is a model of its own over those latents (its encoder columns, biases, thresholds,
// scales and residual rows), with the same input side (b_dec, x_offset), so every slice computes
// each of its latents' values with the same bits as the whole model. Only one slice carries the
// decoder, so the slices together hold one model's worth of weights.
import { fail } from "../base/errors.js";
import type { ByteSource } from "../base/byte-source.js";
import type { SafetensorsHeader } from "../format/safetensors.js";
import { architecture } from "./architectures/index.js";
import { LATENT_TILE } from "./layout.js";
import type { ModelSpec } from "./spec.js";

export interface LatentSlice {
  /** The slice's first latent in the whole model. */
  begin: number;
  /** The slice as a model: d_sae its width, k its share (TopK: at most k; GroupMax: its groups). */
  spec: ModelSpec;
  /** Carries the whole decoder (W_dec, its scales, W_skip) besides its encoder slice. */
  decoder: boolean;
  /** Each tensor's bytes: where they are in the model file [offset, length], or [-1, length] for zeros. */
  ranges: Record<string, [number, number]>;
}

// Per-latent tensors besides the architecture's own (spec.ts expectedTensors).
const PER_LATENT = ["W_enc_scale", "x_offset_fold"];
const DECODER = ["W_dec", "W_dec_scale", "W_skip"];
const INPUT_SIDE = ["b_dec", "x_offset"];

/** Why this model cannot be split by latents, or null. */
export function latentSplitRefusal(spec: ModelSpec): string | null {
  return spec.screen ? "a screened model ranks all latents at once" : null;
}

/**
 * Latent ranges for `parts` slices, as equal as whole units allow: a unit is the encoder's tile
 * of 4 latents (its packed layout), and with GroupMax also whole groups.
 */
export function latentRanges(spec: ModelSpec, parts: number): [number, number][] {
  const group = spec.architecture === "groupmax" ? spec.dSae / spec.k : 1;
  const unit = lcm(LATENT_TILE, group);
  const units = Math.ceil(spec.dSae / unit);
  if (parts > units) fail("INVALID_ARGUMENT", `a ${spec.dSae}-latent model splits into at most ${units} latent slices of whole ${unit}-latent units, not ${parts}`);
  const out: [number, number][] = [];
  for (let p = 0, u = 0; p < parts; p++) {
    const next = u + Math.floor(units / parts) + (p < units % parts ? 1 : 0);
    out.push([u * unit, Math.min(spec.dSae, next * unit)]);
    u = next;
  }
  return out;
}

/** The slice [begin, end) of a model (header and spec as readModelHeader gives them): its spec and where its tensors are. */
export function planLatentSlice(header: SafetensorsHeader, spec: ModelSpec, [begin, end]: [number, number], decoder: boolean): LatentSlice {
  const refusal = latentSplitRefusal(spec);
  if (refusal) fail("MODEL_UNSUPPORTED", `cannot split this model by latents: ${refusal}`);
  const arch = architecture(spec.architecture);
  const perLatent = new Set([...PER_LATENT, ...arch.latentTensors]);
  const width = end - begin;
  const ranges: Record<string, [number, number]> = {};
  for (const t of header.tensors) {
    const bytes = t.end - t.begin;
    const at = (from: number, to: number) => (ranges[t.name] = [header.dataOffset + t.begin + from, to - from]);
    if (t.name === "W_enc_packed") {
      // Whole tiles: begin is a multiple of 4, and only the last slice ends inside one.
      const perTile = bytes / Math.ceil(spec.dSae / LATENT_TILE);
      at((begin / LATENT_TILE) * perTile, Math.ceil(end / LATENT_TILE) * perTile);
    } else if (t.name === "W_enc_residual" || perLatent.has(t.name)) {
      at(begin * (bytes / spec.dSae), end * (bytes / spec.dSae));
    } else if (INPUT_SIDE.includes(t.name) || (decoder && DECODER.includes(t.name))) {
      at(0, bytes);
    } else if (!DECODER.includes(t.name)) {
      fail("INTERNAL", `latent slicing does not know tensor "${t.name}"`);
    }
  }
  if (!decoder) {
    // Stand-ins that keep the descriptor's contract (zero scales pass the loader's check); this
    // slice is never asked to decode.
    ranges.W_dec = [-1, 16];
    if (spec.quantization === "int8") ranges.W_dec_scale = [-1, width * 4];
  }
  const k = arch.k ? (spec.architecture === "groupmax" ? (width * spec.k) / spec.dSae : Math.min(spec.k, width)) : 0;
  const { calibration: _c, featureDensity: _f, ...rest } = spec;
  return { begin, spec: { ...rest, dSae: width, k, skip: decoder && spec.skip }, decoder, ranges };
}

/** Fills `into` with a slice's tensor from the model's bytes. */
export async function readSliceTensor(source: ByteSource, slice: LatentSlice, name: string, into: Uint8Array): Promise<void> {
  const [offset] = slice.ranges[name]!;
  if (offset < 0) into.fill(0);
  else await source.read(offset, into);
}

/** A slice's tensors, each in its own buffer (they move to a worker without a copy). */
export async function readLatentSlice(source: ByteSource, slice: LatentSlice): Promise<Record<string, Uint8Array>> {
  const tensors: Record<string, Uint8Array> = {};
  for (const [name, [, bytes]] of Object.entries(slice.ranges)) await readSliceTensor(source, slice, name, (tensors[name] = new Uint8Array(bytes)));
  return tensors;
}

function lcm(a: number, b: number): number {
  let [x, y] = [a, b];
  while (y) [x, y] = [y, x % y];
  return (a / x) * b;
}
