// The runtime matrix's assertions on one runner's probe.js result: the package entry its
// runtime resolved, every kernel build's int8 and f32 hashes and the 768 x 24576 model's
// codes hash equal to the plain-JS reference's (make-fixtures.mjs), so every runtime gives
// the same bits as every other; a 2-thread SaePool equal to one Sae where the runtime has
// workers; an encode time. Prints one row of the matrix table.
import { readFileSync } from "node:fs";
import { expect as globalExpect } from "vitest";
import { CACHE } from "./paths.mjs";

const pad = (s, n) => String(s).padEnd(n);

/**
 * r: a runner's result; entry: the "exports" entry it must resolve; emulated: under qemu (no pool);
 * expect: the test context's, in concurrent tests (so failures land on the right test).
 */
export function expectProbe(r, { entry, emulated = false, expect = globalExpect }) {
  expect(r.error, "the runner ran to the end").toBeUndefined();
  const reference = JSON.parse(readFileSync(`${CACHE}reference.json`, "utf8"));
  expect.soft(r.entry, `resolves the package's "${entry}" entry`).toBe(entry);
  expect.soft(r.kernels.default?.error, "the default kernel loads").toBeUndefined();
  for (const [k, v] of Object.entries(r.kernels)) {
    if (v.error) expect.soft(k !== "default" && k !== "scalar" && /KERNEL_UNAVAILABLE/.test(v.error), `${k}: unavailable is allowed only for SIMD builds (${v.error})`).toBe(true);
    else expect.soft({ int8: v.int8, f32: v.f32 }, `${k} build: int8 and f32 hashes equal the plain-JS reference's`).toEqual({ int8: reference.int8, f32: reference.f32 });
  }
  expect.soft(r.bigHash, "768x24576 batch-1 codes hash equals the plain-JS reference's").toBe(reference.big);
  if (!emulated && entry !== "workers") {
    expect.soft(r.pool?.equal && r.pool.cases > 0 && r.pool.splits?.join() === "rows,latents,latents+main", `2-thread SaePools split by rows and by latents (also with one share on the main thread) give one Sae's codes and scores (${JSON.stringify(r.pool)})`).toBe(true);
    expect.soft(r.pool?.sharedMemory, "its int8 TopK latent splits take small calls through shared memory (SharedArrayBuffer and Atomics.waitAsync; the browser page is cross-origin isolated)").toBe(true);
    if (r.pool && r.pool.big768 !== null) expect.soft(r.pool?.big768, "the 768 × 24576 model: a 2-thread pool on \"auto\" splits it by latents and gives one Sae's codes").toEqual({ split: "latents", equal: true });
  }
  expect.soft(Number.isFinite(r.encodeMs) && r.encodeMs > 0, `encode time measured (${r.encodeMs})`).toBe(true);

  const forced = Object.entries(r.kernels).filter(([k]) => k !== "default").map(([k, v]) => (v.error ? `${k}:n/a` : k)).join(" ");
  const ms = `${r.encodeMs?.toFixed(r.encodeMs < 10 ? 3 : 1)} ms${emulated ? " (qemu)" : ""}`;
  console.log(`${pad(r.version, 44)} kernel ${pad(r.kernel, 8)} int8 ${r.int8?.slice(0, 16)} f32 ${r.f32?.slice(0, 16)} forced: ${pad(forced || "(default only)", 26)} encode 768x24576 b1: ${ms}`);
}

/** The examples' checks (http-api.mjs and the others take `check`): each one a soft assertion. */
export const check = (name, ok, what) => globalExpect.soft(ok, `${name}: ${what}`).toBe(true);
