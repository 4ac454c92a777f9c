import { Worker } from "node:worker_threads";
import { workerEndpoint, type PoolEndpoint } from "../../src/adapters/node/index.js";
import { DIST_NODE } from "../helpers/common.mjs";

const WORKER = new URL("node-pool-worker.js", `file://${DIST_NODE}`);

// A pool endpoint over a worker thread the test can reach (createSaePool keeps its own private).
export function threadEndpoint(): { worker: Worker; endpoint: PoolEndpoint } {
  const worker = new Worker(WORKER);
  return { worker, endpoint: workerEndpoint(worker) };
}
