/* A small JSON reader (RFC 8259) with a nesting limit; enough for safetensors headers. */
#include "json.h"
#include <stdlib.h>
#include <string.h>

typedef struct { const char *p, *end; const char *err; int depth; } reader;

static jval *value(reader *r);

static void ws(reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static jval *fail(reader *r, const char *msg) {
  if (!r->err) r->err = msg;
  return NULL;
}

static jval *node(jtype t) {
  jval *v = calloc(1, sizeof *v);
  if (v) v->type = t;
  return v;
}

static int hex4(reader *r, unsigned *out) {
  if (r->end - r->p < 4) return 0;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = *r->p++;
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static size_t utf8(unsigned cp, char *o) {
  if (cp < 0x80) { o[0] = (char)cp; return 1; }
  if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
  if (cp < 0x10000) { o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 63)); o[2] = (char)(0x80 | (cp & 63)); return 3; }
  o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 63)); o[2] = (char)(0x80 | (cp >> 6 & 63)); o[3] = (char)(0x80 | (cp & 63));
  return 4;
}

/* Reads a string after its opening quote; an escape never makes the output longer than the input. */
static char *string(reader *r, size_t *len) {
  const char *start = r->p;
  while (r->p < r->end && *r->p != '"') r->p += (*r->p == '\\' && r->p + 1 < r->end) ? 2 : 1;
  if (r->p >= r->end) return (char *)fail(r, "unterminated string");
  char *out = malloc((size_t)(r->p - start) + 1), *o = out;
  if (!out) return (char *)fail(r, "out of memory");
  const char *end = r->p;
  r->p = start;
  while (r->p < end) {
    unsigned char c = (unsigned char)*r->p++;
    if (c < 0x20) { free(out); return (char *)fail(r, "control character in string"); }
    if (c != '\\') { *o++ = (char)c; continue; }
    char e = *r->p++;
    unsigned cp;
    switch (e) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u':
        if (!hex4(r, &cp)) { free(out); return (char *)fail(r, "bad \\u escape"); }
        if (cp >= 0xD800 && cp < 0xDC00 && end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u') {
          unsigned lo;
          r->p += 2;
          if (!hex4(r, &lo) || lo < 0xDC00 || lo > 0xDFFF) { free(out); return (char *)fail(r, "bad surrogate pair"); }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        o += utf8(cp, o); /* 6 or 12 input bytes, at most 4 output bytes */
        break;
      default: free(out); return (char *)fail(r, "bad escape");
    }
  }
  r->p = end + 1;
  *o = 0;
  *len = (size_t)(o - out);
  return out;
}

static int push(jval *v, char *key, jval *item) {
  jval **items = realloc(v->items, (v->len + 1) * sizeof *items);
  if (!items) return 0;
  v->items = items;
  if (v->type == J_OBJ) {
    char **keys = realloc(v->keys, (v->len + 1) * sizeof *keys);
    if (!keys) return 0;
    v->keys = keys;
    keys[v->len] = key;
  }
  items[v->len++] = item;
  return 1;
}

static jval *container(reader *r, jtype t) {
  char close = t == J_OBJ ? '}' : ']';
  if (++r->depth > 64) return fail(r, "nested too deep");
  jval *v = node(t);
  if (!v) return fail(r, "out of memory");
  ws(r);
  if (r->p < r->end && *r->p == close) { r->p++; r->depth--; return v; }
  for (;;) {
    char *key = NULL;
    ws(r);
    if (t == J_OBJ) {
      size_t klen;
      if (r->p >= r->end || *r->p++ != '"' || !(key = string(r, &klen))) { json_free(v); return fail(r, "expected a key"); }
      ws(r);
      if (r->p >= r->end || *r->p++ != ':') { free(key); json_free(v); return fail(r, "expected ':'"); }
    }
    jval *item = value(r);
    if (!item || !push(v, key, item)) { free(key); json_free(item); json_free(v); return fail(r, "out of memory"); }
    ws(r);
    if (r->p < r->end && *r->p == ',') { r->p++; continue; }
    if (r->p < r->end && *r->p == close) { r->p++; r->depth--; return v; }
    json_free(v);
    return fail(r, "expected ',' or a closing bracket");
  }
}

static jval *value(reader *r) {
  ws(r);
  if (r->p >= r->end) return fail(r, "unexpected end");
  char c = *r->p;
  if (c == '{') { r->p++; return container(r, J_OBJ); }
  if (c == '[') { r->p++; return container(r, J_ARR); }
  if (c == '"') {
    r->p++;
    jval *v = node(J_STR);
    if (!v || !(v->str = string(r, &v->len))) { free(v); return fail(r, "bad string"); }
    return v;
  }
  static const struct { const char *word; jtype t; double num; } lit[] = {{"true", J_BOOL, 1}, {"false", J_BOOL, 0}, {"null", J_NULL, 0}};
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(lit[i].word);
    if ((size_t)(r->end - r->p) >= n && memcmp(r->p, lit[i].word, n) == 0) {
      r->p += n;
      jval *v = node(lit[i].t);
      if (v) v->num = lit[i].num;
      return v ? v : fail(r, "out of memory");
    }
  }
  /* A number: copy the characters JSON allows, then strtod. */
  char buf[64];
  size_t n = 0;
  while (r->p < r->end && n < sizeof buf - 1 && strchr("+-0123456789.eE", *r->p)) buf[n++] = *r->p++;
  buf[n] = 0;
  char *end;
  double d = strtod(buf, &end);
  if (n == 0 || *end) return fail(r, "bad value");
  jval *v = node(J_NUM);
  if (!v) return fail(r, "out of memory");
  v->num = d;
  return v;
}

jval *json_parse(const char *text, size_t len, const char **err) {
  reader r = {text, text + len, NULL, 0};
  jval *v = value(&r);
  ws(&r);
  if (v && r.p != r.end) { json_free(v); v = fail(&r, "trailing characters"); }
  if (!v && err) *err = r.err ? r.err : "invalid JSON";
  return v;
}

const jval *json_get(const jval *obj, const char *key) {
  if (!obj || obj->type != J_OBJ) return NULL;
  for (size_t i = 0; i < obj->len; i++) if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
  return NULL;
}

void json_free(jval *v) {
  if (!v) return;
  for (size_t i = 0; i < v->len && v->items; i++) {
    json_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->str);
  free(v);
}
