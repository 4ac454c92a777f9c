// A checkpoint's JSON config file: an object, or one typed CHECKPOINT_INVALID line saying why not.
import { fail } from "../base/errors.js";

export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return fail("CHECKPOINT_INVALID", `${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) fail("CHECKPOINT_INVALID", `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}
