/* hpack_int.c: prefixed integers (RFC 7541 §5.1). */
#include "h2_hpack.h"
#include "hpack_internal.h"

int h2_hpack_int_decode(h2_cbs *in, unsigned prefix_bits, uint32_t *out) {
  if (prefix_bits < 1 || prefix_bits > 8) return H2_ERR_INVALID_ARG;
  size_t used;
  uint32_t v;
  int rc = hpack_int_read(h2_cbs_data(in), h2_cbs_len(in), prefix_bits, &v, &used);
  if (rc) return rc;
  h2_cbs_skip(in, used);
  *out = v;
  return 0;
}

int h2_hpack_int_encode(h2_cbb *out, unsigned prefix_bits, uint8_t first_bits, uint32_t value) {
  if (prefix_bits < 1 || prefix_bits > 8) return H2_ERR_INVALID_ARG;
  uint32_t mask = (1u << prefix_bits) - 1;
  if (first_bits & mask) return H2_ERR_INVALID_ARG;
  if (value < mask) {
    uint8_t *p = h2_cbb_space(out, 1);
    if (!p) return H2_ERR_BUF_TOO_SMALL;
    p[0] = (uint8_t)(first_bits | value);
    return 1;
  }
  uint8_t tmp[6];
  size_t n = 0;
  tmp[n++] = (uint8_t)(first_bits | mask);
  value -= mask;
  while (value >= 0x80) {
    tmp[n++] = (uint8_t)(0x80 | (value & 0x7f));
    value >>= 7;
  }
  tmp[n++] = (uint8_t)value;
  uint8_t *p = h2_cbb_space(out, n);
  if (!p) return H2_ERR_BUF_TOO_SMALL;
  memcpy(p, tmp, n);
  return (int)n;
}
