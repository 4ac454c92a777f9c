// One stream's anomaly detector. The stream's samples (C channel values each) are numbered
// n = 0, 1, … as they are accepted; window w is samples w … w + W − 1. Windows
// [learnFrom, learnFrom + learn) are learned from; every later window is scored exactly
// once, in order (`scored` is the next one to score). Until a model exists the detector
// holds the samples since learnFrom (the windows that arrive while the model trains wait
// as samples, at most `maxQueued`); then only the last W − 1. The state is plain data, so
// the gateway saves it with the model and a restarted gateway goes on where it stopped.
import { packF32, unpackF32 } from "./f32.mjs";
import { learnModel } from "./learn.mjs";

/** Why a loaded model cannot score a stream, or null. */
export function modelProblem(sae) {
  const m = sae.info.provenance ?? {};
  if (!(Number.isInteger(m.window) && m.window > 0 && Array.isArray(m.mean) && Array.isArray(m.std) && m.mean.length > 0 && m.std.length === m.mean.length)) {
    return "it has no window/mean/std in its provenance";
  }
  if (![...m.mean, ...m.std].every(Number.isFinite) || !m.std.every((s) => s > 0)) return "its channel mean/std are not finite positive numbers";
  if (m.window * m.mean.length !== sae.info.dIn) return `its window ${m.window} × ${m.mean.length} channels is not its input size ${sae.info.dIn}`;
  if (!sae.info.calibration || !Number.isFinite(sae.info.calibration.threshold)) return "it is not calibrated";
  return null;
}

export class StreamDetector {
  /**
   * @param {object} o window (samples per vector), learn (windows to learn from), maxQueued
   *   (samples held while the model trains; default unlimited), train (learnModel options),
   *   schedule(job) (runs a training job, e.g. one at a time; default: now), sae (a loaded model
   *   that passed modelProblem), state (from state()), onResult({ seq, score, threshold, alert }),
   *   onModel({ bytes }), onError(err)
   */
  constructor(o) {
    this.o = o;
    this.sae = null;
    this.meta = null;
    this.training = false;
    const s = o.state ?? {};
    this.channels = s.channels ?? 0;
    this.next = s.next ?? 0; // number of the next sample
    this.learnFrom = s.learnFrom ?? 0;
    this.scored = s.scored ?? 0; // the next window to score
    this.samples = (s.samples ?? []).map(([seq, v]) => [seq, unpackF32(v)]); // samples next − length … next − 1
    if (o.sae) {
      this.sae = o.sae;
      this.meta = o.sae.info.provenance;
      this.o.window = this.meta.window;
      this.channels = this.meta.mean.length;
      if (!o.state) this.learnFrom = -o.learn; // a model and no history: score from the first window
    } else {
      // Learning restarts where the held samples begin (a model that was moved aside, a lost state).
      this.learnFrom = Math.max(this.learnFrom, this.next - this.samples.length);
    }
    this.resume(); // windows a saved state still owes
  }

  get #firstHeld() {
    return this.next - this.samples.length;
  }

  /** Whether a sample has the stream's channel count (the first sample sets it). */
  fits(values) {
    if (this.channels === 0) this.channels = values.length;
    return values.length === this.channels;
  }

  /** Whether the next sample would be dropped: the model is training and the queue is full. */
  get full() {
    return this.training && this.samples.length >= this.o.learn + this.o.window - 1 + (this.o.maxQueued ?? Infinity);
  }

  /** Adds one sample (of `channels` values); returns false and ignores it if it does not fit. Check full first. */
  push(seq, values) {
    if (!this.fits(values)) return false;
    this.samples.push([seq, values]);
    this.next++;
    this.resume();
    return true;
  }

  /** Scores what can be scored, starts learning when enough windows are held, drops what is not needed. */
  resume() {
    const W = this.o.window, last = this.next - W; // the newest whole window
    if (this.sae) {
      const from = Math.max(this.scored, this.learnFrom + this.o.learn, this.#firstHeld);
      if (from <= last) this.#score(from, last);
      this.scored = Math.max(this.scored, last + 1);
    } else if (!this.training && last >= this.learnFrom + this.o.learn - 1) this.#train();
    const keep = this.sae ? this.next - (W - 1) : Math.min(this.learnFrom, this.next - (W - 1));
    if (keep > this.#firstHeld) this.samples.splice(0, keep - this.#firstHeld);
  }

  #window(w) {
    const W = this.o.window, C = this.channels, raw = new Float32Array(W * C);
    for (let i = 0; i < W; i++) raw.set(this.samples[w - this.#firstHeld + i][1], i * C);
    return raw;
  }

  #train() {
    this.training = true;
    const C = this.channels, W = this.o.window, n = this.o.learn;
    const windows = Array.from({ length: n }, (_, i) => this.#window(this.learnFrom + i));
    const mean = new Array(C).fill(0), std = new Array(C).fill(0);
    // Channel statistics over the learning samples (each window's newest sample).
    for (const w of windows) for (let c = 0; c < C; c++) mean[c] += w[(W - 1) * C + c] / n;
    for (const w of windows) for (let c = 0; c < C; c++) std[c] += (w[(W - 1) * C + c] - mean[c]) ** 2 / n;
    for (let c = 0; c < C; c++) std[c] = Math.max(Math.sqrt(std[c]), 1e-6);
    const meta = { window: W, mean, std };
    const rows = new Float32Array(n * W * C);
    windows.forEach((w, r) => rows.set(standardize(w, meta), r * W * C));
    const schedule = this.o.schedule ?? ((job) => job());
    schedule(() => learnModel(rows, W * C, meta, this.o.train)).then(
      ({ sae, bytes }) => {
        this.training = false;
        if (this.disposed) return sae.dispose();
        this.sae = sae;
        this.meta = meta;
        this.o.onModel?.({ bytes });
        this.resume();
      },
      (e) => {
        // Learn again from the next windows rather than hold samples for ever.
        this.training = false;
        this.learnFrom = this.next - W + 1;
        this.o.onError?.(e);
        this.resume();
      },
    );
  }

  #score(from, to) {
    const d = this.o.window * this.channels, n = to - from + 1;
    const x = new Float32Array(n * d);
    for (let w = from; w <= to; w++) x.set(standardize(this.#window(w), this.meta), (w - from) * d);
    const scores = this.sae.score(x).squared;
    const threshold = this.sae.info.calibration.threshold;
    for (let r = 0; r < n; r++) {
      const seq = this.samples[from + r + this.o.window - 1 - this.#firstHeld][0];
      this.o.onResult({ seq, score: scores[r], threshold, alert: scores[r] > threshold });
    }
  }

  /** What a restarted detector needs to go on: plain JSON. */
  state() {
    const { channels, next, learnFrom, scored } = this;
    return { channels, next, learnFrom, scored, samples: this.samples.map(([seq, v]) => [seq, packF32(v)]) };
  }

  dispose() {
    this.disposed = true;
    this.sae?.dispose();
  }
}

function standardize(raw, { mean, std }) {
  const C = mean.length;
  return raw.map((v, i) => (v - mean[i % C]) / std[i % C]);
}
