// The descriptor contract, asserted by model_prepare in debug builds (release builds trust the
// host, src/runtime/placement.ts, which validates the model file before it writes one).
import {
  mi, mp, M_D_IN, M_D_IN_PAD, M_D_SAE, M_D_SAE_PAD, M_ACT, M_K, M_QUANT, M_NORM, M_W_ENC, M_ENC_SCALE, M_ENC_ZSUM, M_ENC_QERR, M_ENC_RESID, M_ENC_RERR,
  M_B_ENC, M_THRESH, M_W_DEC, M_DEC_SCALE, M_B_DEC, M_MAG_SCALE, M_MAG_BIAS, M_SCREEN, M_BYTES,
  ACT_TOPK, ACT_JUMPRELU, ACT_GATED, ACT_GROUPMAX, QUANT_I8, QUANT_I4, QUANT_F32, NORM_CONSTANT_NORM,
} from "./model";

@inline function aligned(p: usize): bool {
  return p != 0 && (p & 15) == 0;
}

// Per-latent values past d_sae must be zero: pad lanes then compute 0 and never raise the overflow flag.
function padsZero(v: usize, dSae: i32, dSaePad: i32): bool {
  for (let j = dSae; j < dSaePad; j++) if (load<u32>(v + (<usize>j << 2)) != 0) return false;
  return true;
}

/** A screen descriptor (screen.ts) has no decoder of its own. */
export function checkModel(m: usize, screen: bool = false): void {
  const dIn = mi(m, M_D_IN), dInPad = mi(m, M_D_IN_PAD), dSae = mi(m, M_D_SAE), dSaePad = mi(m, M_D_SAE_PAD);
  const act = mi(m, M_ACT), k = mi(m, M_K), quant = mi(m, M_QUANT);
  const packed = quant == QUANT_I8 || quant == QUANT_I4; // 16-dim steps, per-latent scales and weight sums
  assert(m != 0 && (m & 3) == 0, "descriptor must be 4-byte aligned");
  assert(load<i32>(m + M_BYTES - 4) == 0, "the descriptor's reserved field must be zero");
  assert(dIn > 0 && dSae > 0, "needs d_in > 0 and d_sae > 0");
  assert(dIn <= dInPad && (!packed || ((dInPad & 15) == 0 && dInPad - dIn < 16)), "d_in_pad must be d_in rounded up to 16 (int8, int4)");
  assert(dSae <= dSaePad && (dSaePad & 3) == 0 && dSaePad - dSae < 4, "d_sae_pad must be d_sae rounded up to 4");
  assert(act >= 0 && act <= ACT_GROUPMAX && (quant == QUANT_F32 || quant == QUANT_I8 || (screen && quant == QUANT_I4)), "unknown activation or quantization code (int4 is for screens)");
  assert(mi(m, M_NORM) >= 0 && mi(m, M_NORM) <= NORM_CONSTANT_NORM, "unknown normalization code");
  assert((act != ACT_TOPK && act != ACT_GROUPMAX) || (k > 0 && k <= dSae), "TopK and GroupMax need 0 < k <= d_sae");
  assert(act != ACT_GROUPMAX || dSae % k == 0, "GroupMax groups must divide d_sae");
  assert(aligned(mp(m, M_W_ENC)) && aligned(mp(m, M_B_ENC)), "W_enc and b_enc must be 16-byte aligned");
  assert(padsZero(mp(m, M_B_ENC), dSae, dSaePad), "b_enc must be zero past d_sae");
  if (packed) {
    assert(aligned(mp(m, M_ENC_SCALE)) && aligned(mp(m, M_ENC_ZSUM)), "int8 and int4 scales and weight sums must be 16-byte aligned");
    assert(padsZero(mp(m, M_ENC_SCALE), dSae, dSaePad), "W_enc scales must be zero past d_sae");
  }
  if (quant == QUANT_I8) {
    assert(mp(m, M_ENC_QERR) == 0 || (aligned(mp(m, M_ENC_QERR)) && padsZero(mp(m, M_ENC_QERR), dSae, dSaePad)), "rescoring bounds must be 16-byte aligned and zero past d_sae");
    assert(mp(m, M_ENC_RESID) == 0 || (aligned(mp(m, M_ENC_RESID)) && aligned(mp(m, M_ENC_RERR)) && padsZero(mp(m, M_ENC_RERR), dSae, dSaePad)), "the residual plane and its bound terms must be 16-byte aligned, the terms zero past d_sae");
  } else {
    assert(mp(m, M_ENC_RESID) == 0, "a residual plane is for int8 models only");
  }
  if (act == ACT_JUMPRELU) assert(aligned(mp(m, M_THRESH)), "JumpReLU thresholds must be 16-byte aligned");
  if (act == ACT_GATED) assert(aligned(mp(m, M_MAG_SCALE)) && aligned(mp(m, M_MAG_BIAS)), "gated magnitudes must be 16-byte aligned");
  if (screen) return;
  assert(mp(m, M_W_DEC) != 0 && mp(m, M_B_DEC) != 0, "needs W_dec and b_dec");
  assert(quant != QUANT_I8 || mp(m, M_DEC_SCALE) != 0, "int8 needs W_dec scales");
  const s = mp(m, M_SCREEN);
  if (s) {
    assert(act == ACT_TOPK && quant == QUANT_I8, "a screen needs an int8 TopK model");
    checkModel(s, true);
  }
}
