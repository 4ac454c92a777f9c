// The Deno example (edge-examples/deno/serve.ts) under `deno serve` on 127.0.0.1:
// the same HTTP API checks as the Worker (one shared Hono app).
import { spawn } from "node:child_process";
import { REPO } from "../helpers/common.mjs";
import { checkHttpApi } from "./http-api.mjs";
import { HERE } from "./paths.mjs";
import { freePort } from "./wrangler.mjs";

const TOKEN = "deno-token-5678";

export async function testDenoServe(check) {
  const port = await freePort();
  const child = spawn(`${HERE}node_modules/.bin/deno`, ["serve", "--allow-read", "--allow-env", "--host", "127.0.0.1", "--port", String(port), "edge-examples/deno/serve.ts"], {
    cwd: REPO, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: `${HERE}.cache/deno`, API_TOKEN: TOKEN }, stdio: ["ignore", "pipe", "pipe"],
    detached: true, // the npm deno bin is a Node wrapper around the binary: stop the whole group
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 30_000;
    while (!(await fetch(`${base}/healthz`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`deno serve did not start: ${log.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return await checkHttpApi(check, "deno serve", base, TOKEN);
  } finally {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  }
}
