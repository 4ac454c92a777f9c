// The command line of an example script, in one small file so that the folder runs on its
// own when copied out: strict options (node:util parseArgs), --help, and every mistake in
// the input (an option, a value, a file, a model) as one line on stderr and exit code 2,
// wherever it is thrown; a source that cannot be read or a bug in sae-edge, one line and exit 1.
// Any other error is a bug in the script and keeps its stack trace.
import { basename } from "node:path";
import { parseArgs } from "node:util";

/** A mistake in what the user gave the script. */
export class InputError extends Error {}

// File system errors about a path the user gave: missing, unreadable, a folder, …
const FILE_ERRORS = new Set(["ENOENT", "EACCES", "EPERM", "EISDIR", "ENOTDIR", "EEXIST", "ENAMETOOLONG", "ELOOP"]);
// By name, so that scripts that do not load sae-edge need not import it for this. Its codes for
// what is not the caller's doing (sae-edge's isCallerError) end with one line too, but exit 1.
const NOT_THE_CALLERS = new Set(["SOURCE_UNAVAILABLE", "INTERNAL"]);
const isSaeError = (e) => e?.name === "SaeEdgeError";
const isInputError = (e) => e instanceof InputError || (isSaeError(e) && !NOT_THE_CALLERS.has(e.code)) || FILE_ERRORS.has(e?.code);

const script = basename(process.argv[1] ?? "script");

/** Ends the process: `message` as one line on stderr, exit code 2. */
export function fail(message) {
  process.stderr.write(`${script}: ${String(message).replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(2);
}

/**
 * Parses process.argv, and from now on ends the process on an InputError, a SaeEdgeError or a
 * file error thrown anywhere (top-level await included) with one line. `options`: { name: { type: "string" | "boolean", default?, help, arg? } };
 * `about`: the lines --help prints above the options. Returns the values with checked readers.
 */
export function commandLine(about, options) {
  process.on("uncaughtException", (e) => {
    // A file error reads "ENOENT: no such file or directory, open 'x'": say it as "x: no such …".
    if (isInputError(e)) fail(e.path && e.code ? `${e.path}: ${e.message.replace(/^\w+: /, "").replace(/, \w+ '.*'$/, "")}` : e.message);
    process.stderr.write(isSaeError(e) ? `${script}: ${e.message} [${e.code}]\n` : `${e?.stack ?? e}\n`);
    process.exit(1);
  });
  const spec = { help: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(options)) spec[name] = { type: o.type, ...(o.default !== undefined && { default: o.default }) };
  let values;
  try {
    ({ values } = parseArgs({ options: spec, strict: true, allowPositionals: false }));
  } catch (e) {
    const unknown = /Unknown option '([^']+)'/.exec(e.message)?.[1];
    fail(`${unknown ? `unknown option ${unknown}` : e.message} (see --help)`);
  }
  if (values.help) {
    process.stdout.write(usage(about, options));
    process.exit(0);
  }
  return new Options(values);
}

function usage(about, options) {
  const rows = Object.entries(options).map(([name, o]) => [`--${name}${o.type === "string" ? ` <${o.arg ?? "value"}>` : ""}`, o.help + (o.default !== undefined ? ` (default ${o.default})` : "")]);
  rows.push(["--help", "this text"]);
  const w = Math.max(...rows.map(([l]) => l.length));
  return `usage: node ${script} [options]\n${about}\n\n${rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`).join("\n")}\n`;
}

const shown = (raw) => (raw.trim() === "" ? "an empty value" : raw);

/** The parsed values; the readers throw InputError naming the option. */
class Options {
  constructor(values) {
    this.values = values;
  }

  int(name, min = 1) {
    const raw = this.values[name], v = Number(raw);
    if (raw.trim() === "" || !Number.isInteger(v) || v < min) throw new InputError(`--${name} must be an integer ≥ ${min}, got ${shown(raw)}`);
    return v;
  }

  /** A finite number in (above, below). */
  number(name, above = -Infinity, below = Infinity) {
    const raw = this.values[name], v = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(v) || v <= above || v >= below) {
      const range = [above > -Infinity && `> ${above}`, below < Infinity && `< ${below}`].filter(Boolean).join(" and ");
      throw new InputError(`--${name} must be a number${range ? ` ${range}` : ""}, got ${shown(raw)}`);
    }
    return v;
  }

  /** A rate in [0, 1). */
  rate(name) {
    const raw = this.values[name], v = Number(raw);
    if (raw.trim() === "" || !(v >= 0 && v < 1)) throw new InputError(`--${name} must be a number ≥ 0 and < 1, got ${shown(raw)}`);
    return v;
  }

  choice(name, choices) {
    const v = this.values[name];
    if (v !== undefined && !choices.includes(v)) throw new InputError(`--${name} must be one of ${choices.join(", ")}, got ${v}`);
    return v;
  }
}
