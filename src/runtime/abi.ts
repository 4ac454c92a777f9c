// The kernels' numbers-only ABI as seen from the host (mirror of assembly/model.ts
// and assembly/index.ts). Every export takes and returns plain numbers.
import "./wasm-globals.js";

export interface KernelExports {
  memory: WebAssembly.Memory;
  abi_version(): number;
  kernel_id(): number;
  alloc(bytes: number): number;
  free(ptr: number): void;
  model_prepare(m: number): void;
  workspace_bytes(m: number): number;
  max_codes_per_row(m: number): number;
  find_nonfinite_f32(ptr: number, count: number): number;
  preact(m: number, ws: number, x: number, n: number, out: number): void;
  encode_sparse(m: number, ws: number, x: number, n: number, idx: number, val: number, rowptr: number, cap: number, stats: number): number;
  encode_dense(m: number, ws: number, x: number, n: number, out: number): void;
  decode_sparse(m: number, idx: number, val: number, rowptr: number, n: number, out: number, stats: number): void;
  decode_dense(m: number, z: number, n: number, out: number, stats: number): void;
  score(m: number, ws: number, x: number, n: number, outSq: number, outNorm: number): void;
  overflow_row(): number;
  skip_add(m: number, x: number, n: number, out: number): void;
  // training (f32 models)
  train_shift_rows(x: number, shift: number, n: number, dIn: number, out: number): void;
  train_select(keys: number, cap: number, h: number, n: number, dSae: number, k: number, thresh: number, idx: number, val: number, rowptr: number): void;
  train_preact_f32(wT: number, b: number, xp: number, n: number, dIn: number, dSae: number, out: number): void;
  train_backward_row_t(m: number, wT: number, gEncT: number, gDec: number, gBenc: number, idx: number, val: number, start: number, end: number, extra: number, gx: number, xp: number, gxp: number): void;
  train_decode_nobias(m: number, idx: number, val: number, start: number, end: number, out: number): void;
  adam_f32(p: number, g: number, m: number, v: number, n: number, lrc: number, b1: number, b2: number, eps: number, c2: number): void;
  train_project_decoder_grad(m: number, gDec: number): void;
  train_normalize_decoder(m: number): void;
}

export const ABI_VERSION = 1;

// Model descriptor: i32 field offsets (bytes).
export const M = {
  D_IN: 0,
  D_IN_PAD: 4,
  D_SAE: 8,
  D_SAE_PAD: 12,
  ACT: 16,
  K: 20,
  QUANT: 24,
  W_ENC: 28,
  ENC_SCALE: 32,
  ENC_ZSUM: 36,
  B_ENC: 40,
  THRESH: 44,
  W_DEC: 48,
  DEC_SCALE: 52,
  B_DEC: 56,
  X_SHIFT: 60,
  NORM: 64,
  MAG_SCALE: 68,
  MAG_BIAS: 72,
  D_OUT: 76,
  W_SKIP: 80,
  SCREEN: 84,
  SCREEN_P: 88,
  BYTES: 96,
} as const;

export const ACT_CODE = { standard: 0, topk: 1, jumprelu: 2, gated: 3, groupmax: 4 } as const;
export const QUANT_CODE = { f32: 0, int8: 1 } as const;
export const NORM_CODE = { none: 0, layer_norm: 1, constant_norm_rescale: 2 } as const;

export { LATENT_TILE, I8_K_STEP, roundUp } from "../model/layout.js";
