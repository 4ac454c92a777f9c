// Bundles the TypeScript entry points with esbuild. Node entries keep their
// dependencies external; the web, Deno and Workers entries bundle them in so each
// is one self-contained ES module (the kernel .wasm files stay beside, in build/).
import { build } from "esbuild";
import { chmod } from "node:fs/promises";

const common = { bundle: true, format: "esm", target: "es2022", sourcemap: true, packages: "external", logLevel: "warning" };
// dist/ and src/ sit at the same depth, so "../build/x.wasm" resolves from both.
const selfContained = { ...common, packages: undefined, platform: "browser", external: ["*.wasm"] };

await Promise.all([
  build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js", platform: "neutral" }),
  build({ ...common, entryPoints: ["src/node.ts"], outfile: "dist/node.js", platform: "node" }),
  build({ ...common, entryPoints: ["src/train/index.ts"], outfile: "dist/train.js", platform: "neutral" }),
  build({ ...common, entryPoints: ["src/demo/index.ts"], outfile: "dist/demo.js", platform: "node" }),
  build({ ...common, entryPoints: ["src/cli/main.ts"], outfile: "dist/cli.js", platform: "node", banner: { js: "#!/usr/bin/env node" } }),
  build({ ...selfContained, entryPoints: ["src/web.ts"], outfile: "dist/web.js" }),
  build({ ...selfContained, entryPoints: ["src/deno.ts"], outfile: "dist/deno.js", conditions: ["deno"] }),
  build({ ...selfContained, entryPoints: ["src/workers.ts"], outfile: "dist/workers.js", conditions: ["workerd"] }),
  build({ ...selfContained, entryPoints: ["src/http/app.ts"], outfile: "dist/http.js" }),
  build({ ...selfContained, entryPoints: ["src/pool/web-worker.ts"], outfile: "dist/pool-worker.js" }),
]);
await chmod("dist/cli.js", 0o755);
