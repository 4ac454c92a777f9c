// The sae-edge model file: a standard safetensors file (checked with a reader
// written here), and hostile or wrong files give typed errors from loadSae,
// both as bytes and as a file path. Plus the peak memory of loading a 38 MB model.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SaeEdgeError, type SaeErrorCode } from "../../src/base/errors.js";
import { loadSae } from "../../src/adapters/node/index.js";
import { buildModel, serializeModel } from "../../src/model/quantize.js";
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from "../../src/format/safetensors.js";
import { randomInput, randomWeights, referenceOutputs, rng } from "../helpers/common.mjs";
import { runAsync } from "../helpers/child.js";

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-model-file-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const D_IN = 20;
const D_SAE = 50; // not a multiple of 4: padded tiles
const K = 4;

const topkW = randomWeights({ architecture: "topk", dIn: D_IN, dSae: D_SAE, k: K, seed: 11 });
const jumpW = randomWeights({ architecture: "jumprelu", dIn: D_IN, dSae: D_SAE, seed: 12 });
const int8Model = serializeModel(buildModel(topkW, "int8", { source_format: "test", n: 1 }));
const f32Model = serializeModel(buildModel(topkW, "f32", { source_format: "test" }));
const jumpInt8 = serializeModel(buildModel(jumpW, "int8"));
const jumpF32 = serializeModel(buildModel(jumpW, "f32"));

// ---------- a minimal safetensors reader, independent of src/format ----------

interface RawEntry { dtype: string; shape: number[]; data_offsets: [number, number] }
interface RawFile {
  headerLength: number;
  dataStart: number;
  keys: string[];
  metadata: Record<string, string> | undefined;
  entries: Record<string, RawEntry>;
  data(name: string): Uint8Array;
}

function readRaw(bytes: Uint8Array): RawFile {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const { __metadata__: metadata, ...entries } = json;
  const dataStart = 8 + n;
  const typed = entries as Record<string, RawEntry>;
  return {
    headerLength: n,
    dataStart,
    keys: Object.keys(json),
    metadata: metadata as Record<string, string> | undefined,
    entries: typed,
    data: (name) => bytes.subarray(dataStart + typed[name].data_offsets[0], dataStart + typed[name].data_offsets[1]),
  };
}

const asF32 = (b: Uint8Array) => new Float32Array(b.slice().buffer);
const asI8 = (b: Uint8Array) => new Int8Array(b.slice().buffer);
const ITEM: Record<string, number> = { F32: 4, I8: 1 };

function checkContainer(bytes: Uint8Array): RawFile {
  const f = readRaw(bytes);
  expect(f.dataStart % 8).toBe(0); // data section 8-byte aligned
  expect(f.keys[0]).toBe("__metadata__");
  for (const v of Object.values(f.metadata!)) expect(typeof v).toBe("string");
  // Offsets contiguous from 0 in header order, covering the data section exactly.
  let cursor = 0;
  for (const name of f.keys.slice(1)) {
    const e = f.entries[name];
    expect(Object.keys(e).sort()).toEqual(["data_offsets", "dtype", "shape"]);
    expect(e.data_offsets[0]).toBe(cursor);
    expect(e.data_offsets[1] - e.data_offsets[0]).toBe(e.shape.reduce((a, b) => a * b, 1) * ITEM[e.dtype]);
    cursor = e.data_offsets[1];
  }
  expect(f.dataStart + cursor).toBe(bytes.length);
  return f;
}

const METADATA_KEYS = ["format", "format_version", "architecture", "d_in", "d_sae", "k", "apply_b_dec_to_input", "normalization", "quantization", "provenance"].sort();

describe("the model file is a standard safetensors file with the documented layout", () => {
  const tiles = Math.ceil(D_SAE / 4);
  const steps = Math.ceil(D_IN / 16);

  it("int8 topk: metadata keys and values", () => {
    const f = checkContainer(int8Model);
    expect(Object.keys(f.metadata!).sort()).toEqual(METADATA_KEYS);
    expect(f.metadata).toMatchObject({
      format: "sae-edge", format_version: "1", architecture: "topk", d_in: "20", d_sae: "50", k: "4",
      apply_b_dec_to_input: "true", normalization: "none", quantization: "int8",
    });
    expect(JSON.parse(f.metadata!.provenance)).toEqual({ source_format: "test", n: 1 });
  });

  it("int8 topk: tensor names, dtypes, shapes", () => {
    const f = checkContainer(int8Model);
    const shapes = Object.fromEntries(Object.entries(f.entries).map(([n, e]) => [n, `${e.dtype}[${e.shape}]`]));
    expect(shapes).toEqual({
      W_enc_packed: `I8[${tiles},${steps},4,16]`,
      W_enc_scale: "F32[50]",
      b_enc: "F32[50]",
      W_dec: "I8[50,20]",
      W_dec_scale: "F32[50]",
      b_dec: "F32[20]",
    });
  });

  it("int8: packed encoder, scales and decoder follow the quantization rule; padding is zero", () => {
    const f = readRaw(int8Model);
    const packed = asI8(f.data("W_enc_packed"));
    const encScale = asF32(f.data("W_enc_scale"));
    const q = (v: number, s: number) => (s === 0 ? 0 : Math.sign(v) * Math.min(127, Math.round(Math.abs(v) / s)));
    let exact = 0, total = 0;
    for (let j = 0; j < tiles * 4; j++) {
      let amax = 0;
      if (j < D_SAE) for (let i = 0; i < D_IN; i++) amax = Math.max(amax, Math.abs(topkW.W_enc[i * D_SAE + j]));
      if (j < D_SAE) expect(encScale[j]).toBe(Math.fround(amax / 127));
      for (let i = 0; i < steps * 16; i++) {
        const got = packed[(((j >> 2) * steps + (i >> 4)) * 4 + (j & 3)) * 16 + (i & 15)];
        if (j >= D_SAE || i >= D_IN) {
          expect(got).toBe(0);
          continue;
        }
        const w = topkW.W_enc[i * D_SAE + j];
        const want = q(w, encScale[j]);
        total++;
        if (got === want) exact++;
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1); // round(|w|/s) vs round(|w|·(1/s)) at a .5 boundary
        expect(Math.abs(got * encScale[j] - w)).toBeLessThanOrEqual(encScale[j] * 0.5 + 1e-7);
      }
    }
    expect(exact / total).toBeGreaterThan(0.999);
    const dec = asI8(f.data("W_dec"));
    const decScale = asF32(f.data("W_dec_scale"));
    for (let j = 0; j < D_SAE; j++) {
      let amax = 0;
      for (let i = 0; i < D_IN; i++) amax = Math.max(amax, Math.abs(topkW.W_dec[j * D_IN + i]));
      expect(decScale[j]).toBe(Math.fround(amax / 127));
      let hits127 = 0;
      for (let i = 0; i < D_IN; i++) {
        const v = dec[j * D_IN + i];
        expect(Math.abs(v * decScale[j] - topkW.W_dec[j * D_IN + i])).toBeLessThanOrEqual(decScale[j] * 0.5 + 1e-7);
        if (Math.abs(v) === 127) hits127++;
      }
      expect(hits127).toBeGreaterThanOrEqual(1); // the max element maps to ±127
    }
    expect(asF32(f.data("b_enc"))).toEqual(topkW.b_enc);
    expect(asF32(f.data("b_dec"))).toEqual(topkW.b_dec);
  });

  it("f32 topk: tensors, exact weights in the packed layout, zero padding", () => {
    const f = checkContainer(f32Model);
    expect(f.metadata!.quantization).toBe("f32");
    const shapes = Object.fromEntries(Object.entries(f.entries).map(([n, e]) => [n, `${e.dtype}[${e.shape}]`]));
    expect(shapes).toEqual({ W_enc_packed: `F32[${tiles},20,4]`, b_enc: "F32[50]", W_dec: "F32[50,20]", b_dec: "F32[20]" });
    const packed = asF32(f.data("W_enc_packed"));
    for (let j = 0; j < tiles * 4; j++) {
      for (let i = 0; i < D_IN; i++) {
        expect(packed[((j >> 2) * D_IN + i) * 4 + (j & 3)]).toBe(j < D_SAE ? topkW.W_enc[i * D_SAE + j] : 0);
      }
    }
    expect(asF32(f.data("W_dec"))).toEqual(topkW.W_dec);
  });

  it("jumprelu int8 and f32 carry a threshold tensor and k = 0", () => {
    for (const [bytes, quant] of [[jumpInt8, "int8"], [jumpF32, "f32"]] as const) {
      const f = checkContainer(bytes);
      expect(Object.keys(f.metadata!).sort()).toEqual(METADATA_KEYS);
      expect(f.metadata).toMatchObject({ architecture: "jumprelu", k: "0", quantization: quant });
      expect(f.entries.threshold).toMatchObject({ dtype: "F32", shape: [50] });
      expect(asF32(f.data("threshold"))).toEqual(jumpW.threshold);
      expect(Object.keys(f.entries).sort()).toEqual(
        (quant === "int8" ? ["W_dec", "W_dec_scale", "W_enc_packed", "W_enc_scale", "b_dec", "b_enc", "threshold"] : ["W_dec", "W_enc_packed", "b_dec", "b_enc", "threshold"]),
      );
    }
  });

  it("the same file loads from bytes, an ArrayBuffer and a path, with the same answers", async () => {
    const path = join(tmp, "ok.safetensors");
    writeFileSync(path, int8Model);
    const x = randomInput(4, D_IN, 3);
    const ref = referenceOutputs(buildModel(topkW, "int8"), x, 4);
    for (const src of [int8Model, int8Model.slice().buffer, path]) {
      const sae = await loadSae(src as Uint8Array);
      expect(sae.info).toMatchObject({ architecture: "topk", dIn: D_IN, dSae: D_SAE, k: K, quantization: "int8", applyBDecToInput: true });
      const c = sae.encode(x);
      expect(c.indices).toEqual(ref.indices);
      expect(c.values).toEqual(ref.values);
      sae.dispose();
    }
  });
});

// ---------- hostile files ----------

/** Re-serializes a valid model with edited metadata and/or tensors. */
function edit(
  bytes: Uint8Array,
  change: { meta?: (m: Record<string, string>) => void; tensors?: (t: Record<string, TensorToWrite>) => void; noMetadata?: boolean },
): Uint8Array {
  const st = parseSafetensors(bytes);
  const meta = { ...st.header.metadata };
  const tensors: Record<string, TensorToWrite> = {};
  for (const t of st.header.tensors) tensors[t.name] = { dtype: t.dtype, shape: [...t.shape], data: st.tensor(t.name).slice() };
  change.meta?.(meta);
  change.tensors?.(tensors);
  return serializeSafetensors(tensors, change.noMetadata ? undefined : meta);
}

/** Sets float32 element `i` of a tensor's data. */
function setF32(t: TensorToWrite, i: number, v: number): void {
  new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength).setFloat32(i * 4, v, true);
}

/** Raw surgery: replaces an ASCII string in the header with one of the same length. */
function patchHeader(bytes: Uint8Array, from: string, to: string): Uint8Array {
  expect(to.length).toBe(from.length);
  const out = bytes.slice();
  const n = new DataView(out.buffer).getUint32(0, true);
  const header = new TextDecoder().decode(out.subarray(8, 8 + n));
  const at = header.indexOf(from);
  expect(at, `"${from}" not in header`).toBeGreaterThan(0);
  out.set(new TextEncoder().encode(to), 8 + at);
  return out;
}

let fileCounter = 0;
async function expectLoadError(bytes: Uint8Array, code: SaeErrorCode | RegExp): Promise<string> {
  const path = join(tmp, `hostile-${fileCounter++}.safetensors`);
  writeFileSync(path, bytes);
  const messages: string[] = [];
  for (const src of [bytes, path]) {
    const e = await loadSae(src).then(
      (sae) => { sae.dispose(); return undefined; },
      (err: unknown) => err,
    );
    expect(e, `${typeof src === "string" ? "path" : "bytes"}: loaded without error`).toBeInstanceOf(SaeEdgeError);
    const c = (e as SaeEdgeError).code;
    if (typeof code === "string") expect(c, (e as Error).message).toBe(code);
    else expect(c, (e as Error).message).toMatch(code);
    messages.push((e as Error).message);
  }
  return messages[0];
}

describe("hostile container bytes -> SAFETENSORS_*", () => {
  it("random bytes, empty, tiny, text", async () => {
    const r = rng(5);
    const random = new Uint8Array(4096).map(() => Math.floor(r() * 256));
    await expectLoadError(random, /^SAFETENSORS_/);
    await expectLoadError(new Uint8Array(0), "SAFETENSORS_TRUNCATED");
    await expectLoadError(new Uint8Array([1, 2, 3]), "SAFETENSORS_TRUNCATED");
    await expectLoadError(new TextEncoder().encode("this is not a model file, just some text......"), /^SAFETENSORS_/);
    // An .npy file given as a model.
    await expectLoadError(new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x76, 0, ...new Array(118).fill(0x20)]), /^SAFETENSORS_/);
  });

  it("truncated valid files at every interesting cut", async () => {
    const { headerLength } = readRaw(int8Model);
    for (const cut of [7, 8, 9, 8 + (headerLength >> 1), 8 + headerLength, 8 + headerLength + 100, int8Model.length - 1]) {
      await expectLoadError(int8Model.subarray(0, cut), /^SAFETENSORS_(TRUNCATED|HEADER_TOO_LARGE)$/);
    }
    await expectLoadError(int8Model.subarray(0, int8Model.length - 1), "SAFETENSORS_TRUNCATED");
  });

  it("trailing bytes after the last tensor -> SAFETENSORS_INCOMPLETE_BUFFER", async () => {
    const longer = new Uint8Array(int8Model.length + 16);
    longer.set(int8Model);
    await expectLoadError(longer, "SAFETENSORS_INCOMPLETE_BUFFER");
  });

  it("raw surgery: a header length claiming 100 MB+ -> SAFETENSORS_HEADER_TOO_LARGE", async () => {
    for (const [low, high] of [[100_000_001, 0], [0xffffffff, 0], [8, 1], [0, 0x80000000]]) {
      const b = int8Model.slice();
      const dv = new DataView(b.buffer);
      dv.setUint32(0, low, true);
      dv.setUint32(4, high, true);
      const msg = await expectLoadError(b, "SAFETENSORS_HEADER_TOO_LARGE");
      expect(msg).toMatch(/cap|past the end/);
    }
    // Within the cap but past the end of the file.
    const b = int8Model.slice();
    new DataView(b.buffer).setUint32(0, int8Model.length, true);
    await expectLoadError(b, "SAFETENSORS_HEADER_TOO_LARGE");
  });

  it("raw surgery: broken JSON and overlapping offsets", async () => {
    await expectLoadError(patchHeader(int8Model, '"__metadata__":{', '"__metadata__":['), "SAFETENSORS_INVALID_HEADER");
    const f = readRaw(int8Model);
    const [b0, e0] = f.entries.b_dec.data_offsets;
    await expectLoadError(
      patchHeader(int8Model, `"data_offsets":[${b0},${e0}]`, `"data_offsets":[${b0 - 4},${e0 - 4}]`.padEnd(`"data_offsets":[${b0},${e0}]`.length, " ")),
      /^SAFETENSORS_(INVALID_OFFSETS|TRUNCATED|INCOMPLETE_BUFFER|INVALID_HEADER)$/,
    );
  });
});

describe("valid safetensors, wrong model -> MODEL_INVALID / MODEL_UNSUPPORTED", () => {
  it("no sae-edge metadata at all, or someone else's metadata -> MODEL_INVALID", async () => {
    await expectLoadError(edit(int8Model, { noMetadata: true }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => { for (const k of Object.keys(m)) delete m[k]; m.format = "pt"; } }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => { delete m.format; } }), "MODEL_INVALID");
    // A SAELens weights file (plain tensors, no metadata).
    const plain = serializeSafetensors({ W_enc: { dtype: "F32", shape: [D_IN, D_SAE], data: topkW.W_enc } });
    await expectLoadError(plain, "MODEL_INVALID");
  });

  it("format_version \"2\" (re-serialized and by raw surgery) -> MODEL_UNSUPPORTED", async () => {
    await expectLoadError(edit(int8Model, { meta: (m) => (m.format_version = "2") }), "MODEL_UNSUPPORTED");
    const msg = await expectLoadError(patchHeader(int8Model, '"format_version":"1"', '"format_version":"2"'), "MODEL_UNSUPPORTED");
    expect(msg).toContain('"2"');
  });

  it("architecture \"transcoder\", quantization \"int4\", normalization \"batch_norm\" -> MODEL_UNSUPPORTED", async () => {
    await expectLoadError(edit(int8Model, { meta: (m) => (m.architecture = "transcoder") }), "MODEL_UNSUPPORTED");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.quantization = "int4") }), "MODEL_UNSUPPORTED");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.normalization = "batch_norm") }), "MODEL_UNSUPPORTED");
  });

  it.each(["abc", "0", "-3", "", " 20", "20.0", "2e1", "020", "0x14", "20 "])("d_in = %j -> MODEL_INVALID", async (v) => {
    await expectLoadError(edit(int8Model, { meta: (m) => (m.d_in = v) }), "MODEL_INVALID");
  });

  it.each(["abc", "0", "-50", "50.5"])("d_sae = %j -> MODEL_INVALID", async (v) => {
    await expectLoadError(edit(int8Model, { meta: (m) => (m.d_sae = v) }), "MODEL_INVALID");
  });

  it("metadata that disagrees with the tensors (d_in 21, d_sae 52, quantization f32 on int8 tensors) -> MODEL_INVALID", async () => {
    await expectLoadError(edit(int8Model, { meta: (m) => (m.d_in = "21") }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.d_sae = "52") }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.quantization = "f32") }), "MODEL_INVALID");
    await expectLoadError(edit(f32Model, { meta: (m) => (m.quantization = "int8") }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.architecture = "jumprelu") }), "MODEL_INVALID"); // k=4 set, and no threshold
  });

  it("d_in beyond the supported maximum is rejected with a model code", async () => {
    const e = await expectLoadError(edit(int8Model, { meta: (m) => (m.d_in = "65537") }), /^MODEL_(INVALID|UNSUPPORTED)$/);
    expect(e).toMatch(/65537/);
  });

  it("topk with k = 0, k > d_sae, k = \"four\"; standard with k = 4 -> MODEL_INVALID", async () => {
    await expectLoadError(edit(int8Model, { meta: (m) => (m.k = "0") }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.k = "51") }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.k = "four") }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.architecture = "standard") }), "MODEL_INVALID");
    // k = d_sae is fine.
    const sae = await loadSae(edit(int8Model, { meta: (m) => (m.k = "50") }));
    expect(sae.info.k).toBe(50);
  });

  it("apply_b_dec_to_input \"yes\", provenance not JSON or not an object -> MODEL_INVALID", async () => {
    await expectLoadError(edit(int8Model, { meta: (m) => (m.apply_b_dec_to_input = "yes") }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.apply_b_dec_to_input = "True") }), "MODEL_INVALID");
    await expectLoadError(edit(int8Model, { meta: (m) => (m.provenance = "{not json") }), "MODEL_INVALID");
  });

  it("provenance that is JSON but not an object (docs/model-format.md: \"a JSON object\") -> MODEL_INVALID", async () => {
    for (const p of ["[1,2]", "42", "\"text\"", "null"]) {
      await expectLoadError(edit(int8Model, { meta: (m) => (m.provenance = p) }), "MODEL_INVALID");
    }
  });

  it("a tensor with the wrong shape or dtype, a missing tensor, an extra tensor -> MODEL_INVALID", async () => {
    const cases: [string, (t: Record<string, TensorToWrite>) => void][] = [
      ["b_enc shape [49]", (t) => (t.b_enc = { dtype: "F32", shape: [49], data: (t.b_enc.data as Uint8Array).subarray(0, 49 * 4) })],
      ["b_enc shape [50, 1]", (t) => (t.b_enc.shape = [50, 1])],
      ["b_enc shape [1, 50]", (t) => (t.b_enc.shape = [1, 50])],
      ["W_dec shape [20, 50] (transposed)", (t) => (t.W_dec.shape = [20, 50])],
      ["W_enc_packed flattened", (t) => (t.W_enc_packed.shape = [t.W_enc_packed.shape.reduce((a, b) => a * b, 1)])],
      ["W_dec dtype U8", (t) => (t.W_dec.dtype = "U8")],
      ["b_dec dtype I32", (t) => (t.b_dec.dtype = "I32")],
      ["W_enc_scale as F64[25]", (t) => (t.W_enc_scale = { dtype: "F64", shape: [25], data: t.W_enc_scale.data })],
      ["b_enc as F16[100]", (t) => (t.b_enc = { dtype: "F16", shape: [100], data: t.b_enc.data })],
      ["missing W_dec_scale", (t) => delete t.W_dec_scale],
      ["missing b_dec", (t) => delete t.b_dec],
      ["extra tensor", (t) => (t.extra = { dtype: "F32", shape: [1], data: new Float32Array([1]) })],
      ["extra threshold on a topk model", (t) => (t.threshold = { dtype: "F32", shape: [50], data: new Float32Array(50) })],
      ["extra empty tensor", (t) => (t.zzz = { dtype: "F32", shape: [0], data: new Float32Array(0) })],
    ];
    for (const [what, change] of cases) {
      const msg = await expectLoadError(edit(int8Model, { tensors: change }), "MODEL_INVALID").catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
      expect(msg.length, what).toBeGreaterThan(0);
    }
    await expectLoadError(edit(jumpInt8, { tensors: (t) => delete t.threshold }), "MODEL_INVALID");
  });

  it("NaN or ±Inf in b_enc, b_dec, scales, threshold and f32 weights -> MODEL_INVALID", async () => {
    const targets: [Uint8Array, string, number][] = [
      [int8Model, "b_enc", 0], [int8Model, "b_enc", 49], [int8Model, "b_dec", 19],
      [int8Model, "W_enc_scale", 7], [int8Model, "W_dec_scale", 49],
      [jumpInt8, "threshold", 3], [jumpF32, "threshold", 49],
      [f32Model, "W_enc_packed", 0], [f32Model, "W_enc_packed", 12 * 20 * 4 + 5], [f32Model, "W_dec", 999], [f32Model, "b_enc", 10],
    ];
    for (const [model, name, i] of targets) {
      for (const v of [NaN, Infinity, -Infinity]) {
        const msg = await expectLoadError(edit(model, { tensors: (t) => setF32(t[name], i, v) }), "MODEL_INVALID");
        expect(msg).toContain(name);
      }
    }
  });

  it("raw surgery: a NaN written straight into b_enc's bytes -> MODEL_INVALID", async () => {
    const f = readRaw(int8Model);
    const b = int8Model.slice();
    const at = f.dataStart + f.entries.b_enc.data_offsets[0] + 4 * 17;
    b.set([0x00, 0x00, 0xc0, 0x7f], at); // quiet NaN, little-endian
    expect(await expectLoadError(b, "MODEL_INVALID")).toMatch(/b_enc.*17/);
  });

  it("a negative scale (encoder or decoder) -> MODEL_INVALID; -0 and 0 scales load", async () => {
    for (const name of ["W_enc_scale", "W_dec_scale"]) {
      const msg = await expectLoadError(edit(int8Model, { tensors: (t) => setF32(t[name], 9, -0.01) }), "MODEL_INVALID");
      expect(msg).toMatch(new RegExp(`${name}.*9`));
    }
    const zero = await loadSae(edit(int8Model, { tensors: (t) => { setF32(t.W_enc_scale, 9, 0); setF32(t.W_dec_scale, 8, -0); } }));
    expect(zero.encode(randomInput(2, D_IN, 1)).rows).toBe(2);
  });

  it("a negative JumpReLU threshold is valid (treated as 0)", async () => {
    const sae = await loadSae(edit(jumpInt8, { tensors: (t) => setF32(t.threshold, 0, -5) }));
    expect(sae.info.architecture).toBe("jumprelu");
  });
});

describe("model paths", () => {
  it("a missing file -> SOURCE_NOT_FOUND naming it", async () => {
    const e = await loadSae(join(tmp, "nope.safetensors")).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(SaeEdgeError);
    expect((e as SaeEdgeError).code).toBe("SOURCE_NOT_FOUND");
    expect((e as Error).message).toContain("nope.safetensors");
  });

  it("a directory -> a typed error (INVALID_ARGUMENT), not a raw EISDIR", async () => {
    const dir = join(tmp, "a-directory.safetensors");
    mkdirSync(dir, { recursive: true });
    const e = await loadSae(dir).then(() => null, (err: unknown) => err);
    expect(e, String(e)).toBeInstanceOf(SaeEdgeError);
    expect((e as SaeEdgeError).code).toBe("INVALID_ARGUMENT");
  });
});

describe("the encoder residual plane (W_enc_residual)", () => {
  const withPlane = serializeModel(buildModel(jumpW, "int8", {}, { encoderResidual: true }));
  const steps = Math.ceil(D_IN / 16);

  it("is I8 [d_sae, steps, 16], one row per latent, w ≈ scale·(q + r/254) within scale/508, zero padding; f32 models ignore the option", () => {
    const f = readRaw(withPlane);
    expect(f.entries.W_enc_residual).toMatchObject({ dtype: "I8", shape: [D_SAE, steps, 16] });
    const q = asI8(f.data("W_enc_packed")), r = asI8(f.data("W_enc_residual")), scale = asF32(f.data("W_enc_scale"));
    let nonzero = 0;
    for (let j = 0; j < D_SAE; j++) {
      for (let i = 0; i < steps * 16; i++) {
        const at = j * steps * 16 + i;
        if (i >= D_IN) {
          expect(r[at]).toBe(0);
          continue;
        }
        const w = jumpW.W_enc[i * D_SAE + j];
        const qw = q[(((j >> 2) * steps + (i >> 4)) * 4 + (j & 3)) * 16 + (i & 15)];
        expect(Math.abs(scale[j] * (qw + r[at] / 254) - w), `latent ${j} dim ${i}`).toBeLessThanOrEqual(scale[j] / 508 + 1e-7);
        if (r[at] !== 0) nonzero++;
      }
    }
    expect(nonzero).toBeGreaterThan(D_IN * D_SAE * 0.9);
    // Without the option, and for f32, the file is the one it always was.
    expect(readRaw(jumpInt8).entries.W_enc_residual).toBeUndefined();
    expect(serializeModel(buildModel(jumpW, "f32", {}, { encoderResidual: true }))).toEqual(jumpF32);
  });

  it("loads back (info.encoderResidual) and encodes the same in every build", async () => {
    const x = randomInput(9, D_IN, 5, jumpW.b_dec);
    const outs = [];
    for (const kernel of ["scalar", "simd128"] as const) {
      const sae = await loadSae(withPlane, { kernel });
      expect(sae.info.encoderResidual).toBe(true);
      outs.push(sae.encode(x, 9));
      sae.dispose();
    }
    expect(outs[1]).toEqual(outs[0]);
    expect(Array.from(referenceOutputs(buildModel(jumpW, "int8", {}, { encoderResidual: true }), x, 9).values)).toEqual(Array.from(outs[0].values));
  });

  it("wrong dtype or shape, on an f32 model, or non-zero padding -> MODEL_INVALID", async () => {
    await expectLoadError(edit(withPlane, { tensors: (t) => (t.W_enc_residual = { ...t.W_enc_residual, dtype: "U8" }) }), "MODEL_INVALID");
    await expectLoadError(edit(withPlane, { tensors: (t) => (t.W_enc_residual = { ...t.W_enc_residual, shape: [D_SAE, steps * 16] }) }), "MODEL_INVALID");
    await expectLoadError(edit(withPlane, { tensors: (t) => (t.W_enc_residual = { ...t.W_enc_residual, shape: [D_SAE - 1, steps, 16], data: (t.W_enc_residual.data as Uint8Array).subarray(steps * 16) }) }), "MODEL_INVALID");
    const f32Plane = edit(jumpF32, { tensors: (t) => (t.W_enc_residual = { dtype: "I8", shape: [D_SAE, steps, 16], data: new Uint8Array(D_SAE * steps * 16) }) });
    expect(await expectLoadError(f32Plane, "MODEL_INVALID")).toMatch(/W_enc_residual is for int8 models only/);
    // Latent 7, dim 20 (past d_in = 20).
    const padded = edit(withPlane, { tensors: (t) => (t.W_enc_residual.data as Uint8Array).set([1], 7 * steps * 16 + D_IN) });
    expect(await expectLoadError(padded, "MODEL_INVALID")).toMatch(/W_enc_residual has a non-zero padding value \(latent 7, dim 20\)/);
  });
});

describe("peak memory while loading", () => {
  it("768 x 24576 TopK k=32 int8 (~38 MB): peak RSS growth <= 1.25 x file + 16 MiB", async () => {
    const path = join(tmp, "big.safetensors");
    const made = await runAsync(process.execPath, ["test/helpers/make-big-model.mjs", path]);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const { bytes } = JSON.parse(made.stdout) as { bytes: number };
    expect(bytes).toBeGreaterThan(37e6);
    expect(bytes).toBeLessThan(40e6);
    const r = await runAsync(process.execPath, ["--expose-gc", "test/helpers/load-peak.mjs", path]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as { file: number; rssBefore: number; maxRss: number; growth: number; kernel: string; dIn: number; dSae: number; k: number; codes: number };
    const MiB = 2 ** 20;
    const limit = 1.25 * m.file + 16 * MiB;
    console.log(
      `peak memory: file ${(m.file / MiB).toFixed(1)} MiB, rss before ${(m.rssBefore / MiB).toFixed(1)} MiB, ` +
        `max rss after ${(m.maxRss / MiB).toFixed(1)} MiB, growth ${(m.growth / MiB).toFixed(1)} MiB (limit ${(limit / MiB).toFixed(1)} MiB, ` +
        `${(m.growth / m.file).toFixed(2)} x file), kernel ${m.kernel}`,
    );
    expect(m).toMatchObject({ dIn: 768, dSae: 24576, k: 32, codes: 32 });
    expect(m.growth).toBeLessThanOrEqual(limit);
  });
});
