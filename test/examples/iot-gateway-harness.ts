// What the IoT gateway tests share: real processes (mosquitto, the gateway, the replay)
// with their JSON Lines events collected, a free port, and polling with a deadline.
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { REPO } from "../helpers/common.mjs";
import { findBinary } from "../helpers/find-binary.js";

export const GATEWAY = join(REPO, "edge-examples/iot-gateway/gateway.mjs");
export const REPLAY = join(REPO, "edge-examples/iot-gateway/replay.mjs");
export const EVALUATE = join(REPO, "edge-examples/iot-gateway/evaluate.mjs");
export const mosquitto = () => findBinary("mosquitto", "mosquitto");

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 40_000, state: () => string = () => ""): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} ${state()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

export interface Proc { child: ChildProcess; lines: Record<string, any>[]; stderr: string; exited: Promise<number | null> }

/** Starts a process whose stdout is JSON Lines; `procs` collects it for the final clean-up. */
export function start(exe: string, args: string[], procs: Proc[]): Proc {
  const child = spawn(exe, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  const p: Proc = { child, lines: [], stderr: "", exited: new Promise((r) => child.once("exit", (code) => r(code))) };
  let buf = "";
  child.stdout!.on("data", (d) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop()!;
    for (const l of parts) if (l.trim()) p.lines.push(JSON.parse(l));
  });
  child.stderr!.on("data", (d) => (p.stderr += d));
  procs.push(p);
  return p;
}

export function killAll(procs: Proc[]): void {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
}

/**
 * The broker configuration README.md documents for the gateway, on `port` with its files in
 * `dir`: persistence, saved every 500 changes (fewer than the 1000 messages the gateway and the
 * replay publish again after a reconnect), no queue limit.
 */
export function writeBrokerConfig(dir: string, port: number): string {
  const path = join(dir, "mosquitto.conf");
  writeFileSync(path, [
    `listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence true", `persistence_location ${dir}/`,
    "autosave_interval 500", "autosave_on_changes true", "max_queued_messages 0", "log_dest stderr",
    // Run as root, mosquitto would switch to the user "mosquitto", who cannot write here.
    `user ${userInfo().username}`, "",
  ].join("\n"));
  return path;
}
