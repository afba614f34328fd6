/* fuzz_session.c: the session/stream API (api/, h2.h) of a transport-less
 * session, server or client, fed arbitrary peer bytes interleaved with
 * application calls, so the API layer's stream lifetimes (callbacks, write
 * records, pull sources, pushes, resets, destroy) meet hostile input.
 *
 *   input = config byte, then ops
 *   op    = code byte (modulo OP_COUNT), then its argument bytes (below)
 *
 * Config bits: 0x01 server (else client), 0x02 metrics on, 0x04 tight
 * limits (few streams, small windows and memory), 0x08 automatic response
 * in on_stream (server), 0x10 frame trace on, 0x20 sent headers kept,
 * 0x40 (server) requests go through Node's compatibility API (h2_compat.h):
 * the stream ops then act on the h2_req / h2_res of the request, and a
 * request's on_close must come after its response's; 0x80 the transport
 * counts as TLS (h2_options.encrypted: a client keeps an origin set).
 *
 * Checked (violations trap): a stream's on_close comes once and nothing
 * comes after it; every write with a callback gets it exactly once; a
 * pull source's release runs once; the session's on_close comes at most
 * once and nothing comes after it; all memory is back at the end (ASan's
 * leak check). Seeds: fuzz/gen_session_corpus.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2.h"
#include "h2_compat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
  OP_FEED,      /* n, then n peer bytes (fewer if the input ends) */
  OP_DRAIN,     /* everything pending is "written" */
  OP_PARTIAL,   /* k: 1 + k*13 bytes of the pending output are written */
  OP_TICK,      /* a: the clock moves a*8 ms, h2_session_tick */
  OP_RESPOND,   /* slot, flags: h2_stream_respond (bit0 end, bit1 trailers, bit2 big header) */
  OP_WRITE,     /* slot, n: n*97 bytes (bit7 of n: copied) */
  OP_END,       /* slot: h2_stream_end */
  OP_TRAILERS,  /* slot */
  OP_RESET,     /* slot, code */
  OP_PING,
  OP_SETTINGS,  /* a: one setting */
  OP_GOAWAY,    /* code */
  OP_CLOSE,     /* h2_session_close */
  OP_DESTROY,   /* code */
  OP_REQUEST,   /* flags (client): bit0 end, bit1 body, bit2 priority */
  OP_PUSH,      /* slot (server) */
  OP_INFO,      /* slot: 103 */
  OP_FLOW,      /* slot, a: pause / resume / consume a*64 */
  OP_TIMEOUT,   /* slot, a: stream timeout a ms (session's with slot 255) */
  OP_PRIORITY,  /* slot, a, b */
  OP_SOURCE,    /* slot, n: pull source of n*1021 bytes */
  OP_EOF,       /* h2_session_transport_closed */
  OP_END_WITH,  /* slot, n */
  OP_COUNT
};

#define MAX_SLOTS 64

typedef struct srec {
  h2_stream *st;
  h2_req *req; /* compat mode */
  h2_res *res;
  int res_closed;
  int closed;
  int writes_pending; /* writes with a callback not yet called back */
  int src_left, src_released, has_src;
  struct srec *next_all;
} srec;

typedef struct fz {
  h2_session *s;
  int is_server, autorespond, compat, session_closed, destroyed_called;
  uint64_t now;
  srec *slots[MAX_SLOTS];
  int nslots;
  srec *all; /* every record, freed at the end */
} fz;

static fz F;
static uint8_t body[65536];

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

/* ---- stream records ---- */

static srec *new_rec(h2_stream *st) {
  srec *r = calloc(1, sizeof *r);
  if (!r) abort();
  r->st = st;
  r->next_all = F.all;
  F.all = r;
  if (F.nslots < MAX_SLOTS) F.slots[F.nslots++] = r;
  return r;
}

static srec *pick(uint8_t a) {
  for (int i = 0; i < F.nslots; i++) {
    srec *r = F.slots[(a + i) % F.nslots];
    if (!r->closed) return r;
  }
  return NULL;
}

static void drop_slot(srec *r) {
  for (int i = 0; i < F.nslots; i++)
    if (F.slots[i] == r) {
      F.slots[i] = F.slots[--F.nslots];
      return;
    }
}

static srec *live(void *u) {
  srec *r = u;
  CHECK(r && !r->closed);
  CHECK(!F.session_closed);
  return r;
}

/* ---- stream callbacks ---- */

static void cb_response(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f;
  live(u);
  for (size_t i = 0; i < n; i++) CHECK(h[i].name_len > 0);
}
static void cb_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st;
  live(u);
  if (n) CHECK(d != NULL);
}
static void cb_end(h2_stream *st, void *u) { (void)st; live(u); }
static void cb_want_trailers(h2_stream *st, void *u) {
  live(u);
  h2_header t[] = {H2_HDR("x-t", "1")};
  (void)h2_stream_send_trailers(st, t, 1);
}
static void cb_drain(h2_stream *st, void *u) { (void)st; live(u); }
static void cb_aborted(h2_stream *st, void *u) { (void)st; live(u); }
static void cb_error(h2_stream *st, int err, void *u) { (void)st; (void)err; live(u); }
static void cb_timeout(h2_stream *st, void *u) {
  live(u);
  h2_stream_close(st, 0x8);
}
static void cb_close(h2_stream *st, uint32_t code, void *u) {
  (void)code;
  srec *r = live(u);
  CHECK(h2_stream_session(st) == F.s);
  h2_stream_metrics m;
  (void)h2_stream_get_metrics(st, &m);
  size_t n;
  const h2_header *h = h2_stream_sent_headers(st, &n);
  for (size_t i = 0; i < n; i++) CHECK(h[i].name_len > 0 && h[i].name[0] != 0);
  for (size_t k = 0; k < h2_stream_sent_info_count(st); k++)
    CHECK(h2_stream_sent_info_headers(st, k, &n) != NULL && n > 0);
  (void)h2_stream_sent_trailers(st, &n);
  r->closed = 1;
  drop_slot(r);
}

static const h2_stream_callbacks scbs = {
  .on_response = cb_response, .on_headers = cb_response, .on_trailers = cb_response,
  .on_push = cb_response, .on_data = cb_data, .on_end = cb_end,
  .on_want_trailers = cb_want_trailers, .on_drain = cb_drain, .on_aborted = cb_aborted,
  .on_error = cb_error, .on_timeout = cb_timeout, .on_close = cb_close,
};

static void write_done(h2_stream *st, int err, void *u) {
  (void)st; (void)err;
  srec *r = u;
  CHECK(r->writes_pending > 0);
  r->writes_pending--;
}

static int src_read(h2_stream *st, uint8_t *buf, size_t cap, int *eof, void *u) {
  (void)st;
  srec *r = u;
  CHECK(!r->src_released);
  size_t n = (size_t)r->src_left < cap ? (size_t)r->src_left : cap;
  memset(buf, 'z', n);
  r->src_left -= (int)n;
  if (r->src_left == 0) *eof = 1;
  return (int)n;
}
static void src_release(void *u) {
  srec *r = u;
  CHECK(!r->src_released);
  r->src_released = 1;
}

/* ---- compat callbacks (h2_req / h2_res) ---- */

static void rq_data(h2_req *q, const uint8_t *d, size_t n, void *u) {
  (void)q; (void)d; (void)n;
  live(u);
}
static void rq_end(h2_req *q, void *u) {
  (void)q;
  live(u);
}
static void rq_close(h2_req *q, void *u) {
  (void)q;
  srec *r = live(u);
  CHECK(r->res_closed); /* the response closes first */
  r->closed = 1;
  drop_slot(r);
}
static const h2_req_callbacks qcbs = {.on_data = rq_data, .on_end = rq_end, .on_aborted = rq_end,
                                      .on_close = rq_close};
static void rs_event(h2_res *res, void *u) {
  (void)res;
  srec *r = live(u);
  CHECK(!r->res_closed);
}
static void rs_close(h2_res *res, void *u) {
  srec *r = live(u);
  CHECK(!r->res_closed);
  CHECK(h2_res_stream(res) != NULL);
  r->res_closed = 1;
  if (!r->req) { /* a push response: nothing follows */
    r->closed = 1;
    drop_slot(r);
  }
}
static const h2_res_callbacks rcbs = {.on_drain = rs_event, .on_finish = rs_event,
                                      .on_close = rs_close};

static srec *compat_rec(h2_req *q, h2_res *res) {
  srec *r = new_rec(h2_res_stream(res));
  r->req = q;
  r->res = res;
  h2_res_on(res, &rcbs, r);
  if (q) h2_req_on(q, &qcbs, r);
  return r;
}

static void on_request(h2_req *q, h2_res *res, void *u) {
  (void)u;
  CHECK(!F.session_closed);
  CHECK(h2_req_method(q) != NULL && h2_req_url(q) != NULL);
  compat_rec(q, res);
  if (F.autorespond) {
    h2_res_set_header(res, "content-type", "text/plain");
    h2_res_end(res, body, 50);
  }
}

/* compat_op runs |op| on a compat record; returns 0 if |op| has no compat
 * form (the caller then skips it). */
static int compat_op(int op, srec *r, uint8_t a, uint8_t b) {
  switch (op) {
    case OP_RESPOND:
      if (b & 1) {
        h2_header h[] = {H2_HDR("x-head", "1")};
        (void)h2_res_write_head(r->res, 200 + (b >> 1) % 400, h, 1);
      } else {
        (void)h2_res_set_status(r->res, 100 + b);
        (void)h2_res_set_header(r->res, "x-set", (b & 2) ? "a" : "b");
        (void)h2_res_append_header(r->res, "x-set", "c");
        (void)h2_res_remove_header(r->res, (b & 4) ? "x-set" : "x-none");
      }
      return 1;
    case OP_WRITE: {
      size_t len = (size_t)(b & 0x7f) * 97;
      if (b & 0x80) {
        (void)h2_res_write(r->res, body, len);
      } else {
        r->writes_pending++;
        if (h2_res_write_nocopy(r->res, body, len, write_done, r) < 0) r->writes_pending--;
      }
      return 1;
    }
    case OP_END:
    case OP_END_WITH: (void)h2_res_end(r->res, body, (size_t)b * 61); return 1;
    case OP_TRAILERS: {
      h2_header t[] = {H2_HDR("x-trailer", "t")};
      (void)h2_res_add_trailers(r->res, t, 1);
      return 1;
    }
    case OP_RESET:
      if (r->req) h2_req_destroy(r->req, b % 14);
      else h2_stream_close(r->st, b % 14);
      return 1;
    case OP_INFO: (void)h2_res_write_continue(r->res); return 1;
    case OP_PUSH: {
      h2_header h[] = {H2_HDR(":path", "/pushed.css")};
      h2_res *pr;
      if (h2_res_create_push_response(r->res, h, 1, &pr) == 0) compat_rec(NULL, pr);
      return 1;
    }
    case OP_TIMEOUT: h2_res_set_timeout(r->res, b); return 1;
    default: (void)a; return 0;
  }
}

/* ---- session callbacks ---- */

static void respond(h2_stream *st, unsigned flags) {
  h2_header h[] = {H2_HDR(":status", "200"), H2_HDR("content-type", "text/plain"),
                   {"x-big", 5, (const char *)body, 3000, 0}};
  size_t n = (flags & 4) ? 3 : 2;
  unsigned f = (flags & 1) ? H2_END_STREAM : (flags & 2) ? H2_WAIT_FOR_TRAILERS : 0;
  (void)h2_stream_respond(st, h, n, f);
}

static void on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n, unsigned flags,
                      void *u) {
  (void)u;
  CHECK(s == F.s && !F.session_closed);
  if (F.compat && F.is_server) {
    (void)h2_compat_dispatch(st, h, n, flags, on_request, NULL);
    return;
  }
  srec *r = new_rec(st);
  h2_stream_on(st, &scbs, r);
  if (F.autorespond && F.is_server) {
    respond(st, 0);
    (void)h2_stream_end_with(st, body, 100, NULL, NULL);
  }
}
static void on_session_close(h2_session *s, void *u) {
  (void)s; (void)u;
  CHECK(!F.session_closed);
  F.session_closed = 1;
}
static void on_any_error(h2_session *s, int err, const char *msg, void *u) {
  (void)s; (void)err; (void)u;
  CHECK(msg != NULL);
  CHECK(!F.session_closed);
}
static void on_ping_done(h2_session *s, int err, double rtt, const uint8_t p[8], void *u) {
  (void)s; (void)err; (void)rtt; (void)p; (void)u;
}

/* ---- the run ---- */

static void drain(size_t max) {
  for (int i = 0; i < 64 && max > 0; i++) {
    size_t len;
    const uint8_t *p = h2_session_pending(F.s, &len);
    if (!p || !len) return;
    if (len > max) len = max;
    h2_session_consumed(F.s, len);
    max -= len;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  memset(&F, 0, sizeof F);
  uint8_t cfg = data[0];
  F.is_server = cfg & 1;
  F.autorespond = (cfg & 8) != 0;
  F.compat = (cfg & 0x40) != 0;
  F.now = 1000;
  h2_options o;
  h2_options_default(&o);
  o.enable_metrics = (cfg & 2) != 0;
  o.keep_sent_headers = (cfg & 0x20) != 0;
  o.encrypted = (cfg & 0x80) != 0; /* a client honours ORIGIN on TLS only */
  if (cfg & 4) {
    o.has_settings = 1;
    h2_settings_default(&o.settings);
    o.settings.max_concurrent_streams = 4;
    o.settings.initial_window_size = 1024;
    o.max_session_memory_mb = 1;
    o.max_header_list_pairs = 16;
    o.stream_high_water_mark = 4096;
  }
  h2_session_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.on_stream = on_stream;
  cbs.on_close = on_session_close;
  cbs.on_error = on_any_error;
  if (h2_session_new(&F.s, F.is_server, &o, &cbs, NULL, NULL) != 0) return 0;
  if (cfg & 0x10) h2_session_set_frame_trace(F.s, NULL, NULL);
  size_t i = 1;
#define ARG() (i < size ? data[i++] : 0)
  while (i < size && !F.session_closed) {
    uint8_t op = data[i++] % OP_COUNT;
    srec *r;
    if (F.compat && F.is_server && op >= OP_RESPOND && op != OP_PING && op != OP_SETTINGS &&
        op != OP_GOAWAY && op != OP_CLOSE && op != OP_DESTROY && op != OP_REQUEST &&
        op != OP_EOF) {
      uint8_t a = ARG(), b = ARG();
      if ((r = pick(a)) && r->res && !r->res_closed) (void)compat_op(op, r, a, b);
      continue;
    }
    switch (op) {
      case OP_FEED: {
        size_t n = ARG();
        if (n == 0) n = 256;
        if (n > size - i) n = size - i;
        (void)h2_session_feed(F.s, data + i, n, F.now);
        i += n;
        break;
      }
      case OP_DRAIN: drain(SIZE_MAX); break;
      case OP_PARTIAL: drain(1 + (size_t)ARG() * 13); break;
      case OP_TICK:
        F.now += (uint64_t)ARG() * 8;
        h2_session_tick(F.s, F.now);
        break;
      case OP_RESPOND: {
        uint8_t a = ARG(), b = ARG();
        if ((r = pick(a))) respond(r->st, b);
        break;
      }
      case OP_WRITE: {
        uint8_t a = ARG(), n = ARG();
        if (!(r = pick(a))) break;
        size_t len = (size_t)(n & 0x7f) * 97;
        if (n & 0x80) {
          (void)h2_stream_write_copy(r->st, body, len);
        } else {
          r->writes_pending++;
          if (h2_stream_write(r->st, body, len, write_done, r) < 0) r->writes_pending--;
        }
        break;
      }
      case OP_END:
        if ((r = pick(ARG()))) (void)h2_stream_end(r->st);
        break;
      case OP_TRAILERS: {
        h2_header t[] = {H2_HDR("x-checksum", "abc")};
        if ((r = pick(ARG()))) (void)h2_stream_send_trailers(r->st, t, 1);
        break;
      }
      case OP_RESET: {
        uint8_t a = ARG(), code = ARG();
        if ((r = pick(a))) h2_stream_close(r->st, code % 14);
        break;
      }
      case OP_PING: (void)h2_session_ping(F.s, NULL, on_ping_done, NULL); break;
      case OP_SETTINGS: {
        uint8_t a = ARG();
        h2_settings v;
        h2_settings_default(&v);
        if (a & 1) v.initial_window_size = (uint32_t)a << 8;
        if (a & 2) v.max_concurrent_streams = a >> 2;
        if (a & 4) v.header_table_size = (uint32_t)a * 16;
        if (a & 8) v.enable_push = 0;
        (void)h2_session_settings(F.s, &v);
        break;
      }
      case OP_GOAWAY: (void)h2_session_goaway(F.s, ARG() % 14, 0, NULL, 0); break;
      case OP_CLOSE: h2_session_close(F.s); break;
      case OP_DESTROY: h2_session_destroy(F.s, ARG() % 14); break;
      case OP_REQUEST: {
        uint8_t f = ARG();
        if (F.is_server) break;
        h2_header h[] = {H2_HDR(":method", "POST"), H2_HDR(":path", "/x"),
                         H2_HDR(":scheme", "https"), H2_HDR(":authority", "a.test")};
        h2_stream *st;
        h2_priority pr;
        memset(&pr, 0, sizeof pr);
        pr.weight = f;
        pr.exclusive = (f & 8) != 0;
        if (h2_session_request(F.s, &st, h, 4, (f & 1) ? H2_END_STREAM : 0,
                               (f & 4) ? &pr : NULL) == 0) {
          srec *nr = new_rec(st);
          h2_stream_on(st, &scbs, nr);
          if ((f & 3) == 2) (void)h2_stream_end_with(st, body, 500, NULL, NULL);
        }
        break;
      }
      case OP_PUSH: {
        h2_header h[] = {H2_HDR(":method", "GET"), H2_HDR(":path", "/pushed"),
                         H2_HDR(":scheme", "https"), H2_HDR(":authority", "a.test")};
        h2_stream *ps;
        if ((r = pick(ARG())) && h2_stream_push(r->st, &ps, h, 4) == 0) {
          srec *nr = new_rec(ps);
          h2_stream_on(ps, &scbs, nr);
        }
        break;
      }
      case OP_INFO: {
        h2_header h[] = {H2_HDR(":status", "103"), H2_HDR("link", "</a>")};
        if ((r = pick(ARG()))) (void)h2_stream_additional_headers(r->st, h, 2);
        break;
      }
      case OP_FLOW: {
        uint8_t a = ARG(), b = ARG();
        if (!(r = pick(a))) break;
        if (b % 3 == 0) h2_stream_pause(r->st);
        else if (b % 3 == 1) h2_stream_resume(r->st);
        else h2_stream_consume(r->st, (size_t)b * 64);
        break;
      }
      case OP_TIMEOUT: {
        uint8_t a = ARG(), b = ARG();
        if (a == 255) h2_session_set_timeout(F.s, b);
        else if ((r = pick(a))) h2_stream_set_timeout(r->st, b);
        break;
      }
      case OP_PRIORITY: {
        uint8_t a = ARG(), b = ARG(), c = ARG();
        if (!(r = pick(a))) break;
        h2_priority p;
        memset(&p, 0, sizeof p);
        p.parent = b;
        p.weight = c;
        p.exclusive = b & 1;
        p.silent = c & 1;
        (void)h2_stream_priority(r->st, &p);
        break;
      }
      case OP_SOURCE: {
        uint8_t a = ARG(), n = ARG();
        if (!(r = pick(a)) || r->has_src) break;
        r->src_left = n * 1021;
        if (h2_stream_set_source_ex(r->st, src_read, src_release, r) == 0) r->has_src = 1;
        break;
      }
      case OP_EOF: h2_session_transport_closed(F.s, ARG() & 1 ? H2_ERR_IO : 0); break;
      case OP_END_WITH: {
        uint8_t a = ARG(), n = ARG();
        if ((r = pick(a))) (void)h2_stream_end_with(r->st, body, (size_t)n * 61, NULL, NULL);
        break;
      }
    }
    h2_session_state st;
    h2_session_get_state(F.s, &st);
    h2_session_metrics m;
    (void)h2_session_get_metrics(F.s, &m);
  }
#undef ARG
  h2_session_free(F.s);
  /* Every stream closed exactly once, every callback write called back,
   * every source released. */
  for (srec *r = F.all, *next; r; r = next) {
    next = r->next_all;
    CHECK(r->closed);
    CHECK(r->writes_pending == 0);
    CHECK(!r->has_src || r->src_released);
    free(r);
  }
  return 0;
}
