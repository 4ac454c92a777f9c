// Kernel selection: relaxed -> simd128 -> scalar, each only if the engine
// validates it AND it passes the semantics self-test. Node 20 with
// --experimental-wasm-relaxed-simd validates the relaxed module but its
// baseline tier (Liftoff) computes the relaxed dot wrongly; whatever kernel is
// chosen there, the answers must be the correct ones.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { ABI_VERSION } from "../../src/runtime/abi.js";
import { selectKernel, type KernelName, type WasmBuilds } from "../../src/runtime/kernel-select.js";
import { probeRelaxedDot, type RelaxedDot } from "../../src/runtime/dot-probe.js";
import { BUILD_DIR, NODE22 } from "../helpers/common.mjs";
import { jsonLines, runAsync } from "../helpers/child.js";
import { expectCodeAsync } from "../helpers/expect-code.js";

const wasm = (name: KernelName) => new Uint8Array(readFileSync(`${BUILD_DIR}${name}.wasm`));
const corrupt = (bytes: Uint8Array) => bytes.map((b, i) => (i >= 8 && i % 7 === 0 ? b ^ 0x5a : b));
const EMPTY_MODULE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]); // valid, but exports nothing

describe("selectKernel with hand-made builds (this process: Node 20)", () => {
  it("corrupt relaxed bytes fall back to simd128, which really works", async () => {
    const builds: WasmBuilds = { relaxed: corrupt(wasm("relaxed")), simd128: wasm("simd128"), scalar: wasm("scalar") };
    expect(WebAssembly.validate(builds.relaxed as BufferSource)).toBe(false);
    const k = await selectKernel(builds);
    expect(k.name).toBe("simd128");
    const inst = await k.instantiate();
    expect(inst.abi_version()).toBe(ABI_VERSION);
    expect(inst.kernel_id()).toBe(1); // KERNEL_SIMD128
  });

  it("truncated relaxed bytes, an empty (export-less) module, and a throwing loader all fall back to simd128", async () => {
    const rel = wasm("relaxed");
    for (const relaxed of [rel.subarray(0, rel.length >> 1), EMPTY_MODULE, async () => { throw new Error("fetch failed"); }, new Uint8Array(0)]) {
      const k = await selectKernel({ relaxed, simd128: wasm("simd128"), scalar: wasm("scalar") });
      expect(k.name).toBe("simd128");
    }
  });

  it("the real relaxed build is not usable on plain Node 20 (simd128 chosen; forcing it is KERNEL_UNAVAILABLE)", async () => {
    const builds: WasmBuilds = { relaxed: wasm("relaxed"), simd128: wasm("simd128"), scalar: wasm("scalar") };
    expect((await selectKernel(builds)).name).toBe("simd128");
    const e = await expectCodeAsync(selectKernel(builds, "relaxed"), "KERNEL_UNAVAILABLE");
    expect(e.message).toMatch(/relaxed/);
  });

  it("corrupt relaxed and simd128 fall back to scalar; everything corrupt is KERNEL_UNAVAILABLE naming each build", async () => {
    const k = await selectKernel({ relaxed: corrupt(wasm("relaxed")), simd128: EMPTY_MODULE, scalar: wasm("scalar") });
    expect(k.name).toBe("scalar");
    expect((await k.instantiate()).kernel_id()).toBe(0);
    const e = await expectCodeAsync(
      selectKernel({ relaxed: corrupt(wasm("relaxed")), simd128: EMPTY_MODULE, scalar: new Uint8Array([1, 2, 3]) }),
      "KERNEL_UNAVAILABLE",
    );
    for (const name of ["relaxed", "simd128", "scalar"]) expect(e.message).toContain(`${name}:`);
  });

  it("forcing a build returns exactly it, or KERNEL_UNAVAILABLE; an unknown name is INVALID_ARGUMENT", async () => {
    const builds: WasmBuilds = { relaxed: corrupt(wasm("relaxed")), simd128: wasm("simd128"), scalar: wasm("scalar") };
    expect((await selectKernel(builds, "scalar")).name).toBe("scalar");
    expect((await selectKernel(builds, "simd128")).name).toBe("simd128");
    await expectCodeAsync(selectKernel(builds, "relaxed"), "KERNEL_UNAVAILABLE");
    await expectCodeAsync(selectKernel({ ...builds, scalar: EMPTY_MODULE }, "scalar"), "KERNEL_UNAVAILABLE");
    await expectCodeAsync(selectKernel(builds, "avx512" as KernelName), "INVALID_ARGUMENT");
    await expectCodeAsync(selectKernel(builds, "simd128", "vnni" as RelaxedDot), "INVALID_ARGUMENT");
  });

  it("the relaxed-dot probe keeps the split loop where relaxed SIMD does not validate; other builds carry no loop choice", async () => {
    expect(probeRelaxedDot()).toBe("split");
    const k = await selectKernel({ relaxed: EMPTY_MODULE, simd128: wasm("simd128"), scalar: wasm("scalar") }, undefined, "fused");
    expect(k.relaxedDot).toBeNull();
  });

  it("accepts precompiled WebAssembly.Module inputs and lazy loaders", async () => {
    const simd = await WebAssembly.compile(wasm("simd128"));
    const k = await selectKernel({ relaxed: EMPTY_MODULE, simd128: simd, scalar: async () => wasm("scalar") });
    expect(k.name).toBe("simd128");
    expect(k.module).toBe(simd);
    const s = await selectKernel({ relaxed: EMPTY_MODULE, simd128: EMPTY_MODULE, scalar: async () => wasm("scalar") });
    expect(s.name).toBe("scalar");
  });
});

interface SelectLine { scenario: string; force?: string; chosen?: string; error?: string }
interface VecLine { defaultKernel?: string; kernel?: string; chosen?: string; relaxedDot?: string | null; case?: string; sha256?: string; error?: string }

/** case -> sha256 for one kernel's lines, plus what was chosen. */
function hashes(lines: VecLine[], kernel: string): { chosen: Set<string>; byCase: Map<string, string>; error?: string } {
  const mine = lines.filter((l) => l.kernel === kernel);
  const err = mine.find((l) => l.error);
  return {
    chosen: new Set(mine.filter((l) => l.chosen).map((l) => l.chosen!)),
    byCase: new Map(mine.filter((l) => l.case).map((l) => [l.case!, l.sha256!])),
    error: err?.error,
  };
}

describe("engines that validate relaxed SIMD but may compute it wrongly", () => {
  let plain: VecLine[];
  let flagged: VecLine[];
  let noLiftoff: VecLine[];
  let node22Select: SelectLine[];

  beforeAll(async () => {
    const script = "test/helpers/vectors-run.mjs";
    const runs = await Promise.all([
      runAsync(process.execPath, [script, "simd128"]),
      runAsync(process.execPath, ["--experimental-wasm-relaxed-simd", script, "default", "relaxed", "relaxed-fused"]),
      runAsync(process.execPath, ["--experimental-wasm-relaxed-simd", "--no-liftoff", script, "default", "relaxed"]),
      runAsync(NODE22, ["test/helpers/select-child.mjs"]),
    ]);
    for (const r of runs) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    [plain, flagged, noLiftoff] = runs.slice(0, 3).map((r) => jsonLines<VecLine>(r.stdout));
    node22Select = jsonLines<SelectLine>(runs[3].stdout);
  });

  it("Node 20 --experimental-wasm-relaxed-simd: the default choice gives exactly the simd128 answers", () => {
    const want = hashes(plain, "simd128");
    expect(want.byCase.size).toBe(98);
    const got = hashes(flagged, "default");
    console.log(`Node 20 --experimental-wasm-relaxed-simd chose: ${[...got.chosen].join(", ")} (default kernel line: ${flagged[0].defaultKernel})`);
    expect(got.chosen.size).toBe(1);
    expect(got.byCase).toEqual(want.byCase);
    // Liftoff's fused relaxed dot-add is wrong here; the kernels now use the i16 relaxed dot widened
    // with extadd, which it computes right, so the self-test may admit relaxed: then its answers
    // must be (and, above, are) simd128's on all 98 vectors.
    expect(["relaxed", "simd128"]).toContain(flagged[0].defaultKernel);
  });

  it("Node 20 --experimental-wasm-relaxed-simd: forcing relaxed is either rejected (KERNEL_UNAVAILABLE) or correct", () => {
    const want = hashes(plain, "simd128");
    const forced = hashes(flagged, "relaxed");
    if (forced.error) {
      console.log(`forced relaxed under --experimental-wasm-relaxed-simd: ${forced.error}`);
      expect(forced.error).toMatch(/^KERNEL_UNAVAILABLE: .*self-test failed/);
    } else {
      expect(forced.byCase).toEqual(want.byCase);
    }
  });

  it("Node 20 --experimental-wasm-relaxed-simd: the probe keeps the split loop (Liftoff's fused dot-add is wrong); forcing the fused one is rejected or correct", () => {
    const want = hashes(plain, "simd128");
    for (const l of flagged.filter((l) => l.chosen === "relaxed")) expect(l.relaxedDot, `${l.kernel} ${l.case}`).toBe(l.kernel === "relaxed-fused" ? "fused" : "split");
    const fused = hashes(flagged, "relaxed-fused");
    if (fused.error) {
      console.log(`forced fused relaxed dot under --experimental-wasm-relaxed-simd: ${fused.error}`);
      expect(fused.error).toMatch(/^KERNEL_UNAVAILABLE: .*self-test failed \(fused dot: /);
    } else {
      expect(fused.byCase).toEqual(want.byCase);
    }
  });

  it("Node 20 --experimental-wasm-relaxed-simd --no-liftoff: relaxed is correct there, chosen, and bit-identical", () => {
    const want = hashes(plain, "simd128");
    const got = hashes(noLiftoff, "default");
    console.log(`Node 20 --experimental-wasm-relaxed-simd --no-liftoff chose: ${[...got.chosen].join(", ")}`);
    expect(got.byCase).toEqual(want.byCase);
    expect([...got.chosen]).toEqual(["relaxed"]);
    const forced = hashes(noLiftoff, "relaxed");
    expect(forced.error).toBeUndefined();
    expect(forced.byCase).toEqual(want.byCase);
  });

  it("Node 22 (relaxed works): real builds choose relaxed; corrupt/truncated/empty/throwing relaxed falls back to simd128", () => {
    const chosen = (scenario: string, force?: string) => node22Select.find((l) => l.scenario === scenario && l.force === force);
    expect(chosen("real")?.chosen).toBe("relaxed");
    expect(chosen("real", "relaxed")?.chosen).toBe("relaxed");
    for (const s of ["corruptRelaxed", "truncatedRelaxed", "emptyModuleRelaxed", "throwingRelaxed"]) {
      expect(chosen(s)?.chosen, s).toBe("simd128");
      expect(chosen(s, "relaxed")?.error, s).toBe("KERNEL_UNAVAILABLE");
    }
  });
});
