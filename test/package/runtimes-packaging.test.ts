// Packaging for every runtime, checked in-process (the real runtimes run under
// `npm run test:runtimes`): which dist/ entry each export condition resolves to,
// that the non-Node entries are self-contained and import no Node builtins, and
// the shared HTTP app (sae-edge/http) answering requests through its fetch().
import { readFileSync } from "node:fs";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.js";
import { loadSae } from "../../src/adapters/node/index.js";
import { loadSae as loadWeb } from "../../src/adapters/web/index.js";
import { REPO } from "../helpers/common.mjs";


/** The dist/ file `import "sae-edge"` (or a subpath) resolves to under esbuild with these conditions. */
async function resolved(spec: string, platform: "node" | "browser" | "neutral", conditions: string[] = []): Promise<string[]> {
  const r = await build({
    stdin: { contents: `export * from "${spec}";`, resolveDir: REPO, loader: "js" },
    bundle: true, write: false, metafile: true, format: "esm", platform, conditions, external: ["*.wasm"], packages: platform === "node" ? "external" : undefined,
    logLevel: "silent",
  });
  return Object.keys(r.metafile.inputs).filter((f) => f.startsWith("dist/"));
}

describe("package.json exports", () => {
  it("resolves one import to the right entry per runtime", async () => {
    expect(await resolved("sae-edge", "browser")).toEqual(["dist/web.js"]);
    expect(await resolved("sae-edge", "browser", ["workerd"])).toEqual(["dist/workers.js"]);
    expect(await resolved("sae-edge", "neutral", ["deno"])).toEqual(["dist/deno.js"]);
    expect(await resolved("sae-edge", "neutral")).toEqual(["dist/web.js"]);
    expect(await resolved("sae-edge/http", "browser")).toEqual(["dist/http.js"]);
  });

  it("Node gets the Node adapter", async () => {
    const m: Record<string, unknown> = await import("sae-edge"); // typed as the web entry (tsconfig has no "node" condition)
    expect(typeof m.nodeBuilds).toBe("object");
    expect(import.meta.resolve("sae-edge")).toMatch(/\/dist\/node\.js$/);
  });

  it("the web, Deno, Workers and HTTP entries import nothing but the kernel builds", () => {
    for (const f of ["web", "deno", "workers", "http", "index"]) {
      const js = readFileSync(`${REPO}dist/${f}.js`, "utf8");
      expect(js, f).not.toMatch(/from\s*["']node:|require\(["']node:/);
      const imports = [...new Set([...js.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]))];
      const allowed = f === "workers" ? ["./relaxed.wasm", "./simd128.wasm", "./scalar.wasm"] : f === "index" ? ["fflate"] : [];
      expect(imports, f).toEqual(allowed);
    }
  });
});

describe("web adapter", () => {
  it("takes kernel builds as a compiled module, bytes or a URL", async () => {
    const model = new Uint8Array(readFileSync(`${REPO}models/mnist-topk-1024.safetensors`));
    const bytes = (k: string) => new Uint8Array(readFileSync(`${REPO}build/${k}.wasm`));
    const url = (k: string) => `data:application/wasm;base64,${Buffer.from(bytes(k)).toString("base64")}`;
    const x = new Float32Array(784).map((_, i) => (i % 13) / 13);
    const want = (await loadSae(model, { kernel: "scalar" })).encode(x, 1);
    const runs = [
      [{ scalar: await WebAssembly.compile(bytes("scalar")) }, "scalar"],
      [{ simd128: bytes("simd128") }, "simd128"],
      [{ scalar: url("scalar") }, "scalar"],
    ] as const;
    for (const [wasm, kernel] of runs) {
      const sae = await loadWeb(model, { wasm, kernel });
      expect(sae.info.kernel).toBe(kernel);
      expect(sae.encode(x, 1)).toEqual(want);
      sae.dispose();
    }
  });
});

describe("sae-edge/http", async () => {
  const sae = await loadSae(`${REPO}models/mnist-topk-1024.safetensors`);
  const app = createApp({ sae: async () => sae, token: () => "t0k", maxBodyBytes: 64 * 1024 });
  const call = async (path: string, init: RequestInit = {}, auth = true): Promise<Response> =>
    app.fetch(new Request(`http://x${path}`, { ...init, headers: { ...(auth ? { authorization: "Bearer t0k" } : {}), ...(init.headers ?? {}) } }));

  it("encodes JSON and float32 bodies the same as the library", async () => {
    const x = new Float32Array(784).map((_, i) => ((i * 37) % 100) / 100);
    const want = sae.encode(x, 1);
    const j = await (await call("/v1/encode", { method: "POST", body: JSON.stringify({ inputs: [Array.from(x)] }) })).json();
    const b = await (await call("/v1/encode", { method: "POST", body: x, headers: { "content-type": "application/octet-stream", "x-rows": "1" } })).json();
    expect(j.codes[0].indices).toEqual(Array.from(want.indices));
    expect(j.codes[0].values).toEqual(Array.from(want.values));
    expect(b).toEqual(j);
  });

  it("answers errors with a status and a JSON code", async () => {
    const post = (body: BodyInit, headers: Record<string, string> = {}) => call("/v1/score", { method: "POST", body, headers });
    const cases: [Promise<Response>, number, string][] = [
      [post("{"), 400, "MALFORMED_JSON"],
      [post(JSON.stringify({ inputs: [[1, 2]] })), 400, "INPUT_SHAPE"],
      [post(JSON.stringify({ inputs: [["a"]] })), 400, "INPUT_SHAPE"],
      [post(new Float32Array(784).fill(NaN), { "content-type": "application/octet-stream", "x-rows": "1" }), 400, "INPUT_NONFINITE"],
      [post(new Uint8Array(65 * 1024), { "content-type": "application/octet-stream", "x-rows": "1" }), 413, "BODY_TOO_LARGE"],
      [call("/v1/info", {}, false), 401, "UNAUTHORIZED"],
      [call("/nope"), 404, "NOT_FOUND"],
    ];
    for (const [res, status, code] of cases) {
      const r = await res;
      expect([r.status, (await r.json()).error.code]).toEqual([status, code]);
    }
    expect(await (await call("/healthz", {}, false)).text()).toBe("ok");
  });
});
