// Request bodies to input rows: JSON {"inputs": [[…], …]} or raw little-endian
// float32 (application/octet-stream) with the row count in the X-Rows header.
// Anything malformed becomes a BadRequest (HTTP 400) that names the problem.

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

/** Rows of `width` floats from a JSON array of arrays of numbers. */
export function rowsFromJson(inputs: unknown, width: number, maxRows: number, field = "inputs"): Rows {
  if (!Array.isArray(inputs) || inputs.length === 0) bad("INPUT_SHAPE", `"${field}" must be a non-empty array of rows`);
  const list = inputs as unknown[];
  if (list.length > maxRows) bad("TOO_MANY_ROWS", `at most ${maxRows} rows per request, got ${list.length}`);
  const x = new Float32Array(list.length * width);
  list.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== width) bad("INPUT_SHAPE", `${field}[${r}] must be an array of ${width} numbers`);
    (row as unknown[]).forEach((v, i) => {
      if (typeof v !== "number") bad("INPUT_SHAPE", `${field}[${r}][${i}] is not a number`);
      if (!Number.isFinite(v)) bad("INPUT_NONFINITE", `${field}[${r}][${i}] is not finite`);
      x[r * width + i] = v as number;
    });
  });
  return { x, rows: list.length };
}

/** Rows of `width` floats from a binary body (the header says how many rows). */
export function rowsFromBinary(body: ArrayBuffer, rowsHeader: string | undefined, width: number, maxRows: number): Rows {
  const rows = Number(rowsHeader);
  if (!rowsHeader || !Number.isSafeInteger(rows) || rows < 1) bad("INPUT_SHAPE", "binary bodies need an X-Rows header with the row count (a positive integer)");
  if (rows > maxRows) bad("TOO_MANY_ROWS", `at most ${maxRows} rows per request, got ${rows}`);
  if (body.byteLength !== rows * width * 4) {
    bad("INPUT_SHAPE", `X-Rows ${rows} × ${width} float32 = ${rows * width * 4} bytes, body has ${body.byteLength}`);
  }
  return { x: new Float32Array(body), rows };
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
