// int8 TopK with a screen (sae-edge screen): a cheaper pass ranks every latent and only its best
// `pool` candidates are rescored with W_enc itself. Two kinds:
// - low-rank: the row's 15-bit activations z are projected on the screen's `rank` directions P, and
//   an int8 "encoder" of width rank holding P^T W_enc scores the short row (about rank/d_in of the work);
// - int4: the int8 kernels' own quantized row against W_enc in 4 bits (enc_i4_1x4c16.ts), half the
//   bytes of the int8 pass, for rows memory-bound on the encoder's size.
import { mi, mp, M_D_IN, M_D_SAE, M_K, M_QUANT, M_SCREEN, M_SCREEN_P, QUANT_I4 } from "./model";
import { wsXf, wsXq, wsKeys, wsScreenF, wsScreenQ, wsSel, wsEpi, wsRow, wsScreenRow, wsLane, wsTileTmp, laneBytes, prepareLanes, selectionCapacity } from "./workspace";
import { prepareRow, xqLayout, XQ_I8 } from "./quantize_x";
import { encodePass, encodePassRows } from "./enc_pass";
import { Epilogue, epilogueBegin, epilogueEnd, OUT_SELECT } from "./epilogue";
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
export function screenRow(m: usize, ws: usize, x: usize, fused: bool): void {
  const s = mp(m, M_SCREEN);
  const e = screenBegin(m, s, ws);
  if (mi(s, M_QUANT) == QUANT_I4) int4Pass(m, s, ws, x, e, fused);
  else lowRankPass(m, s, ws, x, e, fused);
  epilogueEnd(e);
}

/** screenRow for rows x[0..rows) (a multiple of 4) in the first lanes, int4 screens only (workspace.ts laneCount). */
export function screenRows(m: usize, ws: usize, x: usize, rows: i32, fused: bool): void {
  const s = mp(m, M_SCREEN);
  if (!ASC_NO_ASSERT) assert(mi(s, M_QUANT) == QUANT_I4, "only int4 screens encode several rows at a time");
  for (let r = 0; r < rows; r++) screenBegin(m, s, wsLane(m, ws, r));
  prepareLanes(m, ws, x, rows);
  encodePassRows(s, wsXq(m, ws), wsEpi(ws), wsRow(ws), laneBytes(m), rows, wsTileTmp(m, ws), fused);
  for (let r = 0; r < rows; r++) epilogueEnd(wsEpi(wsLane(m, ws, r)));
}

// The lane's selection and epilogue for the screen: any screen score may make the pool (the
// screen is approximate, rescoring applies the ReLU).
function screenBegin(m: usize, s: usize, ws: usize): Epilogue {
  const sel = wsSel(ws), e = wsEpi(ws);
  selectBegin(sel, wsKeys(m, ws), selectionCapacity(m), mi(s, M_K), -Infinity);
  epilogueBegin(e, sel, OUT_SELECT, 0, mi(m, M_D_SAE), 0);
  return e;
}

function int4Pass(m: usize, s: usize, ws: usize, x: usize, e: Epilogue, fused: bool): void {
  const xq = wsXq(m, ws);
  encodePass(s, xq, prepareRow(m, x, wsXf(m, ws), xq, xqLayout(), wsRow(ws)), e, fused);
}

function lowRankPass(m: usize, s: usize, ws: usize, x: usize, e: Epilogue, fused: bool): void {
  const rank = mi(s, M_D_IN);
  const xs = prepareRow(m, x, wsXf(m, ws), wsXq(m, ws), XQ_I8, wsRow(ws));
  const proj = wsScreenF(m, ws), pq = wsScreenQ(m, ws), projRow = wsScreenRow(ws);
  if (ASC_FEATURE_SIMD) proj_f32_i16__wasmsimd(mp(m, M_SCREEN_P), wsXf(m, ws), mi(m, M_D_IN), rank, xs, proj);
  else proj_f32_i16__scalar(mp(m, M_SCREEN_P), wsXf(m, ws), mi(m, M_D_IN), rank, xs, proj);
  // The projected row is encoded like any input (in place: prepareRow reads ahead of its writes).
  encodePass(s, pq, prepareRow(s, proj, proj, pq, xqLayout(), projRow), e, fused);
}
