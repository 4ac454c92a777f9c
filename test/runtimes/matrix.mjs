// The runtime matrix: one runner per runtime, each printing one JSON line with the
// probe.js result (entry resolved, kernel chosen, hashes, 768 x 24576 encode time).
// x64 runtimes run one at a time (their timings are real); the qemu runs
// (correctness only) two at once.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { NODE22 } from "../helpers/common.mjs";
import { ARM, HERE } from "./install.mjs";
import { startWrangler, workerdGrowth } from "./wrangler.mjs";

const BIN = `${HERE}node_modules/.bin/`;
const TIMEOUT_MS = 150_000;

/** Runs a command with a time limit; resolves to { code, stdout, stderr }. */
function exec(cmd, args, { env = {}, cwd = HERE, timeout = TIMEOUT_MS } = {}) {
  return new Promise((resolve) => {
    // Own process group, so a time-out also stops what a wrapper (the npm deno bin) started.
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, timeout);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? `${signal} (time limit ${timeout / 1000} s?)` : code, stdout, stderr });
    });
  });
}

/** The last JSON line a runner printed, or an error result. */
async function runner(cmd, args, opts) {
  const r = await exec(cmd, args, opts);
  const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (r.code !== 0 || !line) return { error: `exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(-800)}` };
  return JSON.parse(line);
}

const pkgVersion = (name) => JSON.parse(readFileSync(`${HERE}node_modules/${name}/package.json`, "utf8")).version;

/** workerd through `wrangler dev`: HTTP to the probe Worker; encode time by difference (its clock stands still in a request). */
async function workerd() {
  let w;
  try {
    w = await startWrangler(`${HERE}workerd`);
  } catch (e) {
    return { error: e.message };
  }
  try {
    // The big model is a bundled Data module: the isolate holds it and its copy in wasm memory.
    const grown = await workerdGrowth(w, () => fetch(`${w.base}/bench?n=1`).then((r) => r.json()));
    const res = await fetch(`${w.base}/probe`);
    if (!res.ok) return { error: `GET /probe ${res.status}: ${await res.text()}` };
    const result = await res.json();
    const timed = async (n) => {
      const t0 = performance.now();
      await (await fetch(`${w.base}/bench?n=${n}`)).json();
      return performance.now() - t0;
    };
    await timed(20);
    const diffs = [];
    for (let i = 0; i < 5; i++) diffs.push(((await timed(201)) - (await timed(1))) / 200);
    diffs.sort((a, b) => a - b);
    const memory = `Worker with the 768x24576 int8 model bundled as a Data module: workerd process RSS ${grown.before.rssMiB.toFixed(1)} -> ${grown.after.rssMiB.toFixed(1)} MiB (+${(grown.after.rssMiB - grown.before.rssMiB).toFixed(1)} MiB) after loading it`;
    return { ...result, version: `workerd ${pkgVersion("workerd")} (wrangler ${pkgVersion("wrangler")})`, encodeMs: diffs[2], memory };
  } finally {
    w.stop();
  }
}

const deno = () =>
  runner(`${BIN}deno`, ["run", "--allow-read", "runners/deno.ts"], { env: { DENO_NO_UPDATE_CHECK: "1", DENO_DIR: `${HERE}.cache/deno` } });

const qemu = (arch, cpu, args = []) => () => {
  const a = ARM[arch];
  return runner(a.qemu, ["-L", a.sysroot, "-cpu", cpu, `${a.dir}bin/node`, "runners/node.mjs", ...args]);
};

// [name, run, package entry it must resolve, qemu?]
export const RUNTIMES = [
  ["Node 20 (x64)", () => runner(process.execPath, ["runners/node.mjs"]), "node"],
  ["Node 22 (x64)", () => runner(NODE22, ["runners/node.mjs"]), "node"],
  ["Deno 2", deno, "deno"],
  ["workerd (wrangler dev)", workerd, "workers"],
  ["Chromium headless", () => runner(process.execPath, ["runners/chromium.mjs"]), "web"],
  ["arm64 Node 22, cortex-a53 (Pi 3)", qemu("arm64", "cortex-a53", ["--quick"]), "node", true],
  ["arm64 Node 22, cortex-a72 (Pi 4)", qemu("arm64", "cortex-a72", ["--quick"]), "node", true],
  ["arm64 Node 22, cortex-a76 (Pi 5)", qemu("arm64", "cortex-a76", ["--quick"]), "node", true],
  ["armv7 Node 20, cortex-a7 (Pi 2)", qemu("armv7", "cortex-a7", ["--timing=3x2"]), "node", true],
];

/** Runs every runtime; resolves to name -> result (or { error }). */
export async function runMatrix() {
  const results = new Map();
  const one = async ([name, run]) => {
    const s = performance.now();
    const r = await run().catch((e) => ({ error: e.stack }));
    results.set(name, { ...r, seconds: (performance.now() - s) / 1000 });
    console.error(`${name}: ${r.error ? "FAILED" : "done"} in ${results.get(name).seconds.toFixed(1)} s`);
  };
  for (const r of RUNTIMES.filter((r) => !r[3])) await one(r);
  const queue = RUNTIMES.filter((r) => r[3]);
  await Promise.all([0, 1].map(async () => {
    for (let r; (r = queue.shift()); ) await one(r);
  }));
  return results;
}
