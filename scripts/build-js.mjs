// Bundles the TypeScript entry points with esbuild (dependencies stay external).
import { build } from "esbuild";
import { chmod } from "node:fs/promises";

const common = { bundle: true, format: "esm", target: "es2022", sourcemap: true, packages: "external", logLevel: "warning" };

await Promise.all([
  build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js", platform: "neutral" }),
  build({ ...common, entryPoints: ["src/node.ts"], outfile: "dist/node.js", platform: "node" }),
  build({ ...common, entryPoints: ["src/train/index.ts"], outfile: "dist/train.js", platform: "neutral" }),
  build({ ...common, entryPoints: ["src/demo/index.ts"], outfile: "dist/demo.js", platform: "node" }),
  build({ ...common, entryPoints: ["src/cli/main.ts"], outfile: "dist/cli.js", platform: "node", banner: { js: "#!/usr/bin/env node" } }),
]);
await chmod("dist/cli.js", 0o755);
