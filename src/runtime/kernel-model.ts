// The kernel-level interface for code that drives the wasm exports itself (the trainer):
// a model placed in a fresh instance of the chosen build, plus the instance's allocator.
// Everything else should use Sae.
import type { KernelExports } from "./abi.js";
import { selectKernel, type KernelName, type WasmBuilds } from "./kernel-select.js";
import type { ModelSpec } from "../model/spec.js";
import { placeTensors, wasmAlloc, type PlacedModel } from "./placement.js";

export interface KernelModel {
  /** The build chosen (the fastest that passes its self-test, or the forced one). */
  readonly kernel: KernelName;
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
  const chosen = await selectKernel(builds, kernel);
  const k = await chosen.instantiate();
  const placed = await placeTensors(k, spec, tensors);
  return { kernel: chosen.name, exports: k, placed, alloc: (bytes) => wasmAlloc(k, bytes) };
}
