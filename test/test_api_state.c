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

/* Node's effectiveRecvDataLength / effectiveLocalWindowSize: DATA the
 * server holds unconsumed shows up, and drops once a WINDOW_UPDATE gives
 * it back. */
static void test_effective_window(void **state) {
  (void)state;
  h2_session *c, *s;
  make(&c, &s, NULL, NULL);
  h2_session_state st;
  h2_session_get_state(s, &st);
  assert_int_equal(st.effective_recv_data_length, 0);
  assert_int_equal(st.effective_local_window_size, 65535);
  h2_stream *rq;
  h2_header h[] = {H2_HDR(":method", "POST")};
  assert_int_equal(h2_session_request(c, &rq, h, 1, 0, NULL), 0);
  pump(c, s);
  assert_int_equal(sv.streams, 1);
  h2_stream_pause(sv.last); /* the server keeps what arrives unconsumed */
  static uint8_t body[40000];
  assert_true(h2_stream_write_copy(rq, body, 20000) >= 0);
  pump(c, s);
  h2_session_get_state(s, &st);
  assert_int_equal(st.effective_recv_data_length, 20000);
  assert_int_equal(st.local_window_size, 65535 - 20000);
  assert_int_equal(st.effective_local_window_size, 65535);
  /* Consumed, but under half the window: no WINDOW_UPDATE yet, so still
   * unreturned. */
  h2_stream_consume(sv.last, 20000);
  pump(c, s);
  h2_session_get_state(s, &st);
  assert_int_equal(st.effective_recv_data_length, 20000);
  assert_true(h2_stream_write_copy(rq, body, 20000) >= 0);
  pump(c, s);
  h2_session_get_state(s, &st);
  assert_int_equal(st.effective_recv_data_length, 40000);
  assert_int_equal(st.local_window_size, 65535 - 40000);
  /* 40000 consumed: past the threshold, the WINDOW_UPDATE returns it all. */
  h2_stream_consume(sv.last, 40000);
  pump(c, s);
  h2_session_get_state(s, &st);
  assert_int_equal(st.effective_recv_data_length, 0);
  assert_int_equal(st.local_window_size, 65535);
  assert_int_equal(st.effective_local_window_size, 65535);
  h2_session_free(c);
  h2_session_free(s);

  /* A larger connection window is granted at once. */
  h2_options o;
  h2_options_default(&o);
  o.connection_window_size = 1 << 20;
  make(&c, NULL, &o, NULL);
  h2_session_get_state(c, &st);
  assert_int_equal(st.effective_local_window_size, 1 << 20);
  assert_int_equal(st.local_window_size, 1 << 20);
  h2_session_free(c);
}

/* pendingSettingsAck is true from creation (the initial SETTINGS) until
 * the peer's ACK, and again for each h2_session_settings. */
static void test_pending_settings_ack(void **state) {
  (void)state;
  h2_session *c, *s;
  make(&c, &s, NULL, NULL);
  assert_true(cl.connect_pending_ack); /* inside on_connect */
  assert_true(h2_session_pending_settings_ack(c));
  assert_true(h2_session_pending_settings_ack(s));
  pump(c, s);
  assert_false(h2_session_pending_settings_ack(c));
  assert_false(h2_session_pending_settings_ack(s));
  h2_settings set;
  h2_settings_default(&set);
  set.initial_window_size = 100000;
  assert_int_equal(h2_session_settings(c, &set), 0);
  assert_true(h2_session_pending_settings_ack(c));
  pump(c, s);
  assert_false(h2_session_pending_settings_ack(c));
  h2_session_free(c);
  h2_session_free(s);
}

/* Node's destroyed: only h2_session_destroy sets it; closed covers both. */
static void test_destroyed(void **state) {
  (void)state;
  h2_session *c, *s;
  make(&c, &s, NULL, NULL);
  pump(c, s);
  assert_false(h2_session_destroyed(c));
  assert_false(h2_session_closed(c));
  h2_session_close(c);
  assert_true(h2_session_closed(c));
  assert_false(h2_session_destroyed(c));
  assert_false(h2_session_destroyed(s));
  h2_session_destroy(s, 0);
  assert_true(h2_session_destroyed(s));
  assert_true(h2_session_closed(s));
  h2_session_free(c);
  h2_session_free(s);
}

/* maxOutstandingPings: up to H2_MAX_OUTSTANDING_PINGS works in full, more
 * is refused with a message instead of being cut to the cap. */
static void test_max_pings(void **state) {
  (void)state;
  h2_options o;
  h2_options_default(&o);
  o.max_outstanding_pings = H2_MAX_OUTSTANDING_PINGS + 1;
  assert_int_equal(h2_options_validate(&o), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "maxOutstandingPings"));
  assert_non_null(strstr(h2_last_error_message(), "17"));
  h2_session *c;
  assert_int_equal(h2_session_new(&c, 0, &o, NULL, NULL, NULL), H2_ERR_INVALID_ARG);
  o.max_outstanding_pings = 1000;
  assert_int_equal(h2_options_validate(&o), H2_ERR_INVALID_ARG);

  o.max_outstanding_pings = H2_MAX_OUTSTANDING_PINGS;
  assert_int_equal(h2_options_validate(&o), 0);
  make(&c, NULL, &o, NULL);
  for (int i = 0; i < H2_MAX_OUTSTANDING_PINGS; i++)
    assert_int_equal(h2_session_ping(c, NULL, NULL, NULL), 0);
  assert_int_equal(h2_session_ping(c, NULL, NULL, NULL), H2_ERR_LIMIT);
  h2_session_free(c);

  /* The default stays Node's 10. */
  make(&c, NULL, NULL, NULL);
  for (int i = 0; i < 10; i++) assert_int_equal(h2_session_ping(c, NULL, NULL, NULL), 0);
  assert_int_equal(h2_session_ping(c, NULL, NULL, NULL), H2_ERR_LIMIT);
  h2_session_free(c);
}

/* Requests never sent (no pump) stay in the engine: their streams and
 * HEADERS. The count accepted before H2_ERR_LIMIT measures the session
 * memory cap in steps much finer than a megabyte. */
static int requests_until_limit(uint32_t memory_mb) {
  h2_options o;
  h2_options_default(&o);
  o.max_session_memory_mb = memory_mb;
  o.peer_max_concurrent_streams = 1000000; /* none wait in the API */
  h2_session *c;
  make(&c, NULL, &o, NULL);
  h2_header h[] = {H2_HDR(":path", "/")};
  int n = 0, rc = 0;
  for (; n < 1000000; n++) {
    h2_stream *st;
    if ((rc = h2_session_request(c, &st, h, 1, H2_END_STREAM, NULL)) != 0) break;
  }
  assert_int_equal(rc, H2_ERR_LIMIT);
  h2_session_free(c);
  return n;
}

/* A server pushes |n| streams on one request; returns how many the client
 * accepted (reserved, never answered). */
static int pushes_accepted(uint32_t max_reserved, int n) {
  h2_options o;
  h2_options_default(&o);
  o.max_reserved_remote_streams = max_reserved;
  h2_session *c, *s;
  make(&c, &s, &o, NULL);
  h2_stream *rq;
  assert_int_equal(h2_session_request(c, &rq, NULL, 0, H2_END_STREAM, NULL), 0);
  pump(c, s);
  assert_int_equal(sv.streams, 1);
  h2_header ph[] = {H2_HDR(":method", "GET"), H2_HDR(":path", "/p"), H2_HDR(":scheme", "http"),
                    H2_HDR(":authority", "localhost")};
  for (int i = 0; i < n; i++) {
    h2_stream *pushed;
    assert_int_equal(h2_stream_push(sv.last, &pushed, ph, 4), 0);
  }
  pump(c, s);
  int got = cl.pushes;
  h2_session_free(c);
  h2_session_free(s);
  return got;
}

/* The defaults h2.h documents (Node's): maxSessionMemory 10 MB,
 * maxReservedRemoteStreams 200. */
static void test_option_defaults(void **state) {
  (void)state;
  int def = requests_until_limit(0), ten = requests_until_limit(10);
  int sixteen = requests_until_limit(16);
  assert_int_equal(def, ten);
  assert_true(sixteen > def + def / 4);

  assert_int_equal(pushes_accepted(0, 250), 200);
  assert_int_equal(pushes_accepted(120, 250), 120);
}

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

/* Request headers are checked when h2_session_request is called, also
 * for a request that must wait for room under the peer's limit. */
static void test_request_checked_at_call(void **state) {
  (void)state;
  h2_options o;
  h2_options_default(&o);
  o.peer_max_concurrent_streams = 1;
  h2_session *c, *s;
  make(&c, &s, &o, NULL);
  h2_stream *first, *st;
  assert_int_equal(h2_session_request(c, &first, NULL, 0, 0, NULL), 0);
  assert_true(h2_stream_id(first) > 0);
  /* This one would wait: a connection-specific field is still refused now. */
  h2_header bad[] = {H2_HDR(":path", "/q"), H2_HDR("connection", "keep-alive")};
  st = NULL;
  assert_int_equal(h2_session_request(c, &st, bad, 2, H2_END_STREAM, NULL), H2_ERR_INVALID_ARG);
  assert_null(st);
  assert_non_null(strstr(h2_last_error_message(), "connection-specific"));
  h2_header crlf[] = {H2_HDR("x-a", "b\r\nc")};
  assert_int_equal(h2_session_request(c, &st, crlf, 1, H2_END_STREAM, NULL), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "field value"));
  h2_header te[] = {H2_HDR("te", "gzip")};
  assert_int_equal(h2_session_request(c, &st, te, 1, H2_END_STREAM, NULL), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "te"));
  /* A good one waits, then starts: nothing was refused. */
  h2_header good[] = {H2_HDR(":path", "/ok")};
  assert_int_equal(h2_session_request(c, &st, good, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &client_stream, NULL);
  assert_int_equal(h2_stream_id(st), 0);
  pump(c, s);
  assert_int_equal(cl.closes, 0);
  assert_true(h2_stream_id(st) > 0); /* the server's limit (100) let it start */
  h2_session_free(c);
  h2_session_free(s);
}

/* CONNECT (RFC 9113 §8.5): the caller's :authority, no :scheme nor :path;
 * extended CONNECT (RFC 8441) only once the server allowed it, and it gets
 * the defaults of an ordinary request. */
static void test_connect_requests(void **state) {
  (void)state;
  h2_options so;
  h2_options_default(&so);
  so.has_settings = 1;
  h2_settings_default(&so.settings);
  so.settings.enable_connect_protocol = 1;
  h2_session *c, *s;
  make(&c, &s, NULL, &so);
  h2_stream *st = NULL;
  h2_header no_auth[] = {H2_HDR(":method", "CONNECT")};
  assert_int_equal(h2_session_request(c, &st, no_auth, 1, 0, NULL), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "CONNECT without :authority"));
  h2_header with_path[] = {H2_HDR(":method", "CONNECT"), H2_HDR(":authority", "a.test:443"),
                           H2_HDR(":path", "/")};
  assert_int_equal(h2_session_request(c, &st, with_path, 3, 0, NULL), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "CONNECT with :scheme or :path"));
  h2_header ws[] = {H2_HDR(":method", "CONNECT"), H2_HDR(":protocol", "websocket")};
  assert_int_equal(h2_session_request(c, &st, ws, 2, 0, NULL), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "SETTINGS_ENABLE_CONNECT_PROTOCOL"));
  assert_null(st);

  h2_header ok[] = {H2_HDR(":method", "CONNECT"), H2_HDR(":authority", "a.test:443")};
  assert_int_equal(h2_session_request(c, &st, ok, 2, 0, NULL), 0);
  pump(c, s);
  assert_int_equal(sv.streams, 1);
  assert_string_equal(sv.method, "CONNECT");
  assert_true(sv.saw_authority);
  assert_false(sv.saw_scheme);
  assert_false(sv.saw_path);
  /* The server's SETTINGS have arrived: extended CONNECT is allowed, with
   * :scheme, :path and :authority filled in. */
  assert_int_equal(h2_session_request(c, &st, ws, 2, 0, NULL), 0);
  pump(c, s);
  assert_int_equal(sv.streams, 2);
  assert_string_equal(sv.protocol, "websocket");
  assert_true(sv.saw_scheme && sv.saw_path && sv.saw_authority);
  h2_session_free(c);
  h2_session_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_effective_window),
      cmocka_unit_test(test_pending_settings_ack),
      cmocka_unit_test(test_destroyed),
      cmocka_unit_test(test_max_pings),
      cmocka_unit_test(test_option_defaults),
      cmocka_unit_test(test_write_before_respond),
      cmocka_unit_test(test_request_checked_at_call),
      cmocka_unit_test(test_connect_requests),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
