/* test_loop_tcp.c: the TCP helpers of the event loop: address parsing and
 * formatting, listening on 127.0.0.1:0 and [::1]:0, batched accept,
 * SO_REUSEPORT, connect (success, refused, timeout, cancel), read/writev
 * errors, and the output queue (coalescing counted in syscalls, partial
 * writes, references). Sockets: loopback only, port 0; every loop bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "h2_loop_tcp.h"

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  assert_true(fl >= 0);
  assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

typedef struct watchdog {
  h2_loop_timer t;
  h2_loop *loop;
  int fired;
} watchdog;

static void watchdog_cb(h2_loop_timer *t, void *user) {
  (void)t;
  watchdog *w = user;
  w->fired = 1;
  h2_loop_stop(w->loop);
}

static void watchdog_start(watchdog *w, h2_loop *loop, uint64_t ms) {
  w->loop = loop;
  w->fired = 0;
  h2_loop_timer_init(loop, &w->t, watchdog_cb, w);
  assert_int_equal(h2_loop_timer_start(&w->t, ms, 0), 0);
  h2_loop_timer_unref(&w->t);
}

/* ---- addresses ----------------------------------------------------------- */

typedef struct addr_case {
  int line;
  const char *in;
  int ok;
  int family;
  const char *formatted;
} addr_case;

static const addr_case addr_cases[] = {
    {__LINE__, "127.0.0.1:80", 1, AF_INET, "127.0.0.1:80"},
    {__LINE__, "0.0.0.0:65535", 1, AF_INET, "0.0.0.0:65535"},
    {__LINE__, "*:8080", 1, AF_INET, "0.0.0.0:8080"},
    {__LINE__, "[::1]:443", 1, AF_INET6, "[::1]:443"},
    {__LINE__, "[::]:0", 1, AF_INET6, "[::]:0"},
    {__LINE__, "[2001:db8::42]:8443", 1, AF_INET6, "[2001:db8::42]:8443"},
    {__LINE__, "[::ffff:127.0.0.1]:1", 1, AF_INET6, "[::ffff:127.0.0.1]:1"},
    {__LINE__, "", 0, 0, NULL},
    {__LINE__, "127.0.0.1", 0, 0, NULL},
    {__LINE__, "127.0.0.1:", 0, 0, NULL},
    {__LINE__, ":80", 0, 0, NULL},
    {__LINE__, "127.0.0.1:65536", 0, 0, NULL},
    {__LINE__, "127.0.0.1:-1", 0, 0, NULL},
    {__LINE__, "127.0.0.1:8a", 0, 0, NULL},
    {__LINE__, "127.0.0.1:000080", 0, 0, NULL},
    {__LINE__, "999.1.1.1:80", 0, 0, NULL},
    {__LINE__, "1.2.3:80", 0, 0, NULL},
    {__LINE__, "::1:80", 0, 0, NULL},
    {__LINE__, "[::1]80", 0, 0, NULL},
    {__LINE__, "[::1]", 0, 0, NULL},
    {__LINE__, "[::1]:", 0, 0, NULL},
    {__LINE__, "[]:80", 0, 0, NULL},
    {__LINE__, "[127.0.0.1]:80", 0, 0, NULL},
    {__LINE__, "[::1:80", 0, 0, NULL},
    {__LINE__, "localhost:80", 0, 0, NULL}, /* names need h2_loop_addr_resolve */
};

static void test_addr_parse_and_format(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
    const addr_case *c = &addr_cases[i];
    h2_loop_addr a;
    int rc = h2_loop_addr_parse(&a, c->in);
    if (!c->ok) {
      if (rc != H2_ERR_PARSE) fail_msg("line %d: \"%s\" parsed (rc %d)", c->line, c->in, rc);
      continue;
    }
    if (rc != 0) fail_msg("line %d: \"%s\" failed: %d", c->line, c->in, rc);
    if (a.ss.ss_family != c->family) fail_msg("line %d: family", c->line);
    char buf[64];
    int n = h2_loop_addr_format(buf, sizeof(buf), &a);
    if (n < 0 || strcmp(buf, c->formatted) != 0 || (size_t)n != strlen(buf)) {
      fail_msg("line %d: formatted \"%s\", want \"%s\"", c->line, buf, c->formatted);
    }
  }
  h2_loop_addr a;
  assert_int_equal(h2_loop_addr_parse(&a, "[::1]:443"), 0);
  assert_int_equal(h2_loop_addr_port(&a), 443);
  h2_loop_addr_set_port(&a, 8443);
  assert_int_equal(h2_loop_addr_port(&a), 8443);
  char small[8];
  assert_int_equal(h2_loop_addr_format(small, sizeof(small), &a), H2_ERR_BUF_TOO_SMALL);
  /* Names resolve (blocking) only through h2_loop_addr_resolve. */
  assert_int_equal(h2_loop_addr_resolve(&a, "localhost:8080"), 0);
  assert_true(a.ss.ss_family == AF_INET || a.ss.ss_family == AF_INET6);
  assert_int_equal(h2_loop_addr_port(&a), 8080);
  assert_int_equal(h2_loop_addr_resolve(&a, "127.0.0.1:9"), 0);
  assert_int_equal(h2_loop_addr_resolve(&a, "bad host:1"), H2_ERR_NOT_FOUND);
  assert_int_equal(h2_loop_addr_resolve(&a, "nocolon"), H2_ERR_PARSE);
}

/* ---- listen, accept, connect --------------------------------------------- */

enum { MAX_CONN = 32, BATCH = 8 };

typedef struct server {
  h2_loop *loop;
  h2_loop_io *lio;
  int want;
  int accepted, connected, connect_errors;
  int accept_calls, max_batch, multi_batches;
  int afds[MAX_CONN], cfds[MAX_CONN];
  h2_loop_addr peers[MAX_CONN];
  int bad_flags;
  int sync_cb; /* a connect callback ran inside h2_loop_tcp_connect */
  int in_connect;
} server;

static void maybe_done(server *s) {
  if (s->accepted == s->want && s->connected + s->connect_errors == s->want && s->lio != NULL) {
    h2_loop_io_close(s->lio, NULL);
    s->lio = NULL;
  }
}

static void on_accept(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)io;
  (void)events;
  server *s = user;
  int room = MAX_CONN - s->accepted;
  if (room > BATCH) room = BATCH;
  int n = h2_loop_tcp_accept(fd, &s->afds[s->accepted], &s->peers[s->accepted], (size_t)room);
  if (n < 0) fail_msg("accept: %s", strerror(errno));
  s->accept_calls++;
  if (n > s->max_batch) s->max_batch = n;
  if (n > 1) s->multi_batches++;
  for (int i = 0; i < n; i++) {
    int afd = s->afds[s->accepted + i];
    if (!(fcntl(afd, F_GETFL) & O_NONBLOCK) || !(fcntl(afd, F_GETFD) & FD_CLOEXEC)) s->bad_flags++;
  }
  s->accepted += n;
  maybe_done(s);
}

static void on_connect(h2_loop_connect *c, int fd, int status, void *user) {
  (void)c;
  server *s = user;
  if (s->in_connect) s->sync_cb++;
  if (status != 0) {
    s->connect_errors++;
  } else {
    s->cfds[s->connected++] = fd;
  }
  maybe_done(s);
}

/* run_server listens on |spec|, connects |n| clients through the loop and
 * accepts them in batches of at most BATCH. Returns 0, or the listen error
 * (errno set) when the address family is unavailable. */
static int run_server(const char *spec, int n, server *s) {
  memset(s, 0, sizeof(*s));
  h2_loop_addr a;
  assert_int_equal(h2_loop_addr_parse(&a, spec), 0);
  int lfd;
  int rc = h2_loop_tcp_listen(&lfd, &a, 64, 0);
  if (rc != 0) return rc;
  assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
  assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
  int reuse = 0;
  socklen_t reuse_len = sizeof reuse;
  assert_int_equal(getsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &reuse, &reuse_len), 0);
  assert_true(reuse != 0); /* a restarted server can bind its port again at once */
  h2_loop_addr bound;
  assert_int_equal(h2_loop_tcp_local_addr(lfd, &bound), 0);
  assert_int_not_equal(h2_loop_addr_port(&bound), 0);
  assert_int_equal(bound.ss.ss_family, a.ss.ss_family);
  /* nothing pending: accept returns 0 */
  int tmp;
  assert_int_equal(h2_loop_tcp_accept(lfd, &tmp, NULL, 1), 0);

  assert_int_equal(h2_loop_new(&s->loop, NULL), 0);
  s->want = n;
  assert_int_equal(h2_loop_io_new(s->loop, &s->lio, lfd, H2_LOOP_IO_OWN_FD, on_accept, s), 0);
  assert_int_equal(h2_loop_io_set(s->lio, H2_LOOP_READ), 0);
  for (int i = 0; i < n; i++) {
    s->in_connect = 1;
    assert_int_equal(h2_loop_tcp_connect(s->loop, NULL, &bound, 5000, on_connect, s), 0);
    s->in_connect = 0;
  }
  watchdog w;
  watchdog_start(&w, s->loop, 20000);
  assert_int_equal(h2_loop_run(s->loop, H2_LOOP_RUN_DEFAULT), 0);
  assert_int_equal(w.fired, 0);
  h2_loop_timer_stop(&w.t);
  assert_int_equal(s->sync_cb, 0);
  assert_int_equal(s->connect_errors, 0);
  assert_int_equal(s->connected, n);
  assert_int_equal(s->accepted, n);
  assert_int_equal(s->bad_flags, 0);
  assert_true(s->max_batch <= BATCH);
  for (int i = 0; i < n; i++) assert_int_equal(s->peers[i].ss.ss_family, a.ss.ss_family);

  /* One byte each way on every connection, through the helpers. */
  for (int i = 0; i < n; i++) {
    struct iovec iov[2] = {{(void *)"h", 1}, {(void *)"i", 1}};
    assert_int_equal(h2_loop_tcp_writev(s->cfds[i], iov, 2), 2);
  }
  for (int i = 0; i < n; i++) {
    char buf[4];
    int got = 0;
    double t0 = mono_s();
    while (got < 2 && mono_s() - t0 < 5.0) {
      int r = h2_loop_tcp_read(s->afds[i], buf + got, sizeof(buf) - (size_t)got);
      if (r == H2_ERR_WOULD_BLOCK) {
        usleep(1000);
        continue;
      }
      assert_true(r > 0);
      got += r;
    }
    assert_int_equal(got, 2);
    assert_memory_equal(buf, "hi", 2);
    int nodelay = 0;
    socklen_t len = sizeof(nodelay);
    assert_int_equal(getsockopt(s->cfds[i], IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
    assert_true(nodelay != 0); /* the connect helper turns it on */
    close(s->afds[i]);
    close(s->cfds[i]);
  }
  h2_loop_free(s->loop);
  return 0;
}

static void test_listen_accept_ipv4(void **state) {
  (void)state;
  server s;
  assert_int_equal(run_server("127.0.0.1:0", 20, &s), 0);
  /* 20 connects were queued before the listener ran: accepted in batches. */
  assert_int_equal(s.max_batch, BATCH);
  assert_true(s.multi_batches >= 2);
  assert_true(s.accept_calls >= 3);
}

static void test_listen_accept_ipv6(void **state) {
  (void)state;
  server s;
  int rc = run_server("[::1]:0", 5, &s);
  if (rc != 0) {
    if (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL || errno == EPROTONOSUPPORT) {
      printf("# IPv6 unavailable here ([::1]: %s): test skipped\n", strerror(errno));
      skip();
    }
    fail_msg("listen [::1]:0: %s", strerror(errno));
  }
  printf("# IPv6 [::1] available: listen/accept/connect ok\n");
}

static void test_reuseport(void **state) {
  (void)state;
  h2_loop_addr a;
  assert_int_equal(h2_loop_addr_parse(&a, "127.0.0.1:0"), 0);
  int l1, l2, l3;
  assert_int_equal(h2_loop_tcp_listen(&l1, &a, 0, H2_LOOP_TCP_REUSEPORT), 0);
  h2_loop_addr bound;
  assert_int_equal(h2_loop_tcp_local_addr(l1, &bound), 0);
  assert_int_equal(h2_loop_tcp_listen(&l2, &bound, 0, H2_LOOP_TCP_REUSEPORT), 0);
  assert_int_equal(h2_loop_tcp_listen(&l3, &bound, 0, 0), H2_ERR_IO);
  assert_int_equal(errno, EADDRINUSE);
  assert_int_equal(l3, -1);
  close(l1);
  close(l2);
  /* accept on a socket that is not listening: an error with errno */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int fd;
  assert_int_equal(h2_loop_tcp_accept(s, &fd, NULL, 1), H2_ERR_IO);
  assert_int_equal(errno, EINVAL);
  close(s);
}

typedef struct conn_result {
  int calls;
  int fd;
  int status;
  int err;
  double at;
} conn_result;

static void record_connect(h2_loop_connect *c, int fd, int status, void *user) {
  (void)c;
  conn_result *r = user;
  r->calls++;
  r->fd = fd;
  r->status = status;
  r->err = errno;
  r->at = mono_s();
}

static void test_connect_refused(void **state) {
  (void)state;
  /* A bound, non-listening socket holds a port nobody accepts on. */
  int hold = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(hold, (struct sockaddr *)&sin, sizeof(sin)), 0);
  h2_loop_addr a;
  assert_int_equal(h2_loop_tcp_local_addr(hold, &a), 0);
  h2_loop *loop;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  conn_result r = {0};
  h2_loop_connect *c = NULL;
  double t0 = mono_s();
  assert_int_equal(h2_loop_tcp_connect(loop, &c, &a, 5000, record_connect, &r), 0);
  assert_non_null(c);
  assert_int_equal(r.calls, 0); /* never called from inside connect */
  assert_true(h2_loop_alive(loop));
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, H2_ERR_IO);
  assert_int_equal(r.err, ECONNREFUSED);
  assert_int_equal(r.fd, -1);
  assert_true(r.at - t0 < 4.0); /* refused, not timed out */
  h2_loop_stats st;
  h2_loop_get_stats(loop, &st);
  assert_int_equal(st.handles, 0);
  assert_int_equal(st.timers, 0);
  h2_loop_free(loop);
  close(hold);
}

/* A listener with backlog 0 whose queue is full drops further SYNs, so a
 * connect to it neither succeeds nor fails: it must time out. */
static int full_listener(h2_loop_addr *out, int fill[3]) {
  h2_loop_addr a;
  assert_int_equal(h2_loop_addr_parse(&a, "127.0.0.1:0"), 0);
  int lfd;
  assert_int_equal(h2_loop_tcp_listen(&lfd, &a, 1, 0), 0);
  assert_int_equal(listen(lfd, 0), 0);
  assert_int_equal(h2_loop_tcp_local_addr(lfd, out), 0);
  for (int i = 0; i < 3; i++) {
    fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(fill[i], (struct sockaddr *)&out->ss, out->len);
    assert_true(r == 0 || errno == EINPROGRESS);
  }
  usleep(100 * 1000);
  return lfd;
}

static void test_connect_timeout(void **state) {
  (void)state;
  int fill[3];
  h2_loop_addr a;
  int lfd = full_listener(&a, fill);
  h2_loop *loop;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  conn_result r = {0};
  double t0 = mono_s();
  assert_int_equal(h2_loop_tcp_connect(loop, NULL, &a, 200, record_connect, &r), 0);
  watchdog w;
  watchdog_start(&w, loop, 10000);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  assert_int_equal(w.fired, 0);
  h2_loop_timer_stop(&w.t);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, H2_ERR_TIMEOUT);
  assert_int_equal(r.err, ETIMEDOUT);
  assert_int_equal(r.fd, -1);
  double dt = r.at - t0;
  assert_true(dt >= 0.19);
  assert_true(dt < 3.0);
  /* Cancel: no callback ever, and the loop ends. */
  conn_result r2 = {0};
  h2_loop_connect *c;
  assert_int_equal(h2_loop_tcp_connect(loop, &c, &a, 200, record_connect, &r2), 0);
  h2_loop_connect_cancel(c);
  t0 = mono_s();
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  assert_true(mono_s() - t0 < 0.15); /* did not wait for the timeout */
  assert_int_equal(r2.calls, 0);
  h2_loop_stats st;
  h2_loop_get_stats(loop, &st);
  assert_int_equal(st.handles, 0);
  assert_int_equal(st.timers, 0);
  /* A pending connect dropped by h2_loop_free: no callback, no leak. */
  assert_int_equal(h2_loop_tcp_connect(loop, NULL, &a, 5000, record_connect, &r2), 0);
  h2_loop_free(loop);
  assert_int_equal(r2.calls, 0);
  for (int i = 0; i < 3; i++) close(fill[i]);
  close(lfd);
}

/* ---- read / writev ------------------------------------------------------- */

static void test_read_writev_errors(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  set_nonblock(sv[0]);
  set_nonblock(sv[1]);
  char buf[8];
  assert_int_equal(h2_loop_tcp_read(sv[0], buf, sizeof(buf)), H2_ERR_WOULD_BLOCK);
  struct iovec iov[3] = {{(void *)"ab", 2}, {(void *)"", 0}, {(void *)"c", 1}};
  assert_int_equal(h2_loop_tcp_writev(sv[1], iov, 3), 3);
  assert_int_equal(h2_loop_tcp_read(sv[0], buf, sizeof(buf)), 3);
  assert_memory_equal(buf, "abc", 3);
  close(sv[1]);
  assert_int_equal(h2_loop_tcp_read(sv[0], buf, sizeof(buf)), H2_ERR_EOF);
  /* Writing to a closed peer: EPIPE, and no SIGPIPE kills the test. */
  assert_int_equal(h2_loop_tcp_writev(sv[0], iov, 1), H2_ERR_IO);
  assert_int_equal(errno, EPIPE);
  close(sv[0]);
}

/* ---- output queue -------------------------------------------------------- */

typedef struct releases {
  int calls;
  const void *order[8];
} releases;

static void on_release(void *user, const void *data, size_t len) {
  releases *r = user;
  (void)len;
  if (r->calls < 8) r->order[r->calls] = data;
  r->calls++;
}

/* Coalescing, counted by the receiver: on a SOCK_SEQPACKET socketpair every
 * write system call is exactly one message, so the messages received count
 * the writev calls independently of the library's own counter. */
static void test_wbuf_coalesces_small_frames(void **state) {
  (void)state;
  enum { FRAMES = 1000 };
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  set_nonblock(sv[0]);
  set_nonblock(sv[1]);
  int big = 1 << 20;
  (void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  (void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  static uint8_t expect[FRAMES * 64];
  static const uint8_t shared[17] = "0123456789abcdef";
  size_t total = 0;
  releases rel = {0};
  h2_loop_wbuf b;
  h2_loop_wbuf_init(&b, NULL);
  for (int i = 0; i < FRAMES; i++) {
    if (i % 250 == 0) { /* a few by reference, between the copies */
      assert_int_equal(h2_loop_wbuf_append_ref(&b, shared, 16, on_release, &rel), 0);
      memcpy(expect + total, shared, 16);
      total += 16;
      continue;
    }
    uint8_t frame[64];
    size_t len = 9 + (size_t)(i % 40); /* a 9-byte header plus a small payload */
    for (size_t k = 0; k < len; k++) frame[k] = (uint8_t)(i * 7 + k);
    if (i % 3 == 0) {
      uint8_t *p = h2_loop_wbuf_reserve(&b, len);
      assert_non_null(p);
      memcpy(p, frame, len);
      h2_loop_wbuf_commit(&b, len);
    } else {
      assert_int_equal(h2_loop_wbuf_append(&b, frame, len), 0);
    }
    memcpy(expect + total, frame, len);
    total += len;
  }
  assert_int_equal(h2_loop_wbuf_pending(&b), total);
  assert_int_equal(h2_loop_wbuf_flush(&b, sv[0]), 0);
  assert_int_equal(h2_loop_wbuf_pending(&b), 0);
  assert_int_equal(rel.calls, 4);
  uint64_t writes = h2_loop_wbuf_writes(&b);
  static uint8_t got[FRAMES * 64 + 1];
  size_t have = 0;
  int messages = 0;
  for (int guard = 0; guard < 10000; guard++) {
    ssize_t n = recv(sv[1], got + have, sizeof(got) - have, 0);
    if (n <= 0) break;
    have += (size_t)n;
    messages++;
  }
  printf("# %d frames (%zu bytes): %llu writev call(s), %d message(s) received\n", FRAMES, total,
         (unsigned long long)writes, messages);
  assert_int_equal(have, total);
  assert_memory_equal(got, expect, total);
  assert_int_equal((uint64_t)messages, writes);
  assert_int_equal(writes, 1); /* 1000 frames, one system call */
  h2_loop_wbuf_free(&b);
  close(sv[0]);
  close(sv[1]);
}

/* Partial writes: a small socket buffer, 400 KB queued (copies, in-place
 * frames and two 64 KB references); flush until done while the peer drains;
 * every byte arrives once, in order, and each reference is released once,
 * only after it was written. */
typedef struct ref_watch {
  int calls;
  size_t written_at_release[2];
  const void *bufs[2];
  const h2_loop_wbuf *b;
  const size_t *total;
} ref_watch;

static void watch_release(void *user, const void *data, size_t len) {
  ref_watch *w = user;
  (void)len;
  if (w->calls < 2) {
    w->bufs[w->calls] = data;
    w->written_at_release[w->calls] = *w->total - h2_loop_wbuf_pending(w->b);
  }
  w->calls++;
}

static void test_wbuf_partial_writes(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  set_nonblock(sv[0]);
  set_nonblock(sv[1]);
  int small = 4096;
  assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  size_t cap = 512 * 1024;
  uint8_t *expect = malloc(cap), *got = malloc(cap);
  uint8_t *ref1 = malloc(65536), *ref2 = malloc(65536);
  assert_non_null(expect);
  assert_non_null(got);
  assert_non_null(ref1);
  assert_non_null(ref2);
  for (int i = 0; i < 65536; i++) {
    ref1[i] = (uint8_t)(i * 13);
    ref2[i] = (uint8_t)(i * 29 + 1);
  }
  size_t total = 0, drained = 0, ref1_end = 0, ref2_end = 0;
  h2_loop_wbuf b;
  ref_watch w = {.b = &b, .total = &total};
  h2_loop_wbuf_init(&b, NULL);
  uint32_t x = 7;
  while (total < 400 * 1024) {
    x = x * 1103515245u + 12345u;
    size_t len = 1 + (x >> 8) % 3000;
    uint8_t tmp[3000];
    for (size_t k = 0; k < len; k++) tmp[k] = (uint8_t)(x + k);
    if ((x >> 4) % 5 == 0) {
      uint8_t *p = h2_loop_wbuf_reserve(&b, len);
      assert_non_null(p);
      memcpy(p, tmp, len);
      h2_loop_wbuf_commit(&b, len);
    } else {
      assert_int_equal(h2_loop_wbuf_append(&b, tmp, len), 0);
    }
    memcpy(expect + total, tmp, len);
    total += len;
    if (ref1_end == 0 && total > 100 * 1024) {
      assert_int_equal(h2_loop_wbuf_append_ref(&b, ref1, 65536, watch_release, &w), 0);
      memcpy(expect + total, ref1, 65536);
      total += 65536;
      ref1_end = total;
    } else if (ref2_end == 0 && total > 250 * 1024) {
      assert_int_equal(h2_loop_wbuf_append_ref(&b, ref2, 65536, watch_release, &w), 0);
      memcpy(expect + total, ref2, 65536);
      total += 65536;
      ref2_end = total;
    }
  }
  assert_int_equal(h2_loop_wbuf_pending(&b), total);
  int would_block = 0, rounds = 0;
  for (; rounds < 100000; rounds++) {
    int rc = h2_loop_wbuf_flush(&b, sv[0]);
    assert_true(rc == 0 || rc == H2_ERR_WOULD_BLOCK);
    if (rc == H2_ERR_WOULD_BLOCK) would_block++;
    /* the peer drains what it can */
    for (;;) {
      ssize_t n = read(sv[1], got + drained, cap - drained);
      if (n <= 0) break;
      drained += (size_t)n;
    }
    if (rc == 0) break;
  }
  for (int guard = 0; drained < total && guard < 1000; guard++) {
    ssize_t n = read(sv[1], got + drained, cap - drained);
    if (n <= 0) usleep(1000);
    else drained += (size_t)n;
  }
  printf("# %zu bytes through a 4 KB socket buffer: %llu writev calls, %d would-block\n", total,
         (unsigned long long)h2_loop_wbuf_writes(&b), would_block);
  assert_true(would_block > 0); /* partial writes really happened */
  assert_int_equal(drained, total);
  assert_memory_equal(got, expect, total);
  assert_int_equal(w.calls, 2);
  assert_ptr_equal(w.bufs[0], ref1);
  assert_ptr_equal(w.bufs[1], ref2);
  /* each reference was released only after all its bytes were written */
  assert_true(w.written_at_release[0] >= ref1_end);
  assert_true(w.written_at_release[1] >= ref2_end);
  assert_true(w.written_at_release[0] < ref2_end);
  h2_loop_wbuf_free(&b);
  /* free releases unwritten references exactly once */
  size_t zero = 13;
  ref_watch w2 = {.b = &b, .total = &zero};
  assert_int_equal(h2_loop_wbuf_append(&b, "xyz", 3), 0);
  assert_int_equal(h2_loop_wbuf_append_ref(&b, ref1, 10, watch_release, &w2), 0);
  assert_int_equal(h2_loop_wbuf_pending(&b), 13);
  h2_loop_wbuf_free(&b);
  assert_int_equal(w2.calls, 1);
  assert_int_equal(h2_loop_wbuf_pending(&b), 0);
  h2_loop_wbuf_free(&b);
  assert_int_equal(w2.calls, 1);
  /* a closed peer: the flush error is reported with errno */
  close(sv[1]);
  assert_int_equal(h2_loop_wbuf_append(&b, "abc", 3), 0);
  assert_int_equal(h2_loop_wbuf_flush(&b, sv[0]), H2_ERR_IO);
  assert_int_equal(errno, EPIPE);
  assert_int_equal(h2_loop_wbuf_pending(&b), 3);
  h2_loop_wbuf_free(&b);
  close(sv[0]);
  free(expect);
  free(got);
  free(ref1);
  free(ref2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_addr_parse_and_format),
      cmocka_unit_test(test_listen_accept_ipv4),
      cmocka_unit_test(test_listen_accept_ipv6),
      cmocka_unit_test(test_reuseport),
      cmocka_unit_test(test_connect_refused),
      cmocka_unit_test(test_connect_timeout),
      cmocka_unit_test(test_read_writev_errors),
      cmocka_unit_test(test_wbuf_coalesces_small_frames),
      cmocka_unit_test(test_wbuf_partial_writes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
