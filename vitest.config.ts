import { existsSync, readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

// One vitest project per runtime (test/runtimes/<runtime>/vitest.config.ts) beside node20:
// the unit tests, which run under this Node 20, and the matrix's Node 20 leg.
// `npm test` runs them all; `npx vitest run --project deno` one.
const RUNTIMES = readdirSync("test/runtimes").filter((d) => existsSync(`test/runtimes/${d}/vitest.config.ts`));

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node20",
          include: ["test/**/*.test.ts", "test/runtimes/node20/*.test.mjs"],
          exclude: ["test/engines/**", "**/node_modules/**", ...RUNTIMES.map((r) => `test/runtimes/${r}/**`)],
          globalSetup: ["test/runtimes/setup.mjs"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      ...RUNTIMES.map((r) => `test/runtimes/${r}/vitest.config.ts`),
    ],
  },
});
