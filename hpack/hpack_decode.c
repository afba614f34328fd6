/* hpack_decode.c: the HPACK decoder (RFC 7541 §3, §6).
 *
 * decode_one() parses one whole representation from contiguous bytes, with
 * no side effect unless it completes. h2_hpack_decode() runs it over the
 * caller's input directly; a representation cut by the end of a piece is
 * gathered in |pend| (exactly as many bytes as decode_one says it needs, so
 * the rest of the input is again parsed in place). A string too long to
 * hold at all (over max(field limit, SETTINGS table size)) is skipped
 * without being buffered: |skip| counts the octets still to drop. */
#include <string.h>

#include "h2_hpack.h"
#include "hpack_internal.h"

enum { MODE_REP = 0, MODE_VALUE_HDR = 1 };

/* Collect-mode state, allocated on the first h2_hpack_decode_collect that
 * keeps fields and freed by h2_hpack_decoder_trim, so that an idle
 * connection's decoder does not carry it: the block's fields, their entries
 * (HPACK_NO_SEQ: none), the copied strings, and the static entries' marks
 * (h2_hpack_decoder_mark_static: the output flags H2_HPACK_MARKED | tag,
 * bits 8..15 only, shifted down 8). Marks are a shortcut only: after a trim
 * the caller checks those fields again and marks them again. */
typedef struct hpack_collect {
  h2_hpack_field *cf;
  uint32_t *cseq;
  size_t cf_len, cf_cap;
  char *cbytes;
  size_t cb_len, cb_cap;
  uint8_t static_mark[H2_HPACK_STATIC_COUNT + 1];
} hpack_collect;

struct h2_hpack_decoder {
  hpack_table t;          /* t.mem is the decoder's allocator too */
  uint32_t settings_max;  /* our SETTINGS_HEADER_TABLE_SIZE */
  uint32_t max_list, max_fields, max_field_len;
  uint32_t bound;         /* max(max_field_len, settings_max): see bound() */
  uint32_t list_size, nfields;
  int soft_err;           /* first soft limit error in this block */
  /* flags (0/1) and the parse mode, packed */
  uint8_t failed;             /* a hard error happened: unusable */
  uint8_t in_block;           /* octets of the current block were seen */
  uint8_t fields_seen;        /* a field representation was seen in this block */
  uint8_t need_update;        /* a size update must open the next block */
  uint8_t mode;               /* MODE_VALUE_HDR: the next thing is a value to skip */
  uint8_t cut_in_string;      /* the last incomplete parse stopped inside a string */
  uint8_t cur_entry;          /* during a callback: the field is entry |cur_seq| */
  uint8_t collect;            /* collect mode: this call keeps the fields */
  uint64_t skip;          /* octets still to drop */
  uint8_t *pend;
  size_t pend_len, pend_cap;
  char *scratch;
  size_t scratch_cap;
  int delivered;
  uint32_t static_flags;  /* STATIC_NAME|STATIC_VALUE when reported, else 0 */
  uint32_t cur_seq;
  uint8_t list_reset;     /* collect mode: a block ended, the next call empties the list */
  h2_hpack_field_cb cb;
  void *user;
  /* Collect mode (h2_hpack_decode_collect): the block's fields, their
   * entries (HPACK_NO_SEQ: none) and the copied strings. */
  hpack_collect *cs;      /* NULL until collect mode is used; trim frees it */
};

_Static_assert(((H2_HPACK_MARKED | H2_HPACK_MARK_TAG_MASK) & ~0xff00u) == 0,
               "static marks are kept as (flags >> 8) in one octet");

static void set_bound(h2_hpack_decoder *d) {
  d->bound = d->max_field_len > d->settings_max ? d->max_field_len : d->settings_max;
}

h2_hpack_decoder *h2_hpack_decoder_new(const h2_mem *mem) {
  if (!mem) mem = h2_mem_default();
  h2_hpack_decoder *d = h2_mem_malloc(mem, sizeof *d);
  if (!d) return NULL;
  memset(d, 0, sizeof *d);
  hpack_table_init(&d->t, mem, H2_HPACK_DEFAULT_TABLE_SIZE, 0);
  d->settings_max = H2_HPACK_DEFAULT_TABLE_SIZE;
  d->list_reset = 1;
  d->max_list = H2_HPACK_DEFAULT_MAX_LIST_SIZE;
  d->max_fields = H2_HPACK_DEFAULT_MAX_FIELDS;
  d->max_field_len = H2_HPACK_DEFAULT_MAX_FIELD_LEN;
  set_bound(d);
  return d;
}

static void collect_free(h2_hpack_decoder *d) {
  if (!d->cs) return;
  h2_mem_free(d->t.mem, d->cs->cf);
  h2_mem_free(d->t.mem, d->cs->cseq);
  h2_mem_free(d->t.mem, d->cs->cbytes);
  h2_mem_free(d->t.mem, d->cs);
  d->cs = NULL;
}

void h2_hpack_decoder_free(h2_hpack_decoder *d) {
  if (!d) return;
  hpack_table_free(&d->t);
  h2_mem_free(d->t.mem, d->pend);
  h2_mem_free(d->t.mem, d->scratch);
  collect_free(d);
  h2_mem_free(d->t.mem, d);
}

static int mid_block(const h2_hpack_decoder *d) { return d->in_block; }

void h2_hpack_decoder_trim(h2_hpack_decoder *d) {
  if (!d || mid_block(d) || d->pend_len) return;
  h2_mem_free(d->t.mem, d->pend);
  h2_mem_free(d->t.mem, d->scratch);
  d->pend = NULL;
  d->scratch = NULL;
  d->pend_cap = d->scratch_cap = 0;
  collect_free(d);
}

int h2_hpack_decoder_set_max_table_size(h2_hpack_decoder *d, uint32_t max) {
  if (mid_block(d)) return H2_ERR_STATE;
  d->settings_max = max;
  set_bound(d);
  if (max < d->t.max) d->need_update = 1;
  return 0;
}

void h2_hpack_decoder_set_limits(h2_hpack_decoder *d, uint32_t max_list_size, uint32_t max_fields,
                                 uint32_t max_field_len) {
  d->max_list = max_list_size;
  d->max_fields = max_fields;
  d->max_field_len = max_field_len;
  set_bound(d);
}

void h2_hpack_decoder_mark_field(h2_hpack_decoder *d, unsigned tag) {
  if (d->cur_entry && hpack_seq_live(&d->t, d->cur_seq))
    d->t.ring[d->cur_seq & d->t.ring_mask].mark =
        H2_HPACK_MARKED | ((uint32_t)(tag & 0xfu) << H2_HPACK_MARK_TAG_SHIFT);
}

/* entry_flags returns the output flags for a field that is dynamic entry
 * |seq| (remembered for h2_hpack_decoder_mark_field during the callback). */
static inline uint32_t entry_flags(h2_hpack_decoder *d, uint32_t seq) {
  if (!d->static_flags) return 0;
  d->cur_entry = 1;
  d->cur_seq = seq;
  return d->t.ring[seq & d->t.ring_mask].mark; /* 0, or H2_HPACK_MARKED and the tag */
}

/* static_field_flags returns the output flags for static entry |idx|
 * (both strings): in collect mode with its index and mark. */
static inline uint32_t static_field_flags(const h2_hpack_decoder *d, uint32_t idx) {
  if (!d->collect) return d->static_flags;
  return d->static_flags | (idx << H2_HPACK_STATIC_INDEX_SHIFT) | ((uint32_t)d->cs->static_mark[idx] << 8);
}

void h2_hpack_decoder_report_static(h2_hpack_decoder *d, int on) {
  d->static_flags = on ? H2_HPACK_STATIC_NAME | H2_HPACK_STATIC_VALUE : 0;
}

uint32_t h2_hpack_decoder_table_size(const h2_hpack_decoder *d) { return d->t.size; }
uint32_t h2_hpack_decoder_table_max(const h2_hpack_decoder *d) { return d->t.max; }
size_t h2_hpack_decoder_table_count(const h2_hpack_decoder *d) { return hpack_table_count(&d->t); }

int h2_hpack_decoder_table_get(const h2_hpack_decoder *d, size_t i, h2_hpack_field *out) {
  if (i == 0 || i > hpack_table_count(&d->t)) return H2_ERR_NOT_FOUND;
  const hpack_entry *e = hpack_table_get(&d->t, (uint32_t)i);
  out->name = hpack_table_name(&d->t, e);
  out->name_len = e->name_len;
  out->value = hpack_table_value(&d->t, e);
  out->value_len = e->value_len;
  out->flags = 0;
  return 0;
}

size_t h2_hpack_decoder_memory(const h2_hpack_decoder *d) {
  return sizeof *d + hpack_table_memory(&d->t) + d->pend_cap + d->scratch_cap +
         (d->cs ? sizeof *d->cs + d->cs->cf_cap * (sizeof *d->cs->cf + sizeof *d->cs->cseq) + d->cs->cb_cap : 0);
}

h2_hpack_field *h2_hpack_decoder_collected(const h2_hpack_decoder *d, size_t *num) {
  if (!d->cs) {
    *num = 0;
    return NULL;
  }
  *num = d->cs->cf_len;
  return d->cs->cf;
}

void h2_hpack_decoder_mark_static(h2_hpack_decoder *d, uint32_t index, unsigned tag) {
  if (d->cs && index >= 1 && index <= H2_HPACK_STATIC_COUNT)
    d->cs->static_mark[index] = (uint8_t)((H2_HPACK_MARKED | ((uint32_t)(tag & 0xfu) << H2_HPACK_MARK_TAG_SHIFT)) >> 8);
}

void h2_hpack_decoder_mark_collected(h2_hpack_decoder *d, size_t i, unsigned tag) {
  if (d->cs && i < d->cs->cf_len && hpack_seq_live(&d->t, d->cs->cseq[i]))
    d->t.ring[d->cs->cseq[i] & d->t.ring_mask].mark =
        H2_HPACK_MARKED | ((uint32_t)(tag & 0xfu) << H2_HPACK_MARK_TAG_SHIFT);
}

/* bound is the longest string the decoder ever holds (kept by set_bound
 * whenever one of the two limits changes). */
static inline size_t bound(const h2_hpack_decoder *d) { return d->bound; }

static void soft(h2_hpack_decoder *d, int err) {
  if (!d->soft_err) d->soft_err = err;
}

/* in_cbytes tells whether |p| points into the collected strings, or just
 * past them (an empty string may; static strings and "" never do; the
 * caller may have changed the flags, so they are not used). */
static inline int in_cbytes(const h2_hpack_decoder *d, const char *p) {
  uintptr_t a = (uintptr_t)p, b = (uintptr_t)d->cs->cbytes;
  return d->cs->cbytes && a >= b && a <= b + d->cs->cb_len;
}

static int grow_collected(h2_hpack_decoder *d) {
  size_t nc = d->cs->cf_cap ? d->cs->cf_cap * 2 : 16;
  h2_hpack_field *nf = h2_mem_realloc(d->t.mem, d->cs->cf, nc * sizeof *nf);
  if (!nf) return H2_ERR_NOMEM;
  d->cs->cf = nf;
  uint32_t *ns = h2_mem_realloc(d->t.mem, d->cs->cseq, nc * sizeof *ns);
  if (!ns) return H2_ERR_NOMEM; /* (|cf| grew: harmless) */
  d->cs->cseq = ns;
  d->cs->cf_cap = nc;
  return 0;
}

/* grow_cbytes makes room for |n| more octets of collected strings and moves
 * the collected fields' pointers along. */
static int grow_cbytes(h2_hpack_decoder *d, size_t n) {
  size_t ncap = d->cs->cb_cap ? d->cs->cb_cap : 1024;
  while (ncap - d->cs->cb_len < n) {
    if (ncap > (1u << 30)) return H2_ERR_NOMEM;
    ncap *= 2;
  }
  char *nb = h2_mem_malloc(d->t.mem, ncap);
  if (!nb) return H2_ERR_NOMEM;
  if (d->cs->cb_len) memcpy(nb, d->cs->cbytes, d->cs->cb_len);
  for (size_t i = 0; i < d->cs->cf_len; i++) {
    h2_hpack_field *f = &d->cs->cf[i];
    if (in_cbytes(d, f->name)) f->name = nb + (f->name - d->cs->cbytes);
    if (in_cbytes(d, f->value)) f->value = nb + (f->value - d->cs->cbytes);
  }
  h2_mem_free(d->t.mem, d->cs->cbytes);
  d->cs->cbytes = nb;
  d->cs->cb_cap = ncap;
  return 0;
}

/* collect appends a field to the collected list, copying the strings that
 * are not the static table's (the decoder's own may point into its table,
 * scratch or the input, which later fields or calls overwrite). */
static inline int collect(h2_hpack_decoder *d, const char *name, size_t nlen, const char *value,
                          size_t vlen, uint32_t flags, uint32_t seq) {
  if (d->cs->cf_len == d->cs->cf_cap && grow_collected(d)) return H2_ERR_NOMEM;
  size_t nn = flags & H2_HPACK_STATIC_NAME ? 0 : nlen;
  size_t nv = flags & H2_HPACK_STATIC_VALUE ? 0 : vlen;
  /* (allocated even when nothing is copied: the fast loop then runs) */
  if ((d->cs->cb_cap - d->cs->cb_len < nn + nv || !d->cs->cbytes) && grow_cbytes(d, nn + nv)) return H2_ERR_NOMEM;
  char *dst = d->cs->cbytes + d->cs->cb_len;
  d->cs->cb_len += nn + nv;
  h2_hpack_field *f = &d->cs->cf[d->cs->cf_len];
  d->cs->cseq[d->cs->cf_len++] = seq;
  if (!(flags & H2_HPACK_STATIC_NAME)) {
    hpack_copy_small(dst, name, nn);
    name = nn ? dst : "";
    dst += nn;
  }
  if (!(flags & H2_HPACK_STATIC_VALUE)) {
    hpack_copy_small(dst, value, nv);
    value = nv ? dst : "";
  }
  f->name = name;
  f->name_len = nlen;
  f->value = value;
  f->value_len = vlen;
  f->flags = flags;
  return 0;
}

/* emit_collect is emit's collect-mode end, out of line so that the
 * callback path's emit stays small enough to be inlined. */
__attribute__((noinline)) static int emit_collect(h2_hpack_decoder *d, const char *name, size_t nlen,
                                                  const char *value, size_t vlen, uint32_t flags,
                                                  int entry) {
  int rc = collect(d, name, nlen, value, vlen, flags, entry ? d->cur_seq : HPACK_NO_SEQ);
  if (rc < 0) return rc;
  d->delivered++;
  return 0;
}

/* emit delivers a field unless a limit was passed in this block. */
static inline int emit(h2_hpack_decoder *d, const char *name, size_t nlen, const char *value,
                size_t vlen, uint32_t flags) {
  /* The entry set by entry_flags holds for this field's callback only. */
  int entry = d->cur_entry;
  d->cur_entry = 0;
  if (d->soft_err) return 0;
  if (d->nfields >= d->max_fields) {
    soft(d, H2_ERR_HPACK_TOO_MANY_FIELDS);
    return 0;
  }
  uint64_t fsize = (uint64_t)nlen + vlen + H2_HPACK_ENTRY_OVERHEAD;
  if (d->list_size + fsize > d->max_list) {
    soft(d, H2_ERR_HPACK_LIST_TOO_LARGE);
    return 0;
  }
  if ((uint64_t)nlen + vlen > d->max_field_len) {
    soft(d, H2_ERR_HPACK_FIELD_TOO_LONG);
    return 0;
  }
  d->nfields++;
  d->list_size += (uint32_t)fsize;
  if (d->collect) return emit_collect(d, name, nlen, value, vlen, flags, entry);
  h2_hpack_field f = {name, nlen, value, vlen, flags};
  d->cur_entry = entry;
  int rc = d->cb ? d->cb(d->user, &f) : 0;
  d->cur_entry = 0;
  if (rc < 0) return rc;
  d->delivered++;
  return 0;
}

static int reserve_scratch(h2_hpack_decoder *d, size_t n) {
  if (d->scratch_cap >= n) return 0;
  size_t cap = d->scratch_cap ? d->scratch_cap : 256;
  while (cap < n) cap *= 2;
  char *p = h2_mem_realloc(d->t.mem, d->scratch, cap);
  if (!p) return H2_ERR_NOMEM;
  d->scratch = p;
  d->scratch_cap = cap;
  return 0;
}

/* A string literal header as parsed: where its octets start, how many. */
typedef struct str_ref {
  size_t off; /* offset of the octets from the representation start */
  uint32_t len;
  int huff;
  uint64_t least; /* the fewest octets it can decode to */
  int over;       /* longer than bound(): to be skipped */
} str_ref;

/* parse_str reads a string header at |p|[*pos..len). Returns 0 with |s|
 * set and *pos after the header, or H2_ERR_HPACK_TRUNCATED, or an int
 * error. */
static inline int parse_str(const h2_hpack_decoder *d, const uint8_t *p, size_t len, size_t *pos,
                     str_ref *s) {
  size_t used;
  uint32_t n;
  if (*pos >= len) return H2_ERR_HPACK_TRUNCATED;
  int rc = hpack_int_read(p + *pos, len - *pos, 7, &n, &used);
  if (rc) return rc;
  s->huff = (p[*pos] & 0x80) != 0;
  *pos += used;
  s->off = *pos;
  s->len = n;
  /* A Huffman string decodes to at least 8/30 octet per octet. */
  s->least = s->huff ? ((uint64_t)n * 8) / 30 : n;
  s->over = s->least > bound(d);
  return 0;
}

/* incomplete records what decode_one needs to finish. */
static int incomplete(h2_hpack_decoder *d, size_t *need, size_t n, int in_string) {
  *need = n;
  d->cut_in_string = in_string;
  return H2_ERR_INCOMPLETE;
}

/* huff_cap is the scratch room decoding Huffman string |s| takes. */
static size_t huff_cap(const h2_hpack_decoder *d, const str_ref *s) {
  /* Twice the input lets h2_hpack_huffman_decode run its fast loop to the
   * end; bound() + 2 is enough to tell a string over bound(). */
  size_t cap = 2 * (size_t)s->len;
  if (cap > bound(d) + 2) cap = bound(d) + 2;
  return cap;
}

/* decode_str makes the octets of |s| available as a decoded string at
 * |*out| (in place for raw ones, in scratch at |scratch_off| for Huffman
 * ones). Returns 0, 1 when the decoded string is over bound() (not
 * available), or a hard error. */
static inline __attribute__((always_inline)) int decode_str(h2_hpack_decoder *d, const uint8_t *p, const str_ref *s, size_t scratch_off,
                      const char **out, size_t *out_len) {
  if (!s->huff || s->len == 0) {
    /* Raw, or Huffman of no octets (the empty string, no scratch needed:
     * scratch may not exist yet). */
    *out = (const char *)p + s->off;
    *out_len = s->len;
    return 0;
  }
  size_t cap = huff_cap(d, s);
  if (d->scratch_cap < scratch_off + cap) return H2_ERR_INTERNAL; /* reserved by the caller */
  int rc = h2_hpack_huffman_decode(d->scratch + scratch_off, cap, p + s->off, s->len);
  if (rc == H2_ERR_BUF_TOO_SMALL) return 1;
  if (rc < 0) return rc;
  if ((size_t)rc > bound(d)) return 1;
  *out = d->scratch + scratch_off;
  *out_len = (size_t)rc;
  return 0;
}

/* lookup finds HPACK index |idx| in the static then dynamic table. */
static inline int lookup(const h2_hpack_decoder *d, uint32_t idx, const char **name, size_t *nlen,
                  const char **value, size_t *vlen, int *dynamic) {
  if (idx == 0) return H2_ERR_HPACK_INDEX_ZERO;
  if (idx <= H2_HPACK_STATIC_COUNT) {
    const hpack_static_entry *e = &hpack_static_table[idx];
    *name = e->name;
    *nlen = e->name_len;
    *value = e->value;
    *vlen = e->value_len;
    *dynamic = 0;
    return 0;
  }
  const hpack_entry *e = hpack_table_get(&d->t, idx - H2_HPACK_STATIC_COUNT);
  if (!e) return H2_ERR_HPACK_INDEX_RANGE;
  *name = hpack_table_name(&d->t, e);
  *nlen = e->name_len;
  *value = hpack_table_value(&d->t, e);
  *vlen = e->value_len;
  *dynamic = 1;
  return 0;
}

/* decode_one decodes the representation at p[0..len). Returns 0 with
 * |*used| set, H2_ERR_INCOMPLETE with |*need| (the total length needed so
 * far, > len), or a hard error. */
static int decode_one(h2_hpack_decoder *d, const uint8_t *p, size_t len, size_t *used,
                      size_t *need) {
  size_t pos = 0, k;
  uint32_t v;
  int rc;
  if (d->mode == MODE_VALUE_HDR) {
    /* The value of a literal whose name was skipped: skip it too. */
    str_ref s;
    rc = parse_str(d, p, len, &pos, &s);
    if (rc == H2_ERR_HPACK_TRUNCATED) return incomplete(d, need, len + 1, 0);
    if (rc) return rc;
    d->mode = MODE_REP;
    d->skip = s.len;
    *used = pos;
    return 0;
  }
  uint8_t b = p[0];
  if (b & 0x80) { /* indexed field (§6.1) */
    rc = hpack_int_read(p, len, 7, &v, &k);
    if (rc == H2_ERR_HPACK_TRUNCATED) return incomplete(d, need, len + 1, 0);
    if (rc) return rc;
    if (d->need_update) return H2_ERR_HPACK_SIZE_UPDATE_MISPLACED;
    const char *n, *val;
    size_t nl, vl;
    int dyn;
    rc = lookup(d, v, &n, &nl, &val, &vl, &dyn);
    if (rc) return rc;
    d->fields_seen = 1;
    *used = k;
    return emit(d, n, nl, val, vl, dyn ? entry_flags(d, d->t.next_seq - (v - H2_HPACK_STATIC_COUNT)) : static_field_flags(d, v));
  }
  if ((b & 0xe0) == 0x20) { /* dynamic table size update (§6.3) */
    rc = hpack_int_read(p, len, 5, &v, &k);
    if (rc == H2_ERR_HPACK_TRUNCATED) return incomplete(d, need, len + 1, 0);
    if (rc) return rc;
    if (d->fields_seen) return H2_ERR_HPACK_SIZE_UPDATE_MISPLACED;
    if (v > d->settings_max) return H2_ERR_HPACK_SIZE_UPDATE_TOO_LARGE;
    hpack_table_set_max(&d->t, v);
    d->need_update = 0;
    *used = k;
    return 0;
  }
  /* literal (§6.2): with incremental indexing (01), without (0000), never
   * indexed (0001) */
  int indexing = (b & 0x40) != 0;
  unsigned prefix = indexing ? 6 : 4;
  uint32_t flags = indexing ? 0 : ((b & 0x10) ? H2_HPACK_NEVER_INDEXED : H2_HPACK_NO_INDEX);
  rc = hpack_int_read(p, len, prefix, &v, &k);
  if (rc == H2_ERR_HPACK_TRUNCATED) return incomplete(d, need, len + 1, 0);
  if (rc) return rc;
  if (d->need_update) return H2_ERR_HPACK_SIZE_UPDATE_MISPLACED;
  pos = k;
  const char *name = NULL, *value = NULL;
  size_t nlen = 0, vlen = 0;
  int name_dyn = 0;
  str_ref ns = {0, 0, 0, 0, 0}, vs;
  if (v) {
    const char *unused;
    size_t unused_len;
    rc = lookup(d, v, &name, &nlen, &unused, &unused_len, &name_dyn);
    if (rc) return rc;
  } else {
    rc = parse_str(d, p, len, &pos, &ns);
    if (rc == H2_ERR_HPACK_TRUNCATED) return incomplete(d, need, len + 1, 0);
    if (rc) return rc;
    if (ns.over) {
      /* Too long to hold: drop the name, then the value. An entry this
       * large empties the table (§4.4). */
      d->fields_seen = 1;
      soft(d, H2_ERR_HPACK_FIELD_TOO_LONG);
      if (indexing) hpack_table_clear(&d->t);
      d->skip = ns.len;
      d->mode = MODE_VALUE_HDR;
      *used = pos;
      return 0;
    }
    if (len - pos < ns.len) return incomplete(d, need, pos + ns.len, 1);
    pos += ns.len;
  }
  rc = parse_str(d, p, len, &pos, &vs);
  if (rc == H2_ERR_HPACK_TRUNCATED) return incomplete(d, need, len + 1, 0);
  if (rc) return rc;
  /* Name and value together over bound(): the field is too long and its
   * entry could not fit the table either, so the value is not held. */
  if (vs.least + (v ? nlen : ns.least) > bound(d)) {
    d->fields_seen = 1;
    soft(d, H2_ERR_HPACK_FIELD_TOO_LONG);
    if (indexing) hpack_table_clear(&d->t);
    d->skip = vs.len;
    *used = pos;
    return 0;
  }
  if (len - pos < vs.len) return incomplete(d, need, pos + vs.len, 1);
  pos += vs.len;

  /* Everything is here: decode. */
  d->fields_seen = 1;
  *used = pos;
  size_t soff = 0;
  int over = 0;
  size_t room = vs.huff ? huff_cap(d, &vs) : 0;
  if (!v && ns.huff)
    room += huff_cap(d, &ns);
  else if (v && name_dyn && indexing)
    room += nlen;
  rc = reserve_scratch(d, room);
  if (rc) return rc;
  if (!v) {
    rc = decode_str(d, p, &ns, 0, &name, &nlen);
    if (rc < 0) return rc;
    over |= rc;
    if (!rc && ns.huff) soff = nlen;
  } else if (name_dyn && indexing) {
    /* The entry the name comes from may be evicted by the insert. */
    if (nlen) {
      memcpy(d->scratch, name, nlen);
      name = d->scratch;
    } else {
      name = ""; /* scratch may not exist yet */
    }
    soff = nlen;
  }
  if (!over) {
    rc = decode_str(d, p, &vs, soff, &value, &vlen);
    if (rc < 0) return rc;
    over |= rc;
  }
  if (over) {
    soft(d, H2_ERR_HPACK_FIELD_TOO_LONG);
    if (indexing) hpack_table_clear(&d->t);
    return 0;
  }
  if (indexing) {
    rc = hpack_table_add(&d->t, name, nlen, value, vlen, 0, 0);
    if (rc < 0) return rc;
    if (rc == 1) flags |= entry_flags(d, d->t.next_seq - 1); /* new: never marked */
  }
  if (v && !name_dyn) flags |= d->static_flags & H2_HPACK_STATIC_NAME; /* name still the static one */
  return emit(d, name, nlen, value, vlen, flags);
}

static int pend_append(h2_hpack_decoder *d, const uint8_t *p, size_t n) {
  if (d->pend_cap - d->pend_len < n) {
    /* Doubling while small, then exactly what the representation needs. */
    size_t cap = d->pend_len + n;
    if (cap < 2 * d->pend_cap && 2 * d->pend_cap <= 512) cap = 2 * d->pend_cap;
    if (cap < 64) cap = 64;
    uint8_t *np = h2_mem_realloc(d->t.mem, d->pend, cap);
    if (!np) return H2_ERR_NOMEM;
    d->pend = np;
    d->pend_cap = cap;
  }
  memcpy(d->pend + d->pend_len, p, n);
  d->pend_len += n;
  return 0;
}

static int fail(h2_hpack_decoder *d, int err) {
  d->failed = 1;
  return err;
}

/* collect_indexed is collect mode's fast path: a run of indexed fields
 * with one-octet indexes (what h2_hpack_decode_collect gets from a client
 * repeating its headers), parsed, limited and collected in one loop with
 * the counters in registers. It stops before any octet it does not handle
 * the common way (another representation, an index out of range, a limit
 * reached, a list that must grow): the general path takes that one.
 * Returns the octets consumed. */
static size_t collect_indexed(h2_hpack_decoder *d, const uint8_t *in, size_t len) {
  char *const cbytes = d->cs->cbytes;
  if (!cbytes) return 0; /* the general path allocates it */
  const hpack_table *t = &d->t;
  /* Room left under the list-size limit (the list never exceeds it) and
   * the field-length limit (one check for both: a field counts its octets
   * plus 32 toward the list). */
  const uint64_t list0 = d->list_size;
  const uint64_t max_field = d->max_field_len;
  uint64_t room = d->max_list > list0 ? d->max_list - list0 : 0;
  const uint32_t nf = d->nfields, max_fields = d->max_fields;
  h2_hpack_field *const cf = d->cs->cf;
  uint32_t *const cseq = d->cs->cseq;
  const uint8_t *const smark = d->cs->static_mark;
  const size_t cf0 = d->cs->cf_len;
  size_t cbl = d->cs->cb_len;
  /* fields that fit both the list and the limit on their number */
  size_t end = d->cs->cf_cap - cf0;
  size_t left = max_fields > nf ? (size_t)(max_fields - nf) : 0;
  if (left < end) end = left;
  if (len > end) len = end;
  size_t i = 0;
  for (; i < len; i++) {
    uint32_t idx = (uint32_t)in[i] - 0x81u; /* index - 1: 0..125 for 0x81..0xfe */
    if (idx > 125u) break;
    h2_hpack_field *f = &cf[cf0 + i];
    size_t nlen, vlen;
    if (idx < H2_HPACK_STATIC_COUNT) {
      const hpack_static_entry *e = &hpack_static_table[idx + 1];
      nlen = e->name_len;
      vlen = e->value_len;
      uint64_t both = nlen + vlen;
      if (both + H2_HPACK_ENTRY_OVERHEAD > room || both > max_field) break;
      room -= both + H2_HPACK_ENTRY_OVERHEAD;
      f->name = e->name;
      f->value = e->value;
      f->flags = H2_HPACK_STATIC_NAME | H2_HPACK_STATIC_VALUE | ((idx + 1) << H2_HPACK_STATIC_INDEX_SHIFT) |
                 ((uint32_t)smark[idx + 1] << 8);
      cseq[cf0 + i] = HPACK_NO_SEQ;
    } else {
      uint32_t k = idx - (H2_HPACK_STATIC_COUNT - 1); /* dynamic index, 1 = newest */
      if (k > hpack_table_count(t)) break;
      uint32_t seq = t->next_seq - k;
      const hpack_entry *e = &t->ring[seq & t->ring_mask];
      nlen = e->name_len;
      vlen = e->value_len;
      size_t both = nlen + vlen;
      if (both + H2_HPACK_ENTRY_OVERHEAD > room || both > max_field || d->cs->cb_cap - cbl < both) break;
      room -= both + H2_HPACK_ENTRY_OVERHEAD;
      /* name and value are contiguous in the table: one copy */
      char *dst = cbytes + cbl;
      hpack_copy_small(dst, hpack_table_name(t, e), both);
      cbl += both;
      f->name = dst;
      f->value = dst + nlen;
      f->flags = e->mark;
      cseq[cf0 + i] = seq;
    }
    f->name_len = nlen;
    f->value_len = vlen;
  }
  if (i) {
    d->fields_seen = 1;
    d->delivered += (int)i;
    d->list_size = (uint32_t)(d->max_list - room);
    d->nfields = nf + (uint32_t)i;
    d->cs->cf_len = cf0 + i;
    d->cs->cb_len = cbl;
  }
  return i;
}

static inline int decode_run(h2_hpack_decoder *d, const uint8_t *in, size_t len, int end_of_block) {
  if (d->failed) return H2_ERR_STATE;
  if (!in && len) return H2_ERR_INVALID_ARG;
  if (d->list_reset) {
    d->list_reset = 0;
    if (d->cs) d->cs->cf_len = d->cs->cb_len = 0;
  }
  d->delivered = 0;
  if (len) d->in_block = 1;
  size_t used, need;
  int rc;
  for (;;) {
    if (d->skip) {
      size_t k = d->skip < len ? (size_t)d->skip : len;
      d->skip -= k;
      if (k) { /* |in| may be NULL when |len| is 0 */
        in += k;
        len -= k;
      }
      if (d->skip) break;
    }
    if (d->pend_len) {
      rc = decode_one(d, d->pend, d->pend_len, &used, &need);
      if (rc == H2_ERR_INCOMPLETE) {
        if (len == 0) break;
        size_t take = need - d->pend_len;
        if (take > len) take = len;
        rc = pend_append(d, in, take);
        if (rc) return fail(d, rc);
        in += take;
        len -= take;
        continue;
      }
      if (rc < 0) return fail(d, rc);
      /* Octets gathered past the representation (only when it ended in a
       * skip) are dropped by the skip or parsed again. */
      size_t left = d->pend_len - used;
      size_t k = d->skip < left ? (size_t)d->skip : left;
      d->skip -= k;
      used += k;
      left -= k;
      memmove(d->pend, d->pend + used, left);
      d->pend_len = left;
      continue;
    }
    if (len == 0) break;
    if (d->collect && d->mode == MODE_REP && !d->need_update && !d->soft_err) {
      size_t k = collect_indexed(d, in, len);
      in += k;
      len -= k;
      if (len == 0) break;
    }
    if ((in[0] & 0x80) && in[0] != 0xff && d->mode == MODE_REP && !d->need_update) {
      /* Fast path: an indexed field with a one-octet index, parsed in place
       * (what decode_one does for it, minus the general dispatch). */
      const char *n, *val;
      size_t nl, vl;
      int dyn;
      uint32_t idx = in[0] & 0x7fu;
      rc = lookup(d, idx, &n, &nl, &val, &vl, &dyn);
      if (rc) return fail(d, rc);
      d->fields_seen = 1;
      in++;
      len--;
      rc = emit(d, n, nl, val, vl,
                dyn ? entry_flags(d, d->t.next_seq - (idx - H2_HPACK_STATIC_COUNT)) : static_field_flags(d, idx));
      if (rc < 0) return fail(d, rc);
      continue;
    }
    rc = decode_one(d, in, len, &used, &need);
    if (rc == H2_ERR_INCOMPLETE) {
      rc = pend_append(d, in, len);
      if (rc) return fail(d, rc);
      len = 0;
      break;
    }
    if (rc < 0) return fail(d, rc);
    in += used;
    len -= used;
  }
  if (!end_of_block) return d->delivered;
  if (d->skip || d->pend_len || d->mode != MODE_REP) {
    int in_string = d->skip || (d->pend_len && d->cut_in_string);
    return fail(d, in_string ? H2_ERR_HPACK_STRING_TOO_LONG : H2_ERR_HPACK_TRUNCATED);
  }
  if (d->need_update) return fail(d, H2_ERR_HPACK_SIZE_UPDATE_MISPLACED);
  int soft_err = d->soft_err;
  d->soft_err = 0;
  d->in_block = 0;
  d->fields_seen = 0;
  d->list_size = 0;
  d->nfields = 0;
  d->list_reset = 1;
  return soft_err ? soft_err : d->delivered;
}

int h2_hpack_decode(h2_hpack_decoder *d, const uint8_t *in, size_t len, int end_of_block,
                    h2_hpack_field_cb cb, void *user) {
  d->cb = cb;
  d->user = user;
  d->collect = 0;
  return decode_run(d, in, len, end_of_block);
}

int h2_hpack_decode_collect(h2_hpack_decoder *d, const uint8_t *in, size_t len, int end_of_block,
                            int keep) {
  d->cb = NULL;
  d->user = NULL;
  if (keep && !d->cs) {
    /* First use (or first after a trim): the list, strings and marks. */
    d->cs = h2_mem_malloc(d->t.mem, sizeof *d->cs);
    if (!d->cs) return H2_ERR_NOMEM;
    memset(d->cs, 0, sizeof *d->cs);
  }
  d->collect = keep != 0;
  d->static_flags = H2_HPACK_STATIC_NAME | H2_HPACK_STATIC_VALUE; /* reported in this mode */
  /* A whole block in one piece, nothing pending: the indexed fields go
   * through the fast loop directly; what it leaves takes the general path.
   * Between blocks (!in_block) of a decoder that has not failed, nothing is
   * skipped or pending, the mode is MODE_REP and there is no soft error: a
   * block ends (decode_run) only with all of them so, or fails. */
  if (keep && end_of_block && len && in && !d->failed && !d->in_block && !d->need_update) {
    if (d->list_reset) {
      d->list_reset = 0;
      d->cs->cf_len = d->cs->cb_len = 0;
    }
    d->delivered = 0;
    size_t k = collect_indexed(d, in, len);
    int before = d->delivered;
    if (k < len) {
      int r = decode_run(d, in + k, len - k, 1);
      return r < 0 ? r : r + before;
    }
    /* the end of the block, as decode_run ends it */
    d->fields_seen = 0;
    d->list_size = 0;
    d->nfields = 0;
    d->list_reset = 1;
    return before;
  }
  return decode_run(d, in, len, end_of_block);
}
