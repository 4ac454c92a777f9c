// The worker side of a latent-split pool: one slice of the latents (src/model/latent-slices.ts)
// in one kernel instance, and on one worker the whole decoder too. Answers with its slice's
// codes, or for int8 TopK its rescoring candidates, in the whole model's latent indices.
import { fail, failRow } from "../base/errors.js";
import { LATENT_TILE, roundUp } from "../model/layout.js";
import { ACT, M, Sae, takeScores, type KernelExports, type KernelModel, type SaeInfo, type Scores, type SparseCodes } from "../runtime/index.js";
import type { LatentSlice } from "../model/latent-slices.js";

/**
 * What a latent-split worker is started with: its slice, the whole model's d_sae, C (int8 TopK:
 * candidates per row, else 0), and the slice's tensors unless the worker reads them itself.
 */
export interface SliceInit extends LatentSlice {
  dSae: number;
  candidates: number;
  tensors?: Record<string, Uint8Array>;
}

/** One slice's int8 TopK candidates (assembly/latent_split.ts topk_candidates_i8), row r's at [r·c, r·c + count[r]). */
export interface Candidates {
  rows: number;
  c: number;
  count: Int32Array;
  index: Uint32Array;
  value: Float32Array;
  /** Rescored values, and with a residual plane the int8-weight values and weight bounds. */
  h: Float32Array;
  h1?: Float32Array;
  b?: Float32Array;
  rowNorm?: Float32Array;
  /** The first row whose pre-activations overflowed float32 in this slice, or -1 (the pool decides which row one Sae would refuse). */
  overflowRow: number;
}

const CHUNK_BYTES = 4 << 20;

export class LatentWorker {
  readonly #k: KernelExports;
  readonly #alloc: (bytes: number) => number;
  readonly #m: number;
  readonly #ws: number;
  readonly #sae: Sae;
  readonly #init: SliceInit;
  /** The slice as a model. */
  readonly info: SaeInfo;
  readonly #decoder: { m: number; ws: number } | null;
  #io = 0;
  #ioBytes = 0;

  constructor(km: KernelModel, init: SliceInit) {
    this.#k = km.exports;
    this.#alloc = km.alloc;
    this.#m = km.placed.m;
    this.#ws = km.placed.ws;
    this.#init = init;
    this.info = { ...init.spec, kernel: km.kernel, kernelFallbacks: km.kernelFallbacks, relaxedDot: km.relaxedDot };
    this.#sae = new Sae(km.exports, km.placed, this.info);
    this.#decoder = init.decoder ? this.#wholeDecoder() : null;
  }


  // The decoder over every latent: the slice's descriptor with the whole d_sae (the decode
  // kernels read only its decoder fields), and a workspace of its own.
  #wholeDecoder(): { m: number; ws: number } {
    const k = this.#k;
    const m = this.#alloc(M.BYTES);
    new Uint8Array(k.memory.buffer, m, M.BYTES).set(new Uint8Array(k.memory.buffer, this.#m, M.BYTES));
    const d = new DataView(k.memory.buffer, m, M.BYTES);
    d.setInt32(M.D_SAE, this.#init.dSae, true);
    d.setInt32(M.D_SAE_PAD, roundUp(this.#init.dSae, LATENT_TILE), true);
    d.setInt32(M.K, 0, true);
    d.setInt32(M.ACT, ACT.RELU, true); // its workspace then needs no TopK selection
    return { m, ws: this.#alloc(k.workspace_bytes(m)) };
  }

  /** Bytes of wasm memory this worker's instance holds. */
  get memoryBytes(): number {
    return this.#k.memory.buffer.byteLength;
  }

  /** The slice's codes (value descending, ties by lower index), indices in the whole model. */
  encode(x: Float32Array, rows: number): SparseCodes {
    const codes = this.#sae.encode(x, rows);
    const { begin } = this.#init;
    if (begin) for (let e = 0; e < codes.indices.length; e++) codes.indices[e] += begin;
    return { ...codes, dSae: this.#init.dSae };
  }

  /** Int8 TopK: each row's best C candidates of this slice with what rescoring makes of them. */
  candidates(x: Float32Array, rows: number): Candidates {
    const k = this.#k;
    const { spec, begin } = this.#init;
    const { dIn, dSae: width } = spec;
    const c = Math.min(this.#init.candidates, width);
    const resid = spec.encoderResidual === true;
    const normalized = spec.normalization !== "none";
    // Every array a view of one buffer: one transfer back to the pool.
    const n = rows * c;
    const buffer = new ArrayBuffer(4 * (rows + n * (resid ? 5 : 3) + (normalized ? 2 * rows : 0)));
    let at = 0;
    const take = <T>(Ctor: new (b: ArrayBuffer, o: number, l: number) => T, length: number): T => ((at += 4 * length), new Ctor(buffer, at - 4 * length, length));
    const out: Candidates = {
      rows, c, count: take(Int32Array, rows), index: take(Uint32Array, n), value: take(Float32Array, n), h: take(Float32Array, n),
      ...(resid ? { h1: take(Float32Array, n), b: take(Float32Array, n) } : {}),
      ...(normalized ? { rowNorm: take(Float32Array, 2 * rows) } : {}),
      overflowRow: -1,
    };
    const step = Math.max(1, Math.floor(CHUNK_BYTES / (dIn * 4 + c * 20 + 12)));
    for (let r0 = 0; r0 < rows; r0 += step) {
      const cnt = Math.min(step, rows - r0);
      const [xp, count, idx, val, h, h1, b, st] = this.#layout([cnt * dIn * 4, cnt * 4, ...Array(5).fill(cnt * c * 4), normalized ? cnt * 8 : 0]);
      this.#putRows(x, r0, cnt, dIn, xp);
      k.topk_candidates_i8(this.#m, this.#ws, xp, cnt, c, count, idx, val, h, h1, b, normalized ? st : 0);
      const bad = k.overflow_row(this.#ws);
      if (bad >= 0 && out.overflowRow < 0) out.overflowRow = r0 + bad;
      const mem = k.memory.buffer, e0 = r0 * c, len = cnt * c;
      out.count.set(new Int32Array(mem, count, cnt), r0);
      out.index.set(new Uint32Array(mem, idx, len), e0);
      out.value.set(new Float32Array(mem, val, len), e0);
      out.h.set(new Float32Array(mem, h, len), e0);
      out.h1?.set(new Float32Array(mem, h1, len), e0);
      out.b?.set(new Float32Array(mem, b, len), e0);
      out.rowNorm?.set(new Float32Array(mem, st, 2 * cnt), 2 * r0);
    }
    if (begin) for (let e = 0; e < out.index.length; e++) out.index[e] += begin;
    return out;
  }

  /** The decoder's worker: Sae.score's numbers for codes the pool merged (assembly/latent_split.ts score_codes). */
  scoreCodes(x: Float32Array, rows: number, codes: SparseCodes): Scores {
    const k = this.#k;
    const dec = this.#decoder ?? fail("INTERNAL", "score asked of a latent slice without the decoder");
    const { dIn } = this.#init.spec;
    const squared = new Float64Array(rows), normalized = new Float64Array(rows);
    const perRow = Math.max(1, codes.indices.length / rows);
    const step = Math.max(1, Math.floor(CHUNK_BYTES / (dIn * 4 + perRow * 8 + 28)));
    for (let r0 = 0; r0 < rows; r0 += step) {
      const cnt = Math.min(step, rows - r0);
      const e0 = codes.rowOffsets[r0]!, nnz = codes.rowOffsets[r0 + cnt]! - e0;
      const [xp, idx, val, rp, st, sq, nrm] = this.#layout([cnt * dIn * 4, nnz * 4, nnz * 4, (cnt + 1) * 4, codes.rowNorm ? cnt * 8 : 0, cnt * 8, cnt * 8]);
      const mem = k.memory.buffer;
      new Float32Array(mem, xp, cnt * dIn).set(x.subarray(r0 * dIn, (r0 + cnt) * dIn));
      new Uint32Array(mem, idx, nnz).set(codes.indices.subarray(e0, e0 + nnz));
      new Float32Array(mem, val, nnz).set(codes.values.subarray(e0, e0 + nnz));
      const rpv = new Uint32Array(mem, rp, cnt + 1);
      for (let r = 0; r <= cnt; r++) rpv[r] = codes.rowOffsets[r0 + r]! - e0;
      if (codes.rowNorm) new Float32Array(mem, st, 2 * cnt).set(codes.rowNorm.subarray(2 * r0, 2 * (r0 + cnt)));
      k.score_codes(dec.m, dec.ws, xp, idx, val, rp, cnt, codes.rowNorm ? st : 0, sq, nrm);
      takeScores(k.memory.buffer, sq, nrm, cnt, r0, { squared, normalized });
    }
    return { squared, normalized };
  }

  // Rows into wasm memory; NaN and infinities refused as Sae refuses them.
  #putRows(x: Float32Array, r0: number, cnt: number, width: number, ptr: number): void {
    new Float32Array(this.#k.memory.buffer, ptr, cnt * width).set(x.subarray(r0 * width, (r0 + cnt) * width));
    const bad = this.#k.find_nonfinite_f32(ptr, cnt * width);
    if (bad >= 0) {
      const r = r0 + Math.floor(bad / width);
      const what = `column ${bad % width} is ${x[r0 * width + bad]}`;
      failRow("INPUT_NONFINITE", r, (row) => `input row ${row}, ${what}`);
    }
  }

  // One io region, grown as needed (as Sae keeps its own).
  #layout(sizes: number[]): number[] {
    const aligned = sizes.map((s) => Math.ceil(s / 16) * 16);
    const total = aligned.reduce((a, b) => a + b, 0);
    if (total > this.#ioBytes) {
      if (this.#io) this.#k.free(this.#io);
      this.#ioBytes = Math.max(total, this.#ioBytes * 2);
      this.#io = this.#alloc(this.#ioBytes);
    }
    let p = this.#io;
    return aligned.map((s) => ((p += s), p - s));
  }
}
