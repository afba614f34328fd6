/* test_tls.c: the tls/ layer driven entirely in memory: our client and our
 * server objects, with ciphertext pumped between them by the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "h2_err.h"
#include "h2_tls.h"

/* ---- fixture ------------------------------------------------------------ */

typedef struct fixture {
  char dir[64];
  char ca[128];      /* localhost certificate (self-signed) as a CA file */
  char key[128];     /* its key, unencrypted */
  char key_enc[128]; /* its key, encrypted with "s3cret" */
  char other_ca[128];  /* example.test certificate */
  char other_key[128]; /* example.test key */
  h2_tls_ctx *srv;     /* server with localhost (default) + example.test */
} fixture;

static int group_setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/h2tlsXXXXXX");
  if (mkdtemp(f->dir) == NULL) return -1;
  snprintf(f->ca, sizeof f->ca, "%s/ca.pem", f->dir);
  snprintf(f->key, sizeof f->key, "%s/key.pem", f->dir);
  snprintf(f->key_enc, sizeof f->key_enc, "%s/key-enc.pem", f->dir);
  snprintf(f->other_ca, sizeof f->other_ca, "%s/other.pem", f->dir);
  snprintf(f->other_key, sizeof f->other_key, "%s/other-key.pem", f->dir);
  f->srv = h2_tls_ctx_new(H2_TLS_SERVER);
  if (f->srv == NULL || h2_tls_ctx_add_self_signed(f->srv, NULL) != 0 ||
      h2_tls_ctx_add_self_signed(f->srv, "example.test") != 0 ||
      h2_tls_ctx_write_cert_pem(f->srv, 0, f->ca, f->key, NULL) != 0 ||
      h2_tls_ctx_write_cert_pem(f->srv, 0, f->ca, f->key_enc, "s3cret") != 0 ||
      h2_tls_ctx_write_cert_pem(f->srv, 1, f->other_ca, f->other_key, NULL) != 0 ||
      h2_tls_ctx_write_cert_pem(f->srv, 0, f->ca, f->key, NULL) != 0)
    return -1;
  *state = f;
  return 0;
}

static int group_teardown(void **state) {
  fixture *f = *state;
  h2_tls_ctx_free(f->srv);
  const char *files[] = {f->ca, f->key, f->key_enc, f->other_ca, f->other_key};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) unlink(files[i]);
  rmdir(f->dir);
  free(f);
  return 0;
}

/* ---- pumping ------------------------------------------------------------ */

/* move sends at most |max| pending ciphertext bytes from |from| to |to|. */
static size_t move(h2_tls_conn *from, h2_tls_conn *to, size_t max) {
  size_t len;
  const uint8_t *p = h2_tls_conn_out_peek(from, &len);
  if (p == NULL) return 0;
  if (len > max) len = max;
  size_t n = h2_tls_conn_feed(to, p, len);
  h2_tls_conn_out_consume(from, n);
  return n;
}

/* handshake runs both sides until both finish or one fails, moving at most
 * |chunk| bytes per step. Results in *rc_c / *rc_s (1, or negative). */
static void handshake(h2_tls_conn *c, h2_tls_conn *s, size_t chunk, int *rc_c, int *rc_s) {
  *rc_c = 0;
  *rc_s = 0;
  for (int i = 0; i < 100000; i++) {
    if (*rc_c == 0) *rc_c = h2_tls_conn_handshake(c);
    if (*rc_s == 0) *rc_s = h2_tls_conn_handshake(s);
    size_t moved = move(c, s, chunk) + move(s, c, chunk);
    if (*rc_c != 0 && *rc_s != 0) break;
    if (moved == 0 && (*rc_c < 0 || *rc_s < 0)) {
      /* One side failed; let the other see the alert, then stop. */
      if (*rc_c == 0) *rc_c = h2_tls_conn_handshake(c);
      if (*rc_s == 0) *rc_s = h2_tls_conn_handshake(s);
      break;
    }
  }
}

/* settle lets post-handshake messages (TLS 1.3 tickets) reach the client. */
static void settle(h2_tls_conn *c, h2_tls_conn *s) {
  uint8_t buf[64];
  for (int i = 0; i < 8; i++) {
    move(s, c, SIZE_MAX);
    assert_int_equal(h2_tls_conn_read(c, buf, sizeof buf), H2_ERR_WOULD_BLOCK);
    move(c, s, SIZE_MAX);
    assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), H2_ERR_WOULD_BLOCK);
  }
}

static h2_tls_ctx *client_ctx(const fixture *f) {
  h2_tls_ctx *cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  assert_non_null(cc);
  if (f != NULL) assert_int_equal(h2_tls_ctx_load_ca_file(cc, f->ca), 0);
  return cc;
}

/* connect_pair makes a connection on each side and runs the handshake. */
static void connect_pair(h2_tls_ctx *cc, h2_tls_ctx *sc, const char *name, h2_tls_conn **out_c,
                         h2_tls_conn **out_s, int *rc_c, int *rc_s) {
  *out_c = h2_tls_conn_new(cc, name);
  *out_s = h2_tls_conn_new(sc, NULL);
  assert_non_null(*out_c);
  assert_non_null(*out_s);
  handshake(*out_c, *out_s, SIZE_MAX, rc_c, rc_s);
  if (*rc_c != 1 || *rc_s != 1)
    print_message("handshake: client %d '%s', server %d '%s'\n", *rc_c,
                  h2_tls_conn_errmsg(*out_c), *rc_s, h2_tls_conn_errmsg(*out_s));
}

static void transfer(h2_tls_conn *from, h2_tls_conn *to, size_t total) {
  uint8_t *src = malloc(total), *dst = malloc(total);
  assert_non_null(src);
  assert_non_null(dst);
  for (size_t i = 0; i < total; i++) src[i] = (uint8_t)(i * 7 + 3);
  size_t sent = 0, got = 0;
  for (int i = 0; i < 100000 && got < total; i++) {
    if (sent < total) {
      int w = h2_tls_conn_write(from, src + sent, total - sent);
      if (w > 0) sent += (size_t)w;
      else assert_int_equal(w, H2_ERR_WOULD_BLOCK);
    }
    move(from, to, SIZE_MAX);
    for (;;) {
      int r = h2_tls_conn_read(to, dst + got, total - got);
      if (r == H2_ERR_WOULD_BLOCK || got == total) break;
      assert_true(r > 0);
      got += (size_t)r;
      if (got == total) break;
    }
  }
  assert_int_equal(got, total);
  assert_memory_equal(src, dst, total);
  free(src);
  free(dst);
}

/* ---- tests -------------------------------------------------------------- */

static void test_handshake_h2_and_data(void **state) {
  fixture *f = *state;
  h2_tls_ctx *cc = client_ctx(f);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  assert_true(h2_tls_conn_handshake_done(c));
  assert_int_equal(h2_tls_conn_alpn(c), H2_TLS_PROTO_H2);
  assert_int_equal(h2_tls_conn_alpn(s), H2_TLS_PROTO_H2);
  assert_string_equal(h2_tls_conn_version(c), "TLSv1.3");
  assert_int_equal(h2_tls_conn_resumed(c), 0);
  assert_string_equal(h2_tls_conn_server_name(s), "localhost");
  assert_int_equal(SSL_get_curve_id(h2_tls_conn_ssl(c)), SSL_CURVE_X25519);
  transfer(c, s, 5);
  transfer(s, c, 1000000); /* more than the output limit: exercises backpressure */
  transfer(c, s, 300000);
  /* Close: the peer reads a clean EOF; writes after close are refused. */
  assert_int_equal(h2_tls_conn_close(c), 0);
  assert_int_equal(h2_tls_conn_write(c, (const uint8_t *)"x", 1), H2_ERR_CLOSED);
  move(c, s, SIZE_MAX);
  uint8_t buf[16];
  assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), H2_ERR_EOF);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "close_notify"));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
}

/* A context released while its connections live stays alive until the last
 * of them is freed (a session may finish closing after its owner freed the
 * context): handshake and data still work, and under ASan / valgrind the
 * frees are clean. */
static void test_ctx_outlived_by_conns(void **state) {
  fixture *f = *state;
  h2_tls_ctx *cc = client_ctx(f);
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(sc);
  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->ca, f->key, NULL), 0);
  h2_tls_conn *c = h2_tls_conn_new(cc, "localhost");
  h2_tls_conn *s = h2_tls_conn_new(sc, NULL);
  assert_non_null(c);
  assert_non_null(s);
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);
  int rc_c, rc_s;
  handshake(c, s, SIZE_MAX, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  transfer(c, s, 100000);
  transfer(s, c, 100000);
  h2_tls_conn_free(s); /* sc goes here */
  h2_tls_conn_free(c); /* cc goes here */
}

static void test_tls12_policy(void **state) {
  fixture *f = *state;
  h2_tls_ctx *cc = client_ctx(f);
  assert_int_equal(h2_tls_ctx_set_versions(cc, H2_TLS_VERSION_1_2, H2_TLS_VERSION_1_2), 0);
  assert_int_equal(h2_tls_ctx_set_session_cache(cc, 0), 0); /* full handshakes only */
  assert_int_equal(h2_tls_ctx_set_versions(cc, H2_TLS_VERSION_1_3, H2_TLS_VERSION_1_2),
                   H2_ERR_INVALID_ARG);
  assert_int_equal(h2_tls_ctx_set_versions(cc, 0x0301, H2_TLS_VERSION_1_2), H2_ERR_INVALID_ARG);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  assert_string_equal(h2_tls_conn_version(s), "TLSv1.2");
  const char *cipher = h2_tls_conn_cipher(s);
  assert_non_null(strstr(cipher, "TLS_ECDHE_ECDSA_WITH_"));
  assert_true(strstr(cipher, "_GCM_") != NULL || strstr(cipher, "CHACHA20") != NULL);
  assert_int_equal(h2_tls_conn_alpn(c), H2_TLS_PROTO_H2);
  transfer(c, s, 70000);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  /* A P-256-only client is accepted (X25519 and P-256 are the groups). */
  c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(f->srv, NULL);
  assert_int_equal(SSL_set1_curves_list(h2_tls_conn_ssl(c), "P-256"), 1);
  handshake(c, s, SIZE_MAX, &rc_c, &rc_s);
  assert_int_equal(rc_s, 1);
  assert_int_equal(SSL_get_curve_id(h2_tls_conn_ssl(s)), SSL_CURVE_SECP256R1);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  /* A client offering only a CBC suite in TLS 1.2 is refused (§9.2.2). */
  c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(f->srv, NULL);
  assert_int_equal(SSL_set_strict_cipher_list(h2_tls_conn_ssl(c), "ECDHE-ECDSA-AES128-SHA"), 1);
  handshake(c, s, SIZE_MAX, &rc_c, &rc_s);
  assert_int_equal(rc_s, H2_ERR_TLS);
  assert_int_equal(rc_c, H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "NO_SHARED_CIPHER"));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
}

static void test_byte_at_a_time(void **state) {
  fixture *f = *state;
  h2_tls_ctx *cc = client_ctx(f);
  h2_tls_conn *c = h2_tls_conn_new(cc, "localhost");
  h2_tls_conn *s = h2_tls_conn_new(f->srv, NULL);
  int rc_c, rc_s;
  handshake(c, s, 1, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  assert_int_equal(h2_tls_conn_alpn(s), H2_TLS_PROTO_H2);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
}

/* Application data arriving one ciphertext byte at a time: every read
 * before a record is whole says WOULD_BLOCK (BoringSSL holds the partial
 * record, the input buffer is empty), each whole record delivers its bytes,
 * and a close_notify split the same way still ends in a clean EOF. */
static void test_records_byte_at_a_time(void **state) {
  fixture *f = *state;
  h2_tls_ctx *cc = client_ctx(f);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  uint8_t buf[64];
  settle(c, s); /* tickets and the like out of the way */
  assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), H2_ERR_WOULD_BLOCK);
  /* Three records; the last one longer than the read buffer, so that its
   * rest waits decrypted inside BoringSSL while the input buffer is empty. */
  char big[200];
  for (size_t i = 0; i < sizeof big - 1; i++) big[i] = (char)('a' + i % 26);
  big[sizeof big - 1] = '\0';
  const char *msgs[] = {"first", "second record", big};
  char want[300] = "", got[300];
  size_t ngot = 0;
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(h2_tls_conn_write(c, (const uint8_t *)msgs[i], strlen(msgs[i])),
                     (int)strlen(msgs[i]));
    strcat(want, msgs[i]);
  }
  size_t moved = 0;
  int records = 0;
  for (int guard = 0; guard < 100000; guard++) {
    size_t m = move(c, s, 1);
    moved += m;
    int n = h2_tls_conn_read(s, buf, sizeof buf);
    if (n == H2_ERR_WOULD_BLOCK) {
      if (m == 0) break;
      continue;
    }
    records++;
    /* a whole record: all of it comes out, then nothing until the next */
    while (n > 0) {
      assert_true(ngot + (size_t)n <= strlen(want));
      memcpy(got + ngot, buf, (size_t)n);
      ngot += (size_t)n;
      n = h2_tls_conn_read(s, buf, sizeof buf);
    }
    assert_int_equal(n, H2_ERR_WOULD_BLOCK);
  }
  assert_true(moved > strlen(want));
  assert_int_equal(records, 3);
  assert_int_equal(ngot, strlen(want));
  assert_memory_equal(got, want, ngot);
  /* close_notify, one byte at a time */
  assert_int_equal(h2_tls_conn_close(c), 0);
  int r = H2_ERR_WOULD_BLOCK;
  for (int guard = 0; guard < 1000 && r == H2_ERR_WOULD_BLOCK; guard++) {
    if (move(c, s, 1) == 0) break;
    r = h2_tls_conn_read(s, buf, sizeof buf);
  }
  assert_int_equal(r, H2_ERR_EOF);
  /* and a transport EOF without close_notify is reported, not WOULD_BLOCK */
  h2_tls_conn *c2, *s2;
  connect_pair(cc, f->srv, "localhost", &c2, &s2, &rc_c, &rc_s);
  assert_int_equal(rc_s, 1);
  settle(c2, s2);
  h2_tls_conn_in_eof(s2);
  assert_int_equal(h2_tls_conn_read(s2, buf, sizeof buf), H2_ERR_EOF);
  h2_tls_conn_free(c2);
  h2_tls_conn_free(s2);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
}

static void test_alpn_http11_fallback(void **state) {
  fixture *f = *state;
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->ca, f->key, NULL), 0);
  assert_int_equal(h2_tls_ctx_set_alpn(sc, H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11), 0);
  assert_int_equal(h2_tls_ctx_set_alpn(sc, H2_TLS_ALPN_HTTP11), H2_ERR_INVALID_ARG);
  h2_tls_ctx *cc = client_ctx(f);
  assert_int_equal(h2_tls_ctx_set_alpn(cc, H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11), 0);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;

  /* Both offer both: h2 wins. */
  connect_pair(cc, sc, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_s, 1);
  assert_int_equal(h2_tls_conn_alpn(s), H2_TLS_PROTO_H2);
  assert_int_equal(h2_tls_conn_alpn(c), H2_TLS_PROTO_H2);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  /* A client that only speaks http/1.1 (listed first even) gets it. */
  static const uint8_t only11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(sc, NULL);
  assert_int_equal(SSL_set_alpn_protos(h2_tls_conn_ssl(c), only11, sizeof only11), 0);
  handshake(c, s, SIZE_MAX, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  assert_int_equal(h2_tls_conn_alpn(s), H2_TLS_PROTO_HTTP11);
  assert_int_equal(h2_tls_conn_alpn(c), H2_TLS_PROTO_HTTP11);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  /* A client without ALPN: HTTP/1.1 on a fallback server. */
  c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(sc, NULL);
  assert_int_equal(SSL_set_alpn_protos(h2_tls_conn_ssl(c), NULL, 0), 0);
  handshake(c, s, SIZE_MAX, &rc_c, &rc_s);
  assert_int_equal(rc_s, 1);
  assert_int_equal(h2_tls_conn_alpn(s), H2_TLS_PROTO_HTTP11);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);
}

static void test_alpn_h2_required(void **state) {
  fixture *f = *state;
  h2_tls_ctx *cc = client_ctx(f);
  assert_int_equal(h2_tls_ctx_set_alpn(cc, H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11), 0);
  static const uint8_t only11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  h2_tls_conn *c, *s;
  int rc_c, rc_s;

  /* No common protocol: the server refuses with no_application_protocol. */
  c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(f->srv, NULL);
  assert_int_equal(SSL_set_alpn_protos(h2_tls_conn_ssl(c), only11, sizeof only11), 0);
  handshake(c, s, SIZE_MAX, &rc_c, &rc_s);
  assert_int_equal(rc_s, H2_ERR_TLS);
  assert_int_equal(rc_c, H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "no common ALPN protocol"));
  assert_non_null(strstr(h2_tls_conn_errmsg(c), "ALPN"));
  assert_int_equal(h2_tls_conn_alpn(s), H2_TLS_PROTO_NONE);
  /* Failure is sticky. */
  uint8_t buf[8];
  assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), H2_ERR_TLS);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  /* A client without ALPN on an h2-only server. */
  c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(f->srv, NULL);
  assert_int_equal(SSL_set_alpn_protos(h2_tls_conn_ssl(c), NULL, 0), 0);
  handshake(c, s, SIZE_MAX, &rc_c, &rc_s);
  assert_int_equal(rc_s, H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "did not negotiate ALPN \"h2\""));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);

  /* An h2-only client facing a server that picks no protocol: server ctx
   * with fallback, client offering only http/1.1 on the wire, but the
   * client's policy requires h2. */
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->ca, f->key, NULL), 0);
  assert_int_equal(h2_tls_ctx_set_alpn(sc, H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11), 0);
  cc = client_ctx(f);
  c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(sc, NULL);
  assert_int_equal(SSL_set_alpn_protos(h2_tls_conn_ssl(c), NULL, 0), 0);
  handshake(c, s, SIZE_MAX, &rc_c, &rc_s);
  assert_int_equal(rc_c, H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(c), "server did not select ALPN \"h2\""));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);
}

static void expect_peer_cert(h2_tls_conn *c, const char *host) {
  X509 *peer = SSL_get_peer_certificate(h2_tls_conn_ssl(c));
  assert_non_null(peer);
  assert_int_equal(X509_check_host(peer, host, strlen(host), 0, NULL), 1);
  X509_free(peer);
}

static void test_sni_selects_certificate(void **state) {
  fixture *f = *state;
  h2_tls_ctx *cc = client_ctx(f);
  assert_int_equal(h2_tls_ctx_load_ca_file(cc, f->other_ca), 0);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;

  connect_pair(cc, f->srv, "example.test", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  assert_string_equal(h2_tls_conn_server_name(s), "example.test");
  expect_peer_cert(c, "example.test");
  assert_int_equal(h2_tls_conn_alpn(c), H2_TLS_PROTO_H2); /* policy kept after the switch */
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  expect_peer_cert(c, "localhost");
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);

  /* Unknown name: the default (first) certificate. */
  cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  assert_int_equal(h2_tls_ctx_set_insecure(cc, 1), 0);
  connect_pair(cc, f->srv, "unknown.test", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  expect_peer_cert(c, "localhost");
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
}

static void resumption(fixture *f, uint16_t version, const char *want_version) {
  h2_tls_ctx *cc = client_ctx(f);
  assert_int_equal(h2_tls_ctx_set_versions(cc, version, version), 0);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_string_equal(h2_tls_conn_version(c), want_version);
  assert_int_equal(h2_tls_conn_resumed(c), 0);
  settle(c, s);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  for (int round = 0; round < 2; round++) {
    connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
    assert_int_equal(rc_c, 1);
    assert_int_equal(rc_s, 1);
    assert_int_equal(h2_tls_conn_resumed(c), 1);
    assert_int_equal(h2_tls_conn_resumed(s), 1);
    assert_int_equal(h2_tls_conn_alpn(c), H2_TLS_PROTO_H2);
    transfer(c, s, 100);
    settle(c, s);
    h2_tls_conn_free(c);
    h2_tls_conn_free(s);
  }
  /* Another name has no session; with the cache off nothing resumes. */
  assert_int_equal(h2_tls_ctx_set_session_cache(cc, 0), 0);
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(h2_tls_conn_resumed(c), 0);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
}

static void test_resumption_tls13(void **state) { resumption(*state, H2_TLS_VERSION_1_3, "TLSv1.3"); }
static void test_resumption_tls12(void **state) { resumption(*state, H2_TLS_VERSION_1_2, "TLSv1.2"); }

static void test_verification(void **state) {
  fixture *f = *state;
  h2_tls_conn *c, *s;
  int rc_c, rc_s;
  h2_tls_ctx *cc = client_ctx(f);

  /* The IP SAN matches too. */
  connect_pair(cc, f->srv, "127.0.0.1", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_null(h2_tls_conn_server_name(s)); /* no SNI for IP literals */
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  connect_pair(cc, f->srv, "::1", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  /* Wrong host name. */
  connect_pair(cc, f->srv, "wrong.localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, H2_ERR_TLS);
  assert_true(rc_s < 0);
  assert_non_null(strstr(h2_tls_conn_errmsg(c), "certificate verification failed"));
  assert_non_null(strstr(h2_tls_conn_errmsg(c), "wrong.localhost"));
  assert_non_null(strstr(h2_tls_conn_errmsg(c), "ostname mismatch"));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  connect_pair(cc, f->srv, "127.0.0.2", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(c), "IP address mismatch"));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);

  /* No trust anchor for it. */
  cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(c), "certificate verification failed"));
  assert_non_null(strstr(h2_tls_conn_errmsg(c), "self signed"));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  /* A client needs a name unless insecure. */
  assert_null(h2_tls_conn_new(cc, NULL));
  assert_non_null(strstr(h2_tls_ctx_errmsg(cc), "server name"));

  /* The insecure switch accepts it, and any name. */
  assert_int_equal(h2_tls_ctx_set_insecure(cc, 1), 0);
  connect_pair(cc, f->srv, "wrong.localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  connect_pair(cc, f->srv, NULL, &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  /* Switched back on: verification again. */
  assert_int_equal(h2_tls_ctx_set_insecure(cc, 0), 0);
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, H2_ERR_TLS);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  assert_int_equal(h2_tls_ctx_set_insecure(f->srv, 1), H2_ERR_STATE);
  h2_tls_ctx_free(cc);
}

static void test_bad_inputs(void **state) {
  fixture *f = *state;
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  char garbage[128], missing[128];
  snprintf(garbage, sizeof garbage, "%s/garbage.pem", f->dir);
  snprintf(missing, sizeof missing, "%s/does-not-exist.pem", f->dir);
  FILE *g = fopen(garbage, "w");
  assert_non_null(g);
  fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n", g);
  fclose(g);

  assert_int_equal(h2_tls_ctx_add_cert_files(sc, missing, f->key, NULL), H2_ERR_NOT_FOUND);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), missing));
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), "No such file"));
  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->ca, missing, NULL), H2_ERR_NOT_FOUND);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), missing));

  assert_int_equal(h2_tls_ctx_add_cert_files(sc, garbage, f->key, NULL), H2_ERR_PARSE);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), "no PEM certificate"));
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), garbage));
  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->ca, garbage, NULL), H2_ERR_PARSE);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), "no PEM private key"));

  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->ca, f->key_enc, "wrong"), H2_ERR_PARSE);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), "wrong password"));
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), f->key_enc));
  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->ca, f->key_enc, NULL), H2_ERR_PARSE);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), "encrypted and no password"));

  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->ca, f->other_key, NULL), H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), "does not match"));
  assert_int_equal(h2_tls_ctx_num_certs(sc), 0);
  assert_null(h2_tls_conn_new(sc, NULL));
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), "no certificate"));

  /* The right password works, and the result serves a handshake. */
  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->ca, f->key_enc, "s3cret"), 0);
  assert_int_equal(h2_tls_ctx_num_certs(sc), 1);
  h2_tls_ctx *cc = client_ctx(f);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;
  connect_pair(cc, sc, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  assert_null(h2_tls_conn_new(sc, "x")); /* servers take no name */

  assert_int_equal(h2_tls_ctx_load_ca_file(cc, missing), H2_ERR_NOT_FOUND);
  assert_non_null(strstr(h2_tls_ctx_errmsg(cc), missing));
  assert_int_equal(h2_tls_ctx_load_ca_file(cc, garbage), H2_ERR_PARSE);
  assert_int_equal(h2_tls_ctx_load_ca_file(sc, f->ca), H2_ERR_STATE);
  assert_int_equal(h2_tls_ctx_add_self_signed(sc, "bad name,DNS:evil"), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_tls_ctx_write_cert_pem(sc, 5, garbage, NULL, NULL), H2_ERR_INVALID_ARG);
  char nodir[160];
  snprintf(nodir, sizeof nodir, "%s/no/such/dir.pem", f->dir);
  assert_int_equal(h2_tls_ctx_write_cert_pem(sc, 0, nodir, NULL, NULL), H2_ERR_IO);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), nodir));
  assert_int_equal(h2_tls_ctx_set_keylog_file(sc, nodir), H2_ERR_IO);
  /* A client context holds one (client) certificate. */
  assert_int_equal(h2_tls_ctx_role(cc), H2_TLS_CLIENT);
  assert_int_equal(h2_tls_ctx_add_self_signed(cc, "client.test"), 0);
  assert_int_equal(h2_tls_ctx_add_self_signed(cc, "client2.test"), H2_ERR_LIMIT);
  assert_int_equal(h2_tls_ctx_num_certs(cc), 1);
  unlink(garbage);
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);
}

static void test_garbage_ciphertext(void **state) {
  fixture *f = *state;
  h2_tls_conn *s = h2_tls_conn_new(f->srv, NULL);
  uint8_t junk[600];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 131 + 17);
  junk[0] = 0x16; /* looks like a handshake record... */
  junk[1] = 0x03;
  junk[2] = 0x01;
  junk[3] = 0x02; /* ...of 0x0200 bytes of nonsense */
  junk[4] = 0x00;
  assert_int_equal(h2_tls_conn_feed(s, junk, sizeof junk), sizeof junk);
  assert_int_equal(h2_tls_conn_handshake(s), H2_ERR_TLS);
  assert_true(strlen(h2_tls_conn_errmsg(s)) > 10);
  h2_tls_conn_free(s);

  /* Transport EOF mid-handshake. */
  s = h2_tls_conn_new(f->srv, NULL);
  assert_int_equal(h2_tls_conn_feed(s, junk, 3), 3);
  h2_tls_conn_in_eof(s);
  assert_int_equal(h2_tls_conn_handshake(s), H2_ERR_EOF);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "during the handshake"));
  h2_tls_conn_free(s);
}

static void test_after_handshake_failures(void **state) {
  fixture *f = *state;
  h2_tls_ctx *cc = client_ctx(f);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;
  uint8_t buf[64];

  /* A forged application-data record: a fatal error with an alert to send,
   * sticky for reads and writes. */
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_s, 1);
  settle(c, s);
  uint8_t forged[5 + 40] = {0x17, 0x03, 0x03, 0x00, 40};
  for (size_t i = 5; i < sizeof forged; i++) forged[i] = (uint8_t)i;
  assert_int_equal(h2_tls_conn_feed(s, forged, sizeof forged), sizeof forged);
  assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "DECRYPTION_FAILED"));
  assert_true(h2_tls_conn_out_pending(s) > 0); /* the bad_record_mac alert */
  assert_int_equal(h2_tls_conn_write(s, buf, 1), H2_ERR_TLS);
  assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), H2_ERR_TLS);
  move(s, c, SIZE_MAX);
  assert_int_equal(h2_tls_conn_read(c, buf, sizeof buf), H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(c), "BAD_RECORD_MAC"));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  /* The transport ends without close_notify (truncation). */
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_s, 1);
  transfer(c, s, 10);
  h2_tls_conn_in_eof(s);
  assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), H2_ERR_EOF);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "without close_notify"));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  /* Data queued before close_notify still arrives, then EOF. */
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_s, 1);
  assert_int_equal(h2_tls_conn_write(c, (const uint8_t *)"last words", 10), 10);
  assert_int_equal(h2_tls_conn_close(c), 0);
  move(c, s, SIZE_MAX);
  assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), 10);
  assert_memory_equal(buf, "last words", 10);
  assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), H2_ERR_EOF);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
}

static void test_buffers_and_states(void **state) {
  fixture *f = *state;
  h2_tls_conn *s = h2_tls_conn_new(f->srv, NULL);
  uint8_t big[40000] = {0};
  /* The input buffer takes 32 KiB and no more until drained. */
  assert_int_equal(h2_tls_conn_feed(s, big, sizeof big), 32 * 1024);
  assert_int_equal(h2_tls_conn_feed(s, big, 10), 0);
  size_t cap;
  (void)h2_tls_conn_in_space(s, &cap);
  assert_int_equal(cap, 0);
  assert_int_equal(h2_tls_conn_in_commit(s, 1), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_tls_conn_write(s, big, 10), H2_ERR_STATE); /* no handshake yet */
  size_t len;
  assert_null(h2_tls_conn_out_peek(s, &len));
  assert_int_equal(len, 0);
  assert_string_equal(h2_tls_conn_version(s), "");
  assert_int_equal(h2_tls_conn_alpn(s), H2_TLS_PROTO_NONE);
  h2_tls_conn_free(s);

  /* in_space/in_commit path and write backpressure without flushing. */
  h2_tls_ctx *cc = client_ctx(f);
  h2_tls_conn *c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(f->srv, NULL);
  int rc_c = 0, rc_s = 0;
  for (int i = 0; i < 50 && (rc_c != 1 || rc_s != 1); i++) {
    if (rc_c != 1) rc_c = h2_tls_conn_handshake(c);
    if (rc_s != 1) rc_s = h2_tls_conn_handshake(s);
    const uint8_t *p = h2_tls_conn_out_peek(c, &len);
    if (p != NULL) {
      uint8_t *dst = h2_tls_conn_in_space(s, &cap);
      size_t n = len < cap ? len : cap;
      memcpy(dst, p, n);
      assert_int_equal(h2_tls_conn_in_commit(s, n), 0);
      h2_tls_conn_out_consume(c, n);
    }
    move(s, c, SIZE_MAX);
  }
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  size_t accepted = 0;
  int w;
  while ((w = h2_tls_conn_write(c, big, sizeof big)) > 0) accepted += (size_t)w;
  assert_int_equal(w, H2_ERR_WOULD_BLOCK);
  assert_true(h2_tls_conn_out_pending(c) >= 256 * 1024);
  assert_true(accepted > 200 * 1024 && accepted <= 256 * 1024);
  h2_tls_conn_out_consume(c, SIZE_MAX);
  assert_int_equal(h2_tls_conn_out_pending(c), 0);
  assert_true(h2_tls_conn_write(c, big, 10) == 10);
  uint8_t one;
  assert_int_equal(h2_tls_conn_read(c, &one, 0), H2_ERR_INVALID_ARG);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
}

static size_t count_lines(const char *path, const char *prefix) {
  FILE *fp = fopen(path, "r");
  if (fp == NULL) return 0;
  char line[1024];
  size_t n = 0;
  while (fgets(line, sizeof line, fp) != NULL)
    if (strncmp(line, prefix, strlen(prefix)) == 0) n++;
  fclose(fp);
  return n;
}

static void test_keylog(void **state) {
  fixture *f = *state;
  char path[128], envpath[128];
  snprintf(path, sizeof path, "%s/keylog.txt", f->dir);
  snprintf(envpath, sizeof envpath, "%s/keylog-env.txt", f->dir);
  h2_tls_ctx *cc = client_ctx(f);
  assert_int_equal(h2_tls_ctx_set_keylog_file(cc, path), 0);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  assert_int_equal(count_lines(path, "CLIENT_HANDSHAKE_TRAFFIC_SECRET "), 1);
  assert_int_equal(count_lines(path, "SERVER_TRAFFIC_SECRET_0 "), 1);
  assert_int_equal(count_lines(path, "CLIENT_TRAFFIC_SECRET_0 "), 1);
  h2_tls_ctx_free(cc);

  /* SSLKEYLOGFILE is picked up by h2_tls_ctx_new; TLS 1.2 logs CLIENT_RANDOM. */
  assert_int_equal(setenv("SSLKEYLOGFILE", envpath, 1), 0);
  cc = client_ctx(f);
  unsetenv("SSLKEYLOGFILE");
  assert_int_equal(h2_tls_ctx_set_versions(cc, H2_TLS_VERSION_1_2, H2_TLS_VERSION_1_2), 0);
  connect_pair(cc, f->srv, "localhost", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  assert_int_equal(count_lines(envpath, "CLIENT_RANDOM "), 1);
  /* Lines are "LABEL <64 hex client random> <hex secret>". */
  FILE *fp = fopen(envpath, "r");
  char line[512];
  assert_non_null(fgets(line, sizeof line, fp));
  fclose(fp);
  assert_int_equal(strlen(line), strlen("CLIENT_RANDOM ") + 64 + 1 + 96 + 1);
  h2_tls_ctx_free(cc);
  unlink(path);
  unlink(envpath);
}

static void test_self_signed_and_write(void **state) {
  fixture *f = *state;
  /* The written CA file holds the SANs the spec asks for. */
  FILE *fp = fopen(f->ca, "r");
  assert_non_null(fp);
  X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
  fclose(fp);
  assert_non_null(x);
  assert_int_equal(X509_check_host(x, "localhost", 9, 0, NULL), 1);
  assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
  assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
  assert_int_equal(X509_check_host(x, "example.test", 12, 0, NULL), 0);
  EVP_PKEY *pub = X509_get_pubkey(x);
  assert_non_null(pub);
  assert_int_equal(EVP_PKEY_id(pub), EVP_PKEY_EC);
  assert_int_equal(X509_verify(x, pub), 1); /* self-signed */
  EVP_PKEY_free(pub);
  X509_free(x);
  /* The key file is private. */
  assert_int_equal(access(f->key, R_OK), 0);
  char cmdline[256];
  snprintf(cmdline, sizeof cmdline, "test \"$(stat -c %%a %s)\" = 600", f->key);
  assert_int_equal(system(cmdline), 0);
  /* Files round-trip through add_cert_files as the second (SNI) entry. */
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_int_equal(h2_tls_ctx_add_self_signed(sc, "a.test"), 0);
  assert_int_equal(h2_tls_ctx_add_cert_files(sc, f->other_ca, f->other_key, NULL), 0);
  assert_int_equal(h2_tls_ctx_num_certs(sc), 2);
  h2_tls_ctx *cc = client_ctx(NULL);
  assert_int_equal(h2_tls_ctx_load_ca_file(cc, f->other_ca), 0);
  h2_tls_conn *c, *s;
  int rc_c, rc_s;
  connect_pair(cc, sc, "example.test", &c, &s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);
}

/* Contexts are shared by connections on several threads (the client
 * session cache is locked); no cmocka asserts inside the threads. */
typedef struct thread_job {
  h2_tls_ctx *cc, *sc;
  int ok, resumed;
} thread_job;

static void *thread_main(void *arg) {
  thread_job *j = arg;
  for (int i = 0; i < 10; i++) {
    h2_tls_conn *c = h2_tls_conn_new(j->cc, "localhost");
    h2_tls_conn *s = h2_tls_conn_new(j->sc, NULL);
    if (c == NULL || s == NULL) {
      h2_tls_conn_free(c);
      h2_tls_conn_free(s);
      continue;
    }
    int rc_c, rc_s;
    handshake(c, s, SIZE_MAX, &rc_c, &rc_s);
    if (rc_c == 1 && rc_s == 1 && h2_tls_conn_alpn(c) == H2_TLS_PROTO_H2) {
      j->ok++;
      j->resumed += h2_tls_conn_resumed(c);
      uint8_t buf[16];
      move(s, c, SIZE_MAX); /* tickets */
      (void)h2_tls_conn_read(c, buf, sizeof buf);
    }
    h2_tls_conn_free(c);
    h2_tls_conn_free(s);
  }
  return NULL;
}

static void test_shared_ctx_threads(void **state) {
  fixture *f = *state;
  h2_tls_ctx *cc = client_ctx(f);
  thread_job jobs[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (thread_job){.cc = cc, .sc = f->srv};
    assert_int_equal(pthread_create(&th[i], NULL, thread_main, &jobs[i]), 0);
  }
  int ok = 0, resumed = 0;
  for (int i = 0; i < 4; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    ok += jobs[i].ok;
    resumed += jobs[i].resumed;
  }
  assert_int_equal(ok, 40);
  print_message("threads: %d of 40 handshakes resumed\n", resumed);
  assert_true(resumed >= 1); /* tickets are single use: threads race for them */
  h2_tls_ctx_free(cc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handshake_h2_and_data),
      cmocka_unit_test(test_ctx_outlived_by_conns),
      cmocka_unit_test(test_tls12_policy),
      cmocka_unit_test(test_byte_at_a_time),
      cmocka_unit_test(test_records_byte_at_a_time),
      cmocka_unit_test(test_alpn_http11_fallback),
      cmocka_unit_test(test_alpn_h2_required),
      cmocka_unit_test(test_sni_selects_certificate),
      cmocka_unit_test(test_resumption_tls13),
      cmocka_unit_test(test_resumption_tls12),
      cmocka_unit_test(test_verification),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_garbage_ciphertext),
      cmocka_unit_test(test_after_handshake_failures),
      cmocka_unit_test(test_buffers_and_states),
      cmocka_unit_test(test_keylog),
      cmocka_unit_test(test_self_signed_and_write),
      cmocka_unit_test(test_shared_ctx_threads),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
