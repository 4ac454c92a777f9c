// Training kernels: the sparse backward for one row's active latents, Adam, and
// the unit-norm decoder constraint. f32 throughout; the SIMD and scalar twins do
// the same per-element operations, so training is bit-identical across builds.
import { mi, mp, M_D_IN, M_D_SAE, M_W_DEC } from "./model";
import { dot4, axpy } from "./vec_f32";
import { Selection, selectBegin, selectFinish, selectPush, selectEmit } from "./select";

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

// Training forward: out[r][j] = ⟨xp[r], wT[j]⟩ + b[j] for n rows, with the encoder stored
// transposed ([d_sae][d_in], one contiguous row per latent, so the backward is contiguous too).
// 2 rows × 4 latents per tile; each dot is summed exactly as dot4 does, in every build.
export function train_preact_f32(wT: usize, b: usize, xp: usize, n: i32, dIn: i32, dSae: i32, out: usize): void {
  const rowBytes = <usize>dIn << 2;
  let r = 0;
  if (ASC_FEATURE_SIMD) {
    const main = dIn & ~3;
    for (; r + 2 <= n; r += 2) {
      const x0 = xp + <usize>r * rowBytes, x1 = x0 + rowBytes;
      let j = 0;
      for (; j + 4 <= dSae; j += 4) {
        const w0 = wT + <usize>j * rowBytes, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
        let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
        for (let i = 0; i < main; i += 4) {
          const o = <usize>i << 2;
          const v0 = v128.load(x0 + o), v1 = v128.load(x1 + o);
          const u0 = v128.load(w0 + o), u1 = v128.load(w1 + o), u2 = v128.load(w2 + o), u3 = v128.load(w3 + o);
          a00 = f32x4.add(a00, f32x4.mul(v0, u0)); a01 = f32x4.add(a01, f32x4.mul(v0, u1));
          a02 = f32x4.add(a02, f32x4.mul(v0, u2)); a03 = f32x4.add(a03, f32x4.mul(v0, u3));
          a10 = f32x4.add(a10, f32x4.mul(v1, u0)); a11 = f32x4.add(a11, f32x4.mul(v1, u1));
          a12 = f32x4.add(a12, f32x4.mul(v1, u2)); a13 = f32x4.add(a13, f32x4.mul(v1, u3));
        }
        const o0 = out + ((<usize>r * <usize>dSae + <usize>j) << 2), o1 = o0 + (<usize>dSae << 2);
        store<f32>(o0, finish(a00, x0, w0, main, dIn, b, j));
        store<f32>(o0 + 4, finish(a01, x0, w1, main, dIn, b, j + 1));
        store<f32>(o0 + 8, finish(a02, x0, w2, main, dIn, b, j + 2));
        store<f32>(o0 + 12, finish(a03, x0, w3, main, dIn, b, j + 3));
        store<f32>(o1, finish(a10, x1, w0, main, dIn, b, j));
        store<f32>(o1 + 4, finish(a11, x1, w1, main, dIn, b, j + 1));
        store<f32>(o1 + 8, finish(a12, x1, w2, main, dIn, b, j + 2));
        store<f32>(o1 + 12, finish(a13, x1, w3, main, dIn, b, j + 3));
      }
      for (; j < dSae; j++) {
        const w = wT + <usize>j * rowBytes;
        const o0 = out + ((<usize>r * <usize>dSae + <usize>j) << 2);
        store<f32>(o0, dot4(x0, w, dIn) + load<f32>(b + (<usize>j << 2)));
        store<f32>(o0 + (<usize>dSae << 2), dot4(x1, w, dIn) + load<f32>(b + (<usize>j << 2)));
      }
    }
  }
  for (; r < n; r++) {
    const x = xp + <usize>r * rowBytes;
    for (let j = 0; j < dSae; j++) {
      store<f32>(out + ((<usize>r * <usize>dSae + <usize>j) << 2), dot4(x, wT + <usize>j * rowBytes, dIn) + load<f32>(b + (<usize>j << 2)));
    }
  }
}

// Lane sums combined as dot4 does, then its scalar tail, then the bias.
@inline function finish(acc: v128, x: usize, w: usize, main: i32, dIn: i32, b: usize, j: i32): f32 {
  let s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (let i = main; i < dIn; i++) s += load<f32>(x + (<usize>i << 2)) * load<f32>(w + (<usize>i << 2));
  return s + load<f32>(b + (<usize>j << 2));
}

// The backward of train_backward_row for the transposed encoder: every update is a contiguous axpy.
export function train_backward_row_t(
  m: usize, wT: usize, gEncT: usize, gDec: usize, gBenc: usize,
  idx: usize, val: usize, start: i32, end: i32, extra: f32,
  gx: usize, xp: usize, gxp: usize,
): void {
  const dIn = mi(m, M_D_IN);
  const wDec = mp(m, M_W_DEC);
  const rowBytes = <usize>dIn << 2;
  for (let e = start; e < end; e++) {
    const j = load<i32>(idx + (<usize>e << 2));
    const f = load<f32>(val + (<usize>e << 2));
    const row = <usize>j * rowBytes;
    axpy(gDec + row, gx, f, dIn);
    const gh = dot4(wDec + row, gx, dIn) + extra;
    axpy(gEncT + row, xp, gh, dIn);
    axpy(gxp, wT + row, gh, dIn);
    store<f32>(gBenc + (<usize>j << 2), load<f32>(gBenc + (<usize>j << 2)) + gh);
  }
}

// out[r] = x[r] − shift for n rows of d_in (shift = 0: a copy).
export function train_shift_rows(x: usize, shift: usize, n: i32, dIn: i32, out: usize): void {
  for (let r = 0; r < n; r++) {
    const base = <usize>r * (<usize>dIn << 2);
    for (let i = 0; i < dIn; i++) {
      const o = base + (<usize>i << 2);
      store<f32>(out + o, shift ? load<f32>(x + o) - load<f32>(shift + (<usize>i << 2)) : load<f32>(x + o));
    }
  }
}

// The selection's own fields live in a scratch slot that every row starts afresh (training has
// no workspace); the candidates go to the host's keys.
const TRAIN_SELECTION: usize = memory.data(offsetof<Selection>(), 16);

// Activation of dense pre-activations h[n][d_sae] into sparse codes (value descending, ties by
// lower index; active = above max(threshold_j, 0), at most k per row): the selection the encoder uses.
export function train_select(keys: usize, cap: i32, h: usize, n: i32, dSae: i32, k: i32, thresh: usize, idx: usize, val: usize, rowptr: usize): void {
  const sel = changetype<Selection>(TRAIN_SELECTION);
  let pos = 0;
  store<u32>(rowptr, 0);
  for (let r = 0; r < n; r++) {
    const row = h + ((<usize>r * <usize>dSae) << 2);
    selectBegin(sel, keys, cap, k);
    for (let j = 0; j < dSae; j++) {
      const v = load<f32>(row + (<usize>j << 2));
      const bar = thresh ? max(load<f32>(thresh + (<usize>j << 2)), sel.thr) : sel.thr;
      if (v > bar) selectPush(sel, j, v);
    }
    pos = selectEmit(sel, selectFinish(sel), idx, val, pos);
    store<u32>(rowptr + (<usize>(r + 1) << 2), pos);
  }
}
