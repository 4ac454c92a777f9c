// int8 TopK with a low-rank screen (sae-edge screen): the row's 15-bit activations z are
// projected on the screen's `rank` directions P, the screen descriptor (an int8 "encoder" of
// width rank holding P^T W_enc) ranks every latent from that short row, and only its best
// `pool` candidates are rescored with W_enc itself. About rank/d_in of the GEMV's work.
import { mi, mp, M_D_IN, M_D_SAE, M_K, M_SCREEN, M_SCREEN_P } from "./model";
import { wsXf, wsXq, wsKeys, wsScreenF, wsScreenQ, wsSel, wsEpi, wsRow, wsScreenRow, selectionCapacity } from "./workspace";
import { prepareRow, XQ_I8, XQ_I16, XQ_U7 } from "./quantize_x";
import { enc_i8_1x4c16__scalar, enc_i8_1x4c16__wasmsimd_dot16, enc_i8_1x4c16__wasmrelaxed_dot8u7 } from "./enc_i8_1x4c16";
import { epilogueBegin, epilogueEnd, OUT_SELECT } from "./epilogue";
import { selectBegin } from "./select";

// out[a] = (s_x / 256) · Σ_i P[i][a] · z_i, the sum in input order per output (both twins).
export function proj_f32_i16__scalar(p: usize, z: usize, dIn: i32, rank: i32, xs: f32, out: usize): void {
  memory.fill(out, 0, <usize>rank << 2);
  for (let i = 0; i < dIn; i++) {
    const zi = <f32>load<i16>(z + (<usize>i << 1));
    const row = p + ((<usize>i * <usize>rank) << 2);
    for (let a = 0; a < rank; a++) {
      const o = out + (<usize>a << 2);
      store<f32>(o, load<f32>(o) + load<f32>(row + (<usize>a << 2)) * zi);
    }
  }
  const s = xs * 0.00390625;
  for (let a = 0; a < rank; a++) store<f32>(out + (<usize>a << 2), load<f32>(out + (<usize>a << 2)) * s);
}

export function proj_f32_i16__wasmsimd(p: usize, z: usize, dIn: i32, rank: i32, xs: f32, out: usize): void {
  memory.fill(out, 0, <usize>rank << 2);
  const bytes = <usize>rank << 2;
  for (let i = 0; i < dIn; i++) {
    const zi = f32x4.splat(<f32>load<i16>(z + (<usize>i << 1)));
    const row = p + <usize>i * bytes;
    for (let a: usize = 0; a < bytes; a += 16) v128.store(out + a, f32x4.add(v128.load(out + a), f32x4.mul(v128.load(row + a), zi)));
  }
  const s = f32x4.splat(xs * 0.00390625);
  for (let a: usize = 0; a < bytes; a += 16) v128.store(out + a, f32x4.mul(v128.load(out + a), s));
}

/** Leaves the screened candidates in the selection (the caller rescores them); xf holds the row's z. */
export function screenRow(m: usize, ws: usize, x: usize): void {
  const s = mp(m, M_SCREEN);
  const rank = mi(s, M_D_IN);
  const xs = prepareRow(m, x, wsXf(m, ws), wsXq(m, ws), XQ_I8, wsRow(ws));
  const proj = wsScreenF(m, ws), pq = wsScreenQ(m, ws);
  if (ASC_FEATURE_SIMD) proj_f32_i16__wasmsimd(mp(m, M_SCREEN_P), wsXf(m, ws), mi(m, M_D_IN), rank, xs, proj);
  else proj_f32_i16__scalar(mp(m, M_SCREEN_P), wsXf(m, ws), mi(m, M_D_IN), rank, xs, proj);
  // Any screen score may make the pool: the screen is approximate, rescoring applies the ReLU.
  const sel = wsSel(ws), e = wsEpi(ws), projRow = wsScreenRow(ws);
  selectBegin(sel, wsKeys(m, ws), selectionCapacity(m), mi(s, M_K), -Infinity);
  epilogueBegin(e, sel, OUT_SELECT, 0, mi(m, M_D_SAE), 0);
  // The projected row is encoded like any input (in place: prepareRow reads ahead of its writes).
  if (ASC_FEATURE_RELAXED_SIMD) enc_i8_1x4c16__wasmrelaxed_dot8u7(s, pq, prepareRow(s, proj, proj, pq, XQ_U7, projRow), e);
  else if (ASC_FEATURE_SIMD) enc_i8_1x4c16__wasmsimd_dot16(s, pq, prepareRow(s, proj, proj, pq, XQ_I16, projRow), e);
  else enc_i8_1x4c16__scalar(s, pq, prepareRow(s, proj, proj, pq, XQ_I8, projRow), e);
  epilogueEnd(e);
}
