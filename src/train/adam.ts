// Adam with bias correction over flat Float32Array parameters, updated in place.
export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export class Adam {
  readonly #m: Float32Array;
  readonly #v: Float32Array;
  #t = 0;
  constructor(size: number, readonly options: AdamOptions) {
    this.#m = new Float32Array(size);
    this.#v = new Float32Array(size);
  }

  /** One step on `param` with gradient `grad` (same length as the optimizer). */
  step(param: Float32Array, grad: Float32Array, lr = this.options.lr): void {
    const { beta1, beta2, eps } = this.options;
    this.#t++;
    const c1 = 1 - beta1 ** this.#t;
    const c2 = 1 - beta2 ** this.#t;
    const stepSize = lr / c1;
    const m = this.#m, v = this.#v;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i];
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * g);
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * g * g);
      param[i] -= (stepSize * mi) / (Math.sqrt(vi / c2) + eps);
    }
  }
}
