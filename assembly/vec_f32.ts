// f32 vector helpers shared by the training kernels and the skip connection: SIMD with a
// scalar twin that sums in the same lane order, so every build gets the same bits.

// Σ a[i]·b[i] in 4 lanes (SIMD) or 4 interleaved partial sums (scalar), combined in the same order.
export function dot4(a: usize, b: usize, n: i32): f32 {
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
export function axpy(y: usize, x: usize, a: f32, n: i32): void {
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

