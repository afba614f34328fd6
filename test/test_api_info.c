/* test_api_info.c: what a session tells about its socket and TLS
 * connection (h2_session_remote_address / _local_address, TLS version,
 * cipher, SNI name, peer certificate) over real 127.0.0.1 / localhost
 * connections, h2c and TLS, and the errors where there is no socket; the
 * server's hand-off of TLS clients that did not negotiate h2 (Node's
 * allowHTTP1 / unknownProtocol) to the application. */
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

#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "h2.h"
#include "api_loops.h"
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
static const h2_options *server_opts; /* NULL but in test_metrics_over_tcp */

static h2_session *one_request(h2_loop *ls, h2_loop *lc, h2_server **srv_out, h2_tls_ctx *tls,
                               const char *host, const h2_options *copts, info_ctx *c) {
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.session.on_stream = srv_on_stream;
  cbs.on_session = on_session;
  assert_int_equal(h2_server_new(srv_out, ls, server_opts, &cbs, c), 0);
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
  assert_true(api_run_until(ls, lc, &c->closes, 1, 5000));
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

/* Metrics over a real loop and socket (bytes counted where the transport
 * reads and writes): what one side wrote, the other read. */
static void test_metrics_over_tcp(void **state) {
  (void)state;
  h2_loop *ls, *lc;
  assert_int_equal(h2_loop_new(&ls, NULL), 0);
  assert_int_equal(h2_loop_new(&lc, NULL), 0);
  h2_options o;
  h2_options_default(&o);
  o.enable_metrics = 1;
  server_opts = &o;
  info_ctx c;
  memset(&c, 0, sizeof c);
  h2_server *srv;
  h2_session *cs = one_request(ls, lc, &srv, NULL, "127.0.0.1", &o, &c);
  server_opts = NULL;
  for (int i = 0; i < 50; i++) { /* let the last SETTINGS ACK / WINDOW_UPDATE land */
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    h2_loop_run(lc, H2_LOOP_RUN_NOWAIT);
    usleep(100);
  }
  h2_session_metrics cm, sm;
  assert_int_equal(h2_session_get_metrics(cs, &cm), 0);
  assert_int_equal(h2_session_get_metrics(c.srv_session, &sm), 0);
  assert_true(cm.bytes_written > 24);
  assert_int_equal(cm.bytes_written, sm.bytes_read);
  assert_int_equal(sm.bytes_written, cm.bytes_read);
  assert_int_equal(cm.frames_sent, sm.frames_received);
  assert_int_equal(sm.frames_sent, cm.frames_received);
  assert_int_equal(cm.stream_count, 1);
  assert_int_equal(sm.stream_count, 1);
  assert_int_equal(cm.max_concurrent_streams, 1);
  finish(ls, lc, srv, cs);
  h2_loop_free(lc);
  h2_loop_free(ls);
}

/* ---- unknownProtocol hand-off ---- */

typedef struct handoff {
  int calls, fd;
  h2_tls_conn *tls;
  int session_errors, last_err, session_closes;
} handoff;

static void ho_unknown(h2_server *srv, int fd, h2_tls_conn *tls, void *u) {
  (void)srv;
  handoff *h = u;
  h->calls++;
  h->fd = fd;
  h->tls = tls;
}
static void ho_error(h2_server *srv, int err, const char *msg, void *u) {
  (void)srv; (void)msg;
  ((handoff *)u)->session_errors++;
  ((handoff *)u)->last_err = err;
}
static void ho_close(h2_session *s, void *u) { (void)s; ((handoff *)u)->session_closes++; }

/* A BoringSSL client offering only "http/1.1": connects to |port| and runs
 * its handshake, turning the server's loop meanwhile. */
static SSL *http11_client(SSL_CTX *cctx, uint16_t port, h2_loop *ls, int *fd_out) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
  SSL *ssl = SSL_new(cctx);
  assert_non_null(ssl);
  assert_int_equal(SSL_set_fd(ssl, fd), 1);
  static const uint8_t alpn[] = "\x08http/1.1";
  assert_int_equal(SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1), 0);
  SSL_set_connect_state(ssl);
  uint64_t end = api_mono_ms() + 5000;
  int r;
  while ((r = SSL_do_handshake(ssl)) != 1 && api_mono_ms() < end) {
    int e = SSL_get_error(ssl, r);
    assert_true(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE);
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    usleep(200);
  }
  assert_int_equal(r, 1);
  *fd_out = fd;
  return ssl;
}

/* The application's side of a handed-off connection: reads one HTTP/1.1
 * request head through |tls| and answers it. */
static void serve_http11(int fd, h2_tls_conn *tls, SSL *client, char *req, size_t cap) {
  size_t got = 0;
  uint64_t end = api_mono_ms() + 5000;
  while (!strstr(req, "\r\n\r\n") && api_mono_ms() < end) {
    size_t room;
    uint8_t *in = h2_tls_conn_in_space(tls, &room);
    if (room > 0) {
      ssize_t n = read(fd, in, room);
      if (n > 0) assert_int_equal(h2_tls_conn_in_commit(tls, (size_t)n), 0);
    }
    int r = h2_tls_conn_read(tls, (uint8_t *)req + got, cap - 1 - got);
    if (r > 0) got += (size_t)r;
    else assert_int_equal(r, H2_ERR_WOULD_BLOCK);
    req[got] = 0;
    size_t len;
    const uint8_t *p;
    while ((p = h2_tls_conn_out_peek(tls, &len)) != NULL) {
      ssize_t n = write(fd, p, len);
      if (n <= 0) break;
      h2_tls_conn_out_consume(tls, (size_t)n);
    }
    uint8_t sink[64];
    SSL_read(client, sink, sizeof sink); /* lets the client take session tickets */
    usleep(200);
  }
  static const char resp[] = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi";
  assert_int_equal(h2_tls_conn_write(tls, (const uint8_t *)resp, sizeof resp - 1),
                   (int)(sizeof resp - 1));
  size_t len;
  const uint8_t *p;
  while ((p = h2_tls_conn_out_peek(tls, &len)) != NULL) {
    ssize_t n = write(fd, p, len);
    assert_true(n > 0);
    h2_tls_conn_out_consume(tls, (size_t)n);
  }
}

static void test_unknown_protocol_handoff(void **state) {
  (void)state;
  h2_loop *ls;
  assert_int_equal(h2_loop_new(&ls, NULL), 0);
  h2_tls_ctx *stls = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(stls);
  assert_int_equal(h2_tls_ctx_add_self_signed(stls, "localhost"), 0);
  assert_int_equal(h2_tls_ctx_set_alpn(stls, H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11), 0);
  handoff h;
  memset(&h, 0, sizeof h);
  h.fd = -1;
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.on_unknown_protocol = ho_unknown;
  cbs.on_session_error = ho_error;
  cbs.session.on_close = ho_close;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, ls, NULL, &cbs, &h), 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, stls);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);
  SSL_CTX *cctx = SSL_CTX_new(TLS_method());
  assert_non_null(cctx);

  /* 1: with the callback, the application gets the connection. */
  int cfd;
  SSL *cl = http11_client(cctx, port, ls, &cfd);
  static const char get[] = "GET /old HTTP/1.1\r\nhost: localhost\r\n\r\n";
  assert_int_equal(SSL_write(cl, get, sizeof get - 1), (int)(sizeof get - 1));
  uint64_t end = api_mono_ms() + 5000;
  while ((h.calls < 1 || h.session_closes < 1) && api_mono_ms() < end) {
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    usleep(200);
  }
  assert_int_equal(h.calls, 1);
  assert_true(h.fd >= 0);
  assert_non_null(h.tls);
  assert_int_equal(h2_tls_conn_alpn(h.tls), H2_TLS_PROTO_HTTP11);
  /* The session closed quietly; nothing was reported. */
  assert_int_equal(h.session_closes, 1);
  assert_int_equal(h.session_errors, 0);
  assert_int_equal(h2_server_num_sessions(srv), 0);
  /* The server and its context may go: the connection keeps working. */
  h2_server_free(srv);
  h2_tls_ctx_free(stls);
  char req[512] = {0};
  serve_http11(h.fd, h.tls, cl, req, sizeof req);
  assert_non_null(strstr(req, "GET /old HTTP/1.1\r\n"));
  char resp[128] = {0};
  size_t got = 0;
  end = api_mono_ms() + 5000;
  while (!strstr(resp, "\r\n\r\nhi") && api_mono_ms() < end) {
    int r = SSL_read(cl, resp + got, (int)(sizeof resp - 1 - got));
    if (r > 0) got += (size_t)r;
    else usleep(200);
  }
  assert_non_null(strstr(resp, "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(resp, "\r\n\r\nhi"));
  h2_tls_conn_free(h.tls); /* the server context goes with it */
  close(h.fd);
  SSL_free(cl);
  close(cfd);

  /* 2: without the callback the connection is refused and reported. */
  stls = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(stls);
  assert_int_equal(h2_tls_ctx_add_self_signed(stls, "localhost"), 0);
  assert_int_equal(h2_tls_ctx_set_alpn(stls, H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11), 0);
  cbs.on_unknown_protocol = NULL;
  memset(&h, 0, sizeof h);
  assert_int_equal(h2_server_new(&srv, ls, NULL, &cbs, &h), 0);
  li = h2_server_listen(srv, "127.0.0.1", 0, stls);
  assert_true(li >= 0);
  cl = http11_client(cctx, h2_server_port(srv, li), ls, &cfd);
  end = api_mono_ms() + 5000;
  while (h.session_closes < 1 && api_mono_ms() < end) {
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    usleep(200);
  }
  assert_int_equal(h.session_closes, 1);
  assert_int_equal(h.session_errors, 1);
  assert_int_equal(h.last_err, H2_ERR_TLS);
  SSL_free(cl);
  close(cfd);
  h2_server_free(srv);
  h2_tls_ctx_free(stls);
  SSL_CTX_free(cctx);
  for (int i = 0; i < 50 && h2_loop_alive(ls); i++) h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
  h2_loop_free(ls);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_h2c_addresses),
    cmocka_unit_test(test_tls_details),
    cmocka_unit_test(test_own_transport),
    cmocka_unit_test(test_unknown_protocol_handoff),
    cmocka_unit_test(test_metrics_over_tcp),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
