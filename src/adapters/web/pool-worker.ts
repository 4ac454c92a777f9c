// A SaePool worker for browsers (module Workers). Bundled as dist/pool-worker.js, beside dist/web.js.
import { serveModuleWorker } from "./serve-worker.js";
import { loadSae, webBuilds } from "./index.js";

serveModuleWorker(loadSae, webBuilds);
