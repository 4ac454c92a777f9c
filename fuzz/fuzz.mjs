#!/usr/bin/env node
// npm run fuzz -- [--count N] [--seed S] [--format model,npz,…] [--jobs J] [--json]
//                 [--replay fuzz/crashes/<finding>] [--make-corpus]
// Feeds mutated inputs of every format sae-edge reads to the library (in child processes,
// fuzz/runner.mjs) and reports every input that does not end in success or a typed refusal,
// takes over 1 s, or peaks over 4 × its size + 64 MiB; each is saved, minimized when it
// throws, under fuzz/crashes/ (gitignored). Exit 1 if there was any.
import { fork } from "node:child_process";
import { rmSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : args[i + 1];
};
const count = Number(opt("count", 10_000));
const seed = Number(opt("seed", Math.floor(Math.random() * 2 ** 31)));
const jobs = Number(opt("jobs", Math.min(2, availableParallelism())));
const json = args.includes("--json");
const corpusDir = join(here, "corpus");
const crashDir = opt("crashes", join(here, "crashes"));
const HANG_MS = 10_000;
if (![count, seed, jobs].every((n) => Number.isSafeInteger(n) && n >= 0) || jobs < 1) {
  console.error("fuzz: --count, --seed and --jobs take non-negative integers (--jobs at least 1)");
  process.exit(2);
}

// The engine is bundled from src/ on every run, so the fuzzer always tests the code as it is
// (one folder per run: runs side by side do not pull the bundle from under each other).
const out = join(here, ".build", String(process.pid));
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
process.on("exit", () => rmSync(out, { recursive: true, force: true }));
await build({ entryPoints: [join(here, "engine.ts")], outfile: join(out, "engine.mjs"), bundle: true, format: "esm", platform: "node", packages: "external", logLevel: "error" });
for (const w of ["relaxed", "simd128", "scalar"]) await copyFile(join(root, "build", `${w}.wasm`), join(out, `${w}.wasm`));
process.env.SAE_FUZZ_ENGINE = join(out, "engine.mjs");
const engine = await import(join(out, "engine.mjs"));

if (args.includes("--make-corpus")) {
  await rm(corpusDir, { recursive: true, force: true });
  console.log(`fuzz: wrote ${await engine.makeCorpus(corpusDir)} seed files to ${corpusDir}`);
  process.exit(0);
}
const formats = opt("format", engine.FORMATS.join(",")).split(",");
for (const f of formats) {
  if (!engine.FORMATS.includes(f)) {
    console.error(`fuzz: unknown format "${f}" (formats: ${engine.FORMATS.join(", ")})`);
    process.exit(2);
  }
}

function startRunner() {
  return fork(join(here, "runner.mjs"), [], { serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"], execArgv: [] });
}

const replay = opt("replay");
if (replay) {
  const finding = JSON.parse(await readFile(join(replay, "finding.json"), "utf8"));
  const child = startRunner();
  child.on("message", (m) => {
    if (m.type === "result") {
      console.log(`${finding.format}: ${m.error ? `untyped ${m.error.stack}` : m.outcome} in ${m.ms.toFixed(1)} ms, peak +${(m.mem / 2 ** 20).toFixed(1)} MiB${m.kinds ? ` [${m.kinds.join(", ")}]` : ""}`);
      process.exitCode = m.kinds ? 1 : 0;
      child.kill();
    }
  });
  child.on("exit", (code, signal) => {
    if (process.exitCode === undefined) (console.log(`runner died: ${signal ?? `exit ${code}`}`), (process.exitCode = 1));
  });
  child.send({ type: "replay", dir: replay, format: finding.format });
} else {
  await run();
}

async function run() {
  const stats = { seed, inputs: 0, untyped: 0, crashes: 0, hangs: 0, slow: 0, memory: 0, outcomes: {}, slowest: null, maxMemory: null, signatures: {} };
  const started = performance.now();
  let next = 0;
  const BATCH = 50;
  let stop = count;
  const take = () => {
    const indices = [];
    while (indices.length < BATCH && next < stop) indices.push(next++);
    return indices;
  };
  // Ctrl-C (or SIGTERM) ends the run after the batches under way, with the summary so far.
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => (stop = next));
  const savedNames = new Set();

  async function save(kind, r, extra = {}) {
    const name = `${r.format}-${kind}-${seed}-${r.index}`;
    if (savedNames.has(name)) return;
    savedNames.add(name);
    const dir = join(crashDir, name);
    await mkdir(dir, { recursive: true });
    for (const [part, bytes] of Object.entries(r.input ?? {})) await writeFile(join(dir, part), bytes);
    await writeFile(join(dir, "finding.json"), JSON.stringify({
      kind, format: r.format, seed, index: r.index, ms: r.ms, peakMiB: r.mem / 2 ** 20, size: r.size, minimized: !!r.minimized, error: r.error, ...extra,
      replay: `npm run fuzz -- --replay ${dir}`, regenerate: `npm run fuzz -- --seed ${seed} --count ${r.index + 1} --format ${formats.join(",")}`,
    }, null, 1) + "\n");
  }

  function record(r) {
    stats.inputs++;
    const key = `${r.format}:${r.outcome}`;
    stats.outcomes[key] = (stats.outcomes[key] ?? 0) + 1;
    if (!stats.slowest || r.ms > stats.slowest.ms) stats.slowest = { ms: r.ms, format: r.format, index: r.index, size: r.size };
    if (!stats.maxMemory || r.mem > stats.maxMemory.bytes) stats.maxMemory = { bytes: r.mem, format: r.format, index: r.index, size: r.size };
    for (const kind of r.kinds ?? []) {
      if (kind === "untyped") {
        stats.untyped++;
        const sig = `${r.format}: ${r.error.signature}`;
        const first = !stats.signatures[sig];
        stats.signatures[sig] = (stats.signatures[sig] ?? 0) + 1;
        if (first) {
          pending.push(save("untyped", r));
          if (!json) console.error(`\nuntyped (${r.format} #${r.index}): ${r.error.stack.split("\n").slice(0, 4).join("\n  ")}`);
        }
      } else {
        stats[kind]++;
        pending.push(save(kind, r));
        if (!json) console.error(`\n${kind} (${r.format} #${r.index}): ${r.ms.toFixed(0)} ms, peak +${(r.mem / 2 ** 20).toFixed(0)} MiB for ${r.size} bytes`);
      }
    }
  }
  const pending = [];

  // Each runner works through batches; an input that kills its process or never ends is a finding,
  // and the runner is replaced to go on after it.
  const worker = () => new Promise((resolve) => {
    let child, timer, stderr = "";
    let batch = [], carry = [];
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill("SIGKILL"), HANG_MS);
    };
    const feed = () => {
      batch = carry.length ? carry : take();
      carry = [];
      if (!batch.length) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        child.kill();
        return resolve();
      }
      arm();
      child.send({ type: "batch", indices: batch });
    };
    const lost = (index, code, signal) => {
      const { format, input } = engine.generate(corpus, formats, seed, index);
      const kind = signal === "SIGKILL" ? "hang" : "crash";
      stats.inputs++;
      stats[`${kind}s`]++;
      const r = { format, index, input, ms: kind === "hang" ? HANG_MS : 0, mem: 0, size: Object.values(input).reduce((n, b) => n + b.length, 0) };
      pending.push(save(kind, r, { exit: signal ?? code, stderr }));
      if (!json) console.error(`\n${kind} (${format} #${index}): ${signal ?? `exit ${code}`} ${stderr.split("\n").slice(-5).join(" ")}`);
    };
    const spawn = () => {
      stderr = "";
      child = startRunner();
      child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
      child.on("message", (m) => {
        if (m.type === "ready" || m.type === "done") feed();
        else if (m.type === "result") {
          batch.shift();
          arm();
          record(m);
        }
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        const index = batch.shift();
        if (index !== undefined) lost(index, code, signal);
        carry = batch; // the rest of the batch goes to the next process
        spawn();
      });
      child.send({ type: "init", corpus: corpusDir, formats, seed });
    };
    spawn();
  });
  const corpus = await engine.loadCorpus(corpusDir);

  const progress = setInterval(() => {
    if (!json) process.stderr.write(`\rfuzz: ${stats.inputs}/${count} inputs, ${(stats.inputs / ((performance.now() - started) / 1000)).toFixed(0)}/s, ${stats.untyped} untyped, ${stats.crashes + stats.hangs} crashes/hangs   `);
  }, 2000);
  await Promise.all(Array.from({ length: Math.min(jobs, Math.max(1, count)) }, worker));
  clearInterval(progress);
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  const findings = stats.untyped + stats.crashes + stats.hangs + stats.slow + stats.memory;
  const summary = { ...stats, seconds, perSecond: stats.inputs / seconds, findings };
  if (json) console.log(JSON.stringify(summary));
  else {
    const mib = (b) => (b / 2 ** 20).toFixed(1);
    console.error("");
    console.log(`fuzz: ${stats.inputs} inputs (seed ${seed}) in ${seconds.toFixed(1)} s, ${summary.perSecond.toFixed(0)}/s`);
    console.log(`  untyped errors ${stats.untyped} (${Object.keys(stats.signatures).length} distinct), crashes ${stats.crashes}, hangs ${stats.hangs}, over 1 s ${stats.slow}, over memory ${stats.memory}`);
    if (stats.slowest) console.log(`  slowest input ${stats.slowest.ms.toFixed(1)} ms (${stats.slowest.format} #${stats.slowest.index}, ${stats.slowest.size} bytes); max memory +${mib(stats.maxMemory.bytes)} MiB (${stats.maxMemory.format} #${stats.maxMemory.index}, ${stats.maxMemory.size} bytes)`);
    for (const [sig, n] of Object.entries(stats.signatures)) console.log(`  ${n} × ${sig}`);
    if (findings) console.log(`  findings saved in ${crashDir}`);
  }
  process.exitCode = findings ? 1 : 0;
}
