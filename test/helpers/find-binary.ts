// Debian programs the tests start for real (ffmpeg, mosquitto, wasm2c, gcc, qemu ...),
// installed by npm test's pretest (scripts/ensure-test-deps.mjs).
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The path of `name` on PATH (or in /usr/sbin, /usr/bin); throws naming its Debian package if absent. */
export function findBinary(name: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin"])) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} not found: this test needs the Debian package ${debianPackage} (node scripts/ensure-test-deps.mjs installs it)`);
}
