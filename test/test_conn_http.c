/* test_conn_http.c: the RFC 9113 §8 message checks (h2core/http_check.h)
 * as a table of header blocks, each with the verdict it must get, plus the
 * same rules seen through the engine: a malformed request is reset with
 * PROTOCOL_ERROR while the connection lives, and a malformed submit is
 * refused with H2_ERR_INVALID_ARG. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2_conn.h"
#include "http_check.h"
#include "util_conn.h"

typedef struct hcase {
  int line;
  int kind;
  int connect_protocol;
  int end_stream;
  int ok;
  const char *fields[24]; /* name, value, ..., NULL */
} hcase;

#define REQ H2_HTTP_REQUEST
#define RESP H2_HTTP_RESPONSE
#define TRL H2_HTTP_TRAILERS
#define PUSH H2_HTTP_PUSH_REQUEST
#define BASE ":method", "GET", ":scheme", "https", ":authority", "a.example", ":path", "/"

static const hcase cases[] = {
    {__LINE__, REQ, 0, 1, 1, {BASE, NULL}},
    {__LINE__, REQ, 0, 1, 1, {BASE, "accept", "*/*", "te", "trailers", NULL}},
    {__LINE__, REQ, 0, 1, 1, {":method", "GET", ":scheme", "https", ":path", "/", NULL}}, /* no :authority ok */
    {__LINE__, REQ, 0, 1, 0, {":method", "GET", ":scheme", "https", ":authority", "a", NULL}}, /* no :path */
    {__LINE__, REQ, 0, 1, 0, {":scheme", "https", ":authority", "a", ":path", "/", NULL}},   /* no :method */
    {__LINE__, REQ, 0, 1, 0, {":method", "GET", ":authority", "a", ":path", "/", NULL}},     /* no :scheme */
    {__LINE__, REQ, 0, 1, 0, {BASE, ":path", "/x", NULL}},                                   /* duplicate */
    {__LINE__, REQ, 0, 1, 0, {BASE, ":status", "200", NULL}},                                /* response pseudo */
    {__LINE__, REQ, 0, 1, 0, {BASE, ":foo", "x", NULL}},                                     /* unknown pseudo */
    {__LINE__, REQ, 0, 1, 0, {":method", "GET", "accept", "x", ":scheme", "https", ":path", "/", NULL}},
    {__LINE__, REQ, 0, 1, 0, {BASE, "Accept", "x", NULL}},        /* uppercase name */
    {__LINE__, REQ, 0, 1, 0, {BASE, "ac cept", "x", NULL}},       /* space in name */
    {__LINE__, REQ, 0, 1, 0, {BASE, "a:b", "x", NULL}},           /* colon inside name */
    {__LINE__, REQ, 0, 1, 0, {BASE, "", "x", NULL}},              /* empty name */
    {__LINE__, REQ, 0, 1, 0, {BASE, "x", " lead", NULL}},         /* leading space */
    {__LINE__, REQ, 0, 1, 0, {BASE, "x", "trail\t", NULL}},       /* trailing tab */
    {__LINE__, REQ, 0, 1, 0, {BASE, "x", "a\r\nb", NULL}},        /* CRLF */
    {__LINE__, REQ, 0, 1, 1, {BASE, "x", "in side", NULL}},       /* inner space ok */
    {__LINE__, REQ, 0, 1, 1, {BASE, "x", "", NULL}},              /* empty value ok */
    {__LINE__, REQ, 0, 1, 0, {BASE, "connection", "close", NULL}},
    {__LINE__, REQ, 0, 1, 0, {BASE, "keep-alive", "5", NULL}},
    {__LINE__, REQ, 0, 1, 0, {BASE, "proxy-connection", "x", NULL}},
    {__LINE__, REQ, 0, 1, 0, {BASE, "transfer-encoding", "chunked", NULL}},
    {__LINE__, REQ, 0, 1, 0, {BASE, "upgrade", "h2c", NULL}},
    {__LINE__, REQ, 0, 1, 0, {BASE, "te", "gzip", NULL}},
    {__LINE__, REQ, 0, 1, 1, {BASE, "content-length", "0", NULL}},
    {__LINE__, REQ, 0, 1, 0, {BASE, "content-length", "12a", NULL}},
    {__LINE__, REQ, 0, 1, 0, {BASE, "content-length", "", NULL}},
    {__LINE__, REQ, 0, 1, 1, {BASE, "content-length", "5", "content-length", "5", NULL}},
    {__LINE__, REQ, 0, 1, 0, {BASE, "content-length", "5", "content-length", "6", NULL}},
    {__LINE__, REQ, 0, 1, 0, {":method", "GET", ":scheme", "https", ":path", "", NULL}}, /* empty :path */
    {__LINE__, REQ, 0, 1, 0, {":method", "GET", ":scheme", "https", ":path", "x", NULL}}, /* not origin-form */
    {__LINE__, REQ, 0, 1, 1, {":method", "OPTIONS", ":scheme", "https", ":path", "*", NULL}},
    {__LINE__, REQ, 0, 1, 0, {":method", "GET", ":scheme", "https", ":path", "*", NULL}},
    /* CONNECT */
    {__LINE__, REQ, 0, 0, 1, {":method", "CONNECT", ":authority", "a:443", NULL}},
    {__LINE__, REQ, 0, 0, 0, {":method", "CONNECT", NULL}},
    {__LINE__, REQ, 0, 0, 0, {":method", "CONNECT", ":authority", "a:443", ":path", "/", NULL}},
    {__LINE__, REQ, 0, 0, 0, {":method", "CONNECT", ":authority", "a:443", ":scheme", "https", NULL}},
    /* extended CONNECT (RFC 8441) */
    {__LINE__, REQ, 1, 0, 1,
     {":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":path", "/chat", ":authority", "a", NULL}},
    {__LINE__, REQ, 0, 0, 0,
     {":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":path", "/chat", ":authority", "a", NULL}},
    {__LINE__, REQ, 1, 0, 0, {":method", "CONNECT", ":protocol", "websocket", ":authority", "a", NULL}},
    {__LINE__, REQ, 1, 0, 0, {":method", "GET", ":protocol", "websocket", ":scheme", "https", ":path", "/", NULL}},
    /* responses */
    {__LINE__, RESP, 0, 1, 1, {":status", "200", NULL}},
    {__LINE__, RESP, 0, 0, 1, {":status", "200", "content-type", "text/html", NULL}},
    {__LINE__, RESP, 0, 0, 1, {":status", "103", "link", "</a>", NULL}},
    {__LINE__, RESP, 0, 1, 0, {":status", "100", NULL}}, /* 1xx ends the stream */
    {__LINE__, RESP, 0, 0, 0, {":status", "101", NULL}},
    {__LINE__, RESP, 0, 1, 0, {":status", "20", NULL}},
    {__LINE__, RESP, 0, 1, 0, {":status", "2x0", NULL}},
    {__LINE__, RESP, 0, 1, 0, {":status", "099", NULL}},
    {__LINE__, RESP, 0, 1, 0, {"content-type", "x", NULL}},
    {__LINE__, RESP, 0, 1, 0, {":status", "200", ":status", "200", NULL}},
    {__LINE__, RESP, 0, 1, 0, {":status", "200", ":path", "/", NULL}},
    {__LINE__, RESP, 0, 1, 0, {"x", "y", ":status", "200", NULL}},
    /* trailers */
    {__LINE__, TRL, 0, 1, 1, {"x-sum", "1", NULL}},
    {__LINE__, TRL, 0, 1, 1, {NULL}},
    {__LINE__, TRL, 0, 0, 0, {"x-sum", "1", NULL}}, /* without END_STREAM */
    {__LINE__, TRL, 0, 1, 0, {":status", "200", NULL}},
    {__LINE__, TRL, 0, 1, 0, {"connection", "x", NULL}},
    /* promised requests */
    {__LINE__, PUSH, 0, 1, 1, {BASE, NULL}},
    {__LINE__, PUSH, 0, 1, 1, {":method", "HEAD", ":scheme", "https", ":authority", "a", ":path", "/", NULL}},
    {__LINE__, PUSH, 0, 1, 0, {":method", "POST", ":scheme", "https", ":authority", "a", ":path", "/", NULL}},
    {__LINE__, PUSH, 0, 1, 0, {":method", "GET", ":scheme", "https", ":path", "/", NULL}}, /* no :authority */
    {__LINE__, PUSH, 0, 1, 0, {BASE, "content-length", "3", NULL}},
};

static void test_http_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const hcase *hc = &cases[i];
    h2_http_check c;
    h2_http_check_init(&c, hc->kind, hc->connect_protocol);
    for (size_t k = 0; hc->fields[k]; k += 2)
      h2_http_check_field(&c, hc->fields[k], strlen(hc->fields[k]), hc->fields[k + 1], strlen(hc->fields[k + 1]));
    int r = h2_http_check_end(&c, hc->end_stream);
    if ((r == 0) != hc->ok) {
      fprintf(stderr, "http case line %d: got %d (%s), want %s\n", hc->line, r, c.why ? c.why : "-",
              hc->ok ? "ok" : "malformed");
      fail();
    }
    if (!hc->ok) assert_non_null(c.why);
  }
}

static void test_http_helpers(void **state) {
  (void)state;
  assert_int_equal(h2_http_parse_content_length("0", 1), 0);
  assert_int_equal(h2_http_parse_content_length("123456789", 9), 123456789);
  assert_int_equal(h2_http_parse_content_length("-1", 2), -1);
  assert_int_equal(h2_http_parse_content_length("1 ", 2), -1);
  assert_int_equal(h2_http_parse_content_length("9999999999999999999", 19), -1);
  h2_http_check c;
  h2_http_check_init(&c, RESP, 0);
  h2_http_check_field(&c, ":status", 7, "204", 3);
  assert_int_equal(h2_http_check_end(&c, 1), 0);
  assert_int_equal(c.status, 204);
  h2_http_check_init(&c, REQ, 0);
  h2_http_check_field(&c, ":method", 7, "HEAD", 4);
  assert_int_equal(c.method, H2_HTTP_METHOD_HEAD);
  /* every byte value as a name character */
  for (int ch = 0; ch < 256; ch++) {
    char n[2] = {(char)ch, 'x'};
    int want = !(ch <= 0x20 || (ch >= 'A' && ch <= 'Z') || ch >= 0x7f);
    assert_int_equal(h2_http_name_ok(n, 2), want);
    char v[3] = {'a', (char)ch, 'b'};
    assert_int_equal(h2_http_value_ok(v, 3), !(ch == 0 || ch == '\r' || ch == '\n'));
  }
  /* every byte value at every position of names and values of 5, 12 and
   * 20 octets (short, one and two 16-lane paths) */
  static const size_t lens[] = {5, 12, 20};
  for (size_t li = 0; li < 3; li++) {
    size_t n = lens[li];
    for (size_t pos = 0; pos < n; pos++) {
      for (int ch = 0; ch < 256; ch++) {
        char nb[24], vb[24];
        memset(nb, 'x', sizeof nb);
        memset(vb, 'v', sizeof vb);
        nb[pos] = (char)ch;
        vb[pos] = (char)ch;
        int nwant = !(ch <= 0x20 || (ch >= 'A' && ch <= 'Z') || ch >= 0x7f || (ch == ':' && pos > 0));
        int vwant = !(ch == 0 || ch == '\r' || ch == '\n' || ((ch == ' ' || ch == '\t') && (pos == 0 || pos == n - 1)));
        if (h2_http_name_ok(nb, n) != nwant) fail_msg("name len %zu pos %zu byte %d", n, pos, ch);
        if (h2_http_value_ok(vb, n) != vwant) fail_msg("value len %zu pos %zu byte %d", n, pos, ch);
      }
    }
  }
  /* every length up to 40 (word and 16-lane paths), one bad octet at each
   * position, neighbours outside the range that would fail if read */
  for (size_t n = 1; n <= 40; n++) {
    for (size_t pos = 0; pos < n; pos++) {
      char buf[48];
      memset(buf, 'a', sizeof buf);
      buf[0] = 'A';
      buf[n + 1] = 'A';
      assert_int_equal(h2_http_name_ok(buf + 1, n), 1);
      buf[1 + pos] = 'Z';
      assert_int_equal(h2_http_name_ok(buf + 1, n), 0);
      buf[1 + pos] = (char)0x80;
      assert_int_equal(h2_http_name_ok(buf + 1, n), 0);
      buf[1 + pos] = ':';
      assert_int_equal(h2_http_name_ok(buf + 1, n), pos == 0);
      memset(buf, 'a', sizeof buf);
      buf[0] = '\n';
      buf[n + 1] = 0;
      assert_int_equal(h2_http_value_ok(buf + 1, n), 1);
      buf[1 + pos] = '\r';
      assert_int_equal(h2_http_value_ok(buf + 1, n), 0);
      buf[1 + pos] = 0;
      assert_int_equal(h2_http_value_ok(buf + 1, n), 0);
      buf[1 + pos] = (char)0xff;
      assert_int_equal(h2_http_value_ok(buf + 1, n), 1);
    }
  }
  /* names no rule but the character ones concerns */
  assert_int_equal(h2_http_name_plain("user-agent", 10), 1);
  assert_int_equal(h2_http_name_plain("content-type", 12), 1);
  assert_int_equal(h2_http_name_plain("tea", 3), 1);
  static const char *const ruled[] = {":path", "connection", "content-length", "keep-alive", "proxy-connection",
                                      "transfer-encoding", "te", "upgrade", ""};
  for (size_t i = 0; i < sizeof ruled / sizeof ruled[0]; i++)
    assert_int_equal(h2_http_name_plain(ruled[i], strlen(ruled[i])), 0);
}

/* A regular field taken again from the dynamic table (marked plain by the
 * engine the first time) still counts as a regular field: a pseudo-header
 * after it is malformed; and a ruled name from the table is still checked. */
static void test_http_marked_entries(void **state) {
  (void)state;
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  static const char *const first[] = {":method", "GET", ":scheme", "https", ":path", "/", "x-plain", "1",
                                      "te", "trailers", NULL};
  tc_headers(&s, 1, H2_FLAG_END_STREAM, 0, first);
  tc_headers(&s, 3, H2_FLAG_END_STREAM, 0, first); /* same fields, now from the table */
  static const char *const late[] = {":method", "GET", ":scheme", "https", "x-plain", "1", ":path", "/", NULL};
  tc_headers(&s, 5, H2_FLAG_END_STREAM, 0, late);
  static const char *const te2[] = {":method", "GET", ":scheme", "https", ":path", "/", "te", "trailers",
                                    "te", "gzip", NULL};
  tc_headers(&s, 7, H2_FLAG_END_STREAM, 0, te2);
  tc_ping(&s, 0, 5);
  tc_result r;
  tc_run(H2_CONN_SERVER, NULL, NULL, s.out.p, s.out.len, TC_WHOLE, 0, &r);
  const char *log = tc_log(&r.rec);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.rec.conn_errors, 0);
  assert_non_null(strstr(log, "HEADERS s=1"));
  assert_non_null(strstr(log, "HEADERS s=3"));
  assert_null(strstr(log, "HEADERS s=5"));
  assert_non_null(strstr(log, "RESET s=5 code=1 local"));
  assert_null(strstr(log, "HEADERS s=7"));
  assert_non_null(strstr(log, "RESET s=7 code=1 local"));
  assert_non_null(strstr(log, "PING"));
  tc_result_free(&r);
  tc_script_free(&s);
}

/* Through the engine: malformed requests are reset, the connection lives;
 * content-length mismatches reset too. */
static void test_http_in_engine(void **state) {
  (void)state;
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  static const char *const bad[] = {":method", "GET", ":path", "/", NULL};
  tc_headers(&s, 1, H2_FLAG_END_STREAM, 0, bad);
  static const char *const cl[] = {":method", "POST", ":scheme", "https", ":path", "/", "content-length", "4", NULL};
  tc_headers(&s, 3, 0, 0, cl);
  tc_data(&s, 3, H2_FLAG_END_STREAM, "abc", 3, -1); /* 3 != 4 */
  tc_headers(&s, 5, H2_FLAG_END_STREAM, 0, cl);     /* END_STREAM with content-length 4 */
  tc_headers(&s, 7, 0, 0, cl);
  tc_data(&s, 7, 0, "abcde", 5, -1); /* more than 4 */
  tc_headers(&s, 9, 0, 0, cl);
  tc_data(&s, 9, H2_FLAG_END_STREAM, "abcd", 4, -1); /* exact: fine */
  tc_ping(&s, 0, 5);
  tc_result r;
  tc_run(H2_CONN_SERVER, NULL, NULL, s.out.p, s.out.len, TC_WHOLE, 0, &r);
  const char *log = tc_log(&r.rec);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.rec.conn_errors, 0);
  assert_null(strstr(log, "HEADERS s=1"));
  assert_non_null(strstr(log, "RESET s=3 code=1 local"));
  assert_non_null(strstr(log, "RESET s=5 code=1 local"));
  assert_non_null(strstr(log, "RESET s=7 code=1 local"));
  assert_null(strstr(log, "DATA s=7"));
  assert_non_null(strstr(log, "DATA s=9 len=4"));
  assert_non_null(strstr(log, "END s=9"));
  assert_non_null(strstr(log, "PING"));
  char *txt = tc_frames_text(r.out.p, r.out.len);
  assert_non_null(strstr(txt, "[RST_STREAM] stream=1"));
  free(txt);
  tc_result_free(&r);
  tc_script_free(&s);
}

static int nop_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  (void)c;
  (void)ev;
  (void)user;
  return 0;
}

static void test_http_submit_checked(void **state) {
  (void)state;
  h2_conn *c = h2_conn_new(H2_CONN_CLIENT, NULL, NULL, nop_cb, NULL);
  assert_non_null(c);
  h2_hpack_field bad[] = {{":method", 7, "GET", 3, 0}, {":path", 5, "/", 1, 0}};
  assert_int_equal(h2_conn_submit_request(c, bad, 2, NULL, 1, NULL), H2_ERR_INVALID_ARG);
  h2_hpack_field upper[] = {{":method", 7, "GET", 3, 0}, {":scheme", 7, "http", 4, 0}, {":path", 5, "/", 1, 0},
                            {"X-Up", 4, "1", 1, 0}};
  assert_int_equal(h2_conn_submit_request(c, upper, 4, NULL, 1, NULL), H2_ERR_INVALID_ARG);
  upper[3].name = "x-up";
  assert_int_equal(h2_conn_submit_request(c, upper, 4, NULL, 1, NULL), 1);
  assert_int_equal(h2_conn_submit_request(c, upper, 4, NULL, 1, NULL), 3);
  h2_conn_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_table),
      cmocka_unit_test(test_http_helpers),
      cmocka_unit_test(test_http_in_engine),
      cmocka_unit_test(test_http_marked_entries),
      cmocka_unit_test(test_http_submit_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
