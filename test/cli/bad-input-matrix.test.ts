// Every command of the CLI against every kind of bad input a user can give it: no arguments, an
// unknown flag, a flag without its value, bad numbers for each numeric option, missing, folder,
// empty, truncated and wrong-kind files in each file slot, an output in a missing folder, and an
// output that is one of the inputs. Each case must end with exit 2, exactly one line on stderr
// (no stack trace), nothing on stdout, no file written and the inputs unchanged.
// (Failures of the system rather than the caller, e.g. ENOSPC, are exit 1: test/cli/fault-injection.test.ts.)
// About 400 cases, each a fresh `node dist/cli.js` (~0.2 s of CPU), two at a time.
// The commands and their numeric options are read from src/cli/commands: a new command without an
// entry in SPECS fails the first test, and a new numeric option gets its cases by itself.
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeNpy } from "../../src/format/npy.js";
import { serializeSafetensors } from "../../src/format/safetensors.js";
import { DIST_CLI, REPO, randomInput, randomWeights } from "../helpers/common.mjs";
import { runAsync, type ChildResult } from "../helpers/child.js";

const COMMANDS_DIR = join(REPO, "src/cli/commands");
const D_IN = 32, D_SAE = 48, K = 4, ROWS = 40;

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-badin-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FX = join(tmp, "fx"); // shared fixtures, never written by a case
const fx = (name: string) => join(FX, name);

// ---- The commands and their numeric options, as the code declares them.

interface NumericOption { flag: string; min: number; integer: boolean }

function declared(): Map<string, NumericOption[]> {
  const commands = new Map<string, NumericOption[]>();
  for (const file of readdirSync(COMMANDS_DIR).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(join(COMMANDS_DIR, file), "utf8");
    const name = /\.command\("([\w-]+)"\)/.exec(text)?.[1];
    if (!name) continue;
    const numeric = [...text.matchAll(/\.option\("(?:-\w, )?(--[\w-]+) <[^>]+>"[^\n]*?\b(intOption|numberOption)\("[\w-]+"(?:, ([^,)]+))?/g)].map(([, flag, kind, min]) => ({
      flag,
      integer: kind === "intOption",
      min: min === undefined ? 0 : min.trim() === "Number.MIN_VALUE" ? Number.MIN_VALUE : Number(min),
    }));
    commands.set(name, numeric);
  }
  return commands;
}
const DECLARED = declared();

// ---- What each command is given in a valid call, and what its file arguments hold.

type Kind = "model" | "array" | "checkpoint" | "json";
/** A file argument: a positional (by index) or an option (added when absent from the valid call). */
interface FileSlot { at: number | string; kind: Kind }

interface Spec {
  pos: string[];
  opts: string[];
  files: FileSlot[];
  /** The output option, and whether the command refuses to run without it. */
  output?: { flag: string; required: boolean; name: string };
  /** Options parsed as numbers inside the command, with bad values of their own. */
  moreNumbers?: Record<string, string[]>;
  /** Inputs the output may name on purpose (calibrate -o MODEL updates it in place). */
  inPlace?: number[];
  /** Mistakes of this command alone: name → its arguments. */
  more?: Record<string, string[]>;
}

const M = () => fx("m.safetensors");
const X = () => fx("x.npy");
const SPECS: Record<string, Spec> = {
  quantize: { pos: [fx("ckpt")], opts: [], files: [{ at: 0, kind: "checkpoint" }, { at: "--calib", kind: "array" }], output: { flag: "-o", required: true, name: "out.safetensors" } },
  inspect: { pos: [M()], opts: [], files: [{ at: 0, kind: "model" }] },
  encode: {
    pos: [M(), X()], opts: [], files: [{ at: 0, kind: "model" }, { at: 1, kind: "array" }], output: { flag: "-o", required: false, name: "codes.jsonl" },
    more: { "--dense without -o": [M(), X(), "--dense"] },
  },
  reconstruct: { pos: [M(), X()], opts: [], files: [{ at: 0, kind: "model" }, { at: 1, kind: "array" }], output: { flag: "-o", required: true, name: "r.npy" } },
  fidelity: {
    pos: [fx("ckpt"), X()], opts: [],
    more: { "--calib with --model": [fx("ckpt"), X(), "--model", M(), "--calib", X()] },
    files: [{ at: 0, kind: "checkpoint" }, { at: 1, kind: "array" }, { at: "--model", kind: "model" }, { at: "--calib", kind: "array" }],
  },
  train: {
    pos: [X()], opts: ["--epochs", "1", "--d-sae", "16", "--k", "4", "--batch", "8"],
    files: [{ at: 0, kind: "array" }, { at: "--val", kind: "array" }], output: { flag: "-o", required: true, name: "t.safetensors" },
    more: {
      "--k above --d-sae": [X(), "--d-sae", "16", "--k", "17", "-o", "t.safetensors"],
      "--arch unknown": [X(), "--arch", "gated", "-o", "t.safetensors"],
      "one row": [fx("one-row.npy"), "-o", "t.safetensors"],
      "--val of another width": [X(), "--val", fx("narrow.npy"), "-o", "t.safetensors"],
    },
  },
  screen: {
    pos: [M(), X()], opts: ["--rank", "16"],
    more: { "--rank not a multiple of 16": [M(), X(), "--rank", "17", "-o", "s.safetensors"], "input of another width": [M(), fx("narrow.npy"), "-o", "s.safetensors"] },
    files: [{ at: 0, kind: "model" }, { at: 1, kind: "array" }, { at: "--val", kind: "array" }], output: { flag: "-o", required: true, name: "s.safetensors" },
  },
  steer: {
    pos: [M(), X()], opts: ["--set", "0=1"], files: [{ at: 0, kind: "model" }, { at: 1, kind: "array" }], output: { flag: "-o", required: true, name: "st.npy" },
    // One parser reads every edit: --set gets the full list, the others a sample.
    moreNumbers: {
      "--set": ["abc", "-1", `${D_SAE}=1`, "99999999999999999999=1", "0=NaN", "0=1e400", "0=", "=1"],
      ...Object.fromEntries(["--scale", "--add", "--zero"].map((f) => [f, [`${D_SAE}=1`, "0=NaN"]])),
      "--clamp": ["0=1", "0=2:NaN", "0=:1"],
    },
  },
  score: {
    pos: [M(), X()], opts: [], files: [{ at: 0, kind: "model" }, { at: 1, kind: "array" }, { at: "--calibration", kind: "json" }],
    output: { flag: "-o", required: false, name: "scores.npy" },
    more: {
      "--threshold auto on an uncalibrated model": [M(), X(), "--threshold", "auto"], "--mode unknown": [M(), X(), "--mode", "z"],
      "--method unknown": [M(), X(), "--method", "z"], "--method novelty without --normal": [M(), X(), "--method", "novelty"],
      "--grid without --normal": [M(), X(), "--grid", "4x4"], "--grid not HxW": [M(), X(), "--normal", X(), "--grid", "big"], "--normal of another width": [M(), X(), "--method", "combined", "--normal", fx("narrow.npy")],
      "--normal without its value": [M(), X(), "--method", "novelty", "--normal"], "--fpr with --method residual": [M(), X(), "--fpr", "0.5"],
    },
    moreNumbers: { "--threshold": ["abc", "-1", "1e400", "NaN"] },
  },
  calibrate: {
    pos: [M(), X()], opts: [], files: [{ at: 0, kind: "model" }, { at: 1, kind: "array" }], output: { flag: "-o", required: false, name: "c.safetensors" },
    inPlace: [0],
    more: {
      "--fpr 1": [M(), X(), "--fpr", "1", "-o", "c.safetensors"],
      "--json in a missing folder": [M(), X(), "--json", "no-such-folder/c.json"],
      "--json is a folder": [M(), X(), "--json", fx("folder")],
      "--json is the model": [M(), X(), "--json", M()],
      "--json is the normal rows": [M(), X(), "--json", X()],
    },
  },
  eval: {
    pos: [M(), X()], opts: ["--labels", fx("labels.npy")],
    files: [{ at: 0, kind: "model" }, { at: 1, kind: "array" }, { at: "--labels", kind: "array" }, { at: "--calibration", kind: "json" }],
    output: { flag: "--roc", required: false, name: "roc.svg" },
    more: {
      "labels of another length": [M(), X(), "--labels", fx("one-row.npy"), "--roc", "roc.svg"],
      "labels not 0 or 1": [M(), X(), "--labels", fx("bad-labels.npy"), "--roc", "roc.svg"],
    },
  },
  demo: { pos: [], opts: [], files: [], output: { flag: "--out", required: false, name: "pictures" } },
};

// ---- The bad inputs.

const BAD_FILES: Record<Kind, Record<string, () => string>> = {
  model: { missing: () => "no-such.safetensors", "a folder": () => fx("folder"), empty: () => fx("empty"), truncated: () => fx("truncated.safetensors"), "a .npy": X, "a checkpoint": () => fx("ckpt/sae_weights.safetensors") },
  array: { missing: () => "no-such.npy", "a folder": () => fx("folder"), empty: () => fx("empty"), truncated: () => fx("truncated.npy"), "a model": M, "a JSON file": () => fx("ckpt/cfg.json") },
  checkpoint: { missing: () => "no-such-folder", "an empty folder": () => fx("folder"), empty: () => fx("empty"), truncated: () => fx("ckpt-truncated"), "a .npy": X, "a model": M },
  json: { missing: () => "no-such.json", "a folder": () => fx("folder"), empty: () => fx("empty"), truncated: () => fx("truncated.json"), "a .npy": X, "a model": M },
};

function badNumbers(o: NumericOption): string[] {
  const bad = ["abc", "-1", "NaN", "1e400"];
  if (o.min > 0) bad.push("0");
  if (o.integer) bad.push("99999999999999999999", "1.5");
  return bad;
}

interface Case {
  name: string;
  args: string[];
  /** A file the case copies into its folder first (for output = input); it must be unchanged after. */
  own?: { name: string; from: string };
}

function build(spec: Spec, change: { pos?: [number, string]; set?: [string, string]; drop?: string; append?: string[] } = {}): string[] {
  const pos = [...spec.pos];
  if (change.pos) pos[change.pos[0]] = change.pos[1];
  const opts = [...spec.opts];
  if (spec.output && change.drop !== spec.output.flag) opts.push(spec.output.flag, spec.output.name);
  if (change.set) {
    const i = opts.indexOf(change.set[0]);
    if (i >= 0) opts[i + 1] = change.set[1];
    else opts.push(...change.set);
  }
  return [...pos, ...opts, ...(change.append ?? [])];
}

function cases(command: string, spec: Spec, numeric: NumericOption[]): Case[] {
  const list: Case[] = [];
  const add = (name: string, args: string[], own?: Case["own"]) => list.push({ name: `${command}: ${name}`, args: [command, ...args], own });
  if (spec.pos.length) add("no arguments", []);
  if (spec.output?.required) add(`no ${spec.output.flag}`, build(spec, { drop: spec.output.flag }));
  add("an unknown flag", build(spec, { append: ["--no-such-flag"] }));
  add("an extra argument", build(spec, { append: ["extra"] }));
  add("a bad --kernel", build(spec, { append: ["--kernel", "fastest"] }));
  const valued = [...numeric.map((o) => o.flag), ...Object.keys(spec.moreNumbers ?? {}), ...spec.files.flatMap((f) => (typeof f.at === "string" ? [f.at] : [])), ...(spec.output ? [spec.output.flag] : [])];
  for (const flag of valued) add(`${flag} without its value`, build(spec, { append: [flag] }));
  for (const o of numeric) for (const v of badNumbers(o)) add(`${o.flag} ${JSON.stringify(v)}`, build(spec, { set: [o.flag, v] }));
  for (const [flag, values] of Object.entries(spec.moreNumbers ?? {})) for (const v of values) add(`${flag} ${JSON.stringify(v)}`, build(spec, { set: [flag, v] }));
  for (const slot of spec.files) {
    for (const [what, path] of Object.entries(BAD_FILES[slot.kind])) {
      const label = typeof slot.at === "number" ? `argument ${slot.at + 1} (${slot.kind})` : slot.at;
      add(`${label} is ${what}`, typeof slot.at === "number" ? build(spec, { pos: [slot.at, path()] }) : build(spec, { set: [slot.at, path()] }));
    }
  }
  for (const [name, args] of Object.entries(spec.more ?? {})) add(name, args);
  if (spec.output) {
    const { flag } = spec.output;
    if (flag === "--out") add(`${flag} is a file`, build(spec, { set: [flag, fx("empty")] }));
    else {
      add(`${flag} in a missing folder`, build(spec, { set: [flag, "no-such-folder/out"] }));
      add(`${flag} is a folder`, build(spec, { set: [flag, fx("folder")] }));
      spec.pos.forEach((p, i) => {
        if (spec.inPlace?.includes(i) || !statSync(p).isFile()) return;
        const own = { name: `same-${i}`, from: p };
        add(`${flag} is argument ${i + 1}`, build(spec, { pos: [i, own.name], set: [flag, own.name] }), own);
      });
    }
  }
  return list;
}

// ---- Running a case.

const cli = (args: string[], cwd: string): Promise<ChildResult> => runAsync(process.execPath, [DIST_CLI, ...args], { cwd, timeout: 30_000 });

function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${p} ${statSync(p).size} ${statSync(p).mtimeMs}`);
    }
  };
  walk(dir);
  return out.join("\n");
}

interface Outcome { name: string; problems: string[] }

async function run(c: Case, index: number): Promise<Outcome> {
  const dir = join(tmp, `case-${index}`);
  mkdirSync(dir);
  if (c.own) copyFileSync(c.own.from, join(dir, c.own.name));
  const r = await cli(c.args, dir);
  const problems: string[] = [];
  if (r.code !== 2) problems.push(`exit ${r.code}`);
  if (r.stdout !== "") problems.push(`stdout ${JSON.stringify(r.stdout.slice(0, 200))}`);
  if (!/^sae-edge: [^\n]+\n$/.test(r.stderr)) problems.push(`stderr is not one line: ${JSON.stringify(r.stderr.slice(0, 400))}`);
  if (/\n\s+at |internal error|\[INTERNAL\]/.test(r.stderr)) problems.push(`stderr has a stack or an internal error: ${JSON.stringify(r.stderr.slice(0, 400))}`);
  const left = readdirSync(dir).filter((f) => f !== c.own?.name);
  if (left.length) problems.push(`left behind: ${left.join(", ")}`);
  if (c.own && !readFileSync(join(dir, c.own.name)).equals(readFileSync(c.own.from))) problems.push(`${c.own.name} was changed`);
  if (problems.length) problems.push(`(stderr: ${JSON.stringify(r.stderr.slice(0, 300))})`);
  rmSync(dir, { recursive: true, force: true });
  return { name: c.name, problems };
}

/** Runs the cases `width` at a time (the machine is shared). */
async function pool<T, R>(items: T[], width: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }));
  return results;
}

// ---- Fixtures.

function writeCheckpoint(dir: string, truncate = false): void {
  mkdirSync(dir);
  const w = randomWeights({ architecture: "topk", dIn: D_IN, dSae: D_SAE, k: K, seed: 5 });
  writeFileSync(join(dir, "cfg.json"), JSON.stringify({
    architecture: "topk", d_in: D_IN, d_sae: D_SAE, k: K, dtype: "float32", apply_b_dec_to_input: true, normalize_activations: "none", metadata: { sae_lens_version: "6.5.0" },
  }));
  const st = serializeSafetensors({
    W_enc: { dtype: "F32", shape: [D_IN, D_SAE], data: w.W_enc },
    b_enc: { dtype: "F32", shape: [D_SAE], data: w.b_enc },
    W_dec: { dtype: "F32", shape: [D_SAE, D_IN], data: w.W_dec },
    b_dec: { dtype: "F32", shape: [D_IN], data: w.b_dec },
  });
  writeFileSync(join(dir, "sae_weights.safetensors"), truncate ? st.subarray(0, st.length >> 1) : st);
}

let fixtures = "";
beforeAll(async () => {
  mkdirSync(FX);
  writeCheckpoint(fx("ckpt"));
  writeCheckpoint(fx("ckpt-truncated"), true);
  mkdirSync(fx("folder"));
  writeFileSync(fx("empty"), "");
  const x = serializeNpy(randomInput(ROWS, D_IN, 6), [ROWS, D_IN]);
  writeFileSync(X(), x);
  writeFileSync(fx("truncated.npy"), x.subarray(0, x.length >> 1));
  writeFileSync(fx("one-row.npy"), serializeNpy(randomInput(1, D_IN, 7), [1, D_IN]));
  writeFileSync(fx("narrow.npy"), serializeNpy(randomInput(ROWS, D_IN - 1, 8), [ROWS, D_IN - 1]));
  writeFileSync(fx("bad-labels.npy"), serializeNpy(Float32Array.from({ length: ROWS }, (_, i) => i % 3), [ROWS]));
  writeFileSync(fx("labels.npy"), serializeNpy(Float32Array.from({ length: ROWS }, (_, i) => i % 2), [ROWS]));
  const q = await cli(["quantize", fx("ckpt"), "-o", M()], tmp);
  expect(q.code, q.stderr).toBe(0);
  const model = readFileSync(M());
  writeFileSync(fx("truncated.safetensors"), model.subarray(0, model.length >> 1));
  const cal = await cli(["calibrate", M(), X(), "--json", fx("cal.json")], tmp);
  expect(cal.code, cal.stderr).toBe(0);
  writeFileSync(fx("truncated.json"), readFileSync(fx("cal.json")).subarray(0, 40));
  fixtures = snapshot(FX);
});

describe("every command answers bad input with one line and exit 2", () => {
  it("the table covers every command the CLI has", async () => {
    expect(Object.keys(SPECS).sort()).toEqual([...DECLARED.keys()].sort());
    const help = await cli(["--help"], tmp);
    const listed = [...help.stdout.matchAll(/^ {2}([a-z][\w-]*)\b/gm)].map((m) => m[1]).filter((n) => n !== "help");
    expect(listed.sort()).toEqual([...DECLARED.keys()].sort());
    expect([...DECLARED.values()].flat().length).toBeGreaterThan(10); // the option parser still finds them
  });

  it("all cases", async () => {
    const all = [...DECLARED].flatMap(([name, numeric]) => cases(name, SPECS[name], numeric));
    expect(all.length).toBeGreaterThan(300);
    const outcomes = await pool(all, 2, run);
    const failed = outcomes.filter((o) => o.problems.length).map((o) => `${o.name}: ${o.problems.join("; ")}`);
    expect(failed, `${failed.length} of ${all.length} cases failed`).toEqual([]);
    expect(snapshot(FX), "the fixtures are unchanged").toBe(fixtures);
  }, 180_000);
});

// Outputs that are not plain files: the writer must not rename a temp file over them.
describe("outputs that are not plain files", () => {
  const dir = join(tmp, "special");
  beforeAll(() => mkdirSync(dir));
  const reconstruct = (out: string) => cli(["reconstruct", M(), X(), "-o", out], dir);

  it("a full disk (a /dev/full device node) is the system's failure: exit 1, one line, the device kept", async (ctx) => {
    try {
      execFileSync("mknod", ["-m", "666", join(dir, "full"), "c", "1", "7"], { stdio: "ignore" });
    } catch {
      ctx.skip("mknod needs root here; the full-disk case runs in test/cli/fault-injection.test.ts on a tmpfs");
    }
    const r = await reconstruct(join(dir, "full"));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^sae-edge: cannot write \S+full: ENOSPC \[SOURCE_UNAVAILABLE\]\n$/);
    expect(lstatSync(join(dir, "full")).isCharacterDevice()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["full"]);
    rmSync(join(dir, "full"));
  });

  it("a symlink stays a link, and the file it names is replaced", async () => {
    writeFileSync(join(dir, "real.npy"), "old");
    symlinkSync("real.npy", join(dir, "link.npy"));
    const r = await reconstruct("link.npy");
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(dir, "link.npy")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "real.npy")).subarray(1, 6).toString()).toBe("NUMPY");
    expect(readdirSync(dir).sort()).toEqual(["link.npy", "real.npy"]);
  });

  it("-o naming stdout (a pipe) writes the data there", async () => {
    // Through a shell pipe: the stdout the test runner gives a child is a socket, which no path opens.
    const r = await runAsync("sh", ["-c", `"${process.execPath}" "${DIST_CLI}" encode "${M()}" "${X()}" -o /proc/self/fd/1 | cat`], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(ROWS);
  });
});

describe("quantize into its own checkpoint folder", () => {
  it("refuses to replace the checkpoint's files, and may replace a model written there before", async () => {
    const dir = join(tmp, "own-ckpt");
    mkdirSync(dir);
    writeCheckpoint(join(dir, "ckpt"));
    const before = snapshot(dir);
    for (const name of ["sae_weights.safetensors", "cfg.json"]) {
      const r = await cli(["quantize", "ckpt", "-o", `ckpt/${name}`], dir);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^sae-edge: output ckpt\/\S+ is a file of the checkpoint ckpt; give another file name \[INVALID_ARGUMENT\]\n$/);
    }
    expect(snapshot(dir)).toBe(before);
    for (let i = 0; i < 2; i++) expect((await cli(["quantize", "ckpt", "-o", "ckpt/model.safetensors"], dir)).code).toBe(0);
  });
});
