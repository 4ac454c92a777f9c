// A SaePool worker thread for Node: loads the model with the Node adapter and answers calls
// (src/pool/serve.ts). Bundled as dist/node-pool-worker.js, beside dist/node.js.
import { parentPort } from "node:worker_threads";
import { serveSae } from "../../pool/serve.js";
import { fail } from "../../base/errors.js";
import { nodePoolServer } from "./index.js";

const port = parentPort ?? fail("INVALID_ARGUMENT", "node-pool-worker.js runs only inside a worker thread (see createSaePool)");
serveSae({ post: (msg, transfer) => port.postMessage(msg, transfer ?? []), listen: (onMessage) => port.on("message", onMessage) }, ...nodePoolServer());
