// One pass of this build's packed encoder kernels over a descriptor d: int8 (a model's W_enc, or a
// low-rank screen's P^T W_enc) or int4 (a screen's), over one quantized row (xqLayout) or over the
// first `rows` lanes (enc_*_4x4c16's layouts). fused: the relaxed build's fused dot loop.
import { mi, M_QUANT, QUANT_I4 } from "./model";
import { Epilogue } from "./epilogue";
import { RowStats } from "./quantize_x";
import { enc_i8_1x4c16__scalar, enc_i8_1x4c16__wasmsimd_dot16, enc_i8_1x4c16__wasmrelaxed_dot8u7, enc_i8_1x4c16__wasmrelaxed_dot8u7_fused } from "./enc_i8_1x4c16";
import { enc_i8_4x4c16__scalar, enc_i8_4x4c16__wasmsimd_dot16, enc_i8_4x4c16__wasmrelaxed_dot8u7, enc_i8_4x4c16__wasmrelaxed_dot8u7_fused } from "./enc_i8_4x4c16";
import { enc_i4_1x4c16__scalar, enc_i4_1x4c16__wasmsimd_dot16, enc_i4_1x4c16__wasmrelaxed_dot8u7, enc_i4_1x4c16__wasmrelaxed_dot8u7_fused } from "./enc_i4_1x4c16";
import { enc_i4_4x4c16__scalar, enc_i4_4x4c16__wasmsimd_dot16, enc_i4_4x4c16__wasmrelaxed_dot8u7, enc_i4_4x4c16__wasmrelaxed_dot8u7_fused } from "./enc_i4_4x4c16";

export function encodePass(d: usize, xq: usize, xs: f32, e: Epilogue, fused: bool): void {
  const int4 = mi(d, M_QUANT) == QUANT_I4;
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (int4) {
      if (fused) enc_i4_1x4c16__wasmrelaxed_dot8u7_fused(d, xq, xs, e);
      else enc_i4_1x4c16__wasmrelaxed_dot8u7(d, xq, xs, e);
    } else if (fused) enc_i8_1x4c16__wasmrelaxed_dot8u7_fused(d, xq, xs, e);
    else enc_i8_1x4c16__wasmrelaxed_dot8u7(d, xq, xs, e);
  } else if (ASC_FEATURE_SIMD) {
    if (int4) enc_i4_1x4c16__wasmsimd_dot16(d, xq, xs, e);
    else enc_i8_1x4c16__wasmsimd_dot16(d, xq, xs, e);
  } else if (int4) {
    enc_i4_1x4c16__scalar(d, xq, xs, e);
  } else {
    enc_i8_1x4c16__scalar(d, xq, xs, e);
  }
}

export function encodePassRows(d: usize, xq: usize, e: Epilogue, row: RowStats, stride: usize, rows: i32, tmp: usize, fused: bool): void {
  const int4 = mi(d, M_QUANT) == QUANT_I4;
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (int4) {
      if (fused) enc_i4_4x4c16__wasmrelaxed_dot8u7_fused(d, xq, e, row, stride, rows, tmp);
      else enc_i4_4x4c16__wasmrelaxed_dot8u7(d, xq, e, row, stride, rows, tmp);
    } else if (fused) enc_i8_4x4c16__wasmrelaxed_dot8u7_fused(d, xq, e, row, stride, rows, tmp);
    else enc_i8_4x4c16__wasmrelaxed_dot8u7(d, xq, e, row, stride, rows, tmp);
  } else if (ASC_FEATURE_SIMD) {
    if (int4) enc_i4_4x4c16__wasmsimd_dot16(d, xq, e, row, stride, rows, tmp);
    else enc_i8_4x4c16__wasmsimd_dot16(d, xq, e, row, stride, rows, tmp);
  } else if (int4) {
    enc_i4_4x4c16__scalar(d, xq, e, row, stride, rows, tmp);
  } else {
    enc_i8_4x4c16__scalar(d, xq, e, row, stride, rows, tmp);
  }
}
