// Random-access bytes a model is read from. The core reads the header, then each
// tensor straight into wasm memory, so no second copy of the weights is made.
export interface ByteSource {
  readonly size: number;
  /** Fills `into` with the bytes at [offset, offset + into.length). */
  read(offset: number, into: Uint8Array): Promise<void>;
  close?(): Promise<void>;
}

export function bytesSource(data: Uint8Array | ArrayBuffer): ByteSource {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  return {
    size: bytes.length,
    async read(offset, into) {
      into.set(bytes.subarray(offset, offset + into.length));
    },
  };
}

export function isByteSource(x: unknown): x is ByteSource {
  return typeof x === "object" && x !== null && typeof (x as ByteSource).read === "function" && typeof (x as ByteSource).size === "number";
}
