/* stream.c: h2_stream operations: respond, write with completion and
 * back-pressure, pull sources, end, trailers, close, priority, push, flow
 * control pacing, state queries. */
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"

#define SRC_CHUNK (64 * 1024)
#define SRC_CHUNKS 4
#define MAX_FIELDS 128
#define ARENA 4096

static _Thread_local h2_pool stream_pool = {NULL, 0, 16384, sizeof(h2_stream)};
static _Thread_local h2_pool write_pool = {NULL, 0, 16384, sizeof(h2_write_rec)};

static h2_write_rec *write_new(h2_stream *st) {
  if (!st->inline_busy) {
    st->inline_busy = 1;
    memset(&st->inline_w, 0, sizeof st->inline_w);
    return &st->inline_w;
  }
  return h2_pool_get(&write_pool);
}

static void write_free(h2_write_rec *w) {
  if (w == &w->st->inline_w) w->st->inline_busy = 0;
  else h2_pool_put(&write_pool, w);
}

h2_stream *h2_stream_new_(h2_session *s, uint32_t id) {
  h2_stream *st = h2_pool_get(&stream_pool);
  if (!st) return NULL;
  st->s = s;
  st->id = id;
  st->last_activity = h2_session_now_(s);
  if (s->metrics && h2_metrics_stream_new_(st) != 0) {
    h2_pool_put(&stream_pool, st);
    return NULL;
  }
  st->next = s->streams;
  if (s->streams) s->streams->prev = st;
  s->streams = st;
  return st;
}

static void unlink_stream(h2_stream *st) {
  h2_session *s = st->s;
  if (st->prev) st->prev->next = st->next;
  else if (s->streams == st) s->streams = st->next;
  if (st->next) st->next->prev = st->prev;
  st->next = st->prev = NULL;
}

void h2_stream_discard_(h2_stream *st) {
  st->closed = 1;
  h2_stream_unqueue_ready_(st);
  unlink_stream(st);
  h2_metrics_stream_free_(st);
  h2_sent_free_(st);
  h2_pool_put(&stream_pool, st);
}

void h2_stream_maybe_free_(h2_stream *st) {
  if (st->closed && st->outstanding == 0 && !st->close_pending) {
    if (st->src_release) st->src_release(st->src_user);
    free(st->src_bufs);
    if (st->m) h2_metrics_stream_free_(st);
    if (st->sent) h2_sent_free_(st);
    h2_pool_put(&stream_pool, st);
  }
}

static void drop_held(h2_stream *st) {
  while (st->held) {
    h2_write_rec *w = st->held;
    st->held = w->next;
    h2_stream_released_(w, 0);
  }
  st->held_tail = NULL;
}

/* Delivers on_close and frees |st|. Called once no write of the stream is
 * referenced by the engine any more, so the application may free its
 * buffers in on_close. */
static void deliver_close(h2_stream *st) {
  st->close_pending = 0;
  st->outstanding++; /* keep |st| alive through the callback */
  if (st->cbs.on_close) st->cbs.on_close(st, st->rst_code, st->user);
  st->outstanding--;
  h2_stream_maybe_free_(st);
}

void h2_stream_on_closed_(h2_stream *st, uint32_t code) {
  if (st->closed) return;
  st->closed = 1;
  if (st->m) h2_metrics_stream_closed_(st);
  h2_stream_drop_pending_(st);
  h2_stream_unqueue_ready_(st);
  st->rst_code = code;
  if (st->timeout_ms) {
    st->s->num_timed_streams--;
    st->timeout_ms = 0;
  }
  unlink_stream(st);
  st->outstanding++;
  drop_held(st);
  st->outstanding--;
  /* The engine may close a stream when it frames END_STREAM, before the
   * bytes are written: wait for the last DATA_RELEASED. */
  if (st->outstanding > 0) {
    st->close_pending = 1;
    return;
  }
  deliver_close(st);
}

void h2_stream_unhold_(h2_stream *st) {
  st->outstanding--;
  if (st->closed && st->close_pending && st->outstanding == 0) deliver_close(st);
}

void h2_stream_released_(h2_write_rec *w, int sent) {
  h2_stream *st = w->st;
  size_t hwm = st->s->stream_high_water_mark;
  st->buffered -= w->len;
  st->outstanding--;
  if (sent && st->m) h2_metrics_stream_sent_(st, w->len);
  if (w->cb) w->cb(st, sent ? 0 : H2_ERR_CLOSED, w->user);
  free(w->owned);
  int is_src = w->cb == NULL && w->owned == NULL && w->user == st->src_bufs && st->src != NULL;
  write_free(w);
  if (st->closed) {
    if (st->close_pending && st->outstanding == 0) deliver_close(st);
    else h2_stream_maybe_free_(st);
    return;
  }
  if (is_src) {
    st->src_inflight--;
    h2_stream_pump_source_(st);
  }
  if (st->need_drain && st->buffered < hwm) {
    st->need_drain = 0;
    if (st->cbs.on_drain) st->cbs.on_drain(st, st->user);
  }
}

/* Submits held writes in order until the engine pushes back. */
static void submit_held(h2_stream *st) {
  h2_session *s = st->s;
  if (!st->id) return; /* a request still waiting to start */
  while (st->held && s->conn) {
    h2_write_rec *w = st->held;
    int rc = h2_conn_submit_data(s->conn, st->id, w->data, w->len, w->flags, w);
    if (rc == H2_ERR_WOULD_BLOCK) return;
    st->held = w->next;
    if (!st->held) st->held_tail = NULL;
    if (rc < 0) {
      h2_stream_released_(w, 0);
      continue;
    }
  }
  h2_session_schedule_flush_(s);
}

void h2_stream_writable_(h2_stream *st) { submit_held(st); }

static void fire_want_trailers(h2_stream *st) {
  if (st->want_trailers_fired) return;
  st->want_trailers_fired = 1;
  if (st->cbs.on_want_trailers) st->cbs.on_want_trailers(st, st->user);
  else h2_stream_send_trailers(st, NULL, 0);
}

/* Queues one write record (submit now, or hold behind earlier ones). */
static int queue_write(h2_stream *st, h2_write_rec *w) {
  h2_session *s = st->s;
  st->buffered += w->len;
  st->outstanding++;
  if (!st->held && st->id) {
    int rc = h2_conn_submit_data(s->conn, st->id, w->data, w->len, w->flags, w);
    if (rc == 0) {
      h2_session_schedule_flush_(s);
      return 0;
    }
    if (rc != H2_ERR_WOULD_BLOCK) {
      st->buffered -= w->len;
      st->outstanding--;
      free(w->owned);
      write_free(w);
      return rc;
    }
  }
  w->next = NULL;
  if (st->held_tail) st->held_tail->next = w;
  else st->held = w;
  st->held_tail = w;
  return 0;
}

/* can_write: 0 when |st| takes body bytes now, else H2_ERR_STATE (ended,
 * closed, no connection, or a server stream that has not responded: DATA
 * may not go before the response HEADERS). */
static int can_write(const h2_stream *st) {
  if (st->closed || st->local_ended || st->end_pending || !st->s->conn) return H2_ERR_STATE;
  if (!st->headers_sent && st->s->is_server) return H2_ERR_STATE;
  return 0;
}

int h2_stream_write(h2_stream *st, const uint8_t *data, size_t len, h2_write_cb cb, void *user) {
  int ok = can_write(st);
  if (ok) return ok;
  h2_write_rec *w = write_new(st);
  if (!w) return H2_ERR_NOMEM;
  w->st = st;
  w->data = data;
  w->len = len;
  w->cb = cb;
  w->user = user;
  int rc = queue_write(st, w);
  if (rc) return rc;
  st->last_activity = h2_session_now_(st->s);
  size_t hwm = st->s->stream_high_water_mark;
  if (st->buffered >= hwm) {
    st->need_drain = 1;
    return 0;
  }
  return 1;
}

int h2_stream_end_with(h2_stream *st, const uint8_t *data, size_t len, h2_write_cb cb,
                       void *user) {
  int ok = can_write(st);
  if (ok) return ok;
  if (st->wait_trailers) {
    /* Trailers follow the data: the ordinary write, then end. */
    int rc = h2_stream_write(st, data, len, cb, user);
    if (rc < 0) return rc;
    return h2_stream_end(st);
  }
  /* One record carries the bytes and END_STREAM: one engine call. */
  h2_write_rec *w = write_new(st);
  if (!w) return H2_ERR_NOMEM;
  w->st = st;
  w->data = data;
  w->len = len;
  w->cb = cb;
  w->user = user;
  w->flags = H2_CONN_DATA_END_STREAM;
  st->end_pending = 1;
  int rc = queue_write(st, w);
  if (rc) {
    st->end_pending = 0;
    return rc;
  }
  st->local_ended = 1;
  st->last_activity = h2_session_now_(st->s);
  return 0;
}

int h2_stream_write_copy(h2_stream *st, const uint8_t *data, size_t len) {
  int ok = can_write(st);
  if (ok) return ok;
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) return H2_ERR_NOMEM;
  memcpy(copy, data, len);
  h2_write_rec *w = write_new(st);
  if (!w) {
    free(copy);
    return H2_ERR_NOMEM;
  }
  w->st = st;
  w->data = copy;
  w->len = len;
  w->owned = copy;
  int rc = queue_write(st, w);
  if (rc) return rc;
  size_t hwm = st->s->stream_high_water_mark;
  if (st->buffered >= hwm) {
    st->need_drain = 1;
    return 0;
  }
  return 1;
}

int h2_stream_end(h2_stream *st) {
  if (st->closed || !st->s->conn) return H2_ERR_STATE;
  if (st->local_ended || st->end_pending) return 0;
  if (st->wait_trailers) {
    st->end_pending = 1;
    fire_want_trailers(st);
    return 0;
  }
  if (!st->held && st->id) {
    /* Nothing waits in front: END_STREAM needs no write record. */
    int rc = h2_conn_submit_data(st->s->conn, st->id, NULL, 0, H2_CONN_DATA_END_STREAM, NULL);
    if (rc == 0) {
      st->end_pending = 1;
      st->local_ended = 1;
      h2_session_schedule_flush_(st->s);
      return 0;
    }
    if (rc != H2_ERR_WOULD_BLOCK) return rc;
  }
  h2_write_rec *w = write_new(st);
  if (!w) return H2_ERR_NOMEM;
  w->st = st;
  w->flags = H2_CONN_DATA_END_STREAM;
  st->end_pending = 1;
  int rc = queue_write(st, w);
  if (rc == 0) st->local_ended = 1;
  return rc;
}

int h2_stream_send_trailers(h2_stream *st, const h2_header *hdrs, size_t n) {
  if (st->closed || st->trailers_sent || !st->s->conn) return H2_ERR_STATE;
  h2_hpack_field f[MAX_FIELDS];
  char arena[ARENA];
  int m = h2_fields_prepare_(f, MAX_FIELDS, arena, sizeof arena, hdrs, n);
  if (m < 0) return m;
  for (int i = 0; i < m; i++)
    if (f[i].name_len && f[i].name[0] == ':')
      return h2_api_fail("trailers must not contain pseudo-headers (%.*s)", (int)f[i].name_len,
                         f[i].name);
  int rc;
  if (m == 0) {
    /* No trailers after all: just end the stream. */
    st->wait_trailers = 0;
    st->end_pending = 0;
    return h2_stream_end(st);
  }
  rc = h2_check_send_size_(st->s, f, (size_t)m);
  if (rc) {
    h2_stream_frame_error_(st, H2_FRAME_HEADERS, rc);
    return rc;
  }
  submit_held(st);
  if (st->held || !st->id) return H2_ERR_WOULD_BLOCK;
  h2_sent_block_ *kept = NULL;
  if (st->s->keep_sent && (rc = h2_sent_prepare_(st, f, (size_t)m, &kept)) != 0) return rc;
  rc = h2_conn_submit_trailers(st->s->conn, st->id, f, (size_t)m);
  if (rc) {
    free(kept);
    if (rc == H2_ERR_LIMIT) h2_stream_frame_error_(st, H2_FRAME_HEADERS, rc);
    return rc;
  }
  if (kept) h2_sent_attach_(st, H2_SENT_TRAILERS, kept);
  if (rc == 0) {
    st->trailers_sent = 1;
    st->local_ended = 1;
    st->end_pending = 1;
    h2_session_schedule_flush_(st->s);
  }
  return rc;
}

/* Nonzero if one of the 8 octets of |x| is 'A'..'Z'. With the top bits
 * cleared no octet carries into the next; an octet is >= 'A' when adding
 * 128 - 'A' sets its top bit and > 'Z' when adding 127 - 'Z' does. */
static uint64_t upper8(uint64_t x) {
  const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
  uint64_t y = x & ~high;
  return (y + ones * (128 - 'A')) & ~(y + ones * (127 - 'Z')) & ~x & high;
}

/* 1 if |p| has no 'A'..'Z': whole words, the tail as an overlapping word. */
static int lowercase_ok(const char *p, size_t n) {
  uint64_t x;
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      memcpy(&x, p + i, 8);
      if (upper8(x)) return 0;
    }
    if (i == n) return 1;
    memcpy(&x, p + n - 8, 8);
    return upper8(x) == 0;
  }
  if (n >= 4) {
    uint32_t lo, hi;
    memcpy(&lo, p, 4);
    memcpy(&hi, p + n - 4, 4);
    return upper8((uint64_t)lo | (uint64_t)hi << 32) == 0;
  }
  for (size_t i = 0; i < n; i++)
    if (p[i] >= 'A' && p[i] <= 'Z') return 0;
  return 1;
}

size_t h2_fields_bytes_(const h2_hpack_field *f, size_t n) {
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) bytes += f[i].name_len + f[i].value_len;
  return bytes;
}

void h2_fields_copy_(h2_hpack_field *out, char *bytes, const h2_hpack_field *f, size_t n) {
  for (size_t i = 0; i < n; i++) {
    out[i] = f[i];
    memcpy(bytes, f[i].name, f[i].name_len);
    out[i].name = bytes;
    bytes += f[i].name_len;
    if (f[i].value_len) memcpy(bytes, f[i].value, f[i].value_len);
    out[i].value = bytes;
    bytes += f[i].value_len;
  }
}

int h2_fields_prepare_(h2_hpack_field *out, size_t cap, char *arena, size_t arena_cap,
                       const h2_header *hdrs, size_t n) {
  if (n > cap) return h2_api_fail("too many header fields (%zu, at most %zu)", n, cap);
  size_t used = 0, k = 0;
  /* pseudo-headers first, in their given order, then the rest; one pass
   * when they already come first (the usual case) */
  int ordered = 1, seen_regular = 0;
  for (size_t i = 0; i < n && ordered; i++) {
    if (!hdrs[i].name || hdrs[i].name_len == 0) return h2_api_fail("empty header name");
    if (hdrs[i].name[0] != ':') seen_regular = 1;
    else if (seen_regular) ordered = 0;
  }
  for (int pass = ordered ? 1 : 0; pass < 2; pass++) {
    for (size_t i = 0; i < n; i++) {
      const h2_header *h = &hdrs[i];
      if (!h->name || h->name_len == 0) return h2_api_fail("empty header name");
      int pseudo = h->name[0] == ':';
      if (!ordered && pseudo != (pass == 0)) continue;
      out[k] = *h;
      if (!lowercase_ok(h->name, h->name_len)) {
        if (used + h->name_len > arena_cap) return H2_ERR_BUF_TOO_SMALL;
        char *dst = arena + used;
        for (size_t j = 0; j < h->name_len; j++) {
          char c = h->name[j];
          dst[j] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        out[k].name = dst;
        used += h->name_len;
      }
      k++;
    }
  }
  return (int)k;
}

int h2_check_send_size_(h2_session *s, const h2_hpack_field *f, size_t n) {
  size_t limit = s->max_send_header_block_length;
  size_t peer = s->conn ? h2_conn_remote_settings(s->conn)->max_header_list_size : H2_CONN_UNLIMITED;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += f[i].name_len + f[i].value_len + 32;
  if (total <= limit && (peer == H2_CONN_UNLIMITED || total <= peer)) return 0;
  if (total > limit)
    h2_api_fail("header block of %zu bytes exceeds maxSendHeaderBlockLength %zu", total, limit);
  else
    h2_api_fail("header block of %zu bytes exceeds the peer's SETTINGS_MAX_HEADER_LIST_SIZE %zu",
                total, peer);
  return H2_ERR_LIMIT;
}

void h2_stream_frame_error_(h2_stream *st, unsigned type, int err) {
  h2_session *s = st->s;
  uint32_t id = st->id;
  st->outstanding++; /* alive through the callbacks, even if one closes it */
  if (!st->closed && st->cbs.on_frame_error) st->cbs.on_frame_error(st, type, err, id, st->user);
  if (id && s->cbs->on_frame_error) s->cbs->on_frame_error(s, type, err, id, s->user);
  h2_stream_close(st, 0x2 /* INTERNAL_ERROR */);
  h2_stream_unhold_(st);
}

int h2_stream_respond(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags) {
  if (st->closed || st->headers_sent || !st->s->conn) return H2_ERR_STATE;
  if (!st->s->is_server) return H2_ERR_STATE;
  h2_hpack_field f[MAX_FIELDS + 1];
  char arena[ARENA];
  int m = h2_fields_prepare_(f + 1, MAX_FIELDS, arena, sizeof arena, hdrs, n);
  if (m < 0) return m;
  h2_hpack_field *fields = f + 1;
  size_t count = (size_t)m;
  if (count == 0 || fields[0].name_len != 7 || memcmp(fields[0].name, ":status", 7) != 0) {
    f[0] = (h2_hpack_field){":status", 7, "200", 3, 0}; /* Node: 200 implied */
    fields = f;
    count++;
  }
  int end = (flags & H2_END_STREAM) != 0;
  int rc = h2_check_send_size_(st->s, fields, count);
  if (rc) {
    h2_stream_frame_error_(st, H2_FRAME_HEADERS, rc);
    return rc;
  }
  h2_sent_block_ *kept = NULL;
  if (st->s->keep_sent && (rc = h2_sent_prepare_(st, fields, count, &kept)) != 0) return rc;
  rc = h2_conn_submit_response(st->s->conn, st->id, fields, count, end);
  if (rc) {
    free(kept);
    if (rc == H2_ERR_LIMIT) h2_stream_frame_error_(st, H2_FRAME_HEADERS, rc);
    return rc;
  }
  if (kept) h2_sent_attach_(st, H2_SENT_HEADERS, kept);
  st->headers_sent = 1;
  st->wait_trailers = (flags & H2_WAIT_FOR_TRAILERS) != 0;
  if (end) {
    st->local_ended = 1;
    st->end_pending = 1;
  }
  st->last_activity = h2_session_now_(st->s);
  h2_session_schedule_flush_(st->s);
  return 0;
}

int h2_stream_additional_headers(h2_stream *st, const h2_header *hdrs, size_t n) {
  if (st->closed || st->headers_sent || !st->s->conn) return H2_ERR_STATE;
  h2_hpack_field f[MAX_FIELDS];
  char arena[ARENA];
  int m = h2_fields_prepare_(f, MAX_FIELDS, arena, sizeof arena, hdrs, n);
  if (m < 0) return m;
  int rc = h2_check_send_size_(st->s, f, (size_t)m);
  if (rc) {
    h2_stream_frame_error_(st, H2_FRAME_HEADERS, rc);
    return rc;
  }
  h2_sent_block_ *kept = NULL;
  if (st->s->keep_sent && (rc = h2_sent_prepare_(st, f, (size_t)m, &kept)) != 0) return rc;
  rc = h2_conn_submit_info(st->s->conn, st->id, f, (size_t)m);
  if (rc == 0) {
    if (kept) h2_sent_attach_(st, H2_SENT_INFO, kept);
    h2_session_schedule_flush_(st->s);
  } else {
    free(kept);
    if (rc == H2_ERR_LIMIT) h2_stream_frame_error_(st, H2_FRAME_HEADERS, rc);
  }
  return rc;
}

void h2_stream_close(h2_stream *st, uint32_t code) {
  if (st->closed || st->rst_sent || !st->s->conn) return;
  st->rst_sent = 1;
  if (!st->rst_code) st->rst_code = code;
  drop_held(st);
  if (!st->id) { /* never opened: nothing to send */
    h2_stream_on_closed_(st, code);
    return;
  }
  if (h2_conn_submit_rst(st->s->conn, st->id, code) == H2_ERR_NOT_FOUND)
    h2_stream_on_closed_(st, code);
  else
    h2_session_schedule_flush_(st->s);
}

int h2_stream_priority(h2_stream *st, const h2_priority *prio) {
  if (st->closed || !st->s->conn) return H2_ERR_STATE;
  h2_frame_prio p;
  p.dependency = prio->parent;
  p.weight = prio->weight ? prio->weight : 16;
  p.exclusive = prio->exclusive ? 1 : 0;
  if (p.weight > 256 || (st->id && p.dependency == st->id))
    return h2_api_fail("priority: weight must be 1..256 and parent not the stream itself");
  if (st->pend) { /* not opened yet: it opens with this priority */
    h2_stream_set_pending_prio_(st, &p);
    st->weight = p.weight;
    return 0;
  }
  if (prio->silent) { /* our tree (and send scheduler) only, nothing sent */
    int rc = h2_conn_set_priority(st->s->conn, st->id, &p);
    if (rc == 0) st->weight = p.weight;
    return rc;
  }
  int rc = h2_conn_submit_priority(st->s->conn, st->id, &p);
  if (rc == 0) {
    st->weight = p.weight;
    h2_session_schedule_flush_(st->s);
  }
  return rc;
}

int h2_stream_push(h2_stream *st, h2_stream **out, const h2_header *hdrs, size_t n) {
  if (st->closed || !st->s->conn || !st->s->is_server || st->is_push) return H2_ERR_STATE;
  h2_hpack_field f[MAX_FIELDS];
  char arena[ARENA];
  int m = h2_fields_prepare_(f, MAX_FIELDS, arena, sizeof arena, hdrs, n);
  if (m < 0) return m;
  /* Refused here, before the promised stream exists: nothing reported,
   * |st| untouched. */
  int rc = h2_check_send_size_(st->s, f, (size_t)m);
  if (rc) return rc;
  h2_stream *ns = h2_stream_new_(st->s, 0);
  if (!ns) return H2_ERR_NOMEM;
  ns->is_push = 1;
  ns->remote_ended = 1;
  int32_t id = h2_conn_submit_push_promise(st->s->conn, st->id, f, (size_t)m, ns);
  if (id < 0) {
    h2_stream_discard_(ns);
    return id;
  }
  ns->id = (uint32_t)id;
  *out = ns;
  h2_session_schedule_flush_(st->s);
  return 0;
}

/* ---- pull sources ----------------------------------------------------------- */

void h2_stream_pump_source_(h2_stream *st) {
  if (!st->src || st->closed || st->src_eof || st->src_blocked || !st->s->conn) return;
  while (st->src_inflight < SRC_CHUNKS && !st->src_eof) {
    uint8_t *buf = st->src_bufs + (size_t)(st->src_next % SRC_CHUNKS) * SRC_CHUNK;
    int eof = 0;
    int n = st->src(st, buf, SRC_CHUNK, &eof, st->src_user);
    if (n == H2_ERR_WOULD_BLOCK) {
      st->src_blocked = 1;
      return;
    }
    if (n < 0) {
      st->src_eof = 1; /* the source is not read again */
      /* The reset may close |st| at once (a stream the engine no longer
       * knows): hold it so on_error still sees it, on_close comes after. */
      st->outstanding++;
      h2_stream_close(st, 0x2 /* INTERNAL_ERROR */);
      if (st->cbs.on_error) st->cbs.on_error(st, n, st->user);
      st->outstanding--;
      if (st->closed && st->close_pending && st->outstanding == 0) deliver_close(st);
      return;
    }
    if (eof) st->src_eof = 1;
    if (n == 0 && !eof) return;
    h2_write_rec *w = write_new(st);
    if (!w) {
      h2_stream_close(st, 0x2);
      return;
    }
    w->st = st;
    w->data = buf;
    w->len = (size_t)n;
    w->user = st->src_bufs; /* marks a source chunk (see h2_stream_released_) */
    if (eof && !st->wait_trailers) {
      w->flags = H2_CONN_DATA_END_STREAM;
      st->local_ended = 1;
      st->end_pending = 1;
    }
    st->src_next++;
    st->src_inflight++;
    int rc = queue_write(st, w);
    if (rc) {
      st->src_inflight--;
      h2_stream_close(st, 0x2);
      return;
    }
    if (eof && st->wait_trailers) {
      st->end_pending = 1;
      fire_want_trailers(st);
    }
  }
}

int h2_stream_set_source(h2_stream *st, h2_source_read_fn read, void *user) {
  return h2_stream_set_source_ex(st, read, NULL, user);
}

int h2_stream_set_source_ex(h2_stream *st, h2_source_read_fn read, void (*release)(void *user),
                            void *user) {
  if (st->closed || st->src || st->local_ended || st->end_pending) return H2_ERR_STATE;
  if (st->s->is_server && !st->headers_sent) return H2_ERR_STATE;
  st->src_bufs = malloc((size_t)SRC_CHUNK * SRC_CHUNKS);
  if (!st->src_bufs) return H2_ERR_NOMEM;
  st->src = read;
  st->src_user = user;
  st->src_release = release;
  h2_stream_pump_source_(st);
  return 0;
}

void h2_stream_resume_source(h2_stream *st) {
  st->src_blocked = 0;
  h2_stream_pump_source_(st);
}

/* ---- flow control pacing ------------------------------------------------------ */

void h2_stream_pause(h2_stream *st) { st->paused = 1; }
void h2_stream_resume(h2_stream *st) { st->paused = 0; }

void h2_stream_consume(h2_stream *st, size_t n) {
  if (st->closed || !st->s->conn) return;
  h2_conn_consume(st->s->conn, st->id, n);
  h2_session_schedule_flush_(st->s);
}

void h2_stream_set_timeout(h2_stream *st, uint64_t ms) {
  if (st->closed) return;
  if (!st->timeout_ms && ms) st->s->num_timed_streams++;
  if (st->timeout_ms && !ms) st->s->num_timed_streams--;
  st->timeout_ms = ms;
  st->last_activity = h2_session_now_(st->s);
  h2_session_schedule_flush_(st->s); /* re-arms the session timer */
}

/* ---- queries ----------------------------------------------------------------------- */

void h2_stream_on(h2_stream *st, const h2_stream_callbacks *cbs, void *user) {
  if (cbs) st->cbs = *cbs;
  else memset(&st->cbs, 0, sizeof st->cbs);
  st->user = user;
}

void h2_stream_get_state(const h2_stream *st, h2_stream_status *out) {
  memset(out, 0, sizeof *out);
  out->local_close = st->local_ended;
  out->remote_close = st->remote_ended;
  out->weight = st->weight ? st->weight : 16;
  if (st->closed || !st->s->conn) {
    out->state = H2_STREAM_STATE_CLOSED;
    return;
  }
  out->state = (int)h2_conn_stream_state(st->s->conn, st->id);
  out->local_window_size = h2_conn_window(st->s->conn, st->id, H2_CONN_WINDOW_RECV);
  h2_prio_info pi;
  if (st->id && h2_conn_priority_info(st->s->conn, st->id, &pi) == 0) {
    out->weight = pi.weight;
    out->sum_dependency_weight = pi.sum_child_weight;
  }
}

uint32_t h2_stream_id(const h2_stream *st) { return st->id; }
size_t h2_stream_buffer_size(const h2_stream *st) { return st->buffered; }
int h2_stream_headers_sent(const h2_stream *st) { return st->headers_sent; }
int h2_stream_push_allowed(const h2_stream *st) {
  return st->s->conn && st->s->is_server && h2_conn_remote_settings(st->s->conn)->enable_push;
}
int h2_stream_end_after_headers(const h2_stream *st) { return st->end_after_headers; }
int h2_stream_aborted(const h2_stream *st) { return st->aborted; }
uint32_t h2_stream_rst_code(const h2_stream *st) { return st->rst_code; }
h2_session *h2_stream_session(const h2_stream *st) { return st->s; }
void *h2_stream_user(const h2_stream *st) { return st->user; }
void h2_stream_set_user(h2_stream *st, void *user) { st->user = user; }
