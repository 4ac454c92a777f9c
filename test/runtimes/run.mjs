// `npm run test:runtimes`: the same test vectors under every runtime, for real
// (matrix.mjs), then the examples over real HTTP and in a real browser. Each
// runner loads the package the way its runtime resolves it, encodes the fixed
// vectors with its own kernel choice (and each build it can force), hashes every
// output and times batch-1 encode of the 768 x 24576 int8 TopK model; int8 and f32
// hashes must equal Node 20's, and Node 20's the plain-JS reference's.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { HERE, SYSTEM } from "./install.mjs";
import { RUNTIMES, runMatrix } from "./matrix.mjs";
import { testWorkerEndpoint } from "./worker-endpoint.mjs";
import { testDenoServe } from "./deno-serve.mjs";
import { testBrowserPage } from "./browser-page.mjs";

const missing = Object.entries(SYSTEM).filter(([f]) => !existsSync(f));
if (missing.length) {
  console.error(`missing Debian packages: ${missing.map(([, p]) => p).join(" ")} (.ci/run installs them)`);
  process.exit(1);
}

const t0 = performance.now();
execFileSync(process.execPath, [`${HERE}make-fixtures.mjs`], { stdio: "inherit" });
const reference = JSON.parse(readFileSync(`${HERE}.cache/reference.json`, "utf8"));
const results = await runMatrix();

const checks = [];
const check = (name, ok, what) => checks.push({ name, ok: !!ok, what });
const base = results.get(RUNTIMES[0][0]);
check(RUNTIMES[0][0], base.int8 === reference.int8 && base.f32 === reference.f32, "int8 and f32 hashes equal the plain-JS reference's (test/helpers/common.mjs)");
for (const [name, , entry, emulated] of RUNTIMES) {
  const r = results.get(name);
  if (r.error) {
    check(name, false, r.error);
    continue;
  }
  check(name, r.entry === entry, `resolves the package's "${entry}" entry (got ${r.entry})`);
  for (const [k, v] of Object.entries(r.kernels)) {
    if (v.error) check(name, k !== "default" && k !== "scalar" && /KERNEL_UNAVAILABLE/.test(v.error), `${k}: unavailable is allowed only for SIMD builds (${v.error})`);
    else check(name, v.int8 === base.int8 && v.f32 === base.f32, `${k} build: int8 and f32 hashes equal Node 20's`);
  }
  check(name, r.bigHash === base.bigHash, "768x24576 batch-1 codes hash equals Node 20's");
  if (!emulated && entry !== "workers") check(name, r.pool?.equal && r.pool.cases > 0, `a 2-thread SaePool gives one Sae's codes and scores (${JSON.stringify(r.pool)})`);
  check(name, Number.isFinite(r.encodeMs) && r.encodeMs > 0, `encode time measured${emulated ? " (qemu: correctness only)" : ""}`);
}

// The examples, each over real HTTP (and in a real browser).
const reports = [];
for (const [name, test] of [
  ["Worker endpoint", testWorkerEndpoint],
  ["Deno serve", testDenoServe],
  ["Browser page", testBrowserPage],
]) {
  const s = performance.now();
  try {
    reports.push(...(await test(check)));
  } catch (e) {
    check(name, false, e.stack);
  }
  console.error(`${name}: done in ${((performance.now() - s) / 1000).toFixed(1)} s`);
}

const pad = (s, n) => String(s).padEnd(n);
console.log(`\n${pad("runtime", 34)} ${pad("version", 44)} ${pad("kernel", 8)} ${pad("int8 hash", 16)} ${pad("f32 hash", 16)} ${pad("forced builds", 26)} encode 768x24576 b1`);
for (const [name, , , emulated] of RUNTIMES) {
  const r = results.get(name);
  if (r.error) {
    console.log(`${pad(name, 34)} ERROR ${r.error.split("\n")[0]}`);
    continue;
  }
  const forced = Object.entries(r.kernels).filter(([k]) => k !== "default").map(([k, v]) => (v.error ? `${k}:n/a` : k)).join(" ");
  const ms = `${r.encodeMs.toFixed(r.encodeMs < 10 ? 3 : 1)} ms${emulated ? " (qemu)" : ""}`;
  console.log(`${pad(name, 34)} ${pad(r.version, 44)} ${pad(r.kernel, 8)} ${pad(r.int8.slice(0, 16), 16)} ${pad(r.f32.slice(0, 16), 16)} ${pad(forced || "(default only)", 26)} ${ms}`);
}
console.log(`reference (plain JS, docs/model-format.md): int8 ${reference.int8.slice(0, 16)}  f32 ${reference.f32.slice(0, 16)}`);
for (const r of results.values()) if (r.memory) console.log(r.memory);
for (const line of reports) console.log(line);
for (const c of checks.filter((c) => !c.ok)) console.log(`FAIL ${c.name}: ${c.what}`);
const failed = checks.filter((c) => !c.ok).length;
console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
