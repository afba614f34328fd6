/* fuzz_hpack_roundtrip.c: bytes -> header lists -> our encoder -> our
 * decoder -> the same lists, at data-chosen table sizes, Huffman modes and
 * field flags; table size changes between blocks.
 *
 * Input: byte 0 bits 0-2 the initial table size (sizes[]), byte 1 bits 0-1
 * the Huffman mode (all four: AUTO, NEVER, PREFER, ALWAYS), byte 1 bit 4
 * feeds blocks one octet at a time; then, per
 * header list: one control byte (bit 7: the table size changes to
 * sizes[bits 0-2] before the block; with bit 6 too, it then changes again to
 * sizes[bits 3-5]), the field count, and per field a kind byte and the bytes
 * it takes (see next_field).
 * Traps on: a decoding error, a different list, a lost never-indexed flag,
 * encoder and decoder tables that differ after a block, a short buffer that
 * does not fail atomically, an encoder bound that differs from
 * h2_hpack_encode_bound outside mode ALWAYS, or a block longer than its
 * bound. Links only hpack/ (libc-only core). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "h2_hpack.h"

#define MAX_FIELDS 40
#define MAX_LISTS 64

static const uint32_t sizes[8] = {4096, 0, 256, 16384, 65536, 32, 1365, 100};
static const char *const pool[8] = {"custom-key", "cookie", "authorization", ":path",
                                    "set-cookie", "x", "content-length", "proxy-authorization"};

typedef struct src {
  const uint8_t *p;
  size_t n;
} src;

static uint8_t next(src *s) {
  if (!s->n) return 0;
  s->n--;
  return *s->p++;
}

/* take returns up to |len| bytes of input as a string. */
static const char *take(src *s, size_t len, size_t *out_len) {
  if (len > s->n) len = s->n;
  const char *r = (const char *)s->p;
  s->p += len;
  s->n -= len;
  *out_len = len;
  return r;
}

typedef struct check {
  const h2_hpack_field *want;
  size_t n, i;
} check;

static int on_field(void *user, const h2_hpack_field *f) {
  check *c = user;
  if (c->i >= c->n) __builtin_trap();
  const h2_hpack_field *w = &c->want[c->i++];
  if (f->name_len != w->name_len || f->value_len != w->value_len) __builtin_trap();
  if (f->name_len && memcmp(f->name, w->name, f->name_len)) __builtin_trap();
  if (f->value_len && memcmp(f->value, w->value, f->value_len)) __builtin_trap();
  /* A sensitive field must stay never-indexed on the wire. */
  if ((w->flags & H2_HPACK_NEVER_INDEXED) && !(f->flags & H2_HPACK_NEVER_INDEXED)) __builtin_trap();
  return 0;
}

static void same_tables(const h2_hpack_encoder *e, const h2_hpack_decoder *d) {
  if (h2_hpack_encoder_table_size(e) != h2_hpack_decoder_table_size(d)) __builtin_trap();
  if (h2_hpack_encoder_table_max(e) != h2_hpack_decoder_table_max(d)) __builtin_trap();
  size_t n = h2_hpack_encoder_table_count(e);
  if (n != h2_hpack_decoder_table_count(d)) __builtin_trap();
  for (size_t i = 1; i <= n; i++) {
    h2_hpack_field a, b;
    if (h2_hpack_encoder_table_get(e, i, &a) != 0 || h2_hpack_decoder_table_get(d, i, &b) != 0)
      __builtin_trap();
    if (a.name_len != b.name_len || a.value_len != b.value_len) __builtin_trap();
    if (a.name_len && memcmp(a.name, b.name, a.name_len)) __builtin_trap();
    if (a.value_len && memcmp(a.value, b.value, a.value_len)) __builtin_trap();
  }
}

/* next_field fills |f| from the input. */
static void next_field(src *s, h2_hpack_field *f, const h2_hpack_field *prev) {
  uint8_t k = next(s);
  h2_hpack_field st = {"", 0, "", 0, 0};
  if (k & 1) {
    h2_hpack_static_get((uint32_t)(next(s) % H2_HPACK_STATIC_COUNT) + 1, &st);
    f->name = st.name;
    f->name_len = st.name_len;
  } else if (k & 2) {
    const char *n = pool[next(s) & 7];
    f->name = n;
    f->name_len = strlen(n);
  } else {
    f->name = take(s, next(s) % 40, &f->name_len);
  }
  if ((k & 0xc) == 0xc && prev) { /* repeat the previous value: table hits */
    f->value = prev->value;
    f->value_len = prev->value_len;
  } else if (k & 4) {
    f->value = st.value;
    f->value_len = st.value_len;
  } else {
    size_t len = next(s);
    if (k & 8) len *= 16; /* long values: evictions, entries too big for the table */
    f->value = take(s, len, &f->value_len);
  }
  f->flags = (uint32_t)(k >> 4) & (H2_HPACK_NEVER_INDEXED | H2_HPACK_NO_INDEX | H2_HPACK_INDEX);
}

static int decode_block(h2_hpack_decoder *d, const uint8_t *p, size_t n, int bytewise, check *c) {
  if (!bytewise || n == 0) return h2_hpack_decode(d, p, n, 1, on_field, c);
  for (size_t i = 0; i < n; i++) {
    int rc = h2_hpack_decode(d, p + i, 1, i + 1 == n, on_field, c);
    if (rc < 0) return rc;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  src s = {data + 2, size - 2};
  uint32_t table = sizes[data[0] & 7];
  int huffman = data[1] & 3;
  int bytewise = (data[1] >> 4) & 1;

  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  if (!e || !d) abort();
  h2_hpack_encoder_set_huffman(e, huffman);
  h2_hpack_decoder_set_limits(d, UINT32_MAX, UINT32_MAX, UINT32_MAX);
  if (h2_hpack_encoder_set_table_limit(e, 65536) != 0) abort();
  if (h2_hpack_encoder_set_max_table_size(e, table) != 0) abort();
  if (h2_hpack_decoder_set_max_table_size(d, table) != 0) abort();

  h2_hpack_field fields[MAX_FIELDS];
  uint8_t *buf = NULL;
  for (int list = 0; list < MAX_LISTS && s.n > 0; list++) {
    uint8_t ctl = next(&s);
    if (ctl & 0x80) { /* SETTINGS_HEADER_TABLE_SIZE changes (and is ACKed) */
      table = sizes[ctl & 7];
      if (h2_hpack_encoder_set_max_table_size(e, table) != 0) abort();
      if (h2_hpack_decoder_set_max_table_size(d, table) != 0) abort();
      if (ctl & 0x40) { /* twice: the encoder must send the minimum, then the final */
        table = sizes[(ctl >> 3) & 7];
        if (h2_hpack_encoder_set_max_table_size(e, table) != 0) abort();
        if (h2_hpack_decoder_set_max_table_size(d, table) != 0) abort();
      }
    }
    size_t n = next(&s) % (MAX_FIELDS + 1);
    for (size_t i = 0; i < n; i++) next_field(&s, &fields[i], i ? &fields[i - 1] : NULL);

    /* The encoder's own bound: in mode ALWAYS it adds what Huffman codes
     * take beyond the raw lengths; in the other modes it is the generic one. */
    size_t bound = h2_hpack_encoder_bound(e, fields, n);
    if (bound == SIZE_MAX) __builtin_trap();
    if (huffman != H2_HPACK_HUFFMAN_ALWAYS && bound != h2_hpack_encode_bound(fields, n)) __builtin_trap();
    buf = malloc(bound ? bound : 1);
    if (!buf) abort();
    h2_cbb cbb;
    if (bound > 0) {
      /* One octet short of the bound: fails, appends nothing, changes nothing. */
      size_t count = h2_hpack_encoder_table_count(e);
      uint32_t tsize = h2_hpack_encoder_table_size(e);
      h2_cbb_init(&cbb, buf, bound - 1);
      if (h2_hpack_encode(e, &cbb, fields, n) != H2_ERR_BUF_TOO_SMALL || cbb.len != 0) __builtin_trap();
      if (h2_hpack_encoder_table_count(e) != count || h2_hpack_encoder_table_size(e) != tsize)
        __builtin_trap();
    }

    h2_cbb_init(&cbb, buf, bound);
    int rc = h2_hpack_encode(e, &cbb, fields, n);
    if (rc < 0 || (size_t)rc != cbb.len || cbb.len > bound) __builtin_trap();
    check c = {fields, n, 0};
    rc = decode_block(d, buf, cbb.len, bytewise, &c);
    if (rc < 0 || c.i != n) __builtin_trap();
    same_tables(e, d);
    if (h2_hpack_encoder_table_size(e) > table) __builtin_trap();
    free(buf);
    buf = NULL;
  }
  h2_hpack_encoder_free(e);
  h2_hpack_decoder_free(d);
  return 0;
}
