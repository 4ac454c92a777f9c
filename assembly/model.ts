// The ABI's one source: scripts/gen-abi.mjs generates src/runtime/abi.ts from this file and
// the exports of index.ts. Bump ABI_VERSION whenever either changes incompatibly.
export const ABI_VERSION: i32 = 6;

// The model descriptor: 28 little-endian i32 fields (the last one reserved, zero) the host
// writes into linear memory and passes to every export as `m`.
export const M_D_IN: usize = 0;      // input width
export const M_D_IN_PAD: usize = 4;  // d_in rounded up to 16 (int8 k-chunk)
export const M_D_SAE: usize = 8;     // number of latents
export const M_D_SAE_PAD: usize = 12; // d_sae rounded up to 4 (latent tile)
export const M_ACT: usize = 16;      // ACT_* below
export const M_K: usize = 20;        // TopK k (0 otherwise)
export const M_QUANT: usize = 24;    // QUANT_* below
export const M_W_ENC: usize = 28;    // packed encoder weights
export const M_ENC_SCALE: usize = 32; // f32[d_sae_pad] per-latent weight scales (int8)
export const M_ENC_ZSUM: usize = 36; // i32[d_sae_pad] per-latent weight sums (int8; filled by model_prepare)
export const M_B_ENC: usize = 40;    // f32[d_sae_pad]
export const M_THRESH: usize = 44;   // f32[d_sae_pad] max(theta, 0) (JumpReLU)
export const M_W_DEC: usize = 48;    // decoder rows [d_sae][d_in], int8 or f32
export const M_DEC_SCALE: usize = 52; // f32[d_sae] per-row decoder scales (int8)
export const M_B_DEC: usize = 56;    // f32[d_in], added on decode
export const M_X_SHIFT: usize = 60;  // f32[d_in] subtracted before encode, or 0
export const M_NORM: usize = 64;     // NORM_* below: per-row input normalization
export const M_MAG_SCALE: usize = 68; // f32[d_sae_pad] gated: exp(r_mag)
export const M_MAG_BIAS: usize = 72;  // f32[d_sae_pad] gated: b_mag − exp(r_mag)·b_gate
export const M_D_OUT: usize = 76;    // decoder output width (d_in for SAEs; transcoders differ)
export const M_W_SKIP: usize = 80;   // f32[d_out][d_in] skip connection added by forward/score, or 0
export const M_SCREEN: usize = 84;   // int8 TopK screen: its own descriptor (K = pool), or 0: low-rank (QUANT_I8, d_in = rank, W_ENC = P^T W_enc packed) or int4 (QUANT_I4, W_ENC = int4 W_enc packed, ENC_ZSUM = nibble sums)
export const M_SCREEN_P: usize = 88; // f32[d_in][rank] projection P of the screen
export const M_ENC_QERR: usize = 92; // f32[d_sae_pad] int8 near-boundary rescoring: the bound per unit of s_x (filled by model_prepare), or 0 for none
export const M_ENC_RESID: usize = 96; // i8[d_sae][d_in_pad]: the residual plane r (w ≈ scale·(q + r/254)), one row per latent, that rescoring reads, or 0 for none
export const M_ENC_RERR: usize = 100; // f32[d_sae_pad] with the residual plane: the bound's weight term per unit of s_x·‖y‖ (filled by model_prepare)
export const M_BYTES: usize = 112;   // descriptor size

export const NORM_NONE: i32 = 0;
export const NORM_LAYER: i32 = 1;          // (x − mean) / (std (N−1) + 1e-5); decode: x̂·std + mean
export const NORM_CONSTANT_NORM: i32 = 2;  // x · sqrt(d_in)/‖x‖; decode: x̂ · ‖x‖/sqrt(d_in)

export const ACT_RELU: i32 = 0;
export const ACT_TOPK: i32 = 1;
export const ACT_JUMPRELU: i32 = 2;
// Gated (Rajamanoharan et al. 2024): b_enc holds b_gate, so h is the gate pre-activation π;
// a latent is active where π > 0, with value ReLU(exp(r_mag)·π + b_mag − exp(r_mag)·b_gate).
export const ACT_GATED: i32 = 3;
// GroupMax (sparsify): latents form k consecutive groups of d_sae/k; each group keeps its
// largest ReLU value (ties: lower index).
export const ACT_GROUPMAX: i32 = 4;

export const QUANT_F32: i32 = 0;
export const QUANT_I8: i32 = 1;
export const QUANT_I4: i32 = 2; // screen descriptors only (enc_i4_1x4c16.ts)

// Activations are quantized per row to [-63, 63] so that the relaxed build can
// feed them as the i7 operand (q + 64 in [1, 127]) and stay bit-identical.
export const X_QMAX: f32 = 63;

@inline export function mi(m: usize, field: usize): i32 {
  return load<i32>(m + field);
}
@inline export function mp(m: usize, field: usize): usize {
  return <usize>load<u32>(m + field);
}
