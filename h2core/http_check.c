/* http_check.c: RFC 9113 §8 message checks (see http_check.h). */
#include "http_check.h"

#include <string.h>

#include "h2_err.h"

#if defined(__GNUC__)
#define H2_ALWAYS_INLINE __attribute__((always_inline))
#else
#define H2_ALWAYS_INLINE
#endif

/* Pseudo-header bits (http_check.h). */
#define PH_METHOD H2_HTTP_PH_METHOD
#define PH_SCHEME H2_HTTP_PH_SCHEME
#define PH_AUTHORITY H2_HTTP_PH_AUTHORITY
#define PH_PATH H2_HTTP_PH_PATH
#define PH_PROTOCOL H2_HTTP_PH_PROTOCOL
#define PH_STATUS H2_HTTP_PH_STATUS

static int fail(h2_http_check *c, const char *why) {
  if (!c->err) {
    c->err = H2_ERR_PROTOCOL;
    c->why = why;
  }
  return H2_ERR_PROTOCOL;
}

void h2_http_check_init(h2_http_check *c, int kind, int connect_protocol) {
  *c = (h2_http_check){.content_length = -1,
                       .status = -1,
                       .kind = (uint8_t)kind,
                       .connect_protocol = (uint8_t)(connect_protocol != 0)};
}

static inline int eq(const char *a, size_t alen, const char *lit) {
  size_t n = strlen(lit);
  return alen == n && memcmp(a, lit, n) == 0;
}

#define LANES(b) (0x0101010101010101ull * (uint8_t)(b))
#define HIGH LANES(0x80)

/* has_byte tells whether any octet of |x| equals the octet in every lane of
 * |rep| (exact: a borrow only propagates above a lane that is zero). */
static inline uint64_t has_byte(uint64_t x, uint64_t rep) {
  uint64_t v = x ^ rep;
  return (v - LANES(1)) & ~v & HIGH;
}

/* name_word_ok checks eight name octets at once: each must be 0x21..0x7e,
 * not 'A'-'Z', not ':'. For octets below 0x80, b + (0x7f - n) sets the
 * lane's top bit exactly when b > n, and no lane carries into the next. */
static inline int name_word_ok(uint64_t x) {
  uint64_t gt20 = (x + LANES(0x7f - 0x20)) & HIGH;         /* b > 0x20 */
  uint64_t gt7e = (x + LANES(0x7f - 0x7e)) & HIGH;         /* b == 0x7f */
  uint64_t gt40 = (x + LANES(0x7f - 0x40)) & HIGH;
  uint64_t gt5a = (x + LANES(0x7f - 0x5a)) & HIGH;
  uint64_t bad = (x & HIGH) | (gt20 ^ HIGH) | gt7e | (gt40 & ~gt5a) | has_byte(x, LANES(':'));
  return bad == 0;
}

static inline uint64_t load64(const unsigned char *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

/* short_word packs the 1..7 octets p[0..n) into eight lanes that each hold
 * one of them (overlapping loads, nothing read outside the range), so a
 * per-octet rule checked on the word is checked on every octet. */
static inline uint64_t short_word(const unsigned char *p, size_t n) {
  if (n >= 4) {
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, p + n - 4, 4);
    return (uint64_t)a | (uint64_t)b << 32;
  }
  if (n >= 2) {
    uint16_t a, b;
    memcpy(&a, p, 2);
    memcpy(&b, p + n - 2, 2);
    return ((uint64_t)a | (uint64_t)b << 16) * 0x0000000100000001ull;
  }
  return LANES(p[0]);
}

/* each_word runs |ok| over the octets p[0..n), n > 0, eight at a time (the
 * last word overlaps the one before it). */
#define EACH_WORD(p, n, ok)                                            \
  do {                                                                 \
    if ((n) < 8) return ok(short_word((p), (n)));                      \
    size_t i_ = 0;                                                     \
    for (; i_ + 8 < (n); i_ += 8)                                      \
      if (!ok(load64((p) + i_))) return 0;                             \
    return ok(load64((p) + (n) - 8));                                  \
  } while (0)

#if defined(__GNUC__) && defined(__x86_64__)
/* Sixteen lanes at a time with SSE2 (part of every x86-64): each rule is a
 * lane compare, the lanes that break one are gathered in a byte mask. */
#include <emmintrin.h>

/* load16 packs the 8..16 octets p[0..n) into sixteen lanes (two overlapping
 * eight-octet loads, nothing read outside the range). */
static inline __m128i load16(const unsigned char *p, size_t n) {
  return _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)p),
                            _mm_loadl_epi64((const __m128i *)(const void *)(p + n - 8)));
}

/* short16 spreads the 1..7 octets p[0..n) over sixteen lanes (each lane
 * holds one of them; short_word). */
static inline __m128i short16(const unsigned char *p, size_t n) {
  return _mm_set1_epi64x((long long)short_word(p, n));
}

/* name_vec_ok: each lane 0x21..0x7e, not 'A'-'Z', not ':'. Signed lanes:
 * below 0x21 takes 0x80..0xff too; x + 0x3f maps 'A'..'Z' (and only them)
 * to -128..-103. */
static inline int name_vec_ok(__m128i x) {
  __m128i bad = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x21)), _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
  bad = _mm_or_si128(bad, _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(0x3f)), _mm_set1_epi8(-102)));
  return _mm_movemask_epi8(bad) == 0;
}

/* value_vec_ok: no NUL, LF or CR in any lane. */
static inline int value_vec_ok(__m128i x) {
  __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_setzero_si128()), _mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, _mm_set1_epi8('\r')));
  return _mm_movemask_epi8(bad) == 0;
}

#define EACH_CHUNK(p, n, wordok, vecok)                                \
  do {                                                                 \
    if ((n) < 8) return vecok(short16((p), (n)));                      \
    if ((n) <= 16) return vecok(load16((p), (n)));                     \
    size_t i_ = 0;                                                     \
    for (; i_ + 16 < (n); i_ += 16)                                    \
      if (!vecok(load16((p) + i_, 16))) return 0;                      \
    return vecok(load16((p) + (n) - 16, 16));                          \
  } while (0)
#else
#define EACH_CHUNK(p, n, wordok, vecok) EACH_WORD(p, n, wordok)
#endif

static inline H2_ALWAYS_INLINE int name_ok(const char *name, size_t len) {
  if (len == 0) return 0;
  const unsigned char *p = (const unsigned char *)name;
  if (p[0] == ':') {
    p++;
    len--;
    if (len == 0) return 1;
  }
  EACH_CHUNK(p, len, name_word_ok, name_vec_ok);
}

/* value_word_ok: no NUL, LF or CR among eight octets. */
static inline int value_word_ok(uint64_t x) {
  /* Fast: no octet below 0x0e at all (exact for "any", like has_byte). */
  if (!((x - LANES(0x0e)) & ~x & HIGH)) return 1;
  return (has_byte(x, 0) | has_byte(x, LANES('\n')) | has_byte(x, LANES('\r'))) == 0;
}

static inline H2_ALWAYS_INLINE int value_ok(const char *value, size_t len) {
  const unsigned char *p = (const unsigned char *)value;
  if (len == 0) return 1;
  unsigned char a = p[0], z = p[len - 1];
  if (a == ' ' || a == '\t' || z == ' ' || z == '\t') return 0;
  EACH_CHUNK(p, len, value_word_ok, value_vec_ok);
}

int h2_http_name_ok(const char *name, size_t len) { return name_ok(name, len); }
int h2_http_value_ok(const char *value, size_t len) { return value_ok(value, len); }

int64_t h2_http_parse_content_length(const char *v, size_t len) {
  if (len == 0 || len > 18) return -1;
  int64_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (v[i] < '0' || v[i] > '9') return -1;
    n = n * 10 + (v[i] - '0');
  }
  return n;
}

static int method_of(const char *v, size_t len) {
  if (eq(v, len, "GET")) return H2_HTTP_METHOD_GET;
  if (eq(v, len, "HEAD")) return H2_HTTP_METHOD_HEAD;
  if (eq(v, len, "CONNECT")) return H2_HTTP_METHOD_CONNECT;
  if (eq(v, len, "POST")) return H2_HTTP_METHOD_POST;
  if (eq(v, len, "OPTIONS")) return H2_HTTP_METHOD_OPTIONS;
  return H2_HTTP_METHOD_OTHER;
}

uint32_t h2_http_pseudo_bit(const char *name, size_t nlen) {
  switch (nlen) { /* by length first: one comparison per field */
    case 5: return eq(name, nlen, ":path") ? PH_PATH : 0;
    case 7:
      if (eq(name, nlen, ":method")) return PH_METHOD;
      if (eq(name, nlen, ":scheme")) return PH_SCHEME;
      if (eq(name, nlen, ":status")) return PH_STATUS;
      return 0;
    case 9: return eq(name, nlen, ":protocol") ? PH_PROTOCOL : 0;
    case 10: return eq(name, nlen, ":authority") ? PH_AUTHORITY : 0;
    default: return 0;
  }
}

int h2_http_check_pseudo(h2_http_check *c, uint32_t bit, const char *value, size_t vlen) {
  if (c->regular_seen) return fail(c, "pseudo-header after a regular field");
  if (c->kind == H2_HTTP_TRAILERS) return fail(c, "pseudo-header in trailers");
  if (c->kind == H2_HTTP_RESPONSE) {
    if (bit != PH_STATUS) return fail(c, "unknown pseudo-header in a response");
  } else {
    if (bit == PH_PROTOCOL) {
      if (c->kind != H2_HTTP_REQUEST) return fail(c, "unknown pseudo-header in a request");
      if (!c->connect_protocol) return fail(c, ":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL");
    } else if (bit == PH_STATUS || bit == 0) {
      return fail(c, "unknown pseudo-header in a request");
    }
  }
  if (c->seen & bit) return fail(c, "duplicate pseudo-header");
  c->seen |= bit;
  if (vlen == 0 && bit != PH_AUTHORITY) return fail(c, "empty pseudo-header value");
  switch (bit) {
    case PH_METHOD: c->method = method_of(value, vlen); break;
    case PH_PATH:
      c->path_is_asterisk = eq(value, vlen, "*");
      if (!c->path_is_asterisk && value[0] != '/') c->path_not_origin = 1;
      break;
    case PH_STATUS:
      if (vlen != 3) return fail(c, ":status is not 3 digits");
      for (size_t i = 0; i < 3; i++)
        if (value[i] < '0' || value[i] > '9') return fail(c, ":status is not 3 digits");
      c->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
      if (c->status < 100) return fail(c, ":status below 100");
      if (c->status == 101) return fail(c, "101 Switching Protocols is not allowed in HTTP/2");
      break;
    default: break;
  }
  return 0;
}

static int pseudo(h2_http_check *c, const char *name, size_t nlen, const char *value, size_t vlen) {
  return h2_http_check_pseudo(c, h2_http_pseudo_bit(name, nlen), value, vlen);
}

int h2_http_check_field(h2_http_check *c, const char *name, size_t nlen, const char *value,
                        size_t vlen) {
  return h2_http_check_field_known(c, name, nlen, value, vlen, 0);
}

/* regular applies the rules on regular fields (connection-specific ones,
 * te, content-length); by length first, so most names take one jump. */
static inline int regular(h2_http_check *c, const char *name, size_t nlen, const char *value, size_t vlen) {
  c->regular_seen = 1;
  switch (nlen) {
    case 2:
      if (eq(name, nlen, "te") && !eq(value, vlen, "trailers")) return fail(c, "te other than trailers");
      return 0;
    case 7:
      if (eq(name, nlen, "upgrade")) return fail(c, "connection-specific field");
      return 0;
    case 10:
      if (eq(name, nlen, "connection") || eq(name, nlen, "keep-alive")) return fail(c, "connection-specific field");
      return 0;
    case 14:
      if (eq(name, nlen, "content-length")) {
        int64_t n = h2_http_parse_content_length(value, vlen);
        if (n < 0) return fail(c, "invalid content-length");
        if (c->content_length >= 0 && c->content_length != n)
          return fail(c, "conflicting content-length values");
        c->content_length = n;
      }
      return 0;
    case 16:
      if (eq(name, nlen, "proxy-connection")) return fail(c, "connection-specific field");
      return 0;
    case 17:
      if (eq(name, nlen, "transfer-encoding")) return fail(c, "connection-specific field");
      return 0;
    default: return 0;
  }
}

int h2_http_check_field_known(h2_http_check *c, const char *name, size_t nlen, const char *value,
                              size_t vlen, unsigned known) {
  if (known & H2_HTTP_KNOWN_NAME ? nlen == 0 : !name_ok(name, nlen)) return fail(c, "invalid character in field name");
  if (!(known & H2_HTTP_KNOWN_VALUE) && !value_ok(value, vlen)) return fail(c, "invalid character in field value");
  if (name[0] == ':') return pseudo(c, name, nlen, value, vlen);
  return regular(c, name, nlen, value, vlen);
}

int h2_http_check_fields(h2_http_check *c, const h2_hpack_field *f, size_t n) {
  if (n && !f) return H2_ERR_INVALID_ARG;
  for (size_t i = 0; i < n; i++) {
    const char *name = f[i].name, *value = f[i].value;
    size_t nlen = f[i].name_len, vlen = f[i].value_len;
    if (!name || nlen == 0 || (vlen && !value)) return H2_ERR_INVALID_ARG;
    if (!value) value = "";
    if (!name_ok(name, nlen)) return fail(c, "invalid character in field name");
    if (!value_ok(value, vlen)) return fail(c, "invalid character in field value");
    if (name[0] == ':' ? pseudo(c, name, nlen, value, vlen) : regular(c, name, nlen, value, vlen)) return c->err;
  }
  return 0;
}

int h2_http_name_plain(const char *name, size_t nlen) {
  if (nlen == 0 || name[0] == ':') return 0;
  switch (name[0]) { /* the names h2_http_check_field_known has rules for */
    case 'c': return !eq(name, nlen, "connection") && !eq(name, nlen, "content-length");
    case 'k': return !eq(name, nlen, "keep-alive");
    case 'p': return !eq(name, nlen, "proxy-connection");
    case 't': return !eq(name, nlen, "transfer-encoding") && !eq(name, nlen, "te");
    case 'u': return !eq(name, nlen, "upgrade");
    default: return 1;
  }
}

int h2_http_check_is_info(const h2_http_check *c) {
  return c->kind == H2_HTTP_RESPONSE && c->status >= 100 && c->status < 200;
}

int h2_http_check_end(h2_http_check *c, int end_stream) {
  if (c->err) return c->err;
  switch (c->kind) {
    case H2_HTTP_RESPONSE:
      if (!(c->seen & PH_STATUS)) return fail(c, "response without :status");
      if (h2_http_check_is_info(c) && end_stream) return fail(c, "1xx response ends the stream");
      return 0;
    case H2_HTTP_TRAILERS:
      if (!end_stream) return fail(c, "trailers without END_STREAM");
      return 0;
    case H2_HTTP_PUSH_REQUEST:
    case H2_HTTP_REQUEST:
      if (!(c->seen & PH_METHOD)) return fail(c, "request without :method");
      if (c->method == H2_HTTP_METHOD_CONNECT && !(c->seen & PH_PROTOCOL)) {
        if (c->seen & (PH_SCHEME | PH_PATH)) return fail(c, "CONNECT with :scheme or :path");
        if (!(c->seen & PH_AUTHORITY)) return fail(c, "CONNECT without :authority");
      } else {
        if (c->seen & PH_PROTOCOL && c->method != H2_HTTP_METHOD_CONNECT)
          return fail(c, ":protocol with a method other than CONNECT");
        if ((c->seen & (PH_SCHEME | PH_PATH)) != (PH_SCHEME | PH_PATH))
          return fail(c, "request without :scheme or :path");
        if ((c->seen & PH_PROTOCOL) && !(c->seen & PH_AUTHORITY))
          return fail(c, "extended CONNECT without :authority");
        if (c->path_not_origin && !(c->seen & PH_PROTOCOL))
          return fail(c, ":path neither starts with / nor is *");
        if (c->path_is_asterisk && c->method != H2_HTTP_METHOD_OPTIONS)
          return fail(c, ":path * with a method other than OPTIONS");
      }
      if (c->kind == H2_HTTP_PUSH_REQUEST) {
        if (c->method != H2_HTTP_METHOD_GET && c->method != H2_HTTP_METHOD_HEAD)
          return fail(c, "promised request is not GET or HEAD");
        if (!(c->seen & PH_AUTHORITY)) return fail(c, "promised request without :authority");
        if (c->content_length > 0) return fail(c, "promised request with a body");
      }
      return 0;
    default: return fail(c, "unknown message kind");
  }
}
