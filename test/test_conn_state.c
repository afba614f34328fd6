/* test_conn_state.c: stream and connection life cycles through a client
 * and a server engine wired back to back: the §5.1 states a request goes
 * through on both sides, 1xx + trailers, resets both ways, PING RTT,
 * several SETTINGS in flight applied at their ACKs, the SETTINGS timeout,
 * GOAWAY received and sent (graceful; an error GOAWAY ends input), server push accepted and refused,
 * extended CONNECT, ALTSVC/ORIGIN, PRIORITY, frame traces, EOF. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2_conn.h"
#include "util_conn.h"

typedef struct duo {
  h2_conn *cli, *srv;
  tc_rec crec, srec;
  int traces;
} duo;

static int trace_cb(h2_conn *c, const h2_conn_event *ev, void *user);

static void duo_new(duo *d, const h2_conn_config *cc, const h2_conn_config *sc) {
  memset(d, 0, sizeof *d);
  d->cli = h2_conn_new(H2_CONN_CLIENT, cc, NULL, tc_cb, &d->crec);
  d->srv = h2_conn_new(H2_CONN_SERVER, sc, NULL, tc_cb, &d->srec);
  assert_non_null(d->cli);
  assert_non_null(d->srv);
  tc_pump_both(d->cli, d->srv, 0);
}

static void duo_free(duo *d) {
  h2_conn_free(d->cli);
  h2_conn_free(d->srv);
  tc_rec_free(&d->crec);
  tc_rec_free(&d->srec);
}

static const h2_hpack_field GET[] = {{":method", 7, "GET", 3, 0},
                                     {":scheme", 7, "https", 5, 0},
                                     {":authority", 10, "example.com", 11, 0},
                                     {":path", 5, "/", 1, 0}};
static const h2_hpack_field POST[] = {{":method", 7, "POST", 4, 0},
                                      {":scheme", 7, "https", 5, 0},
                                      {":authority", 10, "example.com", 11, 0},
                                      {":path", 5, "/", 1, 0}};
static const h2_hpack_field R200[] = {{":status", 7, "200", 3, 0}};

static void test_request_lifecycle(void **state) {
  (void)state;
  duo d;
  duo_new(&d, NULL, NULL);
  int x;
  int32_t id = h2_conn_submit_request(d.cli, POST, 4, NULL, 0, &x);
  assert_int_equal(id, 1);
  assert_int_equal(h2_conn_stream_state(d.cli, 1), H2_STREAM_OPEN);
  assert_ptr_equal(h2_conn_stream_user(d.cli, 1), &x);
  assert_int_equal(h2_conn_stream_state(d.cli, 3), H2_STREAM_IDLE);
  assert_int_equal(h2_conn_num_streams(d.cli, 1), 1);
  assert_int_equal(h2_conn_submit_data(d.cli, 1, (const uint8_t *)"ping", 4, H2_CONN_DATA_END_STREAM, NULL), 0);
  tc_pump_both(d.cli, d.srv, 0);
  assert_int_equal(h2_conn_stream_state(d.cli, 1), H2_STREAM_HALF_CLOSED_LOCAL);
  assert_int_equal(h2_conn_stream_state(d.srv, 1), H2_STREAM_HALF_CLOSED_REMOTE);
  assert_int_equal(h2_conn_last_peer_stream_id(d.srv), 1);
  assert_non_null(strstr(tc_log(&d.srec), "HEADERS s=1 request :method=POST"));
  assert_non_null(strstr(tc_log(&d.srec), "DATA s=1 len=4 hash=") );
  assert_non_null(strstr(tc_log(&d.srec), "END s=1\n"));
  /* 103, then 200 + body + trailers */
  static const h2_hpack_field early[] = {{":status", 7, "103", 3, 0}, {"link", 4, "</s.css>", 8, 0}};
  assert_int_equal(h2_conn_submit_info(d.srv, 1, early, 2), 0);
  assert_int_equal(h2_conn_submit_info(d.srv, 1, R200, 1), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_conn_submit_response(d.srv, 1, early, 2, 0), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_conn_submit_response(d.srv, 1, R200, 1, 0), 0);
  assert_int_equal(h2_conn_submit_response(d.srv, 1, R200, 1, 0), H2_ERR_STATE);
  assert_int_equal(h2_conn_submit_data(d.srv, 1, (const uint8_t *)"pong", 4, 0, NULL), 0);
  static const h2_hpack_field tr[] = {{"x-sum", 5, "42", 2, 0}};
  static const h2_hpack_field badtr[] = {{":status", 7, "200", 3, 0}};
  assert_int_equal(h2_conn_submit_trailers(d.srv, 1, badtr, 1), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_conn_submit_trailers(d.srv, 1, tr, 1), 0);
  tc_pump_both(d.cli, d.srv, 0);
  const char *log = tc_log(&d.crec);
  const char *a = strstr(log, "HEADERS s=1 info :status=103 link=</s.css>");
  const char *b = strstr(log, "HEADERS s=1 response :status=200");
  const char *c = strstr(log, "DATA s=1 len=4");
  const char *e = strstr(log, "HEADERS s=1 trailers END x-sum=42\nEND s=1\nCLOSED s=1 reason=1 code=0");
  assert_true(a && b && c && e && a < b && b < c && c < e);
  assert_int_equal(h2_conn_stream_state(d.cli, 1), H2_STREAM_CLOSED);
  assert_int_equal(h2_conn_stream_state(d.srv, 1), H2_STREAM_CLOSED);
  assert_non_null(strstr(tc_log(&d.srec), "CLOSED s=1 reason=1"));
  assert_int_equal(h2_conn_num_streams(d.cli, 1), 0);
  assert_int_equal(h2_conn_num_streams(d.srv, 0), 0);
  assert_int_equal(h2_conn_submit_data(d.srv, 1, (const uint8_t *)"x", 1, 0, NULL), H2_ERR_NOT_FOUND);
  duo_free(&d);
}

static void test_resets(void **state) {
  (void)state;
  duo d;
  duo_new(&d, NULL, NULL);
  assert_int_equal(h2_conn_submit_request(d.cli, POST, 4, NULL, 0, NULL), 1);
  assert_int_equal(h2_conn_submit_request(d.cli, POST, 4, NULL, 0, NULL), 3);
  tc_pump_both(d.cli, d.srv, 0);
  /* client cancels 1: the server sees a remote reset */
  assert_int_equal(h2_conn_submit_rst(d.cli, 1, 8), 0);
  assert_int_equal(h2_conn_submit_rst(d.cli, 1, 8), 0); /* idempotent */
  /* server refuses 3 */
  assert_int_equal(h2_conn_submit_rst(d.srv, 3, 7), 0);
  tc_pump_both(d.cli, d.srv, 0);
  const char *sl = tc_log(&d.srec);
  assert_non_null(strstr(sl, "RESET s=1 code=8 remote\nCLOSED s=1 reason=2 code=8"));
  assert_non_null(strstr(sl, "RESET s=3 code=7 local\nCLOSED s=3 reason=3 code=7"));
  const char *cl = tc_log(&d.crec);
  assert_non_null(strstr(cl, "RESET s=1 code=8 local\nCLOSED s=1 reason=3 code=8"));
  assert_non_null(strstr(cl, "RESET s=3 code=7 remote\nCLOSED s=3 reason=2 code=7"));
  assert_int_equal(h2_conn_submit_rst(d.cli, 1, 8), H2_ERR_NOT_FOUND);
  assert_int_equal(d.crec.conn_errors + d.srec.conn_errors, 0);
  duo_free(&d);
}

static void test_ping_rtt(void **state) {
  (void)state;
  duo d;
  duo_new(&d, NULL, NULL);
  assert_int_equal(h2_conn_submit_ping(d.cli, (const uint8_t *)"12345678", 100), 0);
  tc_pump(d.cli, d.srv, 120);
  tc_pump(d.srv, d.cli, 142);
  assert_non_null(strstr(tc_log(&d.srec), "PING\n"));
  assert_non_null(strstr(tc_log(&d.crec), "PING_ACK rtt=42\n"));
  for (int i = 0; i < 16; i++) assert_int_equal(h2_conn_submit_ping(d.cli, NULL, 0), 0);
  assert_int_equal(h2_conn_submit_ping(d.cli, NULL, 0), H2_ERR_LIMIT);
  duo_free(&d);
}

static void test_settings_in_flight(void **state) {
  (void)state;
  /* The initial SETTINGS is unacked from h2_conn_new on, before any time
   * was given. */
  tc_rec r0 = {0};
  h2_conn *lone = h2_conn_new(H2_CONN_SERVER, NULL, NULL, tc_cb, &r0);
  assert_int_equal(h2_conn_pending_settings(lone), 1);
  h2_conn_free(lone);
  tc_rec_free(&r0);
  duo d;
  duo_new(&d, NULL, NULL);
  assert_int_equal(h2_conn_pending_settings(d.cli), 0);
  assert_int_equal(h2_conn_pending_settings(d.srv), 0);
  h2_frame_setting a = {H2_SETTINGS_INITIAL_WINDOW_SIZE, 1000};
  h2_frame_setting b = {H2_SETTINGS_MAX_CONCURRENT_STREAMS, 5};
  h2_frame_setting bad = {H2_SETTINGS_MAX_FRAME_SIZE, 10};
  assert_int_equal(h2_conn_submit_settings(d.cli, &bad, 1, 0), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_conn_submit_settings(d.cli, &a, 1, 0), 0);
  assert_int_equal(h2_conn_submit_settings(d.cli, &b, 1, 0), 0);
  assert_int_equal(h2_conn_local_settings(d.cli)->initial_window_size, 65535);
  assert_int_equal(h2_conn_pending_settings(d.cli), 2);
  tc_pump(d.cli, d.srv, 0);
  assert_int_equal(h2_conn_remote_settings(d.srv)->initial_window_size, 1000);
  assert_int_equal(h2_conn_remote_settings(d.srv)->max_concurrent_streams, 5);
  assert_int_equal(h2_conn_local_settings(d.cli)->max_concurrent_streams, 100);
  tc_pump(d.srv, d.cli, 0);
  assert_int_equal(h2_conn_local_settings(d.cli)->initial_window_size, 1000);
  assert_int_equal(h2_conn_local_settings(d.cli)->max_concurrent_streams, 5);
  assert_int_equal(h2_conn_pending_settings(d.cli), 0);
  const char *log = tc_log(&d.crec);
  size_t acks = 0;
  for (const char *p = log; (p = strstr(p, "SETTINGS_ACK")) != NULL; p++) acks++;
  assert_int_equal(acks, 3); /* the initial one + two */
  /* ENABLE_CONNECT_PROTOCOL cannot be withdrawn */
  h2_frame_setting on = {H2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1}, off = {H2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 0};
  assert_int_equal(h2_conn_submit_settings(d.srv, &on, 1, 0), 0);
  assert_int_equal(h2_conn_submit_settings(d.srv, &off, 1, 0), H2_ERR_STATE);
  duo_free(&d);
}

/* Closed streams: how each ended is remembered (a reset by the peer makes
 * late DATA a stream error, a reset of ours makes it ignored) while the
 * ring holds few ids (scanned) and after it outgrows that into its id map;
 * beyond max_closed_streams the oldest are forgotten (late DATA is then a
 * stream error). Streams 1, 5, 9, ... are reset by the peer first, then
 * 3, 7, 11, ... by us. Returns the frames the late DATA produced. */
static char *closed_run(uint32_t max_closed, uint32_t n) {
  static const char *const req[] = {":method", "POST", ":scheme", "https", ":authority", "a",
                                    ":path", "/", NULL};
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  cfg.max_closed_streams = max_closed;
  tc_rec rec = {0};
  h2_conn *c = h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, &rec);
  assert_non_null(c);
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  for (uint32_t i = 0; i < n; i++) tc_headers(&s, 2 * i + 1, 0, 0, req);
  for (uint32_t i = 0; i < n; i += 2) tc_rst(&s, 2 * i + 1, 8);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  for (uint32_t i = 1; i < n; i += 2) assert_int_equal(h2_conn_submit_rst(c, 2 * i + 1, 8), 0);
  tc_drain(c, NULL);
  assert_int_equal(h2_conn_num_streams(c, 0), 0);
  tc_script_free(&s);
  tc_script_init(&s);
  for (uint32_t i = 0; i < n; i++) tc_data(&s, 2 * i + 1, 0, "x", 1, 0);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  tc_buf out = {0};
  tc_drain(c, &out);
  char *t = tc_frames_text(out.p, out.len);
  tc_buf_free(&out);
  tc_script_free(&s);
  tc_rec_free(&rec);
  h2_conn_free(c);
  return t;
}

static int has_rst(const char *t, uint32_t id) {
  char want[64];
  snprintf(want, sizeof want, "[RST_STREAM] stream=%u ", id);
  return strstr(t, want) != NULL;
}

static void test_closed_kinds_remembered(void **state) {
  (void)state;
  /* 6 closed (scanned ring), 12 (id map), 12 with the 2 oldest forgotten */
  const uint32_t ns[] = {6, 12, 12}, maxes[] = {1000, 1000, 10};
  for (int k = 0; k < 3; k++) {
    char *t = closed_run(maxes[k], ns[k]);
    uint32_t forgotten = ns[k] > maxes[k] ? ns[k] - maxes[k] : 0;
    for (uint32_t i = 0; i < ns[k]; i++) {
      uint32_t id = 2 * i + 1;
      int by_peer = i % 2 == 0;
      int forgot = i / 2 < forgotten && by_peer; /* the peer's resets closed first */
      if (has_rst(t, id) != (by_peer || forgot)) fail_msg("case %d stream %u:\n%s", k, id, t);
    }
    free(t);
  }
}

/* One round of closed_rounds: opens |n| streams from |*next|, the peer
 * resets every other one first and we reset the rest; with |late|, then
 * sends DATA on each and returns the frames that produced (else NULL). */
static char *closed_round(h2_conn *c, uint32_t *next, uint32_t n, int late) {
  static const char *const req[] = {":method", "POST", ":scheme", "https", ":authority", "a",
                                    ":path", "/", NULL};
  tc_script s;
  tc_script_init(&s);
  uint32_t first = *next;
  for (uint32_t i = 0; i < n; i++) tc_headers(&s, first + 2 * i, 0, 0, req);
  for (uint32_t i = 0; i < n; i += 2) tc_rst(&s, first + 2 * i, 8);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  for (uint32_t i = 1; i < n; i += 2) assert_int_equal(h2_conn_submit_rst(c, first + 2 * i, 8), 0);
  tc_drain(c, NULL);
  tc_script_free(&s);
  *next = first + 2 * n;
  if (!late) return NULL;
  tc_script_init(&s);
  for (uint32_t i = 0; i < n; i++) tc_data(&s, first + 2 * i, 0, "x", 1, 0);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  tc_buf out = {0};
  tc_drain(c, &out);
  char *t = tc_frames_text(out.p, out.len);
  tc_buf_free(&out);
  tc_script_free(&s);
  return t;
}

/* The id map over closed ids is built at a lookup, dropped after a ring of
 * closes without one and built again: how each stream ended stays right
 * through all of it (ring of 16: the map is in use). */
static void test_closed_index_rebuilt(void **state) {
  (void)state;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  cfg.max_closed_streams = 16;
  tc_rec rec = {0};
  h2_conn *c = h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, &rec);
  assert_non_null(c);
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  tc_script_free(&s);
  uint32_t next = 1;
  /* 16 closed, looked up: the map is built (each lookup finds the kind) */
  char *t = closed_round(c, &next, 16, 1);
  for (uint32_t i = 0; i < 16; i++)
    if (has_rst(t, 1 + 2 * i) != (i % 2 == 0)) fail_msg("round 1 stream %u:\n%s", 1 + 2 * i, t);
  free(t);
  /* 40 more closed with no lookup (the map goes), then 6 more looked up:
   * the newest 16 are remembered, the ones before are forgotten */
  uint32_t mid = next;
  closed_round(c, &next, 40, 0);
  uint32_t last = next;
  t = closed_round(c, &next, 6, 1);
  for (uint32_t i = 0; i < 6; i++)
    if (has_rst(t, last + 2 * i) != (i % 2 == 0)) fail_msg("round 3 stream %u:\n%s", last + 2 * i, t);
  free(t);
  /* late DATA on round 2: its last 10 are remembered, the first 30 not
   * (a stream error whoever reset them; sent last, as each such error
   * remembers one more id) */
  tc_script_init(&s);
  static const uint32_t picks[] = {30, 31, 34, 35, 38, 39, 0, 1, 28, 29};
  for (size_t k = 0; k < 10; k++) tc_data(&s, mid + 2 * picks[k], 0, "x", 1, 0);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  tc_buf out = {0};
  tc_drain(c, &out);
  t = tc_frames_text(out.p, out.len);
  for (size_t k = 0; k < 10; k++) {
    uint32_t i = picks[k];
    int remembered = i >= 30, by_us = i % 2 == 1;
    if (has_rst(t, mid + 2 * i) != !(remembered && by_us)) fail_msg("round 2 stream %u:\n%s", mid + 2 * i, t);
  }
  free(t);
  tc_buf_free(&out);
  tc_script_free(&s);
  assert_false(h2_conn_is_closed(c));
  tc_rec_free(&rec);
  h2_conn_free(c);
}

static void test_settings_timeout(void **state) {
  (void)state;
  tc_rec rec = {0};
  h2_conn *c = h2_conn_new(H2_CONN_CLIENT, NULL, NULL, tc_cb, &rec);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  tc_buf out = {0};
  uint8_t buf[256];
  assert_true(h2_conn_send(c, buf, sizeof buf, 5000) > 0);
  assert_int_equal(h2_conn_next_deadline(c), 15000);
  assert_int_equal(h2_conn_timeout(c, 14999), 0);
  assert_int_equal(h2_conn_timeout(c, 15000), H2_ERR_SETTINGS_TIMEOUT);
  tc_drain(c, &out);
  char *t = tc_frames_text(out.p, out.len);
  assert_non_null(strstr(t, "[GOAWAY]"));
  assert_non_null(strstr(t, "SETTINGS_TIMEOUT"));
  free(t);
  assert_true(h2_conn_is_closed(c));
  assert_int_equal(h2_conn_want_read(c), 0);
  tc_buf_free(&out);
  tc_rec_free(&rec);
  h2_conn_free(c);
}

static void test_goaway_received(void **state) {
  (void)state;
  duo d;
  duo_new(&d, NULL, NULL);
  for (int i = 0; i < 3; i++) assert_true(h2_conn_submit_request(d.cli, POST, 4, NULL, 0, NULL) > 0);
  tc_pump(d.cli, d.srv, 0);
  /* the server only processed stream 1: GOAWAY last=1 (graceful) */
  assert_int_equal(h2_conn_submit_goaway(d.srv, 0, 1, (const uint8_t *)"bye", 3), 0);
  tc_pump(d.srv, d.cli, 0);
  const char *log = tc_log(&d.crec);
  assert_non_null(strstr(log, "GOAWAY last=1 code=0\n"));
  assert_non_null(strstr(log, "CLOSED s=3 reason=4"));
  assert_non_null(strstr(log, "CLOSED s=5 reason=4"));
  assert_int_equal(h2_conn_stream_state(d.cli, 1), H2_STREAM_OPEN);
  assert_int_equal(h2_conn_submit_request(d.cli, GET, 4, NULL, 1, NULL), H2_ERR_STATE);
  /* stream 1 still completes */
  assert_int_equal(h2_conn_submit_data(d.cli, 1, NULL, 0, H2_CONN_DATA_END_STREAM, NULL), 0);
  tc_pump_both(d.cli, d.srv, 0);
  assert_int_equal(h2_conn_submit_response(d.srv, 1, R200, 1, 1), 0);
  tc_pump_both(d.cli, d.srv, 0);
  assert_non_null(strstr(tc_log(&d.crec), "CLOSED s=1 reason=1"));
  assert_true(h2_conn_is_closed(d.cli));
  duo_free(&d);
}

/* tail_after_goaway returns the frame lines |out| holds after its GOAWAY
 * (asserting there is one): what was written after it. */
static char *tail_after_goaway(const tc_buf *out) {
  char *t = tc_frames_text(out->p, out->len);
  char *g = strstr(t, "[GOAWAY]");
  assert_non_null(g);
  char *nl = strchr(g, '\n');
  char *tail = strdup(nl ? nl + 1 : "");
  free(t);
  return tail;
}

typedef struct goaway_rec {
  tc_rec rec; /* first: tc_cb gets the same pointer */
  int on_settings;
} goaway_rec;

static int goaway_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  goaway_rec *g = user;
  if (ev->type == H2_CONN_EV_SETTINGS && g->on_settings)
    assert_int_equal(h2_conn_submit_goaway(c, 2, H2_MAX_STREAM_ID, NULL, 0), 0);
  return tc_cb(c, ev, &g->rec);
}

/* After our GOAWAY with an error code nothing more is written (RFC 9113
 * 5.4.1): peer frames completed later, or later in the same input when the
 * GOAWAY came from a callback, are not processed, so no SETTINGS or PING ACK
 * follows it (fuzz_conn_client repro_ack_after_error_goaway). */
static void test_error_goaway_ends_input(void **state) {
  (void)state;
  static const h2_frame_setting es[2] = {{H2_SETTINGS_ENABLE_PUSH, 0}, {H2_SETTINGS_MAX_FRAME_SIZE, 16384}};
  /* (1) between calls: the server's SETTINGS arrives cut around it */
  tc_rec rec = {0};
  h2_conn *c = h2_conn_new(H2_CONN_CLIENT, NULL, NULL, tc_cb, &rec);
  tc_buf out = {0};
  tc_drain(c, &out);
  tc_script sc;
  tc_script_init(&sc);
  tc_settings(&sc, es, 2);
  tc_ping(&sc, 0, 7);
  assert_int_equal(h2_conn_recv(c, sc.out.p, 14, 0), 14);
  assert_int_equal(h2_conn_submit_goaway(c, 3, H2_MAX_STREAM_ID, (const uint8_t *)"x", 1), 0);
  assert_int_equal(h2_conn_recv(c, sc.out.p + 14, sc.out.len - 14, 0), (int)(sc.out.len - 14));
  tc_drain(c, &out);
  char *tail = tail_after_goaway(&out);
  assert_string_equal(tail, "");
  free(tail);
  assert_null(strstr(tc_log(&rec), "PING"));
  assert_true(h2_conn_is_closed(c));
  h2_conn_free(c);
  tc_rec_free(&rec);
  tc_buf_free(&out);
  tc_script_free(&sc);
  /* (2) from the SETTINGS event: the PING behind it in the same input */
  goaway_rec g;
  memset(&g, 0, sizeof g);
  g.on_settings = 1;
  c = h2_conn_new(H2_CONN_SERVER, NULL, NULL, goaway_cb, &g);
  tc_drain(c, &out);
  tc_script_init(&sc);
  tc_preface(&sc);
  tc_settings(&sc, es, 2);
  tc_ping(&sc, 0, 7);
  assert_int_equal(h2_conn_recv(c, sc.out.p, sc.out.len, 0), (int)sc.out.len);
  tc_drain(c, &out);
  char *t = tc_frames_text(out.p, out.len);
  assert_non_null(strstr(t, "flags=ACK")); /* the SETTINGS ACK, queued before the event */
  free(t);
  tail = tail_after_goaway(&out);
  assert_string_equal(tail, "");
  free(tail);
  assert_null(strstr(tc_log(&g.rec), "PING"));
  h2_conn_free(c);
  tc_rec_free(&g.rec);
  tc_buf_free(&out);
  tc_script_free(&sc);
  /* (3) the application after it: RST_STREAM refused, consumed DATA gives
   * no WINDOW_UPDATE (fuzz_conn_client repro_rst_after_error_goaway) */
  memset(&rec, 0, sizeof rec);
  c = h2_conn_new(H2_CONN_CLIENT, NULL, NULL, tc_cb, &rec);
  assert_int_equal(h2_conn_submit_request(c, GET, 4, NULL, 1, NULL), 1);
  tc_drain(c, &out);
  tc_script_init(&sc);
  tc_settings(&sc, NULL, 0);
  static const char *const r200[] = {":status", "200", NULL};
  tc_headers(&sc, 1, H2_FLAG_END_HEADERS, 0, r200);
  static uint8_t body[16000];
  for (int i = 0; i < 3; i++) tc_data(&sc, 1, 0, body, sizeof body, 0);
  assert_int_equal(h2_conn_recv(c, sc.out.p, sc.out.len, 0), (int)sc.out.len);
  assert_int_equal(h2_conn_submit_goaway(c, 2, H2_MAX_STREAM_ID, NULL, 0), 0);
  assert_int_equal(h2_conn_consume(c, 1, 3 * sizeof body), 0);
  assert_int_equal(h2_conn_submit_rst(c, 1, 8), H2_ERR_CLOSED);
  tc_drain(c, &out);
  tail = tail_after_goaway(&out);
  assert_string_equal(tail, "");
  free(tail);
  assert_non_null(strstr(tc_log(&rec), "CLOSED s=1 reason=5"));
  h2_conn_free(c);
  tc_rec_free(&rec);
  tc_buf_free(&out);
  tc_script_free(&sc);
}

static void test_push(void **state) {
  (void)state;
  duo d;
  duo_new(&d, NULL, NULL);
  assert_int_equal(h2_conn_submit_request(d.cli, GET, 4, NULL, 1, NULL), 1);
  tc_pump_both(d.cli, d.srv, 0);
  static const h2_hpack_field preq[] = {{":method", 7, "GET", 3, 0},
                                        {":scheme", 7, "https", 5, 0},
                                        {":authority", 10, "example.com", 11, 0},
                                        {":path", 5, "/style.css", 10, 0}};
  static const h2_hpack_field bad[] = {{":method", 7, "POST", 4, 0},
                                       {":scheme", 7, "https", 5, 0},
                                       {":authority", 10, "example.com", 11, 0},
                                       {":path", 5, "/x", 2, 0}};
  assert_int_equal(h2_conn_submit_push_promise(d.srv, 1, bad, 4, NULL), H2_ERR_INVALID_ARG);
  int32_t pid = h2_conn_submit_push_promise(d.srv, 1, preq, 4, NULL);
  assert_int_equal(pid, 2);
  assert_int_equal(h2_conn_stream_state(d.srv, 2), H2_STREAM_RESERVED_LOCAL);
  assert_int_equal(h2_conn_submit_push_promise(d.srv, 2, preq, 4, NULL), H2_ERR_STATE); /* not on a pushed stream */
  /* No DATA (nor END_STREAM) before the pushed response's HEADERS. */
  assert_int_equal(h2_conn_submit_data(d.srv, 2, (const uint8_t *)"early", 5, 0, NULL), H2_ERR_STATE);
  assert_int_equal(h2_conn_submit_data(d.srv, 2, NULL, 0, H2_CONN_DATA_END_STREAM, NULL), H2_ERR_STATE);
  /* Nor on the request stream before its final response (1xx or not). */
  assert_int_equal(h2_conn_submit_data(d.srv, 1, (const uint8_t *)"early", 5, 0, NULL), H2_ERR_STATE);
  static const h2_hpack_field r103[] = {{":status", 7, "103", 3, 0}};
  assert_int_equal(h2_conn_submit_info(d.srv, 1, r103, 1), 0);
  assert_int_equal(h2_conn_submit_data(d.srv, 1, (const uint8_t *)"early", 5, 0, NULL), H2_ERR_STATE);
  assert_int_equal(h2_conn_submit_response(d.srv, 1, R200, 1, 1), 0);
  assert_int_equal(h2_conn_submit_response(d.srv, 2, R200, 1, 0), 0);
  assert_int_equal(h2_conn_stream_state(d.srv, 2), H2_STREAM_HALF_CLOSED_REMOTE);
  assert_int_equal(h2_conn_submit_data(d.srv, 2, (const uint8_t *)"body{}", 6, H2_CONN_DATA_END_STREAM, NULL), 0);
  tc_pump_both(d.cli, d.srv, 0);
  const char *log = tc_log(&d.crec);
  const char *a = strstr(log, "HEADERS s=1 push promised=2 :method=GET :scheme=https :authority=example.com :path=/style.css");
  const char *b = strstr(log, "HEADERS s=2 response :status=200");
  const char *c = strstr(log, "DATA s=2 len=6");
  const char *e = strstr(log, "CLOSED s=2 reason=1");
  if (!(a && b && c && e)) fprintf(stderr, "%s", log);
  assert_true(a && b && c && e && a < b && b < c && c < e);
  assert_non_null(strstr(tc_log(&d.srec), "CLOSED s=2 reason=1"));
  duo_free(&d);

  /* A client that disabled push: the server may not push. */
  h2_conn_config cc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  cc.settings.enable_push = 0;
  duo_new(&d, &cc, NULL);
  assert_int_equal(h2_conn_submit_request(d.cli, GET, 4, NULL, 1, NULL), 1);
  tc_pump_both(d.cli, d.srv, 0);
  assert_int_equal(h2_conn_submit_push_promise(d.srv, 1, preq, 4, NULL), H2_ERR_STATE);
  duo_free(&d);
}

static void test_refuse_push_by_rst(void **state) {
  (void)state;
  duo d;
  duo_new(&d, NULL, NULL);
  assert_int_equal(h2_conn_submit_request(d.cli, GET, 4, NULL, 1, NULL), 1);
  tc_pump_both(d.cli, d.srv, 0);
  static const h2_hpack_field preq[] = {{":method", 7, "GET", 3, 0},
                                        {":scheme", 7, "https", 5, 0},
                                        {":authority", 10, "a", 1, 0},
                                        {":path", 5, "/p", 2, 0}};
  assert_int_equal(h2_conn_submit_push_promise(d.srv, 1, preq, 4, NULL), 2);
  tc_pump(d.srv, d.cli, 0);
  assert_int_equal(h2_conn_stream_state(d.cli, 2), H2_STREAM_RESERVED_REMOTE);
  assert_int_equal(h2_conn_submit_rst(d.cli, 2, 8), 0); /* CANCEL the push */
  tc_pump_both(d.cli, d.srv, 0);
  assert_non_null(strstr(tc_log(&d.srec), "RESET s=2 code=8 remote"));
  assert_int_equal(h2_conn_stream_state(d.srv, 2), H2_STREAM_CLOSED);
  duo_free(&d);
}

static void test_extended_connect(void **state) {
  (void)state;
  static const h2_hpack_field ws[] = {{":method", 7, "CONNECT", 7, 0}, {":protocol", 9, "websocket", 9, 0},
                                      {":scheme", 7, "https", 5, 0},   {":path", 5, "/chat", 5, 0},
                                      {":authority", 10, "a", 1, 0}};
  duo d;
  duo_new(&d, NULL, NULL);
  assert_int_equal(h2_conn_submit_request(d.cli, ws, 5, NULL, 0, NULL), H2_ERR_INVALID_ARG);
  duo_free(&d);
  h2_conn_config sc;
  h2_conn_config_init(&sc, H2_CONN_SERVER);
  sc.settings.enable_connect_protocol = 1;
  duo_new(&d, NULL, &sc);
  assert_int_equal(h2_conn_remote_settings(d.cli)->enable_connect_protocol, 1);
  assert_int_equal(h2_conn_submit_request(d.cli, ws, 5, NULL, 0, NULL), 1);
  tc_pump_both(d.cli, d.srv, 0);
  assert_non_null(strstr(tc_log(&d.srec), "HEADERS s=1 request :method=CONNECT :protocol=websocket"));
  duo_free(&d);
}

static void test_altsvc_origin_priority(void **state) {
  (void)state;
  duo d;
  duo_new(&d, NULL, NULL);
  assert_int_equal(h2_conn_submit_altsvc(d.srv, 0, "https://a.example", 17, "h2=\":8443\"", 10), 0);
  const char *origins[] = {"https://a.example", "https://b.example"};
  size_t lens[] = {17, 17};
  assert_int_equal(h2_conn_submit_origin(d.srv, origins, lens, 2), 0);
  assert_int_equal(h2_conn_submit_altsvc(d.cli, 0, "x", 1, "y", 1), H2_ERR_STATE);
  h2_frame_prio p = {0, 200, 0};
  assert_int_equal(h2_conn_submit_priority(d.cli, 1, &p), 0);
  h2_frame_prio self = {3, 16, 0};
  assert_int_equal(h2_conn_submit_priority(d.cli, 3, &self), H2_ERR_INVALID_ARG);
  tc_pump_both(d.cli, d.srv, 0);
  assert_non_null(strstr(tc_log(&d.crec), "ALTSVC s=0\nORIGIN\n"));
  assert_non_null(strstr(tc_log(&d.srec), "PRIORITY s=1\n"));
  duo_free(&d);
}

static int trace_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  duo *d = user;
  if (ev->type == H2_CONN_EV_FRAME_RECV || ev->type == H2_CONN_EV_FRAME_SENT) {
    char line[256];
    h2_frame_print(line, sizeof line, ev->u.frame.frame);
    d->traces++;
    if (ev->type == H2_CONN_EV_FRAME_SENT) tc_buf_put(&d->srec.log, "> ", 2);
    else tc_buf_put(&d->srec.log, "< ", 2);
    tc_buf_put(&d->srec.log, line, strlen(line));
    tc_buf_put(&d->srec.log, "\n", 1);
    return 0;
  }
  (void)c;
  return 0;
}

static void test_trace_and_eof(void **state) {
  (void)state;
  duo d;
  memset(&d, 0, sizeof d);
  d.cli = h2_conn_new(H2_CONN_CLIENT, NULL, NULL, tc_cb, &d.crec);
  d.srv = h2_conn_new(H2_CONN_SERVER, NULL, NULL, trace_cb, &d);
  h2_conn_set_trace(d.srv, 1);
  assert_int_equal(h2_conn_submit_request(d.cli, GET, 4, NULL, 1, NULL), 1);
  tc_pump_both(d.cli, d.srv, 0);
  assert_int_equal(h2_conn_submit_response(d.srv, 1, R200, 1, 0), 0);
  assert_int_equal(h2_conn_submit_data(d.srv, 1, (const uint8_t *)"abc", 3, 0, NULL), 0);
  tc_pump_both(d.cli, d.srv, 0);
  const char *log = (const char *)d.srec.log.p;
  assert_non_null(strstr(log, "< [SETTINGS] stream=0"));
  assert_non_null(strstr(log, "< [HEADERS] stream=1"));
  assert_non_null(strstr(log, "> [SETTINGS] stream=0"));
  assert_non_null(strstr(log, "> [HEADERS] stream=1"));
  assert_non_null(strstr(log, "> [DATA] stream=1 len=3"));
  /* EOF: the open stream is closed with reason CONNECTION */
  assert_int_equal(h2_conn_recv_eof(d.cli, 0), 0);
  assert_non_null(strstr(tc_log(&d.crec), "CLOSED s=1 reason=5"));
  assert_true(h2_conn_is_closed(d.cli));
  assert_int_equal(h2_conn_recv(d.cli, (const uint8_t *)"x", 1, 0), H2_ERR_CLOSED);
  h2_conn_free(d.cli);
  h2_conn_free(d.srv);
  tc_rec_free(&d.crec);
  tc_rec_free(&d.srec);
}

static int nest_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  int *r = user;
  uint8_t b[16] = {0};
  if (ev->type == H2_CONN_EV_SETTINGS) {
    r[0] = h2_conn_recv(c, b, 1, 0);
    r[1] = h2_conn_send(c, b, sizeof b, 0);
    h2_iov iov[1];
    r[2] = h2_conn_output(c, iov, 1, 0);
  }
  return 0;
}

static void test_no_reentry(void **state) {
  (void)state;
  int r[3] = {0, 0, 0};
  h2_conn *c = h2_conn_new(H2_CONN_CLIENT, NULL, NULL, nest_cb, r);
  tc_script s;
  tc_script_init(&s);
  tc_settings(&s, NULL, 0);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  assert_int_equal(r[0], H2_ERR_STATE);
  assert_int_equal(r[1], H2_ERR_STATE);
  assert_int_equal(r[2], H2_ERR_STATE);
  tc_script_free(&s);
  h2_conn_free(c);
}

/* An idle connection (output written, no stream left) gives back its
 * output buffer and the rest (h2c_release_idle); they come back for the
 * next request, and the idle footprint stays the same request after request
 * and after a PING round trip. */
static void test_idle_release(void **state) {
  (void)state;
  tc_rec rc = {0}, rs = {0};
  rs.respond = 1;
  rs.resp_len = 100;
  h2_conn *cli = h2_conn_new(H2_CONN_CLIENT, NULL, NULL, tc_cb, &rc);
  h2_conn *srv = h2_conn_new(H2_CONN_SERVER, NULL, NULL, tc_cb, &rs);
  assert_non_null(cli);
  assert_non_null(srv);
  tc_pump_both(cli, srv, 0);
  size_t idle_prev = 0;
  for (int round = 0; round < 3; round++) {
    assert_true(h2_conn_submit_request(cli, GET, 4, NULL, 1, NULL) > 0);
    tc_pump(cli, srv, 0); /* the server answers from its callback */
    h2_iov iov[8];
    assert_true(h2_conn_output(srv, iov, 8, 0) > 0);
    size_t busy = h2_conn_memory(srv);
    tc_pump_both(cli, srv, 0);
    size_t idle = h2_conn_memory(srv);
    assert_true(idle + 4096 <= busy); /* at least the output buffer went */
    if (round) assert_int_equal(idle, idle_prev);
    idle_prev = idle;
  }
  assert_int_equal(h2_conn_submit_ping(srv, NULL, 0), 0);
  assert_true(h2_conn_memory(srv) > idle_prev);
  tc_pump_both(cli, srv, 0);
  assert_int_equal(h2_conn_memory(srv), idle_prev);
  const char *log = tc_log(&rc);
  int responses = 0;
  for (const char *p = log; (p = strstr(p, "HEADERS")) != NULL; p++) responses++;
  assert_int_equal(responses, 3);
  assert_null(strstr(log, "ERROR"));
  h2_conn_free(cli);
  h2_conn_free(srv);
  tc_rec_free(&rc);
  tc_rec_free(&rs);
}

static void test_new_args(void **state) {
  (void)state;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  assert_null(h2_conn_new(H2_CONN_SERVER, &cfg, NULL, NULL, NULL));
  cfg.settings.max_frame_size = 100;
  assert_null(h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, NULL));
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  cfg.settings.initial_window_size = 0x80000000u;
  assert_null(h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, NULL));
  h2_conn_free(NULL);
  tc_rec rec = {0};
  h2_conn *c = h2_conn_new(H2_CONN_SERVER, NULL, NULL, tc_cb, &rec);
  assert_int_equal(h2_conn_role_of(c), H2_CONN_SERVER);
  assert_int_equal(h2_conn_next_stream_id(c), 2);
  assert_int_equal(h2_conn_submit_request(c, GET, 4, NULL, 1, NULL), H2_ERR_STATE);
  assert_true(h2_conn_memory(c) > sizeof(void *));
  assert_true(h2_conn_want_write(c));
  assert_string_equal(h2_stream_state_name(H2_STREAM_HALF_CLOSED_LOCAL), "half-closed (local)");
  h2_conn_free(c);
  tc_rec_free(&rec);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_lifecycle),
      cmocka_unit_test(test_resets),
      cmocka_unit_test(test_ping_rtt),
      cmocka_unit_test(test_settings_in_flight),
      cmocka_unit_test(test_settings_timeout),
      cmocka_unit_test(test_goaway_received),
      cmocka_unit_test(test_error_goaway_ends_input),
      cmocka_unit_test(test_push),
      cmocka_unit_test(test_refuse_push_by_rst),
      cmocka_unit_test(test_extended_connect),
      cmocka_unit_test(test_altsvc_origin_priority),
      cmocka_unit_test(test_trace_and_eof),
      cmocka_unit_test(test_no_reentry),
      cmocka_unit_test(test_new_args),
      cmocka_unit_test(test_idle_release),
      cmocka_unit_test(test_closed_kinds_remembered),
      cmocka_unit_test(test_closed_index_rebuilt),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
