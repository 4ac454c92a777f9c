// The C gateway host: build/scalar.wasm turned into C by Debian's wabt wasm2c, built with
// gcc by the example's Makefile, loading model files and scoring through the numbers-only
// ABI. Its scores must equal the JS host's bit for bit (the same wasm semantics), for
// every architecture and quantization it supports, in both input modes, built for x86-64
// and, with Debian's cross compiler, for arm64 run under qemu-user.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findBinary } from "../helpers/find-binary.js";
import { calibrate, loadSae, nodeBuilds } from "../../src/adapters/node/index.js";
import { withCalibration } from "../../src/model/calibration-file.js";
import { buildModel, serializeModel } from "../../src/model/quantize.js";
import { matrixBatches, trainSae } from "../../src/train/index.js";
import { materialize, randomInput, randomWeights, REPO, vectorCases } from "../helpers/common.mjs";

const C_HOST = join(REPO, "edge-examples/iot-gateway/c-host");
const tmp = mkdtempSync(join(tmpdir(), "sae-edge-c-host-"));
const at = (name: string) => join(tmp, name);
const HOST = at("build/sae-score");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  findBinary("wasm2c", "wabt");
  findBinary("gcc", "gcc");
  findBinary("make", "make");
  const r = spawnSync("make", ["-C", C_HOST, `OUT=${at("build")}`, `WASM=${join(REPO, "build/scalar.wasm")}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building the C host failed:\n${r.stdout}\n${r.stderr}`);
}, 120_000);

/** Runs the C host (or another build of it, e.g. under qemu); stdout lines parsed as numbers (the score, and the flag if any). */
function host(args: string[], input?: string, exe: string[] = [HOST]) {
  const r = spawnSync(exe[0], [...exe.slice(1), ...args], { encoding: "utf8", input });
  const num = (s: string) => (s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s)); // printf's %g spelling
  const rows = r.stdout.trim() === "" ? [] : r.stdout.trim().split("\n").map((l) => l.split("\t").map(num));
  return { code: r.status, stderr: r.stderr, rows };
}

/** Writes a model and its input rows; returns the paths. */
function files(name: string, bytes: Uint8Array, x: Float32Array) {
  writeFileSync(at(`${name}.safetensors`), bytes);
  writeFileSync(at(`${name}.f32`), new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  return { model: at(`${name}.safetensors`), input: at(`${name}.f32`) };
}

async function expectSameScores(name: string, bytes: Uint8Array, x: Float32Array, exe?: string[]): Promise<void> {
  const { model, input } = files(name, bytes, x);
  for (const kernel of exe ? [undefined] : (["scalar", undefined] as const)) {
    const sae = await loadSae(bytes, { kernel });
    const js = sae.score(x);
    sae.dispose();
    for (const [mode, want] of [["raw", js.squared], ["norm", js.normalized]] as const) {
      const c = host([model, "--f32", input, "--mode", mode], undefined, exe);
      expect(c.code, `${name} ${mode}: ${c.stderr}`).toBe(0);
      // toEqual on numbers is Object.is: bit-identical, -0 and NaN included.
      expect(c.rows.map((r) => r[0]), `${name} ${mode} (JS kernel ${kernel ?? "default"})`).toEqual(Array.from(want));
    }
  }
}

describe("C gateway host (wasm2c + gcc)", () => {
  it("scores every test-vector model exactly as the JS host does", async () => {
    const cases = vectorCases().filter((c) => c.rows > 1); // the 1-row cases repeat the same models
    for (const c of cases) {
      const m = materialize(c, { buildModel, serializeModel });
      await expectSameScores(c.id.replaceAll("/", "_"), m.bytes, m.x);
    }
    expect(cases.length).toBeGreaterThan(40);
  });

  it("matches on groupmax, on input normalization (layer_norm, constant_norm_rescale) and on the bundled MNIST model", async () => {
    for (const quant of ["int8", "f32"] as const) {
      const w = { ...randomWeights({ architecture: "groupmax", dIn: 20, dSae: 48, seed: 30 }), k: 6 };
      await expectSameScores(`groupmax-${quant}`, serializeModel(buildModel(w, quant)), randomInput(50, 20, 30));
    }
    for (const [normalization, quant] of [["layer_norm", "int8"], ["constant_norm_rescale", "f32"]] as const) {
      const w = { ...randomWeights({ architecture: "topk", dIn: 24, dSae: 40, k: 6, seed: 31 }), normalization };
      await expectSameScores(`norm-${normalization}`, serializeModel(buildModel(w, quant)), randomInput(50, 24, 32));
    }
    const mnist = new Uint8Array(readFileSync(join(REPO, "models/mnist-topk-1024.safetensors")));
    await expectSameScores("mnist", mnist, randomInput(40, 784, 33));
  });

  it("flags with a gateway model's calibrated threshold, reading text lines from stdin", async () => {
    // A model as the gateway learns one: windows of 8 two-channel readings (d_in 16).
    const dIn = 16, rows = 400;
    const normal = new Float32Array(rows * dIn).map((_, i) => Math.sin(i / 7) + 0.1 * Math.cos(i * 1.3));
    const { trainer } = await trainSae(nodeBuilds, { dIn, epochs: 5, batches: matrixBatches(normal, dIn, 64, 0), options: { architecture: "topk", dSae: 32, k: 4, batchSize: 64 } });
    const plain = serializeModel(buildModel(trainer.weights(), "int8"));
    const sae = await loadSae(plain);
    const bytes = withCalibration(plain, calibrate(sae, normal, { fpr: 0.05 }));
    const x = randomInput(30, dIn, 34);
    x.set(normal.subarray(0, 10 * dIn)); // 10 normal rows, 20 unusual ones
    const js = sae.score(x).squared;
    const threshold = (await loadSae(bytes)).info.calibration!.threshold;
    const { model } = files("gateway", bytes, x);
    // Text in, as a gateway process would write it: String() of a float32 parses back to it.
    // Space-separated, comma-separated and JSON-array lines.
    const line = (r: number) => Array.from(x.subarray(r * dIn, (r + 1) * dIn), String);
    const lines = Array.from({ length: 30 }, (_, r) => (r % 3 === 0 ? line(r).join(" ") : r % 3 === 1 ? line(r).join(",") : JSON.stringify(line(r).map(Number)))).join("\n") + "\n";
    const c = host([model, "--threshold", "auto"], lines);
    expect(c.code, c.stderr).toBe(0);
    expect(c.rows.map((r) => r[0])).toEqual(Array.from(js));
    expect(c.rows.map((r) => r[1])).toEqual(Array.from(js, (s) => (s > threshold ? 1 : 0)));
    expect(c.rows.slice(10).some((r) => r[1] === 1)).toBe(true);
  });

  it("gives the same bits built for arm64 (a Pi-class gateway) and run under qemu-user on a cortex-a72", async () => {
    findBinary("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu");
    findBinary("qemu-aarch64-static", "qemu-user-static");
    if (!existsSync("/usr/aarch64-linux-gnu/include/stdio.h")) throw new Error("the arm64 C library headers are missing: apt-get install libc6-dev-arm64-cross");
    const out = at("build-arm64");
    const r = spawnSync("make", ["-C", C_HOST, "CC=aarch64-linux-gnu-gcc", `OUT=${out}`, `WASM=${join(REPO, "build/scalar.wasm")}`], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const arm = ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", "-cpu", "cortex-a72", join(out, "sae-score")];
    // A sample of the models (each run starts qemu): every architecture and both quantizations.
    for (const c of vectorCases().filter((c) => c.rows === 64).filter((_, i) => i % 3 === 0)) {
      const m = materialize(c, { buildModel, serializeModel });
      await expectSameScores(`arm64-${c.id.replaceAll("/", "_")}`, m.bytes, m.x, arm);
    }
    await expectSameScores("arm64-mnist", new Uint8Array(readFileSync(join(REPO, "models/mnist-topk-1024.safetensors"))), randomInput(40, 784, 33), arm);
  });

  it("refuses bad input and bad model files with exit code 2 and one line on stderr", async () => {
    const m = materialize(vectorCases()[5], { buildModel, serializeModel });
    const { model } = files("bad", m.bytes, m.x);
    const d = m.weights.dIn;
    const cases: [string[], string | undefined, RegExp][] = [
      [[model], "1 2\n", /line 1: expected/],
      [[model], Array(d).fill("nan").join(" ") + "\n", /NaN or infinite/],
      [[model, "--threshold", "auto"], undefined, /calibrated/],
      [[at("nope.safetensors")], "", /cannot open/],
    ];
    writeFileSync(at("truncated.safetensors"), m.bytes.subarray(0, m.bytes.length - 4));
    cases.push([[at("truncated.safetensors")], "", /offsets|left over|missing/]);
    const header = Buffer.from(m.bytes);
    header.write('"format":"sae-xxxx"', header.indexOf('"format":"sae-edge"'));
    writeFileSync(at("other.safetensors"), header);
    cases.push([[at("other.safetensors")], "", /not an sae-edge/]);
    for (const [args, input, message] of cases) {
      const r = host(args, input);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split("\n").at(-1)).toMatch(message);
    }
  });
});
