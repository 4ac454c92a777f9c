// Exact f32 encoder GEMV: 4 latents per tile. Packed weights W[b][i][l] (16 bytes
// per input dim), so one splat of x[i] feeds a whole tile. Each latent sums
// w*x in input order in every variant (no FMA), so builds agree bit for bit.
import { mi, mp, M_D_IN, M_D_SAE_PAD, M_W_ENC, M_B_ENC } from "./model";
import { Epilogue, epilogue1, epilogue4 } from "./epilogue";

// The contract both variants rely on (compiled out of release builds).
@inline function checkPreamble(m: usize, xf: usize, e: Epilogue): void {
  if (ASC_NO_ASSERT) return;
  const dSaePad = mi(m, M_D_SAE_PAD);
  assert(m != 0 && (m & 3) == 0, "descriptor must be 4-byte aligned");
  assert(mi(m, M_D_IN) > 0 && dSaePad > 0 && (dSaePad & 3) == 0, "needs d_in > 0 and d_sae_pad a positive multiple of 4");
  assert((mp(m, M_W_ENC) & 15) == 0 && (mp(m, M_B_ENC) & 15) == 0 && (xf & 3) == 0, "W_enc and b_enc must be 16-byte aligned");
  assert(changetype<usize>(e) != 0, "needs an epilogue");
}

export function enc_f32_1x4__scalar(m: usize, xf: usize, e: Epilogue): void {
  checkPreamble(m, xf, e);
  const dIn = mi(m, M_D_IN);
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  const bEnc = mp(m, M_B_ENC);
  let w = mp(m, M_W_ENC);
  for (let b = 0; b < tiles; b++) {
    for (let l = 0; l < 4; l++) {
      let acc: f32 = 0;
      for (let i = 0; i < dIn; i++) {
        acc += load<f32>(w + (<usize>i << 4) + (<usize>l << 2)) * load<f32>(xf + (<usize>i << 2));
      }
      const j = (b << 2) + l;
      epilogue1(e, j, acc + load<f32>(bEnc + (<usize>j << 2)));
    }
    w += <usize>dIn << 4;
  }
}

// Two tiles per pass: two independent add chains hide the add latency.
export function enc_f32_1x4__wasmsimd(m: usize, xf: usize, e: Epilogue): void {
  checkPreamble(m, xf, e);
  const dIn = mi(m, M_D_IN);
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  const bEnc = mp(m, M_B_ENC);
  const tileBytes = <usize>dIn << 4;
  let w = mp(m, M_W_ENC);
  let b = 0;
  for (; b + 2 <= tiles; b += 2) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    const w1 = w + tileBytes;
    for (let i = 0; i < dIn; i++) {
      const xv = v128.load32_splat(xf + (<usize>i << 2));
      const off = <usize>i << 4;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(w + off), xv));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(w1 + off), xv));
    }
    epilogue4(e, b << 2, f32x4.add(a0, v128.load(bEnc + (<usize>b << 4))));
    epilogue4(e, (b + 1) << 2, f32x4.add(a1, v128.load(bEnc + (<usize>(b + 1) << 4))));
    w += tileBytes << 1;
  }
  if (b < tiles) {
    let a0 = f32x4.splat(0);
    for (let i = 0; i < dIn; i++) {
      a0 = f32x4.add(a0, f32x4.mul(v128.load(w + (<usize>i << 4)), v128.load32_splat(xf + (<usize>i << 2))));
    }
    epilogue4(e, b << 2, f32x4.add(a0, v128.load(bEnc + (<usize>b << 4))));
  }
}
