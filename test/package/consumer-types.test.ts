// The published types (dist/types/) as a consumer's tsc sees them: one project per kind of
// consumer (Node, bundled browser app, legacy node10 resolution, Cloudflare Worker), each under the strictest options
// and skipLibCheck off, on the oldest TypeScript sae-edge supports (5.0) and the newest.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { afterAll, describe, expect, it } from "vitest";

const REPO = new URL("../../", import.meta.url).pathname;
const OLDEST = new URL("typescript/", import.meta.url).pathname; // its own package.json: TypeScript 5.0
// node_modules installed by npm test's pretest (scripts/ensure-test-deps.mjs).
const COMPILERS = { "5.0": `${OLDEST}node_modules/typescript/bin/tsc`, latest: createRequire(import.meta.url).resolve("typescript/bin/tsc") };

const STRICT = {
  strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, noPropertyAccessFromIndexSignature: true,
  noImplicitOverride: true, skipLibCheck: false, noEmit: true, target: "ES2022", verbatimModuleSyntax: true,
};

// Every subpath export, and calls that use the types in both directions.
const EVERY_EXPORT = `
import * as core from "sae-edge/core";
import * as train from "sae-edge/train";
import * as web from "sae-edge/web";
import * as deno from "sae-edge/deno";
import * as workers from "sae-edge/workers";
import * as node from "sae-edge/node";
import { createApp } from "sae-edge/http";
export async function useWeb(bytes: Uint8Array, blob: Blob, res: Response): Promise<number | undefined> {
  const sae: core.Sae = await web.loadSae(new URL("https://example.com/m.safetensors"), { kernel: "simd128", wasm: { scalar: new URL("https://example.com/s.wasm") } });
  await web.loadSae(bytes); await web.loadSae(blob); await web.loadSae(res); await deno.loadSae("m.safetensors");
  const codes: core.SparseCodes = sae.encode(new Float32Array(sae.info.dIn));
  const pool = await web.createSaePool("m.safetensors", { threads: 2, workerUrl: "w.js" });
  await pool.close();
  const app = createApp({ sae: async () => sae, token: () => "t" });
  await app.fetch(new Request("http://x/healthz"));
  void train; void workers.r2Source; void node.loadSae;
  try { sae.dispose(); } catch (e) { if (e instanceof core.SaeEdgeError && e.code === "DISPOSED") return -1; }
  return codes.indices[0];
}
`;

const CONSUMERS: Record<string, { compilerOptions: Record<string, unknown>; file: string; source: string }> = {
  node: {
    compilerOptions: { ...STRICT, module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022"], types: ["node"] },
    file: "app.mts",
    source: `${EVERY_EXPORT}
import { loadSae, createSaePool, nodeBuilds, type ModelSource } from "sae-edge";
const model: ModelSource = new URL(import.meta.resolve("sae-edge/models/mnist-topk-1024.safetensors"));
const sae = await loadSae(model, { wasm: { relaxed: "./relaxed.wasm" } });
const pool = await createSaePool("m.safetensors", { threads: 2 });
const k: number | undefined = sae.info.k;
void nodeBuilds; void k; await pool.close();
`,
  },
  browser: {
    compilerOptions: { ...STRICT, module: "ESNext", moduleResolution: "Bundler", lib: ["ES2022", "DOM", "DOM.Iterable"], types: [] },
    file: "app.ts",
    source: `${EVERY_EXPORT}
import { loadSae, webBuilds } from "sae-edge";
const sae = await loadSae("/models/m.safetensors", { wasm: { scalar: "/s.wasm" } });
void webBuilds; void sae;
`,
  },
  // moduleResolution "node" (node10) reads no "exports": the subpaths come from "typesVersions".
  legacy: {
    compilerOptions: { ...STRICT, verbatimModuleSyntax: false, module: "ESNext", moduleResolution: "Node", lib: ["ES2022", "DOM"], types: [] },
    file: "app.ts",
    source: EVERY_EXPORT,
  },
  worker: {
    compilerOptions: { ...STRICT, module: "ESNext", moduleResolution: "Bundler", customConditions: ["workerd"], lib: ["ES2022", "WebWorker"], types: [] },
    file: "worker.ts",
    source: `
import { loadSae, r2Source, workerBuilds, type R2BucketLike } from "sae-edge";
import { createApp } from "sae-edge/http";
export default {
  async fetch(request: Request, env: { MODEL: R2BucketLike }): Promise<Response> {
    const sae = await loadSae(await r2Source(env.MODEL, "m.safetensors"));
    void workerBuilds;
    return createApp({ sae: async () => sae, token: () => "t" }).fetch(request);
  },
};
`,
  },
};

const root = mkdtempSync(join(tmpdir(), "sae-edge-consumer-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function project(kind: string): string {
  const dir = join(root, kind);
  const c = CONSUMERS[kind]!;
  mkdirSync(join(dir, "node_modules", "@types"), { recursive: true });
  symlinkSync(REPO, join(dir, "node_modules", "sae-edge"));
  symlinkSync(join(REPO, "node_modules", "@types", "node"), join(dir, "node_modules", "@types", "node"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: c.compilerOptions, files: [c.file] }));
  writeFileSync(join(dir, c.file), c.source);
  return dir;
}

describe.each(Object.keys(CONSUMERS))("a %s consumer's tsc", (kind) => {
  const dir = project(kind);
  it.each(Object.keys(COMPILERS))("TypeScript %s: no errors", (version) => {
    const r = spawnSync(process.execPath, [COMPILERS[version as keyof typeof COMPILERS], "-p", dir], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  }, 120_000);
});
