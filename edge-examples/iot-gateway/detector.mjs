// One stream's anomaly detector. The stream's samples (C channel values each) are numbered
// n = 0, 1, … as they are accepted; window w is samples w … w + W − 1. Windows
// [learnFrom, learnFrom + learn) are learned from; every later window is scored exactly
// once, in order (`scored` is the next one to score). Until a model exists the detector
// holds the samples since learnFrom (the windows that arrive while the model trains wait
// as samples, at most `maxQueued`); then only the last W − 1. The SAE scores each window's
// features (features.mjs); its threshold was set on learning windows it was not trained on.
// Every scored window moves the channel statistics a little (`adapt`), less the further beyond
// the threshold it scores, so slow drift is followed but an anomaly is hardly learned. With
// `relearn`, a new model is learned every `relearn` windows from the last `learn` windows, if few
// of them alerted. The state is plain data, so the gateway saves it with the model and a
// restarted gateway goes on where it stopped.
import { packF32, unpackF32 } from "./f32.mjs";
import { adapt, features, featureSize, learnNorm, normProblem } from "./features.mjs";
import { learnModel } from "./learn.mjs";
import { codesProblem } from "./novelty.mjs";
import { WindowScorer } from "./scores.mjs";

/**
 * Defaults: the share of the learning windows held out to set the threshold, the drift rate per
 * window, and the windows between relearnings (0: never).
 */
export const DETECTOR_DEFAULTS = { holdout: 0.3, adapt: 0.002, relearn: 0 };
// A relearning waits while more than this many times the calibrated rate of its windows alerted.
const RELEARN_ALERTS = 2;

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
   *   holdout, adapt and relearn (DETECTOR_DEFAULTS), parts (also pass the score's residual and
   *   novelty to onResult), schedule(job) (runs a training job, e.g. one at a time; default: now),
   *   sae (a loaded model that passed modelProblem), state (from state()),
   *   onResult({ seq, score, threshold, alert }), onModel({ bytes }), onError(err)
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
      // The statistics as the last run left them, unless they do not fit this model (another file).
      this.norm = s.norm && !normProblem(s.norm, o.sae.info.dIn) ? s.norm : normOf(o.sae);
      this.o.window = this.norm.window;
      this.channels = this.norm.mean.length;
      if (!o.state) this.learnFrom = -o.learn; // a model and no history: score from the first window
    } else {
      // Learning restarts where the held samples begin (a model that was moved aside, a lost state).
      this.learnFrom = Math.max(this.learnFrom, this.next - this.samples.length);
    }
    this.modelFrom = s.modelFrom ?? this.learnFrom + this.o.learn; // the first window the model scores
    this.alerts = s.alerts ?? []; // the windows that alerted among the last `learn` (with relearn)
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
    if (this.sae && !this.training) {
      const from = Math.max(this.scored, this.learnFrom + this.o.learn, this.#firstHeld);
      this.scored = from <= last ? this.#score(from, last) : Math.max(this.scored, last + 1);
    } else if (!this.sae && !this.training && last >= this.learnFrom + this.o.learn - 1) this.#train();
    // Learning holds its windows; relearning the last `learn` ones before the next to score.
    const scoring = this.sae && !this.training;
    const keep = !scoring ? Math.min(this.learnFrom, this.next - (W - 1)) : Math.min(this.next - (W - 1), this.o.relearn > 0 ? this.scored - this.o.learn : Infinity);
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
        this.sae?.dispose(); // the model it relearned
        this.sae = sae;
        this.scorer = new WindowScorer(sae);
        this.norm = normOf(sae);
        this.modelFrom = this.learnFrom + this.o.learn;
        this.alerts = [];
        this.o.onModel?.({ bytes });
        this.resume();
      },
      (e) => {
        // Learn again from the next windows rather than hold samples for ever; a relearning is
        // tried again `relearn` windows on, the model it would have replaced going on meanwhile.
        this.training = false;
        if (this.sae) this.modelFrom = this.scored;
        else this.learnFrom = this.next - W + 1;
        this.o.onError?.(e);
        this.resume();
      },
    );
  }

  /** Whether window w should be scored by a model learned from the `learn` windows before it. */
  #relearnDue(w) {
    const { relearn, learn } = this.o;
    if (!(relearn > 0 && w - this.modelFrom >= relearn && w - learn >= this.#firstHeld)) return false;
    while (this.alerts.length && this.alerts[0] < w - learn) this.alerts.shift();
    return this.alerts.length <= RELEARN_ALERTS * this.sae.info.calibration.fpr * learn;
  }

  // Windows from..to, in order; returns the next window to score (to + 1, or the window at which a
  // relearning began: the new model scores it). One window at a time when adapting or relearning:
  // each window's features use the statistics its predecessors left.
  #score(from, to) {
    const threshold = this.scorer.threshold, W = this.o.window;
    const step = this.o.adapt > 0 || this.o.relearn > 0 ? 1 : to - from + 1;
    for (let first = from; first <= to; first += step) {
      if (this.#relearnDue(first)) {
        this.learnFrom = first - this.o.learn;
        this.#train();
        return first;
      }
      const windows = Array.from({ length: Math.min(step, to - first + 1) }, (_, i) => this.#window(first + i));
      const { score: scores, residual, novelty } = this.scorer.scores(features(windows, this.norm));
      windows.forEach((win, r) => {
        const score = scores[r], alert = score > threshold;
        // The further beyond the threshold, the less a window moves the normal: drift that
        // outruns the adaptation is still followed, an anomaly (far beyond) hardly at all.
        if (this.o.adapt > 0) adapt(this.norm, win, this.o.adapt * (alert ? (threshold / score) ** 2 : 1));
        if (alert && this.o.relearn > 0) this.alerts.push(first + r);
        const seq = this.samples[first + r + W - 1 - this.#firstHeld][0];
        this.o.onResult({ seq, score, threshold, alert, ...(this.o.parts && { residual: residual[r], novelty: novelty[r] }) });
      });
    }
    return to + 1;
  }

  /** What a restarted detector needs to go on: plain JSON. */
  state() {
    const { channels, next, learnFrom, scored, norm, modelFrom, alerts } = this;
    return { channels, next, learnFrom, scored, modelFrom, alerts, samples: this.samples.map(([seq, v]) => [seq, packF32(v)]), ...(norm && { norm }) };
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
