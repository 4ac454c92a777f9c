// Places a validated model in a kernel instance's memory: allocates every region
// first (so views stay valid), reads each tensor into place once, checks the
// floats, writes the descriptor and prepares the workspace.
import { ACT, M, NORM, QUANT, type KernelExports } from "./abi.js";
import { fail } from "../base/errors.js";
import { architecture } from "../model/architectures/index.js";
import { LATENT_TILE, I8_K_STEP, roundUp } from "../model/layout.js";
import type { KernelActivation } from "../model/architectures/types.js";
import type { ModelSpec } from "../model/spec.js";
import { offsetShift } from "../model/input-offset.js";

// The descriptor's code for each kernel activation and spec name.
const ACT_CODE: Record<KernelActivation, number> = {
  standard: ACT.RELU, topk: ACT.TOPK, jumprelu: ACT.JUMPRELU, gated: ACT.GATED, groupmax: ACT.GROUPMAX,
};
const QUANT_CODE: Record<ModelSpec["quantization"], number> = { f32: QUANT.F32, int8: QUANT.I8 };
const NORM_CODE: Record<ModelSpec["normalization"], number> = {
  none: NORM.NONE, layer_norm: NORM.LAYER, constant_norm_rescale: NORM.CONSTANT_NORM,
};

export interface PlacedModel {
  /** Descriptor pointer. */
  m: number;
  /** Workspace pointer. */
  ws: number;
  /** Where each tensor lives in wasm memory (per-latent ones padded to whole tiles). */
  regions: Readonly<Record<string, number>>;
}

export type TensorReader = (name: string, into: Uint8Array) => Promise<void>;

// Scales stored per latent besides the architecture's own tensors; all padded to whole tiles in memory.
const PER_LATENT_SCALES = ["W_enc_scale", "screen_W_scale", "x_offset_fold"];
const WASM32_BUDGET = 3.5 * 2 ** 30;

export async function placeModel(
  k: KernelExports,
  spec: ModelSpec,
  tensorBytes: Record<string, number>,
  read: TensorReader,
): Promise<PlacedModel> {
  const arch = architecture(spec.architecture);
  const dSaePad = roundUp(spec.dSae, LATENT_TILE);
  const int8 = spec.quantization === "int8";
  const regions: Record<string, number> = {};
  const sizes: Record<string, number> = {};
  const perLatent = new Set([...PER_LATENT_SCALES, ...arch.latentTensors]);
  for (const [name, bytes] of Object.entries(tensorBytes)) sizes[name] = perLatent.has(name) ? dSaePad * 4 : bytes;
  for (const name of arch.derivedTensors ?? []) sizes[name] = dSaePad * 4;
  sizes.zsum = int8 ? dSaePad * 4 : 0;
  sizes.qerr = int8 ? dSaePad * 4 : 0; // rescoring bounds, filled by model_prepare
  sizes.rerr = spec.encoderResidual ? dSaePad * 4 : 0; // their weight terms with the residual plane, likewise
  sizes.screen_zsum = spec.screen ? dSaePad * 4 : 0;
  sizes.screen_m = spec.screen ? M.BYTES : 0;
  sizes.x_shift = spec.xOffset ? spec.dIn * 4 : 0;
  sizes.bias_folded = spec.xOffset ? dSaePad * 4 : 0;
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  if (total > WASM32_BUDGET) {
    fail("MODEL_UNSUPPORTED", `model needs ${(total / 2 ** 30).toFixed(2)} GiB of wasm memory, more than a wasm32 module can address`);
  }

  const m = wasmAlloc(k, M.BYTES);
  for (const [name, size] of Object.entries(sizes)) regions[name] = size > 0 ? wasmAlloc(k, size) : 0;
  const u8 = () => new Uint8Array(k.memory.buffer);
  // Zero what the tensor reads will not overwrite (padding, derived regions); touching 36 MB twice
  // would add to load time, which page faults on fresh memory already dominate.
  for (const [name, size] of Object.entries(sizes)) if (size > 0) u8().fill(0, regions[name] + (tensorBytes[name] ?? 0), regions[name] + size);
  for (const [name, bytes] of Object.entries(tensorBytes)) {
    await read(name, new Uint8Array(k.memory.buffer, regions[name], bytes));
  }

  checkPadding(new Uint8Array(k.memory.buffer, regions.W_enc_packed, tensorBytes.W_enc_packed), spec);
  if (spec.encoderResidual) checkRowPadding(new Uint8Array(k.memory.buffer, regions.W_enc_residual, tensorBytes.W_enc_residual), spec.dIn, "W_enc_residual");
  const screen = spec.screen;
  if (screen && "bits" in screen) checkNibblePadding(new Uint8Array(k.memory.buffer, regions.screen_W4_packed, tensorBytes.screen_W4_packed), spec);
  else if (screen) checkPadding(new Uint8Array(k.memory.buffer, regions.screen_W_packed, tensorBytes.screen_W_packed), { ...spec, dIn: screen.rank });
  for (const [name, bytes] of Object.entries(tensorBytes)) {
    if (int8 && (name === "W_enc_packed" || name === "W_enc_residual" || name === "W_dec" || name === "screen_W_packed" || name === "screen_W4_packed")) continue;
    const bad = k.find_nonfinite_f32(regions[name], bytes / 4);
    if (bad >= 0) fail("MODEL_INVALID", `tensor "${name}" has a non-finite value at flat index ${bad}`);
  }
  const f32 = (name: string, count: number) => new Float32Array(k.memory.buffer, regions[name], count);
  for (const name of ["W_enc_scale", "W_dec_scale", "screen_W_scale"]) {
    if (!regions[name]) continue;
    const s = f32(name, spec.dSae);
    const neg = s.findIndex((v) => v < 0);
    if (neg >= 0) fail("MODEL_INVALID", `tensor "${name}" has a negative scale at latent ${neg}`);
  }
  arch.prepare?.((name) => f32(name, spec.dSae), spec.dSae);
  const slot = (name: string | undefined) => (name ? regions[name]! : 0);
  if (spec.xOffset) foldOffset(k, spec, regions, slot(arch.slots.bias));
  const bias = spec.xOffset ? regions.bias_folded : slot(arch.slots.bias);
  const d = new DataView(k.memory.buffer, m, M.BYTES);
  const set = (off: number, v: number) => d.setInt32(off, v, true);
  set(M.D_IN, spec.dIn);
  set(M.D_IN_PAD, roundUp(spec.dIn, I8_K_STEP));
  set(M.D_SAE, spec.dSae);
  set(M.D_SAE_PAD, dSaePad);
  set(M.ACT, ACT_CODE[arch.activation]);
  set(M.K, spec.k);
  set(M.QUANT, QUANT_CODE[spec.quantization]);
  set(M.W_ENC, regions.W_enc_packed);
  set(M.ENC_SCALE, regions.W_enc_scale ?? 0);
  set(M.ENC_ZSUM, regions.zsum);
  set(M.ENC_QERR, regions.qerr);
  set(M.ENC_RESID, regions.W_enc_residual ?? 0);
  set(M.ENC_RERR, regions.rerr);
  set(M.B_ENC, bias);
  set(M.THRESH, slot(arch.slots.threshold));
  set(M.W_DEC, regions.W_dec);
  set(M.DEC_SCALE, regions.W_dec_scale ?? 0);
  set(M.B_DEC, regions.b_dec);
  set(M.X_SHIFT, spec.xOffset ? regions.x_shift : spec.applyBDecToInput ? regions.b_dec : 0);
  set(M.NORM, NORM_CODE[spec.normalization]);
  set(M.MAG_SCALE, slot(arch.slots.magScale));
  set(M.MAG_BIAS, slot(arch.slots.magBias));
  set(M.D_OUT, spec.dOut);
  set(M.W_SKIP, regions.W_skip ?? 0);
  if (screen) {
    // The screen is a TopK "encoder" keeping `pool` (assembly/screen.ts): int4 over the model's
    // own row, or int8 of width rank over the projected row.
    const int4 = "bits" in screen;
    set(M.SCREEN, regions.screen_m);
    set(M.SCREEN_P, regions.screen_P ?? 0);
    const sd = new DataView(k.memory.buffer, regions.screen_m, M.BYTES);
    const put = (off: number, v: number) => sd.setInt32(off, v, true);
    put(M.D_IN, int4 ? spec.dIn : screen.rank);
    put(M.D_IN_PAD, int4 ? roundUp(spec.dIn, I8_K_STEP) : screen.rank);
    put(M.D_SAE, spec.dSae);
    put(M.D_SAE_PAD, dSaePad);
    put(M.ACT, ACT_CODE.topk);
    put(M.K, screen.pool);
    put(M.QUANT, int4 ? QUANT.I4 : QUANT_CODE.int8);
    put(M.W_ENC, int4 ? regions.screen_W4_packed : regions.screen_W_packed);
    put(M.ENC_SCALE, regions.screen_W_scale);
    put(M.ENC_ZSUM, regions.screen_zsum);
    put(M.B_ENC, bias);
    put(M.D_OUT, spec.dIn);
  }
  k.model_prepare(m);
  return { m, ws: wasmAlloc(k, k.workspace_bytes(m)), regions };
}

// Offset folding (int8 with x_offset μ): the kernel subtracts s = f32(b_dec + μ) (or μ), and the
// bias gains the model's x_offset_fold, W_encᵀ(s − b_dec) summed by the quantizer from the f32 weights.
function foldOffset(k: KernelExports, spec: ModelSpec, regions: Record<string, number>, biasAt: number): void {
  const { dIn, dSae } = spec;
  const buf = k.memory.buffer;
  const { shift } = offsetShift(new Float32Array(buf, regions.x_offset, dIn), spec.applyBDecToInput ? new Float32Array(buf, regions.b_dec, dIn) : undefined);
  new Float32Array(buf, regions.x_shift, dIn).set(shift);
  const bias = new Float32Array(buf, biasAt, dSae);
  const fold = new Float32Array(buf, regions.x_offset_fold, dSae);
  new Float32Array(buf, regions.bias_folded, dSae).set(bias.map((b, j) => b + fold[j]));
}

/** placeModel for tensors already in memory (built models, the self-test's tiny model). */
export function placeTensors(k: KernelExports, spec: ModelSpec, tensors: Readonly<Record<string, ArrayBufferView>>): Promise<PlacedModel> {
  const sizes = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.byteLength]));
  return placeModel(k, spec, sizes, async (name, into) => {
    const t = tensors[name]!;
    into.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  });
}

/** Allocates in the instance's heap; a failed memory.grow becomes a typed error. */
export function wasmAlloc(k: KernelExports, bytes: number): number {
  const ptr = k.alloc(bytes) >>> 0; // addresses above 2 GiB come back as negative i32
  if (ptr === 0) fail("MODEL_UNSUPPORTED", `out of wasm memory allocating ${bytes} bytes (a wasm32 module addresses at most 4 GiB)`);
  return ptr;
}

// Rows of whole int8 steps (one per latent) must be zero past d_in.
function checkRowPadding(rows: Uint8Array, dIn: number, name: string): void {
  const width = roundUp(dIn, I8_K_STEP);
  if (width === dIn) return;
  for (let off = 0; off < rows.length; off += width) {
    const bad = rows.subarray(off + dIn, off + width).findIndex((v) => v !== 0);
    if (bad >= 0) fail("MODEL_INVALID", `${name} has a non-zero padding value (latent ${off / width}, dim ${dIn + bad})`);
  }
}

// The int4 screen's padding nibbles (latents past d_sae, dims past d_in) must hold q = 0: 8 in a
// low nibble (stored q + 8), 0 in a high one.
function checkNibblePadding(packed: Uint8Array, spec: ModelSpec): void {
  const { dIn, dSae } = spec;
  const steps = Math.ceil(dIn / I8_K_STEP);
  const tiles = Math.ceil(dSae / LATENT_TILE);
  for (let b = 0; b < tiles; b++) {
    if (b < tiles - 1 && dIn % I8_K_STEP === 0) continue;
    for (let c = 0; c < steps; c++) {
      for (let l = 0; l < LATENT_TILE; l++) {
        const base = ((b * steps + c) * 2 + (l >> 1)) * I8_K_STEP, shift = (l & 1) * 4;
        for (let t = 0; t < I8_K_STEP; t++) {
          const dim = c * I8_K_STEP + t;
          if ((b * LATENT_TILE + l >= dSae || dim >= dIn) && ((packed[base + t] >> shift) & 15) !== (shift ? 0 : 8)) {
            fail("MODEL_INVALID", `screen_W4_packed has a non-zero padding value (tile ${b}, lane ${l}, dim ${dim})`);
          }
        }
      }
    }
  }
}

// The spec's padding slots (latents past d_sae, int8 dims past d_in) must be zero.
function checkPadding(packed: Uint8Array, spec: ModelSpec): void {
  const { dIn, dSae } = spec;
  const tiles = Math.ceil(dSae / LATENT_TILE);
  const int8 = spec.quantization === "int8";
  const steps = Math.ceil(dIn / I8_K_STEP);
  const perTile = int8 ? steps * LATENT_TILE * I8_K_STEP : dIn * LATENT_TILE * 4;
  for (let b = 0; b < tiles; b++) {
    const lastTile = b === tiles - 1;
    if (!lastTile && (!int8 || dIn % I8_K_STEP === 0)) continue;
    const tile = packed.subarray(b * perTile, (b + 1) * perTile);
    for (let off = 0; off < tile.length; off++) {
      if (tile[off] === 0) continue;
      let lane: number, dim: number;
      if (int8) {
        lane = (off >> 4) & 3;
        dim = (off >> 6) * I8_K_STEP + (off & 15);
      } else {
        lane = (off >> 2) & 3;
        dim = off >> 4;
      }
      if (b * LATENT_TILE + lane >= dSae || dim >= dIn) {
        fail("MODEL_INVALID", `W_enc_packed has a non-zero padding value (tile ${b}, lane ${lane}, dim ${dim})`);
      }
    }
  }
}
