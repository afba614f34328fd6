/* test_conn.c: the connection engine (h2core/h2_conn.h): scripted
 * conversations checked byte-exact and event by event, each script also fed
 * split at every byte boundary and one byte at a time with identical
 * results; the stream state machine; connection and stream errors. */
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

static const char *const GET_REQ[] = {":method", "GET", ":scheme", "https", ":authority", "example.com",
                                      ":path", "/", NULL};
static const char *const POST_NOLEN[] = {":method", "POST", ":scheme", "https", ":authority", "a",
                                         ":path", "/up", NULL};
static const char *const POST_REQ[] = {":method", "POST", ":scheme", "https", ":authority", "example.com",
                                       ":path", "/up", "content-length", "5", NULL};

/* Runs |in| whole, split at every boundary and byte by byte; every run must
 * give the same log, output, windows and status. Returns the whole run. */
static void run_all_splits(h2_conn_role role, const h2_conn_config *cfg, const tc_rec *proto,
                           const tc_buf *in, tc_result *whole) {
  tc_run(role, cfg, proto, in->p, in->len, TC_WHOLE, 0, whole);
  const char *wlog = tc_log(&whole->rec);
  for (size_t at = 0; at <= in->len + 1; at++) {
    tc_result r;
    int mode = at == in->len + 1 ? TC_BYTES : TC_SPLIT;
    tc_run(role, cfg, proto, in->p, in->len, mode, at, &r);
    const char *log = tc_log(&r.rec);
    if (strcmp(log, wlog) != 0) {
      fprintf(stderr, "split at %zu (mode %d) differs:\n--- whole\n%s--- split\n%s", at, mode, wlog, log);
      fail();
    }
    assert_int_equal(r.rc, whole->rc);
    assert_int_equal(r.out.len, whole->out.len);
    assert_memory_equal(r.out.p, whole->out.p, whole->out.len);
    assert_memory_equal(r.win, whole->win, sizeof r.win);
    tc_result_free(&r);
  }
}

/* Server: preface + empty SETTINGS + ACK -> our SETTINGS, then ACK. */
static void test_server_handshake_bytes(void **state) {
  (void)state;
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  tc_settings_ack(&s);
  tc_result r;
  run_all_splits(H2_CONN_SERVER, NULL, NULL, &s.out, &r);
  /* Exact bytes: SETTINGS(ENABLE_PUSH=0, MAX_CONCURRENT_STREAMS=100,
   * MAX_HEADER_LIST_SIZE=65536) then SETTINGS ACK. */
  static const uint8_t want[] = {0, 0, 18, 4, 0, 0, 0, 0, 0,
                                 0, 2, 0, 0, 0, 0,
                                 0, 3, 0, 0, 0, 100,
                                 0, 6, 0, 1, 0, 0,
                                 0, 0, 0, 4, 1, 0, 0, 0, 0};
  assert_int_equal(r.out.len, sizeof want);
  assert_memory_equal(r.out.p, want, sizeof want);
  assert_string_equal(tc_log(&r.rec), "SETTINGS iws=65535 mfs=16384 mcs=4294967295\nSETTINGS_ACK\n");
  assert_int_equal(r.rc, 0);
  tc_result_free(&r);
  tc_script_free(&s);
}

/* Client: preface + SETTINGS go out at once; the server's SETTINGS is acked. */
static void test_client_handshake_bytes(void **state) {
  (void)state;
  tc_script s;
  tc_script_init(&s);
  h2_frame_setting e[] = {{H2_SETTINGS_MAX_CONCURRENT_STREAMS, 10}, {H2_SETTINGS_INITIAL_WINDOW_SIZE, 1000}};
  tc_settings(&s, e, 2);
  tc_result r;
  run_all_splits(H2_CONN_CLIENT, NULL, NULL, &s.out, &r);
  char *txt = tc_frames_text(r.out.p, r.out.len);
  assert_non_null(strstr(txt, "PREFACE\n[SETTINGS]"));
  assert_non_null(strstr(txt, "flags=ACK"));
  free(txt);
  assert_memory_equal(r.out.p, H2_CLIENT_PREFACE, H2_CLIENT_PREFACE_LEN);
  assert_string_equal(tc_log(&r.rec), "SETTINGS iws=1000 mfs=16384 mcs=10\n");
  tc_result_free(&r);
  tc_script_free(&s);
}

/* A GET answered from the HEADERS event; a POST with body, padding and
 * trailers; PING; unknown frame; all split-independent. */
static void test_server_conversation(void **state) {
  (void)state;
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  tc_headers(&s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
  tc_headers(&s, 3, 0, 7, POST_REQ); /* cut into CONTINUATIONs */
  tc_data(&s, 3, 0, "he", 2, 3);
  tc_ping(&s, 0, 0x0102030405060708ull);
  tc_frame(&s, 0x42, 0, 0, "xyz", 3);
  tc_data(&s, 3, 0, "llo", 3, -1);
  static const char *const trailers[] = {"x-checksum", "abc", NULL};
  tc_headers(&s, 3, H2_FLAG_END_STREAM, 0, trailers);
  tc_settings_ack(&s);
  tc_rec proto = {0};
  proto.respond = 1;
  proto.resp_len = 10;
  proto.consume = 1;
  tc_result r;
  run_all_splits(H2_CONN_SERVER, NULL, &proto, &s.out, &r);
  const char *want =
      "SETTINGS iws=65535 mfs=16384 mcs=4294967295\n"
      "HEADERS s=1 request END :method=GET :scheme=https :authority=example.com :path=/\n"
      "END s=1\n"
      "HEADERS s=3 request :method=POST :scheme=https :authority=example.com :path=/up content-length=5\n"
      "DATA s=3 len=2 hash=9bca6600c674d05c\n"
      "PING\n"
      "UNKNOWN type=66\n"
      "DATA s=3 len=3 hash=51e20a514d64fe84\n"
      "HEADERS s=3 trailers END x-checksum=abc\n"
      "END s=3\n"
      "SETTINGS_ACK\n";
  const char *got = tc_log(&r.rec);
  if (strncmp(got, want, strlen(want)) != 0) fprintf(stderr, "got:\n%s", got);
  assert_true(strncmp(got, want, strlen(want)) == 0);
  assert_int_equal(r.rc, 0);
  /* Output: SETTINGS, ACK, PING ACK, responses for 1 and 3 with data. */
  char *txt = tc_frames_text(r.out.p, r.out.len);
  assert_non_null(strstr(txt, "[PING] stream=0 len=8 flags=ACK"));
  assert_non_null(strstr(txt, "[HEADERS] stream=1"));
  assert_non_null(strstr(txt, "[DATA] stream=1 len=10 flags=END_STREAM"));
  assert_non_null(strstr(txt, "[DATA] stream=3 len=10 flags=END_STREAM"));
  free(txt);
  tc_result_free(&r);
  tc_script_free(&s);
}

/* Connection errors: each script ends with GOAWAY and the right code. */
typedef struct err_case {
  int line;
  h2_conn_role role;
  void (*build)(tc_script *s);
  uint32_t code; /* GOAWAY code expected; 0 = expect no connection error */
  const char *log_has; /* substring expected in the event log, or NULL */
} err_case;

static void b_bad_preface(tc_script *s) { tc_buf_put(&s->out, "PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n", 24); }
static void b_no_settings(tc_script *s) {
  tc_preface(s);
  tc_ping(s, 0, 1);
}
static void srv_start(tc_script *s) {
  tc_preface(s);
  tc_settings(s, NULL, 0);
}
static void b_cont_interrupted(tc_script *s) {
  srv_start(s);
  tc_frame(s, H2_FRAME_HEADERS, 0, 1, "\x82", 1);
  tc_ping(s, 0, 1);
}
static void b_cont_alone(tc_script *s) {
  srv_start(s);
  tc_frame(s, H2_FRAME_CONTINUATION, H2_FLAG_END_HEADERS, 1, "\x82", 1);
}
static void b_data_idle(tc_script *s) {
  srv_start(s);
  tc_data(s, 5, 0, "x", 1, -1);
}
static void b_even_headers(tc_script *s) {
  srv_start(s);
  tc_headers(s, 2, H2_FLAG_END_STREAM, 0, GET_REQ);
}
static void b_lower_id(tc_script *s) {
  srv_start(s);
  tc_headers(s, 5, H2_FLAG_END_STREAM, 0, GET_REQ);
  tc_headers(s, 3, H2_FLAG_END_STREAM, 0, GET_REQ);
}
static void b_too_big(tc_script *s) {
  srv_start(s);
  static uint8_t big[16385];
  tc_frame(s, H2_FRAME_PING, 0, 0, big, sizeof big);
}
static void b_wu_conn_overflow(tc_script *s) {
  srv_start(s);
  tc_window_update(s, 0, 0x7fffffff);
}
static void b_wu_zero_conn(tc_script *s) {
  srv_start(s);
  tc_window_update(s, 0, 0);
}
static void b_bad_settings_iws(tc_script *s) {
  srv_start(s);
  h2_frame_setting e = {H2_SETTINGS_INITIAL_WINDOW_SIZE, 0x80000000u};
  tc_settings(s, &e, 1);
}
static void b_bad_settings_mfs(tc_script *s) {
  srv_start(s);
  h2_frame_setting e = {H2_SETTINGS_MAX_FRAME_SIZE, 100};
  tc_settings(s, &e, 1);
}
static void b_unexpected_ack(tc_script *s) {
  srv_start(s);
  tc_settings_ack(s);
  tc_settings_ack(s);
}
static void b_push_to_server(tc_script *s) {
  srv_start(s);
  tc_headers(s, 1, 0, 0, GET_REQ);
  tc_frame(s, H2_FRAME_PUSH_PROMISE, H2_FLAG_END_HEADERS, 1, "\x00\x00\x00\x02\x82", 5);
}
static void b_hpack_garbage(tc_script *s) {
  srv_start(s);
  tc_frame(s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS, 1, "\xff\xff\xff\xff\xff\xff", 6);
}
static void b_data_over_window(tc_script *s) {
  srv_start(s);
  tc_headers(s, 1, 0, 0, POST_NOLEN);
  static uint8_t big[16384];
  for (int i = 0; i < 4; i++) tc_data(s, 1, 0, big, sizeof big, -1);
}
static void b_rst_idle(tc_script *s) {
  srv_start(s);
  tc_rst(s, 7, 8);
}
static void b_wu_idle(tc_script *s) {
  srv_start(s);
  tc_window_update(s, 9, 1);
}
static void b_iws_shift_overflow(tc_script *s) {
  srv_start(s);
  tc_headers(s, 1, 0, 0, POST_REQ);
  tc_window_update(s, 1, 0x7fffffff - 65535);
  h2_frame_setting e = {H2_SETTINGS_INITIAL_WINDOW_SIZE, 65536};
  tc_settings(s, &e, 1);
}
static void b_padded_bad(tc_script *s) {
  srv_start(s);
  tc_headers(s, 1, 0, 0, POST_REQ);
  tc_frame(s, H2_FRAME_DATA, H2_FLAG_PADDED, 1, "\x05" "ab", 3);
}
static void b_second_request(tc_script *s) {
  srv_start(s);
  tc_headers(s, 1, 0, 0, GET_REQ);
  tc_headers(s, 1, 0, 0, GET_REQ);
}
static void b_headers_closed(tc_script *s) {
  srv_start(s);
  tc_headers(s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
  /* stream 1 half-closed (remote): new HEADERS are a stream error */
  tc_headers(s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
}
static void b_client_push_disabled(tc_script *s) {
  /* client with push disabled by config: acked SETTINGS, then a push */
  tc_settings(s, NULL, 0);
  tc_settings_ack(s);
  tc_frame(s, H2_FRAME_PUSH_PROMISE, H2_FLAG_END_HEADERS, 1, "\x00\x00\x00\x02\x82", 5);
}
static void b_client_enable_push(tc_script *s) {
  h2_frame_setting e = {H2_SETTINGS_ENABLE_PUSH, 1};
  tc_settings(s, &e, 1);
}

static const err_case err_cases[] = {
    {__LINE__, H2_CONN_SERVER, b_bad_preface, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_no_settings, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_cont_interrupted, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_cont_alone, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_data_idle, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_even_headers, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_lower_id, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_too_big, 0x6, NULL},
    {__LINE__, H2_CONN_SERVER, b_wu_conn_overflow, 0x3, NULL},
    {__LINE__, H2_CONN_SERVER, b_wu_zero_conn, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_bad_settings_iws, 0x3, NULL},
    {__LINE__, H2_CONN_SERVER, b_bad_settings_mfs, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_unexpected_ack, 0x1, "SETTINGS_ACK\n"},
    {__LINE__, H2_CONN_SERVER, b_push_to_server, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_hpack_garbage, 0x9, NULL},
    {__LINE__, H2_CONN_SERVER, b_data_over_window, 0x3, NULL},
    {__LINE__, H2_CONN_SERVER, b_rst_idle, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_wu_idle, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_iws_shift_overflow, 0x3, NULL},
    {__LINE__, H2_CONN_SERVER, b_padded_bad, 0x1, NULL},
    {__LINE__, H2_CONN_SERVER, b_second_request, 0, "RESET s=1 code=1 local"},
    {__LINE__, H2_CONN_SERVER, b_headers_closed, 0, "RESET s=1 code=5 local"},
    {__LINE__, H2_CONN_CLIENT, b_client_enable_push, 0x1, NULL},
};

static void test_conn_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
    const err_case *e = &err_cases[i];
    tc_script s;
    tc_script_init(&s);
    e->build(&s);
    tc_result r;
    run_all_splits(e->role, NULL, NULL, &s.out, &r);
    const char *log = tc_log(&r.rec);
    int ok;
    if (e->code) {
      ok = r.rec.conn_errors == 1 && r.rec.last_error_code == e->code && r.rc < 0 && r.closed;
      /* the GOAWAY with that code is the last frame we wrote */
      char *txt = tc_frames_text(r.out.p, r.out.len);
      char want[64];
      snprintf(want, sizeof want, "[GOAWAY]");
      ok = ok && strstr(txt, want) != NULL;
      free(txt);
    } else {
      ok = r.rec.conn_errors == 0 && r.rc == 0;
    }
    if (e->log_has) ok = ok && strstr(log, e->log_has) != NULL;
    if (!ok) {
      fprintf(stderr, "err case line %d: rc=%d errors=%d code=%u\n%s", e->line, r.rc, r.rec.conn_errors,
              r.rec.last_error_code, log);
      fail();
    }
    tc_result_free(&r);
    tc_script_free(&s);
  }
}

static void test_client_push_disabled(void **state) {
  (void)state;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_CLIENT);
  cfg.settings.enable_push = 0;
  tc_script s;
  tc_script_init(&s);
  b_client_push_disabled(&s);
  tc_result r;
  run_all_splits(H2_CONN_CLIENT, &cfg, NULL, &s.out, &r);
  assert_int_equal(r.rec.conn_errors, 1);
  assert_int_equal(r.rec.last_error_code, 1);
  tc_result_free(&r);
  tc_script_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_server_handshake_bytes),
      cmocka_unit_test(test_client_handshake_bytes),
      cmocka_unit_test(test_server_conversation),
      cmocka_unit_test(test_conn_errors),
      cmocka_unit_test(test_client_push_disabled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
