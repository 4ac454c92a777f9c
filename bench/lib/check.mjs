// A peer's output on the check rows against sae-edge's f32 path. Outputs differ in form, so each
// is compared where it is defined: pre-activations directly; top-k values rank by rank (sorting
// moves no value by more than the worst pre-activation error); dense activations element by
// element, where a latent on one side of the bar and off on the other counts as its reference's
// distance from the bar (a flip is only fine next to the bar).

export const TOL = { int8: 0.03, f32: 1e-4 }; // × max |h| over the check rows

export function compare(d, output, out, n) {
  const ref = d.refH();
  let scale = 0;
  for (let i = 0; i < n * d.dSae; i++) scale = Math.max(scale, Math.abs(ref[i]));
  let err = 0;
  if (output === "preact") {
    for (let i = 0; i < n * d.dSae; i++) err = Math.max(err, Math.abs(out[i] - ref[i]));
  } else if (output === "topk") {
    for (let r = 0; r < n; r++) {
      const top = Array.from(ref.subarray(r * d.dSae, (r + 1) * d.dSae)).sort((a, b) => b - a);
      for (let i = 0; i < d.k; i++) err = Math.max(err, Math.abs(out[r * d.k + i] - Math.max(top[i], 0)));
    }
  } else {
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < d.dSae; j++) {
        const bar = d.threshold ? Math.max(d.threshold[j], 0) : 0;
        const h = ref[r * d.dSae + j], v = out[r * d.dSae + j];
        const on = h > bar;
        err = Math.max(err, on === (v !== 0) ? Math.abs(v - (on ? h : 0)) : Math.abs(h - bar));
      }
    }
  }
  return { maxErr: err, relErr: scale ? err / scale : err };
}

/** Exact equality with sae-edge's int8 pre-activations (the C twin's contract). */
export function exactVsInt8(d, out, n) {
  const ref = d.refQ();
  let diff = 0;
  for (let i = 0; i < n * d.dSae; i++) if (out[i] !== ref[i]) diff++;
  return diff;
}
