// The command line given the wrong kind of file, a reader that goes away, a source that
// cannot be read: every case is one line on stderr that says what happened, exit 2 when it
// is the caller's mistake and 1 when it is not, and never a stack trace.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildModel, serializeModel } from "../../src/model/quantize.js";
import { serializeNpy } from "../../src/format/npy.js";
import { serializeSafetensors } from "../../src/format/safetensors.js";
import { KERNELS } from "../../src/runtime/index.js";
import { DIST_CLI, REPO, randomInput, randomWeights } from "../helpers/common.mjs";
import { runAsync, type ChildResult } from "../helpers/child.js";

const D_IN = 20;
const tmp = mkdtempSync(join(tmpdir(), "sae-edge-wrong-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string) => join(tmp, name);
const cli = (...args: string[]): Promise<ChildResult> => runAsync(process.execPath, [DIST_CLI, ...args], { cwd: tmp });

/** One line on stderr, nothing on stdout, the exit code; returns the line. */
function oneLineError(r: ChildResult, code: 1 | 2): string {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe("");
  expect(r.stderr, "one line").toMatch(/^sae-edge: [^\n]+\n$/);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  return r.stderr.trimEnd();
}

const weights = randomWeights({ architecture: "topk", dIn: D_IN, dSae: 32, k: 4, seed: 9 });

beforeAll(() => {
  writeFileSync(at("m.safetensors"), serializeModel(buildModel(weights, "int8")));
  writeFileSync(at("test.npy"), serializeNpy(randomInput(3, D_IN, 1), [3, D_IN]));
  // A folder whose subfolders are checkpoints (sparsify), with a .npy beside them.
  mkdirSync(at("layers/layers.0"), { recursive: true });
  writeFileSync(at("layers/layers.0/cfg.json"), "{}");
  writeFileSync(at("layers/normal.npy"), serializeNpy(randomInput(3, D_IN, 2), [3, D_IN]));
  writeFileSync(at("other.safetensors"), serializeSafetensors({ W: { dtype: "F32", shape: [2], data: new Float32Array(2) } }));
  copyFileSync(join(REPO, "test/fixtures/gemmascope/params.npz"), at("params.npz"));
  copyFileSync(join(REPO, "test/fixtures/torch-sae/sae.pt"), at("sae.pt"));
  // torch.save before 1.6: protocol 2, then the pickled magic number 0x1950a86a20f9469cfc6c.
  writeFileSync(at("legacy.pt"), Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]));
  writeFileSync(at("plain.pkl"), Uint8Array.from([0x80, 0x04, 0x95, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x4b, 0x01, 0x2e]));
  writeFileSync(at("cfg.json"), JSON.stringify({ d_in: D_IN }));
  mkdirSync(at("a-folder"));
  // float16 and int32 inputs: one list of accepted dtypes for both.
  // float16 [2, 20]: a uint8 [2, 40] file (same bytes) with descr and shape rewritten in place.
  const u8 = Buffer.from(serializeNpy(new Uint8Array(2 * D_IN * 2), [2, 2 * D_IN])).toString("latin1");
  writeFileSync(at("f16.npy"), Buffer.from(u8.replace("'|u1'", "'<f2'").replace(`(2, ${2 * D_IN})`, `(2, ${D_IN})`), "latin1"));
  writeFileSync(at("i32.npy"), serializeNpy(new Int32Array(2 * D_IN), [2, D_IN]));
  writeFileSync(at("big.npy"), serializeNpy(randomInput(5000, D_IN, 3), [5000, D_IN]));
});

describe("a file of the wrong kind is named for what it is", () => {
  it("swapped arguments: the .npy is named and the order given", async () => {
    const line = oneLineError(await cli("encode", "test.npy", "m.safetensors"), 2);
    expect(line).toBe(`sae-edge: test.npy is a .npy array (float32 [3, ${D_IN}]), not an sae-edge model: the model comes first (sae-edge encode MODEL INPUT) [INVALID_ARGUMENT]`);
  });

  it("quantize of a .npy says what the file is and what quantize expects, not the folder's hookpoints", async () => {
    const line = oneLineError(await cli("quantize", "layers/normal.npy", "-o", "never.safetensors"), 2);
    expect(line).toMatch(/^sae-edge: layers\/normal\.npy is a \.npy array \(float32 \[3, 20\]\), not a checkpoint: quantize expects a checkpoint folder .* \[INVALID_ARGUMENT\]$/);
    expect(line).not.toMatch(/layers\.0|hookpoint/);
    expect(existsSync(at("never.safetensors"))).toBe(false);
  });

  it("quantize of an sae-edge model says it is one", async () => {
    expect(oneLineError(await cli("quantize", "m.safetensors", "-o", "never.safetensors"), 2)).toMatch(/m\.safetensors is an sae-edge model, not a checkpoint/);
  });

  const models: [string, RegExp][] = [
    ["params.npz", /params\.npz is a \.npz archive of arrays, not an sae-edge model: quantize the checkpoint first/],
    ["sae.pt", /sae\.pt is a PyTorch checkpoint \(\.pt, zip\), not an sae-edge model: quantize the checkpoint first/],
    ["legacy.pt", /legacy\.pt is a legacy PyTorch checkpoint \(\.pt, pickle\), not an sae-edge model/],
    ["plain.pkl", /plain\.pkl is a Python pickle, not an sae-edge model/],
    ["cfg.json", /cfg\.json is a JSON file, not an sae-edge model/],
    ["other.safetensors", /other\.safetensors is a safetensors file without sae-edge metadata, not an sae-edge model: quantize the checkpoint first/],
    ["a-folder", /a-folder is not a file/],
  ];
  it.each(models)("in the model's place: %s", async (file, message) => {
    const line = oneLineError(await cli("score", file, "test.npy"), 2);
    expect(line).toMatch(message);
    expect(line).toMatch(/\[INVALID_ARGUMENT\]$/);
  });

  it("in the input's place: a model or an archive is not a .npy array", async () => {
    expect(oneLineError(await cli("encode", "m.safetensors", "m.safetensors"), 2))
      .toBe("sae-edge: m.safetensors is an sae-edge model, not a .npy array (sae-edge encode MODEL INPUT) [INVALID_ARGUMENT]");
    expect(oneLineError(await cli("reconstruct", "m.safetensors", "params.npz", "-o", "never.npy"), 2)).toMatch(/params\.npz is a \.npz archive of arrays, not a \.npy array/);
  });

  it("float16 and int32 inputs name the same list of accepted dtypes", async () => {
    const f16 = oneLineError(await cli("encode", "m.safetensors", "f16.npy"), 2);
    const i32 = oneLineError(await cli("encode", "m.safetensors", "i32.npy"), 2);
    expect(f16).toBe("sae-edge: f16.npy: dtype float16 ('<f2') is not supported; accepted: float32, float64 [NPY_UNSUPPORTED]");
    expect(i32).toBe("sae-edge: i32.npy: dtype int32 ('<i4') is not supported; accepted: float32, float64 [NPY_UNSUPPORTED]");
  });
});

describe("sources, readers and kernels", () => {
  it("a missing file is the caller's mistake: SOURCE_NOT_FOUND, exit 2", async () => {
    expect(oneLineError(await cli("encode", "nope.safetensors", "test.npy"), 2)).toBe("sae-edge: cannot open model nope.safetensors: ENOENT [SOURCE_NOT_FOUND]");
  });

  it.runIf(existsSync("/proc/self/mem"))("a file that cannot be read (EIO) is not: SOURCE_UNAVAILABLE, exit 1", async () => {
    expect(oneLineError(await cli("encode", "m.safetensors", "/proc/self/mem"), 1)).toBe("sae-edge: cannot read input /proc/self/mem: EIO [SOURCE_UNAVAILABLE]");
  });

  it("encode | head -1: the reader going away ends quietly with exit 0", async () => {
    const child = spawn(process.execPath, [DIST_CLI, "encode", "m.safetensors", "big.npy"], { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const first = await new Promise<string>((resolve) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) {
          child.stdout.destroy(); // what head does after its first line
          resolve(out.split("\n")[0]);
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(JSON.parse(first)).toHaveProperty("indices");
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("inspect shows why each faster kernel was refused", async () => {
    const r = await cli("inspect", "m.safetensors", "--json");
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { kernel: (typeof KERNELS)[number]; kernelFallbacks: string[] };
    expect(info.kernelFallbacks).toHaveLength(KERNELS.indexOf(info.kernel));
    info.kernelFallbacks.forEach((why, i) => expect(why.startsWith(`${KERNELS[i]}: `), why).toBe(true));
    const text = await cli("inspect", "m.safetensors");
    for (const why of info.kernelFallbacks) expect(text.stdout).toContain(`refused      ${why}`);
    const forced = JSON.parse((await cli("inspect", "m.safetensors", "--json", "--kernel", "scalar")).stdout) as typeof info;
    expect(forced).toMatchObject({ kernel: "scalar", kernelFallbacks: [] });
  });
});
