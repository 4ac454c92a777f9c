// @ts-nocheck: AssemblyScript (v128, i32x4, usize), compiled by asc; tsc only needs to parse it.
// The machine's ceilings for the int8 encoder, in wasm: sequential read bandwidth with v128 loads,
// and the throughput of the encoder's inner loops (sae-edge's packed layout, 64 bytes per tile
// step) with their weights resident in L2. Compiled by bench/roofline/roofline.mjs, with
// --enable simd (Node 20) and with relaxed-simd too (Node 22).

export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

// Reads [p, p + bytes) once (bytes a multiple of 256); returns a checksum so the loads stay.
export function read_bw(p: usize, bytes: usize): i32 {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  const end = p + bytes;
  for (; p < end; p += 256) {
    a0 = i32x4.add(a0, i32x4.add(v128.load(p), v128.load(p, 16)));
    a1 = i32x4.add(a1, i32x4.add(v128.load(p, 32), v128.load(p, 48)));
    a2 = i32x4.add(a2, i32x4.add(v128.load(p, 64), v128.load(p, 80)));
    a3 = i32x4.add(a3, i32x4.add(v128.load(p, 96), v128.load(p, 112)));
    a0 = i32x4.add(a0, i32x4.add(v128.load(p, 128), v128.load(p, 144)));
    a1 = i32x4.add(a1, i32x4.add(v128.load(p, 160), v128.load(p, 176)));
    a2 = i32x4.add(a2, i32x4.add(v128.load(p, 192), v128.load(p, 208)));
    a3 = i32x4.add(a3, i32x4.add(v128.load(p, 224), v128.load(p, 240)));
  }
  const s = i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3));
  return i32x4.extract_lane(s, 0) ^ i32x4.extract_lane(s, 1) ^ i32x4.extract_lane(s, 2) ^ i32x4.extract_lane(s, 3);
}

function lanes(a: v128): i32 {
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}

// SIMD128, 1 row: x as i16 (32 bytes per step), weights widened on load, i32x4.dot_i16x8_s.
export function dot16_1x4(w: usize, x: usize, tiles: i32, steps: i32): i32 {
  let s: i32 = 0;
  for (let b = 0; b < tiles; b++) {
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let xp = x;
    const end = w + (<usize>steps << 6);
    for (; w < end; w += 64, xp += 32) {
      const xl = v128.load(xp), xh = v128.load(xp, 16);
      a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w), xl), i32x4.dot_i16x8_s(v128.load8x8_s(w, 8), xh)));
      a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w, 16), xl), i32x4.dot_i16x8_s(v128.load8x8_s(w, 24), xh)));
      a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w, 32), xl), i32x4.dot_i16x8_s(v128.load8x8_s(w, 40), xh)));
      a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(w, 48), xl), i32x4.dot_i16x8_s(v128.load8x8_s(w, 56), xh)));
    }
    s += lanes(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)));
  }
  return s;
}

// SIMD128, 4 rows (stride bytes apart): each weight load serves 4 rows; 2 latents × 4 rows per pass.
export function dot16_4x4(w: usize, x: usize, stride: usize, tiles: i32, steps: i32): i32 {
  let s: i32 = 0;
  for (let b = 0; b < tiles; b++) {
    const wt = w + ((<usize>b * <usize>steps) << 6);
    for (let h = 0; h < 2; h++) {
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
      let wp = wt + (<usize>h << 5);
      for (let xo: usize = 0, end = <usize>steps << 5; xo < end; xo += 32, wp += 64) {
        const wal = v128.load8x8_s(wp), wah = v128.load8x8_s(wp, 8), wbl = v128.load8x8_s(wp, 16), wbh = v128.load8x8_s(wp, 24);
        let xl = v128.load(x + xo), xh = v128.load(x + xo, 16);
        a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(wal, xl), i32x4.dot_i16x8_s(wah, xh)));
        c0 = i32x4.add(c0, i32x4.add(i32x4.dot_i16x8_s(wbl, xl), i32x4.dot_i16x8_s(wbh, xh)));
        xl = v128.load(x + stride + xo); xh = v128.load(x + stride + xo, 16);
        a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(wal, xl), i32x4.dot_i16x8_s(wah, xh)));
        c1 = i32x4.add(c1, i32x4.add(i32x4.dot_i16x8_s(wbl, xl), i32x4.dot_i16x8_s(wbh, xh)));
        xl = v128.load(x + 2 * stride + xo); xh = v128.load(x + 2 * stride + xo, 16);
        a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(wal, xl), i32x4.dot_i16x8_s(wah, xh)));
        c2 = i32x4.add(c2, i32x4.add(i32x4.dot_i16x8_s(wbl, xl), i32x4.dot_i16x8_s(wbh, xh)));
        xl = v128.load(x + 3 * stride + xo); xh = v128.load(x + 3 * stride + xo, 16);
        a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(wal, xl), i32x4.dot_i16x8_s(wah, xh)));
        c3 = i32x4.add(c3, i32x4.add(i32x4.dot_i16x8_s(wbl, xl), i32x4.dot_i16x8_s(wbh, xh)));
      }
      s += lanes(i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3))));
    }
  }
  return s;
}

// Relaxed SIMD (only in the relaxed build): x as u7 bytes (16 per step), one relaxed dot per 16 MAC.
export function dot8_1x4(w: usize, x: usize, tiles: i32, steps: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  let s: i32 = 0;
  for (let b = 0; b < tiles; b++) {
    let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let xp = x;
    const end = w + (<usize>steps << 6);
    for (; w < end; w += 64, xp += 16) {
      const xu = v128.load(xp);
      a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(w), xu, a0);
      a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(w, 16), xu, a1);
      a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(w, 32), xu, a2);
      a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(w, 48), xu, a3);
    }
    s += lanes(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)));
  }
  return s;
}

export function dot8_4x4(w: usize, x: usize, stride: usize, tiles: i32, steps: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  let s: i32 = 0;
  for (let b = 0; b < tiles; b++) {
    const wt = w + ((<usize>b * <usize>steps) << 6);
    for (let h = 0; h < 2; h++) {
      let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
      let wp = wt + (<usize>h << 5);
      for (let xo: usize = 0, end = <usize>steps << 4; xo < end; xo += 16, wp += 64) {
        const wa = v128.load(wp), wb = v128.load(wp, 16);
        let xu = v128.load(x + xo);
        a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wa, xu, a0);
        c0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wb, xu, c0);
        xu = v128.load(x + stride + xo);
        a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wa, xu, a1);
        c1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wb, xu, c1);
        xu = v128.load(x + 2 * stride + xo);
        a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wa, xu, a2);
        c2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wb, xu, c2);
        xu = v128.load(x + 3 * stride + xo);
        a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wa, xu, a3);
        c3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(wb, xu, c3);
      }
      s += lanes(i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3))));
    }
  }
  return s;
}
