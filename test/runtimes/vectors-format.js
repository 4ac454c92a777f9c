// vectors.bin: the fixed test vectors as one file every runtime can read
// (u32 LE header length, JSON header, then the blobs it points at).
// Written by make-fixtures.mjs on Node 20, read by probe.js everywhere.

export function writeVectors(cases, bigX) {
  const blobs = [];
  let at = 0;
  const put = (bytes) => {
    const ref = [at, bytes.byteLength];
    blobs.push(bytes);
    at += bytes.byteLength + ((8 - (bytes.byteLength % 8)) % 8);
    blobs.push(new Uint8Array((8 - (bytes.byteLength % 8)) % 8));
    return ref;
  };
  const u8 = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const header = {
    cases: cases.map((c) => ({ id: c.id, quant: c.quant, rows: c.rows, model: put(c.bytes), x: put(u8(c.x)) })),
    bigX: put(u8(bigX)),
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - ((4 + json.length) % 8)) % 8;
  json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  const out = new Uint8Array(4 + json.length + at);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  let o = 4 + json.length;
  for (const b of blobs) {
    out.set(b, o);
    o += b.byteLength;
  }
  return out;
}

export function readVectors(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)));
  const base = 4 + n;
  // Uint8Array's slice (a copy): Node's Buffer.slice would share memory.
  const blob = ([off, len]) => Uint8Array.prototype.slice.call(bytes, base + off, base + off + len);
  const f32 = (ref) => new Float32Array(blob(ref).buffer);
  return {
    cases: header.cases.map((c) => ({ ...c, model: blob(c.model), x: f32(c.x) })),
    bigX: f32(header.bigX),
  };
}
