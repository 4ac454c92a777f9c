import { describe, expect, it } from "vitest";
import { parseNpy, readMatrixF32, serializeNpy } from "../../src/format/npy.js";
import { rng } from "../helpers/common.mjs";
import { expectCode } from "../helpers/expect-code.js";



/**
 * Builds a .npy file byte by byte: magic, version, header length, the dict
 * padded with spaces and '\n' so the data starts at a multiple of 64.
 */
function handBuilt(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const headerLen = Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix;
  const out = new Uint8Array(prefix + headerLen + data.length);
  [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0].forEach((b, k) => (out[k] = b));
  out[8] = headerLen & 0xff;
  out[9] = (headerLen >> 8) & 0xff; // v2/v3: bytes 10 and 11 stay 0 (u32 LE)
  for (let k = 0; k < headerLen - 1; k++) out[prefix + k] = k < dict.length ? dict.charCodeAt(k) : 0x20;
  out[prefix + headerLen - 1] = 0x0a;
  out.set(data, prefix + headerLen);
  return out;
}

const dictOf = (descr: string, shape: string, fortran = "False") =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
const f32Bytes = (v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe("serializeNpy / parseNpy round trip", () => {
  it("float32 2-D", () => {
    const r = rng(1);
    const data = new Float32Array(4 * 7).map(() => r() * 2 - 1);
    const file = serializeNpy(data, [4, 7]);
    const arr = parseNpy(file);
    expect(arr.dtype).toBe("float32");
    expect(arr.shape).toEqual([4, 7]);
    expect(arr.data).toEqual(data);
    expect(arr.data.buffer).not.toBe(file.buffer); // a copy

    expect(readMatrixF32(file)).toEqual({ rows: 4, cols: 7, data });
  });

  it("float32 1-D reads as one row", () => {
    const data = new Float32Array([0.5, -1.25, 3]);
    const arr = parseNpy(serializeNpy(data, [3]));
    expect(arr.shape).toEqual([3]);
    expect(readMatrixF32(serializeNpy(data, [3]))).toEqual({ rows: 1, cols: 3, data });
  });

  it("float64 converts to float32 in readMatrixF32", () => {
    const r = rng(2);
    const data = new Float64Array(6).map(() => r() * 100 - 50);
    const file = serializeNpy(data, [2, 3]);
    const arr = parseNpy(file);
    expect(arr.dtype).toBe("float64");
    expect(arr.data).toEqual(data);
    const m = readMatrixF32(file);
    expect([m.rows, m.cols]).toEqual([2, 3]);
    expect(m.data).toBeInstanceOf(Float32Array);
    expect(Array.from(m.data)).toEqual(Array.from(data, Math.fround));
  });

  it("int32, uint8 and 0-d arrays", () => {
    const i = parseNpy(serializeNpy(new Int32Array([-5, 7, 2 ** 31 - 1, 0]), [2, 2]));
    expect(i.dtype).toBe("int32");
    expect(Array.from(i.data as Int32Array)).toEqual([-5, 7, 2 ** 31 - 1, 0]);
    const u = parseNpy(serializeNpy(new Uint8Array([0, 255]), [2]));
    expect(u).toEqual({ dtype: "uint8", shape: [2], data: new Uint8Array([0, 255]) });
    const scalar = serializeNpy(new Float32Array([42]), []);
    expect(parseNpy(scalar)).toEqual({ dtype: "float32", shape: [], data: new Float32Array([42]) });
    const e = expectCode(() => readMatrixF32(scalar, "x.npy"), "NPY_UNSUPPORTED");
    expect(e.message).toMatch(/^x\.npy: found shape \(\) \(0-D\); accepted: 2-D/);
    const empty = parseNpy(serializeNpy(new Float32Array(0), [0, 5]));
    expect(empty.shape).toEqual([0, 5]);
    expect(empty.data.length).toBe(0);
  });

  it("writes the same header numpy 2.x writes, data 64-aligned", () => {
    const file = serializeNpy(new Float32Array(6), [2, 3]);
    // As np.save writes it: dict, 20 spare spaces for growing shape[0], padding, '\n'; header length 118.
    const want = "\x93NUMPY\x01\x00\x76\x00" + dictOf("<f4", "(2, 3)").padEnd(117, " ") + "\n";
    expect(Array.from(file.subarray(0, 128))).toEqual(Array.from(want, (c) => c.charCodeAt(0)));
    expect(file.length).toBe(128 + 24);
    for (const shape of [[], [1], [12345, 1], [3, 0, 2]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const f = serializeNpy(new Float64Array(n), shape);
      expect((f.length - n * 8) % 64).toBe(0);
      expect(f[f.length - n * 8 - 1]).toBe(0x0a);
    }
  });

  it("switches to version 2.0 when the header outgrows 65535 bytes", () => {
    const shape = new Array<number>(22000).fill(1);
    const file = serializeNpy(new Float32Array([7]), shape);
    expect(file[6]).toBe(2);
    expect((file.length - 4) % 64).toBe(0);
    const arr = parseNpy(file);
    expect(arr.shape.length).toBe(22000);
    expect(Array.from(arr.data as Float32Array)).toEqual([7]);
  });

  it("rejects a shape that does not match the data", () => {
    expectCode(() => serializeNpy(new Float32Array(5), [2, 3]), "NPY_INVALID");
    expectCode(() => serializeNpy(new Float32Array(0), [-1]), "NPY_INVALID");
  });
});

describe("hand-built files", () => {
  it("v1.0 header as numpy writes it", () => {
    const dict = dictOf("<f4", "(2, 3)");
    expect(dict).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    const file = handBuilt(dict, f32Bytes([1, 2, 3, 4, 5, 6]));
    // 10-byte prefix + 60-char dict + '\n' = 71, so the data starts at 128: header length 118.
    expect(file.length).toBe(128 + 24);
    expect(file[8] | (file[9] << 8)).toBe(118);
    expect(file[127]).toBe(0x0a);
    const arr = parseNpy(file);
    expect(arr).toEqual({ dtype: "float32", shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
  });

  it("v2.0 and v3.0 headers", () => {
    for (const major of [2, 3]) {
      const file = handBuilt(dictOf("<f8", "(3,)"), new Uint8Array(new Float64Array([0.25, -8, 1e-300]).buffer), major);
      expect(file[6]).toBe(major);
      const arr = parseNpy(file);
      expect(arr.shape).toEqual([3]);
      expect(Array.from(arr.data as Float64Array)).toEqual([0.25, -8, 1e-300]);
    }
  });

  it("other accepted dtypes and header spellings", () => {
    const i8 = new Uint8Array(new BigInt64Array([-3n, 2n ** 40n]).buffer);
    expect(parseNpy(handBuilt(dictOf("<i8", "(2,)"), i8)).data).toEqual(new BigInt64Array([-3n, 2n ** 40n]));
    const b = parseNpy(handBuilt(dictOf("|b1", "(1, 3)"), new Uint8Array([1, 0, 1])));
    expect(b).toEqual({ dtype: "bool", shape: [1, 3], data: new Uint8Array([1, 0, 1]) });
    // '=' is native order, read as little-endian; double quotes, key order and no trailing comma are fine.
    expect(parseNpy(handBuilt(dictOf("=f4", "()"), f32Bytes([5]))).data).toEqual(new Float32Array([5]));
    const alt = `{"shape": (2,1,), "fortran_order": False, "descr": "<f4"}`;
    expect(parseNpy(handBuilt(alt, f32Bytes([1, 2]))).shape).toEqual([2, 1]);
  });
});

describe("errors", () => {
  const ok = () => handBuilt(dictOf("<f4", "(2,)"), f32Bytes([1, 2]));

  it("bad magic and version", () => {
    const bad = ok();
    bad[1] = 0x6e; // 'n'
    expectCode(() => parseNpy(bad), "NPY_INVALID");
    expectCode(() => parseNpy(new TextEncoder().encode("hello world, not numpy")), "NPY_INVALID");
    const v4 = ok();
    v4[6] = 4;
    expectCode(() => parseNpy(v4), "NPY_INVALID");
    const minor = ok();
    minor[7] = 1;
    expectCode(() => parseNpy(minor), "NPY_INVALID");
  });

  it("truncated", () => {
    const file = ok();
    expectCode(() => parseNpy(new Uint8Array(0)), "NPY_INVALID");
    expectCode(() => parseNpy(file.subarray(0, 9)), "NPY_INVALID");
    expectCode(() => parseNpy(file.subarray(0, 40)), "NPY_INVALID"); // inside the header
    const e = expectCode(() => parseNpy(file.subarray(0, file.length - 1)), "NPY_INVALID"); // inside the data
    expect(e.message).toContain("7 bytes");
    expect(e.message).toContain("needs 8");
    // v2 with a header length in the billions.
    const v2 = handBuilt(dictOf("<f4", "(2,)"), f32Bytes([1, 2]), 2);
    v2[11] = 0x40;
    expectCode(() => parseNpy(v2), "NPY_INVALID");
  });

  it("data length mismatch", () => {
    const extra = handBuilt(dictOf("<f4", "(2,)"), f32Bytes([1, 2, 3]));
    expectCode(() => parseNpy(extra), "NPY_INVALID");
    const short = handBuilt(dictOf("<f4", "(2, 2)"), f32Bytes([1, 2, 3]));
    expectCode(() => parseNpy(short), "NPY_INVALID");
    const huge = handBuilt(dictOf("<f8", "(9007199254740991, 2)"), new Uint8Array(0));
    expectCode(() => parseNpy(huge), "NPY_INVALID");
  });

  it("unsupported dtype, byte order, fortran order", () => {
    const be = expectCode(() => parseNpy(handBuilt(dictOf(">f4", "(2,)"), f32Bytes([1, 2]))), "NPY_UNSUPPORTED");
    expect(be.message).toContain("big-endian");
    // Single-byte types have no byte order, so '>' is harmless there.
    expect(parseNpy(handBuilt(dictOf(">u1", "(1,)"), new Uint8Array([3]))).data).toEqual(new Uint8Array([3]));
    for (const d of ["<f2", "<i2", "<u4", "<c8", "|O", "<U3", "|f4", "f4"]) {
      expectCode(() => parseNpy(handBuilt(dictOf(d, "(0,)"), new Uint8Array(0))), "NPY_UNSUPPORTED");
    }
    const structured = `{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }`;
    expectCode(() => parseNpy(handBuilt(structured, f32Bytes([1]))), "NPY_UNSUPPORTED");
    const fo = expectCode(() => parseNpy(handBuilt(dictOf("<f4", "(2, 1)", "True"), f32Bytes([1, 2]))), "NPY_UNSUPPORTED");
    expect(fo.message).toContain("Fortran");
  });

  it("malformed dict", () => {
    const bad = (dict: string) => expectCode(() => parseNpy(handBuilt(dict, f32Bytes([1, 2]))), "NPY_INVALID");
    bad("");
    bad("{}");
    bad("not a dict");
    bad("{'descr': '<f4', 'fortran_order': False}"); // missing shape
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}");
    bad("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}");
    bad("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}");
    bad("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}"); // an int, not a tuple
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,,)}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,),,}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x");
    bad("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}");
    bad("{'descr': <f4, 'fortran_order': False, 'shape': (2,)}");
    bad("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 0)}");
    bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)");
    const nonAscii = handBuilt(dictOf("<f4", "(2,)"), f32Bytes([1, 2]));
    nonAscii[12] = 0xe9;
    expectCode(() => parseNpy(nonAscii), "NPY_INVALID");
  });

  it("readMatrixF32 accepts only float32/float64 in 1-D or 2-D", () => {
    const ints = serializeNpy(new Int32Array([1, 2, 3, 4]), [2, 2]);
    const e = expectCode(() => readMatrixF32(ints, "acts.npy"), "NPY_UNSUPPORTED");
    expect(e.message).toBe("acts.npy: dtype int32 ('<i4') is not supported; accepted: float32, float64");
    // A dtype no reader takes (float16) names the same list: one source for both messages.
    const halves = handBuilt(dictOf("<f2", "(2, 2)"), new Uint8Array(8));
    const h = expectCode(() => readMatrixF32(halves, "acts.npy"), "NPY_UNSUPPORTED");
    expect(h.message).toBe("acts.npy: dtype float16 ('<f2') is not supported; accepted: float32, float64");
    const cube = serializeNpy(new Float32Array(8), [2, 2, 2]);
    const c = expectCode(() => readMatrixF32(cube, "acts.npy"), "NPY_UNSUPPORTED");
    expect(c.message).toBe("acts.npy: found shape (2, 2, 2) (3-D); accepted: 2-D (n, d) or 1-D (d,)");
    // Errors from parsing carry the label too.
    const bad = expectCode(() => readMatrixF32(new Uint8Array(3), "acts.npy"), "NPY_INVALID");
    expect(bad.message.startsWith("acts.npy: ")).toBe(true);
  });
});

describe("Node Buffers (pooled slabs with a byte offset)", () => {
  it("parseNpy and toFloat32 read the right bytes from a Buffer", async () => {
    const { toFloat32 } = await import("../../src/format/safetensors.js");
    const data = new Float32Array([1.5, -2, 3.25]);
    const bytes = serializeNpy(data, [3]);
    const slab = Buffer.alloc(bytes.length + 100);
    slab.set(bytes, 37);
    const view = slab.subarray(37, 37 + bytes.length);
    expect(Array.from(parseNpy(view).data as Float32Array)).toEqual([1.5, -2, 3.25]);
    const raw = Buffer.alloc(64);
    raw.set(new Uint8Array(data.buffer), 5);
    expect(Array.from(toFloat32(raw.subarray(5, 17), "F32"))).toEqual([1.5, -2, 3.25]);
  });
});
