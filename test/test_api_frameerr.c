/* test_api_frameerr.c: Node's 'frameError' and stream 'ready' in the
 * session API, with an in-memory client/server pair (api_pair.h).
 *   frameError: a response or trailers block over the peer's
 *   SETTINGS_MAX_HEADER_LIST_SIZE or maxSendHeaderBlockLength fires the
 *   stream's then the session's on_frame_error (type HEADERS = 1,
 *   H2_ERR_LIMIT, the stream id) and the stream closes with RST_STREAM
 *   INTERNAL_ERROR, nothing of the block sent; also for trailers that stop
 *   fitting after they were queued (the peer lowered its limit); on stream
 *   0 (a PING ACK the engine cannot allocate) the session is destroyed.
 *   ready: a request that opens at once gets on_ready after
 *   h2_session_request returned, one that waits behind the peer's
 *   MAX_CONCURRENT_STREAMS 1 only once the first has ended, with id 3. */
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

/* Every callback appends one line here, so tests check order too. */
static char events[8192];
static size_t events_len;

static void ev(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(events + events_len, sizeof events - events_len, fmt, ap);
  va_end(ap);
  assert_true(n > 0 && (size_t)n < sizeof events - events_len);
  events_len += (size_t)n;
}

/* 1 if |a| occurs in the log, before |b| when |b| is given. */
static int seen_before(const char *a, const char *b) {
  const char *pa = strstr(events, a);
  if (!pa) return 0;
  if (!b) return 1;
  const char *pb = strstr(events, b);
  return pb && pa < pb;
}

typedef struct pair {
  h2_session *c, *s;
  h2_stream *srv_stream; /* the last request the server got */
} pair;

static pair *g;

/* ---- callbacks ---- */
static void c_ready(h2_stream *st, void *u) {
  (void)u;
  ev("C ready %s id=%u\n", (const char *)h2_stream_user(st), h2_stream_id(st));
}
static void c_response(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)h; (void)n; (void)f;
  ev("C response %s\n", (const char *)u);
}
static void c_trailers(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)h; (void)n; (void)f;
  ev("C trailers %s\n", (const char *)u);
}
static void c_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st;
  ev("C data %s %.*s\n", (const char *)u, (int)n, (const char *)d);
}
static void c_frame_error(h2_stream *st, unsigned type, int err, uint32_t id, void *u) {
  (void)st;
  ev("C frameError %s type=%u err=%d id=%u\n", (const char *)u, type, err, id);
}
static void c_close(h2_stream *st, uint32_t code, void *u) {
  (void)st;
  ev("C close %s code=%u\n", (const char *)u, code);
}
static const h2_stream_callbacks client_cbs = {
  .on_ready = c_ready, .on_response = c_response, .on_trailers = c_trailers, .on_data = c_data,
  .on_frame_error = c_frame_error, .on_close = c_close,
};

static void s_frame_error(h2_stream *st, unsigned type, int err, uint32_t id, void *u) {
  (void)u;
  assert_int_equal(id, h2_stream_id(st));
  ev("S frameError type=%u err=%d id=%u\n", type, err, id);
}
static void s_close(h2_stream *st, uint32_t code, void *u) {
  (void)st; (void)u;
  ev("S close code=%u\n", code);
}
static int big_trailers; /* s_want_trailers sends a block over the limit */
static void s_want_trailers(h2_stream *st, void *u) {
  (void)u;
  char v[300];
  memset(v, 't', sizeof v);
  h2_header t[] = {{"x-t", 3, v, big_trailers ? sizeof v : 1, 0}};
  int rc = h2_stream_send_trailers(st, t, 1);
  ev("S send_trailers rc=%d\n", rc);
}
static const h2_stream_callbacks server_cbs = {
  .on_frame_error = s_frame_error, .on_close = s_close, .on_want_trailers = s_want_trailers,
};

static void ss_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n, unsigned f,
                      void *u) {
  (void)s; (void)h; (void)n; (void)f; (void)u;
  g->srv_stream = st;
  h2_stream_on(st, &server_cbs, NULL);
  ev("S stream id=%u\n", h2_stream_id(st));
}
static void ss_frame_error(h2_session *s, unsigned type, int err, uint32_t id, void *u) {
  (void)s;
  ev("%s frameError type=%u err=%d id=%u\n", (const char *)u, type, err, id);
}
static void ss_error(h2_session *s, int err, const char *m, void *u) {
  (void)s; (void)m;
  ev("%s error %d\n", (const char *)u, err);
}
static void ss_close(h2_session *s, void *u) {
  (void)s;
  ev("%s close\n", (const char *)u);
}

static void pump(pair *p) {
  api_pump how = {.now = 1000};
  api_pair_pump(p->c, p->s, &how);
}

static void make_pair(pair *p, const h2_options *co, const h2_options *so) {
  memset(p, 0, sizeof *p);
  g = p;
  events_len = 0;
  events[0] = 0;
  h2_session_callbacks cc = {.on_frame_error = ss_frame_error, .on_error = ss_error,
                             .on_close = ss_close};
  h2_session_callbacks sc = cc;
  sc.on_stream = ss_stream;
  assert_int_equal(h2_session_new(&p->c, 0, co, &cc, "CS", NULL), 0);
  assert_int_equal(h2_session_new(&p->s, 1, so, &sc, "SS", NULL), 0);
  pump(p);
}

static void free_pair(pair *p) {
  h2_session_free(p->c);
  h2_session_free(p->s);
}

static h2_stream *request(pair *p, const char *name, unsigned flags) {
  h2_stream *st;
  h2_header h[] = {H2_HDR(":path", "/")};
  assert_int_equal(h2_session_request(p->c, &st, h, 1, flags, NULL), 0);
  h2_stream_on(st, &client_cbs, (void *)name);
  return st;
}

/* A client whose SETTINGS_MAX_HEADER_LIST_SIZE is 200 (|peer_limit|) or a
 * server whose maxSendHeaderBlockLength is 200. */
static void limited_pair(pair *p, int peer_limit) {
  h2_options co, so;
  h2_options_default(&co);
  h2_options_default(&so);
  if (peer_limit) {
    co.has_settings = 1;
    h2_settings_default(&co.settings);
    co.settings.max_header_list_size = 200;
  } else {
    so.max_send_header_block_length = 200;
  }
  make_pair(p, &co, &so);
}

/* ---- frameError ---- */

static void test_response_too_big(void **state) {
  (void)state;
  for (int peer_limit = 1; peer_limit >= 0; peer_limit--) {
    pair p;
    limited_pair(&p, peer_limit);
    request(&p, "a", H2_END_STREAM);
    pump(&p);
    assert_non_null(p.srv_stream);
    /* :status (42) + x-long (6 + 130 + 32) = 210 > 200 */
    char v[130];
    memset(v, 'v', sizeof v);
    h2_header r[] = {H2_HDR(":status", "200"), {"x-long", 6, v, sizeof v, 0}};
    assert_int_equal(h2_stream_respond(p.srv_stream, r, 2, H2_END_STREAM), H2_ERR_LIMIT);
    /* Reported before the call returned: the stream's, then the session's. */
    char line[80];
    snprintf(line, sizeof line, "S frameError type=1 err=%d id=1\n", H2_ERR_LIMIT);
    assert_true(seen_before(line, "SS frameError type=1"));
    snprintf(line, sizeof line, "SS frameError type=1 err=%d id=1\n", H2_ERR_LIMIT);
    assert_true(seen_before(line, NULL));
    pump(&p);
    /* Closed with INTERNAL_ERROR both ways, no response seen. */
    assert_true(seen_before("SS frameError", "S close code=2\n"));
    assert_true(seen_before("C close a code=2\n", NULL));
    assert_false(seen_before("C response", NULL));
    assert_false(seen_before("CS frameError", NULL));
    assert_false(seen_before(" error ", NULL)); /* the sessions go on */
    /* The session serves the next request. */
    request(&p, "b", H2_END_STREAM);
    pump(&p);
    h2_header ok[] = {H2_HDR(":status", "204")};
    assert_int_equal(h2_stream_respond(p.srv_stream, ok, 1, H2_END_STREAM), 0);
    pump(&p);
    assert_true(seen_before("C response b\n", "C close b code=0\n"));
    free_pair(&p);
  }
}

static void test_trailers_too_big(void **state) {
  (void)state;
  for (int peer_limit = 1; peer_limit >= 0; peer_limit--) {
    pair p;
    limited_pair(&p, peer_limit);
    request(&p, "a", H2_END_STREAM);
    pump(&p);
    h2_header r[] = {H2_HDR(":status", "200")};
    assert_int_equal(h2_stream_respond(p.srv_stream, r, 1, H2_WAIT_FOR_TRAILERS), 0);
    assert_int_equal(h2_stream_write_copy(p.srv_stream, (const uint8_t *)"body", 4), 1);
    big_trailers = 1;
    assert_int_equal(h2_stream_end(p.srv_stream), 0); /* on_want_trailers sends them */
    big_trailers = 0;
    char line[80];
    snprintf(line, sizeof line, "S frameError type=1 err=%d id=1\n", H2_ERR_LIMIT);
    assert_true(seen_before(line, "SS frameError type=1"));
    snprintf(line, sizeof line, "S send_trailers rc=%d\n", H2_ERR_LIMIT);
    assert_true(seen_before("SS frameError type=1", line));
    pump(&p);
    assert_true(seen_before("C response a\n", "C close a code=2\n"));
    assert_false(seen_before("C trailers", NULL));
    assert_true(seen_before("S close code=2\n", NULL));
    free_pair(&p);
  }
}

/* Trailers that fit when queued; the client lowers its limit to 20 before
 * the server writes them: reported from output, the stream reset. */
static void test_trailers_stop_fitting(void **state) {
  (void)state;
  pair p;
  make_pair(&p, NULL, NULL);
  request(&p, "a", H2_END_STREAM);
  pump(&p);
  h2_header r[] = {H2_HDR(":status", "200")};
  assert_int_equal(h2_stream_respond(p.srv_stream, r, 1, H2_WAIT_FOR_TRAILERS), 0);
  assert_int_equal(h2_stream_write_copy(p.srv_stream, (const uint8_t *)"body", 4), 1);
  assert_int_equal(h2_stream_end(p.srv_stream), 0);
  assert_true(seen_before("S send_trailers rc=0\n", NULL));
  h2_settings lowered;
  h2_settings_default(&lowered);
  lowered.max_header_list_size = 20;
  assert_int_equal(h2_session_settings(p.c, &lowered), 0);
  /* The client's SETTINGS reach the server before it writes anything. */
  size_t n;
  const uint8_t *b = h2_session_pending(p.c, &n);
  assert_non_null(b);
  assert_int_equal(h2_session_feed(p.s, b, n, 1000), 0);
  h2_session_consumed(p.c, n);
  assert_false(seen_before("frameError", NULL));
  pump(&p);
  char line[80];
  snprintf(line, sizeof line, "S frameError type=1 err=%d id=1\n", H2_ERR_LIMIT);
  assert_true(seen_before(line, "SS frameError type=1"));
  assert_true(seen_before("SS frameError type=1", "S close code=2\n"));
  assert_true(seen_before("C data a body\n", "C close a code=2\n"));
  assert_false(seen_before("C trailers", NULL));
  free_pair(&p);
}

/* An allocator the test can make fail. */
static int fail_alloc;
static void *f_malloc(size_t n, void *u) { (void)u; return fail_alloc ? NULL : malloc(n); }
static void *f_realloc(void *p, size_t n, void *u) { (void)u; return fail_alloc ? NULL : realloc(p, n); }
static void f_free(void *p, void *u) { (void)u; free(p); }
static const h2_mem failing = {f_malloc, f_realloc, f_free, NULL};

/* Stream 0: the server cannot allocate the ACK of the client's PING. */
static void test_connection_frame_error(void **state) {
  (void)state;
  h2_options so;
  h2_options_default(&so);
  so.mem = &failing;
  fail_alloc = 0;
  pair p;
  make_pair(&p, NULL, &so);
  assert_int_equal(h2_session_ping(p.c, NULL, NULL, NULL), 0);
  fail_alloc = 1; /* the idle server gave its output buffer back */
  pump(&p);
  fail_alloc = 0;
  char line[80];
  snprintf(line, sizeof line, "SS frameError type=6 err=%d id=0\n", H2_ERR_NOMEM);
  assert_true(seen_before(line, "SS error"));
  /* Destroyed: closed without the application asking. */
  assert_true(seen_before("SS error", "SS close\n"));
  assert_true(h2_session_closed(p.s));
  assert_false(seen_before("CS frameError", NULL));
  free_pair(&p);
}

/* ---- ready ---- */

static void test_ready(void **state) {
  (void)state;
  h2_options so;
  h2_options_default(&so);
  so.has_settings = 1;
  h2_settings_default(&so.settings);
  so.settings.max_concurrent_streams = 1;
  pair p;
  make_pair(&p, NULL, &so);
  h2_stream *a = request(&p, "a", H2_END_STREAM);
  h2_stream *b = request(&p, "b", H2_END_STREAM);
  h2_stream *c = request(&p, "c", H2_END_STREAM);
  assert_int_equal(h2_stream_id(a), 1);
  assert_int_equal(h2_stream_id(b), 0);
  h2_stream_close(c, 0x8); /* closed while waiting: never ready */
  assert_false(seen_before("C ready", NULL)); /* not from inside request() */
  pump(&p);
  assert_true(seen_before("C ready a id=1\n", "S stream id=1\n"));
  assert_false(seen_before("C ready b", NULL));
  assert_int_equal(h2_stream_id(b), 0);
  /* The server answers the first: it ends, then the second opens. */
  h2_header ok[] = {H2_HDR(":status", "204")};
  assert_int_equal(h2_stream_respond(p.srv_stream, ok, 1, H2_END_STREAM), 0);
  pump(&p);
  assert_true(seen_before("C close a code=0\n", "C ready b id=3\n"));
  assert_true(seen_before("C ready b id=3\n", "S stream id=3\n"));
  assert_int_equal(h2_stream_id(b), 3);
  assert_true(seen_before("C close c code=8\n", NULL));
  assert_false(seen_before("C ready c", NULL));
  free_pair(&p);
}

/* A request waiting for room whose headers stop fitting: the server
 * lowers its MAX_HEADER_LIST_SIZE while it waits. */
static void test_waiting_request_frame_error(void **state) {
  (void)state;
  h2_options so;
  h2_options_default(&so);
  so.has_settings = 1;
  h2_settings_default(&so.settings);
  so.settings.max_concurrent_streams = 1;
  pair p;
  make_pair(&p, NULL, &so);
  request(&p, "a", H2_END_STREAM);
  h2_stream *b;
  char v[100];
  memset(v, 'v', sizeof v);
  h2_header h[] = {H2_HDR(":path", "/"), {"x-v", 3, v, sizeof v, 0}};
  assert_int_equal(h2_session_request(p.c, &b, h, 2, H2_END_STREAM, NULL), 0);
  h2_stream_on(b, &client_cbs, "b");
  pump(&p);
  h2_settings lowered = so.settings;
  lowered.max_header_list_size = 150; /* b's list is over 200 */
  assert_int_equal(h2_session_settings(p.s, &lowered), 0);
  pump(&p);
  h2_header ok[] = {H2_HDR(":status", "204")};
  assert_int_equal(h2_stream_respond(p.srv_stream, ok, 1, H2_END_STREAM), 0);
  pump(&p);
  char line[80];
  snprintf(line, sizeof line, "C frameError b type=1 err=%d id=0\n", H2_ERR_LIMIT);
  assert_true(seen_before("C close a code=0\n", line));
  assert_true(seen_before(line, "C close b code=2\n"));
  assert_false(seen_before("C ready b", NULL));
  assert_false(seen_before("CS frameError", NULL)); /* no id: not the session's */
  assert_false(seen_before("S stream id=3", NULL));
  free_pair(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_response_too_big),
    cmocka_unit_test(test_trailers_too_big),
    cmocka_unit_test(test_trailers_stop_fitting),
    cmocka_unit_test(test_connection_frame_error),
    cmocka_unit_test(test_ready),
    cmocka_unit_test(test_waiting_request_frame_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
