/* hpack_static.c: the HPACK static table (RFC 7541 Appendix A) and its
 * lookup by name (a table of candidates per name length, then memcmp). */
#include <string.h>

#include "h2_hpack.h"
#include "hpack_internal.h"

const hpack_static_entry hpack_static_table[H2_HPACK_STATIC_COUNT + 1] = {
    {"", 0, "", 0}, /* index 0 is unused */
    {":authority", 10, "", 0}, /* 1 */
    {":method", 7, "GET", 3}, /* 2 */
    {":method", 7, "POST", 4}, /* 3 */
    {":path", 5, "/", 1}, /* 4 */
    {":path", 5, "/index.html", 11}, /* 5 */
    {":scheme", 7, "http", 4}, /* 6 */
    {":scheme", 7, "https", 5}, /* 7 */
    {":status", 7, "200", 3}, /* 8 */
    {":status", 7, "204", 3}, /* 9 */
    {":status", 7, "206", 3}, /* 10 */
    {":status", 7, "304", 3}, /* 11 */
    {":status", 7, "400", 3}, /* 12 */
    {":status", 7, "404", 3}, /* 13 */
    {":status", 7, "500", 3}, /* 14 */
    {"accept-charset", 14, "", 0}, /* 15 */
    {"accept-encoding", 15, "gzip, deflate", 13}, /* 16 */
    {"accept-language", 15, "", 0}, /* 17 */
    {"accept-ranges", 13, "", 0}, /* 18 */
    {"accept", 6, "", 0}, /* 19 */
    {"access-control-allow-origin", 27, "", 0}, /* 20 */
    {"age", 3, "", 0}, /* 21 */
    {"allow", 5, "", 0}, /* 22 */
    {"authorization", 13, "", 0}, /* 23 */
    {"cache-control", 13, "", 0}, /* 24 */
    {"content-disposition", 19, "", 0}, /* 25 */
    {"content-encoding", 16, "", 0}, /* 26 */
    {"content-language", 16, "", 0}, /* 27 */
    {"content-length", 14, "", 0}, /* 28 */
    {"content-location", 16, "", 0}, /* 29 */
    {"content-range", 13, "", 0}, /* 30 */
    {"content-type", 12, "", 0}, /* 31 */
    {"cookie", 6, "", 0}, /* 32 */
    {"date", 4, "", 0}, /* 33 */
    {"etag", 4, "", 0}, /* 34 */
    {"expect", 6, "", 0}, /* 35 */
    {"expires", 7, "", 0}, /* 36 */
    {"from", 4, "", 0}, /* 37 */
    {"host", 4, "", 0}, /* 38 */
    {"if-match", 8, "", 0}, /* 39 */
    {"if-modified-since", 17, "", 0}, /* 40 */
    {"if-none-match", 13, "", 0}, /* 41 */
    {"if-range", 8, "", 0}, /* 42 */
    {"if-unmodified-since", 19, "", 0}, /* 43 */
    {"last-modified", 13, "", 0}, /* 44 */
    {"link", 4, "", 0}, /* 45 */
    {"location", 8, "", 0}, /* 46 */
    {"max-forwards", 12, "", 0}, /* 47 */
    {"proxy-authenticate", 18, "", 0}, /* 48 */
    {"proxy-authorization", 19, "", 0}, /* 49 */
    {"range", 5, "", 0}, /* 50 */
    {"referer", 7, "", 0}, /* 51 */
    {"refresh", 7, "", 0}, /* 52 */
    {"retry-after", 11, "", 0}, /* 53 */
    {"server", 6, "", 0}, /* 54 */
    {"set-cookie", 10, "", 0}, /* 55 */
    {"strict-transport-security", 25, "", 0}, /* 56 */
    {"transfer-encoding", 17, "", 0}, /* 57 */
    {"user-agent", 10, "", 0}, /* 58 */
    {"vary", 4, "", 0}, /* 59 */
    {"via", 3, "", 0}, /* 60 */
    {"www-authenticate", 16, "", 0}, /* 61 */
};

/* The first index of every distinct name, by name length, 0-terminated. */
#define MAX_NAME_LEN 27
static const uint8_t by_len[MAX_NAME_LEN + 1][7] = {
    {0}, /* 0 */
    {0}, /* 1 */
    {0}, /* 2 */
    {21, 60, 0}, /* 3 */
    {33, 34, 37, 38, 45, 59, 0}, /* 4 */
    {4, 22, 50, 0}, /* 5 */
    {19, 32, 35, 54, 0}, /* 6 */
    {2, 6, 8, 36, 51, 52, 0}, /* 7 */
    {39, 42, 46, 0}, /* 8 */
    {0}, /* 9 */
    {1, 55, 58, 0}, /* 10 */
    {53, 0}, /* 11 */
    {31, 47, 0}, /* 12 */
    {18, 23, 24, 30, 41, 44, 0}, /* 13 */
    {15, 28, 0}, /* 14 */
    {16, 17, 0}, /* 15 */
    {26, 27, 29, 61, 0}, /* 16 */
    {40, 57, 0}, /* 17 */
    {48, 0}, /* 18 */
    {25, 43, 49, 0}, /* 19 */
    {0}, /* 20 */
    {0}, /* 21 */
    {0}, /* 22 */
    {0}, /* 23 */
    {0}, /* 24 */
    {56, 0}, /* 25 */
    {0}, /* 26 */
    {20, 0}, /* 27 */
};

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
  if (out_name_index) *out_name_index = 0;
  if (name_len == 0 || name_len > MAX_NAME_LEN) return 0;
  const uint8_t *cand = by_len[name_len];
  for (; *cand; cand++) {
    const hpack_static_entry *e = &hpack_static_table[*cand];
    if (e->name[0] != name[0] || memcmp(e->name, name, name_len) != 0) continue;
    if (out_name_index) *out_name_index = *cand;
    /* Entries sharing a name are consecutive. */
    for (uint32_t i = *cand; i <= H2_HPACK_STATIC_COUNT; i++) {
      const hpack_static_entry *f = &hpack_static_table[i];
      if (f->name != e->name && (f->name_len != name_len || memcmp(f->name, name, name_len) != 0))
        break;
      if (f->value_len == value_len && (value_len == 0 || memcmp(f->value, value, value_len) == 0))
        return i;
    }
    return 0;
  }
  return 0;
}
