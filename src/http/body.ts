// Request bodies to input rows: JSON {"inputs": [[…], …]} or raw little-endian
// float32 (application/octet-stream) with the row count in the X-Rows header; sparse
// codes as JSON [{indices, values}, …]. Anything malformed becomes a BadRequest (HTTP 400)
// that names the problem, found before any work is done or any memory sized by the caller.
import type { SparseCodes } from "../runtime/index.js";

export class BadRequest extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export interface Rows {
  x: Float32Array;
  rows: number;
}

const bad = (code: string, message: string): never => {
  throw new BadRequest(code, message);
};

const tooMany = (rows: number, maxRows: number): never =>
  bad("TOO_MANY_ROWS", `at most ${maxRows} rows per request for this model, got ${rows}`);

/** A float32 value of a JSON number, or a 400 naming where it is. */
function f32(v: unknown, where: string): number {
  if (typeof v !== "number") bad("INPUT_SHAPE", `${where} is not a number`);
  // A finite double beyond float32's range (1e39) would become Infinity inside.
  if (!Number.isFinite(Math.fround(v as number))) bad("INPUT_NONFINITE", `${where} is not a finite float32`);
  return v as number;
}

/** Rows of `width` floats from a JSON array of arrays of numbers. */
export function rowsFromJson(inputs: unknown, width: number, maxRows: number, field = "inputs"): Rows {
  if (!Array.isArray(inputs) || inputs.length === 0) bad("INPUT_SHAPE", `"${field}" must be a non-empty array of rows`);
  const list = inputs as unknown[];
  if (list.length > maxRows) tooMany(list.length, maxRows);
  const x = new Float32Array(list.length * width);
  list.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== width) bad("INPUT_SHAPE", `${field}[${r}] must be an array of ${width} numbers`);
    (row as unknown[]).forEach((v, i) => (x[r * width + i] = f32(v, `${field}[${r}][${i}]`)));
  });
  return { x, rows: list.length };
}

/** Rows of `width` floats from a binary body (the header says how many rows). */
export function rowsFromBinary(body: ArrayBuffer, rowsHeader: string | undefined, width: number, maxRows: number): Rows {
  const rows = Number(rowsHeader);
  if (!rowsHeader || !Number.isSafeInteger(rows) || rows < 1) bad("INPUT_SHAPE", "binary bodies need an X-Rows header with the row count (a positive integer)");
  if (rows > maxRows) tooMany(rows, maxRows);
  if (body.byteLength !== rows * width * 4) {
    bad("INPUT_SHAPE", `X-Rows ${rows} × ${width} float32 = ${rows * width * 4} bytes, body has ${body.byteLength}`);
  }
  return { x: new Float32Array(body), rows };
}

/**
 * JSON codes [{indices, values}, …] to CSR. A row holds at most d_sae latents, each index in
 * [0, d_sae), so a request's size is bounded by rows × d_sae whatever the body holds.
 */
export function codesFromJson(list: unknown, dSae: number, maxRows: number): SparseCodes {
  if (!Array.isArray(list) || list.length === 0) bad("INPUT_SHAPE", `"codes" must be a non-empty array of {indices, values}`);
  const rows = list as unknown[];
  if (rows.length > maxRows) tooMany(rows.length, maxRows);
  const rowOffsets = new Uint32Array(rows.length + 1);
  const parsed = rows.map((row, r) => {
    const { indices: i, values: v } = (row ?? {}) as { indices?: unknown; values?: unknown };
    if (!Array.isArray(i) || !Array.isArray(v) || i.length !== v.length) bad("INPUT_SHAPE", `codes[${r}] needs arrays "indices" and "values" of one length`);
    if ((i as unknown[]).length > dSae) bad("INPUT_SHAPE", `codes[${r}] has ${(i as unknown[]).length} latents, more than d_sae ${dSae}`);
    rowOffsets[r + 1] = rowOffsets[r] + (i as unknown[]).length;
    return [i, v] as [unknown[], unknown[]];
  });
  const indices = new Uint32Array(rowOffsets[rows.length]), values = new Float32Array(indices.length);
  parsed.forEach(([i, v], r) => {
    i.forEach((j, e) => {
      if (!Number.isInteger(j) || (j as number) < 0 || (j as number) >= dSae) bad("INPUT_SHAPE", `codes[${r}].indices[${e}] must be an integer in [0, ${dSae})`);
      indices[rowOffsets[r] + e] = j as number;
      values[rowOffsets[r] + e] = f32(v[e], `codes[${r}].values[${e}]`);
    });
  });
  return { rows: rows.length, dSae, rowOffsets, indices, values };
}

/** Parses JSON text, turning a syntax error into a 400. */
export function parseJson(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return bad("MALFORMED_JSON", `body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) bad("MALFORMED_JSON", "body must be a JSON object");
  return v as Record<string, unknown>;
}
