/* test_api_continue.c: expect: 100-continue in the compatibility API
 * (h2_compat.h): Node's 'checkContinue' handler, the automatic
 * "100 Continue" when there is none, and the header test itself. In
 * memory: a client and a server session joined by api_pair_pump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api_pair.h"
#include "h2.h"
#include "h2_compat.h"

/* What the client saw, in order: "100 " per informational 100, "S<status> "
 * per final response, then the body length. */
static struct {
  char order[64];
  size_t body;
  int ends;
} cli;

static void note(const char *s) {
  size_t u = strlen(cli.order);
  snprintf(cli.order + u, sizeof cli.order - u, "%s", s);
}
static void c_info(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f; (void)u;
  const h2_header *s = h2_header_find(h, n, ":status");
  assert_non_null(s);
  char b[8];
  snprintf(b, sizeof b, "%.*s ", (int)s->value_len, s->value);
  note(b);
}
static void c_response(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f; (void)u;
  const h2_header *s = h2_header_find(h, n, ":status");
  assert_non_null(s);
  char b[8];
  snprintf(b, sizeof b, "S%.*s ", (int)s->value_len, s->value);
  note(b);
}
static void c_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st; (void)d; (void)u;
  cli.body += n;
}
static void c_end(h2_stream *st, void *u) { (void)st; (void)u; cli.ends++; }
static const h2_stream_callbacks c_cbs = {.on_headers = c_info, .on_response = c_response,
                                          .on_data = c_data, .on_end = c_end};

/* Server side: which handler ran, and the body it read. */
static struct {
  int requests, checks, req_ends;
  size_t body;
  int informational_before_handler; /* the 100 was queued before |fn| ran */
} srv;
static h2_session *C, *S;

static void r_data(h2_req *req, const uint8_t *d, size_t n, void *u) {
  (void)req; (void)d; (void)u;
  srv.body += n;
}
static void r_end(h2_req *req, void *u) {
  (void)req;
  srv.req_ends++;
  char b[32];
  snprintf(b, sizeof b, "%zu", srv.body);
  assert_int_equal(h2_res_end(u, (const uint8_t *)b, strlen(b)), 0);
}
static const h2_req_callbacks r_cbs = {.on_data = r_data, .on_end = r_end};

/* 'request': reads the body, answers its length at the end. */
static void on_request(h2_req *req, h2_res *res, void *user) {
  (void)user;
  srv.requests++;
  /* the automatic 100 went out before this call: the response's headers
   * are not sent yet, so a final status can still be set */
  assert_false(h2_res_headers_sent(res));
  h2_req_on(req, &r_cbs, res);
}

/* 'checkContinue', two policies picked by the request's :path. */
static void on_check(h2_req *req, h2_res *res, void *user) {
  (void)user;
  srv.checks++;
  if (strcmp(h2_req_url(req), "/too-big") == 0) {
    assert_int_equal(h2_res_set_status(res, 417), 0);
    assert_int_equal(h2_res_end(res, NULL, 0), 0);
    return;
  }
  assert_int_equal(h2_res_write_continue(res), 0);
  h2_req_on(req, &r_cbs, res);
}

static h2_compat_handler auto_handler = {.fn = on_request};
static h2_compat_handler check_handler = {.fn = on_request, .check_continue = on_check};

static void open_pair(h2_compat_handler *h) {
  memset(&cli, 0, sizeof cli);
  memset(&srv, 0, sizeof srv);
  h2_session_callbacks cc = {0};
  h2_session_callbacks sc = {.on_stream = h2_compat_on_stream};
  assert_int_equal(h2_session_new(&C, 0, NULL, &cc, NULL, NULL), 0);
  assert_int_equal(h2_session_new(&S, 1, NULL, &sc, h, NULL), 0);
  api_pair_pump(C, S, NULL);
}
static void close_pair(void) {
  h2_session_free(C);
  h2_session_free(S);
  C = S = NULL;
}

/* A request with |expect| (NULL: none) on |path|; the body (1000 bytes)
 * is written only once the client saw a 100, as a client would. */
static h2_stream *send_request(const char *path, const char *expect, int with_body) {
  h2_header h[5] = {H2_HDR(":method", "PUT"), H2_HDR(":scheme", "http"),
                    H2_HDR(":authority", "t.test"), {":path", 5, path, strlen(path), 0}};
  size_t n = 4;
  if (expect) h[n++] = (h2_header){"expect", 6, expect, strlen(expect), 0};
  h2_stream *st;
  assert_int_equal(h2_session_request(C, &st, h, n, with_body ? 0 : H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &c_cbs, NULL);
  api_pair_pump(C, S, NULL);
  return st;
}
static void send_body(h2_stream *st) {
  static uint8_t body[1000];
  memset(body, 'b', sizeof body);
  assert_true(h2_stream_write(st, body, sizeof body, NULL, NULL) >= 0);
  assert_int_equal(h2_stream_end(st), 0);
  api_pair_pump(C, S, NULL);
}

/* No checkContinue handler: "100 Continue" is sent, then 'request' runs. */
static void test_automatic_continue(void **state) {
  (void)state;
  open_pair(&auto_handler);
  h2_stream *st = send_request("/up", "100-continue", 1);
  assert_string_equal(cli.order, "100 ");
  assert_int_equal(srv.requests, 1);
  send_body(st);
  assert_string_equal(cli.order, "100 S200 ");
  assert_int_equal(srv.body, 1000);
  assert_int_equal(cli.body, 4); /* "1000" */
  assert_int_equal(cli.ends, 1);
  close_pair();
}

/* checkContinue runs instead of 'request': it may accept (100, then the
 * body) or refuse at once (417, no 100, 'request' never runs). */
static void test_check_continue(void **state) {
  (void)state;
  open_pair(&check_handler);
  h2_stream *st = send_request("/up", "100-Continue", 1); /* case-insensitive */
  assert_int_equal(srv.checks, 1);
  assert_int_equal(srv.requests, 0);
  assert_string_equal(cli.order, "100 ");
  send_body(st);
  assert_string_equal(cli.order, "100 S200 ");
  assert_int_equal(srv.body, 1000);

  memset(cli.order, 0, sizeof cli.order);
  send_request("/too-big", "100-continue", 1);
  assert_int_equal(srv.checks, 2);
  assert_int_equal(srv.requests, 0);
  assert_string_equal(cli.order, "S417 ");
  close_pair();
}

/* Without the header, or without a body to wait for, nothing changes:
 * no 100, 'request' runs (also with a checkContinue handler). */
static void test_no_continue(void **state) {
  (void)state;
  open_pair(&check_handler);
  h2_stream *st = send_request("/up", NULL, 1);
  send_body(st);
  assert_string_equal(cli.order, "S200 ");
  send_request("/up", "100-continue", 0); /* END_STREAM: no body */
  assert_string_equal(cli.order, "S200 S200 ");
  assert_int_equal(srv.checks, 0);
  assert_int_equal(srv.requests, 2);
  close_pair();
}

static void test_expects_continue(void **state) {
  (void)state;
  h2_header h[] = {H2_HDR(":method", "PUT"), H2_HDR("expect", "")};
#define VAL(s) (h[1].value = (s), h[1].value_len = strlen(s))
  VAL("100-continue");
  assert_int_equal(h2_compat_expects_continue(h, 2, 0), 1);
  assert_int_equal(h2_compat_expects_continue(h, 2, H2_FLAG_END_STREAM_RCVD), 0);
  VAL(" \t100-CONTINUE\t ");
  assert_int_equal(h2_compat_expects_continue(h, 2, 0), 1);
  VAL("100-continue-x");
  assert_int_equal(h2_compat_expects_continue(h, 2, 0), 0);
  VAL("100-continu");
  assert_int_equal(h2_compat_expects_continue(h, 2, 0), 0);
  VAL("");
  assert_int_equal(h2_compat_expects_continue(h, 2, 0), 0);
  assert_int_equal(h2_compat_expects_continue(h, 1, 0), 0);
  h[1].name = "expectx";
  h[1].name_len = 7;
  VAL("100-continue");
  assert_int_equal(h2_compat_expects_continue(h, 2, 0), 0);
#undef VAL
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_automatic_continue),
    cmocka_unit_test(test_check_continue),
    cmocka_unit_test(test_no_continue),
    cmocka_unit_test(test_expects_continue),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
