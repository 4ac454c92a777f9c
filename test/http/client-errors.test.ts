// Every mistake a client can make answers 4xx with one line of JSON {error: {code, message}}, found
// before work sized by the request is done; the app answers correctly afterwards. 500 and 503 are
// only for the operator's model and sae-edge itself (test/runtime/api-errors.test.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { createApp, type SaeApp } from "../../src/http/app.js";
import { loadSae } from "../../src/adapters/node/index.js";
import { buildModel, serializeModel } from "../../src/model/quantize.js";
import type { Sae } from "../../src/runtime/index.js";
import { randomInput, randomWeights } from "../helpers/common.mjs";

const D_IN = 20;
const D_SAE = 48;
const TOKEN = "t0ken";
const X = randomInput(3, D_IN, 7);
const row = (r = 0) => Array.from(X.subarray(r * D_IN, (r + 1) * D_IN));

let sae: Sae;
let app: SaeApp;
beforeAll(async () => {
  sae = await loadSae(serializeModel(buildModel(randomWeights({ architecture: "topk", dIn: D_IN, dSae: D_SAE, k: 4, seed: 42 }), "int8")));
  app = createApp({ sae: async () => sae, token: () => TOKEN, maxBodyBytes: 2 << 20, maxRows: 8 });
});

const auth = { authorization: `Bearer ${TOKEN}` };
type Body = string | Uint8Array | Float32Array;
const send = async (path: string, body?: Body, headers: Record<string, string> = {}, method = body === undefined ? "GET" : "POST", to: SaeApp = app) =>
  to.fetch(new Request(`http://sae.test${path}`, { method, body: body as BodyInit | undefined, headers: { ...auth, "content-type": "application/json", ...headers } }));
const json = (path: string, value: unknown) => send(path, JSON.stringify(value));
const binary = (path: string, x: Float32Array, rows?: string) => send(path, x, { "content-type": "application/octet-stream", ...(rows === undefined ? {} : { "x-rows": rows }) });

/** The response is `status` with one line of JSON {error: {code, message}}; returns the message. */
async function expectError(res: Response, status: number, code: string): Promise<string> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(text).not.toMatch(/\n/);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(/^[^\n]+$/);
  return body.error.message;
}

const cases: [string, number, string, () => Promise<Response>][] = [
  // Bodies that are not what any route reads.
  ["malformed JSON", 400, "MALFORMED_JSON", () => send("/v1/encode", '{"inputs": [[1, 2,')],
  ["an empty body", 400, "MALFORMED_JSON", () => send("/v1/encode", "")],
  ["a NaN literal", 400, "MALFORMED_JSON", () => send("/v1/encode", '{"inputs": [[NaN]]}')],
  ["a JSON array, not an object", 400, "MALFORMED_JSON", () => json("/v1/encode", [row()])],
  ["a body over maxBodyBytes", 413, "BODY_TOO_LARGE", () => binary("/v1/encode", new Float32Array((1 << 19) + 1), "1")],
  // Rows (encode and score read them alike).
  ["no inputs", 400, "INPUT_SHAPE", () => json("/v1/encode", { rows: [row()] })],
  ["inputs not an array", 400, "INPUT_SHAPE", () => json("/v1/score", { inputs: "1,2,3" })],
  ["no rows", 400, "INPUT_SHAPE", () => json("/v1/encode", { inputs: [] })],
  ["a row of the wrong width", 400, "INPUT_SHAPE", () => json("/v1/encode", { inputs: [row(), [1, 2, 3]] })],
  ["a row that is not an array", 400, "INPUT_SHAPE", () => json("/v1/score", { inputs: [{ 0: 1 }] })],
  ["a string in a row", 400, "INPUT_SHAPE", () => json("/v1/encode", { inputs: [[...row().slice(1), "1"]] })],
  ["null in a row", 400, "INPUT_SHAPE", () => json("/v1/score", { inputs: [[null, ...row().slice(1)]] })],
  ["1e999 (Infinity) in a row", 400, "INPUT_NONFINITE", () => send("/v1/score", `{"inputs": [[1e999${",0".repeat(D_IN - 1)}]]}`)],
  ["1e39 (beyond float32) in a row", 400, "INPUT_NONFINITE", () => send("/v1/encode", `{"inputs": [[1e39${",0".repeat(D_IN - 1)}]]}`)],
  ["more rows than maxRows", 400, "TOO_MANY_ROWS", () => json("/v1/encode", { inputs: Array(9).fill(row()) })],
  // Float32 bodies.
  ["a float32 body without X-Rows", 400, "INPUT_SHAPE", () => binary("/v1/encode", X)],
  ["X-Rows 0", 400, "INPUT_SHAPE", () => binary("/v1/encode", X, "0")],
  ["X-Rows -1", 400, "INPUT_SHAPE", () => binary("/v1/score", X, "-1")],
  ["X-Rows 1.5", 400, "INPUT_SHAPE", () => binary("/v1/encode", X, "1.5")],
  ["X-Rows abc", 400, "INPUT_SHAPE", () => binary("/v1/encode", X, "abc")],
  ["X-Rows 2^53", 400, "INPUT_SHAPE", () => binary("/v1/encode", X, "9007199254740993")],
  ["X-Rows over maxRows", 400, "TOO_MANY_ROWS", () => binary("/v1/encode", X, "9")],
  ["a float32 body of the wrong size", 400, "INPUT_SHAPE", () => binary("/v1/encode", X.subarray(0, 2 * D_IN + 1), "2")],
  ["a body not a whole number of float32", 400, "INPUT_SHAPE", () => send("/v1/encode", new Uint8Array(4 * D_IN + 2), { "content-type": "application/octet-stream", "x-rows": "1" })],
  ["NaN in a float32 body", 400, "INPUT_NONFINITE", () => binary("/v1/score", new Float32Array(D_IN).fill(NaN), "1")],
  // Codes for decode.
  ["no codes", 400, "INPUT_SHAPE", () => json("/v1/decode", { inputs: [row()] })],
  ["no code rows", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [] })],
  ["a code row that is null", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [null] })],
  ["indices without values", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [{ indices: [1, 2] }] })],
  ["indices and values of two lengths", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [{ indices: [1, 2], values: [1] }] })],
  ["an index = d_sae", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [{ indices: [D_SAE], values: [1] }] })],
  ["a negative index", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [{ indices: [-1], values: [1] }] })],
  ["a fractional index", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [{ indices: [1.5], values: [1] }] })],
  ["an index as a string", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [{ indices: ["1"], values: [1] }] })],
  ["a value as a string", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [{ indices: [1], values: ["1"] }] })],
  ["a value of 1e39", 400, "INPUT_NONFINITE", () => send("/v1/decode", '{"codes": [{"indices": [1], "values": [1e39]}]}')],
  ["a row of more than d_sae latents", 400, "INPUT_SHAPE", () => json("/v1/decode", { codes: [{ indices: Array(D_SAE + 1).fill(0), values: Array(D_SAE + 1).fill(1) }] })],
  // The case: one row of 300,001 indices under the body limit was a stack overflow (500).
  ["a row of 300,001 latents", 400, "INPUT_SHAPE", () => send("/v1/decode", `{"codes": [{"indices": [${"0,".repeat(300_000)}0], "values": [${"1,".repeat(300_000)}1]}]}`)],
  ["more code rows than maxRows", 400, "TOO_MANY_ROWS", () => json("/v1/decode", { codes: Array(9).fill({ indices: [1], values: [1] }) })],
  ["dense latents of the wrong width", 400, "INPUT_SHAPE", () => binary("/v1/decode", new Float32Array(D_SAE - 1), "1")],
  ["NaN in dense latents", 400, "INPUT_NONFINITE", () => binary("/v1/decode", new Float32Array(D_SAE).fill(NaN), "1")],
  // Routes and auth.
  ["an unknown route", 404, "NOT_FOUND", () => send("/v2/encode", "{}")],
  ["GET on a POST route", 404, "NOT_FOUND", () => send("/v1/encode")],
  ["no bearer token", 401, "UNAUTHORIZED", () => send("/v1/info", undefined, { authorization: "" })],
  ["a wrong bearer token", 401, "UNAUTHORIZED", () => send("/v1/info", undefined, { authorization: "Bearer nope" })],
  ["an Authorization header that is not Bearer", 400, "BAD_AUTHORIZATION", () => send("/v1/info", undefined, { authorization: "Basic dTpw" })],
];

describe("client mistakes: 4xx and one line of JSON", () => {
  it.each(cases)("%s -> %i %s", async (_, status, code, request) => {
    await expectError(await request(), status, code);
  });

  it("the app answers good requests correctly after every one of them", async () => {
    for (const [, , , request] of cases) await request();
    const enc = await json("/v1/encode", { inputs: [row(0), row(1)] });
    expect(enc.status).toBe(200);
    const codes = sae.encode(X.subarray(0, 2 * D_IN), 2);
    const body = (await enc.json()) as { codes: { indices: number[]; values: number[] }[] };
    expect(body.codes[1].indices).toEqual(Array.from(codes.indices.subarray(codes.rowOffsets[1], codes.rowOffsets[2])));
    const dec = await json("/v1/decode", { codes: body.codes });
    expect(dec.status).toBe(200);
    expect(((await dec.json()) as { reconstructions: number[][] }).reconstructions[0]).toEqual(Array.from(sae.decode(codes).subarray(0, D_IN)));
  });

  it("a row of exactly d_sae latents (repeats allowed) is decoded", async () => {
    const res = await json("/v1/decode", { codes: [{ indices: Array.from({ length: D_SAE }, (_, j) => j % 3), values: Array(D_SAE).fill(0.5) }] });
    expect(res.status).toBe(200);
  });
});

describe("work per request: rows × d_sae × max(d_in, d_out) at most maxWork", () => {
  const work = D_SAE * D_IN; // per row of this model
  const limited = (maxWork: number) => createApp({ sae: async () => sae, maxWork });

  it("a request over the work limit is a 400 TOO_MANY_ROWS naming the limit; one at it a 200", async () => {
    const app2 = limited(2 * work + work / 2);
    const message = await expectError(await send("/v1/score", JSON.stringify({ inputs: [row(0), row(1), row(2)] }), {}, "POST", app2), 400, "TOO_MANY_ROWS");
    expect(message).toMatch(/at most 2 rows/);
    await expectError(await send("/v1/decode", new Float32Array(3 * D_SAE), { "content-type": "application/octet-stream", "x-rows": "3" }, "POST", app2), 400, "TOO_MANY_ROWS");
    expect((await send("/v1/score", JSON.stringify({ inputs: [row(0), row(1)] }), {}, "POST", app2)).status).toBe(200);
  });

  it("/v1/info tells the row limit for this model; one row is always allowed", async () => {
    const info = async (maxWork: number) => ((await (await send("/v1/info", undefined, {}, "GET", limited(maxWork))).json()) as { limits: { maxRows: number; maxWork: number } }).limits;
    expect(await info(5 * work)).toEqual({ maxBodyBytes: 8 << 20, maxRows: 5, maxWork: 5 * work });
    expect((await info(1)).maxRows).toBe(1);
    expect((await info(2 ** 40)).maxRows).toBe(1024);
  });
});
