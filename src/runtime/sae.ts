// A loaded SAE: one kernel instance with the model in its memory. Methods are
// synchronous, validate their inputs (typed errors, never a wasm trap) and
// work through large inputs in row chunks so wasm memory stays small.
import type { KernelExports } from "./abi.js";
import { SaeEdgeError, fail, failRow } from "../base/errors.js";
import type { KernelName } from "./kernel-select.js";
import type { RelaxedDot } from "./dot-probe.js";
import type { ModelSpec } from "../model/spec.js";
import { wasmAlloc, type PlacedModel } from "./placement.js";

export interface SaeInfo extends ModelSpec {
  /** The kernel build this instance runs. */
  kernel: KernelName;
  /** The relaxed build's int8 inner loop ("fused": one dot instruction here, "split"); null for the other builds. */
  relaxedDot: RelaxedDot | null;
  /** Why each faster kernel build was refused here (empty when the fastest runs, or one was forced). */
  kernelFallbacks: readonly string[];
}

/** Sparse codes in CSR form: row r's latents are indices/values[rowOffsets[r] .. rowOffsets[r+1]), value descending, ties by lower index. */
export interface SparseCodes {
  rows: number;
  dSae: number;
  rowOffsets: Uint32Array;
  indices: Uint32Array;
  values: Float32Array;
  /** Models with input normalization: each row's (shift, scale) that decode uses to undo it (layer norm: the mean and σ, while encode divided by σ + 1e-5). */
  rowNorm?: Float32Array;
}

export interface Scores {
  /** ||x - x̂||² per row. */
  squared: Float64Array;
  /** ||x - x̂||² / ||x||² per row (0 when both are 0, Infinity when only ||x|| is). */
  normalized: Float64Array;
}

const CHUNK_BYTES = 4 << 20;

export class Sae {
  readonly info: Readonly<SaeInfo>;
  #k: KernelExports | null;
  readonly #m: number;
  readonly #ws: number;
  #io = 0;
  #ioBytes = 0;

  constructor(k: KernelExports, placed: PlacedModel, info: SaeInfo) {
    this.#k = k;
    this.#m = placed.m;
    this.#ws = placed.ws;
    this.info = Object.freeze({ ...info });
  }

  /** Sparse codes of the rows of x (row-major n × d_in). */
  encode(x: Float32Array, n?: number): SparseCodes {
    const k = this.#live();
    const { dIn, dSae } = this.info;
    const rows = this.#rows(x, n, dIn);
    const perRow = k.max_codes_per_row(this.#m);
    const normalized = this.info.normalization !== "none";
    const rowNorm = normalized ? new Float32Array(2 * rows) : undefined;
    const rowOffsets = new Uint32Array(rows + 1);
    const idxParts: Uint32Array[] = [];
    const valParts: Float32Array[] = [];
    let total = 0;
    for (const [r0, r1] of chunks(rows, dIn * 4 + perRow * 8 + 4)) {
      const cnt = r1 - r0;
      const cap = cnt * perRow;
      const [xp, idx, val, rp, st] = this.#ioLayout([cnt * dIn * 4, cap * 4, cap * 4, (cnt + 1) * 4, normalized ? cnt * 8 : 0]);
      this.#putRows(x, r0, r1, dIn, xp);
      new Uint32Array(k.memory.buffer, rp, 1)[0] = 0;
      if (k.encode_sparse(this.#m, this.#ws, xp, cnt, idx, val, rp, cap, normalized ? st : 0) !== cnt) throw new Error("encode_sparse stopped early despite room for every row");
      if (rowNorm) rowNorm.set(new Float32Array(k.memory.buffer, st, 2 * cnt), 2 * r0);
      const offs = new Uint32Array(k.memory.buffer, rp, cnt + 1);
      const used = offs[cnt];
      this.#checkEncoder(r0);
      for (let r = 1; r <= cnt; r++) rowOffsets[r0 + r] = total + offs[r];
      idxParts.push(new Uint32Array(k.memory.buffer, idx, used).slice());
      valParts.push(new Float32Array(k.memory.buffer, val, used).slice());
      total += used;
    }
    return { rows, dSae, rowOffsets, indices: concat(idxParts, Uint32Array, total), values: concat(valParts, Float32Array, total), ...(rowNorm ? { rowNorm } : {}) };
  }

  /** Activated codes as dense rows (n × d_sae). */
  encodeDense(x: Float32Array, n?: number): Float32Array {
    return this.#denseOut(x, n, (k, xp, cnt, out) => k.encode_dense(this.#m, this.#ws, xp, cnt, out));
  }

  /** Encoder pre-activations before the activation function (n × d_sae). */
  preActivations(x: Float32Array, n?: number): Float32Array {
    return this.#denseOut(x, n, (k, xp, cnt, out) => k.preact(this.#m, this.#ws, xp, cnt, out));
  }

  /** Reconstructions (rows × d_out; d_out = d_in for SAEs) from sparse codes. */
  decode(codes: SparseCodes): Float32Array {
    const k = this.#live();
    const { dOut: dIn } = this.info; // decoder output width
    const { rows, rowOffsets, indices, values, rowNorm } = checkCodes(codes, this.info.dSae);
    const avgNnz = rows ? indices.length / rows : 0;
    const ranges = chunks(rows, dIn * 4 + avgNnz * 8 + 4);
    const out = new OutputRows(ranges, dIn);
    for (const [r0, r1] of ranges) {
      const cnt = r1 - r0;
      const e0 = rowOffsets[r0];
      const nnz = rowOffsets[r1] - e0;
      const [idx, val, rp, op, st] = this.#ioLayout([nnz * 4, nnz * 4, (cnt + 1) * 4, cnt * dIn * 4, rowNorm ? cnt * 8 : 0]);
      const mem = k.memory.buffer;
      new Uint32Array(mem, idx, nnz).set(indices.subarray(e0, e0 + nnz));
      new Float32Array(mem, val, nnz).set(values.subarray(e0, e0 + nnz));
      const rpv = new Uint32Array(mem, rp, cnt + 1);
      for (let r = 0; r <= cnt; r++) rpv[r] = rowOffsets[r0 + r] - e0;
      if (rowNorm) new Float32Array(mem, st, 2 * cnt).set(rowNorm.subarray(2 * r0, 2 * r1));
      k.decode_sparse(this.#m, this.#ws, idx, val, rp, cnt, op, rowNorm ? st : 0);
      this.#checkOut(op, cnt * dIn, dIn, r0, "the decoder");
      out.put(new Float32Array(k.memory.buffer, op, cnt * dIn), r0);
    }
    return out.rows;
  }

  /** Reconstructions from dense codes (n × d_sae); rowNorm as encode returned it, for models with input normalization. */
  decodeDense(z: Float32Array, n?: number, rowNorm?: Float32Array): Float32Array {
    const k = this.#live();
    const { dOut: dIn, dSae } = this.info; // decoder output width
    const rows = this.#rows(z, n, dSae);
    checkRowNorm(rowNorm, rows);
    const ranges = chunks(rows, (dSae + dIn) * 4);
    const out = new OutputRows(ranges, dIn);
    for (const [r0, r1] of ranges) {
      const cnt = r1 - r0;
      const [zp, op, st] = this.#ioLayout([cnt * dSae * 4, cnt * dIn * 4, rowNorm ? cnt * 8 : 0]);
      this.#putRows(z, r0, r1, dSae, zp);
      if (rowNorm) new Float32Array(k.memory.buffer, st, 2 * cnt).set(rowNorm.subarray(2 * r0, 2 * r1));
      k.decode_dense(this.#m, this.#ws, zp, cnt, op, rowNorm ? st : 0);
      this.#checkOut(op, cnt * dIn, dIn, r0, "the decoder");
      out.put(new Float32Array(k.memory.buffer, op, cnt * dIn), r0);
    }
    return out.rows;
  }

  /** Codes and reconstructions together (with the skip connection W_skip·x, if the model has one). */
  forward(x: Float32Array, n?: number): { codes: SparseCodes; reconstruction: Float32Array } {
    const codes = this.encode(x, n);
    const reconstruction = this.decode(codes);
    if (this.info.skip) this.#addSkip(x, reconstruction, codes.rows);
    return { codes, reconstruction };
  }

  #addSkip(x: Float32Array, out: Float32Array, rows: number): void {
    const k = this.#k!;
    const { dIn, dOut } = this.info;
    for (const [r0, r1] of chunks(rows, (dIn + dOut) * 4)) {
      const cnt = r1 - r0;
      const [xp, op] = this.#ioLayout([cnt * dIn * 4, cnt * dOut * 4]);
      new Float32Array(k.memory.buffer, xp, cnt * dIn).set(x.subarray(r0 * dIn, r1 * dIn));
      new Float32Array(k.memory.buffer, op, cnt * dOut).set(out.subarray(r0 * dOut, r1 * dOut));
      k.skip_add(this.#m, xp, cnt, op);
      this.#checkOut(op, cnt * dOut, dOut, r0, "the skip connection");
      out.set(new Float32Array(k.memory.buffer, op, cnt * dOut), r0 * dOut);
    }
  }

  /** Per-row reconstruction error, computed in the module (f64 sums). */
  score(x: Float32Array, n?: number): Scores {
    const k = this.#live();
    const { dIn, dOut } = this.info;
    if (dOut !== dIn) fail("MODEL_UNSUPPORTED", `score compares x with its reconstruction; this transcoder maps d_in=${dIn} to d_out=${dOut}`);
    const rows = this.#rows(x, n, dIn);
    const squared = new Float64Array(rows);
    const normalized = new Float64Array(rows);
    for (const [r0, r1] of chunks(rows, dIn * 4 + 16)) {
      const cnt = r1 - r0;
      const [xp, sq, nrm] = this.#ioLayout([cnt * dIn * 4, cnt * 8, cnt * 8]);
      this.#putRows(x, r0, r1, dIn, xp);
      k.score(this.#m, this.#ws, xp, cnt, sq, nrm);
      this.#checkEncoder(r0);
      takeScores(k.memory.buffer, sq, nrm, cnt, r0, { squared, normalized });
    }
    return { squared, normalized };
  }

  /** Frees the instance; later calls throw DISPOSED. */
  dispose(): void {
    this.#k = null;
  }

  get disposed(): boolean {
    return this.#k === null;
  }

  /** Bytes of wasm memory this instance holds (model, workspace, io), 0 once disposed. */
  get memoryBytes(): number {
    return this.#k?.memory.buffer.byteLength ?? 0;
  }

  #live(): KernelExports {
    if (!this.#k) fail("DISPOSED", "this SAE was disposed");
    return this.#k;
  }

  #rows(x: Float32Array, n: number | undefined, width: number): number {
    if (!(x instanceof Float32Array)) fail("INVALID_ARGUMENT", `input must be a Float32Array, got ${describe(x)}`);
    if (n === undefined) {
      if (x.length === 0 || x.length % width !== 0) {
        fail("INPUT_SHAPE", `input length ${x.length} is not a positive multiple of ${width}`);
      }
      return x.length / width;
    }
    if (!Number.isSafeInteger(n) || n < 1) fail("INPUT_SHAPE", `row count must be a positive integer, got ${n}`);
    if (x.length !== n * width) fail("INPUT_SHAPE", `input has ${x.length} values, expected ${n} rows × ${width} = ${n * width}`);
    return n;
  }

  // Copies rows [r0, r1) into wasm memory and rejects NaN and infinities.
  #putRows(x: Float32Array, r0: number, r1: number, width: number, ptr: number): void {
    const k = this.#k!;
    const count = (r1 - r0) * width;
    new Float32Array(k.memory.buffer, ptr, count).set(x.subarray(r0 * width, r1 * width));
    const bad = k.find_nonfinite_f32(ptr, count);
    if (bad >= 0) {
      const r = r0 + Math.floor(bad / width);
      const what = `column ${bad % width} is ${x[r0 * width + bad]}`;
      failRow("INPUT_NONFINITE", r, (row) => `input row ${row}, ${what}`);
    }
  }

  // The kernel flags rows whose pre-activations overflowed float32 (NaN would otherwise just never fire).
  #checkEncoder(r0: number): void {
    const row = this.#k!.overflow_row(this.#ws);
    if (row >= 0) overflow(r0 + row, "the encoder");
  }

  #checkOut(ptr: number, count: number, width: number, r0: number, stage: string): void {
    const bad = this.#k!.find_nonfinite_f32(ptr, count);
    if (bad >= 0) overflow(r0 + Math.floor(bad / width), stage);
  }

  // One io region, reused and grown as needed (always the last allocation, so freeing it returns
  // the space). Plain loops: this runs on every call, and at batch 1 a call is tens of microseconds.
  #ioLayout(sizes: number[]): number[] {
    const k = this.#k!;
    let total = 0;
    for (let i = 0; i < sizes.length; i++) total += align16(sizes[i]!);
    if (total > this.#ioBytes) {
      if (this.#io) k.free(this.#io);
      this.#ioBytes = Math.max(total, this.#ioBytes * 2);
      this.#io = wasmAlloc(k, this.#ioBytes);
    }
    const ptrs = new Array<number>(sizes.length);
    for (let i = 0, p = this.#io; i < sizes.length; p += align16(sizes[i]!), i++) ptrs[i] = p;
    return ptrs;
  }

  #denseOut(x: Float32Array, n: number | undefined, run: (k: KernelExports, xp: number, cnt: number, out: number) => void): Float32Array {
    const k = this.#live();
    const { dIn, dSae } = this.info;
    const rows = this.#rows(x, n, dIn);
    const ranges = chunks(rows, (dIn + dSae) * 4);
    const out = new OutputRows(ranges, dSae);
    for (const [r0, r1] of ranges) {
      const cnt = r1 - r0;
      const [xp, op] = this.#ioLayout([cnt * dIn * 4, cnt * dSae * 4]);
      this.#putRows(x, r0, r1, dIn, xp);
      run(k, xp, cnt, op);
      this.#checkEncoder(r0);
      out.put(new Float32Array(k.memory.buffer, op, cnt * dSae), r0);
    }
    return out.rows;
  }
}

// Finite inputs can still be too large for float32 arithmetic: say so instead of returning Infinity or NaN.
/** Copies a chunk's scores (rows r0 .. r0 + cnt, f64 at sq and nrm in wasm memory) into `out`; a non-finite one is a row that overflowed. */
export function takeScores(mem: ArrayBuffer, sq: number, nrm: number, cnt: number, r0: number, out: Scores): void {
  const sqv = new Float64Array(mem, sq, cnt);
  const bad = sqv.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) overflow(r0 + bad, "the reconstruction");
  out.squared.set(sqv, r0);
  out.normalized.set(new Float64Array(mem, nrm, cnt), r0);
}

export function overflow(row: number, stage: string): never {
  return failRow("INPUT_NONFINITE", row, (r) => `row ${r}: ${stage} overflowed float32 (input values too large for this model)`);
}

// Row ranges [r0, r1) of at most CHUNK_BYTES of io each (at least one row each).
function chunks(rows: number, bytesPerRow: number): [number, number][] {
  const step = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, bytesPerRow)));
  const ranges: [number, number][] = [];
  for (let r = 0; r < rows; r += step) ranges.push([r, Math.min(rows, r + step)]);
  return ranges;
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

// Where a chunked call's output rows go: one array the chunks fill, or, when one chunk holds every
// row, that chunk's own copy (no zeroed array filled by a second copy; never two copies at once).
class OutputRows {
  #rows: Float32Array | null;
  readonly #width: number;
  constructor(ranges: [number, number][], width: number) {
    this.#width = width;
    this.#rows = ranges.length > 1 ? new Float32Array(ranges[ranges.length - 1]![1] * width) : null;
  }
  put(chunk: Float32Array, r0: number): void {
    if (this.#rows) this.#rows.set(chunk, r0 * this.#width);
    else this.#rows = chunk.slice();
  }
  get rows(): Float32Array {
    return this.#rows!;
  }
}

function concat<T extends Uint32Array | Float32Array>(parts: T[], Ctor: { new (n: number): T }, total: number): T {
  if (parts.length === 1) return parts[0];
  const out = new Ctor(total);
  let o = 0;
  for (const p of parts) {
    out.set(p as never, o);
    o += p.length;
  }
  return out;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x !== "object") return typeof x;
  return (x as object).constructor?.name ?? "object";
}

function checkCodes(codes: SparseCodes, dSae: number): SparseCodes {
  const { rows, rowOffsets, indices, values } = codes ?? ({} as SparseCodes);
  if (!(rowOffsets instanceof Uint32Array) || !(indices instanceof Uint32Array) || !(values instanceof Float32Array)) {
    fail("INVALID_ARGUMENT", "codes need rowOffsets and indices as Uint32Array and values as Float32Array");
  }
  if (!Number.isSafeInteger(rows) || rows < 1 || rowOffsets.length !== rows + 1) {
    fail("INPUT_SHAPE", `codes.rows=${rows} does not match rowOffsets.length=${rowOffsets.length} (expected rows + 1, rows >= 1)`);
  }
  if (codes.dSae !== undefined && codes.dSae !== dSae) fail("INPUT_SHAPE", `codes are for d_sae=${codes.dSae}, this SAE has ${dSae}`);
  if (rowOffsets[0] !== 0 || rowOffsets[rows] !== indices.length || indices.length !== values.length) {
    fail("INPUT_SHAPE", "codes.rowOffsets must start at 0 and end at indices.length = values.length");
  }
  for (let r = 0; r < rows; r++) {
    if (rowOffsets[r + 1] < rowOffsets[r]) fail("INPUT_SHAPE", `codes.rowOffsets decreases at row ${r}`);
  }
  checkRowNorm(codes.rowNorm, rows);
  for (let e = 0; e < indices.length; e++) {
    if (indices[e] >= dSae) fail("INPUT_SHAPE", `code ${e} has latent index ${indices[e]} >= d_sae ${dSae}`);
    if (!Number.isFinite(values[e])) fail("INPUT_NONFINITE", `code ${e} (latent ${indices[e]}) has value ${values[e]}`);
  }
  return codes;
}

function checkRowNorm(rowNorm: Float32Array | undefined, rows: number): void {
  if (rowNorm === undefined) return;
  if (!(rowNorm instanceof Float32Array) || rowNorm.length !== 2 * rows) fail("INPUT_SHAPE", `rowNorm must be a Float32Array of 2 × ${rows} (shift, scale) values`);
  for (let r = 0; r < rows; r++) {
    if (!Number.isFinite(rowNorm[2 * r]) || !(rowNorm[2 * r + 1] >= 0 && Number.isFinite(rowNorm[2 * r + 1]))) fail("INPUT_NONFINITE", `rowNorm of row ${r} is (${rowNorm[2 * r]}, ${rowNorm[2 * r + 1]})`);
  }
}

export { SaeEdgeError };
