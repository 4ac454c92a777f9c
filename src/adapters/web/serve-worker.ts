// The body of a module-Worker pool worker (browsers, Deno): answers pool calls with the
// adapter's own loadSae, which differ in what they can read (Deno also reads files).
import { serveSae, type SliceSupport } from "../../pool/serve.js";
import type { ToWorker } from "../../pool/protocol.js";
import type { LoadOptions, Sae, WasmBuilds } from "../../runtime/index.js";
import type { KernelSources } from "../kernel-builds.js";
import { openModel, type ModelSource, type OpenFile } from "../model-source.js";

/** What createSaePool posts to each module-Worker pool worker. @internal */
export interface WebPoolModel {
  url?: string;
  bytes?: Uint8Array;
  wasm: KernelSources;
}

interface WorkerScope {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  onmessage: ((event: { data: ToWorker }) => void) | null;
}

type LoadWith = (model: ModelSource, options: LoadOptions & { wasm?: KernelSources }) => Promise<Sae>;

export function serveModuleWorker(loadSae: LoadWith, builds: (wasm: KernelSources) => WasmBuilds, openFile?: OpenFile): void {
  const scope = globalThis as unknown as WorkerScope;
  serveSae({ post: (msg, transfer) => scope.postMessage(msg, transfer ?? []), listen: (onMessage) => (scope.onmessage = (e) => onMessage(e.data)) }, ...modulePoolServer(loadSae, builds, openFile));
}

/** How a pool share loads the model (or its latent slice) posted as {@link WebPoolModel}: in a module Worker or on this thread. */
export function modulePoolServer(loadSae: LoadWith, builds: (wasm: KernelSources) => WasmBuilds, openFile?: OpenFile): [(model: unknown, options: LoadOptions) => Promise<Sae>, SliceSupport] {
  return [
    (model, options) => {
      const m = model as WebPoolModel;
      return loadSae(m.url ?? m.bytes!, { ...options, wasm: m.wasm });
    },
    { builds: (model) => builds((model as WebPoolModel).wasm), open: (model) => openModel((model as WebPoolModel).url ?? (model as WebPoolModel).bytes!, openFile) },
  ];
}
