/* test_conn_deadline.c: the time limits against slow peers
 * (h2_conn_config.preface_timeout_ms and header_block_timeout_ms) on a
 * synthetic clock: a server's preface on time is served, a late one ends
 * the connection (closed without GOAWAY when the client magic never came
 * in full, GOAWAY PROTOCOL_ERROR when its SETTINGS did not); a header block
 * completed in time is delivered, one trickled in CONTINUATION frames past
 * the limit gets GOAWAY ENHANCE_YOUR_CALM; h2_conn_next_deadline reports
 * each deadline (and the SETTINGS ACK one beside them); 0 disables. */
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
                                      ":path", "/a/rather/long/path/so/that/the/block/has/many/octets",
                                      "user-agent", "deadline-test/1.0", NULL};

/* An event recorder that also keeps the connection error's details. */
typedef struct rec {
  tc_rec tc;
  int err;
  const char *msg;
  int headers;
} rec;

static int cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  rec *r = user;
  if (ev->type == H2_CONN_EV_CONN_ERROR) {
    r->err = ev->u.error.err;
    r->msg = ev->u.error.message;
  }
  if (ev->type == H2_CONN_EV_HEADERS) r->headers++;
  return tc_cb(c, ev, &r->tc);
}

static h2_conn *new_conn(h2_conn_role role, uint32_t preface_ms, uint32_t header_ms, uint32_t settings_ms,
                         rec *r) {
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, role);
  cfg.preface_timeout_ms = preface_ms;
  cfg.header_block_timeout_ms = header_ms;
  cfg.settings_timeout_ms = settings_ms;
  memset(r, 0, sizeof *r);
  h2_conn *c = h2_conn_new(role, &cfg, NULL, cb, r);
  assert_non_null(c);
  return c;
}

static void free_conn(h2_conn *c, rec *r) {
  h2_conn_free(c);
  tc_rec_free(&r->tc);
}

/* Feeds |n| bytes at |now|; every byte must be taken. */
static void feed(h2_conn *c, const uint8_t *p, size_t n, uint64_t now) {
  assert_int_equal(h2_conn_recv(c, p, n, now), (int)n);
}

/* Drains the output and returns its frames as text (caller frees). */
static char *drain_text(h2_conn *c) {
  tc_buf out = {0};
  tc_drain(c, &out);
  char *t = tc_frames_text(out.p, out.len);
  tc_buf_free(&out);
  return t;
}

/* Offsets of the frames in |b| (at most |max|); returns the count. */
static size_t frame_offsets(const tc_buf *b, size_t *off, size_t max) {
  size_t n = 0, at = 0;
  while (at + 9 <= b->len && n < max) {
    size_t len = ((size_t)b->p[at] << 16) | ((size_t)b->p[at + 1] << 8) | b->p[at + 2];
    off[n++] = at;
    at += 9 + len;
  }
  assert_int_equal(at, b->len);
  return n;
}

/* ---- preface -------------------------------------------------------------- */

static void test_preface_on_time(void **state) {
  (void)state;
  rec r;
  h2_conn *c = new_conn(H2_CONN_SERVER, 10000, 10000, 0, &r);
  /* Not started before the first time is given. */
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  assert_int_equal(h2_conn_timeout(c, 1000), 0);
  assert_int_equal(h2_conn_next_deadline(c), 11000);
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  /* Trickled, but complete one millisecond before the deadline. */
  size_t half = s.out.len / 2;
  feed(c, s.out.p, half, 4000);
  assert_int_equal(h2_conn_next_deadline(c), 11000); /* input does not move it */
  assert_int_equal(h2_conn_timeout(c, 10999), 0);
  feed(c, s.out.p + half, s.out.len - half, 10999);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  assert_int_equal(h2_conn_timeout(c, 100000), 0);
  assert_int_equal(r.tc.conn_errors, 0);
  assert_true(h2_conn_want_read(c));
  char *t = drain_text(c);
  assert_null(strstr(t, "GOAWAY"));
  free(t);
  tc_script_free(&s);
  free_conn(c, &r);
}

static void test_preface_never_came(void **state) {
  (void)state;
  for (int partial = 0; partial < 2; partial++) {
    rec r;
    h2_conn *c = new_conn(H2_CONN_SERVER, 10000, 10000, 0, &r);
    /* The first time given by any call starts the clock: here a recv. */
    if (partial) feed(c, (const uint8_t *)H2_CLIENT_PREFACE, 10, 500);
    else assert_int_equal(h2_conn_timeout(c, 500), 0);
    assert_int_equal(h2_conn_next_deadline(c), 10500);
    if (partial) feed(c, (const uint8_t *)H2_CLIENT_PREFACE + 10, 5, 9000);
    assert_int_equal(h2_conn_timeout(c, 10499), 0);
    assert_true(h2_conn_want_read(c));
    assert_int_equal(h2_conn_timeout(c, 10500), H2_ERR_TIMEOUT);
    assert_int_equal(r.tc.conn_errors, 1);
    assert_int_equal(r.err, H2_ERR_TIMEOUT);
    assert_int_equal(r.tc.last_error_code, 0); /* no GOAWAY */
    assert_non_null(strstr(r.msg, "preface not received in time"));
    char *t = drain_text(c);
    assert_non_null(strstr(t, "[SETTINGS]")); /* ours, queued at creation */
    assert_null(strstr(t, "GOAWAY"));
    free(t);
    assert_true(h2_conn_is_closed(c));
    assert_false(h2_conn_want_read(c));
    assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
    assert_int_equal(h2_conn_recv(c, (const uint8_t *)"x", 1, 10600), H2_ERR_CLOSED);
    free_conn(c, &r);
  }
}

static void test_preface_settings_late(void **state) {
  (void)state;
  rec r;
  h2_conn *c = new_conn(H2_CONN_SERVER, 2000, 10000, 0, &r);
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  /* The whole magic and 5 octets of the SETTINGS frame header. */
  feed(c, s.out.p, H2_CLIENT_PREFACE_LEN + 5, 100);
  assert_int_equal(h2_conn_next_deadline(c), 2100);
  assert_int_equal(h2_conn_timeout(c, 2099), 0);
  assert_int_equal(h2_conn_timeout(c, 2100), H2_ERR_TIMEOUT);
  assert_int_equal(r.tc.last_error_code, 0x1);
  assert_non_null(strstr(r.msg, "SETTINGS not received in time"));
  char *t = drain_text(c);
  assert_non_null(strstr(t, "[GOAWAY]"));
  assert_non_null(strstr(t, "PROTOCOL_ERROR"));
  free(t);
  assert_true(h2_conn_is_closed(c));
  tc_script_free(&s);
  free_conn(c, &r);
}

/* ---- header blocks ------------------------------------------------------ */

/* A server past its preface at time |t|. */
static h2_conn *server_ready(uint32_t header_ms, uint32_t settings_ms, rec *r, uint64_t t) {
  h2_conn *c = new_conn(H2_CONN_SERVER, 10000, header_ms, settings_ms, r);
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  feed(c, s.out.p, s.out.len, t);
  tc_script_free(&s);
  tc_drain(c, NULL);
  return c;
}

static void test_header_block_on_time(void **state) {
  (void)state;
  rec r;
  h2_conn *c = server_ready(10000, 0, &r, 0);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  tc_script s;
  tc_script_init(&s);
  tc_headers(&s, 1, H2_FLAG_END_STREAM, 8, GET_REQ); /* HEADERS + CONTINUATIONs */
  size_t off[64];
  size_t n = frame_offsets(&s.out, off, 64);
  assert_true(n >= 4);
  /* Everything but the last frame at 100 ms, the last at 10099 ms. */
  feed(c, s.out.p, off[n - 1], 100);
  assert_int_equal(h2_conn_next_deadline(c), 10100);
  assert_int_equal(h2_conn_timeout(c, 10099), 0);
  feed(c, s.out.p + off[n - 1], s.out.len - off[n - 1], 10099);
  assert_int_equal(r.headers, 1);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  assert_int_equal(h2_conn_timeout(c, 50000), 0);
  assert_int_equal(r.tc.conn_errors, 0);
  /* A second block gets a fresh deadline from its own start. */
  tc_script_free(&s);
  tc_script_init(&s);
  tc_headers(&s, 3, H2_FLAG_END_STREAM, 8, GET_REQ);
  feed(c, s.out.p, 9, 60000); /* the HEADERS frame header alone */
  assert_int_equal(h2_conn_next_deadline(c), 70000);
  feed(c, s.out.p + 9, s.out.len - 9, 60001);
  assert_int_equal(r.headers, 2);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  tc_script_free(&s);
  free_conn(c, &r);
}

static void test_continuation_trickle(void **state) {
  (void)state;
  rec r;
  h2_conn *c = server_ready(10000, 0, &r, 0);
  tc_script s;
  tc_script_init(&s);
  tc_headers(&s, 1, H2_FLAG_END_STREAM, 1, GET_REQ); /* one octet per frame */
  size_t off[128];
  size_t n = frame_offsets(&s.out, off, 128);
  assert_true(n > 40);
  /* One frame every 300 ms from 1000 ms on; the block never ends in time. */
  uint64_t now = 1000;
  size_t i = 0;
  for (; i + 1 < n; i++, now += 300) {
    if (h2_conn_timeout(c, now) < 0) break;
    feed(c, s.out.p + off[i], off[i + 1] - off[i], now);
    /* Each CONTINUATION leaves the deadline where the block began. */
    assert_int_equal(h2_conn_next_deadline(c), 11000);
  }
  assert_int_equal(now, 11200); /* 34 frames went in, the 35th was too late */
  assert_int_equal(i, 34);
  assert_int_equal(r.tc.conn_errors, 1);
  assert_int_equal(r.err, H2_ERR_TIMEOUT);
  assert_int_equal(r.tc.last_error_code, 0xb);
  assert_non_null(strstr(r.msg, "header block not completed in time"));
  assert_int_equal(r.headers, 0);
  char *t = drain_text(c);
  assert_non_null(strstr(t, "[GOAWAY]"));
  assert_non_null(strstr(t, "ENHANCE_YOUR_CALM"));
  free(t);
  assert_true(h2_conn_is_closed(c));
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  tc_script_free(&s);
  free_conn(c, &r);
}

/* A single HEADERS frame whose payload trickles is a block in progress too;
 * the clock starts when its 9-octet frame header is complete. */
static void test_headers_payload_trickle(void **state) {
  (void)state;
  rec r;
  h2_conn *c = server_ready(3000, 0, &r, 0);
  tc_script s;
  tc_script_init(&s);
  tc_headers(&s, 1, H2_FLAG_END_STREAM, 0, GET_REQ); /* one frame, END_HEADERS */
  for (size_t i = 0; i < 9; i++) feed(c, s.out.p + i, 1, 100 + i);
  assert_int_equal(h2_conn_next_deadline(c), 108 + 3000);
  feed(c, s.out.p + 9, 4, 2000);
  assert_int_equal(h2_conn_timeout(c, 3107), 0);
  assert_int_equal(h2_conn_timeout(c, 3108), H2_ERR_TIMEOUT);
  assert_int_equal(r.tc.last_error_code, 0xb);
  tc_script_free(&s);
  free_conn(c, &r);
}

/* A client bounds the server's header blocks (a response) the same way;
 * the preface limit is the server's only. */
static void test_client(void **state) {
  (void)state;
  rec r;
  h2_conn *c = new_conn(H2_CONN_CLIENT, 10, 5000, 0, &r);
  assert_int_equal(h2_conn_timeout(c, 0), 0);
  tc_drain(c, NULL);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  assert_int_equal(h2_conn_timeout(c, 100000), 0);
  static const h2_hpack_field req[] = {{":method", 7, "GET", 3, 0}, {":scheme", 7, "https", 5, 0},
                                       {":authority", 10, "a", 1, 0}, {":path", 5, "/", 1, 0}};
  assert_int_equal(h2_conn_submit_request(c, req, 4, NULL, 1, NULL), 1);
  tc_drain(c, NULL);
  tc_script s;
  tc_script_init(&s);
  tc_settings(&s, NULL, 0);
  static const char *const resp[] = {":status", "200", "server", "a-server-with-a-long-name", NULL};
  tc_headers(&s, 1, 0, 4, resp);
  feed(c, s.out.p, s.out.len - 9, 100000); /* the last frame's header missing */
  assert_int_equal(h2_conn_next_deadline(c), 105000);
  assert_int_equal(h2_conn_timeout(c, 105000), H2_ERR_TIMEOUT);
  assert_int_equal(r.tc.last_error_code, 0xb);
  tc_script_free(&s);
  free_conn(c, &r);
}

/* ---- next deadline, disabled ---------------------------------------------- */

static void test_next_deadline_with_settings(void **state) {
  (void)state;
  rec r;
  h2_conn *c = new_conn(H2_CONN_SERVER, 10000, 10000, 4000, &r);
  /* Before any output our SETTINGS has no ACK deadline: the preface's. */
  assert_int_equal(h2_conn_timeout(c, 1000), 0);
  assert_int_equal(h2_conn_next_deadline(c), 11000);
  assert_int_equal(h2_conn_pending_settings(c), 1);
  /* Output at 3000 starts the ACK clock: 7000 is nearer. */
  tc_buf out = {0};
  uint8_t buf[512];
  assert_true(h2_conn_send(c, buf, sizeof buf, 3000) > 0);
  assert_int_equal(h2_conn_next_deadline(c), 7000);
  tc_buf_free(&out);
  /* The client's preface and its ACK at 5000: nothing left. */
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  tc_settings_ack(&s);
  feed(c, s.out.p, s.out.len, 5000);
  assert_int_equal(h2_conn_pending_settings(c), 0);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  tc_script_free(&s);
  free_conn(c, &r);
}

static void test_disabled(void **state) {
  (void)state;
  rec r;
  h2_conn *c = new_conn(H2_CONN_SERVER, 0, 0, 0, &r);
  assert_int_equal(h2_conn_timeout(c, 0), 0);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  assert_int_equal(h2_conn_timeout(c, UINT64_MAX - 1), 0);
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  feed(c, s.out.p, 7, 5);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  feed(c, s.out.p + 7, s.out.len - 7, 1000000);
  tc_settings(&s, NULL, 0);
  tc_script_free(&s);
  tc_script_init(&s);
  tc_settings(&s, NULL, 0);
  tc_headers(&s, 1, H2_FLAG_END_STREAM, 4, GET_REQ);
  feed(c, s.out.p, s.out.len - 1, 2000000); /* the block's last octet missing */
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX);
  assert_int_equal(h2_conn_timeout(c, UINT64_MAX - 1), 0);
  assert_int_equal(r.tc.conn_errors, 0);
  assert_true(h2_conn_want_read(c));
  feed(c, s.out.p + s.out.len - 1, 1, UINT64_MAX - 1);
  assert_int_equal(r.headers, 1);
  tc_script_free(&s);
  free_conn(c, &r);
}

/* A deadline near the end of the clock saturates instead of wrapping. */
static void test_clock_end(void **state) {
  (void)state;
  rec r;
  h2_conn *c = new_conn(H2_CONN_SERVER, 10000, 10000, 0, &r);
  assert_int_equal(h2_conn_timeout(c, UINT64_MAX - 5), 0);
  assert_int_equal(h2_conn_next_deadline(c), UINT64_MAX - 1);
  assert_int_equal(h2_conn_timeout(c, UINT64_MAX - 2), 0);
  assert_int_equal(h2_conn_timeout(c, UINT64_MAX - 1), H2_ERR_TIMEOUT);
  free_conn(c, &r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_preface_on_time),
      cmocka_unit_test(test_preface_never_came),
      cmocka_unit_test(test_preface_settings_late),
      cmocka_unit_test(test_header_block_on_time),
      cmocka_unit_test(test_continuation_trickle),
      cmocka_unit_test(test_headers_payload_trickle),
      cmocka_unit_test(test_client),
      cmocka_unit_test(test_next_deadline_with_settings),
      cmocka_unit_test(test_disabled),
      cmocka_unit_test(test_clock_end),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
