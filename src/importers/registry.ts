// The importer registry: --from names to importers, and family detection.
import { fail } from "../base/errors.js";
import { materializeWeights, type SaeWeights } from "../model/quantize.js";
import { gemmascope } from "./gemmascope.js";
import { saelens } from "./saelens.js";
import { sparsify } from "./sparsify.js";
import { dictlearn } from "./dictlearn.js";
import { openai } from "./openai.js";
import { torchSae } from "./torch-sae.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";

// Detection tries these in order: the most specific layouts first.
export const IMPORTERS: readonly Importer[] = [saelens, sparsify, gemmascope, dictlearn, openai, torchSae];

export function importerFor(family: string): Importer {
  const imp = IMPORTERS.find((i) => i.family === family);
  if (!imp) fail("INVALID_ARGUMENT", `unknown checkpoint family "${family}" (known: ${IMPORTERS.map((i) => i.family).join(", ")})`);
  return imp;
}

/** Reads a checkpoint's config and small tensors; its big matrices stay on disk until loaded (quantize streams them). */
export async function openCheckpoint(files: CheckpointFiles, family?: string): Promise<ImportedSae & { family: string }> {
  let imp: Importer | undefined = family ? importerFor(family) : undefined;
  if (!imp) {
    for (const candidate of IMPORTERS) {
      if (await candidate.detect(files)) {
        imp = candidate;
        break;
      }
    }
  }
  if (!imp && files.hookpoints?.length) {
    fail("INVALID_ARGUMENT", `${files.location} holds one checkpoint per hookpoint: pick one with --hookpoint (${files.hookpoints.slice(0, 12).join(", ")}${files.hookpoints.length > 12 ? ", …" : ""})`);
  }
  if (!imp) fail("CHECKPOINT_INVALID", `${files.location}: not a checkpoint sae-edge recognizes (families: ${IMPORTERS.map((i) => i.family).join(", ")})`);
  return { ...(await imp.load(files)), family: imp.family };
}

/** A checkpoint with every tensor in memory; the folder's open files are closed afterwards. */
export async function importCheckpoint(files: CheckpointFiles, family?: string): Promise<{ weights: SaeWeights; provenance: Record<string, unknown>; family: string }> {
  try {
    const opened = await openCheckpoint(files, family);
    return { ...opened, weights: await materializeWeights(opened.weights) };
  } finally {
    await files.close?.();
  }
}

