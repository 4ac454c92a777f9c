// A small tmpfs for full-disk tests: needs Linux and root (mount). Returns why it could not be
// mounted, or undefined when `dir` is one; unmountTmpfs(dir) when done.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";

export function mountTmpfs(dir: string, size: string): string | undefined {
  if (process.platform !== "linux") return `not Linux (${process.platform}): no tmpfs to mount`;
  if (process.getuid?.() !== 0) return "not root: cannot mount a tmpfs";
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { encoding: "utf8" });
  return r.status === 0 ? undefined : `mount -t tmpfs failed: ${(r.stderr || r.error?.message || "").trim()}`;
}

export const unmountTmpfs = (dir: string) => spawnSync("umount", [dir]);
