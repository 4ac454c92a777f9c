// The same fixed test vectors (seeded int8 and f32 models: standard, topk,
// jumprelu; several shapes; batch 1, 3, 64) through every kernel on Node 20
// and Node 22 must give byte-identical codes, dense codes, pre-activations,
// reconstructions and scores -- and the bytes a plain-JS reference of
// docs/model-format.md computes.
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModel, serializeModel } from "../../src/model/quantize.js";
import {
  NODE22, PARTS, hashOutputs, materialize, referenceOutputs, sha256, vectorCases,
  type MaterializedCase,
} from "../helpers/common.mjs";
import { jsonLines, runAsync } from "../helpers/child.js";

interface Line {
  defaultKernel?: string;
  node?: string;
  kernel?: string;
  chosen?: string;
  relaxedDot?: string | null;
  case?: string;
  sha256?: string;
  parts?: Record<string, string>;
  model?: string;
  finite?: boolean;
  error?: string;
}

interface EngineRun {
  defaultKernel: string;
  node: string;
  /** kernel -> case -> line */
  byKernel: Map<string, Map<string, Line>>;
  errors: Map<string, string>;
}

const SCRIPT = "test/helpers/vectors-run.mjs";

async function runEngine(exe: string, kernels: string[]): Promise<EngineRun> {
  const r = await runAsync(exe, [SCRIPT, ...kernels]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const lines = jsonLines<Line>(r.stdout);
  const head = lines[0];
  const byKernel = new Map<string, Map<string, Line>>();
  const errors = new Map<string, string>();
  for (const l of lines.slice(1)) {
    if (l.error) errors.set(l.kernel!, l.error);
    else {
      if (!byKernel.has(l.kernel!)) byKernel.set(l.kernel!, new Map());
      byKernel.get(l.kernel!)!.set(l.case!, l);
    }
  }
  return { defaultKernel: head.defaultKernel!, node: head.node!, byKernel, errors };
}

const cases: MaterializedCase[] = vectorCases().map((c) => materialize(c, { buildModel, serializeModel }));
const reference = new Map(cases.map((c) => [c.id, hashOutputs(referenceOutputs(c.model, c.x, c.rows))]));
let node20: EngineRun;
let node22: EngineRun;

beforeAll(async () => {
  expect(existsSync(NODE22), `Node 22 missing at ${NODE22} (node scripts/ensure-test-deps.mjs)`).toBe(true);
  [node20, node22] = await Promise.all([
    runEngine(process.execPath, ["scalar", "simd128", "relaxed", "default"]),
    // The relaxed build's two inner loops, forced: the fused dot-add and the split i16 dot + extadd.
    runEngine(NODE22, ["scalar", "simd128", "relaxed", "default", "relaxed-fused", "relaxed-split"]),
  ]);
});

/** Every (engine, kernel) run of a case whose hash differs from the reference, one string each. */
function mismatches(quant: "int8" | "f32"): string[] {
  const out: string[] = [];
  const runs: [string, EngineRun, string[]][] = [
    ["node20", node20, ["scalar", "simd128", "default"]],
    ["node22", node22, ["scalar", "simd128", "relaxed", "default", "relaxed-fused", "relaxed-split"]],
  ];
  for (const c of cases.filter((c) => c.quant === quant)) {
    const want = reference.get(c.id)!;
    for (const [engine, run, kernels] of runs) {
      for (const kernel of kernels) {
        const got = run.byKernel.get(kernel)?.get(c.id);
        if (!got) {
          out.push(`${engine}/${kernel} ${c.id}: missing`);
          continue;
        }
        if (got.sha256 === want.all) continue;
        const parts = PARTS.filter((p) => got.parts![p] !== want.parts[p]);
        out.push(`${engine}/${kernel} ${c.id}: differs in ${parts.join(", ")}`);
      }
    }
  }
  return out;
}

describe("test vectors", () => {
  it("cover int8 (with and without the residual plane) and f32, three architectures, batch 1/3/64, odd shapes", () => {
    expect(cases.length).toBe(98);
    expect(cases.filter((c) => c.encoderResidual).length).toBe(6);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    for (const q of ["int8", "f32"]) {
      for (const a of ["standard", "topk", "jumprelu"]) expect(cases.some((c) => c.quant === q && c.weights.architecture === a)).toBe(true);
    }
    expect(cases.some((c) => c.weights.dIn % 16 !== 0)).toBe(true);
    expect(cases.some((c) => c.weights.dSae % 4 !== 0)).toBe(true);
  });

  it("are not trivial: most rows have active latents and the outputs differ between cases", () => {
    let rows = 0, active = 0;
    for (const c of cases) {
      const ref = referenceOutputs(c.model, c.x, c.rows);
      for (let r = 0; r < c.rows; r++) {
        rows++;
        if (ref.rowOffsets[r + 1] > ref.rowOffsets[r]) active++;
      }
    }
    expect(active / rows).toBeGreaterThan(0.9);
    expect(new Set([...reference.values()].map((h) => h.all)).size).toBe(cases.length);
  });

  it("the tie case really has tied pre-activations, ordered by lower index", () => {
    const c = cases.find((c) => c.id === "int8/topk/24x40k6-ties/b64")!;
    const ref = referenceOutputs(c.model, c.x, c.rows);
    let ties = 0;
    for (let e = 1; e < ref.values.length; e++) {
      if (ref.values[e] === ref.values[e - 1] && ref.rowOffsets.indexOf(e) < 0) {
        ties++;
        expect(ref.indices[e]).toBeGreaterThan(ref.indices[e - 1]);
      }
    }
    expect(ties).toBeGreaterThan(10);
  });
});

describe("engines and kernels", () => {
  it("Node 20 picks simd128 by default and cannot run relaxed", () => {
    expect(node20.node.startsWith("v20.")).toBe(true);
    expect(node20.defaultKernel).toBe("simd128");
    expect(node20.errors.get("relaxed")).toMatch(/^KERNEL_UNAVAILABLE/);
    expect([...node20.byKernel.keys()].sort()).toEqual(["default", "scalar", "simd128"]);
    for (const l of node20.byKernel.get("default")!.values()) expect(l.chosen).toBe("simd128");
  });

  it("Node 22 picks relaxed by default and runs all three builds", () => {
    expect(node22.node.startsWith("v22.")).toBe(true);
    expect(node22.defaultKernel).toBe("relaxed");
    expect(node22.errors.size).toBe(0);
    expect([...node22.byKernel.keys()].sort()).toEqual(["default", "relaxed", "relaxed-fused", "relaxed-split", "scalar", "simd128"]);
    for (const l of node22.byKernel.get("default")!.values()) expect(l.chosen).toBe("relaxed");
    for (const dot of ["fused", "split"]) for (const l of node22.byKernel.get(`relaxed-${dot}`)!.values()) expect(l.relaxedDot).toBe(dot);
    for (const l of node22.byKernel.get("simd128")!.values()) expect(l.relaxedDot).toBeNull();
  });

  it("children built byte-identical model files from dist/ (same as src/), and every output is finite", () => {
    for (const c of cases) {
      for (const run of [node20, node22]) {
        const l = run.byKernel.get("scalar")!.get(c.id)!;
        expect(l.model, c.id).toBe(sha256(c.bytes));
      }
    }
    for (const run of [node20, node22]) {
      for (const m of run.byKernel.values()) for (const l of m.values()) expect(l.finite, `${l.kernel} ${l.case}`).toBe(true);
    }
  });
});

describe("bit-identical outputs", () => {
  it("int8: every kernel on Node 20 and Node 22 gives the reference bytes", () => {
    expect(mismatches("int8")).toEqual([]);
  });

  it("f32: every kernel on Node 20 and Node 22 gives the reference bytes", () => {
    expect(mismatches("f32")).toEqual([]);
  });

  it("int8 hashes agree across kernels and engines (direct comparison, not via the reference)", () => {
    for (const c of cases.filter((c) => c.quant === "int8")) {
      const hashes = new Set([
        node20.byKernel.get("scalar")!.get(c.id)!.sha256,
        node20.byKernel.get("simd128")!.get(c.id)!.sha256,
        node22.byKernel.get("scalar")!.get(c.id)!.sha256,
        node22.byKernel.get("simd128")!.get(c.id)!.sha256,
        node22.byKernel.get("relaxed")!.get(c.id)!.sha256,
        node22.byKernel.get("relaxed-fused")!.get(c.id)!.sha256,
        node22.byKernel.get("relaxed-split")!.get(c.id)!.sha256,
      ]);
      expect(hashes.size, c.id).toBe(1);
    }
  });
});
