// One stream's anomaly detector: a sliding window over its samples (each sample is C
// channel values), learning from the first `learn` windows, then one score per window.
// push() is synchronous; while the model trains, windows wait in order and are scored
// when it is ready, so nothing is dropped or reordered.
import { learnModel } from "./learn.mjs";

export class StreamDetector {
  /**
   * @param {object} o window (samples per vector), learn (windows to learn from),
   *   train (learnModel options), sae (a loaded, calibrated model to use instead of learning),
   *   onResult({ seq, score, threshold, alert }), onModel({ bytes }), onError(err)
   */
  constructor(o) {
    this.o = o;
    this.samples = []; // the last `window` samples (Float32Array of C values each)
    this.channels = 0;
    this.learning = []; // raw windows kept for training
    this.waiting = []; // [seq, raw window] that arrived while training
    this.sae = null;
    this.meta = null;
    if (o.sae) this.#useModel(o.sae);
    this.state = this.sae ? "scoring" : "learning";
  }

  #useModel(sae) {
    const m = sae.info.provenance;
    if (!(m.window > 0 && Array.isArray(m.mean) && Array.isArray(m.std))) throw new Error("model has no window/mean/std in its provenance");
    if (!sae.info.calibration) throw new Error("model is not calibrated");
    this.sae = sae;
    this.meta = m;
    this.o.window = m.window;
  }

  /** Whether a sample has the stream's channel count (the first sample sets it). */
  fits(values) {
    if (this.channels === 0) this.channels = this.meta?.mean.length ?? values.length;
    return values.length === this.channels;
  }

  /** Adds one sample (of `channels` values); returns false and ignores it if it does not fit. */
  push(seq, values) {
    if (!this.fits(values)) return false;
    this.samples.push(values);
    if (this.samples.length > this.o.window) this.samples.shift();
    if (this.samples.length < this.o.window) return true;
    const raw = new Float32Array(this.o.window * this.channels);
    this.samples.forEach((s, i) => raw.set(s, i * this.channels));
    if (this.state === "scoring") this.#score([[seq, raw]]);
    else if (this.state === "training") this.waiting.push([seq, raw]);
    else {
      this.learning.push(raw);
      if (this.learning.length >= this.o.learn) this.#train();
    }
    return true;
  }

  async #train() {
    this.state = "training";
    const C = this.channels, W = this.o.window, n = this.learning.length;
    const mean = new Array(C).fill(0), std = new Array(C).fill(0);
    // Channel statistics over the learning samples (each window's newest sample).
    for (const w of this.learning) for (let c = 0; c < C; c++) mean[c] += w[(W - 1) * C + c] / n;
    for (const w of this.learning) for (let c = 0; c < C; c++) std[c] += (w[(W - 1) * C + c] - mean[c]) ** 2 / n;
    for (let c = 0; c < C; c++) std[c] = Math.max(Math.sqrt(std[c]), 1e-6);
    this.meta = { window: W, mean, std };
    const rows = new Float32Array(n * W * C);
    this.learning.forEach((w, r) => rows.set(this.#standardize(w), r * W * C));
    this.learning = [];
    try {
      const { sae, bytes } = await learnModel(rows, W * C, this.meta, this.o.train);
      this.sae = sae;
      this.state = "scoring";
      this.o.onModel?.({ bytes });
      const queued = this.waiting;
      this.waiting = [];
      this.#score(queued);
    } catch (e) {
      this.o.onError?.(e);
    }
  }

  #standardize(raw) {
    const { mean, std } = this.meta, C = mean.length;
    return raw.map((v, i) => (v - mean[i % C]) / std[i % C]);
  }

  #score(items) {
    if (items.length === 0) return;
    const d = items[0][1].length;
    const x = new Float32Array(items.length * d);
    items.forEach(([, raw], r) => x.set(this.#standardize(raw), r * d));
    const scores = this.sae.score(x).squared;
    const threshold = this.sae.info.calibration.threshold;
    items.forEach(([seq], r) => this.o.onResult({ seq, score: scores[r], threshold, alert: scores[r] > threshold }));
  }

  dispose() {
    this.sae?.dispose();
  }
}
