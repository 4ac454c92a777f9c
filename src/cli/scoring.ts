// What score, calibrate and eval share: the --mode option, a calibration file, scoring in batches.
import { Option } from "commander";
import { fail } from "../base/errors.js";
import { anomalyScores } from "../anomaly/scoring.js";
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
