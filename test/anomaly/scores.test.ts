// Scores beyond the residual against plain references written here from their definitions
// (dense loops, no shared code with src/), on seeded random codes and images.
import { describe, expect, it } from "vitest";
import { NormalCodeIndex } from "../../src/anomaly/code-index.js";
import { latentSurprise } from "../../src/anomaly/surprise.js";
import { pooledResidual } from "../../src/anomaly/pooled-residual.js";
import { conformalThreshold } from "../../src/anomaly/threshold.js";
import { fitDetector } from "../../src/anomaly/detector.js";
import { buildModel, loadSae, serializeModel } from "../../src/adapters/node/index.js";
import { makeRng } from "../reference/rng.js";
import { atomDictionary } from "./atom-dictionary.js";

const r = makeRng(1414);

/** Random sparse codes as dense rows and as CSR; some rows empty, latents drawn from a small pool so rows overlap or not. */
function randomCodes(rows: number, dSae: number, maxActive: number) {
  const dense = new Float32Array(rows * dSae);
  const rowOffsets = new Uint32Array(rows + 1);
  const indices: number[] = [], values: number[] = [];
  for (let row = 0; row < rows; row++) {
    const active = new Set<number>();
    const n = r.int(maxActive + 1);
    while (active.size < n) active.add(r.int(dSae));
    for (const j of active) {
      const v = r.uniform(0.1, 3);
      dense[row * dSae + j] = Math.fround(v);
      indices.push(j);
      values.push(v);
    }
    rowOffsets[row + 1] = indices.length;
  }
  return { dense, csr: { rows, dSae, rowOffsets, indices: Uint32Array.from(indices), values: Float32Array.from(values) } };
}

describe("code novelty", () => {
  it("is the squared distance to the k-th nearest normal code, rows sharing no latent included", () => {
    const dSae = 40;
    const normal = randomCodes(60, dSae, 4), query = randomCodes(50, dSae, 4);
    const index = new NormalCodeIndex(normal.csr);
    for (const k of [1, 3, 60]) {
      const got = index.novelty(query.csr, k);
      for (let q = 0; q < 50; q++) {
        const d: number[] = [];
        for (let n = 0; n < 60; n++) {
          let s = 0;
          for (let j = 0; j < dSae; j++) s += (query.dense[q * dSae + j] - normal.dense[n * dSae + j]) ** 2;
          d.push(s);
        }
        d.sort((a, b) => a - b);
        expect(got[q], `row ${q}, k ${k}`).toBeCloseTo(d[k - 1], 9);
      }
    }
  });

  it("is 0 for a code the index holds and refuses a k it cannot answer", () => {
    const normal = randomCodes(10, 16, 3);
    const index = new NormalCodeIndex(normal.csr);
    expect(Array.from(index.novelty(normal.csr, 1))).toEqual(new Array(10).fill(0));
    expect(() => index.novelty(normal.csr, 11)).toThrow(/k must be/);
    expect(() => index.novelty({ ...normal.csr, dSae: 17 }, 1)).toThrow(/latents/);
  });
});

describe("rare-latent surprise", () => {
  it("sums −log((count + 1) / (rows + 2)) over the active latents", () => {
    const dSae = 30, rows = 200;
    const normal = randomCodes(rows, dSae, 5), query = randomCodes(20, dSae, 5);
    const count = new Array(dSae).fill(0);
    for (let n = 0; n < rows; n++) for (let j = 0; j < dSae; j++) if (normal.dense[n * dSae + j] !== 0) count[j]++;
    const got = latentSurprise(query.csr, count.map((c) => c / rows), rows);
    for (let q = 0; q < 20; q++) {
      let want = 0;
      for (let j = 0; j < dSae; j++) if (query.dense[q * dSae + j] !== 0) want -= Math.log((count[j] + 1) / (rows + 2));
      expect(got[q]).toBeCloseTo(want, 10);
    }
  });
});

describe("pooled residual", () => {
  it("sums the residual over each cell's clipped neighbourhood, squares, and divides by ‖x‖²", () => {
    for (const [h, w, radius] of [[7, 5, 1], [4, 9, 2], [1, 12, 3], [6, 6, 0]]) {
      const d = h * w, rows = 3;
      const x = r.normals(rows * d), xhat = r.normals(rows * d);
      const got = pooledResidual(x, xhat, { height: h, width: w, radius });
      for (let row = 0; row < rows; row++) {
        let s = 0, nrm = 0;
        for (let y = 0; y < h; y++) {
          for (let c = 0; c < w; c++) {
            nrm += x[row * d + y * w + c] ** 2;
            let a = 0;
            for (let yy = y - radius; yy <= y + radius; yy++) for (let cc = c - radius; cc <= c + radius; cc++) if (yy >= 0 && yy < h && cc >= 0 && cc < w) a += x[row * d + yy * w + cc] - xhat[row * d + yy * w + cc];
            s += a * a;
          }
        }
        expect(got[row], `${h}×${w} r${radius}`).toBeCloseTo(s / nrm, 9);
      }
    }
  });

  it("scores a stroke drawn a pixel off below a stroke missing, where the plain residual scores it twice as high", () => {
    const grid = { height: 5, width: 5, radius: 1 };
    const x = new Float32Array(25), shifted = new Float32Array(25), missing = new Float32Array(25);
    for (let y = 0; y < 5; y++) (x[y * 5 + 2] = 1), (shifted[y * 5 + 3] = 1);
    // Plain: shifted 10 / 5, missing 5 / 5. Pooled: the ± columns cancel where their windows overlap.
    expect(pooledResidual(x, shifted, { ...grid, radius: 0 })[0]).toBe(2);
    expect(pooledResidual(x, missing, { ...grid, radius: 0 })[0]).toBe(1);
    expect(pooledResidual(x, shifted, grid)[0]).toBeCloseTo(70 / 5, 12);
    expect(pooledResidual(x, missing, grid)[0]).toBeCloseTo(105 / 5, 12);
    expect(() => pooledResidual(x, shifted, { height: 4, width: 5, radius: 1 })).toThrow(/does not cover/);
  });
});

describe("conformal threshold", () => {
  it("is the ⌈(n + 1)(1 − fpr)⌉-th smallest held-out score", () => {
    const s = Array.from({ length: 99 }, (_, i) => (i * 37) % 99);
    expect(conformalThreshold(s, 0.05)).toBe(94); // ⌈100 · 0.95⌉ = 95th smallest of 0..98
    expect(conformalThreshold(s, 0.001)).toBe(98); // too few rows: the largest
    expect(() => conformalThreshold([], 0.01)).toThrow(/at least 1/);
    expect(() => conformalThreshold([1], 1)).toThrow(/fpr/);
  });

  it("keeps the false-alert rate on fresh rows at or under fpr (averaged over splits)", () => {
    for (const fpr of [0.01, 0.05]) {
      let alerts = 0, fresh = 0;
      for (let t = 0; t < 200; t++) {
        const held = Array.from({ length: 199 }, () => r.normal());
        const th = conformalThreshold(held, fpr);
        for (let i = 0; i < 100; i++) (alerts += r.normal() > th ? 1 : 0), fresh++;
      }
      expect(alerts / fresh, `fpr ${fpr}`).toBeLessThanOrEqual(fpr * 1.15);
      expect(alerts / fresh, `fpr ${fpr}`).toBeGreaterThanOrEqual(fpr * 0.7);
    }
  });
});

describe("fitDetector", () => {
  // Normal rows use atoms 0..7 of a unit dictionary, anomalies atoms 8..15.
  const dIn = 12, dSae = 16;
  const { dict, rows: atomRows } = atomDictionary(r, dIn, dSae);
  const rows = (n: number, from: number) => atomRows(n, from, 8);

  it("sets each method's threshold on the held-out rows and combines the standardized scores", async () => {
    const sae = await loadSae(serializeModel(buildModel(dict, "int8")));
    const learn = rows(300, 0), heldOut = rows(199, 0), odd = rows(50, 8);
    const det = fitDetector(sae, { learn, heldOut }, { fpr: 0.05, mode: "raw" });
    const held = det.scores(heldOut);
    for (const m of ["residual", "novelty", "surprise", "combined"] as const) {
      const sorted = Array.from(held[m]).sort((a, b) => a - b);
      expect(det.thresholds[m], m).toBe(sorted[189]); // ⌈200 · 0.95⌉ = 190th smallest
    }
    // combined = mean over the three of (log1p(s / median) − mean) / sd on the held-out rows.
    const scale = (s: Float64Array) => {
      const median = Array.from(s).sort((a, b) => a - b)[s.length >> 1];
      const l = Array.from(s, (v) => Math.log1p(v / median));
      const mean = l.reduce((a, b) => a + b, 0) / l.length;
      return (v: number) => (Math.log1p(v / median) - mean) / Math.sqrt(l.reduce((a, b) => a + (b - mean) ** 2, 0) / l.length);
    };
    const z = (["residual", "novelty", "surprise"] as const).map((m) => scale(held[m]));
    const o = det.scores(odd);
    for (let i = 0; i < 50; i++) expect(o.combined[i]).toBeCloseTo((z[0](o.residual[i]) + z[1](o.novelty[i]) + z[2](o.surprise[i])) / 3, 9);
    // Codes of anomalies use other atoms: far from every normal code, made of latents rare on normal rows.
    const flagged = (m: "novelty" | "surprise") => o[m].filter((v) => v > det.thresholds[m]).length;
    expect(flagged("novelty")).toBeGreaterThan(45);
    expect(flagged("surprise")).toBeGreaterThan(45);
    sae.dispose();
  });
});

// Last in the file: it draws from the shared generator, and earlier tests' data must not move.
describe("normal-code index, leaving rows out", () => {
  it("leaves out each query's own normal row when asked (brute force over the others)", () => {
    const dSae = 24, rows = 40;
    const normal = randomCodes(rows, dSae, 4);
    const index = new NormalCodeIndex(normal.csr);
    const leaveOut = Int32Array.from({ length: rows }, (_, q) => (q % 7 === 3 ? -1 : q));
    for (const k of [1, 2, rows - 1]) {
      const got = index.novelty(normal.csr, k, leaveOut);
      for (let q = 0; q < rows; q++) {
        const d: number[] = [];
        for (let n = 0; n < rows; n++) {
          if (n === leaveOut[q]) continue;
          let s = 0;
          for (let j = 0; j < dSae; j++) s += (normal.dense[q * dSae + j] - normal.dense[n * dSae + j]) ** 2;
          d.push(s);
        }
        d.sort((a, b) => a - b);
        expect(got[q], `row ${q}, k ${k}`).toBeCloseTo(d[k - 1], 9);
      }
    }
    expect(() => index.novelty(normal.csr, rows, leaveOut)).toThrow(/k must be/);
    expect(() => index.novelty(normal.csr, 1, new Int32Array(3))).toThrow(/leaveOut has 3 entries/);
  });
});
