// Web adapter (browsers, and any runtime with fetch and module Workers): kernel builds
// fetched from beside this module (or given in options.wasm), models from a URL, bytes,
// a Response, a Blob, a stream or a ByteSource.
/**
 * Browsers and bundlers: what `import "sae-edge"` gives under the `browser` and default conditions. Kernel builds fetched from beside the
 * module (Vite, webpack and Parcel copy them; with esbuild or Rollup pass the `wasm` option), pools of module Workers.
 * @module sae-edge/web
 */
import { KERNELS, loadSaeWith, type LoadOptions, type KernelName } from "../../runtime/index.js";
import { modulePoolServer, type WebPoolModel } from "./serve-worker.js";
import { localEndpoint } from "../../pool/local-endpoint.js";
import type { Sae } from "../../runtime/index.js";
import { fail } from "../../base/errors.js";
import { SaePool, type PoolSplit } from "../../pool/pool.js";
import type { FromWorker, PoolEndpoint } from "../../pool/protocol.js";
import { kernelBuilds, portableBuilds, type KernelSources } from "../kernel-builds.js";
import { openModel, portableModel, withModel, type ModelSource, type OpenFile } from "../model-source.js";
import type { WasmBuilds } from "../../runtime/index.js";

export * from "../../index.js";
export type { ModelSource, OpenFile } from "../model-source.js";
export type { KernelSources, WasmSource } from "../kernel-builds.js";

export interface WebLoadOptions extends LoadOptions {
  /**
   * Where to get each kernel build (default: relaxed.wasm, simd128.wasm and scalar.wasm beside
   * this module, which Vite, webpack and Parcel copy into the app). Give it when your bundler
   * does not copy them (esbuild, Rollup): URLs, bytes or compiled modules. See docs/bundlers.md.
   */
  wasm?: KernelSources;
}

export interface WebPoolOptions extends WebLoadOptions {
  /** Worker threads (default: navigator.hardwareConcurrency, else 2). */
  threads?: number;
  /** The pool worker script (default: pool-worker.js beside this module). */
  workerUrl?: URL | string;
  /** How the workers share the work (default "auto"); see {@link PoolOptions.split}. */
  split?: PoolSplit;
  /**
   * One of the `threads` shares runs on this thread (default false): a call computes it while
   * the workers compute theirs, so small batches skip a worker's wake-up and message latency,
   * but this thread's event loop waits for that share as it would for one Sae.
   */
  mainThread?: boolean;
  /** Small latent-split calls through shared memory (default true); see {@link PoolOptions.sharedMemory}. */
  sharedMemory?: boolean;
}

// Literal `new URL("./x.wasm", import.meta.url)`: Vite, webpack and Parcel see it and copy the file.
const DEFAULT_BUILDS: Record<KernelName, () => URL> = {
  relaxed: () => new URL("./relaxed.wasm", import.meta.url),
  simd128: () => new URL("./simd128.wasm", import.meta.url),
  scalar: () => new URL("./scalar.wasm", import.meta.url),
};

/** The three kernel builds: each from `sources` when given, else fetched from beside this module. */
export function webBuilds(sources: KernelSources = {}): WasmBuilds {
  return kernelBuilds(sources, DEFAULT_BUILDS);
}

/** Loads an sae-edge model; `openFile` lets a runtime with a file system (Deno) read paths and file: URLs. */
export function loadSaeFrom(model: ModelSource, options: WebLoadOptions, openFile?: OpenFile): Promise<Sae> {
  const { wasm, ...rest } = options;
  return withModel(model, openFile, (source) => loadSaeWith(webBuilds(wasm), source, rest));
}

/** Loads an sae-edge model from a URL (relative to the page), bytes, a Response, a Blob, a stream or a ByteSource. */
export function loadSae(model: ModelSource, options: WebLoadOptions = {}): Promise<Sae> {
  return loadSaeFrom(model, options);
}

/**
 * A SaePool over module Workers (browsers, Deno). Split by rows, each worker loads its own copy
 * of the model (threads × the model's wasm size in memory): a URL is fetched by each worker,
 * anything else is read once and copied to each. Split by latents, each worker gets a slice of
 * the latents (one model's size in total). "auto" (the default) splits by latents when the
 * encoder is too large for one core's cache. Not for Cloudflare Workers, which have no threads.
 */
export function createSaePool(model: ModelSource, options: WebPoolOptions = {}): Promise<SaePool> {
  return createSaePoolFrom(model, options);
}

/** createSaePool; `openFile` lets a runtime with a file system (Deno) read paths and file: URLs for a latent split. */
export async function createSaePoolFrom(model: ModelSource, options: WebPoolOptions, openFile?: OpenFile): Promise<SaePool> {
  if (typeof Worker === "undefined") fail("KERNEL_UNAVAILABLE", "this runtime has no Worker: use one Sae instead of a pool");
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  const threads = options.threads ?? cores ?? 2;
  if (!Number.isSafeInteger(threads) || threads < 1) fail("INVALID_ARGUMENT", `threads must be a positive integer, got ${threads}`);
  const portable = await portableModel(model);
  const base = (globalThis as { location?: { href: string } }).location?.href;
  // Workers start from their own URL: a location relative to the page is made absolute here.
  const at = typeof portable === "string" ? { url: base ? new URL(portable, base).href : portable } : { bytes: portable };
  // The workers fetch the builds this module resolved: a bundler rewrote these URLs for the app,
  // but may have copied the worker as a plain file whose own relative URLs lead nowhere.
  const defaults = Object.fromEntries(KERNELS.map((name) => [name, DEFAULT_BUILDS[name]().href]));
  const source: WebPoolModel = { ...at, wasm: portableBuilds({ ...defaults, ...options.wasm }) };
  const { workerUrl } = options;
  if (options.mainThread !== undefined && typeof options.mainThread !== "boolean") fail("INVALID_ARGUMENT", `mainThread must be true or false, got ${String(options.mainThread)}`);
  const workers = Array.from({ length: threads - (options.mainThread ? 1 : 0) }, (): PoolEndpoint => {
    // Literally `new Worker(new URL(…, import.meta.url), { type: "module" })`: Vite and webpack bundle the worker from it.
    const w = workerUrl === undefined ? new Worker(new URL("./pool-worker.js", import.meta.url), { type: "module" }) : new Worker(workerUrl, { type: "module" });
    return {
      sharedMemory: true,
      post: (msg, transfer) => w.postMessage(msg, transfer ?? []),
      listen(onMessage, onExit) {
        w.onmessage = (e) => onMessage(e.data as FromWorker);
        w.onerror = (e) => onExit(e.message || "worker error");
      },
      terminate: () => w.terminate(),
    };
  });
  // This thread's share last: the pool posts to it after the workers, so they start first.
  const endpoints = options.mainThread ? [...workers, localEndpoint(...modulePoolServer((m, o) => loadSaeFrom(m, o, openFile), webBuilds, openFile))] : workers;
  const split = options.split ?? "auto";
  const bytes = split === "rows" ? undefined : await openModel(portable, openFile).catch(async (e) => {
    await Promise.all(endpoints.map((p) => p.terminate()));
    throw e;
  });
  try {
    // A file (Deno, read by range): each worker reads its own latent slice. Bytes and http(s)
    // (fetched whole): the slices are read here once, and each moved to its worker.
    const workersRead = source.url?.startsWith("file:") === true;
    return await SaePool.start(endpoints, source, { kernel: options.kernel, split, workersRead, sliceModel: { wasm: source.wasm }, sharedMemory: options.sharedMemory, cores, ...(bytes ? { source: bytes } : {}) });
  } finally {
    await bytes?.close?.();
  }
}

