// Stores a calibration in a model file's metadata (the tensors are copied unchanged).
import type { Calibration } from "./spec.js";
import { checkCalibration, specFromHeader } from "./spec.js";
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from "../format/safetensors.js";

export function withCalibration(model: Uint8Array, calibration: Calibration): Uint8Array {
  const st = parseSafetensors(model);
  const spec = specFromHeader(st.header);
  checkCalibration(calibration, spec.dIn, spec.dSae);
  const tensors: Record<string, TensorToWrite> = Object.create(null);
  for (const t of st.header.tensors) tensors[t.name] = { dtype: t.dtype, shape: t.shape, data: st.tensor(t.name) };
  return serializeSafetensors(tensors, { ...st.header.metadata, calibration: JSON.stringify(calibration) });
}
