// The browser page's verdict threshold (edge-examples/browser/calibration.json) is
// the one the Node library calibrates for the default model on the MNIST training digits.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { calibrate } from "../../src/anomaly/scoring.js";
import { concatRows, mnistDigits, splitDigit } from "../../src/demo/mnist-data.js";
import { loadSae } from "../../src/adapters/node/index.js";

describe("the browser page's threshold", () => {
  it("equals calibrate() on the training digits at the stated mode and FPR", async () => {
    const stored = JSON.parse(readFileSync("edge-examples/browser/calibration.json", "utf8"));
    const sae = await loadSae(stored.model);
    const train = concatRows(mnistDigits().map((d) => splitDigit(d).train));
    const cal = calibrate(sae, train, { mode: stored.mode, fpr: stored.fpr });
    sae.dispose();
    expect({ rows: stored.rows, threshold: stored.threshold }).toEqual({ rows: cal.rows, threshold: cal.threshold });
  });
});
