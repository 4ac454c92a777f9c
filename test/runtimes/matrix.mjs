// Starts the runtime matrix's runners: one per runtime, each printing one JSON line with
// the probe.js result (entry resolved, kernel chosen, hashes, 768 x 24576 encode time).
// Each resolves to that result, or { error } with the runner's last output.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { ARM, BIN, HERE } from "./paths.mjs";
import { startWrangler, workerdGrowth } from "./wrangler.mjs";

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
export async function probeWorkerd() {
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

/** Deno 2 (the npm deno package's binary) running runners/deno.ts. */
export const probeDeno = () =>
  runner(`${BIN}deno`, ["run", "--allow-read", "runners/deno.ts"], { env: { DENO_NO_UPDATE_CHECK: "1", DENO_DIR: `${HERE}.cache/deno` } });

/** A Node build (Node 20 = process.execPath, Node 22 from test/engines) running runners/node.mjs. */
export const probeNode = (node = process.execPath) => runner(node, ["runners/node.mjs"]);

/** An arm Node build under qemu-user on a Raspberry Pi CPU model (correctness only: qemu says nothing of a Pi's speed). */
export const probeQemu = (arch, cpu, args = []) => {
  const a = ARM[arch];
  return runner(a.qemu, ["-L", a.sysroot, "-cpu", cpu, `${a.dir}bin/node`, "runners/node.mjs", ...args]);
};

/** Debian's headless Chromium, driven by playwright-core (runners/chromium.mjs). */
export const probeChromium = () => runner(process.execPath, ["runners/chromium.mjs"]);
