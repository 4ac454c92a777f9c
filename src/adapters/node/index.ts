// Node adapter: kernel builds read from beside this module (or given in options.wasm), models
// from file paths and file: URLs (read tensor by tensor straight into wasm memory), http(s) URLs
// and everything the other adapters take, checkpoint folders, and pools of worker threads.
/**
 * Node (≥ 20): what `import "sae-edge"` gives under Node. Models from paths, file: and http(s) URLs and everything else {@link ModelSource} names;
 * kernel builds read from beside the module; pools of worker threads; checkpoint folders.
 * @module sae-edge/node
 */
import { open, readFile, readdir, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { SaePool } from "../../pool/pool.js";
import type { PoolEndpoint } from "../../pool/protocol.js";
import { localEndpoint } from "../../pool/local-endpoint.js";
import type { SliceSupport } from "../../pool/serve.js";
import { loadSaeWith, type LoadOptions, type KernelName, type WasmBuilds } from "../../runtime/index.js";
import type { PoolSplit } from "../../pool/pool.js";
import type { Sae } from "../../runtime/index.js";
import { fail, failIo } from "../../base/errors.js";
import type { ByteSource } from "../../base/byte-source.js";
import type { CheckpointFiles } from "../../importers/types.js";
import { kernelBuilds, portableBuilds, type KernelSources } from "../kernel-builds.js";
import { fetchBytes, openModel, portableModel, withModel, type ModelSource } from "../model-source.js";

export * from "../../index.js";
export { writeFileAtomic, writeFileAtomicSync, syncFolderSync, removeAtomicLeftovers } from "./atomic-write.js";
export { commandLine, exitWithInputError, InputError, ScriptOptions, type ScriptOption } from "./command-line.js";
export type { ModelSource, OpenFile } from "../model-source.js";
export type { KernelSources, WasmSource } from "../kernel-builds.js";

export interface NodeLoadOptions extends LoadOptions {
  /**
   * Where to get each kernel build (default: relaxed.wasm, simd128.wasm and scalar.wasm beside
   * this module, else the installed sae-edge package's): file paths, URLs, bytes or compiled modules.
   */
  wasm?: KernelSources;
}

export interface NodePoolOptions extends NodeLoadOptions {
  /** Worker threads (default: the machine's cores). */
  threads?: number;
  /** The pool worker script (default: node-pool-worker.js beside this module, else the installed package's). */
  workerUrl?: URL | string;
  /** How the threads share the work (default "auto"); see {@link PoolOptions.split}. */
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

/**
 * `url` if that file exists, else the installed package's copy of it (`sae-edge/<spec>`): an app
 * bundle that inlined this module has moved import.meta.url away from the package's files.
 */
function besideOrInstalled(url: URL, spec: string): URL {
  if (existsSync(url)) return url;
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve(`sae-edge/${spec}`));
  } catch {
    return url; // reading it reports the missing file
  }
}

// Literal `new URL("./x.wasm", import.meta.url)`, which bundlers targeting Node also understand.
const DEFAULT_BUILDS: Record<KernelName, () => URL> = {
  relaxed: () => besideOrInstalled(new URL("./relaxed.wasm", import.meta.url), "wasm/relaxed.wasm"),
  simd128: () => besideOrInstalled(new URL("./simd128.wasm", import.meta.url), "wasm/simd128.wasm"),
  scalar: () => besideOrInstalled(new URL("./scalar.wasm", import.meta.url), "wasm/scalar.wasm"),
};

const REMOTE = /^(https?|data|blob):/i;

async function readBuild(where: URL | string): Promise<Uint8Array> {
  if (REMOTE.test(String(where))) return fetchBytes(where, "kernel build");
  const file = typeof where === "string" && where.startsWith("file:") ? new URL(where) : where;
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    const at = file instanceof URL ? fileURLToPath(file) : file;
    return failIo(`cannot read kernel build ${at} (pass the wasm option, or keep sae-edge's dist/*.wasm beside the bundle)`, e);
  }
}

/** The three kernel builds, read from beside this module (for trainSae, selectKernel, …). */
export const nodeBuilds: WasmBuilds = kernelBuilds({}, DEFAULT_BUILDS, readBuild);

/** The kernel builds `wasm` names, the others from beside this module. @internal */
export function nodeBuildsWith(wasm: KernelSources | undefined): WasmBuilds {
  return wasm ? kernelBuilds(wasm, DEFAULT_BUILDS, readBuild) : nodeBuilds;
}

/** A file as a ByteSource, read by range. */
export async function fileSource(path: string | URL): Promise<ByteSource> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    return failIo(`cannot open model ${path}`, e);
  }
  const stat = await fh.stat();
  if (!stat.isFile()) {
    await fh.close();
    fail("INVALID_ARGUMENT", `model ${path} is not a file`);
  }
  const { size } = stat;
  return {
    size,
    async read(offset, into) {
      let done = 0;
      while (done < into.length) {
        const { bytesRead } = await fh.read(into, done, into.length - done, offset + done);
        if (bytesRead === 0) fail("SAFETENSORS_TRUNCATED", `${path} ended at byte ${offset + done}`);
        done += bytesRead;
      }
    },
    close: () => fh.close(),
  };
}

/** Loads an sae-edge model from a file path, a file: or http(s) URL, bytes, a Response, a Blob, a stream or a ByteSource. */
export function loadSae(model: ModelSource, options: NodeLoadOptions = {}): Promise<Sae> {
  const { wasm, ...rest } = options;
  return withModel(model, fileSource, (source) => loadSaeWith(nodeBuildsWith(wasm), source, rest));
}

/** A checkpoint folder on disk (a file path means the folder it is in; a hookpoint picks a subfolder). */
export async function checkpointFolder(path: string, hookpoint?: string): Promise<CheckpointFiles> {
  if (hookpoint !== undefined) {
    if (!/^[\w.-]+$/.test(hookpoint) || hookpoint.includes("..")) fail("INVALID_ARGUMENT", `--hookpoint "${hookpoint}" is not a folder name`);
    path = join(path, hookpoint);
  }
  let names: string[];
  let dir = path;
  try {
    names = await readdir(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOTDIR") failIo(`cannot read checkpoint ${path}`, e);
    // A file inside a checkpoint folder stands for its folder.
    dir = dirname(path);
    names = await readdir(dir).catch((e) => failIo(`cannot read checkpoint ${dir}`, e));
  }
  // Subfolders that hold a checkpoint of their own (sparsify's one folder per hookpoint).
  const hookpoints: string[] = [];
  for (const name of names) {
    const sub = await readdir(join(dir, name)).catch(() => null);
    if (sub?.includes("cfg.json")) hookpoints.push(name);
  }
  const opened: ByteSource[] = [];
  // A listed name that is a folder (or a device) is the checkpoint's fault, not an I/O failure.
  const known = async (name: string) => {
    if (!names.includes(name)) fail("CHECKPOINT_INVALID", `${path}: no file ${name}`);
    const file = join(dir, name);
    const info = await stat(file).catch((e) => failIo(`cannot read ${file}`, e));
    if (!info.isFile()) fail("CHECKPOINT_INVALID", `${file} is ${info.isDirectory() ? "a folder" : "not a regular file"}, not a file of the checkpoint`);
    return file;
  };
  return {
    location: path,
    hookpoints: hookpoints.sort(),
    list: async () => names,
    read: async (name) => {
      const file = await known(name);
      return new Uint8Array(await readFile(file).catch((e) => failIo(`cannot read ${file}`, e)));
    },
    open: async (name) => {
      const src = await fileSource(await known(name));
      opened.push(src);
      return src;
    },
    close: async () => {
      await Promise.all(opened.splice(0).map((s) => s.close?.()));
    },
  };
}

/** What createSaePool posts to each Node pool worker. @internal */
export interface NodePoolModel {
  model: string | Uint8Array;
  wasm: KernelSources;
}

/**
 * A pool of worker threads. Split by rows, each thread holds a model copy (threads × the model's
 * wasm size) and takes a share of each batch's rows; a path or URL is read by each thread,
 * anything else is read once and copied to each. Split by latents, each thread holds a slice of
 * the latents (one model's size in total) and takes every row. "auto" (the default) splits by
 * latents when the encoder is too large for one core's cache.
 */
export async function createSaePool(model: ModelSource, options: NodePoolOptions = {}): Promise<SaePool> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isSafeInteger(threads) || threads < 1) fail("INVALID_ARGUMENT", `threads must be a positive integer, got ${threads}`);
  const source: NodePoolModel = { model: await portableModel(model), wasm: portableBuilds(options.wasm) };
  const script = options.workerUrl ?? besideOrInstalled(new URL("./node-pool-worker.js", import.meta.url), "pool-worker.js");
  if (options.mainThread !== undefined && typeof options.mainThread !== "boolean") fail("INVALID_ARGUMENT", `mainThread must be true or false, got ${String(options.mainThread)}`);
  const workers = Array.from({ length: threads - (options.mainThread ? 1 : 0) }, () => workerEndpoint(new Worker(script, { execArgv: workerExecArgv(process.execArgv) })));
  // This thread's share last: the pool posts to it after the workers, so they start first.
  const endpoints = options.mainThread ? [...workers, localEndpoint(...nodePoolServer())] : workers;
  const split = options.split ?? "auto";
  const bytes = split === "rows" ? undefined : await openModel(source.model, fileSource).catch(async (e) => {
    await Promise.all(endpoints.map((p) => p.terminate()));
    throw e;
  });
  try {
    // A file (read by range): each thread reads its own latent slice. Bytes and http(s) (fetched
    // whole): the slices are read here once, and each moved to its thread.
    const workersRead = typeof source.model === "string" && !REMOTE.test(source.model);
    return await SaePool.start(endpoints, source, { kernel: options.kernel, split, workersRead, sliceModel: { wasm: source.wasm }, sharedMemory: options.sharedMemory, cores: availableParallelism(), ...(bytes ? { source: bytes } : {}) });
  } finally {
    await bytes?.close?.();
  }
}

/** A worker thread as a pool share's endpoint. @internal */
export function workerEndpoint(worker: Worker): PoolEndpoint {
  return {
    sharedMemory: true,
    post: (msg, transfer) => worker.postMessage(msg, transfer ?? []),
    listen(onMessage, onExit) {
      worker.on("message", onMessage);
      worker.on("error", (e) => onExit(e.message));
      worker.on("exit", (code) => onExit(`exit code ${code}`));
    },
    terminate: () => worker.terminate(),
  };
}

/** How a Node pool share loads the model (or its latent slice) posted as {@link NodePoolModel}: in a worker thread or on this one. @internal */
export function nodePoolServer(): [(model: unknown, options: LoadOptions) => Promise<Sae>, SliceSupport] {
  return [
    (model, options) => {
      const m = model as NodePoolModel;
      return loadSae(m.model, { ...options, wasm: m.wasm });
    },
    { builds: (model) => nodeBuildsWith((model as NodePoolModel).wasm), open: (model) => openModel((model as NodePoolModel).model, fileSource) },
  ];
}

/** The parent's Node options without the eval ones (-e CODE, --input-type=…), which stop a worker that runs a file. */
export function workerExecArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^(-e|--eval|-p|--print)$/.test(a)) i++; // and its code
    else if (!/^(--input-type|--eval|--print)=/.test(a)) out.push(a);
  }
  return out;
}
