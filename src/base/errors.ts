// Every failure sae-edge reports is a SaeEdgeError with a code from this closed
// list, so callers (and the CLI, which maps them to exit code 2) can branch on it.
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
  | "DISPOSED";                      // the SAE was disposed

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
