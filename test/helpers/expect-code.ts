// The one way the tests expect an error: a SaeEdgeError with a code from the closed list
// (never a raw WebAssembly.RuntimeError or TypeError), returned for more checks.
import { expect } from "vitest";
import { SaeEdgeError, type SaeErrorCode } from "../../src/base/errors.js";

function expectSaeError(thrown: unknown, code: SaeErrorCode, ctx: string): SaeEdgeError {
  const where = ctx ? `${ctx}: ` : "";
  expect(thrown, `${where}${String(thrown)}`).toBeInstanceOf(SaeEdgeError);
  expect((thrown as SaeEdgeError).code, `${where}${(thrown as Error).message}`).toBe(code);
  return thrown as SaeEdgeError;
}

/** Runs fn, expects it to throw a SaeEdgeError with this code, and returns it. */
export function expectCode(fn: () => unknown, code: SaeErrorCode, ctx = ""): SaeEdgeError {
  try {
    fn();
  } catch (e) {
    return expectSaeError(e, code, ctx);
  }
  throw new Error(`${ctx ? `${ctx}: ` : ""}expected SaeEdgeError ${code}, nothing was thrown`);
}

/** Awaits p, expects it to reject with a SaeEdgeError with this code, and returns the error. */
export async function expectCodeAsync(p: Promise<unknown>, code: SaeErrorCode, ctx = ""): Promise<SaeEdgeError> {
  try {
    await p;
  } catch (e) {
    return expectSaeError(e, code, ctx);
  }
  throw new Error(`${ctx ? `${ctx}: ` : ""}expected SaeEdgeError ${code}, the promise resolved`);
}
