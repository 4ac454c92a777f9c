import { expect } from "vitest";
import { SaeEdgeError, type SaeErrorCode } from "../../src/base/errors.js";

/** Runs fn, expects a SaeEdgeError with this code, and returns it. */
export function expectCode(fn: () => unknown, code: SaeErrorCode): SaeEdgeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SaeEdgeError);
    expect((e as SaeEdgeError).code).toBe(code);
    return e as SaeEdgeError;
  }
  throw new Error(`expected SaeEdgeError ${code}, nothing was thrown`);
}
