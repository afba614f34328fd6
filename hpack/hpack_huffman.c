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

/* put_be64 stores |v| big-endian at |d| (the compiler makes it one store). */
static inline void put_be64(uint8_t *d, uint64_t v) {
  d[0] = (uint8_t)(v >> 56);
  d[1] = (uint8_t)(v >> 48);
  d[2] = (uint8_t)(v >> 40);
  d[3] = (uint8_t)(v >> 32);
  d[4] = (uint8_t)(v >> 24);
  d[5] = (uint8_t)(v >> 16);
  d[6] = (uint8_t)(v >> 8);
  d[7] = (uint8_t)v;
}

/* The encoder below keeps |n| < 8 pending bits at the bottom of |acc|
 * (bits above them are stale and shifted out). After appending codes
 * (n + their bits <= 64) it stores the pending bits left-aligned as 8
 * octets, of which the n / 8 complete ones are kept: no branch on where
 * octet boundaries fall, at the price of writing up to 8 octets ahead.
 * Each store is at most |limit| octets into |dst| (the length is checked
 * after each), so at most |limit| + 8 octets are written. */
#define HUFF_FLUSH()             \
  do {                           \
    put_be64(d, acc << (64 - n)); \
    d += n >> 3;                 \
    n &= 7;                      \
  } while (0)

#define HB(c) ((unsigned)h2_hpack_huff_bits[(c)])
/* HUFF_ADD appends octet c's code and counts its bits. */
#define HUFF_ADD(c)             \
  do {                          \
    unsigned b_ = HB(c);        \
    acc = (acc << b_) | h2_hpack_huff_code[(c)]; \
    n += b_;                    \
  } while (0)

size_t hpack_huff_encode_limited(uint8_t *dst, const char *s, size_t len, size_t limit) {
  const uint8_t *p = (const uint8_t *)s, *end = p + len;
  uint8_t *d = dst;
  uint64_t acc = 0;
  unsigned n = 0;
  /* Eight octets per round, optimistically: when their codes took more
   * than 56 bits (n > 64: the oldest pending bits fell off |acc|), the
   * round is done again one octet at a time (a code has at most 30 bits).
   * On the hpack-test-case stories under 1% of 8-octet runs need that (letters
   * and digits have codes of 5 to 7 bits). Every code has at least 5 bits,
   * so n > 0 at each flush. The octets are read into locals first: the
   * stores through |d| could alias them. */
  while (end - p >= 8) {
    uint64_t acc0 = acc;
    unsigned n0 = n;
    unsigned c0 = p[0], c1 = p[1], c2 = p[2], c3 = p[3], c4 = p[4], c5 = p[5], c6 = p[6], c7 = p[7];
    HUFF_ADD(c0);
    HUFF_ADD(c1);
    HUFF_ADD(c2);
    HUFF_ADD(c3);
    HUFF_ADD(c4);
    HUFF_ADD(c5);
    HUFF_ADD(c6);
    HUFF_ADD(c7);
    if (n <= 64) {
      HUFF_FLUSH();
      p += 8;
      if ((size_t)(d - dst) > limit) return SIZE_MAX;
    } else {
      acc = acc0;
      n = n0;
      for (const uint8_t *q = p + 8; p < q; p++) {
        HUFF_ADD(p[0]);
        HUFF_FLUSH();
        if ((size_t)(d - dst) > limit) return SIZE_MAX;
      }
    }
  }
  /* The last 0 to 7 octets the same way. */
  uint64_t acc0 = acc;
  unsigned n0 = n;
  for (const uint8_t *q = p; q < end; q++) HUFF_ADD(*q);
  if (n <= 64) {
    if (n >= 8) {
      HUFF_FLUSH();
      if ((size_t)(d - dst) > limit) return SIZE_MAX;
    }
  } else {
    acc = acc0;
    n = n0;
    for (; p < end; p++) {
      HUFF_ADD(p[0]);
      HUFF_FLUSH();
      if ((size_t)(d - dst) > limit) return SIZE_MAX;
    }
  }
  size_t total = (size_t)(d - dst) + (n != 0);
  if (total > limit) return SIZE_MAX;
  if (n) *d = (uint8_t)((acc << (8 - n)) | (0xffu >> n)); /* pad with EOS's ones */
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
