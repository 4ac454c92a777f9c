// The ABI has one source (assembly/): src/runtime/abi.ts (and the C host's header) is generated from it and must be
// current, and every build, release and debug, exports exactly what it declares. Debug builds
// (build/debug/, precondition asserts on) must compute the same bytes as release builds, and a
// failed assert must reach the host as a typed error that says which precondition broke.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ABI_VERSION, ACT, EXPORT_ARITY, M, QUANT, type KernelExports } from "../../src/runtime/abi.js";
import { instantiateKernel, KERNELS } from "../../src/runtime/kernel-select.js";
import { SaeEdgeError } from "../../src/base/errors.js";
import { BUILD_DIR, NODE22, REPO } from "../helpers/common.mjs";
import { jsonLines, runAsync } from "../helpers/child.js";

const KERNEL_ID = { scalar: 0, simd128: 1, relaxed: 2 } as const;
const BUILDS = { release: BUILD_DIR, debug: `${BUILD_DIR}debug/` };

// What a module exports, as name -> parameter count (-1 for the memory); run here or in Node 22.
const DESCRIBE = `const [path] = process.argv.slice(1);
const bytes = require("node:fs").readFileSync(path);
if (!WebAssembly.validate(bytes)) { console.log("null"); process.exit(0); }
const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { abort() { throw new Error("abort"); } } });
const out = { exports: {}, imports: WebAssembly.Module.imports(new WebAssembly.Module(bytes)).map((i) => i.module + "." + i.name) };
for (const [k, v] of Object.entries(inst.exports)) out.exports[k] = typeof v === "function" ? v.length : -1;
out.abi = inst.exports.abi_version(); out.id = inst.exports.kernel_id();
console.log(JSON.stringify(out));`;

function describeBuild(path: string): { exports: Record<string, number>; imports: string[]; abi: number; id: number } | null {
  let r = spawnSync(process.execPath, ["-e", DESCRIBE, path], { encoding: "utf8" });
  let d = JSON.parse(r.stdout || "null");
  if (d === null && existsSync(NODE22)) {
    r = spawnSync(NODE22, ["-e", DESCRIBE, path], { encoding: "utf8" });
    d = JSON.parse(r.stdout || "null");
  }
  return d;
}

describe("the generated ABI", () => {
  it("src/runtime/abi.ts and the C host's sae-abi.h are what scripts/gen-abi.mjs makes of assembly/", () => {
    const r = spawnSync(process.execPath, [`${REPO}scripts/gen-abi.mjs`, "--check"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  for (const [build, dir] of Object.entries(BUILDS)) {
    for (const kernel of KERNELS) {
      it(`${build} ${kernel}: exports, arities, ABI version and kernel id match abi.ts`, () => {
        const d = describeBuild(`${dir}${kernel}.wasm`);
        if (d === null) return; // neither this Node nor Node 22 runs it (no relaxed SIMD)
        expect(d.exports).toEqual({ memory: -1, ...EXPORT_ARITY });
        expect(d.abi).toBe(ABI_VERSION);
        expect(d.id).toBe(KERNEL_ID[kernel]);
        // Release builds compile the asserts out: nothing left that could abort.
        expect(d.imports).toEqual(build === "release" ? [] : ["env.abort"]);
      });
    }
  }
});

async function debugKernel(): Promise<KernelExports> {
  return instantiateKernel(await WebAssembly.compile(readFileSync(`${BUILDS.debug}simd128.wasm`)));
}

async function expectAbort(run: () => void, message: string): Promise<void> {
  let err: unknown = null;
  try {
    run();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SaeEdgeError);
  expect((err as SaeEdgeError).code).toBe("INTERNAL");
  expect((err as Error).message).toContain(message);
  expect((err as Error).message).toMatch(/at assembly\/\w+\.ts:\d+:\d+/);
}

describe("debug builds", () => {
  it("a misaligned workspace is refused with the assert's message", async () => {
    const k = await debugKernel();
    const ws = k.alloc(1024);
    await expectAbort(() => k.preact(k.alloc(M.BYTES), ws + 4, 0, 1, 0), "the workspace must be 16-byte aligned");
  });

  it("an int8 descriptor whose d_in_pad is not whole 16-byte steps is refused", async () => {
    const k = await debugKernel();
    const m = k.alloc(M.BYTES);
    const d = new DataView(k.memory.buffer, m, M.BYTES);
    for (let off = 0; off < M.BYTES; off += 4) d.setInt32(off, 0, true);
    for (const [field, v] of [[M.D_IN, 20], [M.D_IN_PAD, 20], [M.D_SAE, 4], [M.D_SAE_PAD, 4], [M.D_OUT, 20], [M.QUANT, QUANT.I8]]) d.setInt32(field, v, true);
    for (const field of [M.W_ENC, M.ENC_SCALE, M.ENC_ZSUM, M.B_ENC, M.W_DEC, M.DEC_SCALE, M.B_DEC]) d.setInt32(field, k.alloc(4096), true);
    const ws = k.alloc(k.workspace_bytes(m));
    const x = k.alloc(20 * 4), out = k.alloc(4 * 4);
    await expectAbort(() => k.preact(m, ws, x, 1, out), "int8 d_in_pad must be a multiple of 16");
  });

  it("a TopK descriptor with k > d_sae is refused by model_prepare", async () => {
    const k = await debugKernel();
    const m = k.alloc(M.BYTES);
    const d = new DataView(k.memory.buffer, m, M.BYTES);
    for (let off = 0; off < M.BYTES; off += 4) d.setInt32(off, 0, true);
    for (const [field, v] of [[M.D_IN, 16], [M.D_IN_PAD, 16], [M.D_SAE, 4], [M.D_SAE_PAD, 4], [M.D_OUT, 16], [M.ACT, ACT.TOPK], [M.K, 5]]) d.setInt32(field, v, true);
    for (const field of [M.W_ENC, M.B_ENC, M.W_DEC, M.B_DEC]) d.setInt32(field, k.alloc(1024), true);
    await expectAbort(() => k.model_prepare(m), "TopK and GroupMax need 0 < k <= d_sae");
  });

  it("compute the same bytes as release builds: every test vector, gated, GroupMax, normalization, input offsets, the residual plane, a screen, training (Node 20 and 22); int8 identical across builds", async () => {
    // Each child writes its lines to a file.
    const dir = mkdtempSync(join(tmpdir(), "sae-edge-debug-run-"));
    const jobs: [string, string[]][] = [[process.execPath, ["scalar", "simd128"]]];
    if (existsSync(NODE22)) jobs.push([NODE22, ["relaxed"]]);
    const lines: { kernel: string; build: string; case?: string; sha256?: string; error?: string }[] = [];
    try {
      // A child that fails names its engine and the last case it finished (a rare stall under load is not understood yet).
      const lastCase = (i: number) => readFileSync(join(dir, `${i}.jsonl`), "utf8").trim().split("\n").at(-1) ?? "none";
      const runs = jobs.map(([exe, kernels], i) =>
        runAsync(exe, ["test/kernels/debug-run.mjs", "--out", join(dir, `${i}.jsonl`), ...kernels]).catch((e: Error) => {
          throw new Error(`${e.message}\nlast line written: ${lastCase(i)}`);
        }),
      );
      for (const [i, r] of (await Promise.all(runs)).entries()) {
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        lines.push(...jsonLines<(typeof lines)[number]>(readFileSync(join(dir, `${i}.jsonl`), "utf8")));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(lines.filter((l) => l.error)).toEqual([]);
    const release = new Map(lines.filter((l) => l.build === "release").map((l) => [`${l.kernel} ${l.case}`, l.sha256]));
    const debug = lines.filter((l) => l.build === "debug");
    expect(debug.length).toBe(release.size);
    expect(debug.length).toBeGreaterThan(0);
    for (const l of debug) expect(l.sha256, `${l.kernel} ${l.case}`).toBe(release.get(`${l.kernel} ${l.case}`));
    // int8 (rescoring included, with and without x_offset or the residual plane): the same bytes in every build.
    for (const l of lines.filter((l) => l.build === "release" && /^int8(-residual)?\//.test(l.case ?? ""))) {
      expect(l.sha256, `${l.kernel} ${l.case} vs scalar`).toBe(release.get(`scalar ${l.case}`));
    }
  }, 600_000);
});
