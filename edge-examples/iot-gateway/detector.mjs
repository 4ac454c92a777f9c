// One stream's anomaly detector. The stream's samples (C channel values each) are numbered
// n = 0, 1, … as they are accepted; window w is samples w … w + W − 1. Windows
// [learnFrom, learnFrom + learn) are learned from; every later window is scored exactly
// once, in order (`scored` is the next one to score). Until a model exists the detector
// holds the samples since learnFrom (the windows that arrive while the model trains wait
// as samples, at most `maxQueued`); then only the last W − 1. The SAE scores each window's
// features (features.mjs); its threshold was set on learning windows it was not trained on.
// Windows that score as normal move the channel means a little (`adapt`), so slow drift is
// followed but an anomaly, which alerts, is not learned. The state is plain data, so the gateway
// saves it with the model and a restarted gateway goes on where it stopped.
import { packF32, unpackF32 } from "./f32.mjs";
import { adapt, features, featureSize, learnNorm, normProblem } from "./features.mjs";
import { learnModel } from "./learn.mjs";
import { codesProblem } from "./novelty.mjs";
import { WindowScorer } from "./scores.mjs";

/** Defaults: the share of the learning windows held out to set the threshold, and the drift rate per normal window. */
export const DETECTOR_DEFAULTS = { holdout: 0.3, adapt: 0.002 };

/** Why a loaded model cannot score a stream, or null. */
export function modelProblem(sae) {
  const p = sae.info.provenance ?? {};
  const problem = normProblem(p, sae.info.dIn);
  if (problem) return problem;
  const scalesOk = Array.isArray(p.scales) && p.scales.length === 2 && p.scales.every((s) => Number.isFinite(s) && s > 0);
  if (!sae.info.calibration || !Number.isFinite(sae.info.calibration.threshold) || !Number.isFinite(p.threshold) || !scalesOk) return "it is not calibrated";
  return codesProblem(p.codes, sae.info.dSae);
}

export class StreamDetector {
  /**
   * @param {object} o window (samples per vector), learn (windows to learn from), maxQueued
   *   (samples held while the model trains; default unlimited), train (learnModel options),
   *   holdout and adapt (DETECTOR_DEFAULTS), parts (also pass the score's residual and novelty to onResult), schedule(job) (runs a training job, e.g. one at a time; default: now), sae (a loaded model
   *   that passed modelProblem), state (from state()), onResult({ seq, score, threshold, alert }),
   *   onModel({ bytes }), onError(err)
   */
  constructor(o) {
    this.o = { ...DETECTOR_DEFAULTS, ...o };
    this.sae = null;
    this.scorer = null;
    this.norm = null; // the feature statistics, adapted to drift
    this.training = false;
    const s = o.state ?? {};
    this.channels = s.channels ?? 0;
    this.next = s.next ?? 0; // number of the next sample
    this.learnFrom = s.learnFrom ?? 0;
    this.scored = s.scored ?? 0; // the next window to score
    this.samples = (s.samples ?? []).map(([seq, v]) => [seq, unpackF32(v)]); // samples next − length … next − 1
    if (o.sae) {
      this.sae = o.sae;
      this.scorer = new WindowScorer(o.sae);
      this.norm = s.norm ?? normOf(o.sae);
      this.o.window = this.norm.window;
      this.channels = this.norm.mean.length;
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
    // The SAE learns from the first windows; the threshold is set on the rest, which it has not
    // seen, so fresh normal windows alert at about the calibrated rate. (With fewer than 4
    // windows there is nothing to hold out: all of them do both.)
    const cut = n < 4 ? n : Math.min(n - 2, Math.max(2, Math.round(n * (1 - this.o.holdout))));
    const norm = learnNorm(windows.slice(0, cut), W, C);
    const d = featureSize(W, C);
    const rows = features(windows, norm);
    const heldOut = n < 4 ? rows : rows.subarray(cut * d);
    const schedule = this.o.schedule ?? ((job) => job());
    schedule(() => learnModel(rows.subarray(0, cut * d), heldOut, d, norm, this.o.train)).then(
      ({ sae, bytes }) => {
        this.training = false;
        if (this.disposed) return sae.dispose();
        this.sae = sae;
        this.scorer = new WindowScorer(sae);
        this.norm = normOf(sae);
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

  // One window at a time when adapting: each window's features use the means its predecessors left.
  #score(from, to) {
    const threshold = this.scorer.threshold, W = this.o.window;
    const step = this.o.adapt > 0 ? 1 : to - from + 1;
    for (let first = from; first <= to; first += step) {
      const windows = Array.from({ length: Math.min(step, to - first + 1) }, (_, i) => this.#window(first + i));
      const { score: scores, residual, novelty } = this.scorer.scores(features(windows, this.norm));
      windows.forEach((win, r) => {
        const score = scores[r], alert = score > threshold;
        // The further beyond the threshold, the less a window moves the normal: drift that
        // outruns the adaptation is still followed, an anomaly (far beyond) hardly at all.
        if (this.o.adapt > 0) adapt(this.norm, win, this.o.adapt * (alert ? (threshold / score) ** 2 : 1));
        const seq = this.samples[first + r + W - 1 - this.#firstHeld][0];
        this.o.onResult({ seq, score, threshold, alert, ...(this.o.parts && { residual: residual[r], novelty: novelty[r] }) });
      });
    }
  }

  /** What a restarted detector needs to go on: plain JSON. */
  state() {
    const { channels, next, learnFrom, scored, norm } = this;
    return { channels, next, learnFrom, scored, samples: this.samples.map(([seq, v]) => [seq, packF32(v)]), ...(norm && { norm }) };
  }

  dispose() {
    this.disposed = true;
    this.sae?.dispose();
  }
}

/** The feature statistics in a model's provenance, as a copy the detector adapts. */
function normOf(sae) {
  const { window, mean, std, corr, step, spread, spreadScale } = sae.info.provenance;
  return structuredClone({ window, mean, std, corr, step, spread, spreadScale });
}
