// A SaePool worker for Deno: the web pool worker with Deno's loadSae, which reads file paths
// and file: URLs. Bundled as dist/deno-pool-worker.js, beside dist/deno.js.
import { serveModuleWorker } from "../web/serve-worker.js";
import { fileSource, loadSae, webBuilds } from "./index.js";

serveModuleWorker(loadSae, webBuilds, fileSource);
