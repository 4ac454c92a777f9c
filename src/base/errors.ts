// Every failure sae-edge reports is a SaeEdgeError with a code from this closed
// list, so callers can branch on it. Whose fault it is decides how front ends report it:
// - the caller's mistake (every code but the three below): CLI exit 2, HTTP 400 when the
//   request caused it;
// - SOURCE_UNAVAILABLE (bytes that exist, or may, could not be read or written now) and
//   INTERNAL (a bug in sae-edge): CLI exit 1, HTTP 503 and 500 (see isCallerError);
// - SOURCE_NOT_FOUND: no file, folder, URL (HTTP 404/410) or R2 object by that name. The
//   mistake of whoever named it: on the command line the caller (exit 2); behind the HTTP API
//   the operator who configured the model, so a request that meets it gets a 503.
export type SaeErrorCode =
  // safetensors container
  | "SAFETENSORS_TRUNCATED"          // fewer bytes than the header or a tensor needs
  | "SAFETENSORS_HEADER_TOO_LARGE"   // header length above the cap or past the end
  | "SAFETENSORS_INVALID_HEADER"     // not JSON, not an object, bad entry, bad metadata
  | "SAFETENSORS_INVALID_OFFSETS"    // offsets not contiguous from 0, overlapping, or not matching dtype x shape
  | "SAFETENSORS_INCOMPLETE_BUFFER"  // data section not fully covered by tensors
  // .npy arrays
  | "NPY_INVALID"                    // bad magic, version, header or size
  | "NPY_UNSUPPORTED"                // dtype, byte order, fortran order or rank we do not read
  // sae-edge model files and checkpoints
  | "MODEL_INVALID"                  // metadata, dtype or shape not as the spec says; non-finite weights
  | "MODEL_UNSUPPORTED"              // a valid file asking for something this version does not do
  | "CHECKPOINT_INVALID"             // an importer's input is malformed
  | "CHECKPOINT_UNSUPPORTED"         // an importer's input uses a feature not supported
  // calls
  | "INPUT_SHAPE"                    // wrong length, n = 0, dims mismatch
  | "INPUT_NONFINITE"                // NaN or infinity in an input
  | "INVALID_ARGUMENT"               // an option or argument out of range
  | "TRAINING_DIVERGED"              // training produced NaN or infinity
  | "KERNEL_UNAVAILABLE"             // a forced kernel this engine cannot run
  | "DISPOSED"                       // the SAE was disposed
  // sources and sae-edge itself
  | "SOURCE_NOT_FOUND"               // no file, folder, URL (HTTP 404/410) or R2 object by that name
  | "SOURCE_UNAVAILABLE"             // an I/O error, permission, failed fetch, other HTTP status, object gone mid-read
  | "INTERNAL";                      // a bug in sae-edge: kernel abort, broken invariant

export class SaeEdgeError extends Error {
  readonly code: SaeErrorCode;
  /** The input row at fault, when the error is about one row. */
  readonly row?: number;
  readonly #describe?: (row: number) => string;
  constructor(code: SaeErrorCode, message: string, row?: number, describe?: (row: number) => string) {
    super(message);
    this.name = "SaeEdgeError";
    this.code = code;
    this.row = row;
    this.#describe = describe;
  }

  /** The same error for a caller that passed rows starting at `offset` of a larger input. */
  atRowOffset(offset: number): SaeEdgeError {
    if (this.row === undefined || !this.#describe) return this;
    return new SaeEdgeError(this.code, this.#describe(this.row + offset), this.row + offset, this.#describe);
  }
}

/** An error about one input row; the message names it, and atRowOffset can renumber it. */
export function failRow(code: SaeErrorCode, row: number, describe: (row: number) => string): never {
  throw new SaeEdgeError(code, describe(row), row, describe);
}

export function fail(code: SaeErrorCode, message: string): never {
  throw new SaeEdgeError(code, message);
}

/** False for the failures that are not the caller's doing: an unavailable source, a bug in sae-edge. */
export function isCallerError(code: SaeErrorCode): boolean {
  return code !== "SOURCE_UNAVAILABLE" && code !== "INTERNAL";
}

// errno (Node) and error names (Deno) that mean "nothing by that name".
const NOT_FOUND = new Set(["ENOENT", "ENOTDIR", "NotFound"]);

/** A failed open/read/write of `what` as SOURCE_NOT_FOUND or SOURCE_UNAVAILABLE, with the system's reason. */
export function failIo(what: string, e: unknown): never {
  const err = e as { code?: string; name?: string; message?: string };
  const reason = err.code ?? err.message ?? String(e);
  fail(NOT_FOUND.has(err.code ?? err.name ?? "") ? "SOURCE_NOT_FOUND" : "SOURCE_UNAVAILABLE", `${what}: ${reason}`);
}
