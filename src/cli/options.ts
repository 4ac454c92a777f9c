// Parsers for numeric CLI options: a bad value is a typed error (exit code 2).
import { fail } from "../base/errors.js";

export function intOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) fail("INVALID_ARGUMENT", `--${name} must be an integer in ${min}..${max}, got "${v}"`);
    return Number(v);
  };
}

export function numberOption(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min) fail("INVALID_ARGUMENT", `--${name} must be a number >= ${min}, got "${v}"`);
    return n;
  };
}
