// Deno adapter: the web adapter (kernel builds by URL; Deno fetches file: URLs
// with --allow-read), plus models read from a file path tensor by tensor.
import { loadSae as loadWeb, type WebLoadOptions } from "../web/index.js";
import { fail, failIo } from "../../base/errors.js";
import type { ModelInput } from "../../runtime/index.js";
import type { ByteSource } from "../../base/byte-source.js";
import type { Sae } from "../../runtime/index.js";

export * from "../web/index.js";

// The few Deno APIs used here (the full types come with Deno itself).
interface DenoFile {
  seek(offset: number, whence: number): Promise<number>;
  read(into: Uint8Array): Promise<number | null>;
  stat(): Promise<{ size: number; isFile: boolean }>;
  close(): void;
}
declare const Deno: { open(path: string | URL): Promise<DenoFile> };

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

/** Loads a model from a file path or file: URL, an http(s) URL, bytes or a ByteSource. */
export async function loadSae(model: string | URL | ModelInput, options: WebLoadOptions = {}): Promise<Sae> {
  const local = typeof model === "string" ? !/^https?:/.test(model) : model instanceof URL && model.protocol === "file:";
  if (!local) return loadWeb(model as URL | ModelInput, options);
  const file = await fileSource(model as string | URL);
  try {
    return await loadWeb(file, options);
  } finally {
    await file.close?.();
  }
}
