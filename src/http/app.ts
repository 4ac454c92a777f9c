// The sae-edge HTTP API as one Hono app, shared by the Cloudflare Worker and
// `deno serve` (both take an `export default { fetch }`):
//   GET  /healthz        liveness, never loads the model
//   GET  /v1/info        the model's spec and the kernel build in use
//   POST /v1/encode      rows -> sparse codes {indices, values} per row
//   POST /v1/decode      codes (JSON) or dense latents (binary) -> reconstructions
//   POST /v1/score       rows -> squared and normalized reconstruction errors
// Rows come as JSON {"inputs": [[…], …]} or float32 bytes with X-Rows.
import { Hono, type Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import type { Sae, SparseCodes } from "../runtime/index.js";
import { BadRequest, parseJson, rowsFromBinary, rowsFromJson, type Rows } from "./body.js";

export interface SaeAppOptions {
  /** The model; called per request, so it should load once and cache (per isolate). */
  sae: (c: Context) => Promise<Sae>;
  /** If it returns a token, requests need `Authorization: Bearer <token>` (401 otherwise). */
  token?: (c: Context) => string | undefined;
  /** Largest request body in bytes (413 above it). Default 8 MiB. */
  maxBodyBytes?: number;
  /** Most rows per request. Default 1024. */
  maxRows?: number;
}

// Errors the library reports about the request's input are 400s; a model or kernel that cannot
// be had is a 503 (SOURCE_*: the operator's to fix, a retry may succeed); anything else is a 500.
const CLIENT_CODES = new Set(["INPUT_SHAPE", "INPUT_NONFINITE", "INVALID_ARGUMENT"]);
const UNAVAILABLE_CODES = new Set(["SOURCE_NOT_FOUND", "SOURCE_UNAVAILABLE"]);

/** A failure to load the model: never the request's fault, whatever its code says. */
class ModelLoadError extends Error {
  constructor(readonly code: string | undefined, message: string) {
    super(message);
  }
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });

export function createApp(options: SaeAppOptions): Hono {
  const maxBody = options.maxBodyBytes ?? 8 << 20;
  const maxRows = options.maxRows ?? 1024;
  const app = new Hono();
  const model = (c: Context): Promise<Sae> =>
    options.sae(c).catch((e: unknown) => {
      throw new ModelLoadError((e as { code?: string }).code, (e as Error).message ?? String(e));
    });

  app.get("/healthz", (c) => c.text("ok"));

  app.use("/v1/*", async (c, next) => {
    const token = options.token?.(c);
    if (!token) return next();
    return bearerAuth({ token, noAuthenticationHeaderMessage: errorBody("UNAUTHORIZED", "missing bearer token"), invalidTokenMessage: errorBody("UNAUTHORIZED", "invalid bearer token") })(c, next);
  });
  app.use("/v1/*", bodyLimit({ maxSize: maxBody, onError: (c) => c.json(errorBody("BODY_TOO_LARGE", `body larger than ${maxBody} bytes`), 413) }));

  /** Input rows of `width` from either body kind. */
  async function rows(c: Context, width: number): Promise<Rows> {
    if (isBinary(c)) return rowsFromBinary(await c.req.arrayBuffer(), c.req.header("x-rows"), width, maxRows);
    return rowsFromJson(parseJson(await c.req.text()).inputs, width, maxRows);
  }

  app.get("/v1/info", async (c) => {
    const { info } = await model(c);
    return c.json({ ...info, limits: { maxBodyBytes: maxBody, maxRows } });
  });

  app.post("/v1/encode", async (c) => {
    const sae = await model(c);
    const { x, rows: n } = await rows(c, sae.info.dIn);
    const codes = sae.encode(x, n);
    return c.json({ rows: n, codes: perRow(codes) });
  });

  app.post("/v1/decode", async (c) => {
    const sae = await model(c);
    const { dIn, dSae } = sae.info;
    let out: Float32Array, n: number;
    if (isBinary(c)) {
      const z = rowsFromBinary(await c.req.arrayBuffer(), c.req.header("x-rows"), dSae, maxRows);
      [out, n] = [sae.decodeDense(z.x, z.rows), z.rows];
    } else {
      const codes = codesFromJson(parseJson(await c.req.text()).codes, dSae, maxRows);
      [out, n] = [sae.decode(codes), codes.rows];
    }
    const width = sae.info.dOut ?? dIn;
    return c.json({ rows: n, reconstructions: Array.from({ length: n }, (_, r) => Array.from(out.subarray(r * width, (r + 1) * width))) });
  });

  app.post("/v1/score", async (c) => {
    const sae = await model(c);
    const { x, rows: n } = await rows(c, sae.info.dIn);
    const s = sae.score(x, n);
    return c.json({ rows: n, squared: Array.from(s.squared), normalized: Array.from(s.normalized, (v) => (Number.isFinite(v) ? v : null)) });
  });

  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route ${c.req.method} ${new URL(c.req.url).pathname}`), 404));
  app.onError((e, c) => {
    if (e instanceof BadRequest) return c.json(errorBody(e.code, e.message), 400);
    const code = (e as { code?: string }).code;
    if (code && UNAVAILABLE_CODES.has(code)) return c.json(errorBody(code, e.message), 503);
    if (e instanceof ModelLoadError) return c.json(errorBody(code ?? "INTERNAL", e.message), 500);
    if (code && CLIENT_CODES.has(code)) return c.json(errorBody(code, e.message), 400);
    if ("getResponse" in e && typeof e.getResponse === "function") return e.getResponse(); // Hono's HTTPException (401, 413)
    return c.json(errorBody("INTERNAL", e.message), 500);
  });
  return app;
}

const isBinary = (c: Context) => (c.req.header("content-type") ?? "").startsWith("application/octet-stream");

function perRow(codes: SparseCodes) {
  return Array.from({ length: codes.rows }, (_, r) => {
    const [a, b] = [codes.rowOffsets[r], codes.rowOffsets[r + 1]];
    return { indices: Array.from(codes.indices.subarray(a, b)), values: Array.from(codes.values.subarray(a, b)) };
  });
}

/** JSON codes [{indices, values}, …] to CSR (the library validates index ranges). */
function codesFromJson(list: unknown, dSae: number, maxRows: number): SparseCodes {
  if (!Array.isArray(list) || list.length === 0) throw new BadRequest("INPUT_SHAPE", `"codes" must be a non-empty array of {indices, values}`);
  if (list.length > maxRows) throw new BadRequest("TOO_MANY_ROWS", `at most ${maxRows} rows per request, got ${list.length}`);
  const rowOffsets = new Uint32Array(list.length + 1);
  const indices: number[] = [], values: number[] = [];
  list.forEach((row: { indices?: unknown; values?: unknown }, r) => {
    const { indices: i, values: v } = row ?? {};
    if (!Array.isArray(i) || !Array.isArray(v) || i.length !== v.length) throw new BadRequest("INPUT_SHAPE", `codes[${r}] needs arrays "indices" and "values" of one length`);
    i.forEach((j, e) => {
      if (!Number.isInteger(j) || j < 0 || j >= dSae) throw new BadRequest("INPUT_SHAPE", `codes[${r}].indices[${e}] must be an integer in [0, ${dSae})`);
      if (typeof v[e] !== "number" || !Number.isFinite(v[e])) throw new BadRequest("INPUT_NONFINITE", `codes[${r}].values[${e}] must be a finite number`);
    });
    indices.push(...i);
    values.push(...v);
    rowOffsets[r + 1] = indices.length;
  });
  return { rows: list.length, dSae, rowOffsets, indices: Uint32Array.from(indices), values: Float32Array.from(values) };
}
