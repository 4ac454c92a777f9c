// Deno adapter: the web adapter (kernel builds fetched from beside the module; Deno fetches
// file: URLs with --allow-read), plus models read from a file path tensor by tensor.
/**
 * Deno: the web entry plus models read from file paths and file: URLs.
 * @module sae-edge/deno
 */
import { createSaePoolFrom, loadSaeFrom, type WebLoadOptions, type WebPoolOptions } from "../web/index.js";
import type { SaePool } from "../../pool/pool.js";
import { fail, failIo } from "../../base/errors.js";
import type { ByteSource } from "../../base/byte-source.js";
import type { Sae } from "../../runtime/index.js";
import type { ModelSource } from "../model-source.js";

export * from "../web/index.js";

// The few Deno APIs used here (the full types come with Deno itself).
interface DenoFile {
  seek(offset: number, whence: number): Promise<number>;
  read(into: Uint8Array): Promise<number | null>;
  stat(): Promise<{ size: number; isFile: boolean }>;
  close(): void;
}
declare const Deno: { open(path: string | URL): Promise<DenoFile>; cwd(): string };

/** A file as a ByteSource, read by range. */
export async function fileSource(path: string | URL): Promise<ByteSource> {
  let file: DenoFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    return failIo(`cannot open model ${path}`, e);
  }
  const { size, isFile } = await file.stat();
  if (!isFile) {
    file.close();
    fail("INVALID_ARGUMENT", `model ${path} is not a file`);
  }
  return {
    size,
    async read(offset, into) {
      await file.seek(offset, 0);
      for (let done = 0; done < into.length; ) {
        const n = await file.read(into.subarray(done));
        if (n === null) fail("SAFETENSORS_TRUNCATED", `${path} ended at byte ${offset + done}`);
        done += n!;
      }
    },
    close: async () => file.close(),
  };
}

/** Loads an sae-edge model from a file path or file: URL, an http(s) URL, bytes, a Response, a Blob, a stream or a ByteSource. */
export function loadSae(model: ModelSource, options: WebLoadOptions = {}): Promise<Sae> {
  return loadSaeFrom(model, options, fileSource);
}

/**
 * A SaePool over module Workers that read the model themselves: a file path is taken relative
 * to the current directory (not to this module), and the workers read files as loadSae does.
 */
export function createSaePool(model: ModelSource, options: WebPoolOptions = {}): Promise<SaePool> {
  const path = typeof model === "string" && !/^[a-z][a-z\d+.-]*:/i.test(model);
  const at = path ? new URL(model, `file://${Deno.cwd().replace(/\/?$/, "/")}`) : model;
  return createSaePoolFrom(at, { workerUrl: new URL("./deno-pool-worker.js", import.meta.url), ...options }, fileSource);
}
