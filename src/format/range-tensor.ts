// A float tensor stored as contiguous little-endian values in a ByteSource, read
// in bounded chunks straight into the destination (no whole-file copy).
import type { ByteSource } from "../base/byte-source.js";
import type { LazyTensor } from "../base/lazy-tensor.js";
import { decodeFloat32Into, floatItemBytes, type Dtype } from "./safetensors.js";

const CHUNK_BYTES = 8 << 20;

export function rangeTensor(src: ByteSource, offset: number, dtype: Dtype, length: number): LazyTensor {
  const item = floatItemBytes(dtype);
  return {
    length,
    async load({ into, onValues } = {}) {
      const out = into && into.length >= length ? into.subarray(0, length) : new Float32Array(length);
      const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / item));
      // F32 lands in place; other dtypes go through one reused chunk buffer.
      const staging = dtype === "F32" ? undefined : new Uint8Array(Math.min(length, perChunk) * item);
      for (let done = 0; done < length; done += perChunk) {
        const n = Math.min(perChunk, length - done);
        if (staging) {
          const bytes = staging.subarray(0, n * item);
          await src.read(offset + done * item, bytes);
          decodeFloat32Into(bytes, dtype, out, done);
        } else {
          await src.read(offset + done * 4, new Uint8Array(out.buffer, out.byteOffset + done * 4, n * 4));
        }
        onValues?.(n);
      }
      return out;
    },
  };
}
