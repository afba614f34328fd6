/* hpack_huffman.c: the HPACK Huffman code (RFC 7541 §5.2, Appendix B) and
 * string literals. Decoding is one table lookup per input octet over the
 * generated state machine in hpack_huffman_table.h (up to two symbols per
 * step); encoding packs codes into a 64-bit accumulator. */
#include "h2_hpack.h"
#include "hpack_internal.h"
#include "hpack_huffman_table.h"

size_t h2_hpack_huffman_encoded_len(const char *s, size_t len) {
  const uint8_t *p = (const uint8_t *)s;
  size_t bits = 0;
  for (size_t i = 0; i < len; i++) bits += h2_hpack_huff_bits[p[i]];
  return (bits + 7) / 8;
}

/* huff_write writes the code of |len| octets to |dst|, which has exactly
 * h2_hpack_huffman_encoded_len() octets. */
static void huff_write(uint8_t *dst, const uint8_t *p, size_t len) {
  uint64_t acc = 0; /* pending bits, right-aligned */
  unsigned n = 0;   /* number of pending bits (< 32 between symbols) */
  for (size_t i = 0; i < len; i++) {
    acc = (acc << h2_hpack_huff_bits[p[i]]) | h2_hpack_huff_code[p[i]];
    n += h2_hpack_huff_bits[p[i]];
    if (n >= 32) {
      n -= 32;
      uint32_t w = (uint32_t)(acc >> n);
      dst[0] = (uint8_t)(w >> 24);
      dst[1] = (uint8_t)(w >> 16);
      dst[2] = (uint8_t)(w >> 8);
      dst[3] = (uint8_t)w;
      dst += 4;
    }
  }
  while (n >= 8) {
    n -= 8;
    *dst++ = (uint8_t)(acc >> n);
  }
  if (n) *dst = (uint8_t)((acc << (8 - n)) | (0xffu >> n)); /* pad with EOS's ones */
}

/* HUFF_PUT appends the code of octet |c| to |acc| and flushes 32 bits to |d|
 * when that many are pending; past |limit| octets, the encoding gives up. */
#define HUFF_PUT(c)                                 \
  do {                                              \
    unsigned bits_ = h2_hpack_huff_bits[(c)];       \
    acc = (acc << bits_) | h2_hpack_huff_code[(c)]; \
    n += bits_;                                     \
    if (n >= 32) {                                  \
      n -= 32;                                      \
      uint32_t w = (uint32_t)(acc >> n);            \
      d[0] = (uint8_t)(w >> 24);                    \
      d[1] = (uint8_t)(w >> 16);                    \
      d[2] = (uint8_t)(w >> 8);                     \
      d[3] = (uint8_t)w;                            \
      d += 4;                                       \
      if ((size_t)(d - dst) > limit) return SIZE_MAX; \
    }                                               \
  } while (0)

size_t hpack_huff_encode_limited(uint8_t *dst, const char *s, size_t len, size_t limit) {
  const uint8_t *p = (const uint8_t *)s, *end = p + len;
  uint8_t *d = dst;
  uint64_t acc = 0;
  unsigned n = 0;
  /* Two octets per round: half the loop overhead. */
  for (; end - p >= 2; p += 2) {
    HUFF_PUT(p[0]);
    HUFF_PUT(p[1]);
  }
  if (p < end) HUFF_PUT(p[0]);
  size_t total = (size_t)(d - dst) + (n + 7) / 8;
  if (total > limit) return SIZE_MAX;
  while (n >= 8) {
    n -= 8;
    *d++ = (uint8_t)(acc >> n);
  }
  if (n) *d = (uint8_t)((acc << (8 - n)) | (0xffu >> n));
  return total;
}

int h2_hpack_huffman_encode(h2_cbb *out, const char *s, size_t len) {
  size_t n = h2_hpack_huffman_encoded_len(s, len);
  uint8_t *dst = h2_cbb_space(out, n);
  if (!dst) return H2_ERR_BUF_TOO_SMALL;
  huff_write(dst, (const uint8_t *)s, len);
  return (int)n;
}

int h2_hpack_huffman_decode(char *out, size_t out_cap, const uint8_t *in, size_t in_len) {
  if (in_len == 0) return 0; /* |out| may then be NULL: no pointer arithmetic on it */
  uint8_t *o = (uint8_t *)out;
  uint8_t *oend = o + out_cap;
  uint32_t e = H2_HUFF_ACCEPT, fail = 0;
  /* Fast loop: while two symbols per octet surely fit, write both
   * unconditionally; the only loop-carried dependency is the state. */
  size_t fast = in_len < out_cap / 2 ? in_len : out_cap / 2;
  size_t i = 0;
  for (; i < fast; i++) {
    e = h2_hpack_huff_dec[(e & H2_HUFF_STATE_MASK) | in[i]];
    o[0] = (uint8_t)(e >> 16);
    o[1] = (uint8_t)(e >> 24);
    o += e & H2_HUFF_NSYM_MASK;
    fail |= e;
  }
  for (; i < in_len; i++) {
    e = h2_hpack_huff_dec[(e & H2_HUFF_STATE_MASK) | in[i]];
    unsigned ns = e & H2_HUFF_NSYM_MASK;
    if ((size_t)(oend - o) < ns) {
      if ((e | fail) & H2_HUFF_FAIL) return H2_ERR_HPACK_HUFFMAN_EOS;
      return H2_ERR_BUF_TOO_SMALL;
    }
    if (ns > 0) o[0] = (uint8_t)(e >> 16);
    if (ns > 1) o[1] = (uint8_t)(e >> 24);
    o += ns;
    fail |= e;
  }
  if (fail & H2_HUFF_FAIL) return H2_ERR_HPACK_HUFFMAN_EOS;
  if (!(e & H2_HUFF_ACCEPT)) return H2_ERR_HPACK_HUFFMAN_PADDING;
  return (int)(o - (uint8_t *)out);
}

int h2_hpack_string_encode(h2_cbb *out, const char *s, size_t len, int huffman) {
  if (len > (size_t)0x7fffff00 || huffman < H2_HPACK_HUFFMAN_AUTO || huffman > H2_HPACK_HUFFMAN_ALWAYS)
    return H2_ERR_INVALID_ARG;
  size_t hlen = huffman == H2_HPACK_HUFFMAN_NEVER ? len : h2_hpack_huffman_encoded_len(s, len);
  int use = huffman == H2_HPACK_HUFFMAN_ALWAYS || (huffman == H2_HPACK_HUFFMAN_AUTO && hlen < len) ||
            (huffman == H2_HPACK_HUFFMAN_PREFER && hlen <= len);
  size_t n = use ? hlen : len;
  if (n > (size_t)0x7fffff00) return H2_ERR_INVALID_ARG;
  int k = h2_hpack_int_encode(out, 7, use ? 0x80 : 0, (uint32_t)n);
  if (k < 0) return k;
  uint8_t *dst = h2_cbb_space(out, n);
  if (!dst) return H2_ERR_BUF_TOO_SMALL;
  if (use)
    huff_write(dst, (const uint8_t *)s, len);
  else if (n)
    memcpy(dst, s, n);
  return k + (int)n;
}
