/* sent_headers.c: Node's sentHeaders / sentInfoHeaders / sentTrailers: with
 * h2_options.keep_sent_headers, a copy of each header block a stream sent
 * (as it went out: names lower-cased, pseudo-headers first, :status or the
 * request pseudo-headers filled in), freed with the stream. */
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"

#define MAX_INFO 8 /* 1xx blocks kept per stream */

struct h2_sent_block_ {
  size_t n;
  h2_header f[]; /* then the names and values */
};

struct h2_sent_ {
  h2_sent_block_ *headers, *trailers, *info[MAX_INFO];
  unsigned ninfo;
};

int h2_sent_prepare_(h2_stream *st, const h2_header *f, size_t n, h2_sent_block_ **out) {
  *out = NULL;
  if (!st->s->keep_sent) return 0;
  if (!st->sent && !(st->sent = calloc(1, sizeof *st->sent))) return H2_ERR_NOMEM;
  h2_sent_block_ *b = malloc(sizeof *b + n * sizeof(h2_header) + h2_fields_bytes_(f, n));
  if (!b) return H2_ERR_NOMEM;
  b->n = n;
  h2_fields_copy_(b->f, (char *)(b->f + n), f, n);
  *out = b;
  return 0;
}

void h2_sent_attach_(h2_stream *st, int kind, h2_sent_block_ *b) {
  if (!b) return;
  h2_sent_ *s = st->sent;
  h2_sent_block_ **slot = kind == H2_SENT_HEADERS ? &s->headers
                          : kind == H2_SENT_TRAILERS ? &s->trailers
                          : s->ninfo < MAX_INFO ? &s->info[s->ninfo++] : NULL;
  if (!slot) {
    free(b);
    return;
  }
  free(*slot);
  *slot = b;
}

void h2_sent_free_(h2_stream *st) {
  h2_sent_ *s = st->sent;
  if (!s) return;
  free(s->headers);
  free(s->trailers);
  for (unsigned i = 0; i < s->ninfo; i++) free(s->info[i]);
  free(s);
  st->sent = NULL;
}

static const h2_header *block(const h2_sent_block_ *b, size_t *n) {
  *n = b ? b->n : 0;
  return b ? b->f : NULL;
}

const h2_header *h2_stream_sent_headers(const h2_stream *st, size_t *n) {
  return block(st->sent ? st->sent->headers : NULL, n);
}

const h2_header *h2_stream_sent_trailers(const h2_stream *st, size_t *n) {
  return block(st->sent ? st->sent->trailers : NULL, n);
}

size_t h2_stream_sent_info_count(const h2_stream *st) { return st->sent ? st->sent->ninfo : 0; }

const h2_header *h2_stream_sent_info_headers(const h2_stream *st, size_t i, size_t *n) {
  return block(st->sent && i < st->sent->ninfo ? st->sent->info[i] : NULL, n);
}
