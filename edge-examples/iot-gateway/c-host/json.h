/* A small JSON reader for safetensors headers: objects keep their key order. */
#ifndef SAE_JSON_H
#define SAE_JSON_H
#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
  jtype type;
  double num;          /* J_NUM, J_BOOL (0/1) */
  char *str;           /* J_STR: NUL-terminated, UTF-8 */
  size_t len;          /* J_STR bytes; J_ARR/J_OBJ items */
  char **keys;         /* J_OBJ */
  struct jval **items; /* J_ARR/J_OBJ */
} jval;

/* NULL on error, with *err set to a static message. */
jval *json_parse(const char *text, size_t len, const char **err);
/* The member named key of an object, or NULL. */
const jval *json_get(const jval *obj, const char *key);
void json_free(jval *v);

#endif
