// Measures the roofline in the running engine: v128 read bandwidth over a buffer the size of the
// weights, and the int8 inner loops' throughput on L2-resident weights (GOPS = 2 · MAC / s).
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

async function instantiate(isa) {
  const { instance } = await WebAssembly.instantiate(readFileSync(roofWasm(isa)), { env: { abort: () => { throw new Error("abort"); } } });
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
  const k = await instantiate("simd128");
  const n = Math.ceil(bytes / 256) * 256;
  const p = k.alloc(n) >>> 0;
  new Uint8Array(k.memory.buffer, p, n).fill(1); // touch every page first
  const { sec, runs } = time(() => k.read_bw(p, n), ms);
  return { bytes: n, gbps: n / sec / 1e9, runs };
}

/**
 * GOPS of the 1-row and 4-row inner loops on 192 KiB of weights (768 dims × 256 latents: L2, 1 MiB
 * here), for isa "simd128" (dot16) or "relaxed" (dot8).
 */
export async function ceilings(isa, ms = 500) {
  const k = await instantiate(isa);
  const steps = 48, tiles = 64, wBytes = steps * 64 * tiles, stride = 2048;
  const w = k.alloc(wBytes) >>> 0, x = k.alloc(4 * stride) >>> 0;
  const mem = new Int8Array(k.memory.buffer);
  for (let i = 0; i < wBytes; i++) mem[w + i] = ((i * 37) % 255) - 127;
  for (let i = 0; i < 4 * stride; i++) mem[x + i] = isa === "relaxed" ? (i * 13) % 127 : (i & 1 ? 0 : (i * 7) % 127 - 63);
  const reps = 100; // 100 passes over the 192 KiB per sample, so a sample is about a millisecond
  const one = isa === "relaxed" ? () => k.dot8_1x4(w, x, tiles, steps) : () => k.dot16_1x4(w, x, tiles, steps);
  const four = isa === "relaxed" ? () => k.dot8_4x4(w, x, stride, tiles, steps) : () => k.dot16_4x4(w, x, stride, tiles, steps);
  const gopsOf = (fn, rows, ms) => {
    const { sec } = time(() => { for (let r = 0; r < reps; r++) fn(); }, ms);
    return (2 * wBytes * rows * reps) / sec / 1e9;
  };
  const as = { rows1: gopsOf(one, 1, ms), rows4: gopsOf(four, 4, ms) };
  const c = await cTwin(isa, ms, gopsOf);
  // The ceiling is the faster of the two compilers' loops (AssemblyScript's here, clang's in bench/c;
  // the C loop includes its scale-and-bias epilogue, under 1% of the work).
  return { isa, as_rows1_gops: as.rows1, as_rows4_gops: as.rows4, c_rows1_gops: c?.rows1, c_rows4_gops: c?.rows4, rows1_gops: Math.max(as.rows1, c?.rows1 ?? 0), rows4_gops: Math.max(as.rows4, c?.rows4 ?? 0) };
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
