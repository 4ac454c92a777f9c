// A safetensors file behind a ByteSource: the header is read and validated up
// front, tensors only when asked for.
import { fail } from "../base/errors.js";
import type { ByteSource } from "../base/byte-source.js";
import type { LazyTensor } from "../base/lazy-tensor.js";
import { parseSafetensorsHeader, readSafetensorsHeaderLength, type SafetensorsHeader, type TensorInfo } from "./safetensors.js";
import { rangeTensor } from "./range-tensor.js";

export async function readSafetensorsHeader(source: ByteSource): Promise<SafetensorsHeader> {
  const first8 = new Uint8Array(Math.min(8, source.size));
  await source.read(0, first8);
  const headerBytes = new Uint8Array(readSafetensorsHeaderLength(first8, source.size));
  await source.read(8, headerBytes);
  return parseSafetensorsHeader(headerBytes, source.size);
}

export interface SafetensorsFile {
  header: SafetensorsHeader;
  info(name: string): TensorInfo | undefined;
  /** A float tensor (F32/F64/F16/BF16) as float32, read on load. */
  tensor(name: string): LazyTensor;
}

export async function openSafetensors(source: ByteSource): Promise<SafetensorsFile> {
  const header = await readSafetensorsHeader(source);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  return {
    header,
    info: (name) => byName.get(name),
    tensor(name) {
      const t = byName.get(name) ?? fail("SAFETENSORS_INVALID_HEADER", `safetensors: no tensor named "${name}"`);
      return rangeTensor(source, header.dataOffset + t.begin, t.dtype, t.shape.reduce((a, b) => a * b, 1));
    },
  };
}
