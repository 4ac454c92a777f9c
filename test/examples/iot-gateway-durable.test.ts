// sae-edge/node's atomic writers (writeFileAtomicSync: the gateway's models and snapshots, the
// camera's model and PNGs; writeFileAtomic: the CLI's outputs) against kill -9: a writer replaces
// a 1 MiB file over and over and is killed at seeded random moments. The file must always be one
// whole version, never a mix or a prefix; anything else left is a temp file that
// removeAtomicLeftovers removes.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { removeAtomicLeftovers, writeFileAtomic, writeFileAtomicSync } from "../../src/adapters/node/index.js";
import { REPO } from "../helpers/common.mjs";
import { mountTmpfs, unmountTmpfs } from "../helpers/tmpfs.js";

// SAE_EDGE_FAULT_TRIALS=100 for the figure (as test/cli/fault-injection.test.ts).
const TRIALS = Number(process.env.SAE_EDGE_FAULT_TRIALS ?? 30);
const SEED = Number(process.env.SEED ?? 1130);
const SIZE = 1 << 20;
const tmp = mkdtempSync(join(tmpdir(), "sae-edge-durable-"));
// A 2 MiB tmpfs for the full-disk case; needs root (mount), skipped with the reason otherwise.
const DISK = join(tmp, "disk");
const noDisk = mountTmpfs(DISK, "2m");
if (noDisk) console.log(`full-disk cases skipped: ${noDisk}`);
afterAll(() => {
  if (!noDisk) unmountTmpfs(DISK);
  rmSync(tmp, { recursive: true, force: true });
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PACKAGE = pathToFileURL(join(REPO, "dist", "node.js")).href;

describe.each(["writeFileAtomicSync", "writeFileAtomic"])("%s under kill -9", (writerName) => {
  it(`leaves a whole file in ${TRIALS} seeded kills (seed ${SEED})`, async () => {
    // Version g: SIZE bytes, all equal to g % 251 + 1.
    const writer = `
      import { ${writerName} as write } from ${JSON.stringify(PACKAGE)};
      for (let g = 0; ; g++) await write(process.argv[1], Buffer.alloc(${SIZE}, g % 251 + 1));`;
    const random = rng(SEED);
    const versions = new Set<number>();
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = join(tmp, `${writerName}-${trial}`);
      mkdirSync(dir);
      const target = join(dir, "model.safetensors");
      const child = spawn(process.execPath, ["--input-type=module", "-e", writer, target], { stdio: "ignore" });
      const exited = new Promise((r) => child.once("exit", r));
      // Killed at a random moment once the writes are under way.
      while (!existsSync(target)) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, random() * 100));
      child.kill("SIGKILL");
      await exited;
      const bytes = readFileSync(target);
      expect(bytes.length, `trial ${trial}`).toBe(SIZE);
      expect(bytes.every((b) => b === bytes[0]), `trial ${trial}: a mix of versions`).toBe(true);
      versions.add(bytes[0]);
      expect(readdirSync(dir).filter((f) => f !== "model.safetensors").every((f) => /^\.model\.safetensors\.\d+\.tmp$/.test(f))).toBe(true);
      removeAtomicLeftovers(dir);
      expect(readdirSync(dir)).toEqual(["model.safetensors"]);
    }
    expect(versions.size).toBeGreaterThan(3); // the kills landed at different versions
  }, 60_000);

  it.skipIf(noDisk !== undefined)("on a full disk: fails with ENOSPC, the old file intact, no temp file", async () => {
    const write = { writeFileAtomicSync, writeFileAtomic }[writerName]!;
    for (const f of readdirSync(DISK)) rmSync(join(DISK, f), { force: true });
    const target = join(DISK, "model.safetensors");
    const old = Buffer.alloc(SIZE / 2, 7);
    writeFileSync(target, old);
    writeFileSync(join(DISK, "filler"), Buffer.alloc(SIZE - (64 << 10))); // about ½ MiB left: the new 1 MiB cannot fit
    await expect(async () => write(target, Buffer.alloc(SIZE, 9))).rejects.toThrow(expect.objectContaining({ code: "SOURCE_UNAVAILABLE", message: expect.stringMatching(/ENOSPC/) }));
    expect(readFileSync(target).equals(old)).toBe(true);
    expect(readdirSync(DISK).sort()).toEqual(["filler", "model.safetensors"]);
  });
});
