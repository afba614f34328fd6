/* test_loop_kqueue.c: runs evloop/backend_kqueue.c, on Linux, against a
 * test-only emulation of kqueue()/kevent() built on poll(2).
 *
 * What this proves: the backend's own logic (EV_ADD/EV_DELETE diffs for
 * interest changes, timeout conversion, mapping of filters, EV_EOF and
 * EV_ERROR to H2_LOOP_* bits, merging of the READ and WRITE entries of one
 * fd) and the loop core driving it (dispatch, mid-batch close with split
 * entries, timers, posts). What it does not prove: behaviour of a real BSD
 * or macOS kernel, whose kevent() is only imitated here. The loop core is
 * compiled in with its pipe wake-up, so posts from another thread go through
 * the pipe path used off Linux. The emulation reports
 * each ready fd as a READ entry then a WRITE entry (adjacent), or, in split
 * mode, all READ entries first and all WRITE entries after them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#ifdef __linux__

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/event.h> /* test/kqueue_decl */
#include <time.h>
#include <unistd.h>

/* The BSD configuration compiled into this test: the kqueue backend and the
 * loop core with its pipe wake-up (instead of eventfd). The library's own
 * loop.o and backend_epoll.o then stay out of the link. */
#include "backend_kqueue.c"
#define H2_LOOP_WAKE_PIPE 1
#include "loop.c"

#include "h2_loop.h"

/* ---- the emulation -------------------------------------------------------- */

enum { KQ_MAXFD = 4096, KQ_R = 1, KQ_W = 2 };

static int kq_fd = -1;
static unsigned kq_mask[KQ_MAXFD]; /* registered filters per fd */
static long kq_change_calls;       /* kevent calls that carried changes */
static int kq_split;               /* all READ entries, then all WRITE */

int kqueue(void) {
  kq_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  memset(kq_mask, 0, sizeof(kq_mask));
  kq_change_calls = 0;
  return kq_fd;
}

static int kq_apply(const struct kevent *c) {
  if (c->ident >= KQ_MAXFD || fcntl((int)c->ident, F_GETFD) < 0) {
    errno = EBADF;
    return -1;
  }
  unsigned bit;
  if (c->filter == EVFILT_READ) {
    bit = KQ_R;
  } else if (c->filter == EVFILT_WRITE) {
    bit = KQ_W;
  } else {
    errno = EINVAL;
    return -1;
  }
  if (c->flags & EV_ADD) {
    kq_mask[c->ident] |= bit;
  } else if (c->flags & EV_DELETE) {
    if (!(kq_mask[c->ident] & bit)) {
      errno = ENOENT;
      return -1;
    }
    kq_mask[c->ident] &= ~bit;
  }
  return 0;
}

static void kq_emit(struct kevent *ev, int *n, int fd, int16_t filter, short re) {
  uint16_t flags = 0;
  uint32_t fflags = 0;
  if (re & (POLLHUP | POLLERR)) flags |= EV_EOF;
  if (re & POLLERR) fflags = ECONNRESET;
  EV_SET(&ev[*n], (uintptr_t)fd, filter, flags, fflags, 0, NULL);
  (*n)++;
}

int kevent(int kq, const struct kevent *changelist, int nchanges, struct kevent *eventlist,
           int nevents, const struct timespec *timeout) {
  if (kq != kq_fd) {
    errno = EBADF;
    return -1;
  }
  if (nchanges > 0) kq_change_calls++;
  for (int i = 0; i < nchanges; i++) {
    if (kq_apply(&changelist[i]) != 0) return -1;
  }
  if (nevents == 0) return 0;
  static struct pollfd pfd[KQ_MAXFD];
  int np = 0;
  for (int fd = 0; fd < KQ_MAXFD; fd++) {
    if (kq_mask[fd] == 0) continue;
    pfd[np].fd = fd;
    pfd[np].events = (short)(((kq_mask[fd] & KQ_R) ? POLLIN : 0) | ((kq_mask[fd] & KQ_W) ? POLLOUT : 0));
    pfd[np].revents = 0;
    np++;
  }
  int ms = -1;
  if (timeout != NULL) ms = (int)(timeout->tv_sec * 1000 + timeout->tv_nsec / 1000000);
  int r = poll(pfd, (nfds_t)np, ms);
  if (r <= 0) return r;
  int n = 0;
  for (int pass = 0; pass < (kq_split ? 2 : 1); pass++) {
    for (int i = 0; i < np; i++) {
      short re = pfd[i].revents;
      if (re == 0) continue;
      int fd = pfd[i].fd;
      int want_r = !kq_split || pass == 0, want_w = !kq_split || pass == 1;
      if (want_r && (kq_mask[fd] & KQ_R) && (re & (POLLIN | POLLHUP | POLLERR)) && n < nevents) {
        kq_emit(eventlist, &n, fd, EVFILT_READ, re);
      }
      if (want_w && (kq_mask[fd] & KQ_W) && (re & (POLLOUT | POLLHUP | POLLERR)) && n < nevents) {
        kq_emit(eventlist, &n, fd, EVFILT_WRITE, re);
      }
    }
  }
  return n;
}

/* ---- helpers -------------------------------------------------------------- */

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  assert_true(fl >= 0);
  assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static h2_loop *new_loop(void) {
  h2_loop *loop = NULL;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  assert_string_equal(h2_loop_backend(loop), "kqueue");
  assert_int_not_equal(loop->wake_rfd, loop->wake_wfd); /* a pipe */
  kq_split = 0;
  return loop;
}

typedef struct rec {
  int calls;
  unsigned events[16];
  int err;
} rec;

static void rec_cb(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)io;
  (void)fd;
  rec *r = user;
  if (r->calls < 16) r->events[r->calls] = events;
  r->calls++;
  r->err = errno;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_kq_interest_diffs(void **state) {
  (void)state;
  h2_loop *loop = new_loop();
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  set_nonblock(sv[0]);
  rec r = {0};
  h2_loop_io *io;
  assert_int_equal(h2_loop_io_new(loop, &io, sv[0], 0, rec_cb, &r), 0);
  static const unsigned steps[] = {H2_LOOP_READ, H2_LOOP_READ | H2_LOOP_WRITE, H2_LOOP_WRITE, 0,
                                   H2_LOOP_WRITE, H2_LOOP_READ};
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    long before = kq_change_calls;
    assert_int_equal(h2_loop_io_set(io, steps[i]), 0);
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    unsigned m = kq_mask[sv[0]];
    unsigned want = ((steps[i] & H2_LOOP_READ) ? KQ_R : 0) | ((steps[i] & H2_LOOP_WRITE) ? KQ_W : 0);
    if (m != want) fail_msg("step %zu: registered %u, want %u", i, m, want);
    assert_int_equal(kq_change_calls - before, 1); /* one kevent call per change */
  }
  h2_loop_io_close(io, NULL);
  assert_int_equal(kq_mask[sv[0]], 0);
  h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  close(sv[0]);
  close(sv[1]);
  h2_loop_free(loop);
}

static void test_kq_merged_readiness_and_hangup(void **state) {
  (void)state;
  h2_loop *loop = new_loop();
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  set_nonblock(sv[0]);
  rec r = {0};
  h2_loop_io *io;
  assert_int_equal(h2_loop_io_new(loop, &io, sv[0], H2_LOOP_IO_OWN_FD, rec_cb, &r), 0);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_READ | H2_LOOP_WRITE), 0);
  assert_int_equal(write(sv[1], "x", 1), 1);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  /* READ and WRITE entries of one fd merged into one callback */
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.events[0], H2_LOOP_READ | H2_LOOP_WRITE);
  /* peer gone: EOF on read (a READ), EV_EOF on write (ERROR) */
  close(sv[1]);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_WRITE), 0);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  assert_int_equal(r.calls, 2);
  assert_true(r.events[1] & H2_LOOP_ERROR);
  assert_true(r.events[1] & H2_LOOP_WRITE);
  h2_loop_free(loop);
}

static void test_kq_registration_failure(void **state) {
  (void)state;
  h2_loop *loop = new_loop();
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  rec r = {0};
  h2_loop_io *io;
  assert_int_equal(h2_loop_io_new(loop, &io, sv[0], 0, rec_cb, &r), 0);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_READ), 0);
  close(sv[0]); /* closed behind the loop's back: EV_ADD fails with EBADF */
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.events[0], H2_LOOP_ERROR);
  assert_int_equal(r.err, EBADF);
  assert_int_equal(h2_loop_io_errno(io), EBADF);
  h2_loop_io_close(io, NULL);
  h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  close(sv[1]);
  h2_loop_free(loop);
}

/* Split entries: fd A's READ and WRITE come apart in the batch, with B's in
 * between. A's first callback closes B: B must get nothing, A gets both. */
typedef struct split {
  h2_loop_io *a, *b;
  int a_calls, b_calls;
} split;

static void split_a(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)io;
  (void)fd;
  (void)events;
  split *s = user;
  if (s->a_calls++ == 0 && s->b != NULL) {
    h2_loop_io_close(s->b, NULL);
    s->b = NULL;
  }
}

static void split_b(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)events;
  (void)fd;
  split *s = user;
  /* B may come first in the batch: then it closes A instead. */
  if (s->b_calls++ == 0 && s->a != NULL && s->a_calls == 0) {
    h2_loop_io_close(s->a, NULL);
    s->a = NULL;
  }
  (void)io;
}

static void test_kq_split_entries_close_mid_batch(void **state) {
  (void)state;
  h2_loop *loop = new_loop();
  kq_split = 1;
  int p1[2], p2[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p1), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p2), 0);
  split s = {0};
  assert_int_equal(h2_loop_io_new(loop, &s.a, p1[0], H2_LOOP_IO_OWN_FD, split_a, &s), 0);
  assert_int_equal(h2_loop_io_new(loop, &s.b, p2[0], H2_LOOP_IO_OWN_FD, split_b, &s), 0);
  assert_int_equal(h2_loop_io_set(s.a, H2_LOOP_READ | H2_LOOP_WRITE), 0);
  assert_int_equal(h2_loop_io_set(s.b, H2_LOOP_READ | H2_LOOP_WRITE), 0);
  assert_int_equal(write(p1[1], "x", 1), 1);
  assert_int_equal(write(p2[1], "x", 1), 1);
  h2_loop_stats s0, s1;
  h2_loop_get_stats(loop, &s0);
  h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  h2_loop_get_stats(loop, &s1);
  /* the survivor got its READ and its WRITE entry; the closed one nothing */
  assert_int_equal(s1.dispatched - s0.dispatched, 2);
  assert_true((s.a_calls == 2 && s.b_calls == 0) || (s.b_calls == 2 && s.a_calls == 0));
  kq_split = 0;
  close(p1[1]);
  close(p2[1]);
  h2_loop_free(loop);
}

/* Ping-pong over 1,000 socketpairs (2,000 registered fds). */
enum { KPAIRS = 1000, KROUNDS = 3 };

typedef struct kpp {
  h2_loop_io *io[2 * KPAIRS];
  int rounds[KPAIRS];
  int done, errors;
} kpp;

typedef struct kref {
  kpp *k;
  int idx;
} kref;

static void kpp_cb(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)events;
  kref *r = user;
  kpp *k = r->k;
  char buf[8];
  if (read(fd, buf, sizeof(buf)) != 4) {
    k->errors++;
    h2_loop_io_set(io, 0);
    return;
  }
  if (r->idx % 2 == 1) {
    if (write(fd, "pong", 4) != 4) k->errors++;
    return;
  }
  int pair = r->idx / 2;
  if (++k->rounds[pair] < KROUNDS) {
    if (write(fd, "ping", 4) != 4) k->errors++;
  } else {
    k->done++;
    h2_loop_io_set(io, 0);
    h2_loop_io_set(k->io[r->idx + 1], 0);
  }
}

static void test_kq_many_sockets(void **state) {
  (void)state;
  h2_loop *loop = new_loop();
  kpp *k = calloc(1, sizeof(*k));
  kref *refs = calloc(2 * KPAIRS, sizeof(*refs));
  assert_non_null(k);
  assert_non_null(refs);
  for (int p = 0; p < KPAIRS; p++) {
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_true(sv[0] < KQ_MAXFD && sv[1] < KQ_MAXFD);
    for (int j = 0; j < 2; j++) {
      int i = 2 * p + j;
      set_nonblock(sv[j]);
      refs[i] = (kref){k, i};
      assert_int_equal(h2_loop_io_new(loop, &k->io[i], sv[j], H2_LOOP_IO_OWN_FD, kpp_cb, &refs[i]), 0);
      assert_int_equal(h2_loop_io_set(k->io[i], H2_LOOP_READ), 0);
    }
    assert_int_equal(write(sv[0], "ping", 4), 4);
  }
  double t0 = mono_s();
  for (int it = 0; it < 100000 && k->done < KPAIRS && mono_s() - t0 < 30.0; it++) {
    h2_loop_run(loop, H2_LOOP_RUN_ONCE);
  }
  assert_int_equal(k->errors, 0);
  assert_int_equal(k->done, KPAIRS);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 0);
  h2_loop_free(loop);
  free(k);
  free(refs);
}

/* Timeouts reach kevent as a timespec: a 30 ms timer must wait ~30 ms. */
static void tmr_cb(h2_loop_timer *t, void *user) {
  (void)t;
  *(double *)user = mono_s();
}

static void post_cb(h2_loop *loop, void *user) {
  (*(int *)user)++;
  h2_loop_unref(loop);
}

typedef struct post_arg {
  h2_loop *loop;
  int *count;
} post_arg;

static void *post_thread(void *arg) {
  post_arg *p = arg;
  usleep(30 * 1000);
  h2_loop_post(p->loop, post_cb, p->count);
  return NULL;
}

static void test_kq_timer_and_post(void **state) {
  (void)state;
  h2_loop *loop = new_loop();
  double fired = 0;
  h2_loop_timer t;
  h2_loop_timer_init(loop, &t, tmr_cb, &fired);
  assert_int_equal(h2_loop_timer_start(&t, 30, 0), 0);
  double t0 = mono_s();
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  assert_true(fired - t0 >= 0.025 && fired - t0 < 5.0);
  /* a post from another thread wakes the blocked kevent() */
  int count = 0;
  post_arg pa = {loop, &count};
  h2_loop_ref(loop);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, post_thread, &pa), 0);
  h2_loop_timer_start(&t, 20000, 0); /* watchdog */
  h2_loop_timer_unref(&t);
  t0 = mono_s();
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  pthread_join(th, NULL);
  assert_int_equal(count, 1);
  assert_true(mono_s() - t0 < 10.0);
  h2_loop_timer_stop(&t);
  h2_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kq_interest_diffs),
      cmocka_unit_test(test_kq_merged_readiness_and_hangup),
      cmocka_unit_test(test_kq_registration_failure),
      cmocka_unit_test(test_kq_split_entries_close_mid_batch),
      cmocka_unit_test(test_kq_many_sockets),
      cmocka_unit_test(test_kq_timer_and_post),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* not Linux: the real kqueue backend is the library's; nothing to emulate */

#include <stdio.h>

static void test_kq_emulation_linux_only(void **state) {
  (void)state;
  printf("# kqueue emulation test runs on Linux only\n");
  skip();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_kq_emulation_linux_only)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
