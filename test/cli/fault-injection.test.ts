// kill -9 at seeded random points of the CLI's writers (calibrate in place, quantize, train) and
// a full disk: the target is always the old file intact or the complete new one, never a part.
// A temp file a kill leaves beside the target is removed by the next write of that target.
//   SAE_EDGE_FAULT_TRIALS=100 npx vitest run test/cli/fault-injection.test.ts   (default 15 per writer)
//   SAE_EDGE_FAULT_SEED=n replays a run (the seed is printed).
// Half the kills land anywhere in the run; the other half within 8 ms of the first change in the
// target's folder (seen through fs.watch), where a write that is not atomic is caught half done.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSae } from "../../src/adapters/node/index.js";
import { serializeNpy } from "../../src/format/npy.js";
import { serializeSafetensors } from "../../src/format/safetensors.js";
import { DIST_CLI, REPO, randomInput, randomWeights, rng } from "../helpers/common.mjs";
import { runAsync } from "../helpers/child.js";
import { mountTmpfs, unmountTmpfs } from "../helpers/tmpfs.js";

const TRIALS = Number(process.env.SAE_EDGE_FAULT_TRIALS ?? 15);
const SEED = Number(process.env.SAE_EDGE_FAULT_SEED ?? 1);
const MNIST = join(REPO, "models/mnist-topk-1024.safetensors");
const tmp = mkdtempSync(join(tmpdir(), "sae-edge-faults-"));
const at = (...p: string[]) => join(tmp, ...p);
const cli = (args: string[], cwd = tmp) => runAsync(process.execPath, [DIST_CLI, ...args], { cwd, timeout: 60_000 });

// Inputs, outside the folders the writers write to.
mkdirSync(at("in"));
writeFileSync(at("in", "rows.npy"), serializeNpy(randomInput(64, 784, 5), [64, 784]));
writeFileSync(at("in", "train.npy"), serializeNpy(randomInput(256, 16, 6), [256, 16]));
// A SAELens checkpoint large enough that its int8 model takes a moment to write (~1 MB).
const ckpt = randomWeights({ architecture: "topk", dIn: 256, dSae: 2048, k: 16, seed: 7 });
mkdirSync(at("in", "ckpt"));
writeFileSync(at("in", "ckpt", "cfg.json"), JSON.stringify({ architecture: "topk", d_in: 256, d_sae: 2048, k: 16, dtype: "float32", apply_b_dec_to_input: true, normalize_activations: "none" }));
writeFileSync(at("in", "ckpt", "sae_weights.safetensors"), serializeSafetensors({
  W_enc: { dtype: "F32", shape: [256, 2048], data: ckpt.W_enc },
  b_enc: { dtype: "F32", shape: [2048], data: ckpt.b_enc },
  W_dec: { dtype: "F32", shape: [2048, 256], data: ckpt.W_dec },
  b_dec: { dtype: "F32", shape: [256], data: ckpt.b_dec },
}));
const TRAIN = (seed: number) => ["train", "../in/train.npy", "--d-sae", "2048", "--k", "8", "--epochs", "2", "--seed", String(seed), "-o", "t.safetensors"];

/** A command that writes `targets` (paths relative to its folder), and how to set up its old files. */
interface Writer {
  name: string;
  args: string[];
  targets: string[];
  /** The old files, as they are before the command runs (written into place by the test). */
  old: () => Promise<Record<string, Uint8Array>>;
}

const WRITERS: Writer[] = [
  { name: "calibrate (in place)", args: ["calibrate", "m.safetensors", "../in/rows.npy"], targets: ["m.safetensors"], old: async () => ({ "m.safetensors": readFileSync(MNIST) }) },
  { name: "quantize", args: ["quantize", "../in/ckpt", "-o", "q.safetensors"], targets: ["q.safetensors"], old: async () => ({ "q.safetensors": readFileSync(MNIST) }) },
  {
    name: "train",
    args: TRAIN(1),
    targets: ["t.safetensors", "t.saelens/cfg.json", "t.saelens/sae_weights.safetensors"],
    old: async () => {
      mkdirSync(at("old-train"));
      const r = await cli(TRAIN(2), at("old-train"));
      expect(r.code, r.stderr).toBe(0);
      return Object.fromEntries(["t.safetensors", "t.saelens/cfg.json", "t.saelens/sae_weights.safetensors"].map((f) => [f, readFileSync(at("old-train", f))]));
    },
  },
];

// quantize stamps created_at; two runs differ only there (same length, so offsets agree).
const normalize = (b: Uint8Array) => Buffer.from(b).toString("latin1").replace(/(created_at\\?":\\?")[^"\\]*/, "$1");

function putFiles(dir: string, files: Record<string, Uint8Array>): void {
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
}

/** The temp files in the folders of `targets`. */
const temps = (dir: string, targets: string[]) =>
  [...new Set(targets.map((t) => dirname(join(dir, t))))].flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith(".tmp")).map((f) => join(d, f)) : []));

/** Runs the command in `dir` and kills it -9 `delay` ms after its start, or after the first change in a target's folder. */
function killedRun(dir: string, w: Writer, delay: number, onWrite: boolean): Promise<{ killed: boolean; code: number | null }> {
  const child = spawn(process.execPath, [DIST_CLI, ...w.args], { cwd: dir, stdio: "ignore" });
  let armed = false;
  const watchers = onWrite ? [...new Set(w.targets.map((t) => dirname(join(dir, t))))].filter(existsSync).map((d) => watch(d, () => kill())) : [];
  function kill(): void {
    if (armed) return;
    armed = true;
    if (!onWrite) return void setTimeout(() => child.kill("SIGKILL"), delay);
    const until = performance.now() + delay; // a spin: setTimeout cannot wait a fraction of a millisecond
    while (performance.now() < until);
    child.kill("SIGKILL");
  }
  if (!onWrite) kill();
  return new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      for (const x of watchers) x.close();
      resolve({ killed: signal === "SIGKILL", code });
    }),
  );
}

describe.each(WRITERS)(`kill -9 during $name (${TRIALS} trials, seed ${SEED})`, (w) => {
  const dir = at(w.name.split(" ")[0]);
  let old: Record<string, Uint8Array>, fresh: Record<string, string>, runMs: number;

  beforeAll(async () => {
    old = await w.old();
    mkdirSync(dir);
    putFiles(dir, old);
    const t0 = performance.now();
    const r = await cli(w.args, dir);
    runMs = performance.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    fresh = Object.fromEntries(w.targets.map((t) => [t, normalize(readFileSync(join(dir, t)))]));
    expect(fresh[w.targets[0]], "the new file differs from the old").not.toBe(normalize(old[w.targets[0]]));
    if (w.targets[0].endsWith(".safetensors")) await loadSae(readFileSync(join(dir, w.targets[0]))); // the new model loads
  }, 120_000);

  it("each target is the old file or the complete new one; a kill's temp file is removed by the next write", async () => {
    const rand = rng(SEED * 7919 + w.name.length);
    const seen = { old: 0, new: 0, tempLeft: 0, finished: 0 };
    for (let trial = 0; trial < TRIALS; trial++) {
      putFiles(dir, old);
      const onWrite = trial % 2 === 1;
      const delay = onWrite ? rand() * 8 : rand() * runMs * 1.1;
      const { killed } = await killedRun(dir, w, delay, onWrite);
      if (!killed) seen.finished++;
      const states = w.targets.map((t) => {
        const now = normalize(readFileSync(join(dir, t)));
        const state = now === fresh[t] ? "new" : now === normalize(old[t]) ? "old" : "corrupt";
        expect(state, `trial ${trial} (seed ${SEED}, ${delay.toFixed(2)} ms after ${onWrite ? "the first write" : "the start"}): ${t}`).not.toBe("corrupt");
        return state as "old" | "new";
      });
      seen[states[0]]++;
      if (temps(dir, w.targets).length) seen.tempLeft++;
    }
    console.log(`${w.name}: ${TRIALS} kills (seed ${SEED}): ${w.targets[0]} old ${seen.old}, new ${seen.new}, no file ever corrupt; temp file left in ${seen.tempLeft} trials; ${seen.finished} runs finished before the kill`);
    // The next write of the target removes what killed runs left, and writes the new file.
    putFiles(dir, old);
    expect((await cli(w.args, dir)).code).toBe(0);
    expect(temps(dir, w.targets)).toEqual([]);
    for (const t of w.targets) expect(normalize(readFileSync(join(dir, t)))).toBe(fresh[t]);
  }, 600_000);
});

// A small tmpfs filled so the new file does not fit. Needs root (mount); skipped otherwise.
const DISK = at("disk");
const noDisk = mountTmpfs(DISK, "4m");
if (noDisk) console.log(`full-disk tests skipped: ${noDisk}`);
afterAll(() => {
  if (!noDisk) unmountTmpfs(DISK);
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(noDisk !== undefined)("a full disk", () => {
  /** Fills the disk but for `free` bytes. */
  function fill(free: number): void {
    rmSync(join(DISK, "filler"), { force: true });
    const df = spawnSync("df", ["-B1", "--output=avail", DISK], { encoding: "utf8" }).stdout.trim().split("\n").pop()!;
    writeFileSync(join(DISK, "filler"), new Uint8Array(Math.max(0, Number(df) - free)));
  }

  it.each([
    ["calibrate (in place)", ["calibrate", "m.safetensors", `${tmp}/in/rows.npy`], "m.safetensors"],
    ["calibrate -o", ["calibrate", "m.safetensors", `${tmp}/in/rows.npy`, "-o", "c.safetensors"], "c.safetensors"],
    ["quantize", ["quantize", `${tmp}/in/ckpt`, "-o", "q.safetensors"], "q.safetensors"],
    ["quantize (a new file)", ["quantize", `${tmp}/in/ckpt`, "-o", "new.safetensors"], "new.safetensors"],
    ["train", ["train", `${tmp}/in/train.npy`, "--d-sae", "2048", "--k", "8", "--epochs", "1", "-o", "t.safetensors"], "t.safetensors"],
  ] as const)("%s: one line, exit 1, the old file intact (or none), no temp file", async (_, args, target) => {
    for (const f of readdirSync(DISK)) rmSync(join(DISK, f), { recursive: true, force: true });
    const old = readFileSync(MNIST).subarray(0, 1 << 20); // 1 MiB: any old bytes will do
    writeFileSync(join(DISK, "m.safetensors"), readFileSync(MNIST)); // the model calibrate reads
    if (target !== "m.safetensors" && target !== "new.safetensors") writeFileSync(join(DISK, target), old);
    const before = existsSync(join(DISK, target)) ? readFileSync(join(DISK, target)) : undefined;
    for (const free of [0, 64 << 10]) {
      fill(free);
      const r = await cli([...args], DISK);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^(\S.*\n)?sae-edge: cannot write \S+: ENOSPC \[SOURCE_UNAVAILABLE\]\n$/);
      expect(r.stderr.split("\n").filter((l) => l.startsWith("sae-edge:"))).toHaveLength(1);
      if (before) expect(readFileSync(join(DISK, target)).equals(before)).toBe(true);
      else expect(existsSync(join(DISK, target))).toBe(false);
      expect(readdirSync(DISK).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    }
  }, 120_000);
});
