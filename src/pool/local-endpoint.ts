// A pool share served on the calling thread: the same serveSae a worker runs, its messages handed
// over in-process instead of cloned. The pool posts a call to its workers first and to this
// endpoint last, and serveSae starts the work after a microtask, so this thread computes its share
// while the workers compute theirs. Its event loop waits for that share, as it would for one Sae;
// in exchange a call does not pay a worker's wake-up and message latency for this share, which
// on small batches is most of what a pool costs (docs/architecture.md, "Pools").
import { serveSae, type SliceSupport } from "./serve.js";
import type { FromWorker, PoolEndpoint, ToWorker } from "./protocol.js";
import type { LoadOptions, Sae } from "../runtime/index.js";

export function localEndpoint(load: (model: unknown, options: LoadOptions) => Promise<Sae>, slices?: SliceSupport): PoolEndpoint {
  let toServer: ((message: ToWorker) => void) | undefined;
  let toPool: ((message: FromWorker) => void) | undefined;
  serveSae({ post: (message) => toPool?.(message), listen: (onMessage) => (toServer = onMessage) }, load, slices);
  return {
    post: (message) => toServer?.(message),
    listen: (onMessage) => (toPool = onMessage),
    // Dropping both ends lets the share's instance be collected; a late answer goes nowhere.
    terminate: () => {
      toServer = undefined;
      toPool = undefined;
    },
  };
}
