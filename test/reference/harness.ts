// Assertion helpers shared by the reference tests: every failure names the
// context (seed, shape, kernel, ...) and the first few offending elements.
import type { Bounded } from "./sae.js";

export class ReferenceMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReferenceMismatch";
  }
}

export function mismatch(ctx: string, what: string, details: string[]): never {
  throw new ReferenceMismatch(`${what} [${ctx}]\n  ${details.slice(0, 8).join("\n  ")}${details.length > 8 ? `\n  ... ${details.length - 8} more` : ""}`);
}

export function check(cond: boolean, ctx: string, what: string, detail = ""): void {
  if (!cond) mismatch(ctx, what, detail ? [detail] : []);
}

/** |got - want.v| <= want.tol elementwise; `width` labels elements as [row, col]. */
export function expectWithin(got: ArrayLike<number>, want: Bounded, ctx: string, what: string, width = 0): void {
  const details: string[] = [];
  if (got.length !== want.v.length) mismatch(ctx, what, [`length ${got.length}, expected ${want.v.length}`]);
  for (let i = 0; i < want.v.length; i++) {
    const err = Math.abs(got[i] - want.v[i]);
    if (!(err <= want.tol[i])) {
      const where = width ? `[${Math.floor(i / width)}, ${i % width}]` : `[${i}]`;
      details.push(`${where}: got ${got[i]}, reference ${want.v[i]}, |diff| ${err.toExponential(3)} > tol ${want.tol[i].toExponential(3)}`);
    }
  }
  if (details.length) mismatch(ctx, `${what}: ${details.length} of ${want.v.length} values outside tolerance`, details);
}

/** Byte-for-byte equality of two typed arrays. */
export function expectSameBits(a: ArrayBufferView & { length: number }, b: ArrayBufferView & { length: number }, ctx: string, what: string): void {
  if (a.length !== b.length || a.byteLength !== b.byteLength) mismatch(ctx, what, [`lengths ${a.length} vs ${b.length}`]);
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const bpe = a.byteLength / Math.max(1, a.length);
  const details: string[] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      const e = Math.floor(i / bpe);
      details.push(`element ${e}: ${(a as unknown as ArrayLike<number>)[e]} vs ${(b as unknown as ArrayLike<number>)[e]}`);
      i = (e + 1) * bpe - 1;
    }
  }
  if (details.length) mismatch(ctx, `${what}: ${details.length} elements differ bitwise`, details);
}

/** |a - b| <= rel * max(|a|, |b|) + abs elementwise. */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, abs: number, ctx: string, what: string): void {
  if (a.length !== b.length) mismatch(ctx, what, [`lengths ${a.length} vs ${b.length}`]);
  const details: string[] = [];
  for (let i = 0; i < a.length; i++) {
    const same = a[i] === b[i] || Math.abs(a[i] - b[i]) <= rel * Math.max(Math.abs(a[i]), Math.abs(b[i])) + abs;
    if (!same) details.push(`[${i}]: ${a[i]} vs ${b[i]}`);
  }
  if (details.length) mismatch(ctx, `${what}: ${details.length} of ${a.length} differ`, details);
}
