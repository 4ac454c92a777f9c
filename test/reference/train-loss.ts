// The trainer's loss in float64, written from its definition (shares no code with src/):
// L = Σ‖x̂ − x‖² / (n·var) + sparsity + AuxK, var = mean ‖x − mean(x)‖² of the first batch.
export interface RefParams {
  dIn: number;
  dSae: number;
  W_enc: Float64Array; // [d_in][d_sae]
  b_enc: Float64Array;
  W_dec: Float64Array; // [d_sae][d_in]
  b_dec: Float64Array;
  theta?: Float64Array;
}

export interface RefLossOptions {
  architecture: "topk" | "standard" | "jumprelu";
  k: number;
  l1: number;
  l0: number;
  auxK: number;
  auxAlpha: number;
  applyBDecToInput: boolean;
  variance: number;
  dead: number[];
}

/**
 * mean ‖x − mean(x)‖², computed another way than the trainer does: half the mean squared
 * distance between all pairs of rows, (1/2n²) Σ_r Σ_s ‖x_r − x_s‖² (no mean is formed).
 */
export function refVariance(x: Float32Array, dIn: number): number {
  const n = x.length / dIn;
  let s = 0;
  for (let r = 0; r < n; r++) {
    for (let q = 0; q < n; q++) {
      for (let i = 0; i < dIn; i++) s += (x[r * dIn + i] - x[q * dIn + i]) ** 2;
    }
  }
  return s / (2 * n * n);
}

function topIdx(h: Float64Array, ids: number[], k: number): number[] {
  return [...ids].sort((a, b) => h[b] - h[a] || a - b).slice(0, k);
}

/**
 * `residuals` (per row x − x̂ at the unperturbed point) is AuxK's target, held
 * constant as in training (no gradient flows through it); omitted = the live one.
 */
export function refLoss(p: RefParams, x: Float32Array, o: RefLossOptions, residuals?: Float64Array[], out?: Float64Array[]): number {
  const { dIn, dSae } = p;
  const n = x.length / dIn;
  const c = 1 / (n * o.variance);
  let loss = 0;
  const all = Array.from({ length: dSae }, (_, j) => j);
  for (let r = 0; r < n; r++) {
    const xp = new Float64Array(dIn);
    for (let i = 0; i < dIn; i++) xp[i] = x[r * dIn + i] - (o.applyBDecToInput ? p.b_dec[i] : 0);
    const h = new Float64Array(dSae);
    for (let j = 0; j < dSae; j++) {
      let s = p.b_enc[j];
      for (let i = 0; i < dIn; i++) s += xp[i] * p.W_enc[i * dSae + j];
      h[j] = s;
    }
    let active: number[];
    if (o.architecture === "topk") active = topIdx(h, all, o.k).filter((j) => h[j] > 0);
    else if (o.architecture === "standard") active = all.filter((j) => h[j] > 0);
    else active = all.filter((j) => h[j] > 0 && h[j] > p.theta![j]);
    const xhat = Float64Array.from(p.b_dec);
    for (const j of active) for (let i = 0; i < dIn; i++) xhat[i] += h[j] * p.W_dec[j * dIn + i];
    for (let i = 0; i < dIn; i++) loss += c * (xhat[i] - x[r * dIn + i]) ** 2;
    const residual = residuals ? residuals[r] : Float64Array.from(xhat, (v, i) => x[r * dIn + i] - v);
    out?.push(residual);
    if (o.architecture === "standard") for (const j of active) loss += (o.l1 / n) * h[j];
    if (o.architecture === "jumprelu") loss += (o.l0 / n) * active.length;
    if (o.auxK > 0 && o.dead.length) {
      const auxSet = topIdx(h, o.dead, o.auxK).filter((j) => h[j] > 0);
      if (auxSet.length) {
        const ehat = new Float64Array(dIn);
        for (const j of auxSet) for (let i = 0; i < dIn; i++) ehat[i] += h[j] * p.W_dec[j * dIn + i];
        for (let i = 0; i < dIn; i++) loss += o.auxAlpha * c * (ehat[i] - residual[i]) ** 2;
      }
    }
  }
  return loss;
}


/**
 * JumpReLU's threshold pseudo-gradient (Rajamanoharan et al. 2024, rectangle kernel of width eps):
 * dL/dθ_j = Σ_rows 1[|h_j − θ_j| < eps/2] · ( −(θ_j/eps)·⟨W_dec[j], 2c(x̂ − x)⟩ − l0/(n·eps) ).
 */
export function refThetaGrad(p: RefParams, x: Float32Array, o: RefLossOptions, eps: number): Float64Array {
  const { dIn, dSae } = p;
  const n = x.length / dIn;
  const c = 1 / (n * o.variance);
  const g = new Float64Array(dSae);
  for (let r = 0; r < n; r++) {
    const h = new Float64Array(dSae);
    for (let j = 0; j < dSae; j++) {
      let s = p.b_enc[j];
      for (let i = 0; i < dIn; i++) s += (x[r * dIn + i] - (o.applyBDecToInput ? p.b_dec[i] : 0)) * p.W_enc[i * dSae + j];
      h[j] = s;
    }
    const xhat = Float64Array.from(p.b_dec);
    for (let j = 0; j < dSae; j++) if (h[j] > 0 && h[j] > p.theta![j]) for (let i = 0; i < dIn; i++) xhat[i] += h[j] * p.W_dec[j * dIn + i];
    for (let j = 0; j < dSae; j++) {
      if (Math.abs(h[j] - p.theta![j]) >= eps / 2) continue;
      let d = 0;
      for (let i = 0; i < dIn; i++) d += p.W_dec[j * dIn + i] * 2 * c * (xhat[i] - x[r * dIn + i]);
      g[j] += -(p.theta![j] / eps) * d - o.l0 / (n * eps);
    }
  }
  return g;
}
