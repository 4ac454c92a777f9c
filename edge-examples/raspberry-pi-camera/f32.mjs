// Float32 values as base64 text in the model's metadata: exact, and far smaller and faster to
// parse than JSON numbers.
export const packF32 = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");

export function unpackF32(text) {
  const bytes = Buffer.from(text, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
