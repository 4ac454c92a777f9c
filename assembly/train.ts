// Training kernels: the sparse backward for one row's active latents, Adam, and
// the unit-norm decoder constraint. f32 throughout; the SIMD and scalar twins do
// the same per-element operations, so training is bit-identical across builds.
import { mi, mp, M_D_IN, M_D_SAE, M_W_ENC, M_W_DEC } from "./model";

// Σ a[i]·b[i] in 4 lanes (SIMD) or 4 interleaved partial sums (scalar), combined in the same order.
function dot4(a: usize, b: usize, n: i32): f32 {
  let i = 0;
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
    s0 = f32x4.extract_lane(acc, 0); s1 = f32x4.extract_lane(acc, 1); s2 = f32x4.extract_lane(acc, 2); s3 = f32x4.extract_lane(acc, 3);
  } else {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      s0 += load<f32>(a + o) * load<f32>(b + o);
      s1 += load<f32>(a + o + 4) * load<f32>(b + o + 4);
      s2 += load<f32>(a + o + 8) * load<f32>(b + o + 8);
      s3 += load<f32>(a + o + 12) * load<f32>(b + o + 12);
    }
  }
  let s = (s0 + s1) + (s2 + s3);
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

// y[i] += a·x[i]
function axpy(y: usize, x: usize, a: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const av = f32x4.splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + a * load<f32>(x + o));
  }
}

// Backward through the latents idx/val[start, end) of one row (f32 decoder and packed f32 encoder):
//   gW_dec[j] += f·gx;  gh = ⟨W_dec[j], gx⟩ + extra;  gW_enc[:, j] += gh·x';  gx' += gh·W_enc[:, j];  gb_enc[j] += gh
export function train_backward_row(
  m: usize, gEnc: usize, gDec: usize, gBenc: usize,
  idx: usize, val: usize, start: i32, end: i32, extra: f32,
  gx: usize, xp: usize, gxp: usize,
): void {
  const dIn = mi(m, M_D_IN);
  const wEnc = mp(m, M_W_ENC);
  const wDec = mp(m, M_W_DEC);
  const rowBytes = <usize>dIn << 2;
  for (let e = start; e < end; e++) {
    const j = load<i32>(idx + (<usize>e << 2));
    const f = load<f32>(val + (<usize>e << 2));
    const dRow = <usize>j * rowBytes;
    axpy(gDec + dRow, gx, f, dIn);
    const gh = dot4(wDec + dRow, gx, dIn) + extra;
    // Column j of the packed encoder [tile][d_in][4]: stride 16 bytes.
    const col = ((<usize>(j >> 2) * <usize>dIn) << 4) + (<usize>(j & 3) << 2);
    for (let i = 0; i < dIn; i++) {
      const o = col + (<usize>i << 4);
      const xi = load<f32>(xp + (<usize>i << 2));
      store<f32>(gEnc + o, load<f32>(gEnc + o) + gh * xi);
      store<f32>(gxp + (<usize>i << 2), load<f32>(gxp + (<usize>i << 2)) + gh * load<f32>(wEnc + o));
    }
    store<f32>(gBenc + (<usize>j << 2), load<f32>(gBenc + (<usize>j << 2)) + gh);
  }
}

// Adam with bias correction, in place: lrc = lr / (1 − β1^t), c2 = 1 − β2^t.
export function adam_f32(p: usize, g: usize, mo: usize, ve: usize, n: i32, lrc: f32, b1: f32, b2: f32, eps: f32, c2: f32): void {
  let i = 0;
  const invC2: f32 = <f32>1 / c2;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(b1), vb1c = f32x4.splat(1 - b1), vb2 = f32x4.splat(b2), vb2c = f32x4.splat(1 - b2);
    const vlr = f32x4.splat(lrc), veps = f32x4.splat(eps), vinv = f32x4.splat(invC2);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const gv = v128.load(g + o);
      const mv = f32x4.add(f32x4.mul(vb1, v128.load(mo + o)), f32x4.mul(vb1c, gv));
      const vv = f32x4.add(f32x4.mul(vb2, v128.load(ve + o)), f32x4.mul(vb2c, f32x4.mul(gv, gv)));
      v128.store(mo + o, mv);
      v128.store(ve + o, vv);
      const step = f32x4.div(f32x4.mul(vlr, mv), f32x4.add(f32x4.sqrt(f32x4.mul(vv, vinv)), veps));
      v128.store(p + o, f32x4.sub(v128.load(p + o), step));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mv = b1 * load<f32>(mo + o) + (1 - b1) * gi;
    const vv = b2 * load<f32>(ve + o) + (1 - b2) * (gi * gi);
    store<f32>(mo + o, mv);
    store<f32>(ve + o, vv);
    store<f32>(p + o, load<f32>(p + o) - (lrc * mv) / (sqrt<f32>(vv * invC2) + eps));
  }
}

// Removes from each decoder-row gradient its component along the (unit) row.
export function train_project_decoder_grad(m: usize, gDec: usize): void {
  const dIn = mi(m, M_D_IN);
  const wDec = mp(m, M_W_DEC);
  const rowBytes = <usize>dIn << 2;
  for (let j = 0; j < mi(m, M_D_SAE); j++) {
    const w = wDec + <usize>j * rowBytes, g = gDec + <usize>j * rowBytes;
    const p = dot4(g, w, dIn);
    if (p != 0) axpy(g, w, -p, dIn);
  }
}

// Rescales every decoder row to unit norm (rows of zeros stay zero).
export function train_normalize_decoder(m: usize): void {
  const dIn = mi(m, M_D_IN);
  const wDec = mp(m, M_W_DEC);
  const rowBytes = <usize>dIn << 2;
  for (let j = 0; j < mi(m, M_D_SAE); j++) {
    const w = wDec + <usize>j * rowBytes;
    const s = dot4(w, w, dIn);
    if (s > 0) {
      const inv: f32 = 1 / sqrt<f32>(s);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const iv = f32x4.splat(inv);
        for (; i + 4 <= dIn; i += 4) v128.store(w + (<usize>i << 2), f32x4.mul(v128.load(w + (<usize>i << 2)), iv));
      }
      for (; i < dIn; i++) store<f32>(w + (<usize>i << 2), load<f32>(w + (<usize>i << 2)) * inv);
    }
  }
}

// out = Σ_e val[e]·W_dec[idx[e]] for e in [start, end) (no bias): AuxK's reconstruction of the residual.
export function train_decode_nobias(m: usize, idx: usize, val: usize, start: i32, end: i32, out: usize): void {
  const dIn = mi(m, M_D_IN);
  const wDec = mp(m, M_W_DEC);
  memory.fill(out, 0, <usize>dIn << 2);
  for (let e = start; e < end; e++) {
    axpy(out, wDec + <usize>load<i32>(idx + (<usize>e << 2)) * (<usize>dIn << 2), load<f32>(val + (<usize>e << 2)), dIn);
  }
}
