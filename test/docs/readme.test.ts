// Every ```ts block of the README runs as written: esbuild strips the types and Node runs the
// result from inside the repository, where `import "sae-edge"` is the package's self-reference
// to what the build just made (dist/), as an installed package would be.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { transformSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/common.mjs";

const blocks = [...readFileSync(join(REPO, "README.md"), "utf8").matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const dir = join(REPO, "test/docs/.snippets");
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: dir, timeout: 120_000, encoding: "utf8" }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe("README.md", () => {
  it("has TypeScript examples to run", () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.each(blocks.map((code, i) => [i + 1, code] as const))("block %i runs", async (i, code) => {
    const file = join(dir, `block-${i}.mjs`);
    writeFileSync(file, transformSync(code, { loader: "ts", format: "esm", target: "es2022" }).code);
    const r = await run(file);
    expect(r.code, `${r.stderr}\n--- block ${i} ---\n${code}`).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("the library example prints the codes it promises (k = 32 per row, two rows)", async () => {
    const lib = blocks.find((b) => b.includes("createSaePool"))!;
    const file = join(dir, "library.mjs");
    writeFileSync(file, transformSync(lib, { loader: "ts", format: "esm", target: "es2022" }).code);
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Uint32Array\(3\) \[ 0, 32, 64 \]/);
    expect(r.stdout).toMatch(/^64 Float64Array\(2\)/m); // the pool's codes and scores
  });
});
