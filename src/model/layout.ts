// The packed encoder layouts of docs/model-format.md: latents in tiles of 4, int8 inputs in
// steps of 16. The quantizer writes them, the runtime places them, the kernels read them.

/** Latents per encoder tile (both layouts). */
export const LATENT_TILE = 4;
/** Inputs per int8 step: one 16-byte SIMD load per latent. */
export const I8_K_STEP = 16;

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/** Where weight (input i, latent j) sits in the packed int8 encoder [tile][step][4][16]. */
export function packedOffset(i: number, j: number, steps: number): number {
  return (((j >> 2) * steps + (i >> 4)) * LATENT_TILE + (j & 3)) * I8_K_STEP + (i & 15);
}
