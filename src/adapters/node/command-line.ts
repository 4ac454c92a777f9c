// The command line of a device script (the edge examples', or a user's own): strict options
// (node:util parseArgs), --help, and every mistake in the input (an option, a value, a file, a
// model) as one line on stderr and exit code 2, wherever it is thrown; a source that cannot be
// read or a bug in sae-edge, one line and exit 1. Any other error is a bug in the script and
// keeps its stack trace.
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { isCallerError, type SaeErrorCode } from "../../base/errors.js";

/** A mistake in what the user gave a script: after {@link commandLine}, throwing one ends the process with its message and exit code 2. */
export class InputError extends Error {
  override name = "InputError";
}

/** One option of a script: a string or a flag, with its --help line. */
export interface ScriptOption {
  type: "string" | "boolean";
  default?: string | boolean;
  help: string;
  /** The value's name in --help (default "value"). */
  arg?: string;
}

// File system errors about a path the user gave: missing, unreadable, a folder, …
const FILE_ERRORS = new Set(["ENOENT", "EACCES", "EPERM", "EISDIR", "ENOTDIR", "EEXIST", "ENAMETOOLONG", "ELOOP"]);
const fileCode = (e: unknown): string | undefined => (e as { code?: unknown })?.code as string | undefined;
// By name, not instanceof: each sae-edge entry point (sae-edge/node, sae-edge/train, …) bundles its own copy of the class.
const saeCode = (e: unknown): SaeErrorCode | undefined => ((e as Error)?.name === "SaeEdgeError" ? (fileCode(e) as SaeErrorCode) : undefined);
const isInputError = (e: unknown): boolean => {
  const code = saeCode(e);
  return e instanceof InputError || (code !== undefined && isCallerError(code)) || (code === undefined && FILE_ERRORS.has(fileCode(e) ?? ""));
};

const scriptName = (): string => basename(process.argv[1] ?? "script");

/** Ends the process: `message` as one line on stderr (after the script's name), exit code 2. */
export function exitWithInputError(message: string): never {
  process.stderr.write(`${scriptName()}: ${String(message).replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(2);
}

/**
 * Parses process.argv and, from now on, ends the process on an {@link InputError}, a caller's
 * SaeEdgeError or a file error thrown anywhere (top-level await included) with one line
 * and exit code 2. `about`: the lines --help prints above the options. Returns the values with
 * readers that check them.
 */
export function commandLine(about: string, options: Record<string, ScriptOption>): ScriptOptions {
  process.on("uncaughtException", (e: unknown) => {
    if (isInputError(e)) {
      // A file error reads "ENOENT: no such file or directory, open 'x'": say it as "x: no such …".
      const f = e as { path?: string; code?: string; message: string };
      exitWithInputError(f.path && f.code ? `${f.path}: ${f.message.replace(/^\w+: /, "").replace(/, \w+ '.*'$/, "")}` : f.message);
    }
    const code = saeCode(e);
    process.stderr.write(code ? `${scriptName()}: ${(e as Error).message} [${code}]\n` : `${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  });
  const spec: Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean }> = { help: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(options)) spec[name] = { type: o.type, ...(o.default !== undefined && { default: o.default }) };
  let values: Record<string, string | boolean | undefined> = {};
  try {
    ({ values } = parseArgs({ options: spec, strict: true, allowPositionals: false }) as { values: Record<string, string | boolean | undefined> });
  } catch (e) {
    const unknown = /Unknown option '([^']+)'/.exec((e as Error).message)?.[1];
    exitWithInputError(`${unknown ? `unknown option ${unknown}` : (e as Error).message} (see --help)`);
  }
  if (values.help) {
    process.stdout.write(usage(about, options));
    process.exit(0);
  }
  return new ScriptOptions(values);
}

function usage(about: string, options: Record<string, ScriptOption>): string {
  const rows = Object.entries(options).map(([name, o]) => [`--${name}${o.type === "string" ? ` <${o.arg ?? "value"}>` : ""}`, o.help + (o.default !== undefined ? ` (default ${o.default})` : "")]);
  rows.push(["--help", "this text"]);
  const w = Math.max(...rows.map(([l]) => l.length));
  return `usage: node ${scriptName()} [options]\n${about}\n\n${rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`).join("\n")}\n`;
}

const shown = (raw: string): string => (raw.trim() === "" ? "an empty value" : raw);

/** The parsed values; the readers throw {@link InputError} naming the option. */
export class ScriptOptions {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;

  constructor(values: Record<string, string | boolean | undefined>) {
    this.values = values;
  }

  #raw(name: string): string {
    return String(this.values[name] ?? "");
  }

  /** An integer ≥ min. */
  int(name: string, min = 1): number {
    const raw = this.#raw(name), v = Number(raw);
    if (raw.trim() === "" || !Number.isInteger(v) || v < min) throw new InputError(`--${name} must be an integer ≥ ${min}, got ${shown(raw)}`);
    return v;
  }

  /** A finite number in (above, below). */
  number(name: string, above = -Infinity, below = Infinity): number {
    const raw = this.#raw(name), v = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(v) || v <= above || v >= below) {
      const range = [above > -Infinity && `> ${above}`, below < Infinity && `< ${below}`].filter(Boolean).join(" and ");
      throw new InputError(`--${name} must be a number${range ? ` ${range}` : ""}, got ${shown(raw)}`);
    }
    return v;
  }

  /** A rate in [0, 1). */
  rate(name: string): number {
    const raw = this.#raw(name), v = Number(raw);
    if (raw.trim() === "" || !(v >= 0 && v < 1)) throw new InputError(`--${name} must be a number ≥ 0 and < 1, got ${shown(raw)}`);
    return v;
  }

  /** One of `choices`, or undefined when the option was not given and has no default. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const v = this.values[name];
    if (v !== undefined && !choices.includes(v as T)) throw new InputError(`--${name} must be one of ${choices.join(", ")}, got ${v}`);
    return v as T | undefined;
  }
}
