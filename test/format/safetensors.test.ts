import { describe, expect, it } from "vitest";
import {
  DTYPE_BYTES,
  MAX_HEADER_BYTES,
  parseSafetensors,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
  serializeSafetensors,
  toFloat32,
} from "../../src/format/safetensors.js";
import { rng } from "../helpers/common.mjs";
import { expectCode } from "../helpers/expect-code.js";



/** Hand-assembles a file: u64 LE length (or explicit halves), header text, data. */
function assemble(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0), n?: [number, number]): Uint8Array {
  const h = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  const [low, high] = n ?? [h.length, 0];
  for (let k = 0; k < 4; k++) {
    out[k] = (low >>> (8 * k)) & 0xff;
    out[4 + k] = (high >>> (8 * k)) & 0xff;
  }
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const f32 = (v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe("serializeSafetensors / parseSafetensors round trip", () => {
  it("keeps bytes, shapes, dtypes and metadata", () => {
    const r = rng(42);
    const w = new Float32Array(3 * 5).map(() => r() * 2 - 1);
    const q = new Int8Array(7).map(() => Math.floor(r() * 256) - 128);
    // F16 by hand: 1.0, -2.0, 0.5, 65504
    const h = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff]);
    // BF16: the top halves of f32 1.0 and -3.0
    const bf = new Uint16Array([0x3f80, 0xc040]);
    const meta = { format: "sae-edge", note: "ünïcode \"quoted\"" };
    const file = serializeSafetensors(
      {
        "encoder.weight": { dtype: "F32", shape: [3, 5], data: w },
        q: { dtype: "I8", shape: [7], data: q },
        half: { dtype: "F16", shape: [2, 2], data: h },
        bf: { dtype: "BF16", shape: [2], data: bf },
        empty: { dtype: "F32", shape: [4, 0], data: new Float32Array(0) },
      },
      meta,
    );

    const { header, tensor } = parseSafetensors(file);
    expect(header.dataOffset % 8).toBe(0);
    expect(header.dataOffset).toBe(8 + header.headerBytes);
    expect(header.metadata).toEqual(meta);
    expect(header.tensors.map((t) => [t.name, t.dtype, t.shape, t.begin, t.end])).toEqual([
      ["encoder.weight", "F32", [3, 5], 0, 60],
      ["q", "I8", [7], 60, 67],
      ["half", "F16", [2, 2], 67, 75],
      ["bf", "BF16", [2], 75, 79],
      ["empty", "F32", [4, 0], 79, 79],
    ]);
    expect(file.length).toBe(header.dataOffset + 79);

    expect(tensor("encoder.weight")).toEqual(new Uint8Array(w.buffer));
    expect(Array.from(toFloat32(tensor("encoder.weight"), "F32"))).toEqual(Array.from(w));
    expect(new Int8Array(tensor("q").slice().buffer)).toEqual(q);
    expect(Array.from(toFloat32(tensor("half"), "F16"))).toEqual([1, -2, 0.5, 65504]);
    expect(Array.from(toFloat32(tensor("bf"), "BF16"))).toEqual([1, -3]);
    expect(tensor("empty").length).toBe(0);

    // tensor() is a view into the file, not a copy.
    const v = tensor("q");
    expect(v.buffer).toBe(file.buffer);
    expect(v.byteOffset).toBe(header.dataOffset + 60);
  });

  it("writes __metadata__ first, pads the header with spaces, and omits metadata when absent", () => {
    const file = serializeSafetensors({ a: { dtype: "U8", shape: [1], data: new Uint8Array([9]) } }, { k: "v" });
    const n = readSafetensorsHeaderLength(file, file.length);
    const text = new TextDecoder().decode(file.subarray(8, 8 + n));
    expect(text.startsWith('{"__metadata__":{"k":"v"},"a":')).toBe(true);
    expect((8 + n) % 8).toBe(0);
    expect(text).toBe(text.trimEnd() + " ".repeat(text.length - text.trimEnd().length));

    const bare = serializeSafetensors({});
    expect(parseSafetensors(bare).header).toMatchObject({ tensors: [], metadata: {} });
    const bareText = new TextDecoder().decode(bare.subarray(8));
    expect(bareText).toBe("{}      ");
  });

  it("rejects bad input to the writer", () => {
    expectCode(() => serializeSafetensors({ a: { dtype: "F32", shape: [2, 2], data: new Float32Array(3) } }),
      "SAFETENSORS_INVALID_OFFSETS");
    expectCode(() => serializeSafetensors({ a: { dtype: "X" as never, shape: [1], data: new Uint8Array(1) } }),
      "SAFETENSORS_INVALID_HEADER");
    expectCode(() => serializeSafetensors({ a: { dtype: "U8", shape: [-1], data: new Uint8Array(0) } }),
      "SAFETENSORS_INVALID_HEADER");
    expectCode(() => serializeSafetensors({}, { k: 1 as unknown as string }), "SAFETENSORS_INVALID_HEADER");
    expectCode(() => serializeSafetensors({ __metadata__: { dtype: "U8", shape: [0], data: new Uint8Array(0) } }),
      "SAFETENSORS_INVALID_HEADER");
  });
});

describe("hand-assembled file", () => {
  it("parses and decodes values", () => {
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
    // f32 1.5 = 0x3fc00000, -0.25 = 0xbe800000; i32 7, -1; all little-endian.
    const data = new Uint8Array([
      0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x80, 0xbe,
      0x07, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
    ]);
    const file = new Uint8Array(8 + padded.length + data.length);
    file[0] = padded.length & 0xff;
    file[1] = padded.length >> 8;
    for (let k = 0; k < padded.length; k++) file[8 + k] = padded.charCodeAt(k);
    file.set(data, 8 + padded.length);

    const { header, tensor } = parseSafetensors(file);
    expect(header.headerBytes).toBe(padded.length);
    expect(header.metadata).toEqual({ format: "pt" });
    expect(header.tensors.map((t) => t.name)).toEqual(["a", "b"]); // sorted by begin
    expect(Array.from(toFloat32(tensor("a"), "F32"))).toEqual([1.5, -0.25]);
    const b = tensor("b");
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    expect([dv.getInt32(0, true), dv.getInt32(4, true)]).toEqual([7, -1]);
    expectCode(() => tensor("c"), "SAFETENSORS_INVALID_HEADER");
  });

  it("works on an unaligned subarray and with zero-size tensors sharing an offset", () => {
    const json = '{"z1":{"dtype":"F64","shape":[0],"data_offsets":[0,0]},' +
      '"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"z2":{"dtype":"U8","shape":[3,0,2],"data_offsets":[4,4]}}';
    const file = assemble(json, f32([2.5]));
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    const st = parseSafetensors(shifted.subarray(3));
    expect(st.header.tensors.map((t) => t.name)).toEqual(["z1", "x", "z2"]);
    expect(Array.from(toFloat32(st.tensor("x"), "F32"))).toEqual([2.5]);
  });

  it("parseSafetensorsHeader works from just the header bytes", () => {
    const json = '{"x":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}}';
    const file = assemble(json, new Uint8Array(6));
    const n = readSafetensorsHeaderLength(file.subarray(0, 8), file.length);
    expect(n).toBe(json.length);
    const header = parseSafetensorsHeader(file.slice(8, 8 + n), file.length);
    expect(header.tensors).toEqual([{ name: "x", dtype: "BF16", shape: [3], begin: 0, end: 6 }]);
  });
});

describe("hostile files", () => {
  const good = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const entry = (dtype: string, shape: unknown, offsets: unknown) =>
    JSON.stringify({ dtype, shape, data_offsets: offsets });

  it("truncated files", () => {
    expectCode(() => parseSafetensors(new Uint8Array(0)), "SAFETENSORS_TRUNCATED");
    expectCode(() => parseSafetensors(new Uint8Array([8, 0, 0, 0, 0, 0, 0])), "SAFETENSORS_TRUNCATED");
    // Header cut: N says more than the file holds, so the length itself is out of range.
    const whole = assemble(good, f32([1, 2]));
    expectCode(() => parseSafetensors(whole.subarray(0, 8 + 10)), "SAFETENSORS_HEADER_TOO_LARGE");
    // Data cut: the header is intact but the tensors need more bytes.
    const e = expectCode(() => parseSafetensors(whole.subarray(0, whole.length - 3)), "SAFETENSORS_TRUNCATED");
    expect(e.message).toContain("8");
    expect(e.message).toContain("5");
  });

  it("header length past the end or above the cap", () => {
    expectCode(() => parseSafetensors(assemble(good, f32([1, 2]), [1000, 0])), "SAFETENSORS_HEADER_TOO_LARGE");
    const len = (low: number, high = 0) => assemble("", undefined, [low, high]);
    expectCode(() => readSafetensorsHeaderLength(len(MAX_HEADER_BYTES + 1), 1e9), "SAFETENSORS_HEADER_TOO_LARGE");
    expect(readSafetensorsHeaderLength(len(MAX_HEADER_BYTES), MAX_HEADER_BYTES + 8)).toBe(MAX_HEADER_BYTES);
    expectCode(() => readSafetensorsHeaderLength(len(MAX_HEADER_BYTES), MAX_HEADER_BYTES + 7), "SAFETENSORS_HEADER_TOO_LARGE");
    // u64 with the high half set: 2^32 + 16 would wrap to 16 if only the low half were read.
    const wrap = assemble(good, f32([1, 2]), [good.length, 1]);
    expectCode(() => parseSafetensors(wrap), "SAFETENSORS_HEADER_TOO_LARGE");
    expectCode(() => readSafetensorsHeaderLength(len(0, 0x80000000), Number.MAX_SAFE_INTEGER), "SAFETENSORS_HEADER_TOO_LARGE");
    expectCode(() => readSafetensorsHeaderLength(new Uint8Array(4), 100), "SAFETENSORS_TRUNCATED");
  });

  it("headers that are not a JSON object", () => {
    expectCode(() => parseSafetensors(assemble("not json at all")), "SAFETENSORS_INVALID_HEADER");
    expectCode(() => parseSafetensors(assemble('{"x":')), "SAFETENSORS_INVALID_HEADER");
    expectCode(() => parseSafetensors(assemble("[]")), "SAFETENSORS_INVALID_HEADER");
    expectCode(() => parseSafetensors(assemble("")), "SAFETENSORS_INVALID_HEADER");
    expectCode(() => parseSafetensors(assemble(" {}")), "SAFETENSORS_INVALID_HEADER"); // reference requires '{' first
    expectCode(() => parseSafetensors(assemble(new Uint8Array([0x7b, 0xff, 0x7d]))), "SAFETENSORS_INVALID_HEADER"); // bad UTF-8
    // Trailing space padding is fine.
    expect(parseSafetensors(assemble("{}      ")).header.tensors).toEqual([]);
  });

  it("malformed entries", () => {
    const one = (e: string, data = new Uint8Array(8)) => () => parseSafetensors(assemble(`{"x":${e}}`, data));
    expectCode(one("[1,2]"), "SAFETENSORS_INVALID_HEADER");
    expectCode(one("null"), "SAFETENSORS_INVALID_HEADER");
    expectCode(one('{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}'), "SAFETENSORS_INVALID_HEADER");
    expectCode(one('{"dtype":"F32","shape":[2]}'), "SAFETENSORS_INVALID_HEADER");
    const e = expectCode(one(entry("F8_E4M3", [8], [0, 8])), "SAFETENSORS_INVALID_HEADER");
    expect(e.message).toContain("F8_E4M3");
    expect(e.message).toContain('"x"');
    expectCode(one(entry("f32", [2], [0, 8])), "SAFETENSORS_INVALID_HEADER");
    expectCode(one(entry("F32", [-2], [0, 8])), "SAFETENSORS_INVALID_HEADER");
    expectCode(one(entry("F32", [2.5], [0, 8])), "SAFETENSORS_INVALID_HEADER");
    expectCode(one(entry("F32", ["2"], [0, 8])), "SAFETENSORS_INVALID_HEADER");
    expectCode(one(entry("F32", 2, [0, 8])), "SAFETENSORS_INVALID_HEADER");
    expectCode(one(entry("F32", [2], [0])), "SAFETENSORS_INVALID_HEADER");
    expectCode(one(entry("F32", [2], [8, 0])), "SAFETENSORS_INVALID_HEADER");
    expectCode(one(entry("F32", [2], [-8, 0])), "SAFETENSORS_INVALID_HEADER");
    expectCode(one(entry("F32", [2], [0, 2 ** 53])), "SAFETENSORS_INVALID_HEADER");
  });

  it("metadata that is not an object of strings", () => {
    const meta = (m: string) => () => parseSafetensors(assemble(`{"__metadata__":${m}}`));
    const e = expectCode(meta('{"a":"ok","n":1}'), "SAFETENSORS_INVALID_HEADER");
    expect(e.message).toContain('"n"');
    expectCode(meta('{"a":null}'), "SAFETENSORS_INVALID_HEADER");
    expectCode(meta('{"a":{"b":"c"}}'), "SAFETENSORS_INVALID_HEADER");
    expectCode(meta('["a"]'), "SAFETENSORS_INVALID_HEADER");
    expectCode(meta('"a"'), "SAFETENSORS_INVALID_HEADER");
    expect(parseSafetensors(assemble('{"__metadata__":{}}')).header.metadata).toEqual({});
  });

  it("bad offsets", () => {
    const two = (a: unknown, b: unknown, dataLen: number) =>
      () => parseSafetensors(assemble(`{"a":${entry("F32", [2], a)},"b":${entry("F32", [2], b)}}`, new Uint8Array(dataLen)));
    expect(parseSafetensors(assemble(`{"a":${entry("F32", [2], [0, 8])},"b":${entry("F32", [2], [8, 16])}}`,
      new Uint8Array(16))).header.tensors.length).toBe(2);
    const overlap = expectCode(two([0, 8], [4, 12], 12), "SAFETENSORS_INVALID_OFFSETS");
    expect(overlap.message).toContain("overlapping");
    const gap = expectCode(two([0, 8], [12, 20], 20), "SAFETENSORS_INVALID_OFFSETS");
    expect(gap.message).toContain("gap");
    expectCode(two([4, 12], [12, 20], 20), "SAFETENSORS_INVALID_OFFSETS"); // not starting at 0
    expectCode(two([0, 8], [0, 8], 8), "SAFETENSORS_INVALID_OFFSETS"); // same range twice
    // end - begin must be count x dtype size.
    const size = expectCode(() => parseSafetensors(assemble(`{"a":${entry("F32", [3], [0, 8])}}`, new Uint8Array(8))),
      "SAFETENSORS_INVALID_OFFSETS");
    expect(size.message).toContain("12");
    expectCode(() => parseSafetensors(assemble(`{"a":${entry("F16", [2, 2], [0, 4])}}`, new Uint8Array(4))),
      "SAFETENSORS_INVALID_OFFSETS");
    // Element count past 2^53: rejected, not silently rounded.
    expectCode(() => parseSafetensors(assemble(`{"a":${entry("U8", [2 ** 30, 2 ** 30, 2 ** 30], [0, 0])}}`)),
      "SAFETENSORS_INVALID_OFFSETS");
    expectCode(() => parseSafetensors(assemble(`{"a":${entry("F64", [2 ** 51], [0, 0])}}`)),
      "SAFETENSORS_INVALID_OFFSETS");
  });

  it("data section not fully covered", () => {
    const e = expectCode(() => parseSafetensors(assemble(good, new Uint8Array(9))), "SAFETENSORS_INCOMPLETE_BUFFER");
    expect(e.message).toContain("1 trailing");
    expectCode(() => parseSafetensors(assemble("{}", new Uint8Array(1))), "SAFETENSORS_INCOMPLETE_BUFFER");
  });
});

describe("toFloat32", () => {
  const bytesOf = (u16: number[]) => {
    const b = new Uint8Array(u16.length * 2);
    u16.forEach((v, k) => {
      b[2 * k] = v & 0xff;
      b[2 * k + 1] = v >> 8;
    });
    return b;
  };

  it("decodes F16 exactly, including subnormals, infinities and NaN", () => {
    const out = toFloat32(bytesOf([
      0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x0000, 0x8000, 0x3555, 0x8001,
    ]), "F16");
    expect(Array.from(out.slice(0, 6))).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14]);
    expect(out[6]).toBe(Infinity);
    expect(out[7]).toBe(-Infinity);
    expect(Number.isNaN(out[8])).toBe(true);
    expect(Object.is(out[9], 0)).toBe(true);
    expect(Object.is(out[10], -0)).toBe(true);
    expect(out[11]).toBe(Math.fround(0.333251953125));
    expect(out[12]).toBe(-(2 ** -24));
  });

  it("matches a reference half decoder on every bit pattern", () => {
    const all = Array.from({ length: 65536 }, (_, h) => h);
    const out = toFloat32(bytesOf(all), "F16");
    for (const h of all) {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const ref = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1024 + m) * 2 ** (e - 25);
      if (!Object.is(out[h], ref)) throw new Error(`F16 0x${h.toString(16)}: got ${out[h]}, want ${ref}`);
    }
  });

  it("decodes BF16 as the upper half of f32", () => {
    const r = rng(7);
    const src = new Float32Array(64).map(() => (r() - 0.5) * 1e6);
    const bits = new Uint32Array(src.buffer);
    const out = toFloat32(bytesOf(Array.from(bits, (b) => b >>> 16)), "BF16");
    const want = new Float32Array(new Uint32Array(Array.from(bits, (b) => (b & 0xffff0000) >>> 0)).buffer);
    expect(Array.from(out)).toEqual(Array.from(want));
    const special = toFloat32(bytesOf([0x3f80, 0xc000, 0x7f80, 0xff80, 0x7fc0, 0x0001]), "BF16");
    expect(Array.from(special.slice(0, 4))).toEqual([1, -2, Infinity, -Infinity]);
    expect(Number.isNaN(special[4])).toBe(true);
    expect(special[5]).toBe(2 ** -133);
  });

  it("decodes F64 and unaligned F32 with rounding to f32", () => {
    const d = new Float64Array([1.5, -2.25, 0.1, 1e300, -0]);
    const shifted = new Uint8Array(d.byteLength + 1);
    shifted.set(new Uint8Array(d.buffer), 1);
    const out = toFloat32(shifted.subarray(1), "F64");
    expect(Array.from(out.slice(0, 3))).toEqual([1.5, -2.25, Math.fround(0.1)]);
    expect(out[3]).toBe(Infinity);
    expect(Object.is(out[4], -0)).toBe(true);

    const f = f32([3.5, -1]);
    const s2 = new Uint8Array(f.length + 2);
    s2.set(f, 2);
    const o2 = toFloat32(s2.subarray(2), "F32");
    expect(Array.from(o2)).toEqual([3.5, -1]);
    expect(o2.buffer).not.toBe(s2.buffer); // a copy
  });

  it("rejects other dtypes and ragged byte counts", () => {
    const e = expectCode(() => toFloat32(new Uint8Array(4), "I32"), "SAFETENSORS_INVALID_HEADER");
    expect(e.message).toContain("I32");
    expectCode(() => toFloat32(new Uint8Array(3), "F16"), "SAFETENSORS_INVALID_OFFSETS");
    expect(DTYPE_BYTES.BF16).toBe(2);
  });
});
