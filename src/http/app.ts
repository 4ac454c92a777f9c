// The sae-edge HTTP API as one Hono app, shared by the Cloudflare Worker and
// `deno serve` (both take an `export default { fetch }`):
//   GET  /healthz        liveness, never loads the model
//   GET  /v1/info        the model's spec and the kernel build in use
//   POST /v1/encode      rows -> sparse codes {indices, values} per row
//   POST /v1/decode      codes (JSON) or dense latents (binary) -> reconstructions
//   POST /v1/score       rows -> squared and normalized reconstruction errors
// Rows come as JSON {"inputs": [[…], …]} or float32 bytes with X-Rows.
/**
 * The HTTP API (healthz, info, encode, decode, score) as one fetch handler for Workers, `deno serve` or a Hono app.
 * @module sae-edge/http
 */
import { Hono, type Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import type { Sae, SparseCodes } from "../runtime/index.js";
import { BadRequest, codesFromJson, parseJson, rowsFromBinary, rowsFromJson, type Rows } from "./body.js";

/** What the option callbacks see of a request: the runtime's bindings (a Worker's `env`) and the request itself. */
export interface SaeRequestContext {
  readonly env: unknown;
  readonly req: { readonly raw: Request };
}

/**
 * The app as a fetch handler: `export default` it from a Worker or for `deno serve`, or mount
 * it in your own Hono app with `app.mount("/sae", saeApp.fetch)`. (Its types name no Hono
 * type, so sae-edge/http needs no hono install and type-checks on any TypeScript ≥ 5.0.)
 */
export interface SaeApp {
  fetch(request: Request, env?: unknown, executionCtx?: unknown): Response | Promise<Response>;
}

export interface SaeAppOptions {
  /** The model; called per request, so it should load once and cache (per isolate). */
  sae: (c: SaeRequestContext) => Promise<Sae>;
  /** If it returns a token, requests need `Authorization: Bearer <token>` (401 otherwise). */
  token?: (c: SaeRequestContext) => string | undefined;
  /** Largest request body in bytes (413 above it). Default 8 MiB. */
  maxBodyBytes?: number;
  /** Most rows per request. Default 1024. */
  maxRows?: number;
  /**
   * Most multiply-adds per request, rows × d_sae × max(d_in, d_out): a row of a large model costs
   * more, so fewer of them fit (at least one always does). Default 2^34, about a second of int8
   * encoding on one core: 910 rows of a 768 × 24576 model, 113 of a 2304 × 65536 one. Over either limit a request gets 400 TOO_MANY_ROWS; `/v1/info` tells the limit.
   */
  maxWork?: number;
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

export function createApp(options: SaeAppOptions): SaeApp {
  const maxBody = options.maxBodyBytes ?? 8 << 20;
  const maxRows = options.maxRows ?? 1024;
  const maxWork = options.maxWork ?? 2 ** 34;
  /** The most rows a request may carry for this model: the lower of maxRows and what maxWork allows. */
  const rowLimit = ({ info }: Sae) => Math.max(1, Math.min(maxRows, Math.floor(maxWork / (info.dSae * Math.max(info.dIn, info.dOut ?? info.dIn)))));
  const app = new Hono();
  const model = (c: Context): Promise<Sae> =>
    options.sae(c).catch((e: unknown) => {
      throw new ModelLoadError((e as { code?: string }).code, (e as Error).message ?? String(e));
    });

  app.get("/healthz", (c) => c.text("ok"));

  app.use("/v1/*", async (c, next) => {
    const token = options.token?.(c);
    if (!token) return next();
    return bearerAuth({
      token,
      noAuthenticationHeaderMessage: errorBody("UNAUTHORIZED", "missing bearer token"),
      invalidAuthenticationHeaderMessage: errorBody("BAD_AUTHORIZATION", "the Authorization header must be: Bearer <token>"),
      invalidTokenMessage: errorBody("UNAUTHORIZED", "invalid bearer token"),
    })(c, next);
  });
  app.use("/v1/*", bodyLimit({ maxSize: maxBody, onError: (c) => c.json(errorBody("BODY_TOO_LARGE", `body larger than ${maxBody} bytes`), 413) }));

  /** The model's input rows from either body kind. */
  async function rows(c: Context, sae: Sae): Promise<Rows> {
    if (isBinary(c)) return rowsFromBinary(await c.req.arrayBuffer(), c.req.header("x-rows"), sae.info.dIn, rowLimit(sae));
    return rowsFromJson(parseJson(await c.req.text()).inputs, sae.info.dIn, rowLimit(sae));
  }

  app.get("/v1/info", async (c) => {
    const sae = await model(c);
    return c.json({ ...sae.info, limits: { maxBodyBytes: maxBody, maxRows: rowLimit(sae), maxWork } });
  });

  app.post("/v1/encode", async (c) => {
    const sae = await model(c);
    const { x, rows: n } = await rows(c, sae);
    const codes = sae.encode(x, n);
    return c.json({ rows: n, codes: perRow(codes) });
  });

  app.post("/v1/decode", async (c) => {
    const sae = await model(c);
    const { dIn, dSae } = sae.info;
    let out: Float32Array, n: number;
    if (isBinary(c)) {
      const z = rowsFromBinary(await c.req.arrayBuffer(), c.req.header("x-rows"), dSae, rowLimit(sae));
      [out, n] = [sae.decodeDense(z.x, z.rows), z.rows];
    } else {
      const codes = codesFromJson(parseJson(await c.req.text()).codes, dSae, rowLimit(sae));
      [out, n] = [sae.decode(codes), codes.rows];
    }
    const width = sae.info.dOut ?? dIn;
    return c.json({ rows: n, reconstructions: Array.from({ length: n }, (_, r) => Array.from(out.subarray(r * width, (r + 1) * width))) });
  });

  app.post("/v1/score", async (c) => {
    const sae = await model(c);
    const { x, rows: n } = await rows(c, sae);
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
