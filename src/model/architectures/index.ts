// The architecture registry: each architecture is one file in this folder, registered once here
// (a duplicate name is refused). Importers map upstream configurations onto these names.
import { fail } from "../../base/errors.js";
import type { ArchitectureDef } from "./types.js";
import { standard } from "./standard.js";
import { topk } from "./topk.js";
import { jumprelu } from "./jumprelu.js";
import { gated } from "./gated.js";
import { groupmax } from "./groupmax.js";

export type { ArchitectureDef, KernelActivation, KernelSlots } from "./types.js";

const BUILTIN = [standard, topk, jumprelu, gated, groupmax] as const;

/** The architectures this version ships. */
export type Architecture = (typeof BUILTIN)[number]["name"];
export const ARCHITECTURES: readonly Architecture[] = BUILTIN.map((def) => def.name);

const registry = new Map<string, ArchitectureDef>();

/** Adds an architecture; its name must be new. */
export function registerArchitecture(def: ArchitectureDef): void {
  if (registry.has(def.name)) fail("INVALID_ARGUMENT", `architecture "${def.name}" is already registered`);
  registry.set(def.name, def);
}

for (const def of BUILTIN) registerArchitecture(def);

/** The registered definition of an architecture name (MODEL_UNSUPPORTED for an unknown one). */
export function architecture(name: string): ArchitectureDef {
  return registry.get(name) ?? fail("MODEL_UNSUPPORTED", `architecture "${name}" is not one of ${[...registry.keys()].join(", ")}`);
}

/** Every registered name. */
export function architectureNames(): string[] {
  return [...registry.keys()];
}
