// Bundles the TypeScript entry points with esbuild. Node entries keep their
// dependencies external; the web, Deno and Workers entries bundle them in so each
// is one self-contained ES module (the kernel .wasm files stay beside, in build/).
import { build } from "esbuild";
import { chmod, readFile, rename, writeFile } from "node:fs/promises";

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
// Bundles keep "../build/x.wasm" relative to dist/ (the wasm files stay beside, in build/).
const selfContained = { ...common, packages: undefined, platform: "browser", external: ["*.wasm"] };

await Promise.all([
  build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js", platform: "neutral" }),
  build({ ...common, entryPoints: ["src/adapters/node/index.ts"], outfile: "dist/node.js", platform: "node" }),
  build({ ...common, entryPoints: ["src/train/index.ts"], outfile: "dist/train.js", platform: "neutral" }),
  build({ ...common, entryPoints: ["src/demo/index.ts"], outfile: "dist/demo.js", platform: "node" }),
  build({ ...common, entryPoints: ["src/cli/main.ts"], outfile: "dist/cli.js", platform: "node", banner: { js: "#!/usr/bin/env node" } }),
  build({ ...selfContained, entryPoints: ["src/adapters/web/index.ts"], outfile: "dist/web.js" }),
  build({ ...selfContained, entryPoints: ["src/adapters/deno/index.ts"], outfile: "dist/deno.js", conditions: ["deno"] }),
  build({ ...selfContained, entryPoints: ["src/adapters/workers/index.ts"], outfile: "dist/workers.js", conditions: ["workerd"] }),
  build({ ...selfContained, entryPoints: ["src/http/app.ts"], outfile: "dist/http.js" }),
  build({ ...selfContained, entryPoints: ["src/adapters/web/pool-worker.ts"], outfile: "dist/pool-worker.js" }),
]);
await chmod("dist/cli.js", 0o755);
