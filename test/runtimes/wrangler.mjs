// Starts `wrangler dev` (workerd) on 127.0.0.1 for a test and stops it again.
// Offline: no metrics, no Request.cf download, no update check.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { HERE } from "./paths.mjs";

export const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true", NO_UPDATE_NOTIFIER: "1",
  XDG_CONFIG_HOME: `${HERE}.cache/xdg`,
};
export const WRANGLER = `${HERE}node_modules/.bin/wrangler`;

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** `wrangler dev` in `cwd` with extra args; resolves once GET /healthz answers. */
export async function startWrangler(cwd, args = [], timeoutMs = 60_000) {
  const port = await freePort();
  const child = spawn(WRANGLER, ["dev", "--ip", "127.0.0.1", "--port", String(port), ...args], {
    cwd, env: { ...process.env, ...WRANGLER_ENV }, stdio: ["ignore", "pipe", "pipe"], detached: true,
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM"); // wrangler and the workerd it started (one process group)
    } catch {}
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() > deadline || child.exitCode !== null) {
      stop();
      throw new Error(`wrangler dev did not start: ${log.slice(-1500)}`);
    }
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  return { base, stop, log: () => log, workerdPids: () => descendants(child.pid, "workerd") };
}

/** The processes named `name` below `pid` (Linux /proc). */
function descendants(pid, name) {
  const parent = new Map();
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(p), { ppid, comm });
    } catch {}
  }
  const below = (p) => {
    for (let q = p; q > 1; q = parent.get(q)?.ppid ?? 0) if (q === pid) return true;
    return false;
  };
  return [...parent].filter(([p, { comm }]) => comm === name && below(p)).map(([p]) => p);
}

/** VmRSS and VmHWM of a process, in MiB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k) => Number(status.match(new RegExp(`${k}:\\s+(\\d+)`))[1]);
  return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
}

/**
 * The workerd process of `w` that grew most while `action` ran (wrangler dev runs two:
 * its proxy and the Worker's), with its memory before and after.
 */
export async function workerdGrowth(w, action) {
  const pids = w.workerdPids();
  const before = pids.map(memoryOf);
  const value = await action();
  const grown = pids.map((p, i) => ({ before: before[i], after: memoryOf(p) }));
  grown.sort((a, b) => b.after.rssMiB - b.before.rssMiB - (a.after.rssMiB - a.before.rssMiB));
  return { ...grown[0], value };
}
