// Chooses the kernel build: relaxed -> simd128 -> scalar, each accepted only if
// the engine validates it and it passes a semantics self-test on known inputs
// (Node 20's baseline tier validates relaxed SIMD with a flag but computes the
// relaxed dot wrongly; the self-test catches engines like that).
import { keepTurning } from "../base/keep-turning.js";
import { ABI_VERSION, type KernelExports } from "./abi.js";
import { SaeEdgeError, fail } from "../base/errors.js";
import { selfTest } from "./self-test.js";
import "./wasm-globals.js";
import { abortMessage } from "./kernel-abort.js";
import { probeRelaxedDot, RELAXED_DOTS, type RelaxedDot } from "./dot-probe.js";

export const KERNELS = ["relaxed", "simd128", "scalar"] as const;
export type KernelName = (typeof KERNELS)[number];

/** A kernel build's bytes (any typed array or DataView over them, or the ArrayBuffer). */
export type WasmBytes = ArrayBuffer | ArrayBufferView;
/** A kernel build as a precompiled module (Workers), bytes, or a lazy loader of either. */
export type WasmInput = WebAssembly.Module | WasmBytes | (() => Promise<WebAssembly.Module | WasmBytes>);
export type WasmBuilds = Record<KernelName, WasmInput>;

export interface Kernel {
  name: KernelName;
  /** Why each faster build was refused, e.g. "relaxed: self-test failed (…)" (empty if none was). */
  fallbacks: string[];
  /** The relaxed build's int8 inner loop (dot-probe.ts); null for the other builds. */
  relaxedDot: RelaxedDot | null;
  module: WebAssembly.Module;
  instantiate(): Promise<KernelExports>;
}

const verdicts = new WeakMap<WebAssembly.Module, Map<RelaxedDot | null, string | null>>(); // null = passed

async function compile(input: WasmInput): Promise<WebAssembly.Module | null> {
  const resolved = typeof input === "function" ? await input() : input;
  if (resolved instanceof WebAssembly.Module) return resolved;
  const bytes = resolved as BufferSource;
  if (!WebAssembly.validate(bytes)) return null;
  return keepTurning(WebAssembly.compile(bytes));
}

export async function instantiateKernel(module: WebAssembly.Module, relaxedDot: RelaxedDot | null = null): Promise<KernelExports> {
  let memory: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      abort(msg: number, file: number, line: number, col: number): never {
        const why = abortMessage(memory, msg, file, line, col);
        throw new SaeEdgeError("INTERNAL", `the sae-edge kernel aborted: ${why} (an ABI misuse by the host: please report it)`);
      },
    },
  };
  const instance = await keepTurning(WebAssembly.instantiate(module, imports));
  const k = instance.exports as unknown as KernelExports;
  memory = k.memory;
  if (relaxedDot === "fused") k.use_fused_dot(1); // instances start with the split loop
  return k;
}

async function tryKernel(name: KernelName, input: WasmInput, dot: RelaxedDot | undefined): Promise<Omit<Kernel, "fallbacks"> | string> {
  let module: WebAssembly.Module | null;
  try {
    module = await compile(input);
  } catch (e) {
    return `${name}: ${(e as Error).message}`;
  }
  if (!module) return `${name}: not supported by this engine`;
  const relaxedDot = name === "relaxed" ? (dot ?? probeRelaxedDot()) : null;
  if (!verdicts.has(module)) verdicts.set(module, new Map());
  const known = verdicts.get(module)!;
  let verdict = known.get(relaxedDot);
  if (verdict === undefined) {
    try {
      const k = await instantiateKernel(module, relaxedDot);
      verdict = k.abi_version() !== ABI_VERSION ? `ABI ${k.abi_version()} != ${ABI_VERSION}` : await selfTest(k);
    } catch (e) {
      verdict = (e as Error).message;
    }
    known.set(relaxedDot, verdict);
  }
  if (verdict !== null) return `${name}: self-test failed (${relaxedDot ? `${relaxedDot} dot: ` : ""}${verdict})`;
  const m = module;
  return { name, relaxedDot, module: m, instantiate: () => instantiateKernel(m, relaxedDot) };
}

/**
 * The fastest build that works here, or the forced one (KERNEL_UNAVAILABLE if it does not).
 * relaxedDot forces the relaxed build's inner loop (default: what probeRelaxedDot finds faster).
 */
export async function selectKernel(builds: WasmBuilds, force?: KernelName, relaxedDot?: RelaxedDot): Promise<Kernel> {
  if (force !== undefined && !KERNELS.includes(force)) {
    fail("INVALID_ARGUMENT", `unknown kernel "${force}" (expected ${KERNELS.join(", ")})`);
  }
  if (relaxedDot !== undefined && !RELAXED_DOTS.includes(relaxedDot)) {
    fail("INVALID_ARGUMENT", `unknown relaxed dot "${relaxedDot}" (expected ${RELAXED_DOTS.join(", ")})`);
  }
  const reasons: string[] = [];
  for (const name of force ? [force] : KERNELS) {
    const k = await tryKernel(name, builds[name], relaxedDot);
    if (typeof k !== "string") return { ...k, fallbacks: reasons };
    reasons.push(k);
  }
  return fail("KERNEL_UNAVAILABLE", `no usable kernel: ${reasons.join("; ")}`);
}
