// Builds dist/: each entry point bundled by esbuild, the kernel builds copied beside the
// bundles that load them (every adapter finds them with new URL("./x.wasm", import.meta.url)),
// and the .d.ts files (tsconfig.types.json → dist/types/). Node entries keep their npm
// dependencies external; the web, Deno and Workers entries and the pool worker are each one
// self-contained ES module.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";

// package.json's version is the one source; the code reads it from src/base/version.ts, written
// here (a JSON import would need resolveJsonModule in every consumer that type-checks src/).
const { version } = JSON.parse(await readFile("package.json", "utf8"));
const versionTs = `// Written by scripts/build-js.mjs from package.json: do not edit.\nexport const VERSION = ${JSON.stringify(version)};\n` +
  `/** The stamp in the files sae-edge writes (created_by, trained_by). */\nexport const CREATED_BY = ${JSON.stringify(`sae-edge ${version}`)};\n`;
if ((await readFile("src/base/version.ts", "utf8").catch(() => "")) !== versionTs) {
  await writeFile("src/base/version.ts.tmp", versionTs);
  await rename("src/base/version.ts.tmp", "src/base/version.ts");
}

const common = { bundle: true, format: "esm", target: "es2022", sourcemap: true, packages: "external", logLevel: "warning" };
const selfContained = { ...common, packages: undefined, platform: "browser", external: ["*.wasm"] };

await rm("dist", { recursive: true, force: true });
await mkdir("dist");
await Promise.all([
  build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js", platform: "neutral" }),
  build({ ...common, entryPoints: ["src/adapters/node/index.ts"], outfile: "dist/node.js", platform: "node" }),
  // Self-contained: an app bundle that copies it beside itself has no node_modules to lend it.
  build({ ...common, packages: undefined, entryPoints: ["src/adapters/node/pool-worker.ts"], outfile: "dist/node-pool-worker.js", platform: "node" }),
  build({ ...common, entryPoints: ["src/train/index.ts"], outfile: "dist/train.js", platform: "neutral" }),
  build({ ...common, entryPoints: ["src/demo/index.ts"], outfile: "dist/demo.js", platform: "node" }),
  build({ ...common, entryPoints: ["src/cli/main.ts"], outfile: "dist/cli.js", platform: "node", banner: { js: "#!/usr/bin/env node" } }),
  build({ ...selfContained, entryPoints: ["src/adapters/web/index.ts"], outfile: "dist/web.js" }),
  build({ ...selfContained, entryPoints: ["src/adapters/web/pool-worker.ts"], outfile: "dist/pool-worker.js" }),
  build({ ...selfContained, entryPoints: ["src/adapters/deno/index.ts"], outfile: "dist/deno.js", conditions: ["deno"] }),
  build({ ...selfContained, entryPoints: ["src/adapters/deno/pool-worker.ts"], outfile: "dist/deno-pool-worker.js", conditions: ["deno"] }),
  build({ ...selfContained, entryPoints: ["src/adapters/workers/index.ts"], outfile: "dist/workers.js", conditions: ["workerd"] }),
  // hono is bundled in (about 60 KB): sae-edge/http needs nothing installed, and its types name no hono type.
  build({ ...selfContained, entryPoints: ["src/http/app.ts"], outfile: "dist/http.js" }),
  ...["relaxed", "simd128", "scalar"].map((k) => copyFile(`build/${k}.wasm`, `dist/${k}.wasm`)),
]);
await chmod("dist/cli.js", 0o755);

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", "tsconfig.types.json"], { stdio: "inherit" });
