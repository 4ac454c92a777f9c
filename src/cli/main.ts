// The sae-edge command line, one file per command in commands/. stdout carries only data;
// messages, progress and errors go to stderr. Every error is one line: exit 2 when it is the
// caller's mistake, 1 when it is not (an unavailable source, a bug in sae-edge).
import { Command, CommanderError } from "commander";
import { SaeEdgeError, isCallerError } from "../base/errors.js";
import { VERSION } from "../base/version.js";
import { registerQuantize } from "./commands/quantize.js";
import { registerInspect } from "./commands/inspect.js";
import { registerEncode } from "./commands/encode.js";
import { registerReconstruct } from "./commands/reconstruct.js";
import { registerFidelity } from "./commands/fidelity.js";
import { registerTrain } from "./commands/train.js";
import { registerScreen } from "./commands/screen.js";
import { registerSteer } from "./commands/steer.js";
import { registerScore } from "./commands/score.js";
import { registerCalibrate } from "./commands/calibrate.js";
import { registerEval } from "./commands/eval.js";
import { registerDemo } from "./commands/demo.js";

const oneLine = (s: string) => s.trim().replace(/\s*\n\s*/g, " ");

const program = new Command("sae-edge")
  .description("Sparse autoencoders in WebAssembly SIMD: quantize, inspect, encode, reconstruct and score.")
  .version(VERSION)
  .exitOverride()
  .configureOutput({ outputError: (msg, write) => write(`sae-edge: ${oneLine(msg).replace(/^error: /, "")} (see --help)\n`) });

for (const register of [
  registerQuantize, registerInspect, registerEncode, registerReconstruct, registerFidelity, registerTrain,
  registerScreen, registerSteer, registerScore, registerCalibrate, registerEval, registerDemo,
]) register(program);

/** The error's one line on stderr; the exit code. */
function report(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  if (e instanceof SaeEdgeError) {
    process.stderr.write(`sae-edge: ${oneLine(e.message)} [${e.code}]\n`);
    return isCallerError(e.code) ? 2 : 1;
  }
  // Not a typed error: a bug. The stack only on request, so the user sees one line.
  if (process.env.SAE_EDGE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
  process.stderr.write(`sae-edge: internal error: ${oneLine(String((e as Error)?.message ?? e))} (please report it; SAE_EDGE_DEBUG=1 shows where) [INTERNAL]\n`);
  return 1;
}

// A reader that goes away (`sae-edge encode … | head -1`) ends the output quietly, as for any
// Unix tool; any other failure to write stdout is one line, exit 1.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  process.exit(report(new SaeEdgeError("SOURCE_UNAVAILABLE", `cannot write stdout: ${e.code ?? e.message}`)));
});

export async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    return report(e);
  }
}

process.exitCode = await main(process.argv);
