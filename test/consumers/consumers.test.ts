// The package as users get it: `npm pack` once, the tarball installed alone into an empty
// folder outside the repo (its footprint measured there), then real consumer projects
// built against it (fixtures/, one folder each), each loading the MNIST model, encoding
// three rows and, where the runtime has threads, a 2-thread pool encoding and scoring
// eight: plain Node (the reference), tsc under the strictest settings on TypeScript 5.0,
// 5.9 and 7, esbuild / Vite / webpack / Rollup bundles in headless Chromium, the Vite dev
// server, an esbuild --platform=node bundle, Deno, and a Cloudflare Worker under wrangler
// dev. Every result must equal plain Node's: same indices and values.
// What users of each tool need, as the fixtures show: Rollup copies the files that
// new URL("…", import.meta.url) names only with @web/rollup-plugin-import-meta-assets; esbuild
// never copies them, so its build scripts copy the kernel builds and pool worker beside the bundle.
// The bundlers come from this folder's package.json (npm ci when its lock changed; Vite stays at
// 8.3: 8.4 lists an optional Windows-only dependency the registry here lacks, which npm ci refuses);
// Deno, wrangler and playwright-core from test/runtimes (all installed by scripts/ensure-test-deps.mjs).
// KEEP_CONSUMERS=1 keeps the built projects (the folder is printed).
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const RUNTIMES = `${REPO}test/runtimes/`;
const MODEL = `${REPO}models/mnist-topk-1024.safetensors`;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const MiB = 1 << 20;
// test/runtimes' helpers (plain .mjs, typed here by what this file uses).
const { serveDir } = (await import(`${RUNTIMES}static-server.mjs`)) as { serveDir(root: string): Promise<{ url: string; close(): Promise<void> }> };
const { freePort, startWrangler } = (await import(`${RUNTIMES}wrangler.mjs`)) as {
  freePort(): Promise<number>;
  startWrangler(cwd: string): Promise<{ base: string; stop(): void; log(): string }>;
};
// The goal for `npm install sae-edge`: packages (sae-edge included) and bytes besides the shipped models.
const MAX_PACKAGES = 10;
const MAX_BYTES = 5 * MiB;
// The tools a consumer project would list as devDependencies, linked into its node_modules.
const TOOLS = ["esbuild", "vite", "webpack", "webpack-cli", "rollup", "@rollup/plugin-node-resolve", "@web/rollup-plugin-import-meta-assets", "@types/node"];

interface Codes { rowOffsets: number[]; indices: number[]; values: number[] }
interface Result { kernel: string; encode: Codes; pool?: { encode: Codes; score: number[] }; error?: string }

/** Runs a command; resolves to its stdout, or rejects with the command and its output (killed after `timeout` ms). */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout = 240_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * MiB, timeout }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${[cmd, ...args].join(" ")}\` in ${cwd} failed (${err.code ?? err.signal}):\n${stdout}${stderr}`.slice(0, 6000)));
      else resolve(stdout);
    });
  });
}

/** This folder's tools and test/runtimes' come from npm test's pretest (scripts/ensure-test-deps.mjs). */
async function ensureTools(): Promise<void> {
  await run(process.execPath, [`${REPO}scripts/ensure-test-deps.mjs`], REPO);
}

/** Packages in a node_modules folder (nested ones too), its bytes, and the bytes of shipped models apart. */
function footprint(nodeModules: string): { packages: number; bytes: number; modelBytes: number } {
  let packages = 0, bytes = 0, modelBytes = 0;
  const walk = (dir: string, packagesHere: boolean) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        // Children of node_modules (and of its @scope folders) are packages.
        const scope = packagesHere && e.name.startsWith("@");
        if (packagesHere && !scope && !e.name.startsWith(".")) packages++;
        walk(p, scope || e.name === "node_modules");
      } else if (e.isFile()) {
        if (e.name.endsWith(".safetensors")) modelBytes += statSync(p).size;
        else bytes += statSync(p).size;
      }
    }
  };
  walk(nodeModules, true);
  return { packages, bytes, modelBytes };
}

let work: string; // the consumer folder: package.json + the tarball installed
let installed: { added: number; packages: number; bytes: number; modelBytes: number; tarballBytes: number };
let node: Result; // plain Node's result, the reference
let chromium: { launch(o: object): Promise<Browser> };
interface Page { on(e: string, f: (x: { message?: string; text?: () => string; type?: () => string; url?: () => string }) => void): void; goto(u: string, o: object): Promise<unknown>; close(): Promise<void>; waitForFunction(f: () => boolean, a: null, o: object): Promise<unknown>; evaluate<T>(f: () => T): Promise<T> }
interface Browser { newPage(): Promise<Page>; close(): Promise<void> }
let browser: Browser | undefined;

beforeAll(async () => {
  for (const f of ["dist/web.js", "dist/node.js", "build/scalar.wasm"]) if (!existsSync(`${REPO}${f}`)) throw new Error(`${f} missing: run npm run build first`);
  await ensureTools();
  ({ chromium } = createRequire(`${RUNTIMES}package.json`)("playwright-core"));
  work = mkdtempSync(join(tmpdir(), "sae-edge-consumers-"));
  // The built dist/ and build/ as they are (`npm test` builds first; prepare would build again).
  const packed = JSON.parse(await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], REPO)) as { filename: string; size: number }[];
  const tarball = `${work}/${packed[0]!.filename}`;
  writeFileSync(`${work}/package.json`, JSON.stringify({ name: "consumer", private: true, type: "module" }));
  const out = await run("npm", ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline"], work);
  const added = Number(/added (\d+) package/.exec(out)?.[1] ?? NaN);
  installed = { added, ...footprint(`${work}/node_modules`), tarballBytes: packed[0]!.size };
  for (const t of TOOLS) {
    if (existsSync(`${work}/node_modules/${t}`)) continue; // already a dependency of the package's
    mkdirSync(join(work, "node_modules", t, ".."), { recursive: true });
    symlinkSync(`${HERE}node_modules/${t}`, `${work}/node_modules/${t}`);
  }
  for (const f of readdirSync(`${HERE}fixtures`)) cpSync(`${HERE}fixtures/${f}`, `${work}/${f}`, { recursive: true });
  for (const f of ["esbuild-browser", "vite", "webpack", "rollup", "node", "deno", "worker"]) cpSync(`${work}/shared/consumer.js`, `${work}/${f}/consumer.js`);
  for (const f of ["esbuild-browser", "vite", "webpack", "rollup"]) cpSync(`${work}/browser-app`, `${work}/${f}`, { recursive: true });
  cpSync(MODEL, `${work}/model.safetensors`);
  cpSync(MODEL, `${work}/worker/model.safetensors`);
  cpSync(MODEL, `${work}/vite/public/model.safetensors`);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (work && !process.env.KEEP_CONSUMERS) rmSync(work, { recursive: true, force: true });
  else if (work) console.log(`consumer projects kept in ${work}`);
});

/** One line for the log. */
const log = (what: string, t0: number) => console.log(`${what} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

/** The result must equal plain Node's: same kernel output (indices and values), same pool output. */
function expectSameAsNode(who: string, got: Result, pool: boolean): void {
  if (!node) throw new Error(`${who}: nothing to compare with, the plain Node consumer failed (see its test)`);
  expect(got.error, `${who} reported an error`).toBeUndefined();
  expect(got.encode, `${who}: the codes of 3 rows differ from plain Node's (kernel ${got.kernel} here, ${node.kernel} in Node)`).toEqual(node.encode);
  if (pool) expect(got.pool, `${who}: the 2-thread pool's codes and scores differ from plain Node's`).toEqual(node.pool);
}

/** Result of running a fixture's JSON-printing command. */
async function jsonFrom(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const out = await run(cmd, args, cwd, env);
  try {
    return JSON.parse(out.trim().split("\n").pop()!) as Result;
  } catch {
    throw new Error(`no JSON result from \`${[cmd, ...args].join(" ")}\`:\n${out}`);
  }
}

/** Resolves as `p` does, or rejects naming `what` after `ms`: a stalled step fails with its name, not the test's timeout. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms / 1000} s`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Opens `url` in a new headless Chromium page, waits for the app's window.result, closes the page (its pool workers and connections with it). */
async function inChromium(url: string): Promise<Result> {
  browser ??= await within(60_000, "launching Chromium", chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] }));
  const page = await within(30_000, "opening a Chromium page", browser.newPage());
  const problems: string[] = [];
  const pending = new Map<string, number>(); // requests the page made that have not finished (by URL): what a stalled page waits for
  const started = (u: string) => pending.set(u, (pending.get(u) ?? 0) + 1);
  const finished = (u: string) => (pending.get(u)! > 1 ? pending.set(u, pending.get(u)! - 1) : pending.delete(u));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => m.type?.() === "error" && problems.push(`console: ${m.text?.()}`));
  page.on("request", (r) => started(r.url!()));
  page.on("requestfinished", (r) => finished(r.url!()));
  page.on("requestfailed", (r) => {
    finished(r.url!());
    problems.push(`request failed: ${r.url!()}`);
  });
  const stalled = () => `${problems.join("; ") || "no page errors"}; requests unfinished: ${[...pending.keys()].join(", ") || "none"}`;
  try {
    await page.goto(url, { timeout: 30_000 }).catch((e: Error) => {
      throw new Error(`${url}: did not load (${e.message.split("\n")[0]}); ${stalled()}`);
    });
    await page.waitForFunction(() => (window as { result?: unknown }).result !== undefined, null, { timeout: 60_000 }).catch(() => {
      throw new Error(`${url}: no result after 60 s; ${stalled()}`);
    });
    const result = await within(10_000, `${url}: reading window.result`, page.evaluate(() => (window as unknown as { result: Result }).result));
    if (result.error) result.error += problems.length ? ` (${problems.join("; ")})` : "";
    return result;
  } finally {
    await within(10_000, "closing the Chromium page", page.close()).catch(() => {});
  }
}

describe("the packed package", () => {
  it(`installs alone in at most ${MAX_PACKAGES} packages and ${MAX_BYTES / MiB} MB besides the shipped models`, () => {
    const { added, packages, bytes, modelBytes, tarballBytes } = installed;
    console.log(`npm install sae-edge: added ${added} packages, ${(bytes / MiB).toFixed(2)} MB on disk + ${(modelBytes / MiB).toFixed(2)} MB of shipped models (tarball ${(tarballBytes / MiB).toFixed(2)} MB)`);
    expect(added, "npm's count of added packages agrees with node_modules").toBe(packages);
    expect(packages, `packages installed (sae-edge and its dependencies)`).toBeLessThanOrEqual(MAX_PACKAGES);
    expect(bytes, `bytes in node_modules besides the models`).toBeLessThanOrEqual(MAX_BYTES);
  });

  it("plain Node imports it by name, encodes and runs a 2-thread pool", async () => {
    const t0 = performance.now();
    node = await jsonFrom(process.execPath, ["app.js", "../model.safetensors"], `${work}/node`);
    log(`node: kernel ${node.kernel}, ${node.encode.indices.length} active latents in 3 rows`, t0);
    expect(node.encode.rowOffsets, "3 rows of k = 32 latents").toEqual([0, 32, 64, 96]);
    expect(node.pool!.encode.indices.slice(0, 96), "the pool's first 3 rows are the single Sae's").toEqual(node.encode.indices);
    expect(node.pool!.encode.values.slice(0, 96), "the pool's first 3 rows are the single Sae's").toEqual(node.encode.values);
    expect(node.pool!.score.every((s) => Number.isFinite(s) && s > 0), `finite positive scores: ${node.pool!.score}`).toBe(true);
  }, 60_000);
});

describe("TypeScript, strictest consumer settings, skipLibCheck false", () => {
  // [version, its package here, the @types/node a Node project on it can use (newer ones need TypeScript 5.3)]
  const versions = [["5.0", "typescript-5.0", "types-node-for-ts5.0"], ["5.9", "typescript-5.9", "@types/node"], ["7", "typescript", "@types/node"]] as const;
  for (const [version, pkg, nodeTypes] of versions) {
    for (const resolution of ["bundler", "node16"]) {
      it(`tsc ${version}, moduleResolution ${resolution}`, async () => {
        const t0 = performance.now();
        rmSync(`${work}/typescript/types/node`, { force: true });
        mkdirSync(`${work}/typescript/types`, { recursive: true });
        symlinkSync(`${HERE}node_modules/${nodeTypes}`, `${work}/typescript/types/node`);
        await run(process.execPath, [`${HERE}node_modules/${pkg}/bin/tsc`, "-p", `tsconfig.${resolution}.json`], `${work}/typescript`);
        log(`tsc ${version} ${resolution}: no errors`, t0);
      }, 120_000);
    }
  }
});

describe("browser bundles in headless Chromium", () => {
  const bundlers: [string, string, string[]][] = [
    ["esbuild (browser)", "esbuild-browser", ["build.mjs"]],
    ["Vite build", "vite", [`${HERE}node_modules/vite/bin/vite.js`, "build"]],
    ["webpack 5", "webpack", [`${HERE}node_modules/webpack-cli/bin/cli.js`, "--config", "webpack.config.js"]],
    ["Rollup + node-resolve + import-meta-assets", "rollup", [`${HERE}node_modules/rollup/dist/bin/rollup`, "-c"]],
  ];
  for (const [name, folder, args] of bundlers) {
    it(name, async () => {
      const t0 = performance.now();
      const dir = `${work}/${folder}`;
      await run(process.execPath, args, dir, {}, 90_000);
      if (!existsSync(`${dir}/out/index.html`)) cpSync(`${dir}/index.html`, `${dir}/out/index.html`);
      cpSync(MODEL, `${dir}/out/model.safetensors`);
      const server = await serveDir(`${dir}/out/`);
      try {
        const got = await inChromium(`${server.url}index.html`);
        log(`${name}: kernel ${got.kernel ?? "-"}`, t0);
        expectSameAsNode(name, got, true);
      } finally {
        await within(10_000, "closing the static server", server.close());
      }
    }, 300_000); // above the sum of its steps' own limits, so a stalled step fails by name
  }

  it("Vite dev server", async () => {
    const t0 = performance.now();
    const port = await freePort();
    const child = spawn(process.execPath, [`${HERE}node_modules/vite/bin/vite.js`, "--host", "127.0.0.1", "--port", String(port), "--strictPort"], {
      cwd: `${work}/vite`, stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    try {
      const url = `http://127.0.0.1:${port}/`;
      const deadline = Date.now() + 30_000;
      while (!(await fetch(url).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`vite dev did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const got = await inChromium(`${url}index.html`);
      log(`Vite dev: kernel ${got.kernel ?? "-"}`, t0);
      if (got.error) got.error += `\nvite output:\n${output}`;
      expectSameAsNode("Vite dev server", got, true);
    } finally {
      child.kill("SIGTERM");
    }
  }, 240_000);
});

describe("server-side runtimes", () => {
  it("esbuild --platform=node bundle, run by node from another folder", async () => {
    const t0 = performance.now();
    await run(process.execPath, ["build.mjs"], `${work}/node`);
    // Away from node_modules: the bundle must carry what it needs.
    const away = mkdtempSync(join(tmpdir(), "sae-edge-node-bundle-"));
    try {
      cpSync(`${work}/node/out`, away, { recursive: true });
      const got = await jsonFrom(process.execPath, [`${away}/app.mjs`, `${work}/model.safetensors`], away);
      log(`esbuild node bundle: kernel ${got.kernel}`, t0);
      expectSameAsNode("the esbuild node bundle", got, true);
    } finally {
      rmSync(away, { recursive: true, force: true });
    }
  }, 120_000);

  it("Deno with the npm-installed node_modules folder", async () => {
    const t0 = performance.now();
    const env = { DENO_NO_UPDATE_CHECK: "1", DENO_DIR: `${RUNTIMES}.cache/deno` };
    const got = await jsonFrom(`${RUNTIMES}node_modules/.bin/deno`, ["run", "--node-modules-dir=manual", "--allow-read", "deno/main.js", "model.safetensors"], work, env);
    log(`Deno: kernel ${got.kernel}`, t0);
    expectSameAsNode("Deno", got, true);
  }, 120_000);

  it("Cloudflare Worker importing sae-edge under wrangler dev", async () => {
    const t0 = performance.now();
    const w = await startWrangler(`${work}/worker`);
    try {
      const res = await fetch(`${w.base}/encode`);
      const body = await res.text();
      expect(res.status, `GET /encode answered ${res.status}: ${body}\n${w.log().slice(-2000)}`).toBe(200);
      const got = JSON.parse(body) as Result;
      log(`wrangler dev: kernel ${got.kernel}`, t0);
      expectSameAsNode("the Worker", got, false);
    } finally {
      w.stop();
    }
  }, 120_000);
});
