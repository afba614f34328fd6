/* test_tls_alloc.c: the tls/ layer under failing allocations.
 *
 * tls/ allocates only through BoringSSL's OPENSSL_malloc family, and
 * BoringSSL routes every one of its own allocations through the
 * OPENSSL_memory_alloc / _free / _get_size hooks when a program defines them
 * (libcrypto declares them weak). This binary defines them: allocation
 * number K fails, for every K from 0 until a whole scenario runs without
 * reaching K. Each run must fail cleanly (NULL or a negative h2_err with a
 * message, never a crash), and once everything is freed, the bytes held
 * must be back to where they were (no leak on any failure path). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>

#include "h2_err.h"
#include "h2_tls.h"
#include "test_tls_util.h"

/* ---- the allocator hooks ---------------------------------------------------- */

static long alloc_count;    /* allocations attempted since the last reset */
static long fail_at = -1;   /* the allocation number that fails (-1: none) */
static long failures;       /* how many were failed */
static long live_blocks;    /* blocks held */
static size_t live_bytes;   /* bytes held */

#define HDR 16 /* keeps the caller's block 16-byte aligned */

void *OPENSSL_memory_alloc(size_t size);
void OPENSSL_memory_free(void *ptr);
size_t OPENSSL_memory_get_size(void *ptr);

void *OPENSSL_memory_alloc(size_t size) {
  if (fail_at >= 0 && alloc_count++ == fail_at) {
    failures++;
    return NULL;
  }
  if (size > SIZE_MAX - HDR) return NULL;
  uint8_t *p = malloc(size + HDR);
  if (p == NULL) return NULL;
  memcpy(p, &size, sizeof size);
  live_blocks++;
  live_bytes += size;
  return p + HDR;
}

void OPENSSL_memory_free(void *ptr) {
  if (ptr == NULL) return;
  uint8_t *p = (uint8_t *)ptr - HDR;
  size_t size;
  memcpy(&size, p, sizeof size);
  live_blocks--;
  live_bytes -= size;
  free(p);
}

size_t OPENSSL_memory_get_size(void *ptr) {
  size_t size;
  memcpy(&size, (uint8_t *)ptr - HDR, sizeof size);
  return size;
}

static void arm(long k) {
  alloc_count = 0;
  fail_at = k;
}

/* ---- scenarios ---------------------------------------------------------------- */

static char dir[64], ca_path[128], key_path[128];

/* setup_scenario: a server context with a self-signed certificate written
 * to files, a client context loading them. Returns 1 when all of it worked,
 * 0 when a step failed cleanly (everything freed). */
static int setup_scenario(void) {
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  h2_tls_ctx *cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  h2_tls_ctx *cc2 = NULL;
  int ok = 0;
  if (sc == NULL || cc == NULL) goto out;
  int rc = h2_tls_ctx_add_self_signed(sc, NULL);
  if (rc != 0) {
    assert_true(rc == H2_ERR_NOMEM || rc == H2_ERR_TLS);
    assert_true(h2_tls_ctx_errmsg(sc)[0] != '\0');
    goto out;
  }
  rc = h2_tls_ctx_write_cert_pem(sc, 0, ca_path, key_path, "pw");
  if (rc != 0) {
    assert_true(rc == H2_ERR_NOMEM || rc == H2_ERR_TLS || rc == H2_ERR_IO);
    goto out;
  }
  rc = h2_tls_ctx_load_ca_file(cc, ca_path);
  if (rc != 0) {
    assert_true(rc == H2_ERR_NOMEM || rc == H2_ERR_PARSE || rc == H2_ERR_TLS);
    goto out;
  }
  /* The written pair loads back (encrypted key) as a client certificate. */
  cc2 = h2_tls_ctx_new(H2_TLS_CLIENT);
  if (cc2 == NULL) goto out;
  rc = h2_tls_ctx_add_cert_files(cc2, ca_path, key_path, "pw");
  if (rc != 0) {
    assert_true(rc == H2_ERR_NOMEM || rc == H2_ERR_PARSE || rc == H2_ERR_TLS);
    assert_true(h2_tls_ctx_errmsg(cc2)[0] != '\0');
    goto out;
  }
  rc = h2_tls_ctx_set_client_auth(sc, H2_TLS_CLIENT_AUTH_OPTIONAL, ca_path);
  if (rc != 0) {
    assert_true(rc == H2_ERR_NOMEM || rc == H2_ERR_PARSE || rc == H2_ERR_TLS);
    goto out;
  }
  ok = 1;
out:
  h2_tls_ctx_free(cc2);
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);
  return ok;
}

static h2_tls_ctx *g_srv, *g_cli;

/* conn_scenario: connections on the ready contexts: handshake, data both
 * ways, close_notify. Returns 1 when all of it worked, 0 on a clean
 * failure. */
static int conn_scenario(uint16_t version) {
  h2_tls_conn *c = h2_tls_conn_new(g_cli, "localhost");
  h2_tls_conn *s = h2_tls_conn_new(g_srv, NULL);
  int ok = 0;
  if (c == NULL || s == NULL) {
    if (c == NULL) assert_true(h2_tls_ctx_errmsg(g_cli)[0] != '\0');
    if (s == NULL) assert_true(h2_tls_ctx_errmsg(g_srv)[0] != '\0');
    goto out;
  }
  int rc_c, rc_s;
  tu_handshake(c, s, &rc_c, &rc_s);
  if (rc_c != 1 || rc_s != 1) {
    /* A failed side says so; a side still waiting was cut off by the other. */
    assert_true(rc_c < 0 || rc_s < 0);
    if (rc_c < 0) assert_true(h2_tls_conn_errmsg(c)[0] != '\0');
    if (rc_s < 0) assert_true(h2_tls_conn_errmsg(s)[0] != '\0');
    goto out;
  }
  assert_string_equal(h2_tls_conn_version(c), version == H2_TLS_VERSION_1_3 ? "TLSv1.3" : "TLSv1.2");
  static const uint8_t msg[3000] = {1, 2, 3};
  uint8_t buf[4096];
  for (int dirn = 0; dirn < 2; dirn++) {
    h2_tls_conn *from = dirn ? s : c, *to = dirn ? c : s;
    int w = h2_tls_conn_write(from, msg, sizeof msg);
    if (w < 0) {
      assert_int_equal(w, H2_ERR_TLS);
      goto out;
    }
    tu_move(from, to, SIZE_MAX);
    size_t got = 0;
    for (int i = 0; i < 10 && got < (size_t)w; i++) {
      int r = h2_tls_conn_read(to, buf, sizeof buf);
      if (r == H2_ERR_WOULD_BLOCK) break;
      if (r < 0) {
        assert_true(h2_tls_conn_errmsg(to)[0] != '\0');
        goto out;
      }
      got += (size_t)r;
    }
    if (got != (size_t)w) goto out; /* tickets or data lost to a failure */
  }
  if (h2_tls_conn_close(c) != 0) goto out;
  tu_move(c, s, SIZE_MAX);
  int r = h2_tls_conn_read(s, buf, sizeof buf);
  if (r != H2_ERR_EOF) goto out;
  ok = 1;
out:
  h2_tls_conn_free(c);
  h2_tls_conn_free(s);
  return ok;
}

/* next_point: one by one below |dense|, then every |stride|-th, then the
 * last allocation and the ones after it (the run that reaches none). */
static long next_point(long k, long dense, long stride, long points) {
  if (k + 1 < dense || k + 1 >= points - 1) return k + 1;
  return k + stride < points - 1 ? k + stride : points - 1;
}

/* sweep runs |scenario| with allocation K failing for K = 0, 1, ... until a
 * run completes without reaching K. Checks the bytes held after each run. */
static void sweep(const char *name, int (*scenario)(void *), void *arg, long dense, long samples) {
  ERR_clear_error();
  arm(-1);
  size_t base_bytes = live_bytes;
  long base_blocks = live_blocks;
  arm(LONG_MAX); /* count the allocation points first */
  assert_int_equal(scenario(arg), 1);
  long points = alloc_count;
  arm(-1);
  print_message("%s: %ld allocations in a full run\n", name, points);
  /* Allocations 0..dense-1 fail one by one; after that, |samples| evenly
   * spread ones (a client context alone loads the system CA bundle: tens of
   * thousands of allocations, all alike), and the last one. */
  long stride = points > dense ? (points - dense) / samples + 1 : 1;
  long k, runs = 0, clean_failures = 0;
  int completed = 0;
  for (k = 0; k <= points + 100; k = next_point(k, dense, stride, points)) {
    runs++;
    arm(k);
    long before = failures;
    int ok = scenario(arg);
    arm(-1);
    ERR_clear_error();
    if (live_bytes != base_bytes || live_blocks != base_blocks)
      fail_msg("%s: allocation %ld failing leaks %ld blocks / %zd bytes", name, k, live_blocks - base_blocks,
               (ssize_t)(live_bytes - base_bytes));
    if (failures == before) { /* K was never reached: the full run worked */
      assert_int_equal(ok, 1);
      completed = 1;
      break;
    }
    if (!ok) clean_failures++;
  }
  print_message("%s: %ld runs (allocation points 0..%ld one by one, then every %ld-th of %ld): "
                "%ld failed cleanly, the rest recovered\n",
                name, runs, dense < points ? dense - 1 : points - 1, stride, points, clean_failures);
  assert_true(completed);
  assert_true(clean_failures > 0);
}

static int run_setup(void *arg) {
  (void)arg;
  return setup_scenario();
}

static int run_conn(void *arg) { return conn_scenario((uint16_t)(uintptr_t)arg); }

static void test_contexts_and_certificates(void **state) {
  (void)state;
  assert_int_equal(setup_scenario(), 1); /* warm BoringSSL's lazy globals up */
  sweep("contexts, self-signed certificate, PEM files, client auth", run_setup, NULL, 400, 200);
}

static void prepare(uint16_t version) {
  g_srv = h2_tls_ctx_new(H2_TLS_SERVER);
  g_cli = h2_tls_ctx_new(H2_TLS_CLIENT);
  assert_non_null(g_srv);
  assert_non_null(g_cli);
  assert_int_equal(h2_tls_ctx_add_self_signed(g_srv, NULL), 0);
  assert_int_equal(h2_tls_ctx_write_cert_pem(g_srv, 0, ca_path, NULL, NULL), 0);
  assert_int_equal(h2_tls_ctx_load_ca_file(g_cli, ca_path), 0);
  assert_int_equal(h2_tls_ctx_set_versions(g_cli, version, version), 0);
  /* No session cache: every run is a full handshake, and no state carries
   * over from one run to the next. */
  assert_int_equal(h2_tls_ctx_set_session_cache(g_cli, 0), 0);
  assert_int_equal(conn_scenario(version), 1);
}

static void test_connections_tls13(void **state) {
  (void)state;
  prepare(H2_TLS_VERSION_1_3);
  sweep("TLS 1.3 connection: handshake, data both ways, close", run_conn, (void *)(uintptr_t)H2_TLS_VERSION_1_3,
        LONG_MAX, 1);
  h2_tls_ctx_free(g_cli);
  h2_tls_ctx_free(g_srv);
}

static void test_connections_tls12(void **state) {
  (void)state;
  prepare(H2_TLS_VERSION_1_2);
  sweep("TLS 1.2 connection: handshake, data both ways, close", run_conn, (void *)(uintptr_t)H2_TLS_VERSION_1_2,
        LONG_MAX, 1);
  h2_tls_ctx_free(g_cli);
  h2_tls_ctx_free(g_srv);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/h2tlsallocXXXXXX");
  if (mkdtemp(dir) == NULL) return 1;
  snprintf(ca_path, sizeof ca_path, "%s/cert.pem", dir);
  snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_contexts_and_certificates),
      cmocka_unit_test(test_connections_tls13),
      cmocka_unit_test(test_connections_tls12),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  unlink(ca_path);
  unlink(key_path);
  rmdir(dir);
  return rc;
}
