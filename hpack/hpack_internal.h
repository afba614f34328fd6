/* hpack_internal.h: pieces shared by the HPACK source files (not public).
 *
 *  - the static table array;
 *  - an inline prefixed-integer reader for the decoder's hot path;
 *  - the dynamic table (hpack_table.c), used by both the decoder and the
 *    encoder, the encoder adding a hash index over it. */
#ifndef H2_HPACK_INTERNAL_H
#define H2_HPACK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "h2_cbs.h"
#include "h2_hpack.h"
#include "h2_err.h"
#include "h2_mem.h"

typedef struct hpack_static_entry {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} hpack_static_entry;

/* hpack_static_table[1..61]; entry 0 is empty. */
extern const hpack_static_entry hpack_static_table[62];

/* hpack_int_read reads a prefixed integer from |p|[0..|len|) (the first
 * octet's low |prefix_bits| bits start it). On success stores the value and
 * the octets used and returns 0; H2_ERR_HPACK_TRUNCATED when |len| ends
 * inside it (or is 0); H2_ERR_HPACK_INT_OVERFLOW when > 2^32-1 or more than 5
 * continuation octets. */
static inline int hpack_int_read(const uint8_t *p, size_t len, unsigned prefix_bits,
                                 uint32_t *out, size_t *out_used) {
  if (len == 0) return H2_ERR_HPACK_TRUNCATED;
  uint32_t mask = (1u << prefix_bits) - 1;
  uint32_t v = p[0] & mask;
  if (v < mask) {
    *out = v;
    *out_used = 1;
    return 0;
  }
  uint64_t acc = v;
  for (size_t i = 1; i <= 5; i++) {
    if (i >= len) return H2_ERR_HPACK_TRUNCATED;
    uint8_t b = p[i];
    acc += (uint64_t)(b & 0x7f) << (7 * (i - 1));
    if (acc > UINT32_MAX) return H2_ERR_HPACK_INT_OVERFLOW;
    if (!(b & 0x80)) {
      *out = (uint32_t)acc;
      *out_used = i + 1;
      return 0;
    }
  }
  return H2_ERR_HPACK_INT_OVERFLOW;
}

/* hpack_eq tells whether |n| octets at |a| and |b| are equal, with word
 * loads instead of a call (names and values are mostly short): up to 16
 * octets in two overlapping loads per side, without a loop. */
static inline int hpack_eq(const void *a, const void *b, size_t n) {
  const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
  if (n >= 8) {
    uint64_t u, v, u2, v2;
    if (n > 16) {
      for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        if (u != v) return 0;
      }
      memcpy(&u, x + n - 8, 8);
      memcpy(&v, y + n - 8, 8);
      return u == v;
    }
    memcpy(&u, x, 8);
    memcpy(&v, y, 8);
    memcpy(&u2, x + n - 8, 8);
    memcpy(&v2, y + n - 8, 8);
    return ((u ^ v) | (u2 ^ v2)) == 0;
  }
  if (n >= 4) {
    uint32_t u1, v1, u2, v2;
    memcpy(&u1, x, 4);
    memcpy(&v1, y, 4);
    memcpy(&u2, x + n - 4, 4);
    memcpy(&v2, y + n - 4, 4);
    return ((u1 ^ v1) | (u2 ^ v2)) == 0;
  }
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return 0;
  return 1;
}

/* hpack_hash hashes |n| octets at |p| starting from |seed| (not
 * cryptographic: the encoder hashes only its own input). Up to 16 octets
 * take two overlapping loads and no loop (most names and many values);
 * longer strings go 8 octets per step, the tail as one overlapping load. */
static inline uint64_t hpack_hash(const void *p, size_t n, uint64_t seed) {
  const uint8_t *s = (const uint8_t *)p;
  uint64_t h = seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
  uint64_t v, w;
  if (n >= 8) {
    if (n > 16) {
      for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&v, s + i, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
      }
      memcpy(&v, s + n - 8, 8);
      h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
      return h ^ (h >> 29);
    }
    memcpy(&v, s, 8);
    memcpy(&w, s + n - 8, 8);
  } else if (n >= 4) { /* two overlapping 4-octet loads */
    uint32_t lo, hi;
    memcpy(&lo, s, 4);
    memcpy(&hi, s + n - 4, 4);
    v = lo;
    w = hi;
  } else if (n) { /* 1..3 octets: first, middle, last */
    v = s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16;
    w = 0;
  } else {
    return h;
  }
  h = (h ^ v) * 0xff51afd7ed558ccdull;
  h ^= h >> 32;
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 29);
}

/* hpack_huff_encode_limited writes the Huffman code of |len| octets to
 * |dst| unless it is longer than |limit| octets. Returns its length, or
 * SIZE_MAX. Either way it may write up to |limit| + 8 octets of |dst|
 * (beyond the code's own). */
size_t hpack_huff_encode_limited(uint8_t *dst, const char *s, size_t len, size_t limit);

/* hpack_entry: one dynamic table entry; name then value are stored
 * contiguously in the table's byte buffer at absolute offset |off|. */
typedef struct hpack_entry {
  size_t off;
  uint32_t name_len;
  uint32_t value_len;
  uint32_t mark; /* decoder: H2_HPACK_MARKED | tag bits from h2_hpack_decoder_mark_field (0 when added) */
} hpack_entry;

/* hpack_hnode: the encoder's per-entry hash data (parallel to the ring). */
typedef struct hpack_hnode {
  uint32_t hash_nv; /* hash of name and value */
  uint32_t hash_n;  /* hash of name */
  uint32_t next_nv; /* seq of the next older entry in the same nv bucket */
  uint32_t next_n;  /* same for the name bucket */
} hpack_hnode;

/* hpack_table: the dynamic table (§2.3.2, §4).
 *
 * Entries are numbered by a 32-bit insertion sequence (|seq|); entry |seq|
 * lives in ring[seq & ring_mask]. The live entries are seqs
 * [first_seq, next_seq); the newest is HPACK index 62.
 *
 * Bytes live in |buf| in insertion order; absolute offsets only grow and
 * buf[x - base] holds absolute offset x. Eviction only advances first_seq;
 * an insert that does not fit at the end of |buf| compacts the live bytes
 * to the front (or grows |buf| to twice the live bytes), so each entry is
 * contiguous and |buf| stays under about twice the table size. |buf| is
 * non-NULL whenever the table holds an entry (even one of zero bytes).
 *
 * With |indexed| set (the encoder), two chained hash indexes (name+value,
 * name) map to the newest entry of each bucket; chains run to older
 * entries and end at an evicted or empty link. */
typedef struct hpack_table {
  const h2_mem *mem;
  hpack_entry *ring;
  hpack_hnode *hnodes;   /* indexed tables only */
  uint32_t *bucket_nv;   /* indexed tables only: 2 * ring capacity */
  uint32_t *bucket_n;
  uint32_t ring_mask;    /* ring capacity - 1 (capacity a power of two), or 0 with no ring */
  uint32_t first_seq;
  uint32_t next_seq;
  uint32_t size;         /* sum of entry sizes */
  uint32_t max;          /* current maximum size */
  uint8_t indexed;
  char *buf;
  size_t buf_cap;
  size_t base;           /* absolute offset of buf[0] */
  size_t end;            /* absolute offset of the next byte to write */
} hpack_table;

#define HPACK_NO_SEQ 0xffffffffu

void hpack_table_init(hpack_table *t, const h2_mem *mem, uint32_t max, int indexed);
void hpack_table_free(hpack_table *t);
/* hpack_table_set_max changes the maximum size, evicting as needed. */
void hpack_table_set_max(hpack_table *t, uint32_t max);
/* hpack_table_add inserts name/value (which must not point into the
 * table). Returns 1 when added, 0 when the entry is larger than the maximum
 * (the table is then emptied, §4.4), H2_ERR_NOMEM with the table unchanged.
 * |hash_n|/|hash_nv| are used by indexed tables only. */
static inline int hpack_table_add(hpack_table *t, const char *name, size_t name_len, const char *value,
                                  size_t value_len, uint32_t hash_n, uint32_t hash_nv);
/* hpack_table_add_slow is hpack_table_add for every case (growth, compaction,
 * an entry larger than the table); hpack_table_add inlines the usual one. */
int hpack_table_add_slow(hpack_table *t, const char *name, size_t name_len, const char *value,
                         size_t value_len, uint32_t hash_n, uint32_t hash_nv);
/* hpack_table_clear evicts every entry. */
void hpack_table_clear(hpack_table *t);
size_t hpack_table_memory(const hpack_table *t);

static inline uint32_t hpack_table_count(const hpack_table *t) { return t->next_seq - t->first_seq; }

/* hpack_table_get returns dynamic entry |i| (1 = newest) or NULL. */
static inline const hpack_entry *hpack_table_get(const hpack_table *t, uint32_t i) {
  if (i == 0 || i > hpack_table_count(t)) return NULL;
  return &t->ring[(t->next_seq - i) & t->ring_mask];
}
static inline const char *hpack_table_name(const hpack_table *t, const hpack_entry *e) {
  return t->buf + (e->off - t->base);
}
static inline const char *hpack_table_value(const hpack_table *t, const hpack_entry *e) {
  return t->buf + (e->off - t->base) + e->name_len;
}

static inline uint32_t hpack_ring_cap(const hpack_table *t) { return t->ring ? t->ring_mask + 1 : 0; }

static inline int hpack_seq_live(const hpack_table *t, uint32_t seq) {
  return seq != HPACK_NO_SEQ && (uint32_t)(seq - t->first_seq) < hpack_table_count(t);
}

/* hpack_copy_small copies |n| octets like memcpy, without a call for up to 64
 * (most names and values): two overlapping loads and stores of 4, 8 or 16
 * octets, a few 8-octet moves up to 64, three single octets below 4. */
static inline void hpack_copy_small(char *dst, const char *src, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + n - 8, 8);
    memcpy(dst, &a, 8);
    memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t a, b;
    memcpy(&a, src, 4);
    memcpy(&b, src + n - 4, 4);
    memcpy(dst, &a, 4);
    memcpy(dst + n - 4, &b, 4);
  } else if (n > 16 && n <= 32) { /* two overlapping 16-octet moves */
    unsigned char a[16], b[16];
    memcpy(a, src, 16);
    memcpy(b, src + n - 16, 16);
    memcpy(dst, a, 16);
    memcpy(dst + n - 16, b, 16);
  } else if (n > 32 && n <= 64) {
    uint64_t a;
    for (size_t i = 0; i + 8 < n; i += 8) {
      memcpy(&a, src + i, 8);
      memcpy(dst + i, &a, 8);
    }
    memcpy(&a, src + n - 8, 8);
    memcpy(dst + n - 8, &a, 8);
  } else if (n > 64) {
    memcpy(dst, src, n);
  } else if (n) { /* 1..3 octets: first, middle, last (overlapping) */
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }
}

/* hpack_evict_oldest evicts the oldest entry (there is one). */
static inline void hpack_evict_oldest(hpack_table *t) {
  uint32_t seq = t->first_seq;
  const hpack_entry *e = &t->ring[seq & t->ring_mask];
  t->size -= e->name_len + e->value_len + H2_HPACK_ENTRY_OVERHEAD;
  if (t->indexed) {
    /* A bucket whose newest entry is this one has no live entry left. */
    const hpack_hnode *h = &t->hnodes[seq & t->ring_mask];
    uint32_t bmask = 2 * hpack_ring_cap(t) - 1;
    uint32_t *bnv = &t->bucket_nv[h->hash_nv & bmask], *bn = &t->bucket_n[h->hash_n & bmask];
    *bnv = *bnv == seq ? HPACK_NO_SEQ : *bnv; /* stores, not branches: unpredictable */
    *bn = *bn == seq ? HPACK_NO_SEQ : *bn;
  }
  t->first_seq++;
}

/* hpack_hash_link makes entry |seq| the newest of its two buckets. */
static inline void hpack_hash_link(hpack_table *t, uint32_t seq) {
  uint32_t bmask = 2 * hpack_ring_cap(t) - 1;
  hpack_hnode *h = &t->hnodes[seq & t->ring_mask];
  uint32_t *bnv = &t->bucket_nv[h->hash_nv & bmask];
  uint32_t *bn = &t->bucket_n[h->hash_n & bmask];
  h->next_nv = *bnv;
  h->next_n = *bn;
  *bnv = seq;
  *bn = seq;
}

/* hpack_table_place writes a new newest entry whose room is already made
 * (evictions done, ring slot and buffer space at its end available): both
 * insert paths end here. */
static inline void hpack_table_place(hpack_table *t, const char *name, size_t name_len,
                                     const char *value, size_t value_len, uint32_t hash_n,
                                     uint32_t hash_nv) {
  size_t len = name_len + value_len;
  char *dst = t->buf + (t->end - t->base);
  hpack_copy_small(dst, name, name_len);
  hpack_copy_small(dst + name_len, value, value_len);
  uint32_t seq = t->next_seq++;
  hpack_entry *e = &t->ring[seq & t->ring_mask];
  e->off = t->end;
  e->name_len = (uint32_t)name_len;
  e->value_len = (uint32_t)value_len;
  e->mark = 0;
  t->end += len;
  t->size += (uint32_t)(len + H2_HPACK_ENTRY_OVERHEAD);
  if (t->indexed) {
    hpack_hnode *h = &t->hnodes[seq & t->ring_mask];
    h->hash_n = hash_n;
    h->hash_nv = hash_nv;
    hpack_hash_link(t, seq);
  }
}

/* The usual insert, inline: the entry fits the table, the ring has a free
 * slot and the byte buffer room at its end before any eviction, so nothing
 * is allocated and evictions can go first. */
static inline int hpack_table_add(hpack_table *t, const char *name, size_t name_len, const char *value,
                                  size_t value_len, uint32_t hash_n, uint32_t hash_nv) {
  size_t len = name_len + value_len;
  size_t esz = len + H2_HPACK_ENTRY_OVERHEAD;
  if (esz > t->max || !t->buf || hpack_table_count(t) >= hpack_ring_cap(t) || t->end + len - t->base > t->buf_cap)
    return hpack_table_add_slow(t, name, name_len, value, value_len, hash_n, hash_nv);
  while (t->size + esz > t->max) hpack_evict_oldest(t);
  hpack_table_place(t, name, name_len, value, value_len, hash_n, hash_nv);
  return 1;
}

/* hpack_table_find (indexed tables): returns the HPACK dynamic index (1 =
 * newest) of the newest entry equal to name/value, else 0 and, unless
 * |name_idx| is NULL, stores there the index of the newest entry with that
 * name (0 if none). A NULL |value| looks the name up only. Inline: the
 * encoder's hot path. */
static inline uint32_t hpack_table_find(const hpack_table *t, const char *name, size_t name_len,
                          const char *value, size_t value_len, uint32_t hash_n, uint32_t hash_nv,
                          uint32_t *name_idx) {
  if (name_idx) *name_idx = 0;
  if (!t->ring || hpack_table_count(t) == 0) return 0;
  uint32_t bmask = 2 * hpack_ring_cap(t) - 1;
  for (uint32_t s = value ? t->bucket_nv[hash_nv & bmask] : HPACK_NO_SEQ; hpack_seq_live(t, s);) {
    const hpack_hnode *h = &t->hnodes[s & t->ring_mask];
    const hpack_entry *e = &t->ring[s & t->ring_mask];
    if (h->hash_nv == hash_nv && e->name_len == name_len && e->value_len == value_len) {
      const char *p = hpack_table_name(t, e);
      if (hpack_eq(p, name, name_len) && hpack_eq(p + name_len, value, value_len))
        return t->next_seq - s;
    }
    uint32_t next = h->next_nv;
    if ((uint32_t)(s - next) == 0 || (uint32_t)(next - t->first_seq) >= (uint32_t)(s - t->first_seq))
      break; /* the link must go to an older live entry */
    s = next;
  }
  if (!name_idx) return 0;
  for (uint32_t s = t->bucket_n[hash_n & bmask]; hpack_seq_live(t, s);) {
    const hpack_hnode *h = &t->hnodes[s & t->ring_mask];
    const hpack_entry *e = &t->ring[s & t->ring_mask];
    if (h->hash_n == hash_n && e->name_len == name_len && hpack_eq(hpack_table_name(t, e), name, name_len)) {
      *name_idx = t->next_seq - s;
      break;
    }
    uint32_t next = h->next_n;
    if ((uint32_t)(s - next) == 0 || (uint32_t)(next - t->first_seq) >= (uint32_t)(s - t->first_seq))
      break;
    s = next;
  }
  return 0;
}

#endif
