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
  constructor(code: SaeErrorCode, message: string) {
    super(message);
    this.name = "SaeEdgeError";
    this.code = code;
  }
}

export function fail(code: SaeErrorCode, message: string): never {
  throw new SaeEdgeError(code, message);
}
