// Measures the roofline in the running engine: v128 read bandwidth over a buffer the size of the
// weights, and the int8 encoder's throughput with its weights in L2 (GOPS = 2 · MAC / s): sae-edge's
// own kernels (the 1-row and the 4-row ones) and the C twin's loops (1 and 4 rows), whichever is
// faster for each row count.
// roofline.ts is compiled with the project's asc on first use and cached by source hash.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, mkdirSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const ASC = join(here, "..", "..", "node_modules", "assemblyscript", "bin", "asc.js");

/** Path of the compiled module (isa "simd128" or "relaxed"), compiling it if needed. */
export function roofWasm(isa) {
  const src = readFileSync(join(here, "roofline.ts"));
  const hash = createHash("sha256").update(src).update(isa).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "sae-edge-roofline");
  const out = join(dir, `${isa}-${hash}.wasm`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const enable = isa === "relaxed" ? "simd,relaxed-simd" : "simd";
    // cwd = this folder, so the project's asconfig.json is not merged in.
    const part = `${out}.${process.pid}.part`; // renamed when complete: a crash leaves no bad cache
    execFileSync(process.execPath, [ASC, "roofline.ts", "-o", part, "-O3", "--runtime", "stub", "--noAssert", "--enable", enable], { cwd: here, stdio: "pipe" });
    renameSync(part, out);
  }
  return out;
}

async function instantiate() {
  const { instance } = await WebAssembly.instantiate(readFileSync(roofWasm("simd128")), { env: { abort: () => { throw new Error("abort"); } } });
  return instance.exports;
}

// A ceiling is what the machine can do, and a shared machine's noise only slows: each one is
// taken at the 10th-percentile time of its samples, not the median.
const p10 = (s) => s.sort((a, b) => a - b)[Math.floor(s.length / 10)];

// 10th-percentile seconds of fn over about ms milliseconds (at least 5 samples), after 2 warm-up calls.
function time(fn, ms) {
  fn();
  fn();
  const samples = [];
  const start = performance.now();
  while (samples.length < 5 || performance.now() - start < ms) {
    const t0 = performance.now();
    fn();
    samples.push((performance.now() - t0) / 1000);
  }
  return { sec: p10(samples), runs: samples.length };
}

/** Sequential read bandwidth (GB/s) over `bytes` (rounded up to 256). */
export async function bandwidth(bytes, ms = 1000) {
  const k = await instantiate();
  const n = Math.ceil(bytes / 256) * 256;
  const p = k.alloc(n) >>> 0;
  new Uint8Array(k.memory.buffer, p, n).fill(1); // touch every page first
  const { sec, runs } = time(() => k.read_bw(p, n), ms);
  return { bytes: n, gbps: n / sec / 1e9, runs };
}

/**
 * GOPS with 192 KiB of weights (768 dims × 256 latents: in L2), for isa "simd128" or "relaxed":
 * sae-edge's kernels through preActivations (with the row quantization and the scale epilogue): 3
 * rows a call for the 1-row kernel, 64 for the 4-row one; and the C twin's 1- and 4-row loops. The
 * relaxed build runs the inner loop sae-edge's probe picks here (relaxed_dot: "fused" or "split").
 */
export async function ceilings(isa, ms = 500) {
  const dIn = 768, dSae = 256, rows = 64;
  const { buildModel, loadSae, serializeModel } = await import("../../dist/node.js");
  const r = (i) => ((i * 2654435761) >>> 0) / 2 ** 32 - 0.5;
  const sae = await loadSae(serializeModel(buildModel({
    architecture: "standard", dIn, dSae, k: 0, applyBDecToInput: false,
    W_enc: Float32Array.from({ length: dIn * dSae }, (_, i) => r(i)), b_enc: new Float32Array(dSae),
    W_dec: new Float32Array(dSae * dIn), b_dec: new Float32Array(dIn),
  }, "int8")), { kernel: isa });
  const x = Float32Array.from({ length: rows * dIn }, (_, i) => r(i + 7));
  // A sample is `reps` calls of about a millisecond in all: 4 of sae-edge's 64 rows, 80 of its 3
  // rows (fewer than 4: the 1-row kernel), 100 of C's one.
  const gopsOf = (fn, n, ms, reps = 100) => {
    const { sec } = time(() => { for (let i = 0; i < reps; i++) fn(); }, ms);
    return (2 * dIn * dSae * n * reps) / sec / 1e9;
  };
  const x3 = x.subarray(0, 3 * dIn);
  const own1 = gopsOf(() => sae.preActivations(x3, 3), 3, ms, 80);
  const own4 = gopsOf(() => sae.preActivations(x, rows), rows, ms, 4);
  const relaxedDot = sae.info.relaxedDot;
  sae.dispose();
  const c = await cTwin(isa, ms, gopsOf);
  return {
    isa, relaxed_dot: relaxedDot, as_rows1_gops: own1, as_rows4_gops: own4, c_rows1_gops: c?.rows1, c_rows4_gops: c?.rows4,
    rows1_gops: Math.max(own1, c?.rows1 ?? 0), rows4_gops: Math.max(own4, c?.rows4 ?? 0),
  };
}

// The C twin's kernel loop (bench/c) on the same 768 × 256 L2-resident shape, rows quantized once.
async function cTwin(isa, ms, gopsOf) {
  const { open, wasmPath } = await import("../c/loader.mjs");
  if (!existsSync(wasmPath(isa))) return null;
  const dIn = 768, dSae = 256;
  const r = (i) => ((i * 2654435761) >>> 0) / 2 ** 32 - 0.5;
  const d = {
    dIn, dSae, rows: 4, Wp: () => Int8Array.from({ length: dIn * dSae }, (_, i) => Math.round(254 * r(i))),
    w_scale: new Float32Array(dSae).fill(0.01), b_enc: new Float32Array(dSae), b_dec: new Float32Array(dIn),
  };
  const k = await open(d, { isa });
  const x = Float32Array.from({ length: 4 * dIn }, (_, i) => r(i + 7));
  k.run(x, 4); // quantizes the 4 rows
  return { rows1: gopsOf(() => k.exports.bench_kernel(1, 1, k.scratch), 1, ms), rows4: gopsOf(() => k.exports.bench_kernel(4, 1, k.scratch), 4, ms) };
}
