// workerd through `wrangler dev`: the package's "workerd" entry in the probe Worker
// (worker.js), then the Cloudflare Worker example over real HTTP and with the
// 768 x 24576 model from a local R2 bucket.
import { it } from "vitest";
import { check, expectProbe } from "../expect-probe.mjs";
import { probeWorkerd } from "../matrix.mjs";
import { testWorkerEndpoint } from "../worker-endpoint.mjs";

it("workerd (wrangler dev): the same bits as the reference, a timing", async () => {
  const r = await probeWorkerd();
  expectProbe(r, { entry: "workers" });
  console.log(r.memory);
});

it("edge-examples/cloudflare-worker under wrangler dev: every route and error, Node's answers, a load run, memory", async () => {
  for (const line of await testWorkerEndpoint(check)) console.log(line);
});
