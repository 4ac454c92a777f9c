// The sae-edge command line. stdout carries only data; messages, progress and
// errors go to stderr. Bad input of any kind: one line on stderr, exit code 2.
import { Command, CommanderError, Option } from "commander";
import { SaeEdgeError, fail } from "../base/errors.js";
import { selectKernel, type KernelName } from "../runtime/index.js";
import { buildModel, buildModelStreamed, serializeModel, serializeModelParts } from "../model/quantize.js";
import { IMPORTERS, importCheckpoint, openCheckpoint } from "../importers/index.js";
import { progress } from "./progress.js";
import { checkpointFolder, fileSource, loadSae, nodeBuilds } from "../adapters/node/index.js";
import { fidelityReport } from "../metrics/fidelity.js";
import { serializeNpy } from "../format/npy.js";
import { readModelHeader } from "../runtime/index.js";
import { f32Text } from "./f32-text.js";
import { readInput, writeBytes } from "./io.js";
import { runDemo } from "./demo.js";
import { runMnistJob } from "../demo/mnist-job.js";
import { intOption } from "./options.js";
import { registerTrain } from "./commands/train.js";
import { registerAnomaly } from "./commands/anomaly.js";
import { registerSteer } from "./commands/steer.js";
import { registerScreen } from "./commands/screen.js";
import { batches, kernelOption, open, textSink } from "./shared.js";

const program = new Command("sae-edge")
  .description("Sparse autoencoders in WebAssembly SIMD: quantize, inspect, encode, reconstruct and score.")
  .version("0.1.0")
  .exitOverride()
  .configureOutput({ outputError: (msg, write) => write(`sae-edge: ${msg.trim().replace(/^error: /, "")} (see --help)\n`) });

program
  .command("quantize")
  .description("quantize a checkpoint folder (SAELens cfg.json + sae_weights.safetensors) into an sae-edge model")
  .argument("<checkpoint>", "checkpoint folder")
  .requiredOption("-o, --output <file>", "model file to write (.safetensors)")
  .addOption(new Option("--bits <n>", "8: int8 weights; 32: exact f32 weights").choices(["8", "32"]).default("8"))
  .addOption(new Option("--from <family>", "checkpoint family (default: detect)").choices(IMPORTERS.map((i) => i.family)))
  .option("--hookpoint <name>", "in a multi-layer folder (sparsify), the hookpoint subfolder, e.g. layers.6")
  .action(async (checkpoint: string, opts: { output: string; bits: string; from?: string; hookpoint?: string }) => {
    const files = await checkpointFolder(checkpoint, opts.hookpoint);
    try {
      // The checkpoint's matrices stream from disk one at a time (a 1.2 GB Gemma Scope 65k fits in 1.5 GB).
      const opened = await openCheckpoint(files, opts.from);
      const { W_enc, W_dec } = opened.weights;
      const bar = progress("quantize", W_enc.length + W_dec.length);
      const model = await buildModelStreamed(opened.weights, opts.bits === "8" ? "int8" : "f32", {
        ...opened.provenance,
        created_by: "sae-edge 0.1.0",
        created_at: new Date().toISOString(),
      }, (n) => bar.advance(n));
      bar.stop();
      const parts = serializeModelParts(model);
      await writeBytes(opts.output, parts);
      const { spec } = model;
      process.stderr.write(
        `wrote ${opts.output}: ${spec.architecture} d_in=${spec.dIn} d_sae=${spec.dSae}${spec.k ? ` k=${spec.k}` : ""} ${spec.quantization}, ${parts.reduce((n, p) => n + p.length, 0)} bytes (from ${opened.family})\n`,
      );
    } finally {
      await files.close?.();
    }
  });

program
  .command("inspect")
  .description("print a model's metadata and tensors")
  .argument("<model>", "sae-edge model file")
  .option("--json", "machine-readable output")
  .addOption(kernelOption())
  .action(async (model: string, opts: { json?: boolean; kernel?: KernelName }) => {
    const kernel = (await selectKernel(nodeBuilds, opts.kernel)).name;
    const src = await fileSource(model);
    try {
      const { header, spec } = await readModelHeader(src);
      const tensors = header.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin }));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ file: model, bytes: src.size, ...spec, kernel, metadata: header.metadata, tensors }) + "\n");
        return;
      }
      const lines = [
        `file           ${model} (${src.size} bytes)`,
        `architecture   ${spec.architecture}${spec.k ? ` (k=${spec.k})` : ""}`,
        `d_in × d_sae   ${spec.dIn} × ${spec.dSae}`,
        `quantization   ${spec.quantization}`,
        `b_dec on input ${spec.applyBDecToInput}`,
        `normalization  ${spec.normalization}`,
        `provenance     ${JSON.stringify(spec.provenance)}`,
        `kernel         ${kernel} (the build this engine runs)`,
        `tensors`,
        ...tensors.map((t) => `  ${t.name.padEnd(14)} ${t.dtype.padEnd(4)} [${t.shape.join(", ")}]  ${t.bytes} bytes`),
      ];
      process.stdout.write(lines.join("\n") + "\n");
    } finally {
      await src.close?.();
    }
  });

program
  .command("encode")
  .description("sparse codes of each input row as JSON Lines {indices, values} (values descending, ties by lower index), or dense latents with --dense")
  .argument("<model>", "sae-edge model file")
  .argument("<input>", "input .npy (float32/float64, [n, d_in] or [d_in])")
  .option("-o, --output <file>", "output file (default: stdout; required with --dense)")
  .option("--dense", "write dense activated latents [n, d_sae] as float32 .npy")
  .addOption(kernelOption())
  .action(async (model: string, input: string, opts: { output?: string; dense?: boolean; kernel?: KernelName }) => {
    if (opts.dense && !opts.output) fail("INVALID_ARGUMENT", "--dense writes a .npy file: give it with -o");
    const sae = await open(model, opts.kernel);
    const { rows, data } = await readInput(input, sae.info.dIn);
    const { dIn, dSae } = sae.info;
    if (opts.dense) {
      const out = new Float32Array(rows * dSae);
      batches(rows, "encode", (r0, r1) => out.set(sae.encodeDense(data.subarray(r0 * dIn, r1 * dIn)), r0 * dSae));
      await writeBytes(opts.output!, serializeNpy(out, [rows, dSae]));
      return;
    }
    // Every row is encoded before anything is written, so an error leaves no partial output.
    const lines: string[] = [];
    batches(rows, "encode", (r0, r1) => {
      const c = sae.encode(data.subarray(r0 * dIn, r1 * dIn));
      let text = "";
      for (let r = 0; r < r1 - r0; r++) {
        const a = c.rowOffsets[r], b = c.rowOffsets[r + 1];
        const idx = Array.from(c.indices.subarray(a, b)).join(",");
        const val = Array.from(c.values.subarray(a, b), f32Text).join(",");
        text += `{"indices":[${idx}],"values":[${val}]}\n`;
      }
      lines.push(text);
    });
    const sink = await textSink(opts.output);
    for (const text of lines) await sink.write(text);
    await sink.close();
  });

program
  .command("reconstruct")
  .description("reconstruct each input row through the SAE (encode then decode)")
  .argument("<model>", "sae-edge model file")
  .argument("<input>", "input .npy (float32/float64, [n, d_in] or [d_in])")
  .requiredOption("-o, --output <file>", "reconstructions as float32 .npy [n, d_in]")
  .addOption(kernelOption())
  .action(async (model: string, input: string, opts: { output: string; kernel?: KernelName }) => {
    const sae = await open(model, opts.kernel);
    const { rows, data } = await readInput(input, sae.info.dIn);
    const { dIn, dOut } = sae.info;
    const out = new Float32Array(rows * dOut);
    batches(rows, "reconstruct", (r0, r1) => out.set(sae.forward(data.subarray(r0 * dIn, r1 * dIn)).reconstruction, r0 * dOut));
    await writeBytes(opts.output, serializeNpy(out, [rows, dOut]));
  });

program
  .command("fidelity")
  .description("how close the int8 model is to the exact f32 path: active-set recall, code error, FVU and explained variance of each, L0")
  .argument("<checkpoint>", "checkpoint folder (as for quantize)")
  .argument("<activations>", "rows .npy (float32/float64, [n, d_in])")
  .option("--model <file>", "the int8 model to check (default: quantize the checkpoint now)")
  .addOption(new Option("--from <family>", "checkpoint family (default: detect)").choices(IMPORTERS.map((i) => i.family)))
  .option("--hookpoint <name>", "in a multi-layer folder (sparsify), the hookpoint subfolder")
  .option("--json", "machine-readable output")
  .addOption(kernelOption())
  .action(async (checkpoint: string, activations: string, o: { model?: string; from?: string; hookpoint?: string; json?: boolean; kernel?: KernelName }) => {
    const imported = await importCheckpoint(await checkpointFolder(checkpoint, o.hookpoint), o.from);
    const exact = await loadSae(serializeModel(buildModel(imported.weights, "f32", imported.provenance)), { kernel: o.kernel });
    const quantized = await loadSae(o.model ?? serializeModel(buildModel(imported.weights, "int8", imported.provenance)), { kernel: o.kernel });
    for (const key of ["dIn", "dSae", "architecture", "k"] as const) {
      if (quantized.info[key] !== exact.info[key]) fail("INPUT_SHAPE", `--model has ${key}=${quantized.info[key]}, the checkpoint ${exact.info[key]}`);
    }
    const { data } = await readInput(activations, exact.info.dIn);
    if (exact.info.dOut !== exact.info.dIn) fail("MODEL_UNSUPPORTED", "fidelity compares reconstructions with their inputs; a transcoder needs its targets");
    const r = fidelityReport(exact, quantized, data);
    if (o.json) {
      process.stdout.write(JSON.stringify({ family: imported.family, architecture: exact.info.architecture, kernel: quantized.info.kernel, ...r }) + "\n");
      return;
    }
    const row = (name: string, m: typeof r.f32) =>
      `${name.padEnd(6)} ${m.fvu.toFixed(5).padStart(9)} ${m.explainedVariance.toFixed(5).padStart(9)} ${m.explainedVarianceLegacy.toFixed(5).padStart(9)} ${m.l0.toFixed(2).padStart(7)}`;
    process.stdout.write(
      [
        `${imported.family} ${exact.info.architecture} ${exact.info.dIn}→${exact.info.dSae} on ${r.rows} rows (int8 kernel ${quantized.info.kernel})`,
        `active-set recall ${r.activeSetRecall.toFixed(4)}, precision ${r.activeSetPrecision.toFixed(4)}, relative code error ${r.relativeCodeError.toExponential(3)}`,
        `model        FVU        EV  EV(legacy)    L0`,
        row("f32", r.f32),
        row("int8", r.int8),
        `FVU increase ${(100 * r.fvuIncrease).toFixed(3)}% (relative)`,
      ].join("\n") + "\n",
    );
  });

registerTrain(program);
registerScreen(program);
registerSteer(program);
registerAnomaly(program);

program
  .command("demo")
  .description("the main job (npm start): the default MNIST SAE's speed and fidelity, the one-class anomaly benchmark, pictures")
  .option("--out <dir>", "folder for the pictures", "sae-edge-out")
  .option("--epochs <n>", "epochs for each one-class model", intOption("epochs", 1, 10000))
  .option("--planted", "run the planted-dictionary check instead (int8 vs f32 atom recovery)")
  .addOption(kernelOption())
  .action(async (opts: { out: string; epochs?: number; planted?: boolean; kernel?: KernelName }) =>
    opts.planted ? runDemo(opts.kernel) : runMnistJob({ kernel: opts.kernel, outDir: opts.out, epochs: opts.epochs }),
  );

export async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof SaeEdgeError) {
      process.stderr.write(`sae-edge: ${e.message} [${e.code}]\n`);
      return 2;
    }
    process.stderr.write(`sae-edge: internal error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
