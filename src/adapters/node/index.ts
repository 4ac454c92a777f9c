// Node adapter: kernel builds from build/*.wasm, models from file paths
// (read tensor by tensor straight into wasm memory), checkpoint folders.
import { open, readFile, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { availableParallelism } from "node:os";
import { Worker, parentPort } from "node:worker_threads";
import { SaePool } from "../../pool/pool.js";
import { serveSae } from "../../pool/serve.js";
import type { PoolEndpoint } from "../../pool/protocol.js";
import { loadSaeWith, type LoadOptions, type ModelInput } from "../../runtime/index.js";
import { fail, failIo } from "../../base/errors.js";
import type { ByteSource } from "../../base/byte-source.js";
import type { KernelName, WasmBuilds } from "../../runtime/index.js";
import type { Sae } from "../../runtime/index.js";
import type { CheckpointFiles } from "../../importers/types.js";

export * from "../../index.js";

/** The installed package's folder: the nearest one above this module with build/ and package.json (src/adapters/node/ and dist/ alike). */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json")) && existsSync(join(d, "build"))) return d;
    if (dirname(d) === d) return join(dir, "..");
  }
}
const BUILD_DIR = join(PACKAGE_ROOT, "build");

const cache = new Map<KernelName, Promise<WebAssembly.Module>>();
function build(name: KernelName): () => Promise<WebAssembly.Module | BufferSource> {
  return async () => {
    const bytes = await readFile(join(BUILD_DIR, `${name}.wasm`));
    if (!WebAssembly.validate(bytes)) return bytes; // let the core report it as unsupported
    if (!cache.has(name)) cache.set(name, WebAssembly.compile(bytes));
    return cache.get(name)!;
  };
}

export const nodeBuilds: WasmBuilds = { relaxed: build("relaxed"), simd128: build("simd128"), scalar: build("scalar") };

export async function fileSource(path: string): Promise<ByteSource> {
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

/** Loads an sae-edge model from a file path, bytes or a ByteSource. */
export async function loadSae(source: string | ModelInput, options: LoadOptions = {}): Promise<Sae> {
  if (typeof source !== "string") return loadSaeWith(nodeBuilds, source, options);
  const file = await fileSource(source);
  try {
    return await loadSaeWith(nodeBuilds, file, options);
  } finally {
    await file.close?.();
  }
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
    names = await readdir(dir);
  }
  // Subfolders that hold a checkpoint of their own (sparsify's one folder per hookpoint).
  const hookpoints: string[] = [];
  for (const name of names) {
    const sub = await readdir(join(dir, name)).catch(() => null);
    if (sub?.includes("cfg.json")) hookpoints.push(name);
  }
  const opened: ByteSource[] = [];
  const known = (name: string) => {
    if (!names.includes(name)) fail("CHECKPOINT_INVALID", `${path}: no file ${name}`);
    return join(dir, name);
  };
  return {
    location: path,
    hookpoints: hookpoints.sort(),
    list: async () => names,
    read: async (name) => new Uint8Array(await readFile(known(name)).catch((e) => failIo(`cannot read ${join(dir, name)}`, e))),
    open: async (name) => {
      const src = await fileSource(known(name));
      opened.push(src);
      return src;
    },
    close: async () => {
      await Promise.all(opened.splice(0).map((s) => s.close?.()));
    },
  };
}

/**
 * A pool of worker threads that spread each batch's rows, one model copy per thread (the
 * memory cost: threads × the model's wasm size). threads defaults to the machine's cores.
 */
export async function createSaePool(model: string | Uint8Array, options: LoadOptions & { threads?: number } = {}): Promise<SaePool> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isSafeInteger(threads) || threads < 1) fail("INVALID_ARGUMENT", `threads must be a positive integer, got ${threads}`);
  const entry = pathToFileURL(join(PACKAGE_ROOT, "dist", "node.js")).href;
  const endpoints = Array.from({ length: threads }, (): PoolEndpoint => {
    // An eval'd stub imports the built adapter, so the pool needs no separate worker bundle.
    const worker = new Worker(`import(${JSON.stringify(entry)}).then((m) => m.serveNodeWorker());`, { eval: true });
    return {
      post: (msg, transfer) => worker.postMessage(msg, transfer ?? []),
      listen(onMessage, onExit) {
        worker.on("message", onMessage);
        worker.on("error", (e) => onExit(e.message));
        worker.on("exit", (code) => onExit(`exit code ${code}`));
      },
      terminate: () => worker.terminate(),
    };
  });
  return SaePool.start(endpoints, typeof model === "string" ? { path: model } : { bytes: model }, options);
}

/** Runs inside a pool worker thread (see createSaePool). */
export function serveNodeWorker(): void {
  const port = parentPort ?? fail("INVALID_ARGUMENT", "serveNodeWorker runs only inside a worker thread");
  serveSae(
    { post: (msg, transfer) => port.postMessage(msg, transfer ?? []), listen: (onMessage) => port.on("message", onMessage) },
    (model, options) => {
      const m = model as { path?: string; bytes?: Uint8Array };
      return loadSae(m.path ?? m.bytes!, options);
    },
  );
}

