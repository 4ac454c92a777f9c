// The plain-JavaScript baseline: f32 weights in a Float32Array, one axpy per input dimension
// (W [dIn][dSae] is read in order), then the activation. No SIMD, no packing.

// The k largest values of h (then ReLU), by insertion into a sorted list of k.
function topkValues(h, k, out, o) {
  const vals = new Float32Array(k).fill(-Infinity);
  for (let j = 0; j < h.length; j++) {
    const v = h[j];
    if (v <= vals[k - 1]) continue;
    let p = k - 1;
    while (p > 0 && vals[p - 1] < v) {
      vals[p] = vals[p - 1];
      p--;
    }
    vals[p] = v;
  }
  for (let i = 0; i < k; i++) out[o + i] = Math.max(vals[i], 0);
}

export function open(d) {
  const { dIn, dSae, k, arch } = d;
  const W = d.W();
  const bar = d.threshold?.map((t) => Math.max(t, 0));
  const xc = new Float32Array(dIn);
  const h = new Float32Array(dSae);
  return {
    label: "JS loop f32",
    version: `node ${process.version}`,
    output: arch === "topk" ? "topk" : "dense",
    run(x, n) {
      const out = new Float32Array(n * (arch === "topk" ? k : dSae));
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < dIn; i++) xc[i] = x[r * dIn + i] - d.b_dec[i];
        h.set(d.b_enc);
        for (let i = 0; i < dIn; i++) {
          const xi = xc[i];
          const row = i * dSae;
          for (let j = 0; j < dSae; j++) h[j] += xi * W[row + j];
        }
        if (arch === "topk") topkValues(h, k, out, r * k);
        else for (let j = 0; j < dSae; j++) out[r * dSae + j] = h[j] > (bar ? bar[j] : 0) ? h[j] : 0;
      }
      return out;
    },
  };
}
