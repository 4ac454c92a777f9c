// What score, calibrate and eval share: the --mode option, a calibration file, scoring in batches.
import { Option } from "commander";
import { fail } from "../base/errors.js";
import { anomalyScores } from "../anomaly/scoring.js";
import { fitDetector, METHODS, type Detector, type DetectorOptions, type Method } from "../anomaly/detector.js";
import { SCORE_MODES, checkCalibration, type Calibration, type ScoreMode } from "../model/spec.js";
import type { Sae } from "../runtime/index.js";
import { readBytes } from "./io.js";
import { batches } from "./shared.js";

export const modeOption = () => new Option("--mode <mode>", "raw: ‖x−x̂‖²; norm: / ‖x‖²; var: per-dimension residual variance from calibration").choices(SCORE_MODES);

/** The calibration in the JSON file `path` (written by calibrate --json), else the model's own. */
export async function calibrationOf(sae: Sae, path: string | undefined): Promise<Calibration | undefined> {
  if (!path) return sae.info.calibration;
  let json: unknown;
  const bytes = await readBytes(path, "calibration");
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    fail("INVALID_ARGUMENT", `${path} is not JSON`);
  }
  try {
    return checkCalibration(json, sae.info.dIn, sae.info.dSae);
  } catch (e) {
    return fail("INVALID_ARGUMENT", `${path}: ${(e as Error).message}`);
  }
}

/** Scores every row in batches (errors name rows of the whole input). */
export function scoreAll(sae: Sae, data: Float32Array, rows: number, mode: ScoreMode, calibration?: Calibration): Float64Array {
  const { dIn } = sae.info;
  const scores = new Float64Array(rows);
  batches(rows, "score", (r0, r1) => scores.set(anomalyScores(sae, data.subarray(r0 * dIn, r1 * dIn), mode, calibration?.residualVariance), r0));
  return scores;
}

export const methodOption = () =>
  new Option("--method <method>", "residual: reconstruction error; novelty: distance to the nearest normal code; surprise: rarity of the active latents; combined: the three, standardized on held-out normal rows (all but residual need --normal; residual with --normal gets a held-out threshold)").choices(METHODS).default("residual");

/** The share of --normal rows held out from the code index and densities, for scales and thresholds. */
export const HELD_OUT = 0.25;

/** A detector learned from normal rows: the first 75% learn, the last 25% are held out. */
export function detectorFrom(sae: Sae, normal: Float32Array, rows: number, options: DetectorOptions): Detector {
  const { dIn } = sae.info;
  const learnRows = Math.round((1 - HELD_OUT) * rows);
  if (learnRows < 1 || rows - learnRows < 1) fail("INPUT_SHAPE", `--normal needs at least 2 rows (${Math.round(100 * (1 - HELD_OUT))}% learn, the rest set the threshold), got ${rows}`);
  return fitDetector(sae, { learn: normal.subarray(0, learnRows * dIn), heldOut: normal.subarray(learnRows * dIn, rows * dIn) }, options);
}

/** One method's score for every row, in batches. */
export function detectAll(detector: Detector, method: Method, data: Float32Array, rows: number, dIn: number): Float64Array {
  const scores = new Float64Array(rows);
  batches(rows, "score", (r0, r1) => scores.set(detector.scores(data.subarray(r0 * dIn, r1 * dIn))[method], r0));
  return scores;
}
