/* test_hpack_util.h: helpers shared by the test_hpack*.c binaries (header
 * only, so each test binary stays one file plus this). */
#ifndef TEST_HPACK_UTIL_H
#define TEST_HPACK_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2_hpack.h"

static inline size_t hex_to_bin(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  for (; hex[0] && hex[1] && n < cap; hex += 2) {
    unsigned v;
    if (sscanf(hex, "%2x", &v) != 1) break;
    out[n++] = (uint8_t)v;
  }
  return n;
}

static inline void bin_to_hex(const uint8_t *in, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", in[i]);
  out[2 * n] = 0;
}

static inline uint32_t test_rand(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

/* collector: the fields a decode delivered, as "name: value" strings. */
#define COLLECT_MAX 256
typedef struct collector {
  size_t n;
  char *f[COLLECT_MAX];
  size_t len[COLLECT_MAX];
  uint32_t flags[COLLECT_MAX];
  size_t dropped; /* fields past COLLECT_MAX */
} collector;

static inline void collector_init(collector *c) { memset(c, 0, sizeof *c); }
static inline void collector_free(collector *c) {
  for (size_t i = 0; i < c->n; i++) free(c->f[i]);
  c->n = 0;
}

static inline int collect_cb(void *user, const h2_hpack_field *f) {
  collector *c = (collector *)user;
  if (c->n == COLLECT_MAX) {
    c->dropped++;
    return 0;
  }
  size_t len = f->name_len + 2 + f->value_len;
  char *s = malloc(len + 1);
  if (!s) return H2_ERR_NOMEM;
  memcpy(s, f->name, f->name_len);
  memcpy(s + f->name_len, ": ", 2);
  memcpy(s + f->name_len + 2, f->value, f->value_len);
  s[len] = 0;
  c->f[c->n] = s;
  c->len[c->n] = len;
  c->flags[c->n] = f->flags;
  c->n++;
  return 0;
}

/* feed decodes one block: whole, or one octet per call and then an empty
 * call with end_of_block. Returns the total fields or the first error. */
static inline int feed(h2_hpack_decoder *d, const uint8_t *in, size_t n, int bytewise, collector *col) {
  if (!bytewise) return h2_hpack_decode(d, in, n, 1, collect_cb, col);
  int total = 0;
  for (size_t i = 0; i < n; i++) {
    int rc = h2_hpack_decode(d, in + i, 1, 0, collect_cb, col);
    if (rc < 0) return rc;
    total += rc;
  }
  int rc = h2_hpack_decode(d, NULL, 0, 1, collect_cb, col);
  if (rc < 0) return rc;
  return total + rc;
}

/* field_from_string splits "name: value" (copied into |store|). */
static inline h2_hpack_field field_from_string(const char *s, char *store, uint32_t flags) {
  strcpy(store, s);
  char *colon = strstr(store + 1, ": ");
  h2_hpack_field f;
  f.name = store;
  f.name_len = (size_t)(colon - store);
  f.value = colon + 2;
  f.value_len = strlen(colon + 2);
  f.flags = flags;
  return f;
}

/* fail_mem: an allocator that fails the n-th allocation (0-based; -1 never)
 * and counts live blocks and peak bytes. */
typedef struct fail_mem {
  h2_mem mem;
  long fail_at;
  long calls;
  long live;
  size_t bytes, peak;
} fail_mem;

typedef struct fail_hdr {
  size_t size;
  size_t pad;
} fail_hdr;

static inline void *fail_malloc(size_t size, void *user) {
  fail_mem *m = (fail_mem *)user;
  if (m->calls++ == m->fail_at) return NULL;
  fail_hdr *h = malloc(sizeof *h + size);
  if (!h) return NULL;
  h->size = size;
  m->live++;
  m->bytes += size;
  if (m->bytes > m->peak) m->peak = m->bytes;
  return h + 1;
}
static inline void fail_free(void *p, void *user) {
  fail_mem *m = (fail_mem *)user;
  if (!p) return;
  fail_hdr *h = (fail_hdr *)p - 1;
  m->live--;
  m->bytes -= h->size;
  free(h);
}
static inline void *fail_realloc(void *p, size_t size, void *user) {
  fail_mem *m = (fail_mem *)user;
  if (!p) return fail_malloc(size, user);
  if (m->calls++ == m->fail_at) return NULL;
  fail_hdr *h = (fail_hdr *)p - 1;
  size_t old = h->size;
  fail_hdr *nh = realloc(h, sizeof *nh + size);
  if (!nh) return NULL;
  nh->size = size;
  m->bytes = m->bytes - old + size;
  if (m->bytes > m->peak) m->peak = m->bytes;
  return nh + 1;
}
static inline void fail_mem_init(fail_mem *m, long fail_at) {
  memset(m, 0, sizeof *m);
  m->mem.malloc = fail_malloc;
  m->mem.realloc = fail_realloc;
  m->mem.free = fail_free;
  m->mem.user = m;
  m->fail_at = fail_at;
}

#endif
