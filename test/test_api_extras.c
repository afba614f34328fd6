/* test_api_extras.c: the opt-in extras of the session API, driven in
 * memory (test/api_pair.c): metrics (Node's PerformanceObserver 'http2'
 * entries, h2_options.enable_metrics) on a fake clock, and the kept sent
 * header blocks (sentHeaders / sentInfoHeaders / sentTrailers,
 * h2_options.keep_sent_headers). */
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

static const uint8_t hello[] = "hello, world";

typedef struct pair {
  h2_session *c, *s;
  uint64_t now;
} pair;

static void pump(pair *p) {
  api_pump how = {.now = p->now};
  api_pair_pump(p->c, p->s, &how);
}

/* A pair of sessions with |o| on both sides and |sc| on the server. */
static void make(pair *p, const h2_options *o, const h2_session_callbacks *sc, uint64_t now) {
  memset(p, 0, sizeof *p);
  p->now = now;
  h2_session_callbacks cc;
  memset(&cc, 0, sizeof cc);
  assert_int_equal(h2_session_new(&p->c, 0, o, &cc, NULL, NULL), 0);
  assert_int_equal(h2_session_new(&p->s, 1, o, sc, NULL, NULL), 0);
  pump(p);
}

static void unmake(pair *p) {
  h2_session_free(p->c);
  h2_session_free(p->s);
}

/* ---- metrics (Node's PerformanceObserver entries) ---- */

static h2_stream_metrics m_client[4], m_server[4];
static int m_nc, m_ns;

static void mc_close(h2_stream *st, uint32_t code, void *u) {
  (void)code; (void)u;
  assert_int_equal(h2_stream_get_metrics(st, &m_client[m_nc++ & 3]), 0);
}
static void ms_close(h2_stream *st, uint32_t code, void *u) {
  (void)code; (void)u;
  assert_int_equal(h2_stream_get_metrics(st, &m_server[m_ns++ & 3]), 0);
}
static void m_on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n,
                        unsigned flags, void *u) {
  (void)s; (void)h; (void)n; (void)flags; (void)u;
  static const h2_stream_callbacks cbs = {.on_close = ms_close};
  h2_stream_on(st, &cbs, NULL);
  h2_header r[] = {H2_HDR(":status", "200")};
  assert_int_equal(h2_stream_respond(st, r, 1, 0), 0);
  assert_int_equal(h2_stream_end_with(st, hello, sizeof hello - 1, NULL, NULL), 0);
}
static void m_ping_done(h2_session *s, int err, double rtt, const uint8_t p[8], void *u) {
  (void)s; (void)p; (void)rtt;
  assert_int_equal(err, 0);
  (*(int *)u)++;
}

static void test_metrics(void **state) {
  (void)state;
  /* Off by default. */
  h2_session_callbacks none;
  memset(&none, 0, sizeof none);
  pair p0;
  make(&p0, NULL, &none, 1);
  h2_session_metrics sm;
  assert_int_equal(h2_session_get_metrics(p0.c, &sm), H2_ERR_STATE);
  unmake(&p0);

  /* Both sides with metrics; the server answers with m_on_stream (200 +
   * "hello, world"). The clock starts at 5000. */
  h2_options o;
  h2_options_default(&o);
  o.enable_metrics = 1;
  h2_session_callbacks sc;
  memset(&sc, 0, sizeof sc);
  sc.on_stream = m_on_stream;
  pair p;
  make(&p, &o, &sc, 5000);
  m_nc = m_ns = 0;

  /* Three requests at once, answered 7 ms later. */
  p.now = 5010;
  h2_session_tick(p.c, 5010);
  static const h2_stream_callbacks ccb = {.on_close = mc_close};
  for (int i = 0; i < 3; i++) {
    h2_stream *st;
    h2_header h[] = {H2_HDR(":method", "GET"), H2_HDR(":path", "/"), H2_HDR(":scheme", "https"),
                     H2_HDR(":authority", "a.example")};
    assert_int_equal(h2_session_request(p.c, &st, h, 4, H2_END_STREAM, NULL), 0);
    h2_stream_on(st, &ccb, NULL);
  }
  size_t len;
  const uint8_t *out;
  while ((out = h2_session_pending(p.c, &len)) != NULL) { /* the requests reach the server */
    assert_int_equal(h2_session_feed(p.s, out, len, 5010), 0);
    h2_session_consumed(p.c, len);
  }
  p.now = 5017;
  pump(&p);
  assert_int_equal(m_nc, 3);
  assert_int_equal(m_ns, 3);
  int pings = 0;
  assert_int_equal(h2_session_ping(p.c, NULL, m_ping_done, &pings), 0);
  p.now = 5020;
  pump(&p);
  assert_int_equal(pings, 1);

  h2_session_metrics c, s;
  assert_int_equal(h2_session_get_metrics(p.c, &c), 0);
  assert_int_equal(h2_session_get_metrics(p.s, &s), 0);
  assert_int_equal(c.is_server, 0);
  assert_int_equal(s.is_server, 1);
  /* What one side sent, the other received. */
  assert_true(c.frames_sent > 0 && s.frames_sent > 0);
  assert_int_equal(c.frames_sent, s.frames_received);
  assert_int_equal(s.frames_sent, c.frames_received);
  assert_true(c.bytes_written > 24); /* the preface alone is 24 */
  assert_int_equal(c.bytes_written, s.bytes_read);
  assert_int_equal(s.bytes_written, c.bytes_read);
  assert_int_equal(c.stream_count, 3);
  assert_int_equal(s.stream_count, 3);
  assert_int_equal(c.max_concurrent_streams, 3);
  assert_true(s.max_concurrent_streams >= 1 && s.max_concurrent_streams <= 3);
  assert_true(c.ping_rtt_ms >= 0);
  assert_true(s.ping_rtt_ms < 0); /* the server sent no PING */
  assert_int_equal(c.duration_ms, 20); /* 5000 .. 5020 */
  assert_true(c.stream_average_duration_ms >= 7.0 && c.stream_average_duration_ms <= 7.0 + 1e-9);

  /* Per stream: 12 body octets each way they went, and the times. */
  for (int i = 0; i < 3; i++) {
    assert_int_equal(m_client[i].bytes_read, sizeof hello - 1);
    assert_int_equal(m_client[i].bytes_written, 0);
    assert_int_equal(m_client[i].time_to_first_header_ms, 7);
    assert_int_equal(m_client[i].time_to_first_byte_ms, 7);
    assert_int_equal(m_client[i].time_to_first_byte_sent_ms, -1);
    assert_int_equal(m_client[i].duration_ms, 7);
    assert_int_equal(m_client[i].start_ms, 10);
    assert_true(m_client[i].id == 1 || m_client[i].id == 3 || m_client[i].id == 5);
    assert_int_equal(m_server[i].bytes_read, 0);
    assert_int_equal(m_server[i].bytes_written, sizeof hello - 1);
    assert_int_equal(m_server[i].time_to_first_header_ms, 0);
    assert_int_equal(m_server[i].time_to_first_byte_ms, -1);
    assert_int_equal(m_server[i].time_to_first_byte_sent_ms, 0); /* answered at once, at 5010 */
    assert_int_equal(m_server[i].start_ms, 10);
  }

  /* Frozen at close. */
  h2_session_destroy(p.c, 0);
  p.now = 6000;
  pump(&p);
  h2_session_metrics c2;
  assert_int_equal(h2_session_get_metrics(p.c, &c2), 0);
  assert_true(c2.duration_ms <= 20);
  h2_session_free(p.c);
  h2_session_free(p.s);
}

/* ---- sentHeaders / sentInfoHeaders / sentTrailers ---- */

static int sent_checked_s, sent_checked_c;

static int has(const h2_header *h, size_t n, const char *name, const char *value) {
  for (size_t i = 0; i < n; i++)
    if (h[i].name_len == strlen(name) && !memcmp(h[i].name, name, h[i].name_len) &&
        h[i].value_len == strlen(value) && !memcmp(h[i].value, value, h[i].value_len))
      return 1;
  return 0;
}

static void sh_want_trailers(h2_stream *st, void *u) {
  (void)u;
  h2_header t[] = {H2_HDR("X-Checksum", "abc")};
  assert_int_equal(h2_stream_send_trailers(st, t, 1), 0);
}
static void sh_close(h2_stream *st, uint32_t code, void *u) {
  (void)code; (void)u;
  size_t n;
  const h2_header *h = h2_stream_sent_headers(st, &n);
  assert_non_null(h);
  assert_int_equal(n, 3);
  /* :status first (given after a regular field), names lower-cased. */
  assert_memory_equal(h[0].name, ":status", 7);
  assert_true(has(h, n, ":status", "200"));
  assert_true(has(h, n, "x-mixed-case", "Keep-Value"));
  assert_true(has(h, n, "content-type", "text/plain"));
  assert_int_equal(h2_stream_sent_info_count(st), 2);
  h = h2_stream_sent_info_headers(st, 0, &n);
  assert_true(n == 2 && has(h, n, ":status", "103") && has(h, n, "link", "</a.css>"));
  h = h2_stream_sent_info_headers(st, 1, &n);
  assert_true(n == 1 && has(h, n, ":status", "100"));
  assert_null(h2_stream_sent_info_headers(st, 2, &n));
  assert_int_equal(n, 0);
  h = h2_stream_sent_trailers(st, &n);
  assert_true(n == 1 && has(h, n, "x-checksum", "abc"));
  sent_checked_s++;
}
static void sh_on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n,
                         unsigned flags, void *u) {
  (void)s; (void)h; (void)n; (void)flags; (void)u;
  static const h2_stream_callbacks cbs = {.on_want_trailers = sh_want_trailers,
                                          .on_close = sh_close};
  h2_stream_on(st, &cbs, NULL);
  size_t k;
  assert_null(h2_stream_sent_headers(st, &k));
  h2_header i1[] = {H2_HDR(":status", "103"), H2_HDR("Link", "</a.css>")};
  assert_int_equal(h2_stream_additional_headers(st, i1, 2), 0);
  h2_header i2[] = {H2_HDR(":status", "100")};
  assert_int_equal(h2_stream_additional_headers(st, i2, 1), 0);
  h2_header r[] = {H2_HDR("X-Mixed-Case", "Keep-Value"), H2_HDR(":status", "200"),
                   H2_HDR("content-type", "text/plain")};
  assert_int_equal(h2_stream_respond(st, r, 3, H2_WAIT_FOR_TRAILERS), 0);
  assert_int_equal(h2_stream_end_with(st, hello, sizeof hello - 1, NULL, NULL), 0);
}
static void ch_close(h2_stream *st, uint32_t code, void *u) {
  (void)code; (void)u;
  size_t n;
  const h2_header *h = h2_stream_sent_headers(st, &n);
  /* The request as sent: the defaults the API filled in included. */
  assert_non_null(h);
  assert_true(has(h, n, ":method", "GET"));
  assert_true(has(h, n, ":path", "/"));
  assert_true(has(h, n, ":scheme", "http"));
  assert_true(has(h, n, "x-req", "1"));
  assert_null(h2_stream_sent_trailers(st, &n));
  assert_int_equal(h2_stream_sent_info_count(st), 0);
  sent_checked_c++;
}

static void test_sent_headers(void **state) {
  (void)state;
  h2_options o;
  h2_options_default(&o);
  o.keep_sent_headers = 1;
  h2_session_callbacks sc;
  memset(&sc, 0, sizeof sc);
  sc.on_stream = sh_on_stream;
  pair p;
  make(&p, &o, &sc, 1000);
  sent_checked_s = sent_checked_c = 0;
  for (int i = 0; i < 2; i++) {
    h2_stream *st;
    h2_header h[] = {H2_HDR("X-Req", "1")};
    assert_int_equal(h2_session_request(p.c, &st, h, 1, H2_END_STREAM, NULL), 0);
    static const h2_stream_callbacks cb = {.on_close = ch_close};
    h2_stream_on(st, &cb, NULL);
  }
  pump(&p);
  assert_int_equal(sent_checked_s, 2);
  assert_int_equal(sent_checked_c, 2);
  unmake(&p);

  /* Off (the default): nothing is kept (the server refuses the stream). */
  h2_session_callbacks none;
  memset(&none, 0, sizeof none);
  pair q;
  make(&q, NULL, &none, 1000);
  h2_stream *st;
  h2_header h[] = {H2_HDR("x-req", "1")};
  assert_int_equal(h2_session_request(q.c, &st, h, 1, H2_END_STREAM, NULL), 0);
  size_t n = 9;
  assert_null(h2_stream_sent_headers(st, &n));
  assert_int_equal(n, 0);
  pump(&q);
  unmake(&q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_metrics),
    cmocka_unit_test(test_sent_headers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

