// The kernel-level interface for code that drives the wasm exports itself (the trainer, pool workers):
// a model placed in a fresh instance of the chosen build, plus the instance's allocator.
// Everything else should use Sae.
import { selectKernel, type KernelName, type WasmBuilds } from "./kernel-select.js";
import type { ModelSpec } from "../model/spec.js";
import { placeModel, placeTensors, wasmAlloc, type PlacedModel, type TensorReader } from "./placement.js";
import type { KernelExports } from "./abi.js";
import type { RelaxedDot } from "./dot-probe.js";

export interface KernelModel {
  /** The build chosen (the fastest that passes its self-test, or the forced one). */
  readonly kernel: KernelName;
  /** Why each faster build was refused here (empty when the fastest runs, or one was forced). */
  readonly kernelFallbacks: readonly string[];
  /** The relaxed build's inner loop (null for the other builds). */
  readonly relaxedDot: RelaxedDot | null;
  readonly exports: KernelExports;
  /** Descriptor, workspace and tensor regions in the instance's memory. */
  readonly placed: PlacedModel;
  /** Allocates in the instance's heap (MODEL_UNSUPPORTED when memory cannot grow). */
  alloc(bytes: number): number;
}

export async function openKernelModel(
  builds: WasmBuilds,
  spec: ModelSpec,
  tensors: Readonly<Record<string, ArrayBufferView>>,
  kernel?: KernelName,
): Promise<KernelModel> {
  return open(builds, kernel, (k) => placeTensors(k, spec, tensors));
}

/** openKernelModel for tensors read straight into the instance's memory: sizes in bytes, `read` fills each. */
export function openKernelModelFrom(builds: WasmBuilds, spec: ModelSpec, sizes: Record<string, number>, read: TensorReader, kernel?: KernelName): Promise<KernelModel> {
  return open(builds, kernel, (k) => placeModel(k, spec, sizes, read));
}

async function open(builds: WasmBuilds, kernel: KernelName | undefined, place: (k: KernelExports) => Promise<PlacedModel>): Promise<KernelModel> {
  const chosen = await selectKernel(builds, kernel);
  const k = await chosen.instantiate();
  const placed = await place(k);
  return { kernel: chosen.name, kernelFallbacks: chosen.fallbacks, relaxedDot: chosen.relaxedDot, exports: k, placed, alloc: (bytes) => wasmAlloc(k, bytes) };
}
