// loadSae takes the same kinds of model source in every adapter (src/adapters/model-source.ts):
// each kind must load the very same model, and a kind the runtime cannot read is one clear error.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SaeEdgeError, bytesSource, createSaePool, loadSae, type ModelSource } from "../../src/adapters/node/index.js";
import { loadSae as loadWeb } from "../../src/adapters/web/index.js";

const REPO = new URL("../../", import.meta.url).pathname;
const PATH = `${REPO}models/mnist-topk-1024.safetensors`;
const BYTES = new Uint8Array(readFileSync(PATH));
const X = new Float32Array(784).map((_, i) => ((i * 31) % 97) / 97);
const WASM = Object.fromEntries(["relaxed", "simd128", "scalar"].map((k) => [k, readFileSync(`${REPO}build/${k}.wasm`)]));

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/m.safetensors") return res.end(BYTES);
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const want = async () => (await loadSae(BYTES, { kernel: "scalar" })).encode(X, 1);
const blob = () => new Blob([BYTES]);

async function codesFrom(load: (m: ModelSource) => Promise<{ encode(x: Float32Array, n: number): unknown; dispose(): void }>, model: ModelSource) {
  const sae = await load(model);
  try {
    return sae.encode(X, 1);
  } finally {
    sae.dispose();
  }
}

async function expectRefused(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const e = await p.then(() => null, (e: unknown) => e);
  expect(e).toBeInstanceOf(SaeEdgeError);
  expect((e as SaeEdgeError).code).toBe("INVALID_ARGUMENT");
  expect((e as SaeEdgeError).message).toMatch(pattern);
}

describe("Node loadSae", () => {
  const sources: [string, () => ModelSource][] = [
    ["a path", () => PATH],
    ["a file: URL string", () => pathToFileURL(PATH).href],
    ["a file: URL", () => pathToFileURL(PATH)],
    ["an http URL string", () => `${base}/m.safetensors`],
    ["an http URL", () => new URL(`${base}/m.safetensors`)],
    ["a Uint8Array", () => BYTES],
    ["an ArrayBuffer", () => BYTES.slice().buffer],
    ["a Response", () => new Response(BYTES)],
    ["a Blob", blob],
    ["a ReadableStream", () => blob().stream()],
    ["a ByteSource", () => bytesSource(BYTES)],
  ];
  it.each(sources)("loads the same model from %s", async (_, source) => {
    expect(await codesFrom((m) => loadSae(m, { kernel: "scalar" }), source())).toEqual(await want());
  });

  it("takes kernel builds from paths, URLs or bytes", async () => {
    const wasm = { scalar: `${REPO}build/scalar.wasm`, simd128: pathToFileURL(`${REPO}build/simd128.wasm`), relaxed: WASM.relaxed! };
    for (const kernel of ["scalar", "simd128"] as const) {
      const sae = await loadSae(BYTES, { kernel, wasm });
      expect(sae.info.kernel).toBe(kernel);
      sae.dispose();
    }
  });

  it("refuses a missing file, an HTTP error and a value that is no model, in one line", async () => {
    await expectRefused(loadSae(`${REPO}models/nope.safetensors`), /cannot open model .*nope\.safetensors: ENOENT/);
    await expectRefused(loadSae(`${base}/nope`), /cannot fetch model http:.*\/nope: HTTP 404/);
    await expectRefused(loadSae(new Response("", { status: 500 })), /HTTP 500/);
    await expectRefused(loadSae(42 as unknown as ModelSource), /model must be a path or URL/);
  });

  it("pools load from a URL or a Blob as well", async () => {
    for (const source of [pathToFileURL(PATH), blob()]) {
      const pool = await createSaePool(source, { threads: 2, kernel: "scalar" });
      try {
        expect(await pool.encode(X, 1)).toEqual(await want());
      } finally {
        await pool.close();
      }
    }
  });
});

describe("web loadSae (no file system)", () => {
  const wasm = { scalar: WASM.scalar! };
  it.each([
    ["an http URL", () => `${base}/m.safetensors`],
    ["a Blob", blob],
    ["a Response", () => new Response(BYTES)],
  ] as [string, () => ModelSource][])("loads the same model from %s", async (_, source) => {
    expect(await codesFrom((m) => loadWeb(m, { kernel: "scalar", wasm }), source())).toEqual(await want());
  });

  it("refuses paths and file: URLs with the sources it does take", async () => {
    await expectRefused(loadWeb("models/m.safetensors", { wasm }), /relative path, but this runtime has no file system: pass an http\(s\) URL/);
    await expectRefused(loadWeb(pathToFileURL(PATH), { wasm }), /file: URL, but this runtime has no file system/);
  });
});
