// The command line (dist/cli.js) as a user runs it: quantize a SAELens
// checkpoint folder, inspect, encode / reconstruct / score .npy inputs, and the
// demo. stdout carries only data; any bad input is exit code 2 with one line
// on stderr and nothing on stdout. Outputs are compared with the library.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSae } from "../../src/adapters/node/index.js";
import { buildModel } from "../../src/model/quantize.js";
import type { Sae } from "../../src/runtime/sae.js";
import { parseNpy, serializeNpy } from "../../src/format/npy.js";
import { parseSafetensors, serializeSafetensors } from "../../src/format/safetensors.js";
import { DIST_CLI, REPO, randomInput, randomWeights, referenceOutputs, rng } from "../helpers/common.mjs";
import { runAsync, type ChildResult } from "../helpers/child.js";

const VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
const D_IN = 20;
const D_SAE = 48;
const K = 4;
const ROWS = 9;

const tmp = mkdtempSync(join(tmpdir(), "sae-edge-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const at = (name: string) => join(tmp, name);

const cli = (...args: string[]): Promise<ChildResult> => runAsync(process.execPath, [DIST_CLI, ...args], { cwd: tmp });

const CFG = {
  architecture: "topk", d_in: D_IN, d_sae: D_SAE, k: K, dtype: "float32",
  apply_b_dec_to_input: true, normalize_activations: "none", metadata: { sae_lens_version: "6.5.0" },
};
const weights = randomWeights({ architecture: "topk", dIn: D_IN, dSae: D_SAE, k: K, seed: 77 });
const X = randomInput(ROWS, D_IN, 78, weights.b_dec); // includes an all-zero row, a row = b_dec, a spike

function writeCheckpoint(dir: string, cfg: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "cfg.json"), JSON.stringify(cfg));
  writeFileSync(join(dir, "sae_weights.safetensors"), serializeSafetensors({
    W_enc: { dtype: "F32", shape: [D_IN, D_SAE], data: weights.W_enc },
    b_enc: { dtype: "F32", shape: [D_SAE], data: weights.b_enc },
    W_dec: { dtype: "F32", shape: [D_SAE, D_IN], data: weights.W_dec },
    b_dec: { dtype: "F32", shape: [D_IN], data: weights.b_dec },
  }));
}

/** Parses encode's JSON Lines. */
function parseCodes(stdout: string): { indices: number[]; values: number[] }[] {
  expect(stdout.endsWith("\n")).toBe(true);
  return stdout.slice(0, -1).split("\n").map((l) => JSON.parse(l) as { indices: number[]; values: number[] });
}

/** Exit 2, nothing on stdout, exactly one non-empty line on stderr; returns that line. */
function expectUsageError(r: ChildResult, what: string): string {
  expect(r.code, `${what}: exit code (stderr: ${r.stderr})`).toBe(2);
  expect(r.stdout, `${what}: stdout`).toBe("");
  const lines = r.stderr.replace(/\n$/, "").split("\n");
  expect(lines, `${what}: stderr must be one line, got ${JSON.stringify(r.stderr)}`).toHaveLength(1);
  expect(lines[0].trim().length, what).toBeGreaterThan(0);
  expect(r.stderr, what).not.toMatch(/internal error|\n\s+at /);
  return lines[0];
}

let int8: Sae;
let f32: Sae;
let demo: Promise<ChildResult>;

beforeAll(async () => {
  demo = cli("demo", "--planted"); // ~5 s; runs while the other tests do
  writeCheckpoint(at("ckpt"), CFG);
  writeCheckpoint(at("temporal"), { ...CFG, architecture: "temporal" });
  mkdirSync(at("empty-folder"));
  writeFileSync(at("input.npy"), serializeNpy(X, [ROWS, D_IN]));
  const [q8, q32] = await Promise.all([
    cli("quantize", "ckpt", "-o", "m.safetensors"),
    cli("quantize", "ckpt", "-o", "m32.safetensors", "--bits", "32"),
  ]);
  for (const q of [q8, q32]) {
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toBe("");
  }
  expect(q8.stderr).toMatch(/^wrote m\.safetensors: topk d_in=20 d_sae=48 k=4 int8, \d+ bytes \(from saelens\)\n$/);
  expect(q32.stderr).toMatch(/^wrote m32\.safetensors: topk d_in=20 d_sae=48 k=4 f32, \d+ bytes \(from saelens\)\n$/);
  int8 = await loadSae(at("m.safetensors"));
  f32 = await loadSae(at("m32.safetensors"));
});

describe("quantize", () => {
  it("the int8 and f32 files hold exactly the library's quantization of the checkpoint", () => {
    for (const [file, quant] of [["m.safetensors", "int8"], ["m32.safetensors", "f32"]] as const) {
      const st = parseSafetensors(new Uint8Array(readFileSync(at(file))));
      const want = buildModel(weights, quant);
      expect(st.header.tensors.map((t) => t.name).sort()).toEqual(Object.keys(want.tensors).sort());
      for (const [name, t] of Object.entries(want.tensors)) {
        const d = t.data as ArrayBufferView;
        expect(st.tensor(name), `${file} ${name}`).toEqual(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      }
      const prov = JSON.parse(st.header.metadata.provenance) as Record<string, unknown>;
      expect(prov).toMatchObject({ source_format: "saelens", sae_lens_version: "6.5.0", created_by: `sae-edge ${VERSION}` });
    }
  });

  it("a file inside the checkpoint folder stands for the folder", async () => {
    const r = await cli("quantize", join("ckpt", "cfg.json"), "-o", "via-file.safetensors");
    expect(r.code, r.stderr).toBe(0);
    const a = parseSafetensors(new Uint8Array(readFileSync(at("via-file.safetensors"))));
    const b = parseSafetensors(new Uint8Array(readFileSync(at("m.safetensors"))));
    for (const t of b.header.tensors) expect(a.tensor(t.name)).toEqual(b.tensor(t.name));
  });
});

describe("inspect", () => {
  it("text: architecture, sizes, quantization, tensors", async () => {
    const r = await cli("inspect", "m.safetensors");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^architecture +topk \(k=4\)$/m);
    expect(r.stdout).toMatch(/^d_in × d_sae +20 × 48$/m);
    expect(r.stdout).toMatch(/^quantization +int8$/m);
    expect(r.stdout).toMatch(/^ +W_enc_packed +I8 +\[12, 2, 4, 16\] +1536 bytes$/m);
    expect(r.stdout).toMatch(/^ +W_dec +I8 +\[48, 20\] +960 bytes$/m);
  });

  it("--json: one JSON object with the spec, metadata and tensors", async () => {
    for (const [file, quant] of [["m.safetensors", "int8"], ["m32.safetensors", "f32"]]) {
      const r = await cli("inspect", "--json", file);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trimEnd().split("\n")).toHaveLength(1);
      const j = JSON.parse(r.stdout) as Record<string, unknown> & { metadata: Record<string, string>; tensors: { name: string; dtype: string; shape: number[] }[] };
      expect(j).toMatchObject({ architecture: "topk", dIn: 20, dSae: 48, k: 4, quantization: quant, applyBDecToInput: true, normalization: "none" });
      expect(j.bytes).toBe(readFileSync(at(file)).length);
      expect(j.metadata).toMatchObject({ format: "sae-edge", format_version: "1", architecture: "topk", d_in: "20", d_sae: "48", k: "4", quantization: quant });
      const names = j.tensors.map((t) => t.name).sort();
      expect(names).toEqual(quant === "int8" ? ["W_dec", "W_dec_scale", "W_enc_packed", "W_enc_scale", "b_dec", "b_enc"] : ["W_dec", "W_enc_packed", "b_dec", "b_enc"]);
    }
  });
});

describe("encode", () => {
  it("JSON Lines on stdout: one line per row, <= k codes, values descending (ties by lower index), equal to the library", async () => {
    const r = await cli("encode", "m.safetensors", "input.npy");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const rows = parseCodes(r.stdout);
    expect(rows).toHaveLength(ROWS);
    const lib = int8.encode(X);
    let total = 0;
    for (let i = 0; i < ROWS; i++) {
      const line = rows[i];
      expect(Object.keys(line)).toEqual(["indices", "values"]);
      expect(line.indices.length).toBe(line.values.length);
      expect(line.indices.length).toBeLessThanOrEqual(K);
      for (let e = 1; e < line.values.length; e++) {
        expect(line.values[e] < line.values[e - 1] || (line.values[e] === line.values[e - 1] && line.indices[e] > line.indices[e - 1])).toBe(true);
      }
      for (const v of line.values) expect(v).toBeGreaterThan(0);
      const a = lib.rowOffsets[i], b = lib.rowOffsets[i + 1];
      expect(line.indices).toEqual(Array.from(lib.indices.subarray(a, b)));
      expect(Float32Array.from(line.values)).toEqual(lib.values.subarray(a, b)); // exact as float32
      total += line.indices.length;
    }
    expect(total).toBeGreaterThan(ROWS * 2); // not trivially empty
  });

  it("the f32 model too", async () => {
    const r = await cli("encode", "m32.safetensors", "input.npy");
    expect(r.code, r.stderr).toBe(0);
    const rows = parseCodes(r.stdout);
    const lib = f32.encode(X);
    for (let i = 0; i < ROWS; i++) {
      expect(rows[i].indices).toEqual(Array.from(lib.indices.subarray(lib.rowOffsets[i], lib.rowOffsets[i + 1])));
      expect(Float32Array.from(rows[i].values)).toEqual(lib.values.subarray(lib.rowOffsets[i], lib.rowOffsets[i + 1]));
    }
  });

  it("-o out.jsonl writes the same lines to the file and nothing to stdout", async () => {
    const [toStdout, toFile] = await Promise.all([cli("encode", "m.safetensors", "input.npy"), cli("encode", "m.safetensors", "input.npy", "-o", "out.jsonl")]);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(toFile.stdout).toBe("");
    expect(toFile.stderr).toBe("");
    expect(readFileSync(at("out.jsonl"), "utf8")).toBe(toStdout.stdout);
  });

  it("--dense -o z.npy: float32 [n, d_sae] whose nonzeros are exactly the sparse codes", async () => {
    const r = await cli("encode", "--dense", "m.safetensors", "input.npy", "-o", "z.npy");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    const z = parseNpy(new Uint8Array(readFileSync(at("z.npy"))));
    expect(z.dtype).toBe("float32");
    expect(z.shape).toEqual([ROWS, D_SAE]);
    expect(z.data).toEqual(int8.encodeDense(X));
    const codes = int8.encode(X);
    for (let i = 0; i < ROWS; i++) {
      const nz: [number, number][] = [];
      for (let j = 0; j < D_SAE; j++) if (z.data[i * D_SAE + j] !== 0) nz.push([j, z.data[i * D_SAE + j] as number]);
      const sparse: [number, number][] = [];
      for (let e = codes.rowOffsets[i]; e < codes.rowOffsets[i + 1]; e++) sparse.push([codes.indices[e], codes.values[e]]);
      sparse.sort((a, b) => a[0] - b[0]);
      expect(nz).toEqual(sparse);
    }
  });

  it("--kernel scalar, simd128 and the default give byte-identical output (int8 and f32)", async () => {
    for (const model of ["m.safetensors", "m32.safetensors"]) {
      const runs = await Promise.all([
        cli("encode", model, "input.npy"),
        cli("encode", "--kernel", "scalar", model, "input.npy"),
        cli("encode", model, "input.npy", "--kernel", "simd128"),
        cli("score", "--kernel", "scalar", model, "input.npy"),
        cli("score", "--kernel", "simd128", model, "input.npy"),
      ]);
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      expect(runs[1].stdout).toBe(runs[0].stdout);
      expect(runs[2].stdout).toBe(runs[0].stdout);
      expect(runs[4].stdout).toBe(runs[3].stdout);
    }
  });

  it("a 1-D input (one row) and a float64 input work", async () => {
    const row = X.slice(4 * D_IN, 5 * D_IN);
    writeFileSync(at("row.npy"), serializeNpy(row, [D_IN]));
    writeFileSync(at("input64.npy"), serializeNpy(new Float64Array(X), [ROWS, D_IN]));
    writeFileSync(at("row64.npy"), serializeNpy(new Float64Array(row), [D_IN]));
    const [one, all, all64, one64] = await Promise.all([
      cli("encode", "m.safetensors", "row.npy"),
      cli("encode", "m.safetensors", "input.npy"),
      cli("encode", "m.safetensors", "input64.npy"),
      cli("encode", "m.safetensors", "row64.npy"),
    ]);
    for (const r of [one, all, all64, one64]) expect(r.code, r.stderr).toBe(0);
    expect(parseCodes(one.stdout)).toHaveLength(1);
    expect(one.stdout).toBe(all.stdout.split("\n")[4] + "\n");
    expect(all64.stdout).toBe(all.stdout);
    expect(one64.stdout).toBe(one.stdout);
    const lib = int8.encode(row);
    expect(parseCodes(one.stdout)[0].indices).toEqual(Array.from(lib.indices));
  });
});

describe("reconstruct and score", () => {
  it("reconstruct -o r.npy equals the library's forward().reconstruction", async () => {
    const r = await cli("reconstruct", "m.safetensors", "input.npy", "-o", "r.npy");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    const a = parseNpy(new Uint8Array(readFileSync(at("r.npy"))));
    expect(a.dtype).toBe("float32");
    expect(a.shape).toEqual([ROWS, D_IN]);
    expect(a.data).toEqual(int8.forward(X).reconstruction);
    // and it is b_dec + Σ code · W_dec on the stored int8 weights (docs/model-format.md).
    const model = buildModel(weights, "int8");
    expect(a.data).toEqual(referenceOutputs(model, X, ROWS).recon);
  });

  it("score: one plain number per line, equal to score().squared; --normalized to .normalized", async () => {
    const [sq, nz] = await Promise.all([cli("score", "m.safetensors", "input.npy"), cli("score", "--normalized", "m.safetensors", "input.npy")]);
    const lib = int8.score(X);
    for (const [r, want] of [[sq, lib.squared], [nz, lib.normalized]] as const) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe("");
      const lines = r.stdout.replace(/\n$/, "").split("\n");
      expect(lines).toHaveLength(ROWS);
      for (const l of lines) expect(l).toMatch(/^(-?\d+(\.\d+)?(e[-+]\d+)?|Infinity)$/);
      expect(Float64Array.from(lines, Number)).toEqual(want);
    }
    expect(lib.squared[0]).toBeGreaterThan(0);
  });

  it("score -o s.npy: float64 [n] (and --normalized)", async () => {
    const [a, b] = await Promise.all([
      cli("score", "m.safetensors", "input.npy", "-o", "s.npy"),
      cli("score", "m.safetensors", "input.npy", "-o", "sn.npy", "--normalized"),
    ]);
    for (const r of [a, b]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe("");
    }
    const lib = int8.score(X);
    const s = parseNpy(new Uint8Array(readFileSync(at("s.npy"))));
    expect(s.dtype).toBe("float64");
    expect(s.shape).toEqual([ROWS]);
    expect(s.data).toEqual(lib.squared);
    const n = parseNpy(new Uint8Array(readFileSync(at("sn.npy"))));
    expect(n.shape).toEqual([ROWS]);
    expect(n.data).toEqual(lib.normalized);
  });
});

describe("help and version", () => {
  const helps: [string, string[]][] = [
    ["--help"], ["-h"], ["help"],
    ...["quantize", "inspect", "encode", "reconstruct", "score", "demo"].flatMap((c) => [[c, "--help"], ["help", c]]),
  ].map((args): [string, string[]] => [args.join(" "), args]);
  it.each(helps)("%s: exit 0 and usage on stdout", async (_, args) => {
    const r = await cli(...args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const cmd = args.find((a) => !a.startsWith("-") && a !== "help");
    expect(r.stdout).toContain(cmd ? `Usage: sae-edge ${cmd}` : "Usage: sae-edge");
    expect(r.stdout).toMatch(/Options:/);
  });

  it("--version prints package.json's version", async () => {
    const r = await cli("--version");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });
});

describe("bad input: exit 2, one line on stderr, nothing on stdout", () => {
  beforeAll(() => {
    const r = rng(3);
    writeFileSync(at("random.safetensors"), new Uint8Array(2000).map(() => Math.floor(r() * 256)));
    writeFileSync(at("cols19.npy"), serializeNpy(new Float32Array(3 * 19), [3, 19]));
    writeFileSync(at("rank3.npy"), serializeNpy(new Float32Array(2 * 3 * D_IN), [2, 3, D_IN]));
    writeFileSync(at("int32.npy"), serializeNpy(new Int32Array(2 * D_IN), [2, D_IN]));
    const full = serializeNpy(X, [ROWS, D_IN]);
    writeFileSync(at("truncated.npy"), full.subarray(0, full.length - 5));
    const nan = X.slice();
    nan[3 * D_IN + 7] = NaN;
    writeFileSync(at("nan.npy"), serializeNpy(nan, [ROWS, D_IN]));
    const inf = X.slice();
    inf[ROWS * D_IN - 1] = -Infinity;
    writeFileSync(at("inf.npy"), serializeNpy(inf, [ROWS, D_IN]));
    mkdirSync(at("model-dir.safetensors"), { recursive: true });
  });

  const cases: [string, string[], RegExp][] = [
    ["missing model file", ["encode", "missing.safetensors", "input.npy"], /missing\.safetensors.*\[SOURCE_NOT_FOUND\]/],
    ["model is random bytes", ["encode", "random.safetensors", "input.npy"], /\[SAFETENSORS_[A-Z_]+\]$/],
    ["inspect random bytes", ["inspect", "random.safetensors"], /\[SAFETENSORS_[A-Z_]+\]$/],
    ["model is a directory", ["encode", "model-dir.safetensors", "input.npy"], /model-dir/],
    ["missing input file", ["encode", "m.safetensors", "missing.npy"], /missing\.npy.*\[SOURCE_NOT_FOUND\]/],
    ["wrong number of columns", ["encode", "m.safetensors", "cols19.npy"], /19 columns.*\[INPUT_SHAPE\]/],
    ["3-D input", ["encode", "m.safetensors", "rank3.npy"], /\[NPY_UNSUPPORTED\]/],
    ["int32 input", ["score", "m.safetensors", "int32.npy"], /dtype int32 \('<i4'\) is not supported; accepted: float32, float64 \[NPY_UNSUPPORTED\]$/],
    ["truncated input", ["reconstruct", "m.safetensors", "truncated.npy", "-o", "never1.npy"], /\[NPY_INVALID\]/],
    ["NaN in the input (encode)", ["encode", "m.safetensors", "nan.npy"], /row 3, column 7.*\[INPUT_NONFINITE\]/],
    ["NaN in the input (encode --dense)", ["encode", "--dense", "m.safetensors", "nan.npy", "-o", "never2.npy"], /row 3, column 7.*\[INPUT_NONFINITE\]/],
    ["NaN in the input (reconstruct)", ["reconstruct", "m.safetensors", "nan.npy", "-o", "never3.npy"], /row 3, column 7.*\[INPUT_NONFINITE\]/],
    ["NaN in the input (score)", ["score", "m.safetensors", "nan.npy"], /row 3, column 7.*\[INPUT_NONFINITE\]/],
    ["-Inf in the last value (score -o)", ["score", "m32.safetensors", "inf.npy", "-o", "never4.npy"], /row 8, column 19.*\[INPUT_NONFINITE\]/],
    ["encode -o into a missing folder", ["encode", "m.safetensors", "input.npy", "-o", "no-such-dir/out.jsonl"], /no-such-dir.*\[INVALID_ARGUMENT\]$/],
    ["score -o onto a folder", ["score", "m.safetensors", "input.npy", "-o", "empty-folder"], /empty-folder.*\[INVALID_ARGUMENT\]$/],
    ["unknown command", ["frobnicate", "m.safetensors"], /frobnicate/],
    ["unknown option", ["encode", "--frob", "m.safetensors", "input.npy"], /--frob/],
    ["missing argument", ["encode", "m.safetensors"], /input/],
    ["--kernel bogus", ["encode", "--kernel", "bogus", "m.safetensors", "input.npy"], /bogus/],
    ["--kernel relaxed on Node 20", ["encode", "--kernel", "relaxed", "m.safetensors", "input.npy"], /relaxed.*\[KERNEL_UNAVAILABLE\]$/],
    ["encode --dense without -o", ["encode", "--dense", "m.safetensors", "input.npy"], /-o.*\[INVALID_ARGUMENT\]$/],
    ["reconstruct without -o", ["reconstruct", "m.safetensors", "input.npy"], /output/],
    ["quantize --bits 4", ["quantize", "ckpt", "-o", "never5.safetensors", "--bits", "4"], /bits/],
    ["quantize a folder without cfg.json", ["quantize", "empty-folder", "-o", "never6.safetensors"], /empty-folder.*\[CHECKPOINT_INVALID\]$/],
    ["quantize a missing folder", ["quantize", "no-such-folder", "-o", "never7.safetensors"], /no-such-folder.*\[SOURCE_NOT_FOUND\]$/],
    ["quantize architecture temporal", ["quantize", "temporal", "-o", "never8.safetensors"], /temporal.*\[CHECKPOINT_UNSUPPORTED\]$/],
  ];

  describe.concurrent("each", () => {
    it.each(cases)("%s", async (what, args, message) => {
      const r = await cli(...args);
      const line = expectUsageError(r, what);
      expect(line).toMatch(message);
      for (const a of args) if (a.startsWith("never")) expect(existsSync(at(a)), `${what}: wrote ${a}`).toBe(false);
    });
  });

  it("a NaN past the first batch of 256 rows: still nothing on stdout (no partial output)", async () => {
    const rows = 400;
    const big = randomInput(rows, D_IN, 5);
    big[300 * D_IN + 2] = NaN;
    writeFileSync(at("nan-late.npy"), serializeNpy(big, [rows, D_IN]));
    const r = await cli("encode", "m.safetensors", "nan-late.npy");
    expect(expectUsageError(r, "late NaN")).toMatch(/row 300, column 2.*\[INPUT_NONFINITE\]/);
  });
});

describe("demo --planted", () => {
  it("exits 0 and prints a table whose int8 and f32 rows recover >= 99% of the planted atoms", async () => {
    const r = await demo;
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => /^(int8|f32)\s/.test(l));
    expect(rows).toHaveLength(2);
    const parsed = rows.map((l) => {
      const m = /^(int8|f32)\s+(scalar|simd128|relaxed)\s+([\d.]+) MB\s+([\d.]+)%\s+([\d.e+-]+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)$/.exec(l.trim());
      expect(m, l).not.toBeNull();
      return { model: m![1], kernel: m![2], mb: Number(m![3]), recovery: Number(m![4]), fvu: Number(m![5]), l0: Number(m![6]), rowsPerS: Number(m![7]) };
    });
    console.log(rows.join("\n"));
    expect(parsed.map((p) => p.model)).toEqual(["int8", "f32"]);
    for (const p of parsed) {
      expect(p.recovery).toBeGreaterThanOrEqual(99);
      expect(p.recovery).toBeLessThanOrEqual(100);
      expect(p.kernel).toBe("simd128");
      expect(p.l0).toBeGreaterThan(0);
      expect(p.rowsPerS).toBeGreaterThan(0);
      expect(p.fvu).toBeLessThan(0.2);
    }
    expect(parsed[0].mb).toBeLessThan(parsed[1].mb); // int8 file smaller than f32
  });
});
