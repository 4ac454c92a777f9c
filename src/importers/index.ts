// The importer registry: --from names to importers, and family detection.
import { fail } from "../core/errors.js";
import { saelens } from "./saelens.js";
import type { CheckpointFiles, ImportedSae, Importer } from "./types.js";

export const IMPORTERS: readonly Importer[] = [saelens];

export function importerFor(family: string): Importer {
  const imp = IMPORTERS.find((i) => i.family === family);
  if (!imp) fail("INVALID_ARGUMENT", `unknown checkpoint family "${family}" (known: ${IMPORTERS.map((i) => i.family).join(", ")})`);
  return imp;
}

export async function importCheckpoint(files: CheckpointFiles, family?: string): Promise<ImportedSae & { family: string }> {
  let imp: Importer | undefined = family ? importerFor(family) : undefined;
  if (!imp) {
    for (const candidate of IMPORTERS) {
      if (await candidate.detect(files)) {
        imp = candidate;
        break;
      }
    }
  }
  if (!imp) fail("CHECKPOINT_INVALID", `${files.location}: not a checkpoint sae-edge recognizes (families: ${IMPORTERS.map((i) => i.family).join(", ")})`);
  return { ...(await imp.load(files)), family: imp.family };
}

export type { CheckpointFiles, ImportedSae, Importer };
