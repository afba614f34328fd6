/* test_api_connect.c: h2_connect tries every address a name resolves to,
 * in order (a name such as "localhost" may give ::1 before 127.0.0.1 while
 * the server listens on one of them only). The resolver is replaced in
 * this test program: getaddrinfo gives "multi.test" 127.0.0.2 then
 * 127.0.0.1 and "nowhere.test" 127.0.0.2 then 127.0.0.3; other names go to
 * libc. The server listens on 127.0.0.1 only, so 127.0.0.2 and 127.0.0.3
 * refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "h2.h"
#include "api_loops.h"
#include "h2_loop.h"
#include "h2_loop_tcp.h"

/* ---- the replaced resolver ---- */

typedef struct fake_ai {
  struct addrinfo ai;
  struct sockaddr_in sa;
} fake_ai;

static int fake_lookups;

static struct addrinfo *fake_list(const char *const *ips, int n) {
  struct addrinfo *head = NULL, **tail = &head;
  for (int i = 0; i < n; i++) {
    fake_ai *f = calloc(1, sizeof *f);
    if (f == NULL) abort();
    f->sa.sin_family = AF_INET;
    inet_pton(AF_INET, ips[i], &f->sa.sin_addr);
    f->ai.ai_family = AF_INET;
    f->ai.ai_socktype = SOCK_STREAM;
    f->ai.ai_addrlen = sizeof f->sa;
    f->ai.ai_addr = (struct sockaddr *)&f->sa;
    f->ai.ai_flags = 0x7e57; /* marks a fake result for freeaddrinfo */
    *tail = &f->ai;
    tail = &f->ai.ai_next;
  }
  return head;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
  static const char *const multi[] = {"127.0.0.2", "127.0.0.1"};
  static const char *const nowhere[] = {"127.0.0.2", "127.0.0.3"};
  if (node && !strcmp(node, "multi.test")) {
    fake_lookups++;
    *res = fake_list(multi, 2);
    return 0;
  }
  if (node && !strcmp(node, "nowhere.test")) {
    fake_lookups++;
    *res = fake_list(nowhere, 2);
    return 0;
  }
  int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
      (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))dlsym(
          RTLD_NEXT, "getaddrinfo");
  return real(node, service, hints, res);
}

void freeaddrinfo(struct addrinfo *res) {
  if (res && res->ai_flags == 0x7e57) {
    while (res) {
      struct addrinfo *next = res->ai_next;
      free(res); /* the fake_ai block starts with the addrinfo */
      res = next;
    }
    return;
  }
  void (*real)(struct addrinfo *) = (void (*)(struct addrinfo *))dlsym(RTLD_NEXT, "freeaddrinfo");
  real(res);
}

/* ---- a server on 127.0.0.1 and a client on its own loop ---- */

typedef struct cctx {
  int connects, responses, closes, errors, session_closes;
  char last_error[256];
} cctx;

static void srv_on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n,
                          unsigned flags, void *u) {
  (void)s; (void)h; (void)n; (void)flags; (void)u;
  h2_header r[] = {H2_HDR(":status", "204")};
  assert_int_equal(h2_stream_respond(st, r, 1, H2_END_STREAM), 0);
}

static void c_connect(h2_session *s, void *u) { (void)s; ((cctx *)u)->connects++; }
static void c_error(h2_session *s, int err, const char *msg, void *u) {
  (void)s; (void)err;
  cctx *c = u;
  c->errors++;
  snprintf(c->last_error, sizeof c->last_error, "%s", msg);
}
static void c_close(h2_session *s, void *u) { (void)s; ((cctx *)u)->session_closes++; }
static void cs_response(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)h; (void)n; (void)f;
  ((cctx *)u)->responses++;
}
static void cs_close(h2_stream *st, uint32_t code, void *u) {
  (void)st; (void)code;
  ((cctx *)u)->closes++;
}
static const h2_stream_callbacks cs_cbs = {.on_response = cs_response, .on_close = cs_close};

static h2_session *connect_name(h2_loop *lc, const char *host, uint16_t port, cctx *c) {
  char url[128];
  snprintf(url, sizeof url, "http://%s:%u", host, port);
  h2_session_callbacks cc;
  memset(&cc, 0, sizeof cc);
  cc.on_connect = c_connect;
  cc.on_error = c_error;
  cc.on_close = c_close;
  h2_session *cs = NULL;
  assert_int_equal(h2_connect(&cs, lc, url, NULL, &cc, c), 0);
  return cs;
}

static void test_resolve_all(void **state) {
  (void)state;
  h2_loop_addr a[4];
  assert_int_equal(h2_loop_addr_resolve_all(a, 4, "multi.test:8080"), 2);
  char buf[64];
  assert_true(h2_loop_addr_format(buf, sizeof buf, &a[0]) > 0);
  assert_string_equal(buf, "127.0.0.2:8080");
  assert_true(h2_loop_addr_format(buf, sizeof buf, &a[1]) > 0);
  assert_string_equal(buf, "127.0.0.1:8080");
  /* |max| bounds the list; a numeric address is one entry. */
  assert_int_equal(h2_loop_addr_resolve_all(a, 1, "multi.test:1"), 1);
  assert_int_equal(h2_loop_addr_resolve_all(a, 4, "127.0.0.1:1"), 1);
  assert_int_equal(h2_loop_addr_resolve_all(a, 4, "[::1]:1"), 1);
  assert_true(h2_loop_addr_resolve_all(a, 4, "localhost:1") >= 1);
  assert_int_equal(h2_loop_addr_resolve_all(a, 4, "nope"), H2_ERR_PARSE);
  assert_int_equal(h2_loop_addr_resolve_all(a, 0, "multi.test:1"), H2_ERR_INVALID_ARG);
  /* The single-address form still gives the first. */
  assert_int_equal(h2_loop_addr_resolve(a, "multi.test:9"), 0);
  assert_true(h2_loop_addr_format(buf, sizeof buf, &a[0]) > 0);
  assert_string_equal(buf, "127.0.0.2:9");
}

static void test_connect_falls_back(void **state) {
  (void)state;
  h2_loop *ls, *lc;
  assert_int_equal(h2_loop_new(&ls, NULL), 0);
  assert_int_equal(h2_loop_new(&lc, NULL), 0);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.session.on_stream = srv_on_stream;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, ls, NULL, &cbs, NULL), 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);

  /* 127.0.0.2 refuses, 127.0.0.1 answers: the request goes through. */
  cctx c;
  memset(&c, 0, sizeof c);
  int before = fake_lookups;
  h2_session *cs = connect_name(lc, "multi.test", port, &c);
  assert_int_equal(fake_lookups, before + 1);
  h2_stream *st;
  h2_header h[] = {H2_HDR(":path", "/")};
  assert_int_equal(h2_session_request(cs, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &cs_cbs, &c);
  assert_true(api_run_until(ls, lc, &c.closes, 1, 5000));
  assert_int_equal(c.connects, 1);
  assert_int_equal(c.responses, 1);
  assert_int_equal(c.errors, 0);
  h2_address ra;
  assert_int_equal(h2_session_remote_address(cs, &ra), 0);
  assert_string_equal(ra.address, "127.0.0.1");
  h2_session_destroy(cs, 0);
  assert_true(api_run_until(ls, lc, &c.session_closes, 1, 5000));

  /* Every address refuses: one error naming the count, then close. */
  cctx d;
  memset(&d, 0, sizeof d);
  cs = connect_name(lc, "nowhere.test", port, &d);
  assert_true(api_run_until(ls, lc, &d.session_closes, 1, 5000));
  assert_int_equal(d.connects, 0);
  assert_int_equal(d.errors, 1);
  assert_non_null(strstr(d.last_error, "refused"));
  assert_non_null(strstr(d.last_error, "(2 addresses tried)"));
  assert_non_null(strstr(d.last_error, "nowhere.test"));

  h2_server_free(srv);
  for (int i = 0; i < 100 && (h2_loop_alive(ls) || h2_loop_alive(lc)); i++) {
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    h2_loop_run(lc, H2_LOOP_RUN_NOWAIT);
  }
  h2_loop_free(lc);
  h2_loop_free(ls);
}

/* Node's options.protocol: "127.0.0.1:PORT" (no scheme) is h2c with
 * "http:", TLS by default (which an h2c server answers with garbage: the
 * handshake fails); anything but "http:"/"https:" is refused. */
static void test_connect_protocol(void **state) {
  (void)state;
  h2_loop *ls, *lc;
  assert_int_equal(h2_loop_new(&ls, NULL), 0);
  assert_int_equal(h2_loop_new(&lc, NULL), 0);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.session.on_stream = srv_on_stream;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, ls, NULL, &cbs, NULL), 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  char url[64];
  snprintf(url, sizeof url, "127.0.0.1:%u", h2_server_port(srv, li));
  h2_session_callbacks cc;
  memset(&cc, 0, sizeof cc);
  cc.on_connect = c_connect;
  cc.on_error = c_error;
  cc.on_close = c_close;

  h2_options o;
  h2_options_default(&o);
  o.protocol = "ftp:";
  h2_session *cs = NULL;
  assert_int_equal(h2_connect(&cs, lc, url, &o, &cc, NULL), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "protocol"));
  assert_null(cs);

  o.protocol = "http:";
  cctx c;
  memset(&c, 0, sizeof c);
  assert_int_equal(h2_connect(&cs, lc, url, &o, &cc, &c), 0);
  h2_stream *st;
  h2_header h[] = {H2_HDR(H2_HEADER_PATH, "/")};
  assert_int_equal(h2_session_request(cs, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &cs_cbs, &c);
  assert_true(api_run_until(ls, lc, &c.closes, 1, 5000));
  assert_int_equal(c.connects, 1);
  assert_int_equal(c.responses, 1);
  assert_int_equal(c.errors, 0);
  assert_string_equal(h2_session_alpn_protocol(cs), "h2c");
  h2_session_destroy(cs, H2_CODE_NO_ERROR);
  assert_true(api_run_until(ls, lc, &c.session_closes, 1, 5000));

  /* The default, "https:": TLS to the h2c port fails. */
  cctx d;
  memset(&d, 0, sizeof d);
  o.protocol = NULL;
  o.insecure = 1;
  assert_int_equal(h2_connect(&cs, lc, url, &o, &cc, &d), 0);
  assert_true(api_run_until(ls, lc, &d.session_closes, 1, 5000));
  assert_int_equal(d.connects, 0);
  assert_int_equal(d.errors, 1);

  h2_server_free(srv);
  for (int i = 0; i < 100 && (h2_loop_alive(ls) || h2_loop_alive(lc)); i++) {
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    h2_loop_run(lc, H2_LOOP_RUN_NOWAIT);
  }
  h2_loop_free(lc);
  h2_loop_free(ls);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_resolve_all),
    cmocka_unit_test(test_connect_falls_back),
    cmocka_unit_test(test_connect_protocol),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
