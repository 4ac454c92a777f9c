// Rare-latent surprise: −Σ log p(latent fires) over a row's active latents, with p counted on
// normal rows. Add-one smoothing keeps a latent never seen on normal data finite (and the rarest).
import { fail } from "../base/errors.js";
import type { SparseCodes } from "../runtime/index.js";

/** `density[j]`: fraction of `rows` normal rows on which latent j fired (a calibration's density). */
export function latentSurprise(codes: SparseCodes, density: ArrayLike<number>, rows: number): Float64Array {
  if (density.length !== codes.dSae) fail("INPUT_SHAPE", `density has ${density.length} latents, the codes ${codes.dSae}`);
  if (!(Number.isSafeInteger(rows) && rows >= 1)) fail("INVALID_ARGUMENT", `rows must be a positive integer, got ${rows}`);
  const cost = Float64Array.from({ length: codes.dSae }, (_, j) => -Math.log((Math.round(density[j] * rows) + 1) / (rows + 2)));
  const out = new Float64Array(codes.rows);
  for (let r = 0; r < codes.rows; r++) for (let e = codes.rowOffsets[r]; e < codes.rowOffsets[r + 1]; e++) out[r] += cost[codes.indices[e]];
  return out;
}
