/* test_api_state.c: what the session API reports and refuses, checked
 * against Node's http2 surface: session.state's effective receive window
 * and unreturned data, pendingSettingsAck, destroyed, the
 * maxOutstandingPings cap, the maxSessionMemory and
 * maxReservedRemoteStreams defaults, writes on a server stream before its
 * response, and request headers checked at call time (queued requests and
 * CONNECT included). Sessions run in memory (test/api_pair.c). */
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

typedef struct peer {
  int streams, pushes, closes, connect_pending_ack;
  uint32_t last_rst;
  h2_stream *last;
  char method[16];
  int saw_scheme, saw_path, saw_authority;
  char protocol[16];
} peer;

static peer cl, sv; /* what the client and the server saw */

static void c_close(h2_stream *st, uint32_t code, void *u) {
  (void)st; (void)u;
  cl.closes++;
  cl.last_rst = code;
}
static const h2_stream_callbacks client_stream = {.on_close = c_close};

static void s_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n, unsigned f,
                     void *u) {
  (void)s; (void)f; (void)u;
  sv.streams++;
  sv.last = st;
  const h2_header *m = h2_header_find(h, n, ":method");
  snprintf(sv.method, sizeof sv.method, "%.*s", m ? (int)m->value_len : 0, m ? m->value : "");
  const h2_header *p = h2_header_find(h, n, ":protocol");
  snprintf(sv.protocol, sizeof sv.protocol, "%.*s", p ? (int)p->value_len : 0, p ? p->value : "");
  sv.saw_scheme = h2_header_find(h, n, ":scheme") != NULL;
  sv.saw_path = h2_header_find(h, n, ":path") != NULL;
  sv.saw_authority = h2_header_find(h, n, ":authority") != NULL;
}

static void c_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n, unsigned f,
                     void *u) {
  (void)s; (void)st; (void)h; (void)n; (void)f; (void)u;
  cl.pushes++; /* a pushed stream: kept reserved */
}

static void on_connect(h2_session *s, void *u) {
  (void)u;
  cl.connect_pending_ack = h2_session_pending_settings_ack(s);
}

static const h2_session_callbacks server_cbs = {.on_stream = s_stream};
static const h2_session_callbacks client_cbs = {.on_stream = c_stream, .on_connect = on_connect};

static void make(h2_session **c, h2_session **s, const h2_options *co, const h2_options *so) {
  memset(&cl, 0, sizeof cl);
  memset(&sv, 0, sizeof sv);
  assert_int_equal(h2_session_new(c, 0, co, &client_cbs, NULL, NULL), 0);
  if (s) assert_int_equal(h2_session_new(s, 1, so, &server_cbs, NULL, NULL), 0);
}

static void pump(h2_session *c, h2_session *s) { api_pair_pump(c, s, NULL); }

/* A server stream takes no body before its response: write_copy refuses
 * like write, pushed streams included; after respond the body follows the
 * HEADERS. */
static void test_write_before_respond(void **state) {
  (void)state;
  h2_session *c, *s;
  make(&c, &s, NULL, NULL);
  h2_stream *rq;
  assert_int_equal(h2_session_request(c, &rq, NULL, 0, H2_END_STREAM, NULL), 0);
  h2_stream_on(rq, &client_stream, NULL);
  pump(c, s);
  assert_int_equal(sv.streams, 1);
  h2_stream *st = sv.last;
  assert_int_equal(h2_stream_write_copy(st, (const uint8_t *)"x", 1), H2_ERR_STATE);
  assert_int_equal(h2_stream_write(st, (const uint8_t *)"x", 1, NULL, NULL), H2_ERR_STATE);
  h2_header ph[] = {H2_HDR(":method", "GET"), H2_HDR(":path", "/p"), H2_HDR(":scheme", "http"),
                    H2_HDR(":authority", "localhost")};
  h2_stream *pushed;
  assert_int_equal(h2_stream_push(st, &pushed, ph, 4), 0);
  assert_int_equal(h2_stream_write_copy(pushed, (const uint8_t *)"early", 5), H2_ERR_STATE);
  assert_int_equal(h2_stream_buffer_size(pushed), 0);
  h2_header r[] = {H2_HDR(":status", "200")};
  assert_int_equal(h2_stream_respond(pushed, r, 1, 0), 0);
  assert_true(h2_stream_write_copy(pushed, (const uint8_t *)"late", 4) >= 0);
  assert_int_equal(h2_stream_end(pushed), 0);
  assert_int_equal(h2_stream_respond(st, r, 1, H2_END_STREAM), 0);
  pump(c, s);
  assert_int_equal(cl.pushes, 1);
  assert_int_equal(cl.closes, 1);
  assert_int_equal(cl.last_rst, 0);
  h2_session_free(c);
  h2_session_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_write_before_respond),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
