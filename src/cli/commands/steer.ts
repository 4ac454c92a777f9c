// `sae-edge steer`: encode, edit latents (zero, set, scale, add, clamp), decode.
import type { Command } from "commander";
import { fail } from "../../base/errors.js";
import type { KernelName } from "../../runtime/index.js";
import { steer, type LatentEdit } from "../../runtime/index.js";
import { serializeNpy } from "../../format/npy.js";
import { checkOutput, readInput, writeFileAtomic } from "../io.js";
import { INPUT_HELP, batches, kernelOption, open, usage } from "../shared.js";

const collect = (v: string, all: string[]) => [...all, v];

function parse(op: LatentEdit["op"], spec: string): LatentEdit {
  const m = /^(\d+)(?:=(.+))?$/.exec(spec);
  const latent = m ? Number(m[1]) : NaN;
  const num = (s: string | undefined) => {
    const n = s === undefined || s.trim() === "" ? NaN : Number(s);
    if (!Number.isFinite(n)) fail("INVALID_ARGUMENT", `--${op} ${spec}: expected ${op === "clamp" ? "LATENT=MIN:MAX" : "LATENT=VALUE"}`);
    return n;
  };
  if (!m) fail("INVALID_ARGUMENT", `--${op} ${spec}: expected a latent index${op === "zero" ? "" : "=..."}`);
  if (op === "zero") {
    if (m[2] !== undefined) fail("INVALID_ARGUMENT", `--zero ${spec}: expected just a latent index`);
    return { latent, op };
  }
  if (op === "clamp") {
    const [lo, hi] = (m[2] ?? "").split(":");
    return { latent, op, min: num(lo), max: num(hi) };
  }
  return { latent, op, value: num(m[2]) };
}

interface SteerCli {
  output: string;
  set: string[];
  scale: string[];
  add: string[];
  clamp: string[];
  zero: string[];
  errorTerm: boolean;
  kernel?: KernelName;
}

export function registerSteer(program: Command): void {
  program
    .command("steer")
    .description("edit latents and decode: output = x + (SAE_edited(x) − SAE(x)) (the error term; --no-error-term for SAE_edited(x)); edits apply in the order --set, --scale, --add, --clamp, --zero")
    .argument("<model>", "sae-edge model file")
    .argument("<input>", INPUT_HELP)
    .requiredOption("-o, --output <file>", "steered rows, float32 .npy [n, d_in]")
    .option("--set <latent=value>", "set a latent (repeatable)", collect, [])
    .option("--scale <latent=factor>", "multiply a latent", collect, [])
    .option("--add <latent=value>", "add to a latent (steering by value × its decoder row)", collect, [])
    .option("--clamp <latent=min:max>", "clamp a latent", collect, [])
    .option("--zero <latent>", "ablate a latent", collect, [])
    .option("--no-error-term", "output the edited reconstruction only")
    .addOption(kernelOption())
    .action(async (model: string, input: string, o: SteerCli, cmd: Command) => {
      const edits = [
        ...o.set.map((s) => parse("set", s)),
        ...o.scale.map((s) => parse("scale", s)),
        ...o.add.map((s) => parse("add", s)),
        ...o.clamp.map((s) => parse("clamp", s)),
        ...o.zero.map((s) => parse("zero", s)),
      ];
      await checkOutput(o.output, "output", [model, input]);
      const sae = await open(model, o.kernel, cmd);
      const { rows, data } = await readInput(input, sae.info.dIn, usage(cmd));
      const { dIn, dOut } = sae.info;
      const out = new Float32Array(rows * dOut);
      batches(rows, "steer", (r0, r1) => out.set(steer(sae, data.subarray(r0 * dIn, r1 * dIn), edits, { errorTerm: o.errorTerm }), r0 * dOut));
      await writeFileAtomic(o.output, serializeNpy(out, [rows, dOut]));
    });
}
