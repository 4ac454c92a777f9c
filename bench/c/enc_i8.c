// The sae-edge int8 encoder (pre-activations) written in C with wasm_simd128.h, to see whether
// AssemblyScript leaves speed on the table. Same packed layout as assembly/enc_i8_1x4c16.ts:
// W[b][c][l][t] = q(latent 4b+l, dim 16c+t), 64 contiguous bytes per (tile, step); rows quantized
// to [-63, 63] the same way (docs/model-format.md), so the output equals sae-edge's preact bit for bit.
// Built twice by build.sh: SIMD128 (i16 x, i32x4.dot_i16x8_s) and -DRELAXED (x as q + 64, offset
// removed with 64·Σq_w), whose inner loop is either the fused i32x4.relaxed_dot_i8x16_i7x16_add or
// the split i16x8 relaxed dot + extadd, as the host's probe says (use_fused_dot), like sae-edge's.
// Tiles as sae-edge's enc_i8_4x4c16: 4 rows x 4 latents, in passes of 2 latents x 4 rows (SIMD128)
// or 4 latents x 2 rows (relaxed), up to 16 rows (4 row tiles) in turn over each latent tile.
#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

extern unsigned char __heap_base;
static uintptr_t heap_top = (uintptr_t)&__heap_base;

// Bump allocator over memory.grow, 16-byte aligned (the host allocates once per model).
EXPORT(alloc) void *alloc(uint32_t bytes) {
  uintptr_t p = (heap_top + 15) & ~(uintptr_t)15;
  uintptr_t end = p + bytes;
  uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
  if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535) / 65536) == (uintptr_t)-1) return 0;
  heap_top = end;
  return (void *)p;
}

static const int8_t *W;
static const float *scale, *b_enc, *b_dec;
static int32_t *zsum;
static int d_in, d_sae, steps;
#define MAX_ROWS 16     // rows per pass over the weights, as sae-edge's lanes
static void *xq;       // MAX_ROWS quantized rows
static float xs[MAX_ROWS]; // their scales

#ifdef RELAXED
typedef uint8_t xq_t;
#define XQ(q) ((uint8_t)((q) + 64))
#else
typedef int16_t xq_t;
#define XQ(q) ((int16_t)(q))
#endif

EXPORT(setup) void setup(const int8_t *w, const float *s, const float *be, const float *bd, int din, int dsae) {
  W = w, scale = s, b_enc = be, b_dec = bd, d_in = din, d_sae = dsae, steps = din >> 4;
  xq = alloc(MAX_ROWS * din * sizeof(xq_t));
  zsum = alloc(dsae * 4);
  for (int j = 0; j < dsae; j++) {
    const int8_t *p = W + ((j >> 2) * steps << 6) + ((j & 3) << 4);
    int32_t t = 0;
    for (int c = 0; c < steps; c++)
      for (int i = 0; i < 16; i++) t += p[(c << 6) + i];
    zsum[j] = t;
  }
}

// Row r of x into slot r of xq; returns s_x (prepareRow in assembly/quantize_x.ts, no normalization).
static float quantize_row(const float *x, xq_t *q) {
  float amax = 0;
  for (int i = 0; i < d_in; i++) {
    float v = x[i] - b_dec[i];
    float a = __builtin_fabsf(v);  // inputs are finite: the same as AS's f32.max
    if (a > amax) amax = a;
  }
  float pre = 1;
  if (amax > 0 && amax < 1e-30f) pre = 18446744073709551616.0f, amax *= pre;
  float inv = amax > 0 ? 63.0f / amax : 0, s = amax > 0 ? (amax / 63.0f) / pre : 0;
  for (int i = 0; i < d_in; i++) {
    int v = (int)__builtin_roundevenf((x[i] - b_dec[i]) * pre * inv);
    q[i] = XQ(v < -63 ? -63 : v > 63 ? 63 : v);
  }
  return s;
}

static inline v128_t hsum4(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
  v128_t t0 = wasm_i32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
  v128_t t1 = wasm_i32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5), wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
}

// h = f32(acc) · (s_x · scale_j) + b_enc_j for latents 4b..4b+3.
static inline void epilogue(int b, v128_t acc, float s, float *out) {
#ifdef RELAXED
  acc = wasm_i32x4_sub(acc, wasm_i32x4_shl(wasm_v128_load(zsum + 4 * b), 6));
#endif
  v128_t sc = wasm_f32x4_mul(wasm_f32x4_splat(s), wasm_v128_load(scale + 4 * b));
  v128_t h = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), sc), wasm_v128_load(b_enc + 4 * b));
  wasm_v128_store(out + 4 * b, h);
}

#ifdef RELAXED
static int fused;  // set by the host: 1 = the fused dot-add, 0 = the split one
EXPORT(use_fused_dot) int use_fused_dot(int on) { return fused = on != 0; }
// One step (16 dims) of latent weights w against x, accumulating: fused, or split.
#define FDOT(acc, w, xp) acc = wasm_i32x4_relaxed_dot_i8x16_i7x16_add(wasm_v128_load(w), wasm_v128_load(xp), acc)
#define SDOT(acc, w, xp) acc = wasm_i32x4_add(acc, wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(wasm_v128_load(w), wasm_v128_load(xp))))
#define XSTEP 16
#else
#define DOT(acc, w, xp) \
  acc = wasm_i32x4_add(acc, wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w), wasm_v128_load(xp)), \
                                           wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8((w) + 8), wasm_v128_load((xp) + 8))))
#define XSTEP 16
#endif

// 1 row × 4 latents per tile, the tile's steps in one sequential stream.
#define GEMV_1X4(NAME, DOT) \
static void NAME(const xq_t *x, float s, float *out) { \
  const int8_t *w = W; \
  for (int b = 0; b < d_sae >> 2; b++) { \
    v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0; \
    for (int c = 0; c < steps; c++, w += 64) { \
      const xq_t *xp = x + c * XSTEP; \
      DOT(a0, w, xp); DOT(a1, w + 16, xp); DOT(a2, w + 32, xp); DOT(a3, w + 48, xp); \
    } \
    epilogue(b, hsum4(a0, a1, a2, a3), s, out); \
  } \
}

#ifdef RELAXED
// 4 rows × 4 latents per tile in 2 passes of 4 latents × 2 rows (8 accumulators): each weight
// load serves 2 rows, each x load 4 latents.
#define GEMM_4X4(NAME, DOT) \
static void NAME(int rows, float *out) { \
  for (int b = 0; b < d_sae >> 2; b++) { \
    const int8_t *wt = W + ((size_t)b * steps << 6); \
    for (int r = 0; r < rows; r += 2) { \
      const xq_t *xa = (const xq_t *)xq + r * d_in, *xb = xa + d_in; \
      v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0; \
      const int8_t *w = wt; \
      for (int c = 0; c < steps; c++, w += 64) { \
        int o = c * XSTEP; \
        DOT(a0, w, xa + o); DOT(a1, w + 16, xa + o); DOT(a2, w + 32, xa + o); DOT(a3, w + 48, xa + o); \
        DOT(c0, w, xb + o); DOT(c1, w + 16, xb + o); DOT(c2, w + 32, xb + o); DOT(c3, w + 48, xb + o); \
      } \
      epilogue(b, hsum4(a0, a1, a2, a3), xs[r], out + (size_t)r * d_sae); \
      epilogue(b, hsum4(c0, c1, c2, c3), xs[r + 1], out + (size_t)(r + 1) * d_sae); \
    } \
  } \
}
GEMV_1X4(gemv_1x4_fused, FDOT)
GEMV_1X4(gemv_1x4_split, SDOT)
GEMM_4X4(gemm_4x4_fused, FDOT)
GEMM_4X4(gemm_4x4_split, SDOT)
static void gemv_1x4(const xq_t *x, float s, float *out) { fused ? gemv_1x4_fused(x, s, out) : gemv_1x4_split(x, s, out); }
static void gemm_4x4(int rows, float *out) { fused ? gemm_4x4_fused(rows, out) : gemm_4x4_split(rows, out); }
#else
GEMV_1X4(gemv_1x4, DOT)
// 4 rows × 4 latents per tile in 2 passes of 2 latents × 4 rows (8 accumulators): each weight
// load (widened once) serves 4 rows, each x load 2 latents.
static void gemm_4x4(int rows, float *out) {
  for (int b = 0; b < d_sae >> 2; b++) {
    const int8_t *wt = W + ((size_t)b * steps << 6);
    for (int q = 0; q < rows; q += 4) {
      const xq_t *x0 = (const xq_t *)xq + q * d_in, *x1 = x0 + d_in, *x2 = x1 + d_in, *x3 = x2 + d_in;
      v128_t acc[4][4];
      for (int h = 0; h < 2; h++) {
        v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        const int8_t *w = wt + 32 * h;
        for (int c = 0; c < steps; c++, w += 64) {
          int o = c * XSTEP;
          DOT(a0, w, x0 + o); DOT(c0, w + 16, x0 + o);
          DOT(a1, w, x1 + o); DOT(c1, w + 16, x1 + o);
          DOT(a2, w, x2 + o); DOT(c2, w + 16, x2 + o);
          DOT(a3, w, x3 + o); DOT(c3, w + 16, x3 + o);
        }
        acc[0][2 * h] = a0, acc[0][2 * h + 1] = c0, acc[1][2 * h] = a1, acc[1][2 * h + 1] = c1;
        acc[2][2 * h] = a2, acc[2][2 * h + 1] = c2, acc[3][2 * h] = a3, acc[3][2 * h + 1] = c3;
      }
      for (int r = 0; r < 4; r++) epilogue(b, hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]), xs[q + r], out + (size_t)(q + r) * d_sae);
    }
  }
}
#endif

// Pre-activations of rows 0..n of x into out [n][d_sae] (d_in % 16 == 0, d_sae % 4 == 0, as the
// loader checks): groups of 4 to 16 rows, then single rows.
EXPORT(preact) void preact(const float *x, int n, float *out) {
  int r = 0;
  while (r + 4 <= n) {
    int rows = (n - r) & ~3;
    if (rows > MAX_ROWS) rows = MAX_ROWS;
    for (int i = 0; i < rows; i++) xs[i] = quantize_row(x + (size_t)(r + i) * d_in, (xq_t *)xq + i * d_in);
    gemm_4x4(rows, out + (size_t)r * d_sae);
    r += rows;
  }
  for (; r < n; r++) {
    xs[0] = quantize_row(x + (size_t)r * d_in, xq);
    gemv_1x4(xq, xs[0], out + (size_t)r * d_sae);
  }
}

// The kernel alone, reps times on the rows already quantized (roofline: the loop on L2-resident
// weights, without the host's copies): rows 4 = the 4-row tile, else the 1-row one.
EXPORT(bench_kernel) void bench_kernel(int rows, int reps, float *out) {
  for (int i = 0; i < reps; i++) {
    if (rows == 4) gemm_4x4(4, out);
    else gemv_1x4(xq, xs[0], out);
  }
}
