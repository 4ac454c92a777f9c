import { existsSync, readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

// One vitest project per runtime (test/runtimes/<runtime>/vitest.config.ts) beside node20:
// the unit tests, which run under this Node 20, and the matrix's Node 20 leg.
// `npm test` runs them all; `npx vitest run --project deno` one.
const dir = new URL("test/runtimes/", import.meta.url);
const RUNTIMES = readdirSync(dir).filter((d) => existsSync(new URL(`${d}/vitest.config.ts`, dir)));

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node20",
          include: ["test/**/*.test.ts", "test/runtimes/node20/*.test.mjs"],
          exclude: ["test/engines/**", "**/node_modules/**", ...RUNTIMES.map((r) => `test/runtimes/${r}/**`)],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      ...RUNTIMES.map((r) => `test/runtimes/${r}/vitest.config.ts`),
    ],
  },
});
