/* test_tls_auth.c: the tls/ layer in memory, part two:
 *  - client certificates: a server asking for them (optional and required,
 *    with SNI certificates, with resumption), our client presenting one, and
 *    each failure with its message;
 *  - SSLKEYLOGFILE end to end: the file h2_tls_ctx_new opens from the
 *    environment holds well-formed NSS key log lines for the very connection
 *    (client random, secret lengths of the cipher's hash), the same lines on
 *    both sides, and the logged secrets really are the connection's keys: a
 *    TLS 1.3 application record captured from the "wire" is decrypted with a
 *    key and IV derived (RFC 8446 §7.3) from CLIENT_TRAFFIC_SECRET_0 read back
 *    from the file, and the TLS 1.2 CLIENT_RANDOM line carries the session's
 *    master secret. That is what Wireshark does with the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/aead.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/hkdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "h2_err.h"
#include "h2_tls.h"
#include "test_tls_util.h"

typedef struct fixture {
  char dir[64];
  char srv_ca[128];                     /* srv's localhost certificate */
  char own_ca[128];                     /* the certificate of a test's own server */
  char cli_cert[128], cli_key[128];     /* client.test, self-signed */
  char rogue_cert[128], rogue_key[128]; /* rogue.test, trusted by nobody */
  char garbage[128];
  h2_tls_ctx *srv; /* localhost (default) + example.test */
} fixture;

static int group_setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/h2tlsauthXXXXXX");
  if (mkdtemp(f->dir) == NULL) return -1;
  snprintf(f->srv_ca, sizeof f->srv_ca, "%s/srv.pem", f->dir);
  snprintf(f->own_ca, sizeof f->own_ca, "%s/own.pem", f->dir);
  snprintf(f->cli_cert, sizeof f->cli_cert, "%s/cli.pem", f->dir);
  snprintf(f->cli_key, sizeof f->cli_key, "%s/cli-key.pem", f->dir);
  snprintf(f->rogue_cert, sizeof f->rogue_cert, "%s/rogue.pem", f->dir);
  snprintf(f->rogue_key, sizeof f->rogue_key, "%s/rogue-key.pem", f->dir);
  snprintf(f->garbage, sizeof f->garbage, "%s/garbage.pem", f->dir);
  f->srv = h2_tls_ctx_new(H2_TLS_SERVER);
  h2_tls_ctx *mk1 = h2_tls_ctx_new(H2_TLS_CLIENT), *mk2 = h2_tls_ctx_new(H2_TLS_CLIENT);
  if (f->srv == NULL || mk1 == NULL || mk2 == NULL || h2_tls_ctx_add_self_signed(f->srv, NULL) != 0 ||
      h2_tls_ctx_add_self_signed(f->srv, "example.test") != 0 ||
      h2_tls_ctx_write_cert_pem(f->srv, 0, f->srv_ca, NULL, NULL) != 0 ||
      h2_tls_ctx_write_cert_pem(f->srv, 0, f->own_ca, NULL, NULL) != 0 ||
      h2_tls_ctx_add_self_signed(mk1, "client.test") != 0 ||
      h2_tls_ctx_write_cert_pem(mk1, 0, f->cli_cert, f->cli_key, NULL) != 0 ||
      h2_tls_ctx_add_self_signed(mk2, "rogue.test") != 0 ||
      h2_tls_ctx_write_cert_pem(mk2, 0, f->rogue_cert, f->rogue_key, NULL) != 0)
    return -1;
  h2_tls_ctx_free(mk1);
  h2_tls_ctx_free(mk2);
  FILE *g = fopen(f->garbage, "w");
  if (g == NULL) return -1;
  fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", g);
  fclose(g);
  *state = f;
  return 0;
}

static int group_teardown(void **state) {
  fixture *f = *state;
  h2_tls_ctx_free(f->srv);
  const char *files[] = {f->srv_ca, f->own_ca, f->cli_cert, f->cli_key, f->rogue_cert, f->rogue_key, f->garbage};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) unlink(files[i]);
  rmdir(f->dir);
  free(f);
  return 0;
}

/* A client context trusting the server certificate in |ca|, with |cert|/|key| as its client
 * certificate when not NULL. */
static h2_tls_ctx *client(const char *ca, const char *cert, const char *key, uint16_t version) {
  h2_tls_ctx *cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  assert_non_null(cc);
  assert_int_equal(h2_tls_ctx_load_ca_file(cc, ca), 0);
  if (cert != NULL) assert_int_equal(h2_tls_ctx_add_cert_files(cc, cert, key, NULL), 0);
  if (version != 0) assert_int_equal(h2_tls_ctx_set_versions(cc, version, version), 0);
  return cc;
}

/* peer_cn copies the CN of the certificate the server got (or "" if none). */
static void peer_cn(h2_tls_conn *s, char *out, size_t cap) {
  out[0] = '\0';
  X509 *x = SSL_get_peer_certificate(h2_tls_conn_ssl(s));
  if (x == NULL) return;
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)cap);
  X509_free(x);
}

/* ---- client certificates -------------------------------------------------- */

static void test_client_auth_config_errors(void **state) {
  fixture *f = *state;
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  h2_tls_ctx *cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  assert_int_equal(h2_tls_ctx_set_client_auth(cc, H2_TLS_CLIENT_AUTH_REQUIRED, f->cli_cert), H2_ERR_STATE);
  assert_non_null(strstr(h2_tls_ctx_errmsg(cc), "server contexts only"));
  assert_int_equal(h2_tls_ctx_set_client_auth(sc, H2_TLS_CLIENT_AUTH_REQUIRED, NULL), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_tls_ctx_set_client_auth(sc, (h2_tls_client_auth)7, f->cli_cert), H2_ERR_INVALID_ARG);
  char missing[160];
  snprintf(missing, sizeof missing, "%s/nope.pem", f->dir);
  assert_int_equal(h2_tls_ctx_set_client_auth(sc, H2_TLS_CLIENT_AUTH_OPTIONAL, missing), H2_ERR_NOT_FOUND);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), missing));
  assert_int_equal(h2_tls_ctx_set_client_auth(sc, H2_TLS_CLIENT_AUTH_OPTIONAL, f->garbage), H2_ERR_PARSE);
  assert_non_null(strstr(h2_tls_ctx_errmsg(sc), "no usable PEM certificate"));
  assert_int_equal(h2_tls_ctx_set_client_auth(sc, H2_TLS_CLIENT_AUTH_REQUIRED, f->cli_cert), 0);
  assert_int_equal(h2_tls_ctx_set_client_auth(sc, H2_TLS_CLIENT_AUTH_NONE, NULL), 0);
  h2_tls_ctx_free(sc);
  h2_tls_ctx_free(cc);
}

/* Required client certificates, both TLS versions: a trusted one is
 * accepted and visible to the server, a missing or untrusted one fails on
 * both sides with a message saying why. */
/* own_server makes a server context with a fresh localhost certificate and
 * points |f|->own_ca at it (f->srv_ca stays f->srv's). */
static h2_tls_ctx *own_server(fixture *f) {
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(sc);
  assert_int_equal(h2_tls_ctx_add_self_signed(sc, NULL), 0);
  assert_int_equal(h2_tls_ctx_write_cert_pem(sc, 0, f->own_ca, NULL, NULL), 0);
  return sc;
}

static void client_auth_required(fixture *f, uint16_t version) {
  h2_tls_ctx *sc = own_server(f);
  assert_int_equal(h2_tls_ctx_set_client_auth(sc, H2_TLS_CLIENT_AUTH_REQUIRED, f->cli_cert), 0);
  char cn[64];
  int rc_c, rc_s, rs;

  /* A trusted certificate. */
  h2_tls_ctx *cc = client(f->own_ca, f->cli_cert, f->cli_key, version);
  h2_tls_conn *c = h2_tls_conn_new(cc, "localhost"), *s = h2_tls_conn_new(sc, NULL);
  tu_handshake(c, s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  assert_int_equal(tu_settle(c, s, &rs), H2_ERR_WOULD_BLOCK);
  assert_int_equal(rs, H2_ERR_WOULD_BLOCK);
  peer_cn(s, cn, sizeof cn);
  assert_string_equal(cn, "client.test");
  assert_int_equal(SSL_get_verify_result(h2_tls_conn_ssl(s)), X509_V_OK);
  assert_int_equal(h2_tls_conn_write(c, (const uint8_t *)"hi", 2), 2);
  tu_move(c, s, SIZE_MAX);
  uint8_t buf[8];
  assert_int_equal(h2_tls_conn_read(s, buf, sizeof buf), 2);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);

  /* No certificate. */
  cc = client(f->own_ca, NULL, NULL, version);
  c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(sc, NULL);
  tu_handshake(c, s, &rc_c, &rc_s);
  assert_int_equal(rc_s, H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "the client sent no certificate"));
  /* TLS 1.2: the client learns it in the handshake; TLS 1.3: the client is
   * done before the server checks, and its first read gets the alert. */
  if (rc_c == 1) {
    assert_int_equal(version, H2_TLS_VERSION_1_3);
    assert_int_equal(tu_settle(c, s, NULL), H2_ERR_TLS);
  } else {
    assert_int_equal(rc_c, H2_ERR_TLS);
  }
  print_message("no client certificate: client '%s'\n", h2_tls_conn_errmsg(c));
  if (version == H2_TLS_VERSION_1_3)
    assert_non_null(strstr(h2_tls_conn_errmsg(c), "the server requires a client certificate"));
  else
    assert_non_null(strstr(h2_tls_conn_errmsg(c), "the server asked for a client certificate and this client has none"));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);

  /* A certificate the server does not trust. */
  cc = client(f->own_ca, f->rogue_cert, f->rogue_key, version);
  c = h2_tls_conn_new(cc, "localhost");
  s = h2_tls_conn_new(sc, NULL);
  tu_handshake(c, s, &rc_c, &rc_s);
  assert_int_equal(rc_s, H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "client certificate verification failed: self signed certificate"));
  if (rc_c == 1) assert_int_equal(tu_settle(c, s, NULL), H2_ERR_TLS);
  else assert_int_equal(rc_c, H2_ERR_TLS);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);
}

static void test_client_auth_required_tls13(void **state) { client_auth_required(*state, H2_TLS_VERSION_1_3); }
static void test_client_auth_required_tls12(void **state) { client_auth_required(*state, H2_TLS_VERSION_1_2); }

/* Optional: a client without a certificate gets in, one with a trusted
 * certificate is seen; the setting covers SNI certificates added before and
 * after it; resumption keeps working; NONE turns the request off. */
static void test_client_auth_optional_sni_resumption(void **state) {
  fixture *f = *state;
  char other_ca[160];
  snprintf(other_ca, sizeof other_ca, "%s/other.pem", f->dir);
  h2_tls_ctx *sc = own_server(f);
  assert_int_equal(h2_tls_ctx_set_client_auth(sc, H2_TLS_CLIENT_AUTH_OPTIONAL, f->cli_cert), 0);
  assert_int_equal(h2_tls_ctx_add_self_signed(sc, "example.test"), 0); /* added after */
  assert_int_equal(h2_tls_ctx_write_cert_pem(sc, 1, other_ca, NULL, NULL), 0);
  char cn[64];
  int rc_c, rc_s;

  h2_tls_ctx *cc = client(f->own_ca, NULL, NULL, 0);
  h2_tls_conn *c = h2_tls_conn_new(cc, "localhost"), *s = h2_tls_conn_new(sc, NULL);
  tu_handshake(c, s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  assert_int_equal(tu_settle(c, s, NULL), H2_ERR_WOULD_BLOCK);
  peer_cn(s, cn, sizeof cn);
  assert_string_equal(cn, "");
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);

  /* SNI example.test with a client certificate, then a resumed connection
   * (TLS 1.3 ticket): the server still knows the client's certificate. */
  cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  assert_int_equal(h2_tls_ctx_load_ca_file(cc, other_ca), 0);
  assert_int_equal(h2_tls_ctx_add_cert_files(cc, f->cli_cert, f->cli_key, NULL), 0);
  for (int round = 0; round < 2; round++) {
    c = h2_tls_conn_new(cc, "example.test");
    s = h2_tls_conn_new(sc, NULL);
    tu_handshake(c, s, &rc_c, &rc_s);
    assert_int_equal(rc_c, 1);
    assert_int_equal(rc_s, 1);
    assert_int_equal(tu_settle(c, s, NULL), H2_ERR_WOULD_BLOCK);
    assert_string_equal(h2_tls_conn_server_name(s), "example.test");
    assert_int_equal(h2_tls_conn_resumed(c), round);
    assert_int_equal(h2_tls_conn_resumed(s), round);
    peer_cn(s, cn, sizeof cn);
    assert_string_equal(cn, "client.test");
    h2_tls_conn_free(c);
    h2_tls_conn_free(s);
  }
  h2_tls_ctx_free(cc);

  /* An untrusted certificate fails even in optional mode, on the SNI
   * certificate too. */
  cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  assert_int_equal(h2_tls_ctx_load_ca_file(cc, other_ca), 0);
  assert_int_equal(h2_tls_ctx_add_cert_files(cc, f->rogue_cert, f->rogue_key, NULL), 0);
  c = h2_tls_conn_new(cc, "example.test");
  s = h2_tls_conn_new(sc, NULL);
  tu_handshake(c, s, &rc_c, &rc_s);
  assert_int_equal(rc_s, H2_ERR_TLS);
  assert_non_null(strstr(h2_tls_conn_errmsg(s), "client certificate verification failed"));
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);

  /* NONE: the rogue certificate is not even asked for. */
  assert_int_equal(h2_tls_ctx_set_client_auth(sc, H2_TLS_CLIENT_AUTH_NONE, NULL), 0);
  c = h2_tls_conn_new(cc, "example.test");
  s = h2_tls_conn_new(sc, NULL);
  tu_handshake(c, s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  assert_int_equal(tu_settle(c, s, NULL), H2_ERR_WOULD_BLOCK);
  peer_cn(s, cn, sizeof cn);
  assert_string_equal(cn, "");
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);
  unlink(other_ca);
}

/* ---- SSLKEYLOGFILE ---------------------------------------------------------- */

typedef struct keylog_line {
  char label[64];
  uint8_t random[32];
  uint8_t secret[64];
  size_t secret_len;
} keylog_line;

static int unhex(const char *h, size_t hlen, uint8_t *out) {
  for (size_t i = 0; i < hlen / 2; i++) {
    unsigned v;
    if (sscanf(h + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return 0;
}

/* read_keylog parses every line of |path| strictly: "LABEL <64 hex> <hex>\n",
 * lower-case hex only, nothing else. Returns the number of lines. */
static size_t read_keylog(const char *path, keylog_line *out, size_t cap) {
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  char line[512];
  size_t n = 0;
  while (fgets(line, sizeof line, fp) != NULL) {
    assert_true(n < cap);
    size_t len = strlen(line);
    assert_true(len > 0 && line[len - 1] == '\n');
    line[--len] = '\0';
    char *sp1 = strchr(line, ' ');
    assert_non_null(sp1);
    char *sp2 = strchr(sp1 + 1, ' ');
    assert_non_null(sp2);
    assert_null(strchr(sp2 + 1, ' '));
    size_t llen = (size_t)(sp1 - line), rlen = (size_t)(sp2 - sp1 - 1), slen = strlen(sp2 + 1);
    assert_true(llen > 0 && llen < sizeof out[n].label);
    assert_int_equal(rlen, 64);
    assert_true(slen == 64 || slen == 96);
    assert_int_equal(strspn(sp1 + 1, "0123456789abcdef"), 64);
    assert_int_equal(strspn(sp2 + 1, "0123456789abcdef"), slen);
    memcpy(out[n].label, line, llen);
    out[n].label[llen] = '\0';
    assert_int_equal(unhex(sp1 + 1, 64, out[n].random), 0);
    assert_int_equal(unhex(sp2 + 1, slen, out[n].secret), 0);
    out[n].secret_len = slen / 2;
    n++;
  }
  fclose(fp);
  return n;
}

static const keylog_line *find_line(const keylog_line *l, size_t n, const char *label) {
  const keylog_line *hit = NULL;
  for (size_t i = 0; i < n; i++)
    if (strcmp(l[i].label, label) == 0) {
      assert_null(hit); /* one per connection */
      hit = &l[i];
    }
  return hit;
}

/* hkdf_expand_label is RFC 8446 §7.1 HKDF-Expand-Label with an empty context. */
static void hkdf_expand_label(const EVP_MD *md, const uint8_t *secret, size_t secret_len, const char *label,
                              uint8_t *out, size_t out_len) {
  uint8_t info[64];
  size_t ll = 6 + strlen(label);
  info[0] = (uint8_t)(out_len >> 8);
  info[1] = (uint8_t)out_len;
  info[2] = (uint8_t)ll;
  memcpy(info + 3, "tls13 ", 6);
  memcpy(info + 9, label, strlen(label));
  info[3 + ll] = 0; /* empty context */
  assert_int_equal(HKDF_expand(out, out_len, md, secret, secret_len, info, 4 + ll), 1);
}

static void test_keylog_tls13_decrypts_capture(void **state) {
  fixture *f = *state;
  char cpath[160], spath[160];
  snprintf(cpath, sizeof cpath, "%s/keylog-client.txt", f->dir);
  snprintf(spath, sizeof spath, "%s/keylog-server.txt", f->dir);
  unlink(cpath);
  unlink(spath);
  /* Both contexts pick the file up from SSLKEYLOGFILE, as a user would. */
  assert_int_equal(setenv("SSLKEYLOGFILE", spath, 1), 0);
  h2_tls_ctx *sc = own_server(f);
  assert_int_equal(setenv("SSLKEYLOGFILE", cpath, 1), 0);
  h2_tls_ctx *cc = client(f->own_ca, NULL, NULL, H2_TLS_VERSION_1_3);
  unsetenv("SSLKEYLOGFILE");
  static const char *const suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                       "TLS_CHACHA20_POLY1305_SHA256"};
  h2_tls_conn *c = h2_tls_conn_new(cc, "localhost"), *s = h2_tls_conn_new(sc, NULL);
  int rc_c, rc_s;
  tu_handshake(c, s, &rc_c, &rc_s);
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  assert_int_equal(tu_settle(c, s, NULL), H2_ERR_WOULD_BLOCK);
  const char *cipher = h2_tls_conn_cipher(c);
  print_message("TLS 1.3 cipher %s\n", cipher);

  /* Capture one application record from the client ("the wire"). */
  static const char msg[] = "GET / over TLS 1.3, decrypted from the key log";
  assert_int_equal(h2_tls_conn_write(c, (const uint8_t *)msg, sizeof msg - 1), (int)(sizeof msg - 1));
  size_t rec_len;
  const uint8_t *rec = h2_tls_conn_out_peek(c, &rec_len);
  assert_non_null(rec);
  uint8_t wire[1024];
  assert_true(rec_len <= sizeof wire && rec_len > 5);
  memcpy(wire, rec, rec_len);
  assert_int_equal(wire[0], 0x17); /* opaque_type application_data */
  assert_int_equal((size_t)((wire[3] << 8) | wire[4]), rec_len - 5); /* exactly one record */
  uint8_t got[128];
  tu_move(c, s, SIZE_MAX);
  assert_int_equal(h2_tls_conn_read(s, got, sizeof got), (int)(sizeof msg - 1));

  uint8_t client_random[32];
  assert_int_equal(SSL_get_client_random(h2_tls_conn_ssl(c), client_random, 32), 32);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);

  keylog_line cl[16], sl[16];
  size_t nc = read_keylog(cpath, cl, 16), ns = read_keylog(spath, sl, 16);
  assert_true(nc >= 4);
  assert_int_equal(nc, ns);
  static const char *const labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                       "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};
  int sha384 = strcmp(cipher, suites[1]) == 0;
  for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
    const keylog_line *a = find_line(cl, nc, labels[i]), *b = find_line(sl, ns, labels[i]);
    assert_non_null(a);
    assert_non_null(b);
    /* The connection's client random; the secret as long as the hash. */
    assert_memory_equal(a->random, client_random, 32);
    assert_int_equal(a->secret_len, sha384 ? 48 : 32);
    /* Both ends log the same secret. */
    assert_memory_equal(b->random, a->random, 32);
    assert_int_equal(b->secret_len, a->secret_len);
    assert_memory_equal(b->secret, a->secret, a->secret_len);
  }
  for (size_t i = 0; i < nc; i++) assert_memory_equal(cl[i].random, client_random, 32);

  /* Decrypt the captured record with keys derived from the logged secret. */
  const EVP_AEAD *aead;
  const EVP_MD *md = EVP_sha256();
  if (strcmp(cipher, suites[0]) == 0) {
    aead = EVP_aead_aes_128_gcm();
  } else if (sha384) {
    aead = EVP_aead_aes_256_gcm();
    md = EVP_sha384();
  } else {
    assert_string_equal(cipher, suites[2]);
    aead = EVP_aead_chacha20_poly1305();
  }
  const keylog_line *ts = find_line(cl, nc, "CLIENT_TRAFFIC_SECRET_0");
  uint8_t key[32], iv[12];
  size_t key_len = EVP_AEAD_key_length(aead);
  hkdf_expand_label(md, ts->secret, ts->secret_len, "key", key, key_len);
  hkdf_expand_label(md, ts->secret, ts->secret_len, "iv", iv, sizeof iv);
  EVP_AEAD_CTX actx;
  assert_int_equal(EVP_AEAD_CTX_init(&actx, aead, key, key_len, EVP_AEAD_DEFAULT_TAG_LENGTH, NULL), 1);
  uint8_t plain[1024];
  size_t plain_len = 0;
  /* Sequence number 0 (the first record under this key): nonce = iv; the
   * additional data is the record header. */
  assert_int_equal(EVP_AEAD_CTX_open(&actx, plain, &plain_len, sizeof plain, iv, sizeof iv, wire + 5,
                                     rec_len - 5, wire, 5),
                   1);
  EVP_AEAD_CTX_cleanup(&actx);
  /* TLSInnerPlaintext: content, content type 23, zero padding. */
  while (plain_len > 0 && plain[plain_len - 1] == 0) plain_len--;
  assert_int_equal(plain_len, sizeof msg);
  assert_int_equal(plain[plain_len - 1], 0x17);
  assert_memory_equal(plain, msg, sizeof msg - 1);
  /* A wrong secret (the server's) must not decrypt it: the check can fail. */
  const keylog_line *other = find_line(cl, nc, "SERVER_TRAFFIC_SECRET_0");
  hkdf_expand_label(md, other->secret, other->secret_len, "key", key, key_len);
  hkdf_expand_label(md, other->secret, other->secret_len, "iv", iv, sizeof iv);
  assert_int_equal(EVP_AEAD_CTX_init(&actx, aead, key, key_len, EVP_AEAD_DEFAULT_TAG_LENGTH, NULL), 1);
  assert_int_equal(EVP_AEAD_CTX_open(&actx, plain, &plain_len, sizeof plain, iv, sizeof iv, wire + 5,
                                     rec_len - 5, wire, 5),
                   0);
  EVP_AEAD_CTX_cleanup(&actx);
  ERR_clear_error();
  unlink(cpath);
  unlink(spath);
}

static void test_keylog_tls12_master_secret(void **state) {
  fixture *f = *state;
  char path[160];
  snprintf(path, sizeof path, "%s/keylog12.txt", f->dir);
  unlink(path);
  assert_int_equal(setenv("SSLKEYLOGFILE", path, 1), 0);
  h2_tls_ctx *cc = client(f->srv_ca, NULL, NULL, H2_TLS_VERSION_1_2);
  unsetenv("SSLKEYLOGFILE");
  uint8_t randoms[2][32], masters[2][48];
  for (int i = 0; i < 2; i++) { /* two connections: two lines, in order */
    h2_tls_ctx_set_session_cache(cc, 0);
    h2_tls_conn *c = h2_tls_conn_new(cc, "localhost"), *s = h2_tls_conn_new(f->srv, NULL);
    int rc_c, rc_s;
    tu_handshake(c, s, &rc_c, &rc_s);
    assert_int_equal(rc_c, 1);
    assert_int_equal(rc_s, 1);
    assert_string_equal(h2_tls_conn_version(c), "TLSv1.2");
    assert_int_equal(SSL_get_client_random(h2_tls_conn_ssl(c), randoms[i], 32), 32);
    assert_int_equal(SSL_SESSION_get_master_key(SSL_get_session(h2_tls_conn_ssl(c)), masters[i], 48), 48);
    h2_tls_conn_free(c);
    h2_tls_conn_free(s);
  }
  h2_tls_ctx_free(cc);
  keylog_line l[4];
  assert_int_equal(read_keylog(path, l, 4), 2);
  for (int i = 0; i < 2; i++) {
    assert_string_equal(l[i].label, "CLIENT_RANDOM");
    assert_memory_equal(l[i].random, randoms[i], 32);
    assert_int_equal(l[i].secret_len, 48);
    assert_memory_equal(l[i].secret, masters[i], 48);
  }
  assert_memory_not_equal(masters[0], masters[1], 48);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_auth_config_errors),
      cmocka_unit_test(test_client_auth_required_tls13),
      cmocka_unit_test(test_client_auth_required_tls12),
      cmocka_unit_test(test_client_auth_optional_sni_resumption),
      cmocka_unit_test(test_keylog_tls13_decrypts_capture),
      cmocka_unit_test(test_keylog_tls12_master_secret),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
