// Every command that writes checks its output path before its work: a folder, or a file in a
// folder that does not exist, is one line and exit 2 at once (train used to train to the end,
// then fail with 11 lines). Writes go through a temp file beside the target, which a later write
// cleans up when a killed run left it.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serializeNpy } from "../../src/format/npy.js";
import { DIST_CLI, REPO, randomInput } from "../helpers/common.mjs";
import { runAsync, type ChildResult } from "../helpers/child.js";

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-outputs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string) => join(tmp, name);
const MODEL = "model.safetensors"; // the bundled MNIST model, d_in 784
copyFileSync(join(REPO, "models/mnist-topk-1024.safetensors"), at(MODEL));
writeFileSync(at("x.npy"), serializeNpy(randomInput(64, 784, 3), [64, 784]));
mkdirSync(at("folder"));
const CHECKPOINT = join(REPO, "test/fixtures/gemmascope");
const cli = (...args: string[]) => runAsync(process.execPath, [DIST_CLI, ...args], { cwd: tmp, timeout: 30_000 });

function expectOneLine(r: ChildResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^sae-edge: [^\n]+ \[INVALID_ARGUMENT\]\n$/);
  expect(r.stderr).toMatch(pattern);
}

// Each writing command with its output argument last; train would run for hours if it got going.
const writers: [string, string[]][] = [
  ["quantize", ["quantize", CHECKPOINT, "-o"]],
  ["calibrate -o", ["calibrate", MODEL, "x.npy", "-o"]],
  ["calibrate --json", ["calibrate", MODEL, "x.npy", "--json"]],
  ["train", ["train", "x.npy", "--epochs", "100000", "-o"]],
  ["screen", ["screen", MODEL, "x.npy", "-o"]],
  ["encode -o", ["encode", MODEL, "x.npy", "-o"]],
  ["encode --dense", ["encode", MODEL, "x.npy", "--dense", "-o"]],
  ["reconstruct", ["reconstruct", MODEL, "x.npy", "-o"]],
  ["score -o", ["score", MODEL, "x.npy", "-o"]],
  ["steer", ["steer", MODEL, "x.npy", "--zero", "1", "-o"]],
  ["eval --roc", ["eval", MODEL, "x.npy", "--roc"]],
];

describe("output paths are checked before any work", () => {
  it.each(writers)("%s: a folder -> one line, exit 2", async (_, args) => {
    expectOneLine(await cli(...args, "folder"), /folder is a folder; give a file name/);
    expectOneLine(await cli(...args, "folder/"), /is a folder/);
  });

  it.each(writers)("%s: a file in a folder that does not exist -> one line, exit 2", async (_, args) => {
    expectOneLine(await cli(...args, "missing/out.bin"), /no folder missing/);
  });

  it("train: a file where the checkpoint folder goes -> one line, exit 2, no model written", async () => {
    writeFileSync(at("t.saelens"), "not a folder");
    expectOneLine(await cli("train", "x.npy", "--epochs", "100000", "-o", "t.safetensors"), /t\.saelens\/, which is a file/);
    expect(existsSync(at("t.safetensors"))).toBe(false);
  });
});

describe("atomic writes", () => {
  it("a temp file a killed run left beside the target is removed by the next write; a running process's is kept", async () => {
    const dead = at(`.cal.json.${2 ** 22 + 17}.tmp`); // above pid_max's default: no such process
    const live = at(`.cal.json.${process.pid}.tmp`);
    const other = at(`.other.json.${2 ** 22 + 17}.tmp`);
    for (const f of [dead, live, other]) writeFileSync(f, "half a file");
    const r = await cli("calibrate", MODEL, "x.npy", "--json", "cal.json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(at("cal.json"), "utf8"))).toMatchObject({ rows: 64 });
    expect([existsSync(dead), existsSync(live), existsSync(other)]).toEqual([false, true, true]);
    rmSync(live);
    rmSync(other);
  });

  it("a file replaced in place keeps its permissions, and no temp file is left", async () => {
    copyFileSync(at(MODEL), at("private.safetensors"));
    chmodSync(at("private.safetensors"), 0o600);
    expect((await cli("calibrate", "private.safetensors", "x.npy")).code).toBe(0);
    expect(statSync(at("private.safetensors")).mode & 0o777).toBe(0o600);
    expect(readdirSync(tmp).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
