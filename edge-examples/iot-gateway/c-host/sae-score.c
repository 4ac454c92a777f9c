/* sae-score: anomaly scores from an sae-edge model in plain C, through the scalar wasm
 * kernels compiled to C by wasm2c (no wasm runtime, no JavaScript).
 *
 *   sae-score MODEL [--f32 FILE] [--mode raw|norm] [--threshold auto|X]
 *
 * Input: FILE of little-endian float32 rows (n × d_in), or, without --f32, text lines on
 * stdin, one vector of d_in numbers per line (spaces or commas between them, or a JSON
 * array), answered line by line: a gateway keeps one process and writes to its stdin.
 * Output: one line per row: the score (%.17g, exact), then a tab and 0/1 with a threshold.
 * Errors: one line on stderr, exit code 2. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "wasm-rt-impl.h"

/* Between numbers: spaces, commas, tabs, and brackets, so JSON arrays work as they are. */
#define SEPARATORS " ,\t[]"

static int usage(void) {
  fprintf(stderr, "usage: sae-score MODEL [--f32 FILE] [--mode raw|norm] [--threshold auto|X]\n");
  return 2;
}

static int die(const char *msg) {
  fprintf(stderr, "sae-score: %s\n", msg);
  return 2;
}

static void print(double score, int flagged, double threshold) {
  if (flagged) printf("%.17g\t%d\n", score, score > threshold);
  else printf("%.17g\n", score);
}

/* File scope, so that the longjmp of a wasm trap cannot clobber them. */
static const char *model, *f32_path, *mode, *thr;

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--f32") && i + 1 < argc) f32_path = argv[++i];
    else if (!strcmp(argv[i], "--mode") && i + 1 < argc) mode = argv[++i];
    else if (!strcmp(argv[i], "--threshold") && i + 1 < argc) thr = argv[++i];
    else if (argv[i][0] == '-' || model) return usage();
    else model = argv[i];
  }
  if (!model) return usage();

  wasm_rt_init();
  Z_sae_init_module();
  int trap = wasm_rt_impl_try(); /* a wasm trap lands here instead of killing the process */
  if (trap) {
    fprintf(stderr, "sae-score: wasm trap: %s\n", wasm_rt_strerror((wasm_rt_trap_t)trap));
    return 3;
  }
  static sae_model s;
  char err[512];
  if (sae_load(&s, model, err, sizeof err)) return die(err);

  int flagged = thr != NULL;
  double threshold = 0;
  if (thr && !strcmp(thr, "auto")) {
    if (!s.calibrated) return die("--threshold auto needs a calibrated model (sae-edge calibrate)");
    threshold = s.threshold;
    if (!mode) mode = s.mode;
    if (strcmp(mode, s.mode)) return die("--mode differs from the model's calibration");
  } else if (thr) {
    char *end;
    threshold = strtod(thr, &end);
    if (*end || end == thr) return die("--threshold is not a number");
  }
  if (!mode) mode = "raw";
  int use_norm = !strcmp(mode, "norm");
  if (!use_norm && strcmp(mode, "raw")) return die("--mode must be raw or norm (var needs the JS host)");
  fprintf(stderr, "sae-score: %s %s d_in %d d_sae %d k %d, scalar kernels via wasm2c\n", s.architecture, s.quantization, s.d_in, s.d_sae, s.k);

  if (f32_path) {
    FILE *f = fopen(f32_path, "rb");
    if (!f) return die("cannot open the --f32 file");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t row = (size_t)s.d_in * 4;
    if (size <= 0 || size % (long)row) return die("the --f32 file is not whole rows of d_in float32 values");
    int n = (int)(size / (long)row);
    float *x = malloc((size_t)size);
    double *sq = malloc((size_t)n * 8), *nm = malloc((size_t)n * 8);
    if (!x || !sq || !nm || fread(x, 1, (size_t)size, f) != (size_t)size) return die("cannot read the --f32 file");
    fclose(f);
    if (sae_score(&s, x, n, sq, nm, err, sizeof err)) return die(err);
    for (int r = 0; r < n; r++) print(use_norm ? nm[r] : sq[r], flagged, threshold);
    return 0;
  }

  /* Text lines on stdin, answered one by one. */
  float *x = malloc((size_t)s.d_in * 4);
  char *line = NULL;
  size_t cap = 0;
  long lineno = 0;
  while (getline(&line, &cap, stdin) > 0) {
    lineno++;
    char *p = line, *end;
    int got = 0;
    while (got <= s.d_in) {
      while (*p && strchr(SEPARATORS, *p)) p++;
      if (*p == '\n' || *p == '\r' || !*p) break;
      errno = 0;
      float v = strtof(p, &end);
      if (end == p) break;
      if (got < s.d_in) x[got] = v;
      got++;
      p = end;
    }
    while (*p && strchr(SEPARATORS "\r\n", *p)) p++;
    if (got != s.d_in || *p) {
      snprintf(err, sizeof err, "line %ld: expected %d numbers", lineno, s.d_in);
      return die(err);
    }
    double sq, nm;
    if (sae_score(&s, x, 1, &sq, &nm, err, sizeof err)) return die(err);
    print(use_norm ? nm : sq, flagged, threshold);
    fflush(stdout);
  }
  return 0;
}
