// What every example script promises on bad input: exit code 2 and one line on stderr
// that names the problem, no stack trace.
import { expect } from "vitest";
import type { ChildResult } from "./child.js";

export function expectOneLineError(r: ChildResult, message: RegExp, what = ""): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines, what).toHaveLength(1);
  expect(lines[0], what).toMatch(message);
  expect(r.stderr, what).not.toMatch(/^\s+at /m);
}

/** --help: usage on stdout naming each option, exit code 0. */
export function expectHelp(r: ChildResult, options: string[]): void {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^usage: node \S+\.mjs \[options\]/);
  for (const o of options) expect(r.stdout).toContain(`--${o}`);
  expect(r.stderr).toBe("");
}
