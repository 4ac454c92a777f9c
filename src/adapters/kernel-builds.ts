// The three kernel builds from what the caller gives (options.wasm) or else the adapter's
// defaults (the .wasm files beside the adapter's module). Locations are read lazily, once per
// process: a build that kernel selection never reaches is never downloaded or compiled.
import { KERNELS, type KernelName, type WasmBuilds, type WasmBytes, type WasmInput } from "../runtime/index.js";
import { fail } from "../base/errors.js";
import { keepTurning } from "../base/keep-turning.js";
import { fetchBytes } from "./model-source.js";

/** A kernel build: a compiled module, bytes, a loader of either, or where to get it (a URL, or a path where there is a file system). */
export type WasmSource = WasmInput | URL | string;

/** Kernel builds by name, for the `wasm` load option; each one left out comes from the default place. */
export type KernelSources = Partial<Record<KernelName, WasmSource>>;

/** Reads a kernel build from a location; the default fetches it. */
export type ReadLocation = (location: URL | string) => Promise<Uint8Array>;

const fetchBuild: ReadLocation = (location) => fetchBytes(location, "kernel build");
const compiled = new Map<string, Promise<WebAssembly.Module | Uint8Array>>();

/** The builds: each from `sources` when given, else from `defaults`. */
export function kernelBuilds(sources: KernelSources, defaults: Record<KernelName, () => URL | string>, read: ReadLocation = fetchBuild): WasmBuilds {
  const out = {} as WasmBuilds;
  for (const name of KERNELS) {
    const s = sources[name];
    out[name] = s === undefined ? lazy(defaults[name], read) : typeof s === "string" || s instanceof URL ? lazy(() => s, read) : s;
  }
  return out;
}

function lazy(location: () => URL | string, read: ReadLocation): WasmInput {
  return () => {
    const where = location();
    const key = String(where);
    let build = compiled.get(key);
    if (!build) {
      // Invalid bytes go on to kernel selection, which reports the build as unsupported.
      build = read(where).then((b) => (WebAssembly.validate(b as BufferSource) ? keepTurning(WebAssembly.compile(b as BufferSource)) : b));
      compiled.set(key, build);
      build.catch(() => compiled.delete(key)); // a failed read may be retried
    }
    return build;
  };
}

/** `sources` as plain data a pool can post to its workers (URLs as strings; loader functions cannot travel). */
export function portableBuilds(sources: KernelSources = {}): Partial<Record<KernelName, string | WebAssembly.Module | WasmBytes>> {
  const out: Partial<Record<KernelName, string | WebAssembly.Module | WasmBytes>> = {};
  for (const name of KERNELS) {
    const s = sources[name];
    if (s === undefined) continue;
    if (typeof s === "function") fail("INVALID_ARGUMENT", `wasm.${name}: a pool's workers need a URL, bytes or a compiled module, not a function`);
    out[name] = s instanceof URL ? s.href : s;
  }
  return out;
}
