// Encoding 4 rows at a time (int8 models): the rows are prepared, then every block of
// GROUP_BLOCK latents goes through enc_i8_4x4c16 once and through each row's epilogue and
// selection, whose state is saved between blocks. Each row then ends exactly as the 1-row
// path does (same h, same candidates, same order), so results are bit-identical to it.
import { mi, mp, M_D_IN, M_D_SAE, M_D_SAE_PAD, M_ACT, M_QUANT, M_THRESH, M_MAG_SCALE, M_MAG_BIAS, M_ENC_SCALE, M_B_ENC, M_SCREEN, ACT_JUMPRELU, ACT_TOPK, ACT_GATED, ACT_GROUPMAX, QUANT_I8 } from "./model";
import { GROUP_ROWS, GROUP_BLOCK, wsGroupXf, wsGroupXq, wsGroupXqStride, wsGroupKeys, wsGroupState, wsGroupAcc, selectionCapacity } from "./workspace";
import { prepareRow, rowShift, rowScale, setRowStats, XQ_I8, XQ_I16, XQ_U7 } from "./quantize_x";
import { enc_i8_4x4c16__scalar, enc_i8_4x4c16__wasmsimd_dot16, enc_i8_4x4c16__wasmrelaxed_dot8u7 } from "./enc_i8_4x4c16";
import { epilogueBegin, epilogue1, epilogue4, epiOverflow, epilogueSetOverflow, OUT_SELECT } from "./epilogue";
import { selectBegin, selectSave, selectLoad } from "./select";
import { rescoreCandidates } from "./rescore_i8_1x16";

// State per row (32 bytes): selection (16), overflow flag, x scale, shift, scale.
const ST_OVERFLOW: usize = 16, ST_XS: usize = 20, ST_SHIFT: usize = 24, ST_SCALE: usize = 28;

/** Whether this model's encoding goes through row groups (int8, any activation but GroupMax). */
export function groupable(m: usize): bool {
  return mi(m, M_QUANT) == QUANT_I8 && mi(m, M_ACT) != ACT_GROUPMAX && mp(m, M_SCREEN) == 0;
}

// h = f32(acc) · (s_x · scale_j) + b_j, as enc_i8_1x4c16 computes it.
function epilogueBlock(m: usize, acc: usize, t0: i32, nt: i32, xs: f32): void {
  for (let t = 0; t < nt; t++) {
    const j0 = (t0 + t) << 2;
    const off = <usize>j0 << 2;
    const a = acc + (<usize>t << 4);
    if (ASC_FEATURE_SIMD) {
      const scale = f32x4.mul(f32x4.splat(xs), v128.load(mp(m, M_ENC_SCALE) + off));
      epilogue4(j0, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(v128.load(a)), scale), v128.load(mp(m, M_B_ENC) + off)));
    } else {
      for (let l = 0; l < 4; l++) {
        const o = off + (<usize>l << 2);
        epilogue1(j0 + l, <f32>load<i32>(a + (<usize>l << 2)) * (xs * load<f32>(mp(m, M_ENC_SCALE) + o)) + load<f32>(mp(m, M_B_ENC) + o));
      }
    }
  }
}

/** Encodes rows x[0..4) into their selections; finish each with groupRow. */
export function encodeGroup(m: usize, ws: usize, x: usize): void {
  const dIn = <usize>mi(m, M_D_IN);
  const act = mi(m, M_ACT);
  const keep = act == ACT_TOPK ? rescoreCandidates(m) : mi(m, M_D_SAE);
  const layout = ASC_FEATURE_RELAXED_SIMD ? XQ_U7 : ASC_FEATURE_SIMD ? XQ_I16 : XQ_I8;
  for (let r = 0; r < GROUP_ROWS; r++) {
    const xs = prepareRow(m, x + ((<usize>r * dIn) << 2), wsGroupXf(m, ws, r), wsGroupXq(m, ws, r), layout);
    const st = wsGroupState(m, ws, r);
    selectBegin(wsGroupKeys(m, ws, r), selectionCapacity(m), keep);
    selectSave(st);
    store<i32>(st, 0, ST_OVERFLOW);
    store<f32>(st, xs, ST_XS);
    store<f32>(st, rowShift, ST_SHIFT);
    store<f32>(st, rowScale, ST_SCALE);
  }
  const gated = act == ACT_GATED;
  epilogueBegin(OUT_SELECT, 0, mi(m, M_D_SAE), act == ACT_JUMPRELU ? mp(m, M_THRESH) : 0, gated ? mp(m, M_MAG_SCALE) : 0, gated ? mp(m, M_MAG_BIAS) : 0, 0);
  const tiles = mi(m, M_D_SAE_PAD) >> 2;
  const acc = wsGroupAcc(m, ws);
  const xq = wsGroupXq(m, ws, 0), stride = wsGroupXqStride(m);
  for (let t0 = 0; t0 < tiles; t0 += GROUP_BLOCK >> 2) {
    const nt = min(GROUP_BLOCK >> 2, tiles - t0);
    if (ASC_FEATURE_RELAXED_SIMD) enc_i8_4x4c16__wasmrelaxed_dot8u7(m, xq, stride, acc, t0, nt);
    else if (ASC_FEATURE_SIMD) enc_i8_4x4c16__wasmsimd_dot16(m, xq, stride, acc, t0, nt);
    else enc_i8_4x4c16__scalar(m, xq, stride, acc, t0, nt);
    for (let r = 0; r < GROUP_ROWS; r++) {
      const st = wsGroupState(m, ws, r);
      selectLoad(st);
      epilogueSetOverflow(load<i32>(st, ST_OVERFLOW) != 0);
      epilogueBlock(m, acc + (<usize>(r * GROUP_BLOCK) << 2), t0, nt, load<f32>(st, ST_XS));
      selectSave(st);
      store<i32>(st, epiOverflow ? 1 : 0, ST_OVERFLOW);
    }
  }
}

/** Makes row r of the last group current (selection, statistics, overflow flag); returns its unrounded-activation row for rescoring. */
export function groupRow(m: usize, ws: usize, r: i32): usize {
  const st = wsGroupState(m, ws, r);
  selectLoad(st);
  epilogueSetOverflow(load<i32>(st, ST_OVERFLOW) != 0);
  setRowStats(load<f32>(st, ST_SHIFT), load<f32>(st, ST_SCALE), load<f32>(st, ST_XS));
  return wsGroupXf(m, ws, r);
}

