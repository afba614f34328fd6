/* test_api.c: the public session/stream API driven in memory: a client
 * session and a server session created with h2_session_new (the
 * transport-agnostic mode) exchange bytes through h2_session_pending /
 * h2_session_consumed / h2_session_feed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2.h"
#include "api_pair.h"

typedef struct peer_log {
  int connects, streams, responses, infos, trailers, ends, closes, errors, pings, goaways;
  int local_settings, remote_settings, want_trailers, drains, aborted, session_closes;
  uint32_t last_rst;
  uint32_t goaway_code;
  size_t body_len;
  uint8_t *body;
  int status;
  double rtt;
  int ping_err, ping_done;
  uint32_t remote_max_streams;
  h2_stream *last_stream;
  char last_header_value[64];
} peer_log;

typedef struct pair {
  h2_session *c, *s;
  peer_log cl, sl;
  uint64_t now;
  /* server behaviour */
  int server_mode; /* 0 respond 200 + "hello" + trailers, 1 echo body length, 2 1xx then 204 */
} pair;

static pair *g; /* the pair the callbacks belong to */

/* Moves bytes both ways until neither side has anything to send. */
static void pump(pair *p) {
  api_pump how = {.now = p->now};
  api_pair_pump(p->c, p->s, &how);
}

static void append_body(peer_log *l, const uint8_t *d, size_t n) {
  l->body = realloc(l->body, l->body_len + n + 1);
  memcpy(l->body + l->body_len, d, n);
  l->body_len += n;
  l->body[l->body_len] = 0;
}

/* ---- client stream callbacks ---- */
static void c_response(h2_stream *st, const h2_header *h, size_t n, unsigned flags, void *u) {
  (void)st; (void)flags; (void)u;
  g->cl.responses++;
  const h2_header *s = h2_header_find(h, n, ":status");
  assert_non_null(s);
  g->cl.status = atoi((char[8]){s->value[0], s->value_len > 1 ? s->value[1] : 0,
                                s->value_len > 2 ? s->value[2] : 0, 0});
  const h2_header *x = h2_header_find(h, n, "x-test");
  if (x) snprintf(g->cl.last_header_value, sizeof g->cl.last_header_value, "%.*s", (int)x->value_len, x->value);
  if (x) { /* server_mode 0: long names arrive lower-cased */
    assert_non_null(h2_header_find(h, n, "x-lower-case-long-name"));
    assert_non_null(h2_header_find(h, n, "x-mixed-case-long-name"));
  }
}
static void c_info(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)h; (void)n; (void)f; (void)u;
  g->cl.infos++;
}
static void c_trailers(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f; (void)u;
  g->cl.trailers++;
  const h2_header *x = h2_header_find(h, n, "x-checksum");
  assert_non_null(x);
}
static void c_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st; (void)u;
  append_body(&g->cl, d, n);
}
static void c_end(h2_stream *st, void *u) { (void)st; (void)u; g->cl.ends++; }
static void c_close(h2_stream *st, uint32_t code, void *u) {
  (void)st; (void)u;
  g->cl.closes++;
  g->cl.last_rst = code;
}
static void c_aborted(h2_stream *st, void *u) { (void)st; (void)u; g->cl.aborted++; }
static void c_drain(h2_stream *st, void *u) { (void)st; (void)u; g->cl.drains++; }

static const h2_stream_callbacks client_stream_cbs = {
  .on_response = c_response, .on_headers = c_info, .on_trailers = c_trailers,
  .on_data = c_data, .on_end = c_end, .on_close = c_close, .on_aborted = c_aborted,
  .on_drain = c_drain,
};

/* ---- server stream callbacks ---- */
static const uint8_t hello[] = "hello, world";

static void s_want_trailers(h2_stream *st, void *u) {
  (void)u;
  g->sl.want_trailers++;
  h2_header t[] = {H2_HDR("x-checksum", "abc123")};
  assert_int_equal(h2_stream_send_trailers(st, t, 1), 0);
}
static void s_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st; (void)u;
  append_body(&g->sl, d, n);
}
static void s_end(h2_stream *st, void *u) {
  (void)u;
  g->sl.ends++;
  if (g->server_mode == 1) {
    static char reply[32];
    snprintf(reply, sizeof reply, "%zu", g->sl.body_len);
    h2_header h[] = {H2_HDR(":status", "200")};
    assert_int_equal(h2_stream_respond(st, h, 1, 0), 0);
    assert_int_equal(h2_stream_end_with(st, (const uint8_t *)reply, strlen(reply), NULL, NULL), 0);
    assert_int_equal(h2_stream_end_with(st, (const uint8_t *)"x", 1, NULL, NULL), H2_ERR_STATE);
    assert_true(h2_stream_write(st, (const uint8_t *)"x", 1, NULL, NULL) < 0);
  }
}
static void s_close(h2_stream *st, uint32_t code, void *u) {
  (void)st; (void)u;
  g->sl.closes++;
  g->sl.last_rst = code;
}
static void s_aborted(h2_stream *st, void *u) { (void)st; (void)u; g->sl.aborted++; }

static const h2_stream_callbacks server_stream_cbs = {
  .on_want_trailers = s_want_trailers, .on_data = s_data, .on_end = s_end,
  .on_close = s_close, .on_aborted = s_aborted,
};

/* ---- session callbacks ---- */
static void on_connect(h2_session *s, void *u) { (void)s; ((peer_log *)u)->connects++; }
static void on_error(h2_session *s, int err, const char *m, void *u) {
  (void)s; (void)err; (void)m;
  ((peer_log *)u)->errors++;
}
static void on_close(h2_session *s, void *u) { (void)s; ((peer_log *)u)->session_closes++; }
static void on_ping(h2_session *s, const uint8_t p[8], void *u) { (void)s; (void)p; ((peer_log *)u)->pings++; }
static void on_goaway(h2_session *s, uint32_t code, uint32_t last, const uint8_t *o, size_t ol, void *u) {
  (void)s; (void)last; (void)o; (void)ol;
  ((peer_log *)u)->goaways++;
  ((peer_log *)u)->goaway_code = code;
}
static void on_local(h2_session *s, const h2_settings *v, void *u) { (void)s; (void)v; ((peer_log *)u)->local_settings++; }
static void on_remote(h2_session *s, const h2_settings *v, void *u) {
  (void)s;
  ((peer_log *)u)->remote_settings++;
  ((peer_log *)u)->remote_max_streams = v->max_concurrent_streams;
}

static int server_timeouts;
static void s_on_timeout(h2_session *s, void *u) { (void)s; (void)u; server_timeouts++; }

static void server_on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n,
                             unsigned flags, void *u) {
  (void)s; (void)flags;
  peer_log *l = u;
  l->streams++;
  l->last_stream = st;
  assert_non_null(h2_header_find(h, n, ":method"));
  assert_non_null(h2_header_find(h, n, ":path"));
  h2_stream_on(st, &server_stream_cbs, NULL);
  if (g->server_mode == 0) {
    h2_header r[] = {H2_HDR(":status", "200"), H2_HDR("X-Test", "yes"),
                     H2_HDR("x-lower-case-long-name", "1"), H2_HDR("X-Mixed-Case-Long-NAME", "2")};
    assert_int_equal(h2_stream_respond(st, r, 4, H2_WAIT_FOR_TRAILERS), 0);
    /* With trailers to come: a write, then end (wantTrailers follows). */
    assert_int_equal(h2_stream_end_with(st, hello, sizeof hello - 1, NULL, NULL), 0);
  } else if (g->server_mode == 2) {
    h2_header i1[] = {H2_HDR(":status", "103"), H2_HDR("link", "</s.css>; rel=preload")};
    assert_int_equal(h2_stream_additional_headers(st, i1, 2), 0);
    /* :status given after a regular field: sent first anyway. */
    h2_header r[] = {H2_HDR("X-After", "1"), H2_HDR(":status", "204")};
    assert_int_equal(h2_stream_respond(st, r, 2, H2_END_STREAM), 0);
  }
}

static void make_pair_opts(pair *p, int mode, const h2_options *server_opts);
static void make_pair(pair *p, int mode) { make_pair_opts(p, mode, NULL); }

static void make_pair_opts(pair *p, int mode, const h2_options *server_opts) {
  memset(p, 0, sizeof *p);
  g = p;
  p->server_mode = mode;
  p->now = 1000;
  h2_session_callbacks cc = {.on_connect = on_connect, .on_error = on_error, .on_close = on_close,
                             .on_ping = on_ping, .on_goaway = on_goaway,
                             .on_local_settings = on_local, .on_remote_settings = on_remote};
  h2_session_callbacks sc = cc;
  sc.on_stream = server_on_stream;
  sc.on_timeout = s_on_timeout; /* the client has none: it closes on timeout */
  assert_int_equal(h2_session_new(&p->c, 0, NULL, &cc, &p->cl, NULL), 0);
  assert_int_equal(h2_session_new(&p->s, 1, server_opts, &sc, &p->sl, NULL), 0);
  assert_int_equal(p->cl.connects, 1);
  pump(p);
  assert_int_equal(p->cl.remote_settings, 1);
  assert_int_equal(p->sl.remote_settings, 1);
}

static void free_pair(pair *p) {
  h2_session_free(p->c);
  h2_session_free(p->s);
  free(p->cl.body);
  free(p->sl.body);
}

static void test_get_with_trailers(void **state) {
  (void)state;
  pair p;
  make_pair(&p, 0);
  h2_stream *st;
  h2_header h[] = {H2_HDR(":path", "/x"), H2_HDR("Accept", "*/*")}; /* upper case lowered */
  assert_int_equal(h2_session_request(p.c, &st, h, 2, H2_END_STREAM, NULL), 0);
  assert_int_equal(h2_stream_id(st), 1);
  h2_stream_on(st, &client_stream_cbs, NULL);
  pump(&p);
  assert_int_equal(p.sl.streams, 1);
  assert_int_equal(p.cl.responses, 1);
  assert_int_equal(p.cl.status, 200);
  assert_string_equal(p.cl.last_header_value, "yes");
  assert_int_equal(p.cl.body_len, sizeof hello - 1);
  assert_memory_equal(p.cl.body, hello, sizeof hello - 1);
  assert_int_equal(p.sl.want_trailers, 1);
  assert_int_equal(p.cl.trailers, 1);
  assert_int_equal(p.cl.ends, 1);
  assert_int_equal(p.cl.closes, 1);
  assert_int_equal(p.cl.last_rst, 0);
  assert_int_equal(p.sl.closes, 1);
  assert_int_equal(p.cl.errors + p.sl.errors, 0);
  free_pair(&p);
}

static void test_upload_backpressure(void **state) {
  (void)state;
  pair p;
  make_pair(&p, 1);
  size_t total = 1 << 20;
  uint8_t *big = malloc(total);
  for (size_t i = 0; i < total; i++) big[i] = (uint8_t)(i * 7);
  h2_stream *st;
  h2_header h[] = {H2_HDR(":method", "POST"), H2_HDR(":path", "/up")};
  assert_int_equal(h2_session_request(p.c, &st, h, 2, 0, NULL), 0);
  h2_stream_on(st, &client_stream_cbs, NULL);
  /* 16 writes of 64 KiB: the first returns 0 (high-water mark 64 KiB). */
  int saw_backpressure = 0;
  for (size_t off = 0; off + 65536 < total; off += 65536) {
    int r = h2_stream_write(st, big + off, 65536, NULL, NULL);
    assert_true(r >= 0);
    if (r == 0) saw_backpressure = 1;
  }
  assert_true(saw_backpressure);
  assert_true(h2_stream_buffer_size(st) >= 65536);
  /* The last chunk and END_STREAM together, queued behind held writes. */
  assert_int_equal(h2_stream_end_with(st, big + total - 65536, 65536, NULL, NULL), 0);
  assert_int_equal(h2_stream_end(st), 0); /* already ending: no-op */
  pump(&p);
  assert_int_equal(p.sl.body_len, total);
  assert_memory_equal(p.sl.body, big, total);
  assert_true(p.cl.drains >= 1);
  assert_int_equal(h2_stream_buffer_size(st), 0);
  assert_int_equal(p.cl.status, 200);
  assert_int_equal(atoi((char *)p.cl.body), (int)total);
  free(big);
  free_pair(&p);
}

static void ping_cb(h2_session *s, int err, double rtt, const uint8_t payload[8], void *u) {
  (void)s; (void)payload; (void)u;
  g->cl.ping_done++;
  g->cl.ping_err = err;
  g->cl.rtt = rtt;
}

static void test_ping_settings_goaway(void **state) {
  (void)state;
  pair p;
  make_pair(&p, 0);
  assert_int_equal(h2_session_ping(p.c, (const uint8_t *)"12345678", ping_cb, NULL), 0);
  size_t len;
  const uint8_t *d = h2_session_pending(p.c, &len);
  assert_non_null(d);
  p.now += 25; /* the ACK arrives 25 ms later */
  pump(&p);
  assert_int_equal(p.sl.pings, 1);
  assert_int_equal(p.cl.ping_done, 1);
  assert_int_equal(p.cl.ping_err, 0);
  assert_true(p.cl.rtt > 24.9 && p.cl.rtt < 25.1);

  h2_settings s;
  h2_settings_default(&s);
  s.max_concurrent_streams = 7;
  assert_int_equal(h2_session_settings(p.c, &s), 0);
  pump(&p);
  assert_int_equal(p.sl.remote_max_streams, 7);
  assert_true(p.cl.local_settings >= 1);
  h2_settings local;
  h2_session_local_settings(p.c, &local);
  assert_int_equal(local.max_concurrent_streams, 7);
  h2_settings remote;
  h2_session_remote_settings(p.s, &remote);
  assert_int_equal(remote.max_concurrent_streams, 7);
  s.max_frame_size = 1; /* invalid */
  assert_int_equal(h2_session_settings(p.c, &s), H2_ERR_INVALID_ARG);

  assert_int_equal(
      h2_session_goaway(p.s, H2_CODE_ENHANCE_YOUR_CALM, UINT32_MAX, (const uint8_t *)"calm", 4), 0);
  pump(&p);
  assert_int_equal(p.cl.goaways, 1);
  assert_int_equal(p.cl.goaway_code, H2_CODE_ENHANCE_YOUR_CALM);
  free_pair(&p);
}

static void test_reset_and_info(void **state) {
  (void)state;
  pair p;
  make_pair(&p, 3); /* server does not answer */
  h2_stream *st;
  h2_header h[] = {H2_HDR(":path", "/slow")};
  assert_int_equal(h2_session_request(p.c, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &client_stream_cbs, NULL);
  pump(&p);
  assert_int_equal(p.sl.streams, 1);
  h2_stream_close(st, H2_CODE_CANCEL);
  pump(&p);
  assert_int_equal(p.cl.closes, 1);
  assert_int_equal(p.cl.last_rst, H2_CODE_CANCEL);
  assert_int_equal(p.sl.closes, 1);
  assert_int_equal(p.sl.last_rst, H2_CODE_CANCEL);
  assert_int_equal(p.sl.aborted, 1);
  free_pair(&p);

  make_pair(&p, 2); /* 103 then 204 */
  assert_int_equal(h2_session_request(p.c, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &client_stream_cbs, NULL);
  pump(&p);
  assert_int_equal(p.cl.infos, 1);
  assert_int_equal(p.cl.responses, 1);
  assert_int_equal(p.cl.status, 204);
  assert_int_equal(p.cl.closes, 1);
  free_pair(&p);
}

static void test_many_streams_and_state(void **state) {
  (void)state;
  pair p;
  make_pair(&p, 0);
  for (int i = 0; i < 50; i++) {
    h2_stream *st;
    h2_header h[] = {H2_HDR(":path", "/m")};
    assert_int_equal(h2_session_request(p.c, &st, h, 1, H2_END_STREAM, NULL), 0);
    h2_stream_on(st, &client_stream_cbs, NULL);
  }
  pump(&p);
  assert_int_equal(p.cl.responses, 50);
  assert_int_equal(p.cl.closes, 50);
  assert_int_equal(p.cl.body_len, 50 * (sizeof hello - 1));
  h2_session_state ss;
  h2_session_get_state(p.c, &ss);
  assert_int_equal(ss.next_stream_id, 101);
  assert_int_equal(ss.num_streams, 0);
  assert_true(ss.local_window_size > 0);
  /* HPACK tables mirror each other: our decoder holds what the server's
   * encoder inserted, and the other way round. */
  h2_session_state sv;
  h2_session_get_state(p.s, &sv);
  assert_true(sv.deflate_dynamic_table_size > 0);
  assert_int_equal(ss.inflate_dynamic_table_size, sv.deflate_dynamic_table_size);
  assert_int_equal(ss.deflate_dynamic_table_size, sv.inflate_dynamic_table_size);
  assert_int_equal(sv.last_proc_stream_id, 99);
  assert_int_equal(ss.outbound_queue_size, 0);
  free_pair(&p);
}

static void test_bad_input_and_close(void **state) {
  (void)state;
  pair p;
  make_pair(&p, 0);
  /* Garbage to the server: it fails the session with an error. */
  int rc = h2_session_feed(p.s, (const uint8_t *)"\x00\x00\x04\x08\x00\x00\x00\x00\x00", 9, p.now);
  (void)rc;
  uint8_t junk[64];
  memset(junk, 0xff, sizeof junk);
  rc = h2_session_feed(p.s, junk, sizeof junk, p.now);
  assert_true(rc < 0);
  assert_int_equal(p.sl.errors, 1);
  pump(&p);
  assert_int_equal(p.cl.goaways, 1);
  assert_true(p.cl.goaway_code != 0);
  /* Invalid request header names are refused synchronously. */
  h2_stream *st;
  h2_header bad[] = {H2_HDR(":path", "/"), H2_HDR("bad header", "x")};
  assert_true(h2_session_request(p.c, &st, bad, 2, H2_END_STREAM, NULL) < 0);
  free_pair(&p);
}

/* ---- push, ALTSVC/ORIGIN, header size limit, pull source, pacing ---- */

static int pushed_seen, push_responses, altsvc_seen, origin_seen, frame_errors;
static size_t pushed_body;

static void pc_push(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f; (void)u;
  assert_non_null(h2_header_find(h, n, ":status"));
  push_responses++;
}
static void pc_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st; (void)d; (void)u;
  pushed_body += n;
}
static const h2_stream_callbacks push_cbs = {.on_push = pc_push, .on_data = pc_data};

static void client_on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n,
                             unsigned flags, void *u) {
  (void)s; (void)flags; (void)u;
  const h2_header *p = h2_header_find(h, n, ":path");
  assert_non_null(p);
  assert_memory_equal(p->value, "/pushed.css", 11);
  pushed_seen++;
  h2_stream_on(st, &push_cbs, NULL);
}
static void on_altsvc(h2_session *s, const char *alt, size_t al, const char *o, size_t ol,
                      uint32_t sid, void *u) {
  (void)s; (void)u; (void)sid;
  assert_int_equal(al, strlen("h2=\":443\""));
  assert_memory_equal(alt, "h2=\":443\"", al);
  assert_int_equal(ol, strlen("https://a.example"));
  (void)o;
  altsvc_seen++;
}
static void on_origin(h2_session *s, const char *const *o, const size_t *l, size_t n, void *u) {
  (void)s; (void)u;
  assert_int_equal(n, 2);
  assert_int_equal(l[0], strlen("https://a.example"));
  assert_memory_equal(o[1], "https://b.example", l[1]);
  origin_seen++;
}
static void on_frame_error(h2_session *s, unsigned type, int err, uint32_t sid, void *u) {
  (void)s; (void)sid; (void)u;
  assert_int_equal(type, 1);
  assert_int_equal(err, H2_ERR_LIMIT);
  frame_errors++;
}

static int src_calls;
static int src_read(h2_stream *st, uint8_t *buf, size_t cap, int *eof, void *u) {
  (void)st; (void)u;
  size_t *left = u;
  size_t n = *left < cap ? *left : cap;
  memset(buf, 'z', n);
  *left -= n;
  if (*left == 0) *eof = 1;
  src_calls++;
  return (int)n;
}
static size_t src_left;

static void push_server_on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n,
                                  unsigned flags, void *u) {
  (void)s; (void)h; (void)n; (void)flags; (void)u;
  g->sl.streams++;
  h2_stream_on(st, &server_stream_cbs, NULL);
  assert_true(h2_stream_push_allowed(st));
  h2_stream *ps;
  h2_header ph[] = {H2_HDR(":method", "GET"), H2_HDR(":path", "/pushed.css"),
                    H2_HDR(":scheme", "http"), H2_HDR(":authority", "localhost")};
  assert_int_equal(h2_stream_push(st, &ps, ph, 4), 0);
  h2_header r[] = {H2_HDR(":status", "200")};
  assert_int_equal(h2_stream_respond(ps, r, 1, 0), 0);
  assert_int_equal(h2_stream_write_copy(ps, (const uint8_t *)"body{}", 6), 1);
  assert_int_equal(h2_stream_end(ps), 0);
  /* the main response comes from a pull source: 300000 bytes */
  assert_int_equal(h2_stream_respond(st, r, 1, 0), 0);
  src_left = 300000;
  assert_int_equal(h2_stream_set_source(st, src_read, &src_left), 0);
}

static void test_push_altsvc_origin_source(void **state) {
  (void)state;
  pair p;
  memset(&p, 0, sizeof p);
  g = &p;
  p.now = 1;
  pushed_seen = push_responses = altsvc_seen = origin_seen = frame_errors = 0;
  pushed_body = 0;
  src_calls = 0;
  h2_session_callbacks cc = {.on_stream = client_on_stream, .on_altsvc = on_altsvc,
                             .on_origin = on_origin};
  h2_session_callbacks sc = {.on_stream = push_server_on_stream, .on_frame_error = on_frame_error};
  h2_options co;
  h2_options_default(&co);
  co.encrypted = 1; /* ORIGIN counts on TLS sessions only */
  assert_int_equal(h2_session_new(&p.c, 0, &co, &cc, &p.cl, NULL), 0);
  assert_int_equal(h2_session_new(&p.s, 1, NULL, &sc, &p.sl, NULL), 0);
  pump(&p);
  assert_int_equal(h2_session_altsvc(p.s, "h2=\":443\"", "https://a.example", 0), 0);
  const char *origins[] = {"https://a.example", "https://b.example"};
  assert_int_equal(h2_session_origin(p.s, origins, 2), 0);
  assert_int_equal(h2_session_altsvc(p.c, "x", "y", 0), H2_ERR_STATE); /* client cannot */
  h2_stream *st;
  h2_header h[] = {H2_HDR(":path", "/page")};
  assert_int_equal(h2_session_request(p.c, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &client_stream_cbs, NULL);
  pump(&p);
  assert_int_equal(altsvc_seen, 1);
  assert_int_equal(origin_seen, 1);
  assert_int_equal(pushed_seen, 1);
  assert_int_equal(push_responses, 1);
  assert_int_equal(pushed_body, 6);
  assert_int_equal(p.cl.body_len, 300000);
  assert_true(src_calls >= 5);
  assert_int_equal(p.cl.closes, 1);

  /* maxSendHeaderBlockLength: a 70000-byte header is refused with frameError. */
  char *big = malloc(70001);
  memset(big, 'a', 70000);
  big[70000] = 0;
  h2_header bh[] = {H2_HDR(":path", "/"), {"x-big", 5, big, 70000, 0}};
  assert_int_equal(h2_session_request(p.c, &st, bh, 2, H2_END_STREAM, NULL), H2_ERR_LIMIT);
  free(big);
  free_pair(&p);
}

static void test_pause_consume_window(void **state) {
  (void)state;
  pair p;
  make_pair(&p, 3); /* server does not answer by itself */
  h2_stream *st;
  h2_header h[] = {H2_HDR(":method", "POST"), H2_HDR(":path", "/up")};
  assert_int_equal(h2_session_request(p.c, &st, h, 2, 0, NULL), 0);
  h2_stream_on(st, &client_stream_cbs, NULL);
  pump(&p);
  h2_stream *sst = p.sl.last_stream;
  assert_non_null(sst);
  h2_stream_pause(sst);
  static uint8_t chunk[200000];
  assert_true(h2_stream_write(st, chunk, sizeof chunk, NULL, NULL) >= 0);
  pump(&p);
  /* Paused: only the initial 65535-byte stream window got through. */
  assert_int_equal(p.sl.body_len, 65535);
  h2_stream_status ss;
  h2_stream_get_state(sst, &ss);
  assert_int_equal(ss.local_window_size, 0);
  h2_stream_consume(sst, 65535);
  h2_stream_resume(sst);
  pump(&p);
  assert_int_equal(p.sl.body_len, sizeof chunk);
  free_pair(&p);
}


/* ---- timeouts, destroy, priority ---- */

static void test_session_and_stream_timeouts(void **state) {
  (void)state;
  pair p;
  make_pair(&p, 3); /* server does not answer */
  server_timeouts = 0;
  /* With on_timeout: the callback fires, the session stays. */
  h2_session_set_timeout(p.s, 100);
  h2_session_tick(p.s, p.now + 99);
  assert_int_equal(server_timeouts, 0);
  h2_session_tick(p.s, p.now + 100);
  assert_int_equal(server_timeouts, 1);
  assert_false(h2_session_closed(p.s));
  /* Activity (a PING from the client at +150) pushes the deadline. */
  p.now += 150;
  assert_int_equal(h2_session_ping(p.c, NULL, NULL, NULL), 0);
  pump(&p);
  h2_session_tick(p.s, p.now + 99);
  assert_int_equal(server_timeouts, 1);
  h2_session_tick(p.s, p.now + 100);
  assert_int_equal(server_timeouts, 2);
  h2_session_set_timeout(p.s, 0); /* disarmed */
  h2_session_tick(p.s, p.now + 100000);
  assert_int_equal(server_timeouts, 2);

  /* A stream timeout without on_timeout resets the stream with CANCEL. */
  h2_stream *st, *st2;
  h2_header h[] = {H2_HDR(":path", "/slow")};
  assert_int_equal(h2_session_request(p.c, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &client_stream_cbs, NULL);
  assert_int_equal(h2_session_request(p.c, &st2, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st2, &client_stream_cbs, NULL);
  p.now += 1000;
  pump(&p);
  assert_int_equal(p.sl.streams, 2);
  h2_session_tick(p.c, p.now); /* the client's clock: nothing was fed to it */
  h2_stream_set_timeout(st, 100);
  h2_stream_set_timeout(st2, 100);
  h2_stream_set_timeout(st2, 0); /* disarmed again */
  p.now += 99;
  h2_session_tick(p.c, p.now);
  pump(&p);
  assert_int_equal(p.cl.closes, 0);
  p.now += 1;
  h2_session_tick(p.c, p.now);
  pump(&p);
  assert_int_equal(p.cl.closes, 1);
  assert_int_equal(p.cl.last_rst, H2_CODE_CANCEL);
  assert_int_equal(p.sl.closes, 1);
  assert_int_equal(p.sl.last_rst, H2_CODE_CANCEL);
  p.now += 100000;
  h2_session_tick(p.c, p.now);
  pump(&p);
  assert_int_equal(p.cl.closes, 1); /* st2 still open */

  /* The client has no on_timeout: its session timeout closes it
   * gracefully (GOAWAY NO_ERROR). */
  h2_session_set_timeout(p.c, 50);
  h2_session_tick(p.c, p.now + 49);
  assert_false(h2_session_closed(p.c));
  h2_session_tick(p.c, p.now + 50);
  assert_true(h2_session_closed(p.c));
  pump(&p);
  assert_int_equal(p.sl.goaways, 1);
  assert_int_equal(p.sl.goaway_code, 0);
  free_pair(&p);
}

static void test_destroy(void **state) {
  (void)state;
  for (uint32_t code = 0; code <= 2; code += 2) {
    pair p;
    make_pair(&p, 3);
    h2_stream *st[3];
    h2_header h[] = {H2_HDR(":path", "/slow")};
    for (int i = 0; i < 3; i++) {
      assert_int_equal(h2_session_request(p.c, &st[i], h, 1, H2_END_STREAM, NULL), 0);
      h2_stream_on(st[i], &client_stream_cbs, NULL);
    }
    pump(&p);
    assert_int_equal(p.sl.streams, 3);
    h2_session_destroy(p.c, code);
    assert_true(h2_session_closed(p.c));
    assert_int_equal(h2_session_ping(p.c, NULL, NULL, NULL), H2_ERR_STATE);
    h2_stream *late;
    assert_true(h2_session_request(p.c, &late, h, 1, H2_END_STREAM, NULL) < 0);
    pump(&p);
    /* The peer got GOAWAY with our code; every stream closed here, and the
     * session, once the GOAWAY was handed out. */
    assert_int_equal(p.sl.goaways, 1);
    assert_int_equal(p.sl.goaway_code, code);
    assert_int_equal(p.cl.closes, 3);
    assert_int_equal(p.cl.last_rst, code ? code : 0x8);
    assert_int_equal(p.cl.session_closes, 1);
    assert_null(h2_session_pending(p.c, &(size_t){0}));
    uint8_t ping[17] = {0, 0, 8, 6, 0, 0, 0, 0, 0};
    assert_int_equal(h2_session_feed(p.c, ping, sizeof ping, p.now), H2_ERR_CLOSED);
    h2_session_destroy(p.c, 0); /* twice: ignored */
    /* The server's streams end with its transport. */
    assert_int_equal(p.sl.closes, 0);
    h2_session_transport_closed(p.s, 0);
    assert_int_equal(p.sl.closes, 3);
    assert_int_equal(p.sl.session_closes, 1);
    free_pair(&p);
    assert_int_equal(p.cl.session_closes, 1);
  }
}

static int prio_frames, prio_headers;
static char prio_line[256];
static void prio_trace(h2_session *s, int out, const char *line, void *u) {
  (void)s; (void)u;
  if (out) return;
  if (!strncmp(line, "[PRIORITY]", 10)) {
    prio_frames++;
    snprintf(prio_line, sizeof prio_line, "%s", line);
  }
  if (!strncmp(line, "[HEADERS]", 9) && strstr(line, "PRIORITY")) prio_headers++;
}

static void test_priority(void **state) {
  (void)state;
  pair p;
  make_pair(&p, 3);
  prio_frames = prio_headers = 0;
  h2_session_set_frame_trace(p.s, prio_trace, NULL);
  h2_stream *a, *b, *sa, *sb;
  h2_header h[] = {H2_HDR(":path", "/p")};
  assert_int_equal(h2_session_request(p.c, &a, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(a, &client_stream_cbs, NULL);
  pump(&p);
  sa = p.sl.last_stream;
  h2_priority in_req = {.parent = 0, .weight = 32, .exclusive = 0, .silent = 0};
  assert_int_equal(h2_session_request(p.c, &b, h, 1, H2_END_STREAM, &in_req), 0);
  h2_stream_on(b, &client_stream_cbs, NULL);
  pump(&p);
  assert_int_equal(prio_headers, 1); /* b's HEADERS carried the priority */
  h2_stream_status bs;
  h2_stream_get_state(b, &bs);
  assert_int_equal(bs.weight, 32);
  sb = p.sl.last_stream;
  assert_ptr_not_equal(sa, sb);
  h2_stream_get_state(sb, &bs); /* the server saw it in HEADERS */
  assert_int_equal(bs.weight, 32);
  assert_int_equal(bs.sum_dependency_weight, 0);
  h2_priority pr = {.parent = h2_stream_id(a), .weight = 200, .exclusive = 1, .silent = 0};
  assert_int_equal(h2_stream_priority(b, &pr), 0);
  pump(&p);
  assert_int_equal(prio_frames, 1);
  assert_non_null(strstr(prio_line, "weight=200"));
  h2_stream_get_state(b, &bs);
  assert_int_equal(bs.weight, 200);
  h2_stream_get_state(sb, &bs); /* and the PRIORITY frame */
  assert_int_equal(bs.weight, 200);
  /* Both trees: b is a's only child (sumDependencyWeight 200). */
  h2_stream_get_state(a, &bs);
  assert_int_equal(bs.sum_dependency_weight, 200);
  h2_stream_get_state(sa, &bs);
  assert_int_equal(bs.sum_dependency_weight, 200);
  /* silent: our tree changes (b back under the root, weight 7), nothing
   * sent: the server's tree still has b under a with weight 200. */
  h2_session_set_frame_trace(p.c, prio_trace, NULL);
  h2_priority quiet = {.parent = 0, .weight = 7, .silent = 1};
  assert_int_equal(h2_stream_priority(b, &quiet), 0);
  pump(&p);
  assert_int_equal(prio_frames, 1);
  h2_stream_get_state(b, &bs);
  assert_int_equal(bs.weight, 7);
  assert_int_equal(bs.sum_dependency_weight, 0);
  h2_stream_get_state(a, &bs);
  assert_int_equal(bs.weight, 16);
  assert_int_equal(bs.sum_dependency_weight, 0);
  h2_stream_get_state(sa, &bs);
  assert_int_equal(bs.sum_dependency_weight, 200);
  h2_stream_get_state(sb, &bs);
  assert_int_equal(bs.weight, 200);
  /* Silent again: a under b (weight 0 means 16); the client's b now has
   * a below it. */
  h2_priority a_under_b = {.parent = h2_stream_id(b), .weight = 0, .silent = 1};
  assert_int_equal(h2_stream_priority(a, &a_under_b), 0);
  h2_stream_get_state(b, &bs);
  assert_int_equal(bs.sum_dependency_weight, 16);
  /* The server, silently: its b gets weight 50 (still a's exclusive
   * child). Nothing reaches the client. */
  h2_priority srv_quiet = {.parent = h2_stream_id(a), .weight = 50, .exclusive = 1, .silent = 1};
  assert_int_equal(h2_stream_priority(sb, &srv_quiet), 0);
  pump(&p);
  assert_int_equal(prio_frames, 1);
  h2_stream_get_state(sa, &bs);
  assert_int_equal(bs.sum_dependency_weight, 50);
  h2_stream_get_state(sb, &bs);
  assert_int_equal(bs.weight, 50);
  h2_stream_get_state(b, &bs); /* the client's view is unchanged */
  assert_int_equal(bs.weight, 7);
  assert_int_equal(bs.sum_dependency_weight, 16);
  /* Silent §5.3.3 on the server: a (b's parent) made to depend on b; b
   * first moves to a's former parent (the root), then a goes under it. */
  h2_priority srv_flip = {.parent = h2_stream_id(b), .weight = 30, .silent = 1};
  assert_int_equal(h2_stream_priority(sa, &srv_flip), 0);
  h2_stream_get_state(sb, &bs);
  assert_int_equal(bs.sum_dependency_weight, 30);
  h2_stream_get_state(sa, &bs);
  assert_int_equal(bs.sum_dependency_weight, 0);
  assert_int_equal(bs.weight, 30);
  pump(&p);
  assert_int_equal(prio_frames, 1);
  /* Invalid: weight out of range, the stream depending on itself. */
  h2_priority bad = {.parent = 0, .weight = 257};
  assert_int_equal(h2_stream_priority(b, &bad), H2_ERR_INVALID_ARG);
  bad.weight = 16;
  bad.parent = h2_stream_id(b);
  assert_int_equal(h2_stream_priority(b, &bad), H2_ERR_INVALID_ARG);
  pump(&p);
  assert_int_equal(prio_frames, 1);
  free_pair(&p);
}

/* ---- requests beyond the peer's MAX_CONCURRENT_STREAMS wait ---- */

static void server_limit(h2_options *o, uint32_t max) {
  h2_options_default(o);
  o->has_settings = 1;
  h2_settings_default(&o->settings);
  o->settings.max_concurrent_streams = max;
}

static void test_request_queue(void **state) {
  (void)state;
  h2_options so;
  pair p;
  h2_header h[] = {H2_HDR(":path", "/q")};

  /* 5 requests, the server allows 2: 2 open now, 3 wait (id 0), and all
   * complete in order as streams close; the server never refuses one. */
  server_limit(&so, 2);
  make_pair_opts(&p, 0, &so);
  assert_int_equal(p.cl.remote_max_streams, 2);
  h2_stream *st[5];
  for (int i = 0; i < 5; i++) {
    assert_int_equal(h2_session_request(p.c, &st[i], h, 1, H2_END_STREAM, NULL), 0);
    h2_stream_on(st[i], &client_stream_cbs, NULL);
  }
  assert_int_equal(h2_stream_id(st[0]), 1);
  assert_int_equal(h2_stream_id(st[1]), 3);
  assert_int_equal(h2_stream_id(st[2]), 0);
  assert_int_equal(h2_stream_id(st[4]), 0);
  h2_stream_status ss;
  h2_stream_get_state(st[4], &ss);
  assert_int_equal(ss.state, H2_STREAM_STATE_IDLE);
  pump(&p);
  assert_int_equal(p.sl.streams, 5);
  assert_int_equal(p.cl.responses, 5);
  assert_int_equal(p.cl.closes, 5);
  assert_int_equal(p.cl.last_rst, 0);
  assert_int_equal(p.cl.body_len, 5 * (sizeof hello - 1));
  free_pair(&p);

  /* A body written and ended while the request waits goes out once it
   * starts (server_mode 1 answers with the length it got). */
  server_limit(&so, 1);
  make_pair_opts(&p, 1, &so);
  h2_header post[] = {H2_HDR(":method", "POST"), H2_HDR(":path", "/up")};
  h2_stream *a, *b;
  assert_int_equal(h2_session_request(p.c, &a, post, 2, 0, NULL), 0);
  h2_stream_on(a, &client_stream_cbs, NULL);
  assert_int_equal(h2_session_request(p.c, &b, post, 2, 0, NULL), 0);
  h2_stream_on(b, &client_stream_cbs, NULL);
  assert_int_equal(h2_stream_id(b), 0);
  static uint8_t body[100000];
  assert_true(h2_stream_write(a, body, 1000, NULL, NULL) >= 0);
  assert_int_equal(h2_stream_end(a), 0);
  assert_true(h2_stream_write(b, body, sizeof body, NULL, NULL) >= 0);
  assert_int_equal(h2_stream_end_with(b, body, 5, NULL, NULL), 0);
  assert_true(h2_stream_buffer_size(b) == sizeof body + 5);
  h2_priority pr = {.parent = 0, .weight = 99};
  assert_int_equal(h2_stream_priority(b, &pr), 0); /* kept for when it opens */
  prio_headers = 0;
  h2_session_set_frame_trace(p.s, prio_trace, NULL);
  pump(&p);
  assert_int_equal(prio_headers, 1); /* b opened with the priority given while waiting */
  assert_int_equal(p.cl.closes, 2);
  assert_int_equal(p.cl.responses, 2);
  assert_int_equal(p.sl.body_len, 1000 + sizeof body + 5);
  /* replies "1000" then "101005" (the echo counts all bytes so far) */
  assert_string_equal((char *)p.cl.body, "1000101005");
  free_pair(&p);

  /* Before the server's SETTINGS, peer_max_concurrent_streams (here 3)
   * stands for its limit. */
  {
    memset(&p, 0, sizeof p);
    g = &p;
    p.server_mode = 0;
    p.now = 1000;
    h2_session_callbacks cc = {.on_close = on_close, .on_remote_settings = on_remote};
    h2_session_callbacks sc = cc;
    sc.on_stream = server_on_stream;
    h2_options co;
    h2_options_default(&co);
    co.peer_max_concurrent_streams = 3;
    assert_int_equal(h2_session_new(&p.c, 0, &co, &cc, &p.cl, NULL), 0);
    assert_int_equal(h2_session_new(&p.s, 1, NULL, &sc, &p.sl, NULL), 0);
    h2_stream *e[5];
    for (int i = 0; i < 5; i++) {
      assert_int_equal(h2_session_request(p.c, &e[i], h, 1, H2_END_STREAM, NULL), 0);
      h2_stream_on(e[i], &client_stream_cbs, NULL);
    }
    assert_int_equal(h2_stream_id(e[2]), 5);
    assert_int_equal(h2_stream_id(e[3]), 0);
    assert_int_equal(h2_stream_id(e[4]), 0);
    pump(&p);
    assert_int_equal(p.sl.streams, 5);
    assert_int_equal(p.cl.responses, 5);
    assert_int_equal(p.cl.closes, 5);
    free_pair(&p);
  }

  /* Closing a waiting request sends nothing; GOAWAY refuses the rest. */
  server_limit(&so, 1);
  make_pair_opts(&p, 3, &so);
  h2_stream *q[3];
  for (int i = 0; i < 3; i++) {
    assert_int_equal(h2_session_request(p.c, &q[i], h, 1, H2_END_STREAM, NULL), 0);
    h2_stream_on(q[i], &client_stream_cbs, NULL);
  }
  h2_stream_close(q[1], H2_CODE_CANCEL);
  assert_int_equal(p.cl.closes, 1);
  assert_int_equal(p.cl.last_rst, H2_CODE_CANCEL);
  pump(&p);
  assert_int_equal(p.sl.streams, 1);
  assert_int_equal(h2_session_goaway(p.s, 0, UINT32_MAX, NULL, 0), 0);
  pump(&p);
  assert_int_equal(p.cl.goaways, 1);
  assert_int_equal(p.cl.closes, 2);
  assert_int_equal(p.cl.last_rst, H2_CODE_REFUSED_STREAM); /* never sent, safe to retry */
  free_pair(&p);
}

/* max_session_invalid_frames: frames that cost the peer a stream error
 * (here DATA on streams it already ended) end the session past the limit. */
static void test_invalid_frames_limit(void **state) {
  (void)state;
  for (int limited = 0; limited <= 1; limited++) {
    h2_options so;
    h2_options_default(&so);
    so.max_session_invalid_frames = limited ? 3 : 0;
    pair p;
    make_pair_opts(&p, 3, &so);
    h2_header h[] = {H2_HDR(":path", "/slow")};
    for (int i = 0; i < 6; i++) {
      h2_stream *st;
      assert_int_equal(h2_session_request(p.c, &st, h, 1, H2_END_STREAM, NULL), 0);
      h2_stream_on(st, &client_stream_cbs, NULL);
    }
    pump(&p);
    assert_int_equal(p.sl.streams, 6);
    for (uint32_t i = 0; i < 6; i++) {
      uint32_t id = 1 + 2 * i;
      uint8_t data[10] = {0, 0, 1, 0 /* DATA */, 0, (uint8_t)(id >> 24), (uint8_t)(id >> 16),
                          (uint8_t)(id >> 8), (uint8_t)id, 'x'};
      h2_session_feed(p.s, data, sizeof data, p.now);
    }
    pump(&p);
    if (limited) {
      assert_int_equal(p.cl.goaways, 1);
      assert_int_equal(p.cl.goaway_code, H2_CODE_ENHANCE_YOUR_CALM);
    } else {
      assert_int_equal(p.cl.goaways, 0);
      assert_int_equal(p.cl.closes, 6); /* each stream reset, the session lives */
      assert_int_equal(p.cl.last_rst, H2_CODE_STREAM_CLOSED);
    }
    free_pair(&p);
  }
}

/* Options reach their limits: maxOutstandingPings, maxHeaderListPairs,
 * maxSendHeaderBlockLength. */
static void test_option_limits(void **state) {
  (void)state;
  h2_options so;
  h2_options_default(&so);
  so.max_outstanding_pings = 2;
  so.max_header_list_pairs = 6;
  so.max_send_header_block_length = 200;
  pair p;
  make_pair_opts(&p, 0, &so);
  /* Pings: 2 outstanding at most; after the ACKs there is room again. */
  assert_int_equal(h2_session_ping(p.s, NULL, NULL, NULL), 0);
  assert_int_equal(h2_session_ping(p.s, NULL, NULL, NULL), 0);
  assert_int_equal(h2_session_ping(p.s, NULL, NULL, NULL), H2_ERR_LIMIT);
  pump(&p);
  assert_int_equal(h2_session_ping(p.s, NULL, NULL, NULL), 0);
  pump(&p);
  /* A request of 4 pseudo-headers + 3 fields (7 > 6) is not accepted by
   * the server: no stream event, that stream is reset; a request of 6
   * fields is served. */
  h2_stream *st;
  h2_header many[] = {H2_HDR(":path", "/m"), H2_HDR("a", "1"), H2_HDR("b", "2"), H2_HDR("c", "3")};
  assert_int_equal(h2_session_request(p.c, &st, many, 4, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &client_stream_cbs, NULL);
  pump(&p);
  assert_int_equal(p.sl.streams, 0);
  assert_int_equal(p.cl.responses, 0);
  assert_int_equal(p.cl.closes, 1);
  assert_int_equal(p.cl.last_rst, H2_CODE_ENHANCE_YOUR_CALM); /* on that stream only */
  assert_int_equal(p.cl.goaways, 0);
  free_pair(&p);

  make_pair_opts(&p, 3, &so);
  h2_header two[] = {H2_HDR(":path", "/m"), H2_HDR("a", "1"), H2_HDR("b", "2")};
  assert_int_equal(h2_session_request(p.c, &st, two, 3, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &client_stream_cbs, NULL);
  pump(&p);
  assert_int_equal(p.sl.streams, 1);
  /* The server's response headers above 200 bytes (name + value + 32
   * each): refused at once, nothing of them sent, and (Node's frameError)
   * the stream is reset with INTERNAL_ERROR (test_api_frameerr has the
   * callbacks). */
  char v[180];
  memset(v, 'v', sizeof v);
  h2_header r[] = {H2_HDR(":status", "200"), {"x-long", 6, v, sizeof v, 0}};
  assert_int_equal(h2_stream_respond(p.sl.last_stream, r, 2, H2_END_STREAM), H2_ERR_LIMIT);
  h2_header ok[] = {H2_HDR(":status", "204")};
  assert_int_equal(h2_stream_respond(p.sl.last_stream, ok, 1, H2_END_STREAM), H2_ERR_STATE);
  pump(&p);
  assert_int_equal(p.cl.responses, 0);
  assert_int_equal(p.cl.closes, 1);
  assert_int_equal(p.cl.last_rst, 0x2);
  assert_int_equal(p.sl.last_rst, 0x2);
  free_pair(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_get_with_trailers),
    cmocka_unit_test(test_upload_backpressure),
    cmocka_unit_test(test_ping_settings_goaway),
    cmocka_unit_test(test_reset_and_info),
    cmocka_unit_test(test_many_streams_and_state),
    cmocka_unit_test(test_bad_input_and_close),
    cmocka_unit_test(test_push_altsvc_origin_source),
    cmocka_unit_test(test_pause_consume_window),
    cmocka_unit_test(test_session_and_stream_timeouts),
    cmocka_unit_test(test_destroy),
    cmocka_unit_test(test_priority),
    cmocka_unit_test(test_request_queue),
    cmocka_unit_test(test_invalid_frames_limit),
    cmocka_unit_test(test_option_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
