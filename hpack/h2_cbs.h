/* h2_cbs.h: a bounds-checked read cursor (h2_cbs) and a fixed-capacity
 * builder with a sticky error (h2_cbb), after BoringSSL's CBS/CBB.
 *
 * Every byte from a peer is read through an h2_cbs. Each getter checks the
 * remaining length first; on failure it returns 0 and does NOT advance.
 * On success it returns 1. Multi-byte integers are network byte order.
 * An h2_cbs never owns its bytes.
 *
 * h2_cbb writes into a caller-owned buffer. The first write that does not
 * fit sets |err| and every later write is ignored, so a serializer checks
 * h2_cbb_ok() once at the end. */
#ifndef H2_CBS_H
#define H2_CBS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct h2_cbs {
  const uint8_t *data;
  size_t len;
} h2_cbs;

static inline void h2_cbs_init(h2_cbs *c, const uint8_t *data, size_t len) { c->data = data; c->len = len; }
static inline size_t h2_cbs_len(const h2_cbs *c) { return c->len; }
static inline const uint8_t *h2_cbs_data(const h2_cbs *c) { return c->data; }

static inline int h2_cbs_skip(h2_cbs *c, size_t n) {
  if (c->len < n) return 0;
  c->data += n; c->len -= n;
  return 1;
}
static inline int h2_cbs_peek_u8(const h2_cbs *c, uint8_t *out) {
  if (c->len < 1) return 0;
  *out = c->data[0];
  return 1;
}
static inline int h2_cbs_get_u8(h2_cbs *c, uint8_t *out) {
  if (c->len < 1) return 0;
  *out = c->data[0]; c->data++; c->len--;
  return 1;
}
static inline int h2_cbs_get_u16(h2_cbs *c, uint16_t *out) {
  if (c->len < 2) return 0;
  *out = (uint16_t)((c->data[0] << 8) | c->data[1]);
  c->data += 2; c->len -= 2;
  return 1;
}
static inline int h2_cbs_get_u24(h2_cbs *c, uint32_t *out) {
  if (c->len < 3) return 0;
  *out = ((uint32_t)c->data[0] << 16) | ((uint32_t)c->data[1] << 8) | c->data[2];
  c->data += 3; c->len -= 3;
  return 1;
}
static inline int h2_cbs_get_u32(h2_cbs *c, uint32_t *out) {
  if (c->len < 4) return 0;
  *out = ((uint32_t)c->data[0] << 24) | ((uint32_t)c->data[1] << 16) |
         ((uint32_t)c->data[2] << 8) | c->data[3];
  c->data += 4; c->len -= 4;
  return 1;
}
/* h2_cbs_get_bytes sets |out| to the next |n| bytes and advances past them. */
static inline int h2_cbs_get_bytes(h2_cbs *c, h2_cbs *out, size_t n) {
  if (c->len < n) return 0;
  out->data = c->data; out->len = n;
  c->data += n; c->len -= n;
  return 1;
}
/* h2_cbs_copy copies the next |n| bytes into |dst| and advances. */
static inline int h2_cbs_copy(h2_cbs *c, void *dst, size_t n) {
  if (c->len < n) return 0;
  if (n) memcpy(dst, c->data, n);
  c->data += n; c->len -= n;
  return 1;
}

typedef struct h2_cbb {
  uint8_t *buf;
  size_t len;
  size_t cap;
  int err; /* non-zero once a write did not fit */
} h2_cbb;

static inline void h2_cbb_init(h2_cbb *b, uint8_t *buf, size_t cap) { b->buf = buf; b->len = 0; b->cap = cap; b->err = 0; }
static inline int h2_cbb_ok(const h2_cbb *b) { return !b->err; }
/* h2_cbb_space returns a pointer to |n| writable bytes and counts them as
 * written, or NULL (setting the error) when they do not fit. */
static inline uint8_t *h2_cbb_space(h2_cbb *b, size_t n) {
  if (b->err || b->cap - b->len < n) { b->err = 1; return NULL; }
  uint8_t *p = b->buf + b->len;
  b->len += n;
  return p;
}
static inline void h2_cbb_u8(h2_cbb *b, uint8_t v) { uint8_t *p = h2_cbb_space(b, 1); if (p) p[0] = v; }
static inline void h2_cbb_u16(h2_cbb *b, uint16_t v) {
  uint8_t *p = h2_cbb_space(b, 2); if (p) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
}
static inline void h2_cbb_u24(h2_cbb *b, uint32_t v) {
  uint8_t *p = h2_cbb_space(b, 3);
  if (p) { p[0] = (uint8_t)(v >> 16); p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v; }
}
static inline void h2_cbb_u32(h2_cbb *b, uint32_t v) {
  uint8_t *p = h2_cbb_space(b, 4);
  if (p) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
}
static inline void h2_cbb_bytes(h2_cbb *b, const void *src, size_t n) {
  uint8_t *p = h2_cbb_space(b, n); if (p && n) memcpy(p, src, n);
}

#endif
