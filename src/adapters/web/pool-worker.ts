// A SaePool worker for browsers and Deno (module Workers): loads the model with the web adapter
// and answers calls (src/pool/serve.ts). Bundled as dist/pool-worker.js, beside dist/web.js.
import { serveSae } from "../../pool/serve.js";
import { loadSae, type WebPoolModel } from "./index.js";
import type { ToWorker } from "../../pool/protocol.js";

interface WorkerScope {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  onmessage: ((event: { data: ToWorker }) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;

serveSae(
  { post: (msg, transfer) => scope.postMessage(msg, transfer ?? []), listen: (onMessage) => (scope.onmessage = (e) => onMessage(e.data)) },
  (model, options) => {
    const m = model as WebPoolModel;
    return loadSae(m.url ?? m.bytes!, { ...options, wasm: m.wasm });
  },
);
