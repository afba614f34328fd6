/* test_conn_notsent.c: header blocks held to the peer's
 * SETTINGS_MAX_HEADER_LIST_SIZE and H2_CONN_EV_FRAME_NOT_SENT: a response
 * or trailers block over the peer's limit is refused at submit (nothing
 * queued); trailers that no longer fit when their turn comes (the peer
 * lowered its limit meanwhile) are reported and the stream is reset with
 * INTERNAL_ERROR (or with the code the application chose from the
 * callback); a PING ACK that cannot be queued (allocation failure) is
 * reported on stream 0, followed by the connection error. */
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

static const h2_hpack_field req[] = {
  {":method", 7, "GET", 3, 0}, {":scheme", 7, "http", 4, 0},
  {":authority", 10, "a", 1, 0}, {":path", 5, "/", 1, 0},
};

/* A client advertising MAX_HEADER_LIST_SIZE 200 and a server, settled,
 * with stream 1 open on the server (request received, nothing answered). */
typedef struct pair {
  h2_conn *c, *s;
  tc_rec cr, sr;
} pair;

static int reset_with_cancel; /* the server's callback resets with CANCEL itself */

static int server_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  if (ev->type == H2_CONN_EV_FRAME_NOT_SENT && reset_with_cancel && ev->stream_id)
    assert_int_equal(h2_conn_submit_rst(c, ev->stream_id, 0x8), 0);
  return tc_cb(c, ev, user);
}

static void pair_open(pair *p) {
  memset(p, 0, sizeof *p);
  h2_conn_config cc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  cc.settings.max_header_list_size = 200;
  p->c = h2_conn_new(H2_CONN_CLIENT, &cc, NULL, tc_cb, &p->cr);
  p->s = h2_conn_new(H2_CONN_SERVER, NULL, NULL, server_cb, &p->sr);
  assert_non_null(p->c);
  assert_non_null(p->s);
  p->cr.consume = p->sr.consume = 1;
  tc_pump_both(p->c, p->s, 0);
  assert_int_equal(h2_conn_remote_settings(p->s)->max_header_list_size, 200);
  assert_int_equal(h2_conn_submit_request(p->c, req, 4, NULL, 1, NULL), 1);
  tc_pump_both(p->c, p->s, 0);
  assert_non_null(strstr(tc_log(&p->sr), "HEADERS s=1 request END"));
}

static void pair_close(pair *p) {
  h2_conn_free(p->c);
  h2_conn_free(p->s);
  tc_rec_free(&p->cr);
  tc_rec_free(&p->sr);
}

static void test_limit_at_submit(void **state) {
  (void)state;
  pair p;
  pair_open(&p);
  char v[200];
  memset(v, 'v', sizeof v);
  /* :status 200 (42) + x-big (5 + 130 + 32) = 209 > 200: refused, nothing
   * queued, the stream untouched. */
  h2_hpack_field big[] = {{":status", 7, "200", 3, 0}, {"x-big", 5, v, 130, 0}};
  assert_int_equal(h2_conn_submit_response(p.s, 1, big, 2, 0), H2_ERR_LIMIT);
  assert_int_equal(h2_conn_pending(p.s), 0);
  /* 200 exactly passes: x-big of 121 octets. */
  big[1].value_len = 121;
  assert_int_equal(h2_conn_submit_response(p.s, 1, big, 2, 0), 0);
  h2_hpack_field t[] = {{"x-big", 5, v, 169, 0}}; /* 206 */
  assert_int_equal(h2_conn_submit_trailers(p.s, 1, t, 1), H2_ERR_LIMIT);
  t[0].value_len = 163; /* 200 */
  assert_int_equal(h2_conn_submit_trailers(p.s, 1, t, 1), 0);
  tc_pump_both(p.c, p.s, 0);
  assert_non_null(strstr(tc_log(&p.cr), "HEADERS s=1 trailers END x-big="));
  assert_null(strstr(tc_log(&p.sr), "NOT_SENT"));
  pair_close(&p);
}

/* Trailers submitted under the limit, the peer lowers it before they are
 * encoded: reported, dropped, the stream reset. */
static void trailers_after_lowered_limit(uint32_t want_code) {
  pair p;
  pair_open(&p);
  h2_hpack_field resp[] = {{":status", 7, "200", 3, 0}};
  assert_int_equal(h2_conn_submit_response(p.s, 1, resp, 1, 0), 0);
  assert_int_equal(h2_conn_submit_data(p.s, 1, (const uint8_t *)"abc", 3, 0, NULL), 0);
  h2_hpack_field t[] = {{"x-t", 3, "1", 1, 0}}; /* 36 */
  assert_int_equal(h2_conn_submit_trailers(p.s, 1, t, 1), 0);
  /* The client now allows 20; the server reads that before its output. */
  h2_frame_setting e = {H2_SETTINGS_MAX_HEADER_LIST_SIZE, 20};
  assert_int_equal(h2_conn_submit_settings(p.c, &e, 1, 0), 0);
  tc_pump(p.c, p.s, 0);
  tc_pump_both(p.c, p.s, 0);
  char line[80];
  snprintf(line, sizeof line, "NOT_SENT s=1 type=1 err=%d rst=2\n", H2_ERR_LIMIT);
  const char *sl = tc_log(&p.sr);
  assert_non_null(strstr(sl, line));
  snprintf(line, sizeof line, "RESET s=1 code=%u local\n", want_code);
  assert_non_null(strstr(sl, line));
  assert_true(strstr(sl, "NOT_SENT") < strstr(sl, "RESET s=1"));
  const char *cl = tc_log(&p.cr);
  snprintf(line, sizeof line, "RESET s=1 code=%u remote\n", want_code);
  assert_non_null(strstr(cl, line));
  assert_non_null(strstr(cl, "HEADERS s=1 response :status=200"));
  assert_null(strstr(cl, "trailers"));
  assert_int_equal(p.cr.conn_errors + p.sr.conn_errors, 0);
  /* One RST only, and the connection goes on. */
  assert_null(strstr(strstr(sl, "RESET s=1") + 1, "RESET s=1"));
  assert_int_equal(h2_conn_submit_request(p.c, req, 4, NULL, 1, NULL), 3);
  tc_pump_both(p.c, p.s, 0);
  assert_non_null(strstr(tc_log(&p.sr), "HEADERS s=3 request END"));
  pair_close(&p);
}

static void test_trailers_not_sent(void **state) {
  (void)state;
  reset_with_cancel = 0;
  trailers_after_lowered_limit(0x2);
  reset_with_cancel = 1; /* the application's own reset wins */
  trailers_after_lowered_limit(0x8);
  reset_with_cancel = 0;
}

/* An allocator that fails on demand. */
static int fail_alloc;
static void *f_malloc(size_t n, void *u) { (void)u; return fail_alloc ? NULL : malloc(n); }
static void *f_realloc(void *p, size_t n, void *u) { (void)u; return fail_alloc ? NULL : realloc(p, n); }
static void f_free(void *p, void *u) { (void)u; free(p); }
static const h2_mem failing = {f_malloc, f_realloc, f_free, NULL};

static void test_ping_ack_not_sent(void **state) {
  (void)state;
  tc_rec cr, sr;
  memset(&cr, 0, sizeof cr);
  memset(&sr, 0, sizeof sr);
  fail_alloc = 0;
  h2_conn *c = h2_conn_new(H2_CONN_CLIENT, NULL, NULL, tc_cb, &cr);
  h2_conn *s = h2_conn_new(H2_CONN_SERVER, NULL, &failing, tc_cb, &sr);
  assert_non_null(s);
  tc_pump_both(c, s, 0);
  /* Idle: the server gave its output buffers back, so the ACK needs an
   * allocation, which fails. */
  assert_int_equal(h2_conn_submit_ping(c, NULL, 0), 0);
  fail_alloc = 1;
  tc_pump(c, s, 0);
  fail_alloc = 0;
  char line[80];
  snprintf(line, sizeof line, "NOT_SENT s=0 type=6 err=%d rst=0\n", H2_ERR_NOMEM);
  const char *sl = tc_log(&sr);
  assert_non_null(strstr(sl, line));
  assert_non_null(strstr(sl, "CONN_ERROR code=2"));
  assert_true(strstr(sl, "NOT_SENT") < strstr(sl, "CONN_ERROR"));
  assert_null(strstr(sl, "PING\n")); /* the PING event is not delivered */
  assert_int_equal(h2_conn_want_read(s), 0);
  h2_conn_free(c);
  h2_conn_free(s);
  tc_rec_free(&cr);
  tc_rec_free(&sr);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_limit_at_submit),
      cmocka_unit_test(test_trailers_not_sent),
      cmocka_unit_test(test_ping_ack_not_sent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
