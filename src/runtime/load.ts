// loadSae for any runtime: adapters hand in the kernel builds and a ByteSource.
import { fail } from "../base/errors.js";
import { selectKernel, type KernelName, type WasmBuilds } from "./kernel-select.js";
import type { RelaxedDot } from "./dot-probe.js";
import { specFromHeader, type ModelSpec } from "../model/spec.js";
import { Sae } from "./sae.js";
import { bytesSource, isByteSource, type ByteSource } from "../base/byte-source.js";
import { placeModel } from "./placement.js";
import type { SafetensorsHeader } from "../format/safetensors.js";
import { readSafetensorsHeader } from "../format/safetensors-source.js";

export interface LoadOptions {
  /** Force a kernel build instead of the fastest that passes its self-test. */
  kernel?: KernelName;
  /** Force the relaxed build's int8 inner loop instead of the one its probe finds faster here. */
  relaxedDot?: RelaxedDot;
}

export type ModelInput = ByteSource | Uint8Array | ArrayBuffer;

/** Reads and validates a model file's header and metadata, without touching the weights. */
export async function readModelHeader(source: ByteSource): Promise<{ header: SafetensorsHeader; spec: ModelSpec }> {
  const header = await readSafetensorsHeader(source);
  return { header, spec: specFromHeader(header) };
}

export async function loadSaeWith(builds: WasmBuilds, input: ModelInput, options: LoadOptions = {}): Promise<Sae> {
  const source = isByteSource(input) ? input : input instanceof Uint8Array || input instanceof ArrayBuffer ? bytesSource(input) : null;
  if (!source) return fail("INVALID_ARGUMENT", "model must be bytes (Uint8Array/ArrayBuffer) or a ByteSource");
  const kernel = await selectKernel(builds, options.kernel, options.relaxedDot);
  const { header, spec } = await readModelHeader(source);
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const sizes = Object.fromEntries(header.tensors.map((t) => [t.name, t.end - t.begin]));
  const k = await kernel.instantiate();
  const placed = await placeModel(k, spec, sizes, (name, into) => source.read(header.dataOffset + byName.get(name)!.begin, into));
  return new Sae(k, placed, { ...spec, kernel: kernel.name, relaxedDot: kernel.relaxedDot, kernelFallbacks: kernel.fallbacks });
}
