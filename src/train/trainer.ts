// Sparse autoencoder training with the forward pass on the wasm kernels (dense
// pre-activations) and a sparse backward: gradients flow only through the
// latents that are active (or AuxK-selected, or near a JumpReLU threshold), so a
// step costs one dense encode plus O(active · d_in) per row.
//
// Parameters live where the kernels read them: the encoder in its packed f32
// layout, W_dec rows and b_dec in wasm memory; Adam works on them in place.
import { openKernelModel, type KernelExports, type KernelModel, type PlacedModel, type WasmBuilds } from "../runtime/index.js";
import { LATENT_TILE } from "../model/layout.js";
import { fail } from "../base/errors.js";
import { buildModel, type SaeWeights } from "../model/quantize.js";
import { rng } from "../base/rng.js";
import { Adam } from "./adam.js";
import { trainOptions, type TrainOptions } from "./options.js";
import { topKIndices } from "./top-k.js";

export interface StepStats {
  /** Total loss (normalized MSE + sparsity and auxiliary terms). */
  loss: number;
  /** Σ‖x−x̂‖² / Σ‖x−mean‖² over the batch. */
  fvu: number;
  l0: number;
  auxLoss: number;
  /** Fraction of latents that have not fired within deadAfter rows. */
  deadFraction: number;
}

export interface Gradients {
  W_enc: Float32Array; // [d_in][d_sae]
  b_enc: Float32Array;
  W_dec: Float32Array; // [d_sae][d_in]
  b_dec: Float32Array;
  threshold?: Float32Array; // d loss / d theta (straight-through estimate)
}

type IoRegion = "x" | "xs" | "keys" | "theta" | "h" | "idx" | "val" | "rowptr" | "xhat" | "gx" | "gxp" | "gaux" | "auxIdx" | "auxVal";

export class SaeTrainer {
  readonly options: TrainOptions;
  readonly dIn: number;
  readonly #k: KernelExports;
  readonly #kernelName: string;
  readonly #placed: PlacedModel;
  readonly #dSaePad: number;
  readonly #io: Record<IoRegion, number>;
  /** Per-row variance of the data around its mean, fixed at creation: normalizes the loss. */
  readonly #variance: number;
  readonly #logTheta: Float32Array;
  readonly #gLogTheta: Float32Array;
  readonly #adamTheta: Adam;
  /** Parameter groups in wasm memory: parameter, gradient and Adam moments (byte offsets) and length. */
  readonly #groups: { name: string; p: number; g: number; m: number; v: number; n: number }[];
  #adamT = 0;
  readonly #lastFired: Float64Array;
  #rowsSeen = 0;
  #steps = 0;

  readonly #wT: number;

  private constructor(km: KernelModel, dIn: number, options: TrainOptions, variance: number, theta0: number, initialEncoderT: Float32Array) {
    const { exports: k, placed, alloc } = km;
    this.#k = k;
    this.#kernelName = km.kernel;
    this.#placed = placed;
    this.dIn = dIn;
    this.options = options;
    this.#variance = variance;
    const dSae = options.dSae;
    this.#dSaePad = Math.ceil(dSae / LATENT_TILE) * LATENT_TILE;
    const b = options.batchSize;
    const aux = Math.max(1, options.auxK);
    const sizes = { x: b * dIn, xs: b * dIn, keys: 2 * dSae, theta: dSae, h: b * dSae, idx: b * dSae, val: b * dSae, rowptr: b + 1, xhat: b * dIn, gx: dIn, gxp: dIn, gaux: dIn, auxIdx: aux, auxVal: aux };
    this.#io = Object.fromEntries(Object.entries(sizes).map(([name, n]) => [name, alloc(n * 4)])) as Record<IoRegion, number>;
    const r = placed.regions;
    // The encoder is trained transposed ([d_sae][d_in]): contiguous rows for the forward and the backward.
    this.#wT = alloc(dSae * dIn * 4);
    new Float32Array(k.memory.buffer, this.#wT, dSae * dIn).set(initialEncoderT);
    const group = (name: string, p: number, n: number) => {
      const [g, m, v] = [0, 1, 2].map(() => alloc(n * 4));
      new Uint8Array(k.memory.buffer, g, n * 4).fill(0);
      new Uint8Array(k.memory.buffer, m, n * 4).fill(0);
      new Uint8Array(k.memory.buffer, v, n * 4).fill(0);
      return { name, p, g, m, v, n };
    };
    this.#groups = [
      group("W_enc", this.#wT, dSae * dIn),
      group("b_enc", r.b_enc, this.#dSaePad),
      group("W_dec", r.W_dec, dSae * dIn),
      group("b_dec", r.b_dec, dIn),
    ];
    this.#logTheta = new Float32Array(dSae).fill(Math.log(theta0));
    this.#gLogTheta = new Float32Array(dSae);
    this.#adamTheta = new Adam(dSae, { lr: options.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    this.#lastFired = new Float64Array(dSae);
  }

  /** A trainer initialised from the first batch (b_dec = its geometric median; W_enc = W_decᵀ, unit rows). */
  static async create(builds: WasmBuilds, dIn: number, firstBatch: Float32Array, partial: Partial<TrainOptions> = {}): Promise<SaeTrainer> {
    const options = trainOptions(dIn, partial);
    const n = firstBatch.length / dIn;
    if (!Number.isInteger(n) || n < 1) fail("INPUT_SHAPE", `first batch has ${firstBatch.length} values, not a multiple of d_in ${dIn}`);
    checkFinite(firstBatch, dIn, 0);
    const { dSae } = options;
    const rand = rng(options.seed);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const W_dec = new Float32Array(dSae * dIn);
    for (let j = 0; j < dSae; j++) {
      const row = W_dec.subarray(j * dIn, (j + 1) * dIn);
      let s = 0;
      for (let i = 0; i < dIn; i++) s += (row[i] = gauss()) ** 2;
      const inv = 1 / Math.sqrt(s);
      for (let i = 0; i < dIn; i++) row[i] *= inv;
    }
    const W_enc = transpose(W_dec, dSae, dIn); // W_enc = W_decᵀ
    const bDec = geometricMedian(firstBatch, dIn);
    const variance = meanCenteredNorm(firstBatch, dIn);
    const rms = Math.sqrt(Math.max(variance, 1e-12) / dIn);
    const weights: SaeWeights = {
      architecture: options.architecture, dIn, dSae, k: options.architecture === "topk" ? options.k : 0,
      applyBDecToInput: options.applyBDecToInput, W_enc, b_enc: new Float32Array(dSae), W_dec, b_dec: bDec,
      threshold: options.architecture === "jumprelu" ? new Float32Array(dSae) : undefined,
    };
    const model = buildModel(weights, "f32");
    const tensors = Object.fromEntries(Object.entries(model.tensors).map(([name, t]) => [name, t.data as Float32Array]));
    const km = await openKernelModel(builds, model.spec, tensors, options.kernel);
    return new SaeTrainer(km, dIn, options, Math.max(variance, 1e-12), options.jumpThreshold * rms, W_dec.slice());
  }

  /** The kernel build running the forward pass. */
  get kernel(): string {
    return this.#kernelName;
  }

  get steps(): number {
    return this.#steps;
  }

  /** One optimizer step on a batch (rows × d_in, at most batchSize rows). */
  step(x: Float32Array): StepStats {
    const stats = this.#pass(x);
    this.#update();
    this.#steps++;
    return stats;
  }

  /** Loss and gradients without updating (SAELens orientation); for checking the backward pass. */
  lossAndGradients(x: Float32Array): { stats: StepStats; grads: Gradients } {
    const stats = this.#pass(x);
    const { dIn } = this;
    const { dSae } = this.options;
    const [enc, benc, dec, bdec] = this.#groups.map((gr) => new Float32Array(this.#k.memory.buffer, gr.g, gr.n));
    const W_enc = transpose(enc, dSae, dIn);
    const grads: Gradients = { W_enc, b_enc: benc.slice(0, dSae), W_dec: dec.slice(), b_dec: bdec.slice() };
    if (this.options.architecture === "jumprelu") grads.threshold = this.#gLogTheta.map((v, j) => v / Math.exp(this.#logTheta[j]));
    return { stats, grads };
  }

  /** The current weights in SAELens orientation (a copy). */
  weights(): SaeWeights {
    const { dIn } = this;
    const { dSae, architecture } = this.options;
    const v = this.#views();
    const W_enc = transpose(v.enc, dSae, dIn);
    return {
      architecture, dIn, dSae, k: architecture === "topk" ? this.options.k : 0, applyBDecToInput: this.options.applyBDecToInput,
      W_enc, b_enc: v.benc.slice(0, dSae), W_dec: v.dec.slice(), b_dec: v.bdec.slice(),
      threshold: architecture === "jumprelu" ? this.#logTheta.map(Math.exp) : undefined,
    };
  }

  #views() {
    const buf = this.#k.memory.buffer;
    const r = this.#placed.regions;
    const { dIn } = this;
    const { dSae } = this.options;
    return {
      enc: new Float32Array(buf, this.#wT, dSae * dIn),
      benc: new Float32Array(buf, r.b_enc, this.#dSaePad),
      dec: new Float32Array(buf, r.W_dec, dSae * dIn),
      bdec: new Float32Array(buf, r.b_dec, dIn),
    };
  }

  // Forward on the kernels: dense pre-activations, the activation's codes (in the io region) and x̂.
  #forward(x: Float32Array) {
    const { dIn } = this;
    const o = this.options;
    const { dSae } = o;
    const n = x.length / dIn;
    if (!Number.isInteger(n) || n < 1 || n > o.batchSize) fail("INPUT_SHAPE", `a batch must have 1..${o.batchSize} rows of ${dIn} values, got ${x.length} values`);
    checkFinite(x, dIn, this.#rowsSeen);
    const k = this.#k;
    const io = this.#io;
    const { m } = this.#placed;
    new Float32Array(k.memory.buffer, io.x, n * dIn).set(x);
    k.train_shift_rows(io.x, o.applyBDecToInput ? this.#placed.regions.b_dec : 0, n, dIn, io.xs);
    k.train_preact_f32(this.#wT, this.#placed.regions.b_enc, io.xs, n, dIn, dSae, io.h);
    const theta = o.architecture === "jumprelu" ? this.#logTheta.map(Math.exp) : null;
    if (theta) new Float32Array(k.memory.buffer, io.theta, dSae).set(theta);
    k.train_select(io.keys, dSae, io.h, n, dSae, o.architecture === "topk" ? o.k : dSae, theta ? io.theta : 0, io.idx, io.val, io.rowptr);
    const buf = k.memory.buffer;
    const H = new Float32Array(buf, io.h, n * dSae);
    const idx = new Uint32Array(buf, io.idx, n * dSae);
    const val = new Float32Array(buf, io.val, n * dSae);
    const rowptr = new Uint32Array(buf, io.rowptr, n + 1);
    const nnz = rowptr[n];
    k.decode_sparse(m, this.#placed.ws, io.idx, io.val, io.rowptr, n, io.xhat, 0);
    return { n, H, idx, val, rowptr, theta, nnz, xhat: new Float32Array(buf, io.xhat, n * dIn) };
  }

  /** FVU (Σ‖x−x̂‖² / Σ‖x−mean‖²) and mean L0 of the current weights on x (any number of rows). */
  evaluate(x: Float32Array): { fvu: number; l0: number } {
    const { dIn } = this;
    const rows = x.length / dIn;
    let err = 0, nnz = 0;
    const b = this.options.batchSize;
    for (let r0 = 0; r0 < rows; r0 += b) {
      const chunk = x.subarray(r0 * dIn, Math.min(rows, r0 + b) * dIn);
      const f = this.#forward(chunk);
      for (let i = 0; i < chunk.length; i++) err += (f.xhat[i] - chunk[i]) ** 2;
      nnz += f.nnz;
    }
    const variance = meanCenteredNorm(x, dIn) * rows;
    return { fvu: variance > 0 ? err / variance : 0, l0: nnz / rows };
  }

  // Forward, then the sparse backward into this.#grad.
  #pass(x: Float32Array): StepStats {
    const { dIn } = this;
    const o = this.options;
    const { dSae } = o;
    const { n, H, idx, val, rowptr, theta, nnz, xhat } = this.#forward(x);
    const k = this.#k;
    const io = this.#io;
    const { m } = this.#placed;
    const buf = k.memory.buffer;
    const v = this.#views();
    const [gEnc, gBenc, gDec, gBdec] = this.#groups;
    for (const gr of this.#groups) new Float32Array(buf, gr.g, gr.n).fill(0);
    this.#gLogTheta.fill(0);
    const gbdec = new Float32Array(buf, gBdec.g, dIn);
    const gx = new Float32Array(buf, io.gx, dIn);
    const gxp = new Float32Array(buf, io.gxp, dIn);
    const gaux = new Float32Array(buf, io.gaux, dIn);
    const auxIdx = new Int32Array(buf, io.auxIdx, Math.max(1, o.auxK));
    const auxVal = new Float32Array(buf, io.auxVal, Math.max(1, o.auxK));
    const c = 1 / (n * this.#variance);
    const dead = this.#deadLatents();
    let rec = 0, sparsity = 0, aux = 0;
    const batchVar = meanCenteredNorm(x, dIn) * n;
    let xpPtr = 0; // x' of the current row, in io.xs
    const backward = (idxPtr: number, valPtr: number, start: number, end: number, extra: number, gradPtr: number) =>
      k.train_backward_row_t(m, this.#wT, gEnc.g, gDec.g, gBenc.g, idxPtr, valPtr, start, end, extra, gradPtr, xpPtr, io.gxp);

    for (let r = 0; r < n; r++) {
      const xr = x.subarray(r * dIn, (r + 1) * dIn);
      const hr = H.subarray(r * dSae, (r + 1) * dSae);
      xpPtr = io.xs + r * dIn * 4;
      gxp.fill(0);
      let err = 0;
      for (let i = 0; i < dIn; i++) {
        const e = xhat[r * dIn + i] - xr[i];
        err += e * e;
        gx[i] = 2 * c * e;
        gbdec[i] += gx[i];
      }
      rec += c * err;
      const extra = o.architecture === "standard" ? o.l1 / n : 0;
      backward(io.idx, io.val, rowptr[r], rowptr[r + 1], extra, io.gx);
      for (let e = rowptr[r]; e < rowptr[r + 1]; e++) {
        this.#lastFired[idx[e]] = this.#rowsSeen + r;
        sparsity += extra * val[e];
      }
      if (theta) {
        // Straight-through estimates for theta (Rajamanoharan et al. 2024), rectangle kernel of width eps.
        const eps = o.jumpBandwidth * Math.sqrt(this.#variance / dIn);
        for (let j = 0; j < dSae; j++) {
          if (hr[j] > theta[j] && hr[j] > 0) sparsity += o.l0 / n;
          if (Math.abs(hr[j] - theta[j]) < eps / 2) {
            let d = 0;
            for (let i = 0; i < dIn; i++) d += v.dec[j * dIn + i] * gx[i];
            this.#gLogTheta[j] += (d * (-theta[j] / eps) - o.l0 / n / eps) * theta[j];
          }
        }
      }
      if (dead.length && o.auxK > 0) {
        // AuxK (Gao et al. 2024): the top auxK dead latents model the residual x − x̂.
        const cnt = topKIndices(hr, o.auxK, auxIdx, dead, dead.length);
        let used = 0;
        for (let s2 = 0; s2 < cnt; s2++) {
          if (hr[auxIdx[s2]] > 0) {
            auxIdx[used] = auxIdx[s2];
            auxVal[used++] = hr[auxIdx[s2]];
          }
        }
        if (used) {
          k.train_decode_nobias(m, io.auxIdx, io.auxVal, 0, used, io.gaux);
          let a = 0;
          for (let i = 0; i < dIn; i++) {
            const diff = gaux[i] + (xhat[r * dIn + i] - xr[i]); // ê − (x − x̂)
            a += diff * diff;
            gaux[i] = 2 * o.auxAlpha * c * diff;
          }
          aux += o.auxAlpha * c * a;
          backward(io.auxIdx, io.auxVal, 0, used, 0, io.gaux);
        }
      }
      if (o.applyBDecToInput) for (let i = 0; i < dIn; i++) gbdec[i] -= gxp[i];
    }
    this.#rowsSeen += n;
    const loss = rec + sparsity + aux;
    if (!Number.isFinite(loss)) {
      fail("TRAINING_DIVERGED", `the loss became ${loss} at step ${this.#steps} (row ${this.#rowsSeen}); try a lower --lr`);
    }
    return { loss, fvu: batchVar > 0 ? (rec / c) / batchVar : 0, l0: nnz / n, auxLoss: aux, deadFraction: dead.length / dSae };
  }

  /** Latents that have not fired within the last deadAfter rows (AuxK's candidates). */
  deadLatents(): Int32Array {
    return this.#deadLatents();
  }

  #deadLatents(): Int32Array {
    const out: number[] = [];
    if (this.options.auxK > 0 && this.#rowsSeen >= this.options.deadAfter) {
      for (let j = 0; j < this.options.dSae; j++) if (this.#rowsSeen - this.#lastFired[j] >= this.options.deadAfter) out.push(j);
    }
    return Int32Array.from(out);
  }

  // Adam on every parameter; decoder rows stay unit norm (the gradient's radial part removed first).
  #update(): void {
    const k = this.#k;
    const { m } = this.#placed;
    const [, , gDec] = this.#groups;
    k.train_project_decoder_grad(m, gDec.g);
    for (const gr of this.#groups) {
      const bad = k.find_nonfinite_f32(gr.g, gr.n);
      if (bad >= 0) fail("TRAINING_DIVERGED", `the ${gr.name} gradient became non-finite at step ${this.#steps}; try a lower --lr`);
    }
    const { lr } = this.options;
    const b1 = 0.9, b2 = 0.999;
    this.#adamT++;
    const lrc = lr / (1 - b1 ** this.#adamT);
    const c2 = 1 - b2 ** this.#adamT;
    for (const gr of this.#groups) k.adam_f32(gr.p, gr.g, gr.m, gr.v, gr.n, lrc, b1, b2, 1e-8, c2);
    if (this.options.architecture === "jumprelu") this.#adamTheta.step(this.#logTheta, this.#gLogTheta);
    k.train_normalize_decoder(m);
  }
}

/** [rows][cols] → [cols][rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

function checkFinite(x: Float32Array, dIn: number, rowBase: number): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) fail("INPUT_NONFINITE", `training row ${rowBase + Math.floor(i / dIn)}, column ${i % dIn} is ${x[i]}`);
  }
}

/** Mean over rows of ‖x − mean(x)‖². */
export function meanCenteredNorm(x: Float32Array, dIn: number): number {
  const n = x.length / dIn;
  const mean = new Float64Array(dIn);
  for (let r = 0; r < n; r++) for (let i = 0; i < dIn; i++) mean[i] += x[r * dIn + i] / n;
  let s = 0;
  for (let r = 0; r < n; r++) for (let i = 0; i < dIn; i++) s += (x[r * dIn + i] - mean[i]) ** 2;
  return s / n;
}

/** Geometric median of the rows (Weiszfeld iterations from the mean). */
export function geometricMedian(x: Float32Array, dIn: number, iterations = 32): Float32Array {
  const n = x.length / dIn;
  const y = new Float64Array(dIn);
  for (let r = 0; r < n; r++) for (let i = 0; i < dIn; i++) y[i] += x[r * dIn + i] / n;
  const next = new Float64Array(dIn);
  for (let it = 0; it < iterations; it++) {
    next.fill(0);
    let wsum = 0;
    for (let r = 0; r < n; r++) {
      let d = 0;
      for (let i = 0; i < dIn; i++) d += (x[r * dIn + i] - y[i]) ** 2;
      const w = 1 / Math.max(Math.sqrt(d), 1e-8);
      wsum += w;
      for (let i = 0; i < dIn; i++) next[i] += w * x[r * dIn + i];
    }
    for (let i = 0; i < dIn; i++) y[i] = next[i] / wsum;
  }
  return Float32Array.from(y);
}
