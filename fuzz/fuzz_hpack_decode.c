/* fuzz_hpack_decode.c: arbitrary bytes into the HPACK decoder.
 *
 * Input layout (a seed made from a story is the same layout):
 *   byte 0: bits 0-2 the SETTINGS_HEADER_TABLE_SIZE (sizes[]), bits 3-4 how
 *           blocks are fed (whole, one octet at a time, split at a
 *           data-chosen point, pieces of 7), bit 5: lower the table size to
 *           0 and back before the second block;
 *   byte 1: bits 0-1 max list size, bits 2-3 max fields, bits 4-5 max field
 *           length (limits[]);
 *   byte 2: when non-zero, the allocation with that number fails (NOMEM
 *           paths); 0 never fails;
 *   then header blocks, each a 2-byte big-endian length and that many
 *   octets (the last one takes what is left).
 * Checks: no crash, no out-of-bounds read (every delivered octet is read),
 * no leak (allocator balance), every delivered field within the limits, the
 * table within its maximum, a dead decoder stays dead (H2_ERR_STATE), memory
 * held bounded by the limits. Links only hpack/ (libc-only core). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h2_hpack.h"

static const uint32_t sizes[8] = {4096, 0, 256, 16384, 65536, 32, 1365, 100};
static const uint32_t list_limits[4] = {65536, 200, 4096, 1u << 20};
static const uint32_t field_counts[4] = {1024, 1, 16, 100000};
static const uint32_t field_lens[4] = {65536, 10, 300, 1u << 20};

typedef struct counting {
  size_t live;         /* allocations not yet freed */
  size_t bytes, peak;  /* bytes held now, most held at once */
  unsigned long n;     /* allocations so far */
  unsigned long fail_at;
} counting;

/* Each block carries its size in front so free and realloc can account. */
static void *c_malloc(size_t size, void *user) {
  counting *c = user;
  if (c->fail_at && ++c->n == c->fail_at) return NULL;
  size_t *p = malloc(size + sizeof(size_t) * 2);
  if (!p) return NULL;
  p[0] = size;
  c->live++;
  c->bytes += size;
  if (c->bytes > c->peak) c->peak = c->bytes;
  return p + 2;
}
static void c_free(void *ptr, void *user) {
  counting *c = user;
  if (!ptr) return;
  size_t *p = (size_t *)ptr - 2;
  c->live--;
  c->bytes -= p[0];
  free(p);
}
static void *c_realloc(void *ptr, size_t size, void *user) {
  counting *c = user;
  if (!ptr) return c_malloc(size, user);
  if (c->fail_at && ++c->n == c->fail_at) return NULL;
  size_t *p = (size_t *)ptr - 2;
  size_t old = p[0];
  size_t *q = realloc(p, size + sizeof(size_t) * 2);
  if (!q) return NULL;
  q[0] = size;
  c->bytes = c->bytes - old + size;
  if (c->bytes > c->peak) c->peak = c->bytes;
  return q + 2;
}

typedef struct sink {
  uint32_t max_field_len;
  uint32_t max_fields;
  uint32_t delivered;
  uint8_t sum;
} sink;

static int on_field(void *user, const h2_hpack_field *f) {
  sink *s = user;
  /* Read every octet (ASan flags a pointer past its buffer). */
  for (size_t i = 0; i < f->name_len; i++) s->sum ^= (uint8_t)f->name[i];
  for (size_t i = 0; i < f->value_len; i++) s->sum += (uint8_t)f->value[i];
  if ((uint64_t)f->name_len + f->value_len > s->max_field_len) abort();
  if (++s->delivered > s->max_fields) abort();
  return 0;
}

/* feed gives |block| to |d| per |mode|; returns the decoder's last result. */
static int feed(h2_hpack_decoder *d, const uint8_t *block, size_t len, int mode, sink *s) {
  size_t piece = len;
  if (mode == 1) piece = 1;
  else if (mode == 2) piece = len ? (size_t)(block[0] % len) + 1 : 0;
  else if (mode == 3) piece = 7;
  size_t off = 0;
  int rc;
  do {
    size_t n = len - off < piece ? len - off : piece;
    rc = h2_hpack_decode(d, n ? block + off : NULL, n, off + n == len, on_field, s);
    if (rc < 0) return rc;
    off += n;
  } while (off < len);
  return rc;
}

static int is_soft(int rc) {
  return rc == H2_ERR_HPACK_LIST_TOO_LARGE || rc == H2_ERR_HPACK_TOO_MANY_FIELDS ||
         rc == H2_ERR_HPACK_FIELD_TOO_LONG;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  uint32_t table = sizes[data[0] & 7];
  int mode = (data[0] >> 3) & 3;
  int bounce = (data[0] >> 5) & 1;
  uint32_t max_list = list_limits[data[1] & 3];
  uint32_t max_fields = field_counts[(data[1] >> 2) & 3];
  uint32_t max_field_len = field_lens[(data[1] >> 4) & 3];
  counting c = {0, 0, 0, 0, data[2]};
  h2_mem mem = {c_malloc, c_realloc, c_free, &c};
  data += 3;
  size -= 3;

  h2_hpack_decoder *d = h2_hpack_decoder_new(&mem);
  if (!d) {
    if (c.live) abort();
    return 0;
  }
  h2_hpack_decoder_set_limits(d, max_list, max_fields, max_field_len);
  int dead = h2_hpack_decoder_set_max_table_size(d, table) < 0;
  size_t block_no = 0;
  while (!dead) {
    size_t len = size;
    if (size >= 2) {
      size_t want = (size_t)data[0] << 8 | data[1];
      data += 2;
      size -= 2;
      len = want < size ? want : size;
    }
    if (bounce && block_no == 1) {
      /* SETTINGS lowered to 0 then raised back: the block must open with a
       * size update (a peer that does not is an error, not a crash). */
      if (h2_hpack_decoder_set_max_table_size(d, 0) < 0) break;
      if (h2_hpack_decoder_set_max_table_size(d, table) < 0) break;
    }
    sink s = {max_field_len, max_fields, 0, 0};
    int rc = feed(d, data, len, mode, &s);
    if (rc < 0 && !is_soft(rc)) {
      /* A hard error kills the decoder for good. */
      if (h2_hpack_decode(d, (const uint8_t *)"\x82", 1, 1, on_field, &s) != H2_ERR_STATE) abort();
      dead = 1;
    }
    if (h2_hpack_decoder_table_size(d) > h2_hpack_decoder_table_max(d)) abort();
    /* After a good block the peer's size is within our SETTINGS. */
    if (!dead && h2_hpack_decoder_table_max(d) > table) abort();
    /* Memory held stays within a small multiple of the limits. */
    uint64_t bound = 8 * ((uint64_t)(table > 4096 ? table : 4096) + max_field_len) + 65536;
    if (c.peak > bound) abort();
    data += len;
    size -= len;
    block_no++;
    if (size == 0) break;
  }
  h2_hpack_decoder_free(d);
  if (c.live != 0 || c.bytes != 0) abort();
  return 0;
}
