// Types for rows-alone.mjs (plain JavaScript so child processes can run it).
import type { Sae } from "../../src/runtime/sae.js";

/** The first difference between sae.encode(x[0..n)) and encoding each row alone, for each n, or null. */
export declare function rowsAloneMismatch(sae: Sae, x: Float32Array, dIn: number, batches: readonly number[]): string | null;
