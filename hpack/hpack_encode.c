/* hpack_encode.c: the HPACK encoder (RFC 7541 §4.2, §6, §7.1).
 *
 * Per field: the memo of the field last sent at this position, else a
 * dynamic lookup (hash index over the table), then a static lookup (slot
 * table by name length and end octets, hpack_static_slots.h), then an
 * indexed field or a literal whose indexing follows the strategy
 * documented in h2_hpack.h. */
#include <string.h>

#include "h2_hpack.h"
#include "hpack_internal.h"
#include "hpack_static_slots.h"

#define SEEN_SLOTS 64
#define MEMO_SLOTS 16

/* PREFETCH starts loading the cache line at |p| (a hint: never faults). The
 * check pass over a block asks for every field's name and value, so their
 * cache misses overlap instead of each stalling its field's lookup. */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* ALWAYS_INLINE: for the few helpers of the per-field path that the
 * compiler would otherwise call. */
#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE static inline
#endif

/* What the field at one position of the last blocks became when it was an
 * indexed field: a static index, or a dynamic entry (by sequence number).
 * A later field at that position with the same octets and flags (compared
 * against the table entry itself) is encoded from it without hashing or
 * searching: the same lookup would find the same entry. Literals are not
 * remembered (their encoding has side effects). */
typedef struct enc_memo {
  uint8_t kind; /* MEMO_NONE, MEMO_STATIC, MEMO_DYNAMIC */
  uint32_t flags;
  uint32_t idx; /* static index, or dynamic entry sequence number */
} enc_memo;

enum { MEMO_NONE = 0, MEMO_STATIC = 1, MEMO_DYNAMIC = 2 };

/* Strings must keep every length and the returned octet count in an int. */
#define MAX_STRING ((size_t)0x7fffff00)

/* enc_aux: the encoder's cache of the last field encoded at each position,
 * allocated when it first encodes and freed by h2_hpack_encoder_trim (an
 * idle connection does not carry it). */
typedef struct enc_aux {
  enc_memo memo[MEMO_SLOTS];
} enc_aux;

struct h2_hpack_encoder {
  hpack_table t;        /* t.mem is the encoder's allocator too */
  uint32_t peer_max;    /* the peer's SETTINGS_HEADER_TABLE_SIZE */
  uint32_t limit;       /* our cap */
  uint32_t min_pending; /* the smallest size since the last block */
  uint8_t update_pending;
  uint8_t huffman;      /* H2_HPACK_HUFFMAN_* */
  /* Hashes of recently sent fields that seldom repeat: such a field is
   * indexed only when it comes again while still remembered here (kept by
   * a trim, so that a request at a time still gets them indexed). */
  uint16_t seen[SEEN_SLOTS];
  enc_aux *aux;          /* allocated by the first encode; see h2_hpack_encoder_trim */
};

h2_hpack_encoder *h2_hpack_encoder_new(const h2_mem *mem) {
  if (!mem) mem = h2_mem_default();
  h2_hpack_encoder *e = h2_mem_malloc(mem, sizeof *e);
  if (!e) return NULL;
  memset(e, 0, sizeof *e);
  hpack_table_init(&e->t, mem, H2_HPACK_DEFAULT_TABLE_SIZE, 1);
  e->peer_max = H2_HPACK_DEFAULT_TABLE_SIZE;
  e->limit = H2_HPACK_DEFAULT_TABLE_SIZE;
  e->huffman = H2_HPACK_HUFFMAN_AUTO;
  return e;
}

void h2_hpack_encoder_free(h2_hpack_encoder *e) {
  if (!e) return;
  hpack_table_free(&e->t);
  h2_mem_free(e->t.mem, e->aux);
  h2_mem_free(e->t.mem, e);
}

static void apply_size(h2_hpack_encoder *e) {
  uint32_t eff = e->peer_max < e->limit ? e->peer_max : e->limit;
  if (eff == e->t.max) return;
  if (!e->update_pending || eff < e->min_pending) e->min_pending = eff;
  e->update_pending = 1;
  hpack_table_set_max(&e->t, eff);
}

int h2_hpack_encoder_set_max_table_size(h2_hpack_encoder *e, uint32_t max) {
  e->peer_max = max;
  apply_size(e);
  return 0;
}

int h2_hpack_encoder_set_table_limit(h2_hpack_encoder *e, uint32_t limit) {
  e->limit = limit;
  apply_size(e);
  return 0;
}

void h2_hpack_encoder_set_huffman(h2_hpack_encoder *e, int mode) {
  if (mode >= H2_HPACK_HUFFMAN_AUTO && mode <= H2_HPACK_HUFFMAN_ALWAYS) e->huffman = mode;
}

uint32_t h2_hpack_encoder_table_size(const h2_hpack_encoder *e) { return e->t.size; }
uint32_t h2_hpack_encoder_table_max(const h2_hpack_encoder *e) { return e->t.max; }
size_t h2_hpack_encoder_table_count(const h2_hpack_encoder *e) { return hpack_table_count(&e->t); }

int h2_hpack_encoder_table_get(const h2_hpack_encoder *e, size_t i, h2_hpack_field *out) {
  if (i == 0 || i > hpack_table_count(&e->t)) return H2_ERR_NOT_FOUND;
  const hpack_entry *en = hpack_table_get(&e->t, (uint32_t)i);
  out->name = hpack_table_name(&e->t, en);
  out->name_len = en->name_len;
  out->value = hpack_table_value(&e->t, en);
  out->value_len = en->value_len;
  out->flags = 0;
  return 0;
}

size_t h2_hpack_encoder_memory(const h2_hpack_encoder *e) {
  return sizeof *e + hpack_table_memory(&e->t) + (e->aux ? sizeof *e->aux : 0);
}

/* Per field at most: a 6-octet index, two 6-octet string lengths. */
#define FIELD_OVERHEAD 18
/* Two size updates of at most 6 octets. */
#define UPDATES_OVERHEAD 12

size_t h2_hpack_encode_bound(const h2_hpack_field *fields, size_t n) {
  size_t total = UPDATES_OVERHEAD;
  for (size_t i = 0; i < n; i++) {
    size_t f = fields[i].name_len + fields[i].value_len;
    if (f < fields[i].name_len || f > SIZE_MAX - FIELD_OVERHEAD) return SIZE_MAX;
    f += FIELD_OVERHEAD;
    if (total > SIZE_MAX - f) return SIZE_MAX;
    total += f;
  }
  return total;
}

/* huff_excess returns how much longer than |len| the Huffman code of |s| is
 * (0 when not longer). */
static size_t huff_excess(const char *s, size_t len) {
  size_t h = len && s ? h2_hpack_huffman_encoded_len(s, len) : 0;
  return h > len ? h - len : 0;
}

size_t h2_hpack_encoder_bound(const h2_hpack_encoder *e, const h2_hpack_field *fields, size_t n) {
  size_t total = h2_hpack_encode_bound(fields, n);
  if (total == SIZE_MAX || e->huffman != H2_HPACK_HUFFMAN_ALWAYS) return total;
  for (size_t i = 0; i < n; i++) {
    /* Each excess is at most 11/4 of its (already counted) length. */
    size_t x = huff_excess(fields[i].name, fields[i].name_len) +
               huff_excess(fields[i].value, fields[i].value_len);
    if (total > SIZE_MAX - x) return SIZE_MAX;
    total += x;
  }
  return total;
}

/* Per static name (by its first static index, as static_lookup reports
 * it), what the encoding strategy gives it:
 *  - NAME_NEVER: sensitive by default (§7.1.3): authorization,
 *    proxy-authorization, and cookie (NAME_COOKIE) with a value shorter than
 *    20 octets;
 *  - NAME_RARE: values seldom recur (age, etag, :path, set-cookie,
 *    if-none-match, content-length): indexed only on their second sighting
 *    (see |seen|), so one-off values do not push out entries that would
 *    have been reused.
 * Every such name is in the static table, so the name's static index,
 * looked up anyway, decides; no name outside it is either. */
enum { NAME_NEVER = 1, NAME_COOKIE = 2, NAME_RARE = 4 };
static const uint8_t static_name_kind[H2_HPACK_STATIC_COUNT + 1] = {
    [4] = NAME_RARE,   /* :path */
    [21] = NAME_RARE,  /* age */
    [23] = NAME_NEVER, /* authorization */
    [28] = NAME_RARE,  /* content-length */
    [32] = NAME_COOKIE,
    [34] = NAME_RARE,  /* etag */
    [41] = NAME_RARE,  /* if-none-match */
    [49] = NAME_NEVER, /* proxy-authorization */
    [55] = NAME_RARE,  /* set-cookie */
};

/* seen_again records field hash |h| and tells whether it was remembered:
 * the slot comes from the low bits, a 16-bit tag from the high ones (a
 * false match, 1 in 32768, only indexes a field one sighting early). */
static int seen_again(h2_hpack_encoder *e, uint32_t h) {
  uint16_t *slot = &e->seen[h % SEEN_SLOTS];
  uint16_t tag = (uint16_t)((h >> 16) | 1);
  int again = *slot == tag;
  *slot = tag;
  return again;
}

/* put_int writes an integer; the caller reserved the room (bound). */
static inline void put_int(h2_cbb *out, unsigned prefix_bits, uint8_t first_bits, uint32_t v) {
  uint32_t mask = (1u << prefix_bits) - 1;
  uint8_t *p = out->buf + out->len;
  if (v < mask) {
    p[0] = (uint8_t)(first_bits | v);
    out->len += 1;
    return;
  }
  if (v - mask < 0x80) { /* two octets: with 7 prefix bits, indexes 127-254 */
    p[0] = (uint8_t)(first_bits | mask);
    p[1] = (uint8_t)(v - mask);
    out->len += 2;
    return;
  }
  (void)h2_hpack_int_encode(out, prefix_bits, first_bits, v);
}

/* int7_octets: octets of |v| as an integer with a 7-bit prefix (v < 16511). */
static inline size_t int7_octets(size_t v) { return v < 127 ? 1 : v < 255 ? 2 : 3; }

/* put_str writes a string literal; the room (6 + len octets) is reserved.
 * Strings of up to 16382 octets try Huffman straight into place after room
 * for the raw length and fall back to raw; a shorter length prefix moves
 * it down. That attempt writes up to len + 8 octets past the prefix
 * (hpack_huff_encode_limited), so it needs len + 11 octets of |out|: near
 * the end of |out| the string goes the exact way instead. */
ALWAYS_INLINE void put_str(h2_cbb *out, const char *s, size_t len, int huff) {
  if (huff == H2_HPACK_HUFFMAN_ALWAYS) { /* room from h2_hpack_encoder_bound */
    (void)h2_hpack_string_encode(out, s, len, huff);
    return;
  }
  /* PREFER may fill len octets: only with a 1-octet prefix. */
  if (len && huff != H2_HPACK_HUFFMAN_NEVER && len < (huff == H2_HPACK_HUFFMAN_AUTO ? 16383u : 127u) &&
      out->cap - out->len >= len + 11) {
    uint8_t *dst = out->buf + out->len;
    size_t k = int7_octets(len);
    size_t limit = huff == H2_HPACK_HUFFMAN_AUTO ? len - 1 : len;
    size_t n = hpack_huff_encode_limited(dst + k, s, len, limit);
    if (n != SIZE_MAX) {
      size_t kh = int7_octets(n);
      if (kh < k) memmove(dst + kh, dst + k, n);
      put_int(out, 7, 0x80, (uint32_t)n);
      out->len += n;
      return;
    }
    put_int(out, 7, 0x00, (uint32_t)len);
    memcpy(out->buf + out->len, s, len);
    out->len += len;
    return;
  }
  if (len < 127 && (len == 0 || huff == H2_HPACK_HUFFMAN_NEVER)) {
    out->buf[out->len++] = (uint8_t)len;
    if (len) memcpy(out->buf + out->len, s, len);
    out->len += len;
    return;
  }
  (void)h2_hpack_string_encode(out, s, len, huff);
}

/* static_lookup is h2_hpack_static_find for the encoder's hot path: the
 * name's slot (hpack_static_slots.h) gives the only static name it can be,
 * confirmed by one comparison; no switch (an indirect jump that the
 * varying name lengths keep mispredicting). */
ALWAYS_INLINE uint32_t static_lookup(const h2_hpack_field *f, uint32_t *sname) {
  *sname = 0;
  if (!f->name_len) return 0;
  const uint8_t *slot = static_slots[static_slot(f->name, f->name_len)];
  const hpack_static_entry *s = &hpack_static_table[slot[0]]; /* entry 0: no name, no match */
  if (s->name_len != f->name_len || !hpack_eq(s->name, f->name, f->name_len)) return 0;
  *sname = slot[0];
  for (uint32_t i = slot[0]; i < (uint32_t)slot[0] + slot[1]; i++) {
    const hpack_static_entry *c = &hpack_static_table[i];
    if (c->value_len == f->value_len && hpack_eq(c->value, f->value, f->value_len)) return i;
  }
  return 0;
}

/* memo_hit encodes |f| from |m| if it still applies; returns 1 if done. */
static inline int memo_hit(h2_hpack_encoder *e, h2_cbb *out, const enc_memo *m, const h2_hpack_field *f) {
  if (m->kind == MEMO_NONE || f->flags != m->flags) return 0;
  if (m->kind == MEMO_STATIC) {
    const hpack_static_entry *s = &hpack_static_table[m->idx];
    if (f->name_len != s->name_len || f->value_len != s->value_len || !hpack_eq(f->name, s->name, s->name_len) ||
        (f->value_len && !hpack_eq(f->value, s->value, s->value_len)))
      return 0;
    put_int(out, 7, 0x80, m->idx);
    return 1;
  }
  const hpack_table *t = &e->t;
  if (!hpack_seq_live(t, m->idx)) return 0;
  const hpack_entry *en = &t->ring[m->idx & t->ring_mask];
  if (f->name_len != en->name_len || f->value_len != en->value_len) return 0;
  const char *p = hpack_table_name(t, en);
  if (!hpack_eq(p, f->name, f->name_len) || (f->value_len && !hpack_eq(p + f->name_len, f->value, f->value_len)))
    return 0;
  put_int(out, 7, 0x80, H2_HPACK_STATIC_COUNT + (t->next_seq - m->idx));
  return 1;
}

static void encode_field(h2_hpack_encoder *e, h2_cbb *out, const h2_hpack_field *field, enc_memo *m) {
  if (memo_hit(e, out, m, field)) return;
  m->kind = MEMO_NONE;
  m->flags = field->flags;
  h2_hpack_field fv = *field;
  if (!fv.name) fv.name = "";
  if (!fv.value) fv.value = "";
  const h2_hpack_field *f = &fv;
  int huff = e->huffman;
  int flagged_never = (f->flags & H2_HPACK_NEVER_INDEXED) != 0;
  uint64_t hn64 = hpack_hash(f->name, f->name_len, 0);
  uint32_t hn = (uint32_t)(hn64 ^ (hn64 >> 32));
  /* Long values are hashed by their ends and length only: equal values
   * still hash alike, and a lookup compares the octets anyway. */
  uint64_t hnv64 = f->value_len <= 64 ? hpack_hash(f->value, f->value_len, hn64)
                                      : hpack_hash(f->value + f->value_len - 32, 32,
                                                   hpack_hash(f->value, 32, hn64 ^ f->value_len));
  uint32_t hnv = (uint32_t)(hnv64 ^ (hnv64 >> 32));
  /* The dynamic table first: it never holds a static table's full match
   * (those are sent as static indexes), so the order does not change the
   * output, and most repeated fields are found there. Nor does it hold a
   * field that is sensitive by default (those are never added), so that
   * is decided only on a miss, from the static name. */
  if (!flagged_never) {
    uint32_t didx = hpack_table_find(&e->t, f->name, f->name_len, f->value, f->value_len, hn, hnv, NULL);
    if (didx) {
      put_int(out, 7, 0x80, H2_HPACK_STATIC_COUNT + didx);
      m->kind = MEMO_DYNAMIC;
      m->idx = e->t.next_seq - didx;
      return;
    }
  }
  uint32_t sname = 0;
  uint32_t sidx = static_lookup(f, &sname);
  unsigned kind = static_name_kind[sname];
  int sensitive = flagged_never || (kind & NAME_NEVER) || ((kind & NAME_COOKIE) && f->value_len < 20);
  if (sidx && !sensitive) {
    put_int(out, 7, 0x80, sidx);
    m->kind = MEMO_STATIC;
    m->idx = sidx;
    return;
  }
  uint32_t dname = 0;
  if (!sname) hpack_table_find(&e->t, f->name, f->name_len, NULL, 0, hn, 0, &dname);
  uint32_t nidx = sname ? sname : (dname ? H2_HPACK_STATIC_COUNT + dname : 0);
  uint8_t first = 0x00;
  unsigned prefix = 4;
  if (sensitive) {
    first = 0x10;
  } else if (!(f->flags & H2_HPACK_NO_INDEX)) {
    size_t esz = f->name_len + f->value_len + H2_HPACK_ENTRY_OVERHEAD;
    int index;
    if (f->flags & H2_HPACK_INDEX)
      index = esz <= e->t.max;
    else
      index = esz <= (size_t)e->t.max * 3 / 4 && (!(kind & NAME_RARE) || seen_again(e, hnv));
    /* The index was computed before the insert, as the decoder reads it. */
    if (index && hpack_table_add(&e->t, f->name, f->name_len, f->value, f->value_len, hn, hnv) == 1) {
      first = 0x40;
      prefix = 6;
    }
  }
  put_int(out, prefix, first, nidx);
  if (!nidx) put_str(out, f->name, f->name_len, huff);
  put_str(out, f->value, f->value_len, huff);
}

int h2_hpack_encode(h2_hpack_encoder *e, h2_cbb *out, const h2_hpack_field *fields, size_t n) {
  if (!out || (n && !fields)) return H2_ERR_INVALID_ARG;
  /* One pass: check the fields and add up the bound (the 64-bit sum of
   * terms under 2^33 cannot wrap: checked once at the end). It also starts
   * loading every name and value. */
  uint64_t b = UPDATES_OVERHEAD;
  for (size_t i = 0; i < n; i++) {
    const h2_hpack_field *f = &fields[i];
    size_t nl = f->name_len, vl = f->value_len;
    if (nl > MAX_STRING || vl > MAX_STRING || (nl && !f->name) || (vl && !f->value)) return H2_ERR_INVALID_ARG;
    b += (uint64_t)nl + vl + FIELD_OVERHEAD;
    PREFETCH(f->name);
    PREFETCH(f->value);
  }
  if (b > 0x7fffffff) return H2_ERR_INVALID_ARG;
  if (e->huffman == H2_HPACK_HUFFMAN_ALWAYS) {
    for (size_t i = 0; i < n; i++) {
      b += huff_excess(fields[i].name, fields[i].name_len) + huff_excess(fields[i].value, fields[i].value_len);
      if (b > 0x7fffffff) return H2_ERR_INVALID_ARG;
    }
  }
  if (!h2_cbb_ok(out) || out->cap - out->len < b) return H2_ERR_BUF_TOO_SMALL;
  size_t start = out->len;
  if (e->update_pending) {
    if (e->min_pending < e->t.max) put_int(out, 5, 0x20, e->min_pending);
    put_int(out, 5, 0x20, e->t.max);
    e->update_pending = 0;
  }
  enc_aux *ax = e->aux;
  enc_aux local; /* no memory for the cache: a fresh one for this block */
  if (!ax) {
    ax = e->aux = h2_mem_malloc(e->t.mem, sizeof *ax);
    if (!ax) ax = &local;
    memset(ax, 0, sizeof *ax);
  }
  for (size_t i = 0; i < n; i++) encode_field(e, out, &fields[i], &ax->memo[i % MEMO_SLOTS]);
  return (int)(out->len - start);
}

void h2_hpack_encoder_trim(h2_hpack_encoder *e) {
  if (!e || !e->aux) return;
  h2_mem_free(e->t.mem, e->aux);
  e->aux = NULL;
}
