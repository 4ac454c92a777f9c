// Cloudflare Workers (workerd) adapter: Workers may not compile wasm at run time,
// so the three kernel builds are static imports that wrangler uploads as compiled
// modules. Models come as bytes (a bundled Data module) or a ByteSource (R2).
import relaxed from "../build/relaxed.wasm";
import simd128 from "../build/simd128.wasm";
import scalar from "../build/scalar.wasm";
import { loadSaeWith, type LoadOptions, type ModelInput } from "../../runtime/index.js";
import { fail } from "../../base/errors.js";
import type { ByteSource } from "../../base/byte-source.js";
import type { WasmBuilds } from "../../runtime/index.js";
import type { Sae } from "../../runtime/index.js";

export * from "../../index.js";

export const workerBuilds: WasmBuilds = { relaxed, simd128, scalar };

/** Loads an sae-edge model from bytes or a ByteSource with the statically imported kernels. */
export function loadSae(model: ModelInput, options: LoadOptions = {}): Promise<Sae> {
  return loadSaeWith(workerBuilds, model, options);
}

/** The part of an R2 bucket binding r2Source uses. */
export interface R2BucketLike {
  head(key: string): Promise<{ size: number } | null>;
  get(key: string, options: { range: { offset: number; length: number } }): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/** An R2 object as a ByteSource: the core reads it tensor by tensor with range requests. */
export async function r2Source(bucket: R2BucketLike, key: string): Promise<ByteSource> {
  const head = await bucket.head(key);
  if (!head) return fail("SOURCE_NOT_FOUND", `R2 object ${key} not found`);
  return {
    size: head.size,
    async read(offset, into) {
      // One range request per 8 MiB so no response body is larger than that.
      for (let done = 0; done < into.length; ) {
        const length = Math.min(8 << 20, into.length - done);
        const obj = await bucket.get(key, { range: { offset: offset + done, length } });
        if (!obj) fail("SOURCE_UNAVAILABLE", `R2 object ${key} vanished while reading`);
        const part = new Uint8Array(await obj.arrayBuffer());
        if (part.length !== length) fail("SAFETENSORS_TRUNCATED", `R2 object ${key} ended at byte ${offset + done + part.length}`);
        into.set(part, done);
        done += length;
      }
    },
  };
}
