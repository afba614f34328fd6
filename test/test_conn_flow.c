/* test_conn_flow.c: flow control of the connection engine, checked on the
 * exact frames written: DATA cut to min(stream window, connection window,
 * peer MAX_FRAME_SIZE); INITIAL_WINDOW_SIZE changes shifting open streams'
 * send windows (possibly negative); receive windows returned only as the
 * application consumes, batched by the threshold; padding counted; data
 * for reset streams still credited to the connection; Node-style
 * setLocalWindowSize; send-queue backpressure (WOULD_BLOCK / WRITABLE) and
 * buffer release events. */
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

static const char *const GET_REQ[] = {":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/", NULL};
static const char *const POST_REQ[] = {":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/", NULL};
static const h2_hpack_field RESP200[] = {{":status", 7, "200", 3, 0}};
static uint8_t body[300000];

/* A server engine fed by a script, its output read as frame text. */
typedef struct srv {
  h2_conn *c;
  tc_rec rec;
  tc_script s;
  size_t fed;
} srv;

static void srv_new(srv *v, const h2_conn_config *cfg, const h2_frame_setting *e, size_t n) {
  memset(v, 0, sizeof *v);
  v->c = h2_conn_new(H2_CONN_SERVER, cfg, NULL, tc_cb, &v->rec);
  assert_non_null(v->c);
  tc_script_init(&v->s);
  tc_preface(&v->s);
  tc_settings(&v->s, e, n);
  tc_settings_ack(&v->s);
}

/* Feeds what the script gained since the last call; returns the frames
 * written in response (caller frees). */
static char *srv_step(srv *v) {
  int r = h2_conn_recv(v->c, v->s.out.p + v->fed, v->s.out.len - v->fed, 0);
  assert_int_equal(r, (int)(v->s.out.len - v->fed));
  v->fed = v->s.out.len;
  tc_buf out = {0};
  tc_drain(v->c, &out);
  char *txt = tc_frames_text(out.p, out.len);
  tc_buf_free(&out);
  return txt;
}

static void srv_free(srv *v) {
  h2_conn_free(v->c);
  tc_rec_free(&v->rec);
  tc_script_free(&v->s);
}

static size_t count(const char *txt, const char *needle) {
  size_t n = 0;
  for (const char *p = txt; (p = strstr(p, needle)) != NULL; p++) n++;
  return n;
}

static void test_send_window(void **state) {
  (void)state;
  srv v;
  h2_frame_setting e = {H2_SETTINGS_INITIAL_WINDOW_SIZE, 100};
  srv_new(&v, NULL, &e, 1);
  tc_headers(&v.s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
  free(srv_step(&v));
  assert_int_equal(h2_conn_submit_response(v.c, 1, RESP200, 1, 0), 0);
  assert_int_equal(h2_conn_submit_data(v.c, 1, body, 1000, H2_CONN_DATA_END_STREAM, NULL), 0);
  char *t = srv_step(&v);
  assert_non_null(strstr(t, "[DATA] stream=1 len=100 flags=none"));
  assert_int_equal(count(t, "[DATA]"), 1);
  free(t);
  assert_int_equal(h2_conn_window(v.c, 1, H2_CONN_WINDOW_SEND), 0);
  assert_int_equal(h2_conn_stream_queued(v.c, 1), 900);
  tc_window_update(&v.s, 1, 50);
  t = srv_step(&v);
  assert_non_null(strstr(t, "[DATA] stream=1 len=50 flags=none"));
  free(t);
  /* Lowering INITIAL_WINDOW_SIZE by 50 makes the open stream's window -50. */
  h2_frame_setting e2 = {H2_SETTINGS_INITIAL_WINDOW_SIZE, 50};
  tc_settings(&v.s, &e2, 1);
  t = srv_step(&v);
  assert_int_equal(count(t, "[DATA]"), 0);
  free(t);
  assert_int_equal(h2_conn_window(v.c, 1, H2_CONN_WINDOW_SEND), -50);
  tc_window_update(&v.s, 1, 60);
  t = srv_step(&v);
  assert_non_null(strstr(t, "[DATA] stream=1 len=10 flags=none"));
  free(t);
  tc_window_update(&v.s, 1, 5000);
  t = srv_step(&v);
  assert_non_null(strstr(t, "[DATA] stream=1 len=840 flags=END_STREAM"));
  free(t);
  assert_int_equal(h2_conn_window(v.c, 0, H2_CONN_WINDOW_SEND), 65535 - 1000);
  assert_int_equal(h2_conn_stream_state(v.c, 1), H2_STREAM_CLOSED);
  assert_non_null(strstr(tc_log(&v.rec), "CLOSED s=1 reason=1"));
  srv_free(&v);
}

static void test_max_frame_size_and_conn_window(void **state) {
  (void)state;
  srv v;
  h2_frame_setting e = {H2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20};
  srv_new(&v, NULL, &e, 1);
  tc_headers(&v.s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
  tc_headers(&v.s, 3, H2_FLAG_END_STREAM, 0, GET_REQ);
  free(srv_step(&v));
  for (uint32_t id = 1; id <= 3; id += 2) {
    assert_int_equal(h2_conn_submit_response(v.c, id, RESP200, 1, 0), 0);
    assert_int_equal(h2_conn_submit_data(v.c, id, body, 40000, H2_CONN_DATA_END_STREAM, NULL), 0);
  }
  char *t = srv_step(&v);
  /* 80000 wanted, the connection window (65535) lets 65535 out in frames
   * of at most 16384. */
  assert_int_equal(count(t, "len=16384"), 3);
  assert_int_equal(h2_conn_window(v.c, 0, H2_CONN_WINDOW_SEND), 0);
  free(t);
  assert_int_equal(h2_conn_stream_queued(v.c, 1) + h2_conn_stream_queued(v.c, 3), 80000 - 65535);
  /* Bigger frames once the peer allows them. */
  h2_frame_setting mfs = {H2_SETTINGS_MAX_FRAME_SIZE, 20000};
  tc_settings(&v.s, &mfs, 1);
  tc_window_update(&v.s, 0, 100000);
  t = srv_step(&v);
  assert_int_equal(count(t, "flags=END_STREAM"), 2);
  assert_int_equal(count(t, "len=16384"), 0);
  free(t);
  assert_int_equal(h2_conn_window(v.c, 0, H2_CONN_WINDOW_SEND), 65535 + 100000 - 80000);
  srv_free(&v);
}

static void test_recv_consume_and_threshold(void **state) {
  (void)state;
  srv v;
  srv_new(&v, NULL, NULL, 0);
  tc_headers(&v.s, 1, 0, 0, POST_REQ);
  tc_data(&v.s, 1, 0, body, 16384, -1);
  tc_data(&v.s, 1, 0, body, 16384, -1);
  tc_data(&v.s, 1, 0, body, 7232, -1);
  char *t = srv_step(&v);
  assert_int_equal(count(t, "WINDOW_UPDATE"), 0); /* nothing consumed yet */
  free(t);
  assert_int_equal(h2_conn_window(v.c, 0, H2_CONN_WINDOW_RECV), 65535 - 40000);
  assert_int_equal(h2_conn_window(v.c, 1, H2_CONN_WINDOW_RECV), 65535 - 40000);
  /* 30000 consumed: below half of 65535, no update yet. */
  assert_int_equal(h2_conn_consume(v.c, 1, 30000), 0);
  t = srv_step(&v);
  assert_int_equal(count(t, "WINDOW_UPDATE"), 0);
  free(t);
  assert_int_equal(h2_conn_consume(v.c, 1, 10000), 0);
  t = srv_step(&v);
  assert_non_null(strstr(t, "[WINDOW_UPDATE] stream=1 len=4 flags=none increment=40000"));
  assert_non_null(strstr(t, "[WINDOW_UPDATE] stream=0 len=4 flags=none increment=40000"));
  free(t);
  assert_int_equal(h2_conn_window(v.c, 0, H2_CONN_WINDOW_RECV), 65535);
  srv_free(&v);
}

static void test_padding_counts(void **state) {
  (void)state;
  srv v;
  srv_new(&v, NULL, NULL, 0);
  tc_headers(&v.s, 1, 0, 0, POST_REQ);
  tc_data(&v.s, 1, 0, body, 49, 50); /* 1 + 49 + 50 = 100 */
  free(srv_step(&v));
  /* The window dropped by 100; the 51 padding octets count as consumed. */
  assert_int_equal(h2_conn_window(v.c, 1, H2_CONN_WINDOW_RECV), 65535 - 100);
  assert_non_null(strstr(tc_log(&v.rec), "DATA s=1 len=49"));
  assert_int_equal(h2_conn_consume(v.c, 1, 49), 0);
  /* fully consumed, but 100 < threshold: still no update */
  char *t = srv_step(&v);
  assert_int_equal(count(t, "WINDOW_UPDATE"), 0);
  free(t);
  srv_free(&v);
}

static void test_set_local_window(void **state) {
  (void)state;
  srv v;
  srv_new(&v, NULL, NULL, 0);
  free(srv_step(&v));
  assert_int_equal(h2_conn_set_local_window_size(v.c, 1u << 20), 0);
  char *t = srv_step(&v);
  char want[96];
  snprintf(want, sizeof want, "[WINDOW_UPDATE] stream=0 len=4 flags=none increment=%u", (1u << 20) - 65535);
  assert_non_null(strstr(t, want));
  free(t);
  assert_int_equal(h2_conn_window(v.c, 0, H2_CONN_WINDOW_RECV), 1 << 20);
  assert_int_equal(h2_conn_set_local_window_size(v.c, 0x80000000u), H2_ERR_INVALID_ARG);
  srv_free(&v);
}

/* Node's effectiveRecvDataLength / effectiveLocalWindowSize: received
 * octets (padding included) count until a connection WINDOW_UPDATE gives
 * them back, consumed or not; the effective window is what the peer was
 * granted in all. */
static void test_unreturned_and_effective(void **state) {
  (void)state;
  srv v;
  srv_new(&v, NULL, NULL, 0);
  free(srv_step(&v));
  assert_int_equal(h2_conn_recv_unreturned(v.c), 0);
  assert_int_equal(h2_conn_effective_local_window(v.c), 65535);
  tc_headers(&v.s, 1, 0, 0, POST_REQ);
  tc_data(&v.s, 1, 0, body, 16384, -1);
  tc_data(&v.s, 1, 0, body, 16384, -1);
  tc_data(&v.s, 1, 0, body, 7232, -1);
  tc_data(&v.s, 1, 0, body, 49, 50); /* 100 octets, 51 of them padding */
  free(srv_step(&v));
  assert_int_equal(h2_conn_recv_unreturned(v.c), 40100);
  assert_int_equal(h2_conn_window(v.c, 0, H2_CONN_WINDOW_RECV), 65535 - 40100);
  assert_int_equal(h2_conn_effective_local_window(v.c), 65535);
  /* Consumed below the threshold: nothing given back yet. */
  assert_int_equal(h2_conn_consume(v.c, 1, 30000), 0);
  free(srv_step(&v));
  assert_int_equal(h2_conn_recv_unreturned(v.c), 40100);
  assert_int_equal(h2_conn_consume(v.c, 1, 10049), 0);
  char *t = srv_step(&v);
  assert_non_null(strstr(t, "[WINDOW_UPDATE] stream=0 len=4 flags=none increment=40100"));
  free(t);
  assert_int_equal(h2_conn_recv_unreturned(v.c), 0);
  assert_int_equal(h2_conn_effective_local_window(v.c), 65535);
  /* A grown window is granted at once; a shrunk one only as less is
   * given back. */
  assert_int_equal(h2_conn_set_local_window_size(v.c, 1u << 20), 0);
  free(srv_step(&v));
  assert_int_equal(h2_conn_effective_local_window(v.c), 1 << 20);
  assert_int_equal(h2_conn_set_local_window_size(v.c, 65535), 0);
  tc_data(&v.s, 1, 0, body, 16384, -1);
  free(srv_step(&v));
  assert_int_equal(h2_conn_consume(v.c, 1, 16384), 0);
  free(srv_step(&v));
  assert_int_equal(h2_conn_recv_unreturned(v.c), 16384);
  assert_int_equal(h2_conn_effective_local_window(v.c), 1 << 20);
  srv_free(&v);
}

static void test_reset_stream_credits_connection(void **state) {
  (void)state;
  srv v;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  cfg.settings.initial_window_size = 1 << 20;
  cfg.connection_window = 1 << 20;
  srv_new(&v, &cfg, NULL, 0);
  tc_headers(&v.s, 1, 0, 0, POST_REQ);
  free(srv_step(&v));
  assert_int_equal(h2_conn_submit_rst(v.c, 1, 8), 0);
  char *t = srv_step(&v);
  assert_non_null(strstr(t, "[RST_STREAM] stream=1"));
  free(t);
  assert_non_null(strstr(tc_log(&v.rec), "RESET s=1 code=8 local\nCLOSED s=1 reason=3 code=8"));
  /* Late DATA on the stream we reset: ignored (no RST back), yet the
   * connection window gets it all back. */
  for (int i = 0; i < 40; i++) tc_data(&v.s, 1, 0, body, 16384, -1); /* > half of 1 MiB */
  t = srv_step(&v);
  assert_int_equal(count(t, "[RST_STREAM]"), 0);
  assert_true(count(t, "[WINDOW_UPDATE] stream=0") >= 1);
  free(t);
  assert_null(strstr(tc_log(&v.rec), "DATA s=1"));
  int64_t w = h2_conn_window(v.c, 0, H2_CONN_WINDOW_RECV);
  assert_true(w > (1 << 20) / 2);
  srv_free(&v);
}

static void test_stream_flow_error(void **state) {
  (void)state;
  srv v;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  cfg.connection_window = 1 << 20;
  srv_new(&v, &cfg, NULL, 0);
  tc_headers(&v.s, 1, 0, 0, POST_REQ);
  for (int i = 0; i < 5; i++) tc_data(&v.s, 1, 0, body, 16384, -1); /* 81920 > 65535 */
  tc_ping(&v.s, 0, 3);
  char *t = srv_step(&v);
  assert_non_null(strstr(t, "[RST_STREAM] stream=1 len=4 flags=none error=FLOW_CONTROL_ERROR"));
  assert_non_null(strstr(t, "[PING]"));
  assert_null(strstr(t, "[GOAWAY]"));
  free(t);
  srv_free(&v);
}

static void test_backpressure_and_release(void **state) {
  (void)state;
  srv v;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  cfg.send_queue_limit = 100;
  srv_new(&v, &cfg, NULL, 0);
  tc_headers(&v.s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
  tc_headers(&v.s, 3, H2_FLAG_END_STREAM, 0, GET_REQ);
  free(srv_step(&v));
  assert_int_equal(h2_conn_submit_response(v.c, 1, RESP200, 1, 0), 0);
  assert_int_equal(h2_conn_submit_data(v.c, 1, body, 150, 0, NULL), 0);
  assert_int_equal(h2_conn_submit_data(v.c, 1, body, 10, 0, NULL), H2_ERR_WOULD_BLOCK);
  free(srv_step(&v));
  const char *log = tc_log(&v.rec);
  assert_non_null(strstr(log, "RELEASED len=150 sent=1"));
  assert_non_null(strstr(log, "WRITABLE s=1"));
  assert_int_equal(h2_conn_submit_data(v.c, 1, body, 10, H2_CONN_DATA_COPY, NULL), 0);
  assert_int_equal(h2_conn_submit_data(v.c, 1, NULL, 0, H2_CONN_DATA_END_STREAM, NULL), 0);
  assert_int_equal(h2_conn_submit_data(v.c, 1, body, 1, 0, NULL), H2_ERR_STATE);
  char *t = srv_step(&v);
  assert_non_null(strstr(t, "[DATA] stream=1 len=10 flags=END_STREAM"));
  free(t);
  /* A reset drops queued data: released with sent = 0. */
  assert_int_equal(h2_conn_submit_response(v.c, 3, RESP200, 1, 0), 0);
  h2_frame_setting zero = {H2_SETTINGS_INITIAL_WINDOW_SIZE, 0};
  tc_settings(&v.s, &zero, 1);
  free(srv_step(&v));
  assert_int_equal(h2_conn_submit_data(v.c, 3, body, 77, 0, NULL), 0);
  free(srv_step(&v));
  assert_int_equal(h2_conn_stream_queued(v.c, 3), 77);
  assert_int_equal(h2_conn_submit_rst(v.c, 3, 8), 0);
  free(srv_step(&v));
  assert_non_null(strstr(tc_log(&v.rec), "RELEASED len=77 sent=0"));
  srv_free(&v);
}

static size_t pad7(void *u, uint32_t id, size_t len, size_t max) {
  (void)u;
  (void)id;
  (void)len;
  return max < 7 ? max : 7;
}

static void test_padding_modes(void **state) {
  (void)state;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  cfg.padding = H2_CONN_PAD_MAX;
  srv v;
  h2_frame_setting e = {H2_SETTINGS_INITIAL_WINDOW_SIZE, 300};
  srv_new(&v, &cfg, &e, 1);
  tc_headers(&v.s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
  free(srv_step(&v));
  assert_int_equal(h2_conn_submit_response(v.c, 1, RESP200, 1, 0), 0);
  assert_int_equal(h2_conn_submit_data(v.c, 1, body, 100, H2_CONN_DATA_END_STREAM, NULL), 0);
  char *t = srv_step(&v);
  /* 100 data + 1 + 199 padding = the whole 300-octet window */
  assert_non_null(strstr(t, "[DATA] stream=1 len=300 flags=END_STREAM|PADDED data=100 pad=199"));
  free(t);
  assert_int_equal(h2_conn_window(v.c, 0, H2_CONN_WINDOW_SEND), 65535 - 300);
  srv_free(&v);

  cfg.padding = H2_CONN_PAD_ALIGNED;
  cfg.padding_align = 64;
  srv_new(&v, &cfg, NULL, 0);
  tc_headers(&v.s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
  free(srv_step(&v));
  assert_int_equal(h2_conn_submit_response(v.c, 1, RESP200, 1, 0), 0);
  assert_int_equal(h2_conn_submit_data(v.c, 1, body, 100, H2_CONN_DATA_END_STREAM, NULL), 0);
  t = srv_step(&v);
  /* 9 + 1 + 100 = 110 -> 128: 18 octets of padding */
  assert_non_null(strstr(t, "[DATA] stream=1 len=119 flags=END_STREAM|PADDED data=100 pad=18"));
  free(t);
  srv_free(&v);

  cfg.padding = H2_CONN_PAD_CALLBACK;
  cfg.padding_cb = pad7;
  srv_new(&v, &cfg, NULL, 0);
  tc_headers(&v.s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
  free(srv_step(&v));
  assert_int_equal(h2_conn_submit_response(v.c, 1, RESP200, 1, 0), 0);
  assert_int_equal(h2_conn_submit_data(v.c, 1, body, 10, H2_CONN_DATA_END_STREAM, NULL), 0);
  t = srv_step(&v);
  assert_non_null(strstr(t, "[DATA] stream=1 len=18 flags=END_STREAM|PADDED data=10 pad=7"));
  free(t);
  srv_free(&v);
  cfg.padding_cb = NULL;
  assert_null(h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_send_window),
      cmocka_unit_test(test_max_frame_size_and_conn_window),
      cmocka_unit_test(test_recv_consume_and_threshold),
      cmocka_unit_test(test_padding_counts),
      cmocka_unit_test(test_set_local_window),
      cmocka_unit_test(test_unreturned_and_effective),
      cmocka_unit_test(test_reset_stream_credits_connection),
      cmocka_unit_test(test_stream_flow_error),
      cmocka_unit_test(test_backpressure_and_release),
      cmocka_unit_test(test_padding_modes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
