/* test_api_info.c: what a session tells about its socket and TLS
 * connection (h2_session_remote_address / _local_address, TLS version,
 * cipher, SNI name, peer certificate) over real 127.0.0.1 / localhost
 * connections, h2c and TLS, and the errors where there is no socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "h2.h"
#include "h2_loop.h"
#include "h2_tls.h"

typedef struct info_ctx {
  h2_session *srv_session; /* the server side of the connection */
  int streams, responses, closes;
  /* what the server saw while answering */
  h2_address srv_remote, srv_local;
  int srv_remote_rc, srv_local_rc;
  char servername[64];
  char version[16];
  int srv_cert_rc;
  size_t srv_cert_len;
} info_ctx;

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int run_until(h2_loop *a, h2_loop *b, const int *flag, int want) {
  uint64_t end = mono_ms() + 5000;
  while (*flag < want && mono_ms() < end) {
    h2_loop_run(a, H2_LOOP_RUN_NOWAIT);
    h2_loop_run(b, H2_LOOP_RUN_NOWAIT);
    if (*flag < want) usleep(200);
  }
  return *flag >= want;
}

static void on_session(h2_server *srv, h2_session *s, void *u) {
  (void)srv;
  ((info_ctx *)u)->srv_session = s;
}

/* The server answers after recording what its session tells. */
static void srv_on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n,
                          unsigned flags, void *u) {
  (void)h; (void)n; (void)flags;
  info_ctx *c = u;
  c->streams++;
  assert_ptr_equal(h2_stream_session(st), s);
  c->srv_remote_rc = h2_session_remote_address(s, &c->srv_remote);
  c->srv_local_rc = h2_session_local_address(s, &c->srv_local);
  const char *sn = h2_session_servername(s);
  snprintf(c->servername, sizeof c->servername, "%s", sn ? sn : "(null)");
  const char *v = h2_session_tls_version(s);
  snprintf(c->version, sizeof c->version, "%s", v ? v : "(null)");
  c->srv_cert_rc = h2_session_peer_certificate(s, NULL, 0, &c->srv_cert_len);
  h2_header r[] = {H2_HDR(":status", "204")};
  assert_int_equal(h2_stream_respond(st, r, 1, H2_END_STREAM), 0);
}

static void cs_response(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)h; (void)n; (void)f;
  ((info_ctx *)u)->responses++;
}
static void cs_close(h2_stream *st, uint32_t code, void *u) {
  (void)st; (void)code;
  ((info_ctx *)u)->closes++;
}
static const h2_stream_callbacks cs_cbs = {.on_response = cs_response, .on_close = cs_close};

/* Starts a server on |ls| (TLS when |tls|), connects a client on |lc| with
 * |copts| to |host|, makes one request and waits for its end. */
static h2_session *one_request(h2_loop *ls, h2_loop *lc, h2_server **srv_out, h2_tls_ctx *tls,
                               const char *host, const h2_options *copts, info_ctx *c) {
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.session.on_stream = srv_on_stream;
  cbs.on_session = on_session;
  assert_int_equal(h2_server_new(srv_out, ls, NULL, &cbs, c), 0);
  int li = h2_server_listen(*srv_out, host, 0, tls);
  assert_true(li >= 0);
  char url[128];
  snprintf(url, sizeof url, "%s://%s:%u", tls ? "https" : "http", host,
           h2_server_port(*srv_out, li));
  h2_session_callbacks cc;
  memset(&cc, 0, sizeof cc);
  h2_session *cs = NULL;
  assert_int_equal(h2_connect(&cs, lc, url, copts, &cc, c), 0);
  h2_stream *st;
  h2_header h[] = {H2_HDR(":path", "/")};
  assert_int_equal(h2_session_request(cs, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &cs_cbs, c);
  assert_true(run_until(ls, lc, &c->closes, 1));
  assert_int_equal(c->responses, 1);
  assert_non_null(c->srv_session);
  return cs;
}

static void finish(h2_loop *ls, h2_loop *lc, h2_server *srv, h2_session *cs) {
  h2_session_destroy(cs, 0);
  h2_server_free(srv);
  for (int i = 0; i < 100 && (h2_loop_alive(ls) || h2_loop_alive(lc)); i++) {
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    h2_loop_run(lc, H2_LOOP_RUN_NOWAIT);
  }
}

static void test_h2c_addresses(void **state) {
  (void)state;
  h2_loop *ls, *lc;
  assert_int_equal(h2_loop_new(&ls, NULL), 0);
  assert_int_equal(h2_loop_new(&lc, NULL), 0);
  info_ctx c;
  memset(&c, 0, sizeof c);
  h2_server *srv;
  h2_session *cs = one_request(ls, lc, &srv, NULL, "127.0.0.1", NULL, &c);

  h2_address cr, cl;
  assert_int_equal(h2_session_remote_address(cs, &cr), 0);
  assert_int_equal(h2_session_local_address(cs, &cl), 0);
  assert_int_equal(cr.family, AF_INET);
  assert_string_equal(cr.address, "127.0.0.1");
  assert_int_equal(cr.port, h2_server_port(srv, 0));
  assert_string_equal(cl.address, "127.0.0.1");
  assert_true(cl.port != 0);
  /* The two ends agree. */
  assert_int_equal(c.srv_remote_rc, 0);
  assert_int_equal(c.srv_local_rc, 0);
  assert_int_equal(c.srv_remote.port, cl.port);
  assert_int_equal(c.srv_local.port, cr.port);
  assert_string_equal(c.srv_remote.address, "127.0.0.1");
  /* No TLS on h2c. */
  assert_string_equal(c.servername, "(null)");
  assert_string_equal(c.version, "(null)");
  assert_int_equal(c.srv_cert_rc, H2_ERR_STATE);
  assert_null(h2_session_tls_cipher(cs));
  size_t len = 7;
  assert_int_equal(h2_session_peer_certificate(cs, NULL, 0, &len), H2_ERR_STATE);
  assert_int_equal(len, 0);
  /* Bad arguments. */
  assert_int_equal(h2_session_remote_address(cs, NULL), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_session_peer_certificate(cs, NULL, 0, NULL), H2_ERR_INVALID_ARG);

  finish(ls, lc, srv, cs);
  h2_loop_free(lc);
  h2_loop_free(ls);
}

/* DER of the first certificate in the PEM file |path| (malloc'd). */
static uint8_t *pem_to_der(const char *path, size_t *len) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  assert_non_null(x);
  uint8_t *der = NULL;
  int n = i2d_X509(x, &der);
  X509_free(x);
  assert_true(n > 0);
  *len = (size_t)n;
  return der;
}

static void test_tls_details(void **state) {
  (void)state;
  h2_loop *ls, *lc;
  assert_int_equal(h2_loop_new(&ls, NULL), 0);
  assert_int_equal(h2_loop_new(&lc, NULL), 0);
  h2_tls_ctx *stls = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(stls);
  assert_int_equal(h2_tls_ctx_add_self_signed(stls, "localhost"), 0);
  char dir[] = "/tmp/h2_info_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char cert[64], key[64];
  snprintf(cert, sizeof cert, "%s/cert.pem", dir);
  snprintf(key, sizeof key, "%s/key.pem", dir);
  assert_int_equal(h2_tls_ctx_write_cert_pem(stls, 0, cert, key, NULL), 0);

  /* The client verifies the server against its certificate and sends SNI
   * "localhost"; server and client resolve "localhost" alike. */
  h2_options co;
  memset(&co, 0, sizeof co);
  co.ca_file = cert;
  info_ctx c;
  memset(&c, 0, sizeof c);
  h2_server *srv;
  h2_session *cs = one_request(ls, lc, &srv, stls, "localhost", &co, &c);

  assert_true(h2_session_encrypted(cs));
  assert_string_equal(c.servername, "localhost");
  assert_string_equal(h2_session_servername(cs), "localhost");
  assert_true(!strcmp(c.version, "TLSv1.3") || !strcmp(c.version, "TLSv1.2"));
  assert_string_equal(h2_session_tls_version(cs), c.version);
  assert_true(strlen(h2_session_tls_cipher(cs)) > 0);
  assert_string_equal(h2_session_tls_cipher(cs), h2_session_tls_cipher(c.srv_session));
  /* The client sent no certificate. */
  assert_int_equal(c.srv_cert_rc, H2_ERR_NOT_FOUND);
  assert_int_equal(c.srv_cert_len, 0);

  /* The client sees the server's certificate, byte for byte. */
  size_t want_len;
  uint8_t *want = pem_to_der(cert, &want_len);
  size_t len = 0;
  assert_int_equal(h2_session_peer_certificate(cs, NULL, 0, &len), H2_ERR_BUF_TOO_SMALL);
  assert_int_equal(len, want_len);
  uint8_t small[16];
  assert_int_equal(h2_session_peer_certificate(cs, small, sizeof small, &len),
                   H2_ERR_BUF_TOO_SMALL);
  assert_int_equal(len, want_len);
  uint8_t *got = malloc(len);
  assert_non_null(got);
  assert_int_equal(h2_session_peer_certificate(cs, got, len, &len), 0);
  assert_int_equal(len, want_len);
  assert_memory_equal(got, want, want_len);
  free(got);
  OPENSSL_free(want);

  h2_address cr, sl;
  assert_int_equal(h2_session_remote_address(cs, &cr), 0);
  assert_int_equal(h2_session_local_address(c.srv_session, &sl), 0);
  assert_true(cr.family == AF_INET || cr.family == AF_INET6);
  assert_int_equal(cr.family, sl.family);
  assert_string_equal(cr.address, sl.address);
  assert_int_equal(cr.port, sl.port);

  finish(ls, lc, srv, cs);
  h2_tls_ctx_free(stls);
  unlink(cert);
  unlink(key);
  rmdir(dir);
  h2_loop_free(lc);
  h2_loop_free(ls);
}

/* A session over the caller's own transport has no socket to ask. */
static void test_own_transport(void **state) {
  (void)state;
  h2_session_callbacks cc;
  memset(&cc, 0, sizeof cc);
  h2_session *s;
  assert_int_equal(h2_session_new(&s, 0, NULL, &cc, NULL, NULL), 0);
  h2_address a;
  assert_int_equal(h2_session_remote_address(s, &a), H2_ERR_STATE);
  assert_int_equal(h2_session_local_address(s, &a), H2_ERR_STATE);
  assert_null(h2_session_servername(s));
  assert_null(h2_session_tls_version(s));
  size_t len;
  assert_int_equal(h2_session_peer_certificate(s, NULL, 0, &len), H2_ERR_STATE);
  h2_session_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_h2c_addresses),
    cmocka_unit_test(test_tls_details),
    cmocka_unit_test(test_own_transport),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
