// A planted dictionary and rows drawn from it: unit-norm decoder atoms (encoder = decoderᵀ), 40
// atoms of amplitude e^{0.5·N(0,1)} per row, Student-t (3) noise per dim, and a shared offset μ of
// `offset` × the rows' spread (the rms over dims of each dim's standard deviation across rows).
import { rng } from "./rng.mjs";

export function planted(dIn, dSae, { rows, calib, offset, seed }) {
  const r = rng(seed);
  const W_dec = new Float32Array(dSae * dIn);
  for (let j = 0; j < dSae; j++) {
    const atom = W_dec.subarray(j * dIn, (j + 1) * dIn);
    let s = 0;
    for (let i = 0; i < dIn; i++) s += (atom[i] = r.n()) ** 2;
    const norm = Math.sqrt(s);
    for (let i = 0; i < dIn; i++) atom[i] /= norm;
  }
  const W_enc = new Float32Array(dIn * dSae);
  for (let j = 0; j < dSae; j++) for (let i = 0; i < dIn; i++) W_enc[i * dSae + j] = W_dec[j * dIn + i];
  const draw = (n) => {
    const x = new Float32Array(n * dIn);
    const row = new Float64Array(dIn);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < dIn; i++) row[i] = 0.05 * r.t3();
      for (let a = 0; a < 40; a++) {
        const j = Math.floor(r.u() * dSae), amp = Math.exp(0.5 * r.n());
        for (let i = 0; i < dIn; i++) row[i] += amp * W_dec[j * dIn + i];
      }
      x.set(row, k * dIn);
    }
    return x;
  };
  const calibRows = draw(calib), x = draw(rows);
  const scale = offset * spread(calibRows, dIn);
  const mu = Float32Array.from({ length: dIn }, () => scale * r.n());
  for (const m of [calibRows, x]) for (let e = 0; e < m.length; e++) m[e] += mu[e % dIn];
  const fold = new Float32Array(dSae);
  for (let j = 0; j < dSae; j++) {
    let s = 0;
    for (let i = 0; i < dIn; i++) s += W_dec[j * dIn + i] * mu[i];
    fold[j] = s;
  }
  // Bars at 3-4 σ of a non-planted latent's pre-activation (cross-talk of 40 atoms plus noise), so
  // the f32 model's L0 stays near the 40 planted atoms at any d_in.
  const sigma = Math.sqrt((40 * Math.exp(0.5)) / dIn + 3 * 0.05 ** 2);
  const t = Float32Array.from({ length: dSae }, () => sigma * (3 + r.u()));
  return { dIn, dSae, W_enc, W_dec, mu, fold, t, calib: calibRows, x };
}

function spread(x, dIn) {
  const n = x.length / dIn, sum = new Float64Array(dIn), sum2 = new Float64Array(dIn);
  for (let e = 0; e < x.length; e++) {
    sum[e % dIn] += x[e];
    sum2[e % dIn] += x[e] * x[e];
  }
  let v = 0;
  for (let i = 0; i < dIn; i++) v += sum2[i] / n - (sum[i] / n) ** 2;
  return Math.sqrt(v / dIn);
}
