/* hpack_static.c: the HPACK static table (RFC 7541 Appendix A) and its
 * lookup: a generated switch finds the name (hpack_static_table.h), then
 * the entries sharing that name, which are consecutive, are compared by
 * value. */
#include <string.h>

#include "h2_hpack.h"
#include "hpack_internal.h"
#include "hpack_static_table.h"

int h2_hpack_static_get(uint32_t index, h2_hpack_field *out) {
  if (index < 1 || index > H2_HPACK_STATIC_COUNT) return H2_ERR_HPACK_INDEX_RANGE;
  const hpack_static_entry *e = &hpack_static_table[index];
  out->name = e->name;
  out->name_len = e->name_len;
  out->value = e->value;
  out->value_len = e->value_len;
  out->flags = 0;
  return 0;
}

uint32_t h2_hpack_static_find(const char *name, size_t name_len, const char *value,
                              size_t value_len, uint32_t *out_name_index) {
  uint32_t first = name_len ? static_name_index(name, name_len) : 0;
  if (out_name_index) *out_name_index = first;
  if (!first) return 0;
  for (uint32_t i = first; i < first + static_span[first]; i++) {
    const hpack_static_entry *e = &hpack_static_table[i];
    if (e->value_len == value_len && hpack_eq(e->value, value, value_len))
      return i;
  }
  return 0;
}
