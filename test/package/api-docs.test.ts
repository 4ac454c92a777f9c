// docs/api/ is generated from the published types (npm run docs:api); this fails when an API
// changed and the committed reference was not regenerated.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { expect, it } from "vitest";

const REPO = new URL("../../", import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

it("docs/api matches what npm run docs:api writes", () => {
  const out = mkdtempSync(join(tmpdir(), "sae-edge-api-"));
  try {
    const typedoc = join(REPO, "node_modules/typedoc/bin/typedoc");
    execFileSync(process.execPath, [typedoc, "--out", out, "--logLevel", "Warn"], { cwd: REPO, stdio: "pipe" });
    const read = (root: string) => Object.fromEntries(files(root).map((f) => [relative(root, f), readFileSync(f, "utf8")]));
    expect(read(join(REPO, "docs/api")), "run npm run docs:api and commit docs/api").toEqual(read(out));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);
