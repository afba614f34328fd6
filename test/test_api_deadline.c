/* test_api_deadline.c: h2_options.handshake_timeout_ms and
 * headers_timeout_ms on a real h2_server over 127.0.0.1 (raw client
 * sockets, no idle timeout): a TLS client that never starts its handshake,
 * an h2c client that sends half the preface, and one that leaves a header
 * block open are each closed once the limit passes (not before), with the
 * error reported to the application; H2_TIMEOUT_NONE keeps them open. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "h2.h"
#include "api_loops.h"
#include "h2_loop.h"
#include "h2_tls.h"

#define LIMIT_MS 200

typedef struct ctx {
  int srv_errors, srv_err; /* on_session_error */
  char srv_msg[128];
  int errors, err; /* the session's on_error */
  char msg[160];
  int closes;
} ctx;

static void on_session_error(h2_server *srv, int err, const char *msg, void *user) {
  (void)srv;
  ctx *c = user;
  c->srv_errors++;
  c->srv_err = err;
  snprintf(c->srv_msg, sizeof c->srv_msg, "%s", msg);
}

static void on_error(h2_session *s, int err, const char *msg, void *user) {
  (void)s;
  ctx *c = user;
  c->errors++;
  c->err = err;
  snprintf(c->msg, sizeof c->msg, "%s", msg);
}

static void on_close(h2_session *s, void *user) {
  (void)s;
  ((ctx *)user)->closes++;
}

static h2_server *new_server(h2_loop **loop, ctx *c, uint32_t handshake_ms, uint32_t headers_ms) {
  assert_int_equal(h2_loop_new(loop, NULL), 0);
  memset(c, 0, sizeof *c);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.on_session_error = on_session_error;
  cbs.session.on_error = on_error;
  cbs.session.on_close = on_close;
  h2_options o;
  h2_options_default(&o);
  o.handshake_timeout_ms = handshake_ms;
  o.headers_timeout_ms = headers_ms;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, *loop, &o, &cbs, c), 0);
  return srv;
}

static void free_server(h2_server *srv, h2_loop *loop) {
  h2_server_free(srv);
  for (int i = 0; i < 50 && h2_loop_alive(loop); i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  h2_loop_free(loop);
}

static int connect_client(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

/* Runs |loop| and reads |fd| (into |buf|, at most |cap|) until the server
 * closes it or |max_ms| pass. Returns the ms until EOF, or -1 if none. */
static int64_t run_until_eof(h2_loop *loop, int fd, uint8_t *buf, size_t cap, size_t *got, int max_ms) {
  uint64_t t0 = api_mono_ms();
  *got = 0;
  while (api_mono_ms() - t0 < (uint64_t)max_ms) {
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    uint8_t tmp[512];
    ssize_t n = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return (int64_t)(api_mono_ms() - t0);
    if (n > 0) {
      size_t k = (size_t)n < cap - *got ? (size_t)n : cap - *got;
      memcpy(buf + *got, tmp, k);
      *got += k;
    }
    usleep(2000);
  }
  return -1;
}

/* The GOAWAY error code among the frames in |p|, or -1 if none. */
static int64_t goaway_code(const uint8_t *p, size_t n) {
  size_t at = 0;
  while (at + 9 <= n) {
    size_t len = ((size_t)p[at] << 16) | ((size_t)p[at + 1] << 8) | p[at + 2];
    if (at + 9 + len > n) break;
    if (p[at + 3] == 0x7 && len >= 8) {
      const uint8_t *c = p + at + 9 + 4;
      return ((int64_t)c[0] << 24) | (c[1] << 16) | (c[2] << 8) | c[3];
    }
    at += 9 + len;
  }
  return -1;
}

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* A TLS client that connects and sends nothing: closed after the limit
 * (the idle timeout is off), reported as a handshake timeout. */
static void test_tls_silent_client(void **state) {
  (void)state;
  h2_loop *loop;
  ctx c;
  h2_server *srv = new_server(&loop, &c, LIMIT_MS, 0);
  h2_tls_ctx *tls = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(tls);
  assert_int_equal(h2_tls_ctx_add_self_signed(tls, "localhost"), 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, tls);
  assert_true(li >= 0);
  int fd = connect_client(h2_server_port(srv, li));
  uint8_t buf[256];
  size_t got;
  int64_t ms = run_until_eof(loop, fd, buf, sizeof buf, &got, 5000);
  assert_true(ms >= LIMIT_MS - 20); /* the loop's clock is coarse by a few ms */
  assert_true(ms < 3000);
  assert_int_equal(got, 0);
  assert_int_equal(c.srv_errors, 1);
  assert_int_equal(c.srv_err, H2_ERR_TIMEOUT);
  assert_string_equal(c.srv_msg, "TLS handshake not completed in time");
  assert_int_equal(c.errors, 1);
  assert_int_equal(c.err, H2_ERR_TIMEOUT);
  for (int i = 0; i < 100 && c.closes < 1; i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  assert_int_equal(c.closes, 1);
  assert_int_equal(h2_server_num_sessions(srv), 0);
  close(fd);
  free_server(srv, loop);
  h2_tls_ctx_free(tls);
}

/* h2c: half the preface, then silence: our SETTINGS, no GOAWAY, EOF. */
static void test_h2c_half_preface(void **state) {
  (void)state;
  h2_loop *loop;
  ctx c;
  h2_server *srv = new_server(&loop, &c, LIMIT_MS, 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  int fd = connect_client(h2_server_port(srv, li));
  assert_int_equal(write(fd, PREFACE, 12), 12);
  uint8_t buf[1024];
  size_t got;
  int64_t ms = run_until_eof(loop, fd, buf, sizeof buf, &got, 5000);
  assert_true(ms >= LIMIT_MS - 20);
  assert_true(ms < 3000);
  assert_true(got >= 9);
  assert_int_equal(buf[3], 0x4); /* SETTINGS */
  assert_int_equal(goaway_code(buf, got), -1);
  assert_int_equal(c.errors, 1);
  assert_int_equal(c.err, H2_ERR_TIMEOUT);
  assert_string_equal(c.msg, "connection preface not received in time");
  assert_int_equal(c.srv_errors, 0);
  close(fd);
  free_server(srv, loop);
}

/* h2c: preface, SETTINGS, then a HEADERS frame without END_HEADERS:
 * GOAWAY ENHANCE_YOUR_CALM once the header limit passes. */
static void test_h2c_open_header_block(void **state) {
  (void)state;
  h2_loop *loop;
  ctx c;
  h2_server *srv = new_server(&loop, &c, 0, LIMIT_MS);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  int fd = connect_client(h2_server_port(srv, li));
  static const uint8_t frames[] = {0, 0, 0, 4, 0, 0, 0, 0, 0,          /* SETTINGS */
                                   0, 0, 1, 1, 0x1, 0, 0, 0, 1, 0x82}; /* HEADERS, END_STREAM only */
  assert_int_equal(write(fd, PREFACE, sizeof PREFACE - 1), (ssize_t)(sizeof PREFACE - 1));
  assert_int_equal(write(fd, frames, sizeof frames), (ssize_t)sizeof frames);
  uint8_t buf[1024];
  size_t got;
  int64_t ms = run_until_eof(loop, fd, buf, sizeof buf, &got, 5000);
  assert_true(ms >= LIMIT_MS - 20);
  assert_true(ms < 3000);
  assert_int_equal(goaway_code(buf, got), 0xb);
  assert_int_equal(c.errors, 1);
  assert_int_equal(c.err, H2_ERR_TIMEOUT);
  assert_string_equal(c.msg, "sent ENHANCE_YOUR_CALM: header block not completed in time");
  close(fd);
  free_server(srv, loop);
}

/* H2_TIMEOUT_NONE: the same two slow clients are still connected after
 * three times the limit. */
static void test_disabled(void **state) {
  (void)state;
  h2_loop *loop;
  ctx c;
  h2_server *srv = new_server(&loop, &c, H2_TIMEOUT_NONE, H2_TIMEOUT_NONE);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  int a = connect_client(h2_server_port(srv, li));
  int b = connect_client(h2_server_port(srv, li));
  static const uint8_t frames[] = {0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x1, 0, 0, 0, 1, 0x82};
  assert_int_equal(write(a, PREFACE, 12), 12);
  assert_int_equal(write(b, PREFACE, sizeof PREFACE - 1), (ssize_t)(sizeof PREFACE - 1));
  assert_int_equal(write(b, frames, sizeof frames), (ssize_t)sizeof frames);
  uint8_t buf[1024];
  size_t got;
  assert_int_equal(run_until_eof(loop, a, buf, sizeof buf, &got, 3 * LIMIT_MS), -1);
  assert_int_equal(run_until_eof(loop, b, buf, sizeof buf, &got, 10), -1);
  assert_int_equal(h2_server_num_sessions(srv), 2);
  assert_int_equal(c.errors, 0);
  close(a);
  close(b);
  free_server(srv, loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tls_silent_client),
      cmocka_unit_test(test_h2c_half_preface),
      cmocka_unit_test(test_h2c_open_header_block),
      cmocka_unit_test(test_disabled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
