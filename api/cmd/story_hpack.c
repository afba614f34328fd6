/* story_hpack.c: hpack-test-case stories through h2's HPACK decoder and
 * encoder (see story_hpack.h). */
#include "story_hpack.h"

#include <stdlib.h>
#include <string.h>

typedef struct collect {
  h2_story_field **out;
  size_t *num;
  size_t *cap;
} collect;

static char *dup_bytes(const char *p, size_t n) {
  char *d = malloc(n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, p, n);
  d[n] = 0;
  return d;
}

static int collect_field(void *user, const h2_hpack_field *f) {
  collect *c = user;
  if (*c->num == *c->cap) {
    size_t ncap = *c->cap ? *c->cap * 2 : 16;
    h2_story_field *p = realloc(*c->out, ncap * sizeof *p);
    if (!p) return H2_ERR_NOMEM;
    *c->out = p;
    *c->cap = ncap;
  }
  h2_story_field *o = &(*c->out)[*c->num];
  o->name = dup_bytes(f->name, f->name_len);
  o->value = dup_bytes(f->value, f->value_len);
  if (!o->name || !o->value) {
    free(o->name);
    free(o->value);
    return H2_ERR_NOMEM;
  }
  o->name_len = f->name_len;
  o->value_len = f->value_len;
  (*c->num)++;
  return 0;
}

void h2_story_fields_free(h2_story_field *f, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(f[i].name);
    free(f[i].value);
  }
  free(f);
}

int h2_story_decode_block(h2_hpack_decoder *d, const uint8_t *wire, size_t wire_len,
                          size_t piece, h2_story_field **out, size_t *num, size_t *cap) {
  collect c = {out, num, cap};
  if (piece == 0 || piece > wire_len) piece = wire_len;
  size_t off = 0;
  do {
    size_t n = wire_len - off < piece ? wire_len - off : piece;
    int rc = h2_hpack_decode(d, n ? wire + off : NULL, n, off + n == wire_len, collect_field, &c);
    if (rc < 0) return rc;
    off += n;
  } while (off < wire_len);
  return 0;
}

static void print_bytes(FILE *f, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\') fputs("\\\\", f);
    else if (c >= 0x20 && c < 0x7f) putc(c, f);
    else fprintf(f, "\\x%02x", c);
  }
}

/* quote_field formats "name: value" (escaped, shortened) for messages. */
static void quote_field(char *buf, size_t n, const h2_story_field *f) {
  size_t o = 0;
  const char *parts[2] = {f->name, f->value};
  size_t lens[2] = {f->name_len, f->value_len};
  if (n == 0) return;
  for (int k = 0; k < 2; k++) {
    if (k && o + 2 < n) { buf[o++] = ':'; buf[o++] = ' '; }
    for (size_t i = 0; i < lens[k] && o + 5 < n; i++) {
      unsigned char c = (unsigned char)parts[k][i];
      if (c >= 0x20 && c < 0x7f && c != '\\') buf[o++] = (char)c;
      else o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
    }
  }
  buf[o < n ? o : n - 1] = 0;
}

static int field_eq(const h2_story_field *a, const h2_story_field *b) {
  return a->name_len == b->name_len && a->value_len == b->value_len &&
         !memcmp(a->name, b->name, a->name_len) && !memcmp(a->value, b->value, a->value_len);
}

long h2_story_decode(const h2_story *s, size_t piece, int check, FILE *print, char *err,
                     size_t err_len) {
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  if (!d) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  h2_hpack_decoder_set_limits(d, H2_STORY_MAX_LIST_SIZE, H2_STORY_MAX_FIELDS, H2_STORY_MAX_FIELD_LEN);
  long done = 0;
  for (size_t i = 0; i < s->num_cases; i++) {
    const h2_story_case *cs = &s->cases[i];
    unsigned long seq = cs->has_seqno ? (unsigned long)cs->seqno : (unsigned long)i;
    if (!cs->has_wire) {
      snprintf(err, err_len, "seqno %lu: the case has no \"wire\" to decode (a raw-data story?)", seq);
      done = -1;
      break;
    }
    if (cs->has_table_size) {
      int rc = h2_hpack_decoder_set_max_table_size(d, cs->header_table_size);
      if (rc < 0) {
        snprintf(err, err_len, "seqno %lu: header_table_size %lu: %s", seq,
                 (unsigned long)cs->header_table_size, h2_strerror(rc));
        done = -1;
        break;
      }
    }
    h2_story_field *got = NULL;
    size_t num = 0, cap = 0;
    int rc = h2_story_decode_block(d, cs->wire, cs->wire_len, piece, &got, &num, &cap);
    if (rc < 0) {
      snprintf(err, err_len, "seqno %lu: decoding failed after %zu fields: %s (%d)", seq, num,
               h2_strerror(rc), rc);
      h2_story_fields_free(got, num);
      done = -1;
      break;
    }
    if (print) {
      fprintf(print, "# seqno %lu\n", seq);
      for (size_t j = 0; j < num; j++) {
        print_bytes(print, got[j].name, got[j].name_len);
        fputs(": ", print);
        print_bytes(print, got[j].value, got[j].value_len);
        putc('\n', print);
      }
    }
    if (check) {
      size_t n = num < cs->num_fields ? num : cs->num_fields;
      size_t j = 0;
      while (j < n && field_eq(&got[j], &cs->fields[j])) j++;
      if (j < n) {
        char want_s[160], got_s[160];
        quote_field(want_s, sizeof want_s, &cs->fields[j]);
        quote_field(got_s, sizeof got_s, &got[j]);
        snprintf(err, err_len, "seqno %lu: field %zu: expected \"%s\", decoded \"%s\"", seq, j,
                 want_s, got_s);
        done = -1;
      } else if (num != cs->num_fields) {
        char extra[160];
        quote_field(extra, sizeof extra, num > n ? &got[n] : &cs->fields[n]);
        snprintf(err, err_len, "seqno %lu: field %zu: %s \"%s\" (%zu fields decoded, %zu expected)",
                 seq, n, num > n ? "decoded an extra field" : "missing field", extra, num,
                 cs->num_fields);
        done = -1;
      }
    }
    h2_story_fields_free(got, num);
    if (done < 0) break;
    done++;
  }
  h2_hpack_decoder_free(d);
  return done;
}

static int copy_case_fields(h2_story_case *dst, const h2_story_case *src) {
  dst->fields = calloc(src->num_fields ? src->num_fields : 1, sizeof *dst->fields);
  if (!dst->fields) return -1;
  for (size_t j = 0; j < src->num_fields; j++) {
    h2_story_field *f = &dst->fields[j];
    f->name = dup_bytes(src->fields[j].name, src->fields[j].name_len);
    f->value = dup_bytes(src->fields[j].value, src->fields[j].value_len);
    dst->num_fields = j + 1;
    if (!f->name || !f->value) return -1;
    f->name_len = src->fields[j].name_len;
    f->value_len = src->fields[j].value_len;
  }
  return 0;
}

int h2_story_encode(const h2_story *in, const h2_story_encode_opts *opts, h2_story *out,
                    char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  h2_hpack_field *hf = NULL;
  uint8_t *buf = NULL;
  size_t hf_cap = 0, buf_cap = 0;
  if (!e) goto nomem;
  h2_hpack_encoder_set_huffman(e, opts->huffman);
  if (in->context && !(out->context = dup_bytes(in->context, strlen(in->context)))) goto nomem;
  char desc[160];
  snprintf(desc, sizeof desc, "Encoded by h2 (table size %lu, Huffman %s).",
           opts->has_table_size ? (unsigned long)opts->table_size : 4096ul,
           opts->huffman == H2_HPACK_HUFFMAN_NEVER ? "never"
           : opts->huffman == H2_HPACK_HUFFMAN_ALWAYS ? "always"
           : opts->huffman == H2_HPACK_HUFFMAN_PREFER ? "unless longer" : "when shorter");
  if (!(out->description = dup_bytes(desc, strlen(desc)))) goto nomem;
  out->cases = calloc(in->num_cases ? in->num_cases : 1, sizeof *out->cases);
  if (!out->cases) goto nomem;
  for (size_t i = 0; i < in->num_cases; i++) {
    const h2_story_case *src = &in->cases[i];
    h2_story_case *dst = &out->cases[i];
    out->num_cases = i + 1;
    dst->has_seqno = 1;
    dst->seqno = src->has_seqno ? src->seqno : (uint32_t)i;
    if (i == 0 && opts->has_table_size) {
      dst->has_table_size = 1;
      dst->header_table_size = opts->table_size;
      if (h2_hpack_encoder_set_table_limit(e, opts->table_size) < 0 ||
          h2_hpack_encoder_set_max_table_size(e, opts->table_size) < 0)
        goto nomem;
    } else if (src->has_table_size) {
      dst->has_table_size = 1;
      dst->header_table_size = src->header_table_size;
      if (h2_hpack_encoder_set_max_table_size(e, src->header_table_size) < 0) goto nomem;
    }
    if (copy_case_fields(dst, src) < 0) goto nomem;
    if (src->num_fields > hf_cap) {
      free(hf);
      hf_cap = src->num_fields;
      hf = calloc(hf_cap, sizeof *hf);
      if (!hf) goto nomem;
    }
    for (size_t j = 0; j < src->num_fields; j++) {
      hf[j].name = src->fields[j].name;
      hf[j].name_len = src->fields[j].name_len;
      hf[j].value = src->fields[j].value;
      hf[j].value_len = src->fields[j].value_len;
      hf[j].flags = 0;
    }
    size_t bound = h2_hpack_encoder_bound(e, hf, src->num_fields);
    if (bound == SIZE_MAX) {
      snprintf(err, err_len, "seqno %lu: header list too large to encode", (unsigned long)dst->seqno);
      goto fail;
    }
    if (bound > buf_cap) {
      free(buf);
      buf_cap = bound;
      buf = malloc(buf_cap ? buf_cap : 1);
      if (!buf) goto nomem;
    }
    h2_cbb cbb;
    h2_cbb_init(&cbb, buf, buf_cap);
    int rc = h2_hpack_encode(e, &cbb, hf, src->num_fields);
    if (rc < 0) {
      snprintf(err, err_len, "seqno %lu: encoding failed: %s", (unsigned long)dst->seqno, h2_strerror(rc));
      goto fail;
    }
    dst->has_wire = 1;
    dst->wire_len = cbb.len;
    if (cbb.len) {
      dst->wire = malloc(cbb.len);
      if (!dst->wire) goto nomem;
      memcpy(dst->wire, buf, cbb.len);
    }
  }
  free(hf);
  free(buf);
  h2_hpack_encoder_free(e);
  return 0;
nomem:
  snprintf(err, err_len, "out of memory");
fail:
  free(hf);
  free(buf);
  h2_hpack_encoder_free(e);
  h2_story_free(out);
  return -1;
}
