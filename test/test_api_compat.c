/* test_api_compat.c: the compatibility API (h2_compat.h) driven by the h2
 * client API: in memory (transport-less sessions) for the request and
 * response objects, and once over 127.0.0.1 with h2_server + h2_connect on
 * real loops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "h2.h"
#include "api_loops.h"
#include "h2_compat.h"
#include "h2_loop.h"
#include "api_pair.h"

/* ---- what the client saw ---------------------------------------------------- */
typedef struct seen {
  int status, responses, ends, closes, trailers, pushes, push_bodies;
  uint32_t rst;
  char hdrs[4096];   /* "name: value\n" lines of the response */
  char tr[512];      /* same for trailers */
  uint8_t *body;
  size_t len;
} seen;
static seen cli;

static void lines(char *dst, size_t cap, const h2_header *h, size_t n) {
  size_t used = strlen(dst);
  for (size_t i = 0; i < n; i++) {
    int k = snprintf(dst + used, cap - used, "%.*s: %.*s\n", (int)h[i].name_len, h[i].name,
                     (int)h[i].value_len, h[i].value);
    if (k > 0 && (size_t)k < cap - used) used += (size_t)k;
  }
}

static int count(const char *hay, const char *needle) {
  int c = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) c++;
  return c;
}

static void c_response(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f; (void)u;
  cli.responses++;
  const h2_header *s = h2_header_find(h, n, ":status");
  assert_non_null(s);
  char b[8];
  snprintf(b, sizeof b, "%.*s", (int)s->value_len, s->value);
  cli.status = atoi(b);
  lines(cli.hdrs, sizeof cli.hdrs, h, n);
}
static void c_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st; (void)u;
  cli.body = realloc(cli.body, cli.len + n + 1);
  memcpy(cli.body + cli.len, d, n);
  cli.len += n;
  cli.body[cli.len] = 0;
}
static void c_end(h2_stream *st, void *u) { (void)st; (void)u; cli.ends++; }
static void c_trailers(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f; (void)u;
  cli.trailers++;
  lines(cli.tr, sizeof cli.tr, h, n);
}
static void c_close(h2_stream *st, uint32_t code, void *u) {
  (void)st; (void)u;
  cli.closes++;
  cli.rst = code;
}
static const h2_stream_callbacks c_cbs = {.on_response = c_response, .on_data = c_data,
                                          .on_end = c_end, .on_trailers = c_trailers,
                                          .on_close = c_close};

static void p_push(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)h; (void)n; (void)f; (void)u;
  cli.pushes++;
}
static void p_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st; (void)d; (void)u;
  cli.push_bodies += (int)n;
}
static const h2_stream_callbacks p_cbs = {.on_push = p_push, .on_data = p_data};
static void client_on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n,
                             unsigned f, void *u) {
  (void)s; (void)f; (void)u;
  const h2_header *p = h2_header_find(h, n, ":path");
  assert_non_null(p);
  assert_int_equal(p->value_len, 10);
  assert_memory_equal(p->value, "/style.css", 10);
  h2_stream_on(st, &p_cbs, NULL);
}

/* ---- server side: what the handler does, per test ---------------------------- */
typedef void (*handler_fn)(h2_req *req, h2_res *res);
static handler_fn current;
static struct {
  int requests, req_ends, req_closes, res_closes, finishes, aborted, drains, completions;
  size_t body_len;
  char method[16], url[64], authority[64], scheme[16], ua[64], cookie2[32], req_trailer[32];
  h2_res *res;  /* kept for asynchronous answers */
  h2_req *req;
} srv;

static void on_request(h2_req *req, h2_res *res, void *user) {
  (void)user;
  srv.requests++;
  srv.res = res;
  srv.req = req;
  snprintf(srv.method, sizeof srv.method, "%s", h2_req_method(req));
  snprintf(srv.url, sizeof srv.url, "%s", h2_req_url(req));
  snprintf(srv.authority, sizeof srv.authority, "%s", h2_req_authority(req));
  snprintf(srv.scheme, sizeof srv.scheme, "%s", h2_req_scheme(req));
  current(req, res);
}
static h2_compat_handler handler = {.fn = on_request};

static void pump(h2_session *c, h2_session *s) { api_pair_pump(c, s, NULL); }

static h2_session *C, *S;

static void open_pair(handler_fn fn) {
  free(cli.body);
  memset(&cli, 0, sizeof cli);
  memset(&srv, 0, sizeof srv);
  current = fn;
  h2_session_callbacks cc = {.on_stream = client_on_stream};
  h2_session_callbacks sc = {.on_stream = h2_compat_on_stream};
  assert_int_equal(h2_session_new(&C, 0, NULL, &cc, NULL, NULL), 0);
  assert_int_equal(h2_session_new(&S, 1, NULL, &sc, &handler, NULL), 0);
  pump(C, S);
}

static void close_pair(void) {
  h2_session_free(C);
  h2_session_free(S);
  C = S = NULL;
}

static h2_stream *request(const h2_header *h, size_t n, unsigned flags) {
  h2_stream *st;
  assert_int_equal(h2_session_request(C, &st, h, n, flags, NULL), 0);
  h2_stream_on(st, &c_cbs, NULL);
  return st;
}

static void res_finish(h2_res *res, void *u) { (void)res; (void)u; srv.finishes++; }
static void res_close(h2_res *res, void *u) {
  (void)u;
  srv.res_closes++;
  if (res == srv.res) srv.res = NULL;
}
static void res_drain(h2_res *res, void *u) { (void)res; (void)u; srv.drains++; }
static const h2_res_callbacks res_cbs = {.on_finish = res_finish, .on_close = res_close,
                                         .on_drain = res_drain};
static void req_close(h2_req *req, void *u) {
  (void)u;
  if (req == srv.req) {
    assert_null(srv.res); /* the response's close came first */
    srv.req = NULL;
  }
  srv.req_closes++;
}
static void req_aborted(h2_req *req, void *u) { (void)req; (void)u; srv.aborted++; }

/* ---- 1. headers by name, implicit headers, copied writes ------------------------ */
static void count_end(h2_req *req, void *u) {
  (void)u;
  assert_true(h2_req_complete(req));
  srv.req_ends++;
}
static void h_headers(h2_req *req, h2_res *res) {
  h2_res_on(res, &res_cbs, NULL);
  static const h2_req_callbacks rc = {.on_end = count_end, .on_close = req_close};
  h2_req_on(req, &rc, NULL);
  snprintf(srv.ua, sizeof srv.ua, "%s", h2_req_header(req, "User-Agent", 0));
  const char *c2 = h2_req_header(req, "cookie", 1);
  snprintf(srv.cookie2, sizeof srv.cookie2, "%s", c2 ? c2 : "(none)");
  assert_null(h2_req_header(req, "cookie", 2));
  /* Node's request.headers view */
  assert_string_equal(h2_req_header_joined(req, "Cookie"), "c1=1; c2=2");
  assert_string_equal(h2_req_header_joined(req, "accept"), "text/html, */*");
  assert_ptr_equal(h2_req_header_joined(req, "accept"), h2_req_header_joined(req, "ACCEPT"));
  assert_string_equal(h2_req_header_joined(req, "content-type"), "a/b"); /* first wins */
  assert_string_equal(h2_req_header_joined(req, "user-agent"), "test/1.0");
  assert_null(h2_req_header_joined(req, "x-none"));
  assert_string_equal(h2_req_http_version(req), "2.0");
  size_t n;
  const h2_header *raw = h2_req_headers(req, &n);
  assert_true(n >= 6);
  assert_string_equal(raw[0].name, ":method");
  /* rawHeaders: every field as received, in order, duplicates not joined */
  const char *want[][2] = {{"user-agent", "test/1.0"}, {"cookie", "c1=1"}, {"cookie", "c2=2"},
                           {"accept", "text/html"},    {"accept", "*/*"},  {"content-type", "a/b"},
                           {"content-type", "c/d"}};
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (raw[i].name[0] == ':') {
      assert_int_equal(k, 0); /* pseudo-headers first */
      continue;
    }
    assert_true(k < 7);
    assert_string_equal(raw[i].name, want[k][0]);
    assert_string_equal(raw[i].value, want[k][1]);
    assert_int_equal(raw[i].value_len, strlen(want[k][1]));
    k++;
  }
  assert_int_equal(k, 7);
  /* no trailers (yet) */
  size_t nt = 99;
  assert_null(h2_req_trailers(req, &nt));
  assert_int_equal(nt, 0);
  assert_null(h2_req_trailer(req, "x-md5", 0));
  assert_null(h2_req_trailer_joined(req, "x-md5"));
  /* statusMessage: always "", a set is ignored with a warning (returns 1) */
  assert_string_equal(h2_res_status_message(res), "");
  assert_int_equal(h2_res_set_status_message(res, "Not Found"), 1);
  assert_non_null(strstr(h2_last_error_message(), "not supported by HTTP/2"));
  assert_string_equal(h2_res_status_message(res), "");
  assert_int_equal(h2_res_set_status_message(res, NULL), 1);

  assert_int_equal(h2_res_status(res), 200);
  assert_int_equal(h2_res_set_header(res, "X-Foo", "one"), 0);
  assert_int_equal(h2_res_set_header(res, "x-foo", "two"), 0); /* replaces */
  assert_string_equal(h2_res_get_header(res, "X-FOO", 0), "two");
  assert_null(h2_res_get_header(res, "x-foo", 1));
  assert_int_equal(h2_res_append_header(res, "Set-Cookie", "a=1"), 0);
  assert_int_equal(h2_res_append_header(res, "set-cookie", "b=2"), 0);
  assert_string_equal(h2_res_get_header(res, "set-cookie", 1), "b=2");
  assert_int_equal(h2_res_set_header(res, "x-gone", "1"), 0);
  assert_true(h2_res_has_header(res, "X-Gone"));
  assert_int_equal(h2_res_remove_header(res, "X-GONE"), 1);
  assert_false(h2_res_has_header(res, "x-gone"));
  const char *names[8];
  assert_int_equal(h2_res_header_names(res, names, 8), 2);
  assert_string_equal(names[0], "x-foo");
  assert_string_equal(names[1], "set-cookie");
  /* Node's TypeError cases */
  assert_int_equal(h2_res_set_header(res, "bad name", "x"), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "bad name"));
  assert_int_equal(h2_res_set_header(res, ":status", "x"), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_res_set_header(res, "x-split", "a\r\nb: c"), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_res_set_status(res, 99), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_res_set_status(res, 201), 0);

  assert_false(h2_res_headers_sent(res));
  assert_int_equal(h2_res_write(res, (const uint8_t *)"hello ", 6), 1);
  assert_true(h2_res_headers_sent(res));
  assert_int_equal(h2_res_set_header(res, "x-late", "1"), H2_ERR_STATE);
  assert_int_equal(h2_res_set_status(res, 500), H2_ERR_STATE);
  assert_int_equal(h2_res_status(res), 201);
  assert_int_equal(h2_res_set_status_message(res, "Created"), 1); /* still not an error */
  assert_string_equal(h2_res_status_message(res), "");
  assert_false(h2_res_finished(res));
  assert_int_equal(h2_res_end(res, (const uint8_t *)"world", 5), 0);
  assert_true(h2_res_finished(res));
  assert_int_equal(h2_res_end(res, NULL, 0), H2_ERR_STATE);
  assert_int_equal(h2_res_write(res, (const uint8_t *)"x", 1), H2_ERR_STATE);
}

static void test_headers_and_body(void **state) {
  (void)state;
  open_pair(h_headers);
  h2_header h[] = {H2_HDR(":path", "/a/b?q=1"), H2_HDR("user-agent", "test/1.0"),
                   H2_HDR("cookie", "c1=1"), H2_HDR("cookie", "c2=2"),
                   H2_HDR("accept", "text/html"), H2_HDR("accept", "*/*"),
                   H2_HDR("content-type", "a/b"), H2_HDR("content-type", "c/d")};
  request(h, 8, H2_END_STREAM);
  pump(C, S);
  assert_int_equal(srv.requests, 1);
  assert_string_equal(srv.method, "GET");
  assert_string_equal(srv.url, "/a/b?q=1");
  assert_string_equal(srv.scheme, "http"); /* transport-less client defaults */
  assert_string_equal(srv.authority, "localhost");
  assert_string_equal(srv.ua, "test/1.0");
  assert_string_equal(srv.cookie2, "c2=2");
  assert_int_equal(srv.req_ends, 1); /* a GET without body ends too */
  assert_int_equal(cli.status, 201);
  assert_int_equal(count(cli.hdrs, "x-foo: two\n"), 1);
  assert_int_equal(count(cli.hdrs, "x-foo:"), 1);
  assert_int_equal(count(cli.hdrs, "set-cookie: a=1\n"), 1);
  assert_int_equal(count(cli.hdrs, "set-cookie: b=2\n"), 1);
  assert_int_equal(count(cli.hdrs, "x-gone"), 0);
  assert_int_equal(count(cli.hdrs, "date: "), 1);
  assert_int_equal(count(cli.hdrs, " GMT\n"), 1);
  assert_string_equal((char *)cli.body, "hello world");
  assert_int_equal(cli.ends, 1);
  assert_int_equal(cli.rst, 0);
  assert_int_equal(srv.finishes, 1);
  assert_int_equal(srv.res_closes, 1);
  assert_int_equal(srv.req_closes, 1);
  close_pair();
}

/* ---- 2. request body, trailers both ways, asynchronous answer ------------------ */
static void rq_data(h2_req *req, const uint8_t *d, size_t n, void *u) {
  (void)req; (void)d; (void)u;
  srv.body_len += n;
}
static void rq_end(h2_req *req, void *u) {
  (void)u;
  srv.req_ends++;
  assert_true(h2_req_complete(req));
  size_t n;
  const h2_header *t = h2_req_trailers(req, &n);
  if (n) snprintf(srv.req_trailer, sizeof srv.req_trailer, "%s=%s", t[0].name, t[0].value);
  /* rawTrailers: in order, duplicates kept; request.trailers: joined */
  assert_int_equal(n, 4);
  assert_string_equal(t[1].name, "x-tag");
  assert_string_equal(t[1].value, "a");
  assert_string_equal(t[2].name, "x-tag");
  assert_string_equal(t[2].value, "b");
  assert_string_equal(t[3].name, "content-type");
  assert_string_equal(h2_req_trailer(req, "X-Tag", 1), "b");
  assert_null(h2_req_trailer(req, "x-tag", 2));
  assert_string_equal(h2_req_trailer_joined(req, "x-tag"), "a, b");
  assert_ptr_equal(h2_req_trailer_joined(req, "X-TAG"), h2_req_trailer_joined(req, "x-tag"));
  assert_string_equal(h2_req_trailer_joined(req, "x-md5"), "123");
  assert_string_equal(h2_req_trailer_joined(req, "content-type"), "t/1");
  assert_null(h2_req_trailer_joined(req, "x-none"));
  /* the header view is separate: no x-tag header */
  assert_null(h2_req_header_joined(req, "x-tag"));
  /* answer now, from the request's end */
  h2_res *res = srv.res;
  char len[32];
  snprintf(len, sizeof len, "%zu", srv.body_len);
  h2_header extra[] = {H2_HDR("content-type", "text/html"), H2_HDR("x-len", "0")};
  extra[1].value = len;
  extra[1].value_len = strlen(len);
  h2_header tr[] = {H2_HDR("x-checksum", "abc")};
  assert_int_equal(h2_res_add_trailers(res, tr, 1), 0);
  h2_header badtr[] = {H2_HDR(":status", "200")};
  assert_int_equal(h2_res_add_trailers(res, badtr, 1), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_res_write_head(res, 202, extra, 2), 0);
  assert_int_equal(h2_res_write_head(res, 202, extra, 2), H2_ERR_STATE);
  assert_int_equal(h2_res_end(res, (const uint8_t *)"ok", 2), 0);
}
static void h_upload(h2_req *req, h2_res *res) {
  static const h2_req_callbacks rc = {.on_data = rq_data, .on_end = rq_end,
                                      .on_close = req_close};
  h2_req_on(req, &rc, NULL);
  h2_res_on(res, &res_cbs, NULL);
  assert_int_equal(h2_res_set_header(res, "Content-Type", "text/plain"), 0);
  assert_int_equal(h2_res_set_header(res, "x-kept", "yes"), 0);
  assert_int_equal(h2_res_write_continue(res), 0);
}

static void test_upload_trailers(void **state) {
  (void)state;
  open_pair(h_upload);
  h2_header h[] = {H2_HDR(":method", "POST"), H2_HDR(":path", "/up"),
                   H2_HDR(":authority", "example.test:8443"), H2_HDR(":scheme", "http")};
  h2_stream *st = request(h, 4, H2_WAIT_FOR_TRAILERS);
  static uint8_t body[100000];
  memset(body, 'u', sizeof body);
  assert_true(h2_stream_write(st, body, sizeof body, NULL, NULL) >= 0);
  pump(C, S);
  assert_int_equal(srv.req_ends, 0);
  h2_header t[] = {H2_HDR("x-md5", "123"), H2_HDR("x-tag", "a"), H2_HDR("x-tag", "b"),
                   H2_HDR("content-type", "t/1")};
  assert_int_equal(h2_stream_send_trailers(st, t, 4), 0);
  pump(C, S);
  assert_string_equal(srv.method, "POST");
  assert_string_equal(srv.authority, "example.test:8443");
  assert_string_equal(srv.scheme, "http");
  assert_int_equal(srv.body_len, sizeof body);
  assert_int_equal(srv.req_ends, 1);
  assert_string_equal(srv.req_trailer, "x-md5=123");
  assert_int_equal(cli.status, 202);
  /* writeHead's content-type wins over setHeader's; others kept */
  assert_int_equal(count(cli.hdrs, "content-type: text/html\n"), 1);
  assert_int_equal(count(cli.hdrs, "content-type:"), 1);
  assert_int_equal(count(cli.hdrs, "x-kept: yes\n"), 1);
  assert_int_equal(count(cli.hdrs, "x-len: 100000\n"), 1);
  assert_string_equal((char *)cli.body, "ok");
  assert_int_equal(cli.trailers, 1);
  assert_int_equal(count(cli.tr, "x-checksum: abc\n"), 1);
  assert_int_equal(cli.rst, 0);
  assert_int_equal(srv.finishes, 1);
  assert_int_equal(srv.req_closes, 1);
  close_pair();
}

/* ---- 3. HEAD and 204/304: no body; a bodyless end is one HEADERS frame ---------- */
static void h_nobody(h2_req *req, h2_res *res) {
  if (strcmp(h2_req_url(req), "/204") == 0) assert_int_equal(h2_res_set_status(res, 204), 0);
  if (strcmp(h2_req_url(req), "/empty") == 0) {
    assert_int_equal(h2_res_end(res, NULL, 0), 0);
    return;
  }
  h2_res_set_send_date(res, 0);
  assert_int_equal(h2_res_write(res, (const uint8_t *)"dropped", 7), 1);
  assert_int_equal(h2_res_end(res, (const uint8_t *)"also", 4), 0);
}

static void test_no_body(void **state) {
  (void)state;
  open_pair(h_nobody);
  h2_header head[] = {H2_HDR(":method", "HEAD"), H2_HDR(":path", "/x")};
  request(head, 2, H2_END_STREAM);
  pump(C, S);
  assert_int_equal(cli.status, 200);
  assert_int_equal(cli.len, 0);
  assert_int_equal(cli.ends, 1);
  assert_int_equal(count(cli.hdrs, "date:"), 0); /* send_date off */
  memset(&cli, 0, sizeof cli);
  h2_header g204[] = {H2_HDR(":path", "/204")};
  request(g204, 1, H2_END_STREAM);
  pump(C, S);
  assert_int_equal(cli.status, 204);
  assert_int_equal(cli.len, 0);
  assert_int_equal(cli.rst, 0);
  memset(&cli, 0, sizeof cli);
  h2_header ge[] = {H2_HDR(":path", "/empty")};
  request(ge, 1, H2_END_STREAM);
  pump(C, S);
  assert_int_equal(cli.status, 200);
  assert_int_equal(cli.len, 0);
  assert_int_equal(cli.ends, 1);
  assert_int_equal(cli.closes, 1);
  close_pair();
}

/* ---- 4. large body with write_nocopy, completions and drain --------------------- */
#define BIG (3u << 20)
static uint8_t *big;
static size_t big_off;
static int ignore_bp; /* write everything at once: the end waits behind held data */
static void big_done(h2_stream *st, int err, void *u) {
  (void)st; (void)u;
  assert_int_equal(err, 0);
  srv.completions++;
}
static void big_pump(h2_res *res) {
  while (big_off < BIG) {
    size_t n = BIG - big_off < 50000 ? BIG - big_off : 50000;
    int rc = h2_res_write_nocopy(res, big + big_off, n, big_done, NULL);
    assert_true(rc >= 0);
    big_off += n;
    if (rc == 0 && !ignore_bp) return; /* back-pressure: wait for drain */
  }
  assert_int_equal(h2_res_end(res, NULL, 0), 0);
}
static void big_drain(h2_res *res, void *u) {
  (void)u;
  srv.drains++;
  if (!h2_res_finished(res)) big_pump(res);
}
static void h_big(h2_req *req, h2_res *res) {
  (void)req;
  static const h2_res_callbacks cbs = {.on_drain = big_drain, .on_finish = res_finish,
                                       .on_close = res_close};
  h2_res_on(res, &cbs, NULL);
  big_off = 0;
  h2_header tr[] = {H2_HDR("x-checksum", "big")};
  assert_int_equal(h2_res_add_trailers(res, tr, 1), 0); /* sent after held data drains */
  big_pump(res);
}

static void test_big_backpressure(void **state) {
  (void)state;
  big = malloc(BIG);
  for (size_t i = 0; i < BIG; i++) big[i] = (uint8_t)(i * 131 + (i >> 13));
  open_pair(h_big);
  h2_header h[] = {H2_HDR(":path", "/big")};
  request(h, 1, H2_END_STREAM);
  pump(C, S);
  assert_int_equal(cli.len, BIG);
  assert_memory_equal(cli.body, big, BIG);
  assert_true(srv.drains >= 1);
  assert_int_equal(srv.completions, (BIG + 49999) / 50000);
  assert_int_equal(srv.finishes, 1);
  assert_int_equal(cli.trailers, 1);
  assert_int_equal(count(cli.tr, "x-checksum: big\n"), 1);
  assert_int_equal(cli.rst, 0);
  close_pair();
  /* everything queued at once, then end + trailers behind held writes */
  ignore_bp = 1;
  open_pair(h_big);
  request(h, 1, H2_END_STREAM);
  pump(C, S);
  ignore_bp = 0;
  assert_int_equal(cli.len, BIG);
  assert_memory_equal(cli.body, big, BIG);
  assert_int_equal(srv.completions, (BIG + 49999) / 50000);
  assert_int_equal(cli.trailers, 1);
  assert_int_equal(srv.finishes, 1);
  assert_int_equal(cli.rst, 0);
  close_pair();
  free(big);
}

/* ---- 5. push response ----------------------------------------------------------- */
static void h_push(h2_req *req, h2_res *res) {
  (void)req;
  h2_res *pr;
  h2_header ph[] = {H2_HDR(":path", "/style.css")};
  assert_int_equal(h2_res_create_push_response(res, ph, 1, &pr), 0);
  assert_null(h2_res_req(pr));
  h2_res *nested;
  assert_int_equal(h2_res_create_push_response(pr, ph, 1, &nested), H2_ERR_STATE);
  assert_int_equal(h2_res_set_header(pr, "content-type", "text/css"), 0);
  assert_int_equal(h2_res_end(pr, (const uint8_t *)"body{}", 6), 0);
  assert_int_equal(h2_res_end(res, (const uint8_t *)"<html>", 6), 0);
}

static void test_push(void **state) {
  (void)state;
  open_pair(h_push);
  h2_header h[] = {H2_HDR(":path", "/")};
  request(h, 1, H2_END_STREAM);
  pump(C, S);
  assert_int_equal(cli.pushes, 1);
  assert_int_equal(cli.push_bodies, 6);
  assert_string_equal((char *)cli.body, "<html>");
  close_pair();
}

/* ---- 6. client reset mid-response: aborted, close without finish ---------------- */
static void h_hang(h2_req *req, h2_res *res) {
  static const h2_req_callbacks rc = {.on_aborted = req_aborted, .on_close = req_close};
  h2_req_on(req, &rc, NULL);
  h2_res_on(res, &res_cbs, NULL);
  if (strcmp(h2_req_url(req), "/now") == 0) {
    /* destroyed inside the handler: the objects stay usable until close */
    h2_req_destroy(req, H2_CODE_INTERNAL_ERROR);
    h2_req_destroy(req, H2_CODE_INTERNAL_ERROR);
    (void)h2_res_write(res, (const uint8_t *)"x", 1);
    (void)h2_res_end(res, NULL, 0);
    return;
  }
  assert_int_equal(h2_res_write(res, (const uint8_t *)"partial", 7), 1);
  /* no end: the answer would come later */
}

static void test_abort(void **state) {
  (void)state;
  open_pair(h_hang);
  h2_header h[] = {H2_HDR(":path", "/hang")};
  h2_stream *st = request(h, 1, 0);
  pump(C, S);
  assert_non_null(srv.res);
  assert_string_equal((char *)cli.body, "partial");
  h2_stream_close(st, H2_CODE_CANCEL);
  pump(C, S);
  assert_int_equal(srv.aborted, 1);
  assert_int_equal(srv.finishes, 0);
  assert_int_equal(srv.res_closes, 1);
  assert_int_equal(srv.req_closes, 1);
  assert_null(srv.res);
  /* the server destroys a request itself */
  h2_stream *st2 = request(h, 1, 0);
  (void)st2;
  pump(C, S);
  assert_non_null(srv.req);
  h2_req_destroy(srv.req, 0);
  pump(C, S);
  assert_int_equal(cli.rst, H2_CODE_CANCEL);
  assert_null(srv.req);
  int closes = srv.req_closes;
  h2_header now[] = {H2_HDR(":path", "/now")};
  request(now, 1, H2_END_STREAM);
  pump(C, S);
  assert_int_equal(cli.rst, H2_CODE_INTERNAL_ERROR);
  assert_int_equal(srv.req_closes, closes + 1);
  assert_null(srv.req);
  assert_null(srv.res);
  close_pair();
}

/* ---- 7. over TCP: h2_server + h2_connect on real loops ------------------------- */
static void h_tcp(h2_req *req, h2_res *res) {
  (void)req;
  h2_res_on(res, &res_cbs, NULL);
  assert_int_equal(h2_res_set_header(res, "content-type", "text/plain"), 0);
  assert_int_equal(h2_res_end(res, (const uint8_t *)"over tcp", 8), 0);
}

static void test_over_tcp(void **state) {
  (void)state;
  free(cli.body);
  memset(&cli, 0, sizeof cli);
  memset(&srv, 0, sizeof srv);
  current = h_tcp;
  h2_loop *ls, *lc;
  assert_int_equal(h2_loop_new(&ls, NULL), 0);
  assert_int_equal(h2_loop_new(&lc, NULL), 0);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.session.on_stream = h2_compat_on_stream;
  h2_server *server;
  assert_int_equal(h2_server_new(&server, ls, NULL, &cbs, &handler), 0);
  int li = h2_server_listen(server, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u", h2_server_port(server, li));
  h2_session_callbacks cc;
  memset(&cc, 0, sizeof cc);
  h2_session *cs;
  assert_int_equal(h2_connect(&cs, lc, url, NULL, &cc, NULL), 0);
  for (int i = 0; i < 3; i++) {
    h2_stream *st;
    h2_header h[] = {H2_HDR(":path", "/tcp")};
    assert_int_equal(h2_session_request(cs, &st, h, 1, H2_END_STREAM, NULL), 0);
    h2_stream_on(st, &c_cbs, NULL);
  }
  uint64_t end = api_mono_ms() + 3000;
  while (cli.closes < 3 && api_mono_ms() < end) {
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    h2_loop_run(lc, H2_LOOP_RUN_NOWAIT);
    if (cli.closes < 3) usleep(200);
  }
  assert_int_equal(cli.closes, 3);
  assert_int_equal(srv.requests, 3);
  assert_int_equal(cli.status, 200);
  assert_string_equal((char *)cli.body, "over tcpover tcpover tcp");
  assert_string_equal(srv.authority, url + 7);
  assert_string_equal(srv.scheme, "http");
  assert_int_equal(cli.rst, 0);
  h2_session_destroy(cs, 0);
  for (int i = 0; i < 50 && h2_loop_alive(lc); i++) h2_loop_run(lc, H2_LOOP_RUN_NOWAIT);
  h2_server_free(server);
  for (int i = 0; i < 50 && h2_loop_alive(ls); i++) h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
  h2_loop_free(ls);
  h2_loop_free(lc);
}

/* ---- 8. curl (nghttp2 inside) against the compat server: an echo ---------------- */
#define ECHO_MAX (2u << 20)
static uint8_t *echo_buf;
static size_t echo_len;
static void echo_data(h2_req *req, const uint8_t *d, size_t n, void *u) {
  (void)u;
  if (echo_len + n > ECHO_MAX) {
    h2_req_destroy(req, 0);
    return;
  }
  memcpy(echo_buf + echo_len, d, n);
  echo_len += n;
}
static void echo_end(h2_req *req, void *u) {
  (void)req; (void)u;
  h2_res *res = srv.res;
  assert_int_equal(h2_res_set_header(res, "X-Compat", "echo"), 0);
  char len[24];
  snprintf(len, sizeof len, "%zu", echo_len);
  assert_int_equal(h2_res_set_header(res, "Content-Length", len), 0);
  assert_int_equal(h2_res_end(res, echo_buf, echo_len), 0);
}
static void h_echo(h2_req *req, h2_res *res) {
  static const h2_req_callbacks rc = {.on_data = echo_data, .on_end = echo_end};
  h2_req_on(req, &rc, NULL);
  h2_res_on(res, &res_cbs, NULL);
  echo_len = 0;
}

extern char **environ;

static void test_curl(void **state) {
  (void)state;
  if (system("curl --version 2>/dev/null | grep -q HTTP2") != 0) skip();
  memset(&srv, 0, sizeof srv);
  current = h_echo;
  echo_buf = malloc(ECHO_MAX);
  char up[] = "/tmp/h2_compat_up_XXXXXX", out[] = "/tmp/h2_compat_out_XXXXXX",
       hdr[] = "/tmp/h2_compat_hdr_XXXXXX";
  int fu = mkstemp(up), fo = mkstemp(out), fh = mkstemp(hdr);
  assert_true(fu >= 0 && fo >= 0 && fh >= 0);
  static uint8_t data[1000000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7 + (i >> 9));
  assert_int_equal(write(fu, data, sizeof data), (ssize_t)sizeof data);
  close(fu);
  close(fo);
  close(fh);

  h2_loop *ls;
  assert_int_equal(h2_loop_new(&ls, NULL), 0);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.session.on_stream = h2_compat_on_stream;
  h2_server *server;
  assert_int_equal(h2_server_new(&server, ls, NULL, &cbs, &handler), 0);
  int li = h2_server_listen(server, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  char url[64], at[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/echo", h2_server_port(server, li));
  snprintf(at, sizeof at, "@%s", up);
  char *argv[] = {"curl", "-sS", "--max-time", "10", "--http2-prior-knowledge",
                  "--data-binary", at, "-D", hdr, "-o", out, url, NULL};
  pid_t pid;
  assert_int_equal(posix_spawnp(&pid, "curl", NULL, NULL, argv, environ), 0);
  int status = -1;
  uint64_t end = api_mono_ms() + 15000;
  while (api_mono_ms() < end) {
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    usleep(200);
  }
  if (!WIFEXITED(status)) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("curl did not finish");
  }
  assert_int_equal(WEXITSTATUS(status), 0);
  h2_server_free(server);
  for (int i = 0; i < 50 && h2_loop_alive(ls); i++) h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
  h2_loop_free(ls);

  assert_int_equal(srv.requests, 1);
  assert_string_equal(srv.method, "POST");
  assert_int_equal(echo_len, sizeof data);
  FILE *f = fopen(out, "rb");
  assert_non_null(f);
  uint8_t *got = malloc(sizeof data + 1);
  size_t n = fread(got, 1, sizeof data + 1, f);
  fclose(f);
  assert_int_equal(n, sizeof data);
  assert_memory_equal(got, data, sizeof data);
  free(got);
  char hbuf[2048] = {0};
  f = fopen(hdr, "rb");
  assert_non_null(f);
  n = fread(hbuf, 1, sizeof hbuf - 1, f);
  fclose(f);
  assert_non_null(strstr(hbuf, "HTTP/2 200"));
  assert_non_null(strstr(hbuf, "x-compat: echo"));
  assert_non_null(strstr(hbuf, "content-length: 1000000"));
  assert_non_null(strstr(hbuf, "date: "));
  unlink(up);
  unlink(out);
  unlink(hdr);
  free(echo_buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_headers_and_body),
    cmocka_unit_test(test_upload_trailers),
    cmocka_unit_test(test_no_body),
    cmocka_unit_test(test_big_backpressure),
    cmocka_unit_test(test_push),
    cmocka_unit_test(test_abort),
    cmocka_unit_test(test_over_tcp),
    cmocka_unit_test(test_curl),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  free(cli.body);
  return rc;
}
