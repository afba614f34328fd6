/* hpack_table.c: the HPACK dynamic table (RFC 7541 §2.3.2, §4): a ring of
 * entries over a compacting byte buffer, with an optional hash index for
 * the encoder. See hpack_table in hpack_internal.h for the layout. */
#include <string.h>

#include "h2_hpack.h"
#include "hpack_internal.h"

void hpack_table_init(hpack_table *t, const h2_mem *mem, uint32_t max, int indexed) {
  memset(t, 0, sizeof *t);
  t->mem = mem;
  t->max = max;
  t->indexed = indexed;
}

void hpack_table_free(hpack_table *t) {
  h2_mem_free(t->mem, t->ring); /* one block with the hash index */
  h2_mem_free(t->mem, t->buf);
  t->ring = NULL;
  t->hnodes = NULL;
  t->bucket_nv = t->bucket_n = NULL;
  t->buf = NULL;
}

void hpack_table_clear(hpack_table *t) {
  while (hpack_table_count(t)) hpack_evict_oldest(t);
}

void hpack_table_set_max(hpack_table *t, uint32_t max) {
  while (t->size > max) hpack_evict_oldest(t);
  t->max = max;
  if (hpack_table_count(t) == 0 && t->buf && t->buf_cap > 2 * (size_t)max + 256) {
    /* An empty table gives back an oversized buffer. */
    h2_mem_free(t->mem, t->buf);
    t->buf = NULL;
    t->buf_cap = 0;
    t->base = t->end;
  }
}

/* grow_ring doubles the ring (and the hash index) so it can hold |need|
 * entries. The ring, and for an indexed table its hash nodes and both
 * bucket arrays, are one allocation (|ring| first). Returns 0 or
 * H2_ERR_NOMEM with nothing changed. */
static int grow_ring(hpack_table *t, uint32_t need) {
  uint32_t cap = hpack_ring_cap(t);
  if (!cap) cap = 4; /* first use: small; doubles as entries come */
  while (cap < need) cap *= 2;
  size_t bytes = (size_t)cap * sizeof(hpack_entry);
  if (t->indexed) bytes += (size_t)cap * (sizeof(hpack_hnode) + 4 * sizeof(uint32_t));
  hpack_entry *ring = h2_mem_malloc(t->mem, bytes);
  if (!ring) return H2_ERR_NOMEM;
  hpack_hnode *hn = NULL;
  uint32_t *bnv = NULL, *bn = NULL;
  if (t->indexed) { /* entries are 8-aligned, hash nodes and buckets 4-aligned */
    hn = (hpack_hnode *)(void *)(ring + cap);
    bnv = (uint32_t *)(void *)(hn + cap);
    bn = bnv + 2 * (size_t)cap;
  }
  uint32_t newmask = cap - 1;
  for (uint32_t s = t->first_seq; s != t->next_seq; s++) {
    ring[s & newmask] = t->ring[s & t->ring_mask];
    if (hn) hn[s & newmask] = t->hnodes[s & t->ring_mask];
  }
  h2_mem_free(t->mem, t->ring);
  t->ring = ring;
  t->ring_mask = newmask;
  if (t->indexed) {
    t->hnodes = hn;
    t->bucket_nv = bnv;
    t->bucket_n = bn;
    for (uint32_t i = 0; i < 2 * cap; i++) bnv[i] = bn[i] = HPACK_NO_SEQ;
    for (uint32_t s = t->first_seq; s != t->next_seq; s++) hpack_hash_link(t, s);
  }
  return 0;
}

int hpack_table_add_slow(hpack_table *t, const char *name, size_t name_len, const char *value,
                         size_t value_len, uint32_t hash_n, uint32_t hash_nv) {
  size_t esz = name_len + value_len + H2_HPACK_ENTRY_OVERHEAD;
  if (esz > t->max) {
    hpack_table_clear(t);
    return 0;
  }
  /* Work out the evictions first; allocate before changing anything. */
  uint32_t evict = 0;
  size_t size = t->size;
  while (size + esz > t->max) {
    const hpack_entry *e = &t->ring[(t->first_seq + evict) & t->ring_mask];
    size -= e->name_len + e->value_len + H2_HPACK_ENTRY_OVERHEAD;
    evict++;
  }
  uint32_t count = hpack_table_count(t) - evict + 1;
  if (count > hpack_ring_cap(t)) {
    int rc = grow_ring(t, count);
    if (rc) return rc;
  }
  size_t len = name_len + value_len;
  /* |buf| exists whenever an entry does, even one with no bytes, so that
   * hpack_table_name/value never offset a null pointer. */
  if (!t->buf || t->end + len - t->base > t->buf_cap) {
    size_t live_start = t->end;
    if (evict < hpack_table_count(t)) live_start = t->ring[(t->first_seq + evict) & t->ring_mask].off;
    size_t live = t->end - live_start;
    if (t->buf && live + len <= t->buf_cap / 2) {
      memmove(t->buf, t->buf + (live_start - t->base), live);
    } else {
      /* Starts small (a connection that indexes a few fields keeps a few
       * hundred octets) and doubles up to twice the maximum size, where
       * every later insert fits by compaction (no allocation). */
      size_t cap = t->buf ? 2 * t->buf_cap : 64;
      if (cap > 2 * (size_t)t->max) cap = 2 * (size_t)t->max;
      if (cap < 2 * (live + len)) cap = 2 * (live + len);
      if (cap < 64) cap = 64;
      char *nb = h2_mem_malloc(t->mem, cap);
      if (!nb) return H2_ERR_NOMEM;
      if (live) memcpy(nb, t->buf + (live_start - t->base), live);
      h2_mem_free(t->mem, t->buf);
      t->buf = nb;
      t->buf_cap = cap;
    }
    t->base = live_start;
  }
  while (evict--) hpack_evict_oldest(t);
  hpack_table_place(t, name, name_len, value, value_len, hash_n, hash_nv);
  return 1;
}

size_t hpack_table_memory(const hpack_table *t) {
  size_t cap = hpack_ring_cap(t);
  size_t m = cap * sizeof(hpack_entry) + t->buf_cap;
  if (t->indexed && cap) m += cap * sizeof(hpack_hnode) + 4 * cap * sizeof(uint32_t);
  return m;
}
