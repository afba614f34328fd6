/* test_tls_pkcs12.c: h2_tls_ctx_add_pkcs12_file (Node's pfx). The files
 * are made by the openssl program (a CA, a leaf it signed for p12.test, and
 * PKCS#12 bundles with and without a password, without a key, with the CA
 * before the leaf); a server context loaded from them completes a verified
 * handshake in memory and sends the CA as the chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "h2_err.h"
#include "h2_tls.h"
#include "test_tls_util.h"

static char dir[] = "/tmp/h2p12.XXXXXX";
static char path_buf[8][256];

static const char *at(int slot, const char *name) {
  snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, name);
  return path_buf[slot];
}

static int sh(const char *cmd) {
  char full[2048];
  snprintf(full, sizeof full, "cd %s && (%s) > log 2>&1", dir, cmd);
  int rc = system(full);
  if (rc != 0) print_message("command failed (%d): %s\n", rc, cmd);
  return rc;
}

static int setup(void **state) {
  (void)state;
  if (!mkdtemp(dir)) return -1;
  const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "openssl req -x509 %s -days 2 -subj /CN=h2-test-ca -keyout ca.key -out ca.pem", ec);
  if (sh(cmd)) return -1;
  snprintf(cmd, sizeof cmd, "openssl req %s -subj /CN=p12.test -keyout leaf.key -out leaf.csr", ec);
  if (sh(cmd)) return -1;
  if (sh("printf 'subjectAltName=DNS:p12.test\\n' > ext && "
         "openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
         "-extfile ext -out leaf.pem"))
    return -1;
  if (sh("openssl pkcs12 -export -in leaf.pem -inkey leaf.key -certfile ca.pem "
         "-passout pass:s3cret -out good.p12"))
    return -1;
  if (sh("openssl pkcs12 -export -in leaf.pem -inkey leaf.key -passout pass: -out nopass.p12"))
    return -1;
  if (sh("openssl pkcs12 -export -nokeys -in leaf.pem -passout pass:s3cret -out nokey.p12"))
    return -1;
  /* the CA first in the file: the leaf is found by its key, not by order */
  if (sh("cat ca.pem leaf.pem > cafirst.pem && openssl pkcs12 -export -in cafirst.pem "
         "-inkey leaf.key -passout pass:s3cret -out cafirst.p12"))
    return -1;
  /* a key and no certificate at all */
  if (sh("openssl pkcs12 -export -nocerts -inkey leaf.key -passout pass:s3cret -out keyonly.p12"))
    return -1;
  /* a key that belongs to none of the certificates (openssl may refuse) */
  if (sh("openssl pkcs12 -export -in ca.pem -inkey leaf.key -passout pass:s3cret "
         "-out mismatch.p12 2>/dev/null || true"))
    return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* handshake: a client trusting only ca.pem connects to |sc| as p12.test;
 * returns the number of certificates the server sent. */
static int handshake_chain_len(h2_tls_ctx *sc) {
  h2_tls_ctx *cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  assert_non_null(cc);
  assert_int_equal(h2_tls_ctx_load_ca_file(cc, at(7, "ca.pem")), 0);
  h2_tls_conn *c = h2_tls_conn_new(cc, "p12.test"), *s = h2_tls_conn_new(sc, NULL);
  assert_non_null(c);
  assert_non_null(s);
  int rc_c, rc_s;
  tu_handshake(c, s, &rc_c, &rc_s);
  if (rc_c != 1) print_message("client: %s\n", h2_tls_conn_errmsg(c));
  assert_int_equal(rc_c, 1);
  assert_int_equal(rc_s, 1);
  STACK_OF(X509) *chain = SSL_get_peer_cert_chain(h2_tls_conn_ssl(c));
  int n = chain ? (int)sk_X509_num(chain) : 0;
  X509 *leaf = SSL_get_peer_certificate(h2_tls_conn_ssl(c));
  assert_non_null(leaf);
  assert_int_equal(X509_check_host(leaf, "p12.test", 8, 0, NULL), 1);
  X509_free(leaf);
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  h2_tls_ctx_free(cc);
  return n;
}

static void test_load_and_handshake(void **state) {
  (void)state;
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(sc);
  assert_int_equal(h2_tls_ctx_add_pkcs12_file(sc, at(0, "good.p12"), "s3cret"), 0);
  assert_int_equal(h2_tls_ctx_num_certs(sc), 1);
  assert_int_equal(handshake_chain_len(sc), 2); /* leaf + the CA from the bundle */
  h2_tls_ctx_free(sc);

  sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_int_equal(h2_tls_ctx_add_pkcs12_file(sc, at(0, "nopass.p12"), NULL), 0);
  assert_int_equal(handshake_chain_len(sc), 1);
  h2_tls_ctx_free(sc);

  sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_int_equal(h2_tls_ctx_add_pkcs12_file(sc, at(0, "cafirst.p12"), "s3cret"), 0);
  assert_int_equal(handshake_chain_len(sc), 2);
  h2_tls_ctx_free(sc);
}

static void expect_fail(const char *file, const char *password, int want, const char *msg) {
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(sc);
  assert_int_equal(h2_tls_ctx_add_pkcs12_file(sc, file, password), want);
  const char *m = h2_tls_ctx_errmsg(sc);
  if (!strstr(m, msg)) print_message("message: '%s', wanted '%s'\n", m, msg);
  assert_non_null(strstr(m, msg));
  assert_int_equal(h2_tls_ctx_num_certs(sc), 0);
  h2_tls_ctx_free(sc);
}

static void test_errors(void **state) {
  (void)state;
  expect_fail(at(0, "good.p12"), "wrong", H2_ERR_PARSE, "password is wrong");
  expect_fail(at(0, "good.p12"), NULL, H2_ERR_PARSE, "password is missing");
  expect_fail(at(0, "nokey.p12"), "s3cret", H2_ERR_PARSE, "no private key");
  expect_fail(at(0, "ca.pem"), NULL, H2_ERR_PARSE, "not PKCS#12");
  expect_fail(at(0, "missing.p12"), NULL, H2_ERR_NOT_FOUND, "missing.p12");
  expect_fail(at(0, "keyonly.p12"), "s3cret", H2_ERR_PARSE, "no certificate for its private key");
  if (access(at(1, "mismatch.p12"), R_OK) == 0) /* openssl may refuse to write it */
    expect_fail(at(1, "mismatch.p12"), "s3cret", H2_ERR_PARSE, "no certificate for its private key");
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_int_equal(h2_tls_ctx_add_pkcs12_file(sc, NULL, NULL), H2_ERR_INVALID_ARG);
  h2_tls_ctx_free(sc);
  /* a file over the 1 MiB cap */
  assert_int_equal(sh("head -c 1048577 /dev/zero > big.p12"), 0);
  expect_fail(at(2, "big.p12"), NULL, H2_ERR_LIMIT, "larger than 1 MiB");
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_load_and_handshake),
    cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
