// Every bad call on the Sae API is a SaeEdgeError with a code from the closed
// list (never a raw WebAssembly.RuntimeError or TypeError), and the same Sae
// keeps answering correctly afterwards.
import { beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SaeEdgeError, isCallerError } from "../../src/base/errors.js";
import { createApp } from "../../src/http/app.js";
import { fetchBytes } from "../../src/adapters/model-source.js";
import { KERNELS, instantiateKernel } from "../../src/runtime/kernel-select.js";
import { loadSae } from "../../src/adapters/node/index.js";
import { buildModel, serializeModel } from "../../src/model/quantize.js";
import type { Sae, SparseCodes } from "../../src/runtime/sae.js";
import type { KernelName } from "../../src/runtime/kernel-select.js";
import { randomInput, randomWeights, referenceOutputs, saeOutputs, type Outputs } from "../helpers/common.mjs";
import { expectCode, expectCodeAsync } from "../helpers/expect-code.js";

const D_IN = 20;
const D_SAE = 48;
const K = 4;

const weights = randomWeights({ architecture: "topk", dIn: D_IN, dSae: D_SAE, k: K, seed: 42 });
const model = buildModel(weights, "int8");
const bytes = serializeModel(model);
const X = randomInput(5, D_IN, 7);
const REF = referenceOutputs(model, X, 5);

/** The Sae still gives exactly the reference answers for X. */
function expectHealthy(sae: Sae, ref: Outputs = REF, x: Float32Array = X, rows = 5): void {
  const o = saeOutputs(sae, x, rows);
  expect(o.indices).toEqual(ref.indices);
  expect(o.values).toEqual(ref.values);
  expect(o.rowOffsets).toEqual(ref.rowOffsets);
  expect(o.recon).toEqual(ref.recon);
  expect(o.dense).toEqual(ref.dense);
  expect(o.preact).toEqual(ref.preact);
  expect(o.squared).toEqual(ref.squared);
}

function withValue(x: Float32Array, at: number, v: number): Float32Array {
  const y = x.slice();
  y[at] = v;
  return y;
}

const KERNELS_HERE: KernelName[] = ["scalar", "simd128"];

describe.each(KERNELS_HERE)("input errors (kernel %s)", (kernel) => {
  let sae: Sae;
  beforeAll(async () => {
    sae = await loadSae(bytes, { kernel });
    expect(sae.info.kernel).toBe(kernel);
    expectHealthy(sae);
  });

  type Call = [string, (s: Sae, x: Float32Array, n?: number) => unknown];
  const xCalls: Call[] = [
    ["encode", (s, x, n) => s.encode(x, n)],
    ["encodeDense", (s, x, n) => s.encodeDense(x, n)],
    ["preActivations", (s, x, n) => s.preActivations(x, n)],
    ["forward", (s, x, n) => s.forward(x, n)],
    ["score", (s, x, n) => s.score(x, n)],
  ];

  it.each(xCalls)("%s: wrong length, empty input, n = 0, n not matching -> INPUT_SHAPE", (_, call) => {
    expectCode(() => call(sae, X.subarray(0, D_IN - 1)), "INPUT_SHAPE");
    expectCode(() => call(sae, X.subarray(0, D_IN + 1)), "INPUT_SHAPE");
    expectCode(() => call(sae, X.subarray(0, 2 * D_IN + 7)), "INPUT_SHAPE");
    expectCode(() => call(sae, new Float32Array(0)), "INPUT_SHAPE");
    expectCode(() => call(sae, new Float32Array(0), 0), "INPUT_SHAPE");
    expectCode(() => call(sae, X, 0), "INPUT_SHAPE");
    expectCode(() => call(sae, X, 4), "INPUT_SHAPE");
    expectCode(() => call(sae, X, 6), "INPUT_SHAPE");
    expectCode(() => call(sae, X, -5), "INPUT_SHAPE");
    expectCode(() => call(sae, X, 2.5), "INPUT_SHAPE");
    expectCode(() => call(sae, X, NaN), "INPUT_SHAPE");
    expectHealthy(sae);
  });

  it.each(xCalls)("%s: NaN / +Inf / -Inf anywhere -> INPUT_NONFINITE naming row and column", (_, call) => {
    const spots: [number, number][] = [[0, 0], [0, D_IN - 1], [2, 7], [4, 0], [4, D_IN - 1]];
    for (const v of [NaN, Infinity, -Infinity]) {
      for (const [r, c] of spots) {
        const e = expectCode(() => call(sae, withValue(X, r * D_IN + c, v)), "INPUT_NONFINITE");
        expect(e.message).toMatch(new RegExp(`row ${r}\\b.*column ${c}\\b`));
        // With an explicit n too.
        expectCode(() => call(sae, withValue(X, r * D_IN + c, v), 5), "INPUT_NONFINITE");
      }
    }
    // The first bad value is the one reported.
    const two = withValue(withValue(X, 3 * D_IN + 5, Infinity), 1 * D_IN + 9, NaN);
    expect(expectCode(() => call(sae, two), "INPUT_NONFINITE").message).toMatch(/row 1\b.*column 9\b/);
    expectHealthy(sae);
  });

  it.each(xCalls)("%s: Float64Array, plain array, Int32Array, null, a string -> INVALID_ARGUMENT", (_, call) => {
    const bad: unknown[] = [new Float64Array(X), Array.from(X), new Int32Array(X.length), null, undefined, "1,2,3", { length: 20 }];
    for (const x of bad) expectCode(() => call(sae, x as Float32Array), "INVALID_ARGUMENT");
    expectCode(() => call(sae, new Float64Array(X) as unknown as Float32Array, 5), "INVALID_ARGUMENT");
    expectHealthy(sae);
  });

  it("finite extremes are accepted: -0, subnormals, ±FLT_MAX/4 give finite codes and scores", () => {
    const x = X.slice();
    x[0] = -0;
    x[1] = 1e-45;
    x[2] = 3.4e38 / 4;
    x[D_IN + 3] = -3.4e38 / 4;
    const codes = sae.encode(x);
    expect(codes.rows).toBe(5);
    for (const v of codes.values) expect(Number.isFinite(v)).toBe(true);
    expectHealthy(sae);
  });

  it("decodeDense: wrong width, NaN, Float64Array -> typed errors", () => {
    const z = new Float32Array(3 * D_SAE);
    z[5] = 1;
    const ok = sae.decodeDense(z);
    expect(ok.length).toBe(3 * D_IN);
    expectCode(() => sae.decodeDense(z.subarray(0, D_SAE - 1)), "INPUT_SHAPE");
    expectCode(() => sae.decodeDense(z, 2), "INPUT_SHAPE");
    expectCode(() => sae.decodeDense(new Float32Array(0)), "INPUT_SHAPE");
    const e = expectCode(() => sae.decodeDense(withValue(z, 2 * D_SAE + 47, NaN)), "INPUT_NONFINITE");
    expect(e.message).toMatch(/row 2\b.*column 47\b/);
    expectCode(() => sae.decodeDense(withValue(z, 0, -Infinity)), "INPUT_NONFINITE");
    expectCode(() => sae.decodeDense(new Float64Array(z) as unknown as Float32Array), "INVALID_ARGUMENT");
    expect(sae.decodeDense(z)).toEqual(ok);
    expectHealthy(sae);
  });

  describe("decode", () => {
    const good = (): SparseCodes => ({
      rows: 2, dSae: D_SAE,
      rowOffsets: Uint32Array.from([0, 2, 3]),
      indices: Uint32Array.from([3, 47, 0]),
      values: Float32Array.from([1.5, 0.25, 2]),
    });

    it("accepts well-formed codes (and codes without dSae)", () => {
      const r = sae.decode(good());
      expect(r.length).toBe(2 * D_IN);
      const { dSae: _, ...noDSae } = good();
      expect(sae.decode(noDSae as SparseCodes)).toEqual(r);
    });

    it("an index >= d_sae -> INPUT_SHAPE", () => {
      for (const bad of [D_SAE, D_SAE + 1, 2 ** 31, 2 ** 32 - 1]) {
        const c = good();
        c.indices[1] = bad;
        const e = expectCode(() => sae.decode(c), "INPUT_SHAPE");
        expect(e.message).toContain(String(bad));
      }
      expectHealthy(sae);
    });

    it("a NaN or infinite value -> INPUT_NONFINITE", () => {
      for (const v of [NaN, Infinity, -Infinity]) {
        const c = good();
        c.values[2] = v;
        expectCode(() => sae.decode(c), "INPUT_NONFINITE");
      }
      expectHealthy(sae);
    });

    it("bad rowOffsets / rows / lengths / dSae -> INPUT_SHAPE", () => {
      const variants: [string, (c: SparseCodes) => void][] = [
        ["does not start at 0", (c) => (c.rowOffsets = Uint32Array.from([1, 2, 3]))],
        ["decreases", (c) => (c.rowOffsets = Uint32Array.from([0, 3, 3]).map((v, i) => (i === 1 ? 4 : v)))],
        ["decreases inside", (c) => { c.rows = 3; c.rowOffsets = Uint32Array.from([0, 3, 1, 3]); }],
        ["ends short", (c) => (c.rowOffsets = Uint32Array.from([0, 1, 2]))],
        ["ends past the codes", (c) => (c.rowOffsets = Uint32Array.from([0, 2, 4]))],
        ["huge offset", (c) => (c.rowOffsets = Uint32Array.from([0, 2 ** 32 - 1, 3]))],
        ["too few offsets", (c) => (c.rowOffsets = Uint32Array.from([0, 3]))],
        ["too many offsets", (c) => (c.rowOffsets = Uint32Array.from([0, 2, 3, 3]))],
        ["rows = 0", (c) => { c.rows = 0; c.rowOffsets = Uint32Array.from([0]); c.indices = new Uint32Array(0); c.values = new Float32Array(0); }],
        ["rows negative", (c) => (c.rows = -1)],
        ["rows fractional", (c) => (c.rows = 1.5)],
        ["indices/values lengths differ", (c) => (c.values = Float32Array.from([1.5, 0.25, 2, 9]))],
        ["dSae of another SAE", (c) => (c.dSae = D_SAE + 4)],
      ];
      for (const [what, mutate] of variants) {
        const c = good();
        mutate(c);
        let thrown: unknown;
        try {
          sae.decode(c);
        } catch (e) {
          thrown = e;
        }
        expect(thrown, what).toBeInstanceOf(SaeEdgeError);
        expect((thrown as SaeEdgeError).code, what).toBe("INPUT_SHAPE");
      }
      expectHealthy(sae);
    });

    it("wrong array types or not an object -> INVALID_ARGUMENT", () => {
      const variants: unknown[] = [
        { ...good(), indices: Array.from(good().indices) },
        { ...good(), values: new Float64Array(good().values) },
        { ...good(), rowOffsets: Int32Array.from([0, 2, 3]) },
        { ...good(), indices: Int32Array.from([3, 47, 0]) },
        null,
        undefined,
        {},
        "codes",
      ];
      for (const c of variants) expectCode(() => sae.decode(c as SparseCodes), "INVALID_ARGUMENT");
      expectHealthy(sae);
    });
  });

  it("a large batch with a NaN far into a later chunk reports the global row, then still works", () => {
    const rows = 50_000; // > one 4 MiB chunk of rows
    const x = randomInput(rows, D_IN, 99);
    const bad = withValue(x, 41_234 * D_IN + 17, NaN);
    const e1 = expectCode(() => sae.encode(bad), "INPUT_NONFINITE");
    expect(e1.message).toMatch(/row 41234\b.*column 17\b/);
    const e2 = expectCode(() => sae.score(bad), "INPUT_NONFINITE");
    expect(e2.message).toMatch(/row 41234\b.*column 17\b/);
    expectHealthy(sae);
    // The big batch itself gives the same codes as the rows one at a time.
    const codes = sae.encode(x);
    expect(codes.rowOffsets.length).toBe(rows + 1);
    for (const r of [0, 1, 36_000, 36_200, 49_999]) {
      const one = sae.encode(x.subarray(r * D_IN, (r + 1) * D_IN));
      expect(codes.indices.subarray(codes.rowOffsets[r], codes.rowOffsets[r + 1])).toEqual(one.indices);
      expect(codes.values.subarray(codes.rowOffsets[r], codes.rowOffsets[r + 1])).toEqual(one.values);
    }
    expect(sae.decode(codes).subarray(49_999 * D_IN)).toEqual(sae.forward(x.subarray(49_999 * D_IN)).reconstruction);
    // Dense outputs over several chunks (15 420 rows each here): every row as the row alone gives it.
    const dense = sae.encodeDense(x), preact = sae.preActivations(x), recon = sae.decode(codes), fromDense = sae.decodeDense(dense);
    expect([dense.length, preact.length, recon.length, fromDense.length]).toEqual([rows * D_SAE, rows * D_SAE, rows * D_IN, rows * D_IN]);
    for (const r of [0, 15_419, 15_420, 30_840, 36_000, 49_999]) {
      const xr = x.subarray(r * D_IN, (r + 1) * D_IN);
      const zr = sae.encodeDense(xr);
      expect(dense.subarray(r * D_SAE, (r + 1) * D_SAE)).toEqual(zr);
      expect(preact.subarray(r * D_SAE, (r + 1) * D_SAE)).toEqual(sae.preActivations(xr));
      expect(recon.subarray(r * D_IN, (r + 1) * D_IN)).toEqual(sae.forward(xr).reconstruction);
      expect(fromDense.subarray(r * D_IN, (r + 1) * D_IN)).toEqual(sae.decodeDense(zr));
    }
  });
});

describe("dispose", () => {
  it("every method throws DISPOSED afterwards; dispose twice is fine; other instances are unaffected", async () => {
    const a = await loadSae(bytes);
    const b = await loadSae(bytes);
    const codes = a.encode(X);
    expect(a.disposed).toBe(false);
    a.dispose();
    expect(a.disposed).toBe(true);
    const calls: [string, () => unknown][] = [
      ["encode", () => a.encode(X)],
      ["encodeDense", () => a.encodeDense(X)],
      ["preActivations", () => a.preActivations(X)],
      ["decode", () => a.decode(codes)],
      ["decodeDense", () => a.decodeDense(new Float32Array(D_SAE))],
      ["forward", () => a.forward(X)],
      ["score", () => a.score(X)],
      // Even bad input: DISPOSED comes first.
      ["encode(bad)", () => a.encode(new Float32Array(3))],
    ];
    for (const [, call] of calls) expectCode(call, "DISPOSED");
    a.dispose();
    expectCode(() => a.encode(X), "DISPOSED");
    expect(a.info.dIn).toBe(D_IN); // info stays readable
    expectHealthy(b);
  });
});

describe("load options", () => {
  it("forcing relaxed on Node 20 -> KERNEL_UNAVAILABLE; an unknown kernel -> INVALID_ARGUMENT", async () => {
    expect(process.versions.node.startsWith("20.")).toBe(true);
    const e = await expectCodeAsync(loadSae(bytes, { kernel: "relaxed" }), "KERNEL_UNAVAILABLE");
    expect(e.message).toMatch(/relaxed/);
    for (const k of ["bogus", "", "SIMD128", "wasm"]) {
      await expectCodeAsync(loadSae(bytes, { kernel: k as KernelName }), "INVALID_ARGUMENT");
    }
    // The default still loads and works after those failures.
    const sae = await loadSae(bytes);
    expect(sae.info.kernel).toBe("simd128");
    expectHealthy(sae);
  });

  it("a model that is not bytes, a path or a ByteSource -> INVALID_ARGUMENT", async () => {
    for (const m of [123, null, {}, [1, 2, 3], new Float32Array(4)]) {
      await expectCodeAsync(loadSae(m as unknown as Uint8Array), "INVALID_ARGUMENT");
    }
  });

  it("each architecture/quantization: an error in one call never corrupts the next", async () => {
    for (const architecture of ["standard", "topk", "jumprelu"] as const) {
      for (const quant of ["int8", "f32"] as const) {
        const w = randomWeights({ architecture, dIn: 37, dSae: 13, k: 3, seed: 5 });
        const m = buildModel(w, quant);
        const x = randomInput(9, 37, 6, w.b_dec);
        const ref = referenceOutputs(m, x, 9);
        const sae = await loadSae(serializeModel(m));
        expectHealthy(sae, ref, x, 9);
        expectCode(() => sae.encode(withValue(x, 8 * 37 + 36, NaN)), "INPUT_NONFINITE");
        expectCode(() => sae.score(x.subarray(1)), "INPUT_SHAPE");
        expectCode(() => sae.decode({ rows: 1, dSae: 13, rowOffsets: Uint32Array.from([0, 1]), indices: Uint32Array.from([13]), values: Float32Array.from([1]) }), "INPUT_SHAPE");
        expectHealthy(sae, ref, x, 9);
        sae.dispose();
      }
    }
  });
});

describe("failures that are not the caller's", () => {
  it("the codes whose fault is not the caller's: SOURCE_UNAVAILABLE and INTERNAL (SOURCE_NOT_FOUND is whoever named it)", () => {
    expect(isCallerError("SOURCE_UNAVAILABLE")).toBe(false);
    expect(isCallerError("INTERNAL")).toBe(false);
    for (const c of ["SOURCE_NOT_FOUND", "INVALID_ARGUMENT", "INPUT_SHAPE", "MODEL_INVALID", "NPY_UNSUPPORTED"] as const) expect(isCallerError(c), c).toBe(true);
  });

  it("a missing model file -> SOURCE_NOT_FOUND; a folder -> INVALID_ARGUMENT", async () => {
    await expectCodeAsync(loadSae("/no/such/model.safetensors"), "SOURCE_NOT_FOUND");
    await expectCodeAsync(loadSae("/tmp"), "INVALID_ARGUMENT");
  });

  it("a kernel abort is INTERNAL (a bug, not the caller's input)", async () => {
    // (module (import "env" "abort" (func)) (func (export "run") call 0)): the kernels' abort import, called.
    const wasm = Uint8Array.from([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x02, 0x0d, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x05, 0x61, 0x62, 0x6f, 0x72, 0x74, 0x00, 0x00,
      0x03, 0x02, 0x01, 0x00,
      0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x01,
      0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b,
    ]);
    const k = (await instantiateKernel(new WebAssembly.Module(wasm))) as unknown as { run(): void };
    expectCode(() => k.run(), "INTERNAL");
  });

  it("info.kernelFallbacks: why each faster build was refused, empty when one is forced", async () => {
    const sae = await loadSae(bytes);
    expect(sae.info.kernelFallbacks).toHaveLength(KERNELS.indexOf(sae.info.kernel));
    sae.info.kernelFallbacks.forEach((why, i) => expect(why.startsWith(`${KERNELS[i]}: `), why).toBe(true));
    if (process.versions.node.startsWith("20.")) expect(sae.info.kernelFallbacks).toEqual(["relaxed: not supported by this engine"]);
    expect((await loadSae(bytes, { kernel: "scalar" })).info.kernelFallbacks).toEqual([]);
  });

  it("fetch: HTTP 404 -> SOURCE_NOT_FOUND, HTTP 500 and a refused connection -> SOURCE_UNAVAILABLE", async () => {
    const server = createServer((req, res) => {
      res.statusCode = req.url === "/missing" ? 404 : 500;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await expectCodeAsync(fetchBytes(`${base}/missing`, "model"), "SOURCE_NOT_FOUND")).message).toMatch(/HTTP 404/);
      expect((await expectCodeAsync(fetchBytes(`${base}/broken`, "model"), "SOURCE_UNAVAILABLE")).message).toMatch(/HTTP 500/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expectCodeAsync(fetchBytes(base, "model"), "SOURCE_UNAVAILABLE"); // nothing listens there now
  });

  describe("HTTP: 400 for the request's mistakes, 503 for a model that cannot be had, 500 for the rest", () => {
    const appWith = (load: () => Promise<Sae>) => createApp({ sae: load });
    const post = (app: ReturnType<typeof createApp>, body: unknown) =>
      app.fetch(new Request("http://sae.test/v1/encode", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
    const status = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code });

    it.each([
      ["SOURCE_NOT_FOUND", 503], ["SOURCE_UNAVAILABLE", 503], ["INTERNAL", 500],
      ["INVALID_ARGUMENT", 500], ["MODEL_INVALID", 500], // the model is the operator's, never the request's
    ] as const)("a model load failing with %s -> %i", async (code, want) => {
      const app = appWith(() => Promise.reject(new SaeEdgeError(code, `model: ${code}`)));
      expect(await status(await post(app, { inputs: [Array(D_IN).fill(0)] }))).toEqual({ status: want, code });
    });

    it("a bad request is still a 400, and a good one a 200", async () => {
      const sae = await loadSae(bytes);
      const app = appWith(async () => sae);
      expect(await status(await post(app, { inputs: [[1, 2]] }))).toEqual({ status: 400, code: "INPUT_SHAPE" });
      expect((await post(app, { inputs: [Array.from(X.subarray(0, D_IN))] })).status).toBe(200);
    });
  });
});
