// Running child processes from the tests (Node 20 = process.execPath, Node 22 from test/engines).
import { execFile, spawnSync } from "node:child_process";
import { REPO } from "./common.mjs";

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a process to completion (never rejects on a non-zero exit). */
export function runAsync(exe: string, args: string[], opts: { cwd?: string; timeout?: number } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(
      exe,
      args,
      { cwd: opts.cwd ?? REPO, timeout: opts.timeout ?? 120_000, maxBuffer: 64 << 20, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") {
          const how = err.killed ? ` (killed with ${err.signal} after ${opts.timeout ?? 120_000} ms or on a full buffer)` : err.signal ? ` (ended by ${err.signal})` : "";
          reject(new Error(`${exe} ${args.join(" ")}: ${err.message}${how}\n${stderr}`));
          return;
        }
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}

export function runSync(exe: string, args: string[], opts: { cwd?: string; input?: string } = {}): ChildResult {
  const r = spawnSync(exe, args, { cwd: opts.cwd ?? REPO, encoding: "utf8", input: opts.input, timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Parses JSON Lines output. */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}
