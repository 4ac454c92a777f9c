// Web adapter (browsers, Deno, any runtime with fetch): kernel builds fetched by
// URL (build/*.wasm beside the package by default) or handed in as modules or
// bytes; models from a URL, bytes or a ByteSource.
import { loadSaeWith, type LoadOptions, type ModelInput } from "../../runtime/index.js";
import { fail } from "../../base/errors.js";
import { KERNELS, type KernelName, type WasmBuilds, type WasmInput } from "../../runtime/index.js";
import type { Sae } from "../../runtime/index.js";
import { SaePool } from "../../pool/pool.js";
import type { FromWorker, PoolEndpoint } from "../../pool/protocol.js";

export * from "../../index.js";

/** A kernel build: a compiled module (Workers), bytes, a URL to fetch, or a loader of one of those. */
export type WasmSource = WasmInput | URL | string;

export interface WebLoadOptions extends LoadOptions {
  /** Where to get each kernel build (default: build/<name>.wasm next to this package). */
  wasm?: Partial<Record<KernelName, WasmSource>>;
}

// Literal `new URL("…", import.meta.url)` so bundlers (Vite, webpack) copy the files.
const DEFAULT_URLS: Record<KernelName, () => URL> = {
  relaxed: () => new URL("../build/relaxed.wasm", import.meta.url),
  simd128: () => new URL("../build/simd128.wasm", import.meta.url),
  scalar: () => new URL("../build/scalar.wasm", import.meta.url),
};

export async function fetchBytes(url: URL | string, what: string): Promise<Uint8Array<ArrayBuffer>> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    return fail("SOURCE_UNAVAILABLE", `cannot fetch ${what} ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) fail(res.status === 404 || res.status === 410 ? "SOURCE_NOT_FOUND" : "SOURCE_UNAVAILABLE", `cannot fetch ${what} ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

// Fetched lazily: a build the selection never reaches is never downloaded.
const compiled = new Map<string, Promise<WebAssembly.Module | Uint8Array<ArrayBuffer>>>();
function lazyUrl(url: URL | string): WasmInput {
  const key = String(url);
  return () => {
    if (!compiled.has(key)) {
      compiled.set(key, fetchBytes(url, "kernel build").then((b) => (WebAssembly.validate(b) ? WebAssembly.compile(b) : b)));
    }
    return compiled.get(key)!;
  };
}

/** The three kernel builds, each from `sources` when given, else from the package's build/ folder. */
export function webBuilds(sources: Partial<Record<KernelName, WasmSource>> = {}): WasmBuilds {
  const out = {} as WasmBuilds;
  for (const name of KERNELS) {
    const s = sources[name];
    out[name] = s === undefined ? lazyUrl(DEFAULT_URLS[name]()) : typeof s === "string" || s instanceof URL ? lazyUrl(s) : s;
  }
  return out;
}

/** Loads an sae-edge model from a URL, bytes or a ByteSource. */
export async function loadSae(model: URL | string | ModelInput, options: WebLoadOptions = {}): Promise<Sae> {
  const { wasm, ...rest } = options;
  const input = typeof model === "string" || model instanceof URL ? await fetchBytes(model, "model") : model;
  return loadSaeWith(webBuilds(wasm), input, rest);
}

/**
 * A SaePool over module Workers (browsers, Deno): each worker loads its own copy of the model
 * (threads × the model's wasm size in memory) from `model` (a URL, fetched by each worker, or
 * bytes, copied to each). Not for Cloudflare Workers, which have no threads.
 */
export async function createSaePool(
  model: URL | string | Uint8Array,
  options: LoadOptions & { threads?: number; workerUrl?: URL | string } = {},
): Promise<SaePool> {
  const WorkerCtor = (globalThis as { Worker?: new (url: URL | string, o: { type: "module" }) => WebWorker }).Worker;
  if (!WorkerCtor) fail("KERNEL_UNAVAILABLE", "this runtime has no Worker: use one Sae instead of a pool");
  const threads = options.threads ?? (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
  if (!Number.isSafeInteger(threads) || threads < 1) fail("INVALID_ARGUMENT", `threads must be a positive integer, got ${threads}`);
  // The literal new URL(…, import.meta.url) lets bundlers find and copy the worker script.
  const url = options.workerUrl ?? new URL("./pool-worker.js", import.meta.url);
  const endpoints = Array.from({ length: threads }, (): PoolEndpoint => {
    const w = new WorkerCtor(url, { type: "module" });
    return {
      post: (msg, transfer) => w.postMessage(msg, transfer ?? []),
      listen(onMessage, onExit) {
        w.onmessage = (e) => onMessage(e.data as FromWorker);
        w.onerror = (e) => onExit(e.message ?? "worker error");
      },
      terminate: () => w.terminate(),
    };
  });
  const source = model instanceof Uint8Array ? { bytes: model } : { url: new URL(String(model), (globalThis as { location?: { href: string } }).location?.href).href };
  return SaePool.start(endpoints, source, options);
}

interface WebWorker {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string }) => void) | null;
  terminate(): void;
}

