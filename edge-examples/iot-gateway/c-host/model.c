/* Reads and checks an sae-edge model file (docs/model-format.md) and places it in wasm
 * memory: every region allocated first, tensors copied in (per-latent ones padded to
 * whole tiles of 4 with zeros), the descriptor filled, model_prepare called. Supports
 * the standard, topk, jumprelu and groupmax architectures, int8 or f32, no transcoders. */
#include "model.h"
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "sae-abi.h" /* descriptor offsets M_*, codes, ABI_VERSION: generated from assembly/model.ts */

enum { LATENT_TILE = 4, K_STEP = 16, BATCH = 256 };

static int failf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static uint8_t *mem(sae_model *s) { return Z_saeZ_memory(&s->wasm)->data; }

static unsigned wasm_alloc(sae_model *s, size_t bytes) {
  return bytes > UINT32_MAX ? 0 : Z_saeZ_alloc(&s->wasm, (uint32_t)bytes);
}

static const char *meta_str(const jval *meta, const char *key) {
  const jval *v = json_get(meta, key);
  return v && v->type == J_STR ? v->str : NULL;
}

static int meta_int(const jval *meta, const char *key, long lo, long hi, long *out) {
  const char *s = meta_str(meta, key);
  if (!s || !*s) return 0;
  char *end;
  long v = strtol(s, &end, 10);
  if (*end || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

typedef struct { const char *name; const char *dtype; long shape[4]; int rank; int per_latent; } expected;

static int shape_is(const jval *shape, const expected *e) {
  if (!shape || shape->type != J_ARR || (int)shape->len != e->rank) return 0;
  for (int i = 0; i < e->rank; i++) if (shape->items[i]->type != J_NUM || shape->items[i]->num != (double)e->shape[i]) return 0;
  return 1;
}

int sae_load(sae_model *s, const char *path, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  FILE *f = fopen(path, "rb");
  if (!f) return failf(err, errlen, "cannot open model %s", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *file = size > 0 ? malloc((size_t)size) : NULL;
  if (!file || fread(file, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    free(file);
    return failf(err, errlen, "cannot read model %s", path);
  }
  fclose(f);
  int rc = -1;
  jval *header = NULL, *calibration = NULL;
  const char *jerr = NULL;
  uint64_t hlen = 0;
  if (size < 8) { failf(err, errlen, "%s: too short for safetensors", path); goto done; }
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | file[i];
  if (hlen > 100000000 || hlen > (uint64_t)size - 8) { failf(err, errlen, "%s: header length %llu does not fit the file", path, (unsigned long long)hlen); goto done; }
  header = json_parse((const char *)file + 8, (size_t)hlen, &jerr);
  if (!header || header->type != J_OBJ) { failf(err, errlen, "%s: header is not a JSON object (%s)", path, jerr ? jerr : "not an object"); goto done; }

  const jval *meta = json_get(header, "__metadata__");
  const char *format = meta_str(meta, "format"), *version = meta_str(meta, "format_version");
  if (!format || strcmp(format, "sae-edge") || !version || strcmp(version, "1")) { failf(err, errlen, "%s: not an sae-edge version 1 model", path); goto done; }
  const char *arch = meta_str(meta, "architecture"), *quant = meta_str(meta, "quantization");
  const char *apply = meta_str(meta, "apply_b_dec_to_input"), *norm = meta_str(meta, "normalization");
  long d_in, d_sae, k, act;
  if (!arch || !quant || !apply || !norm || !meta_int(meta, "d_in", 1, 65536, &d_in) || !meta_int(meta, "d_sae", 1, 1L << 24, &d_sae) || !meta_int(meta, "k", 0, 1L << 24, &k)) {
    failf(err, errlen, "%s: metadata lacks architecture, quantization, d_in, d_sae, k, apply_b_dec_to_input or normalization", path);
    goto done;
  }
  if (!strcmp(arch, "standard")) act = ACT_RELU;
  else if (!strcmp(arch, "topk")) act = ACT_TOPK;
  else if (!strcmp(arch, "jumprelu")) act = ACT_JUMPRELU;
  else if (!strcmp(arch, "groupmax")) act = ACT_GROUPMAX;
  else { failf(err, errlen, "%s: architecture %s is not supported by this host", path, arch); goto done; }
  if ((act == ACT_TOPK && (k < 1 || k > d_sae)) || (act == ACT_GROUPMAX && (k < 1 || d_sae % k))) { failf(err, errlen, "%s: k %ld does not fit d_sae %ld", path, k, d_sae); goto done; }
  int int8 = !strcmp(quant, "int8");
  if (!int8 && strcmp(quant, "f32")) { failf(err, errlen, "%s: quantization %s", path, quant); goto done; }
  long normc = !strcmp(norm, "none") ? NORM_NONE : !strcmp(norm, "layer_norm") ? NORM_LAYER : !strcmp(norm, "constant_norm_rescale") ? NORM_CONSTANT_NORM : -1;
  if (normc < 0) { failf(err, errlen, "%s: normalization %s", path, norm); goto done; }
  const char *d_out = meta_str(meta, "d_out"), *skip = meta_str(meta, "skip_connection");
  if ((d_out && strtol(d_out, NULL, 10) != d_in) || (skip && strcmp(skip, "false"))) { failf(err, errlen, "%s: transcoders are not supported by this host", path); goto done; }

  long tiles = (d_sae + 3) / 4, steps = (d_in + 15) / 16, d_sae_pad = tiles * LATENT_TILE;
  expected want[8];
  int nwant = 0;
  if (int8) want[nwant++] = (expected){"W_enc_packed", "I8", {tiles, steps, 4, 16}, 4, 0};
  else want[nwant++] = (expected){"W_enc_packed", "F32", {tiles, d_in, 4}, 3, 0};
  if (int8) want[nwant++] = (expected){"W_enc_scale", "F32", {d_sae}, 1, 1};
  /* The optional residual plane (quantize --encoder-residual): present when the header names it. */
  int resid = int8 && json_get(header, "W_enc_residual") != NULL;
  if (resid) want[nwant++] = (expected){"W_enc_residual", "I8", {d_sae, steps, 16}, 3, 0};
  want[nwant++] = (expected){"b_enc", "F32", {d_sae}, 1, 1};
  if (act == ACT_JUMPRELU) want[nwant++] = (expected){"threshold", "F32", {d_sae}, 1, 1};
  want[nwant++] = (expected){"W_dec", int8 ? "I8" : "F32", {d_sae, d_in}, 2, 0};
  if (int8) want[nwant++] = (expected){"W_dec_scale", "F32", {d_sae}, 1, 0};
  want[nwant++] = (expected){"b_dec", "F32", {d_in}, 1, 0};

  /* Every tensor expected, none other, contiguous in header order, covering the data exactly. */
  const uint8_t *data = file + 8 + hlen;
  uint64_t data_len = (uint64_t)size - 8 - hlen, at = 0;
  const uint8_t *src[8] = {0};
  size_t bytes[8] = {0};
  int tensors = 0;
  for (size_t i = 0; i < header->len; i++) {
    if (!strcmp(header->keys[i], "__metadata__")) continue;
    const jval *t = header->items[i];
    int w = -1;
    for (int j = 0; j < nwant; j++) if (!strcmp(want[j].name, header->keys[i])) w = j;
    if (w < 0 || src[w]) { failf(err, errlen, "%s: unexpected tensor %s", path, header->keys[i]); goto done; }
    const jval *dtype = json_get(t, "dtype"), *offs = json_get(t, "data_offsets");
    if (!dtype || dtype->type != J_STR || strcmp(dtype->str, want[w].dtype) || !shape_is(json_get(t, "shape"), &want[w])) {
      failf(err, errlen, "%s: tensor %s is not %s of the shape the metadata implies", path, want[w].name, want[w].dtype);
      goto done;
    }
    uint64_t elems = 1;
    for (int d = 0; d < want[w].rank; d++) elems *= (uint64_t)want[w].shape[d];
    uint64_t nbytes = elems * (int8 && want[w].dtype[0] == 'I' ? 1 : 4);
    if (!offs || offs->type != J_ARR || offs->len != 2 || offs->items[0]->num != (double)at || offs->items[1]->num != (double)(at + nbytes) || at + nbytes > data_len) {
      failf(err, errlen, "%s: tensor %s has data offsets out of place", path, want[w].name);
      goto done;
    }
    src[w] = data + at;
    bytes[w] = (size_t)nbytes;
    at += nbytes;
    tensors++;
  }
  if (tensors != nwant || at != data_len) { failf(err, errlen, "%s: tensors missing or data left over", path); goto done; }

  /* Place the model: the descriptor, then one region per tensor. */
  Z_sae_instantiate(&s->wasm);
  if (Z_saeZ_abi_version(&s->wasm) != ABI_VERSION) { failf(err, errlen, "kernel ABI version %u, this host speaks %d", Z_saeZ_abi_version(&s->wasm), ABI_VERSION); goto done; }
  s->m = wasm_alloc(s, M_BYTES);
  unsigned region[8];
  for (int j = 0; j < nwant; j++) region[j] = wasm_alloc(s, want[j].per_latent ? (size_t)d_sae_pad * 4 : bytes[j]);
  unsigned zsum = int8 ? wasm_alloc(s, (size_t)d_sae_pad * 4) : 0;
  unsigned qerr = int8 ? wasm_alloc(s, (size_t)d_sae_pad * 4) : 0; /* near-boundary rescoring bounds (model_prepare fills them) */
  s->batch = BATCH;
  s->x = wasm_alloc(s, (size_t)BATCH * d_in * 4);
  s->sq = wasm_alloc(s, BATCH * 8);
  s->norm = wasm_alloc(s, BATCH * 8);
  unsigned rerr = resid ? wasm_alloc(s, (size_t)d_sae_pad * 4) : 0; /* the bounds' weight terms with the plane (model_prepare fills them) */
  int ok = s->m && s->x && s->sq && s->norm && (!int8 || (zsum && qerr)) && (!resid || rerr);
  for (int j = 0; j < nwant; j++) ok = ok && region[j];
  if (!ok) { failf(err, errlen, "out of wasm memory"); goto done; }
  memset(mem(s) + s->m, 0, M_BYTES);
  unsigned by_name[8] = {0}; /* W_enc_packed, W_enc_scale, b_enc, threshold, W_dec, W_dec_scale, b_dec, W_enc_residual */
  static const char *names[] = {"W_enc_packed", "W_enc_scale", "b_enc", "threshold", "W_dec", "W_dec_scale", "b_dec", "W_enc_residual"};
  for (int j = 0; j < nwant; j++) {
    uint8_t *dst = mem(s) + region[j];
    if (want[j].per_latent) memset(dst, 0, (size_t)d_sae_pad * 4);
    memcpy(dst, src[j], bytes[j]);
    if (strcmp(want[j].dtype, "F32") == 0) {
      int bad = (int)Z_saeZ_find_nonfinite_f32(&s->wasm, region[j], (uint32_t)(bytes[j] / 4));
      if (bad >= 0) { failf(err, errlen, "%s: tensor %s has a non-finite value at flat index %d", path, want[j].name, bad); goto done; }
    }
    for (int n = 0; n < 8; n++) if (!strcmp(names[n], want[j].name)) by_name[n] = region[j];
  }
  for (int n = 1; n <= 5; n += 4) { /* scales must not be negative */
    if (!by_name[n]) continue;
    float v;
    for (long j = 0; j < d_sae; j++) {
      memcpy(&v, mem(s) + by_name[n] + 4 * j, 4);
      if (v < 0) { failf(err, errlen, "%s: tensor %s has a negative scale at latent %ld", path, names[n], j); goto done; }
    }
  }
  if (by_name[3]) { /* ReLU(h)·[h > θ] is active iff h > max(θ, 0) */
    float v, zero = 0;
    for (long j = 0; j < d_sae; j++) {
      memcpy(&v, mem(s) + by_name[3] + 4 * j, 4);
      if (v < 0) memcpy(mem(s) + by_name[3] + 4 * j, &zero, 4);
    }
  }
  if (int8) memset(mem(s) + zsum, 0, (size_t)d_sae_pad * 4);
  if (int8) memset(mem(s) + qerr, 0, (size_t)d_sae_pad * 4);
  if (rerr) memset(mem(s) + rerr, 0, (size_t)d_sae_pad * 4);
  int32_t fields[M_BYTES / 4] = {0};
  fields[M_D_IN / 4] = (int32_t)d_in;
  fields[M_D_IN_PAD / 4] = (int32_t)(steps * K_STEP);
  fields[M_D_SAE / 4] = (int32_t)d_sae;
  fields[M_D_SAE_PAD / 4] = (int32_t)d_sae_pad;
  fields[M_ACT / 4] = (int32_t)act;
  fields[M_K / 4] = (int32_t)k;
  fields[M_QUANT / 4] = int8 ? QUANT_I8 : QUANT_F32;
  fields[M_W_ENC / 4] = (int32_t)by_name[0];
  fields[M_ENC_SCALE / 4] = (int32_t)by_name[1];
  fields[M_ENC_ZSUM / 4] = (int32_t)zsum;
  fields[M_ENC_QERR / 4] = (int32_t)qerr;
  fields[M_ENC_RESID / 4] = (int32_t)by_name[7];
  fields[M_ENC_RERR / 4] = (int32_t)rerr;
  fields[M_B_ENC / 4] = (int32_t)by_name[2];
  fields[M_THRESH / 4] = (int32_t)by_name[3];
  fields[M_W_DEC / 4] = (int32_t)by_name[4];
  fields[M_DEC_SCALE / 4] = (int32_t)by_name[5];
  fields[M_B_DEC / 4] = (int32_t)by_name[6];
  fields[M_X_SHIFT / 4] = strcmp(apply, "true") == 0 ? (int32_t)by_name[6] : 0;
  fields[M_NORM / 4] = (int32_t)normc;
  fields[M_D_OUT / 4] = (int32_t)d_in;
  for (int i = 0; i < M_BYTES / 4; i++) { /* little-endian, as wasm memory is */
    uint32_t v = (uint32_t)fields[i];
    for (int b = 0; b < 4; b++) mem(s)[s->m + 4 * i + b] = (uint8_t)(v >> (8 * b));
  }
  Z_saeZ_model_prepare(&s->wasm, s->m);
  s->ws = wasm_alloc(s, Z_saeZ_workspace_bytes(&s->wasm, s->m));
  if (!s->ws) { failf(err, errlen, "out of wasm memory for the workspace"); goto done; }

  s->d_in = (int)d_in;
  s->d_sae = (int)d_sae;
  s->k = (int)k;
  snprintf(s->architecture, sizeof s->architecture, "%s", arch);
  snprintf(s->quantization, sizeof s->quantization, "%s", quant);
  const char *cal = meta_str(meta, "calibration");
  if (cal) {
    calibration = json_parse(cal, strlen(cal), &jerr);
    const jval *mode = json_get(calibration, "mode"), *thr = json_get(calibration, "threshold");
    if (!mode || mode->type != J_STR || !thr || thr->type != J_NUM) { failf(err, errlen, "%s: calibration metadata is not {mode, threshold, …}", path); goto done; }
    snprintf(s->mode, sizeof s->mode, "%s", mode->str);
    s->threshold = thr->num;
    s->calibrated = 1;
  }
  rc = 0;
done:
  json_free(header);
  json_free(calibration);
  free(file);
  return rc;
}

int sae_score(sae_model *s, const float *x, int n, double *sq, double *norm, char *err, size_t errlen) {
  for (int r0 = 0; r0 < n; r0 += s->batch) {
    int cnt = n - r0 < s->batch ? n - r0 : s->batch;
    memcpy(mem(s) + s->x, x + (size_t)r0 * s->d_in, (size_t)cnt * s->d_in * 4);
    int bad = (int)Z_saeZ_find_nonfinite_f32(&s->wasm, s->x, (uint32_t)(cnt * s->d_in));
    if (bad >= 0) return failf(err, errlen, "row %d has a NaN or infinite value at column %d", r0 + bad / s->d_in, bad % s->d_in);
    Z_saeZ_score(&s->wasm, s->m, s->ws, s->x, (uint32_t)cnt, s->sq, s->norm);
    int over = (int)Z_saeZ_overflow_row(&s->wasm, s->ws);
    if (over >= 0) return failf(err, errlen, "row %d overflows float32 in the encoder", r0 + over);
    memcpy(sq + r0, mem(s) + s->sq, (size_t)cnt * 8);
    memcpy(norm + r0, mem(s) + s->norm, (size_t)cnt * 8);
  }
  return 0;
}

void sae_unload(sae_model *s) {
  Z_sae_free(&s->wasm);
}
