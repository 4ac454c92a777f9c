// A bounded load run of the HTTP API (sae-edge/http) on loopback: the app on Node's HTTP server
// (@hono/node-server) in its own process, autocannon against it with a mix of encode, decode and
// score requests, some of them bad on purpose (each must get its expected 400). Reports req/s,
// p50/p99 latency, errors and the server's RSS before and after each run.
//   node bench/http-load.mjs                               # 60 s at 16, then 64 connections
//   node bench/http-load.mjs --duration 5 --connections 8  # a quick look
// Needs npm run build and bench/peers installed (cd bench/peers && npm ci --ignore-scripts).
// Exit 1 when any request failed or got an answer other than the one expected.
import { fork } from "node:child_process";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const peers = createRequire(new URL("./peers/package.json", import.meta.url));
const MODEL = new URL("../models/mnist-topk-1024.safetensors", import.meta.url);

if (process.argv[2] === "--serve") await serve();
else await main();

/** The server process: the bundled MNIST model behind the app, RSS on request over IPC. */
async function serve() {
  const { serve: listen } = await import(peers.resolve("@hono/node-server"));
  const { loadSae } = await import("../dist/node.js");
  const { createApp } = await import("../dist/http.js");
  const sae = await loadSae(MODEL);
  const app = createApp({ sae: async () => sae });
  const server = listen({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, ({ port }) => process.send({ port }));
  process.on("message", (m) => (m === "rss" ? process.send({ rss: process.memoryUsage().rss }) : server.close(() => process.exit(0))));
}

async function main() {
  const { values: o } = parseArgs({ options: { duration: { type: "string", default: "60" }, connections: { type: "string", default: "16,64" } } });
  const autocannon = peers("autocannon");
  const { loadSae } = await import("../dist/node.js");
  const server = fork(new URL(import.meta.url), ["--serve"]);
  const reply = (key) => new Promise((resolve) => server.once("message", (m) => resolve(m[key])));
  const port = await reply("port");
  const rss = async () => (server.send("rss"), (await reply("rss")) / 2 ** 20);
  const requests = await mix(loadSae);
  console.log(`sae-edge HTTP load: MNIST 784×1024 k=32 on 127.0.0.1:${port}, Node ${process.version}, ${o.duration} s per run; requests in turn: ${requests.map((r) => `${r.label} (${r.want})`).join(", ")}`);
  let failed = false;
  for (const connections of o.connections.split(",").map(Number)) {
    const before = await rss();
    const unexpected = new Map();
    const run = await autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      duration: Number(o.duration),
      timeout: 10,
      requests: requests.map(({ label, want, ...r }) => ({
        ...r,
        onResponse: (status) => status !== want && unexpected.set(`${label}: ${status}`, (unexpected.get(`${label}: ${status}`) ?? 0) + 1),
      })),
    });
    const after = await rss();
    const wrong = [...unexpected.values()].reduce((a, b) => a + b, 0);
    const errors = run.errors + run.timeouts + wrong;
    failed ||= errors > 0;
    const seconds = (run.finish - run.start) / 1000;
    console.log(
      `${connections} connections: ${run.requests.total} requests in ${seconds.toFixed(1)} s, ${(run.requests.total / seconds).toFixed(0)} req/s, ` +
        `latency p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms; errors ${run.errors}, timeouts ${run.timeouts}, unexpected statuses ${wrong}` +
        `${wrong ? ` (${[...unexpected].map(([k, n]) => `${k} ×${n}`).join(", ")})` : ""}; server RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB`,
    );
  }
  server.send("close");
  process.exitCode = failed ? 1 : 0;
}

/** The requests each connection sends in turn, with the status each must get. */
async function mix(loadSae) {
  const sae = await loadSae(MODEL);
  const { concatRows, mnistDigits } = await import("../dist/demo.js");
  const digits = concatRows(mnistDigits().map((d) => d.subarray(0, 784))).subarray(0, 8 * 784); // one of each digit 0..7
  const rows = (n) => Array.from({ length: n }, (_, r) => Array.from(digits.subarray(r * 784, (r + 1) * 784)));
  const codes = sae.encode(digits.subarray(0, 4 * 784), 4);
  const codeRows = Array.from({ length: 4 }, (_, r) => {
    const [a, b] = [codes.rowOffsets[r], codes.rowOffsets[r + 1]];
    return { indices: Array.from(codes.indices.subarray(a, b)), values: Array.from(codes.values.subarray(a, b)) };
  });
  sae.dispose();
  const json = (path, body) => ({ method: "POST", path, headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const binary = (path, x, n) => ({ method: "POST", path, headers: { "content-type": "application/octet-stream", "x-rows": String(n) }, body: Buffer.from(x.buffer, x.byteOffset, x.byteLength) });
  return [
    { label: "encode 1 row", want: 200, ...json("/v1/encode", { inputs: rows(1) }) },
    { label: "score 8 rows", want: 200, ...json("/v1/score", { inputs: rows(8) }) },
    { label: "decode 4 rows of codes", want: 200, ...json("/v1/decode", { codes: codeRows }) },
    { label: "encode 4 rows float32", want: 200, ...binary("/v1/encode", digits.subarray(0, 4 * 784), 4) },
    { label: "malformed JSON", want: 400, ...json("/v1/encode", '{"inputs": [[1, 2,') },
    { label: "score a row of the wrong width", want: 400, ...json("/v1/score", { inputs: [[1, 2, 3]] }) },
    { label: "decode an index ≥ d_sae", want: 400, ...json("/v1/decode", { codes: [{ indices: [5000], values: [1] }] }) },
    { label: "decode 2,000 latents in a row", want: 400, ...json("/v1/decode", { codes: [{ indices: Array(2000).fill(1), values: Array(2000).fill(1) }] }) },
  ];
}
