// What loadSae and createSaePool accept in every runtime, turned into a ByteSource in one
// place. Adapters add only what their runtime has: a way to open files (Node, Deno).
import { fail } from "../base/errors.js";
import { bytesSource, isByteSource, type ByteSource } from "../base/byte-source.js";

/**
 * A model to load: a file path (where there is a file system), a URL string or `URL`
 * (http(s) everywhere, file: where there is a file system), bytes, a fetch `Response`,
 * a `Blob`/`File`, a byte `ReadableStream`, or a {@link ByteSource}.
 */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer | Response | Blob | ReadableStream<Uint8Array> | ByteSource;

/** Opens a file path or file: URL for reading; absent where there is no file system. */
export type OpenFile = (path: string | URL) => Promise<ByteSource>;

// "http:", "file:", "data:", "blob:"… but not a Windows drive letter ("C:\\models").
const HAS_SCHEME = /^[a-z][a-z\d+.-]+:/i;

/** A ByteSource for `model`; close it when done (it closes only what it opened). */
export async function openModel(model: ModelSource, openFile?: OpenFile): Promise<ByteSource> {
  if (typeof model === "string") return openLocation(model, openFile);
  if (model instanceof URL) return openUrl(model, openFile);
  if (model instanceof Uint8Array || model instanceof ArrayBuffer) return bytesSource(model);
  if (isByteSource(model)) return { size: model.size, read: (offset, into) => model.read(offset, into) };
  if (typeof Response !== "undefined" && model instanceof Response) return bytesSource(await responseBytes(model, "model"));
  if (typeof Blob !== "undefined" && model instanceof Blob) return blobSource(model);
  if (typeof ReadableStream !== "undefined" && model instanceof ReadableStream) return bytesSource(await streamBytes(model));
  return fail("INVALID_ARGUMENT", "model must be a path or URL, bytes (Uint8Array/ArrayBuffer), a Response, a Blob, a ReadableStream or a ByteSource");
}

/** Runs `use` on the model's bytes, then closes what was opened for it. */
export async function withModel<T>(model: ModelSource, openFile: OpenFile | undefined, use: (source: ByteSource) => Promise<T>): Promise<T> {
  const source = await openModel(model, openFile);
  try {
    return await use(source);
  } finally {
    await source.close?.();
  }
}

/** The model as bytes or a location string, for handing to pool workers (which resolve locations themselves). */
export async function portableModel(model: ModelSource): Promise<string | Uint8Array> {
  if (typeof model === "string") return model;
  if (model instanceof URL) return model.href;
  if (model instanceof Uint8Array) return model;
  const source = await openModel(model);
  const bytes = new Uint8Array(source.size);
  await source.read(0, bytes);
  await source.close?.();
  return bytes;
}

function openLocation(location: string, openFile: OpenFile | undefined): Promise<ByteSource> {
  if (HAS_SCHEME.test(location)) return openUrl(new URL(location), openFile);
  if (openFile) return openFile(location);
  // No file system: a relative location is relative to the page, where there is one.
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  if (!base) fail("INVALID_ARGUMENT", `model "${location}" is a relative path, but this runtime has no file system: pass an http(s) URL, bytes or a ByteSource`);
  return openUrl(new URL(location, base), openFile);
}

async function openUrl(url: URL, openFile: OpenFile | undefined): Promise<ByteSource> {
  if (url.protocol === "file:") {
    if (!openFile) fail("INVALID_ARGUMENT", `model ${url.href} is a file: URL, but this runtime has no file system: pass an http(s) URL or bytes`);
    return openFile(url);
  }
  return bytesSource(await fetchBytes(url, "model"));
}

/** GETs `url` whole; a network error or non-2xx status is one INVALID_ARGUMENT line naming `what`. */
export async function fetchBytes(url: URL | string, what: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    return fail("INVALID_ARGUMENT", `cannot fetch ${what} ${url}: ${(e as Error).message}`);
  }
  return responseBytes(res, `${what} ${url}`);
}

async function responseBytes(res: Response, what: string): Promise<Uint8Array> {
  if (!res.ok) fail("INVALID_ARGUMENT", `cannot fetch ${what}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function streamBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    if (!(r.value instanceof Uint8Array)) fail("INVALID_ARGUMENT", "a model stream must yield Uint8Array chunks");
    parts.push(r.value);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

// A Blob (or File) read by range, tensor by tensor, like a file.
function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset, into) {
      const part = new Uint8Array(await blob.slice(offset, offset + into.length).arrayBuffer());
      if (part.length !== into.length) fail("SAFETENSORS_TRUNCATED", `the model Blob ended at byte ${offset + part.length}`);
      into.set(part);
    },
  };
}
