// The Cloudflare Worker example (edge-examples/cloudflare-worker) under `wrangler dev`,
// over real HTTP: the API checks of http-api.mjs with the bundled MNIST model, then
// the workerd process's memory serving the 768 x 24576 int8 model from local R2.
import { execFileSync } from "node:child_process";
import { REPO } from "../helpers/common.mjs";
import { checkHttpApi } from "./http-api.mjs";
import { HERE } from "./paths.mjs";
import { WRANGLER, WRANGLER_ENV, startWrangler, workerdGrowth } from "./wrangler.mjs";

const DIR = `${REPO}edge-examples/cloudflare-worker`;
const TOKEN = "test-token-1234";

/** Runs every check; returns report lines. */
export async function testWorkerEndpoint(check) {
  const w = await startWrangler(DIR, ["--var", `API_TOKEN:${TOKEN}`]);
  let report;
  try {
    report = await checkHttpApi(check, "worker", w.base, TOKEN);
  } finally {
    w.stop();
  }
  report.push(...(await bigModelMemory(check)));
  return report;
}
/** The 768 x 24576 int8 model from a local R2 bucket: workerd's memory before and after serving it. */
async function bigModelMemory(check) {
  const persist = `${HERE}.cache/r2state`;
  const big = `${HERE}.cache/big.safetensors`;
  execFileSync(WRANGLER, ["r2", "object", "put", "sae-models/big.safetensors", "--file", big, "--local", "--persist-to", persist], {
    cwd: DIR, env: { ...process.env, ...WRANGLER_ENV }, stdio: ["ignore", "ignore", "inherit"],
  });
  const w = await startWrangler(DIR, ["--persist-to", persist, "--var", "MODEL_KEY:big.safetensors"]);
  try {
    let info, loadMs, ok = 0, rb;
    const { before: b0, after } = await workerdGrowth(w, async () => {
      const t0 = performance.now();
      info = await (await fetch(`${w.base}/v1/info`)).json();
      loadMs = performance.now() - t0;
      const row = new Float32Array(768).map((_, i) => Math.sin(i));
      for (let i = 0; i < 50; i++) {
        const r = await fetch(`${w.base}/v1/encode`, { method: "POST", body: row, headers: { "content-type": "application/octet-stream", "x-rows": "1" } });
        if (r.ok && (await r.json()).codes[0].indices.length === 32) ok++;
      }
      const batch = new Float32Array(64 * 768).map((_, i) => Math.cos(i));
      rb = await fetch(`${w.base}/v1/score`, { method: "POST", body: batch, headers: { "content-type": "application/octet-stream", "x-rows": "64" } });
    });
    check("worker-big", info.dIn === 768 && info.dSae === 24576 && ok === 50 && rb.ok, `768x24576 int8 model from R2: info, 50 encodes and a 64-row score answered (${info.kernel})`);
    const delta = after.rssMiB - b0.rssMiB;
    check("worker-big", delta < 128, `workerd RSS grew ${delta.toFixed(1)} MiB serving it (< 128 MiB isolate limit)`);
    return [`Worker with the 768x24576 int8 model (38 MB file) from R2: first request (load) ${loadMs.toFixed(0)} ms; the Worker's workerd process RSS ${b0.rssMiB.toFixed(1)} -> ${after.rssMiB.toFixed(1)} MiB (+${delta.toFixed(1)} MiB), peak ${after.hwmMiB.toFixed(1)} MiB`];
  } finally {
    w.stop();
  }
}
