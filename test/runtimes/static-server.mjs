// A static file server on 127.0.0.1 for the browser runs: serves the repo's
// dist/, build/, models/, edge-examples/ and test/runtimes/ folders, nothing else.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { REPO } from "../helpers/common.mjs";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
  ".wasm": "application/wasm", ".css": "text/css", ".map": "application/json",
};
const ROOTS = ["dist/", "build/", "models/", "edge-examples/", "test/runtimes/"];

/** Starts the server on a free port; resolves to { url, close }. */
export const serveRepo = () => serveDir(REPO, ROOTS);

/** Serves the files under `root` whose paths start with one of `roots` (none in node_modules). */
export function serveDir(root, roots = [""]) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
    if (path.includes("..") || !roots.some((r) => path.startsWith(r)) || path.includes("node_modules")) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(root, path));
      // Cross-origin isolated (COOP + COEP), so pages have SharedArrayBuffer, which the pools' shared-memory channel needs.
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "cache-control": "no-store", "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      // closeAllConnections: a page still open keeps keep-alive sockets, which close() alone would wait on.
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => { server.close(r); server.closeAllConnections(); }) });
    });
  });
}
