/* test_loop.c: the event loop core: timers (order, timing, repeat, cancel, a
 * million of them), deferred callbacks, interest coalescing, fds closed in
 * the middle of a dispatch batch, handle lifetime around the close callback,
 * wake-ups and posted work from another thread, stop, ref/unref, and 10,000
 * sockets served by one loop. Every loop here is bounded in count and time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "h2_loop.h"
#include "h2_loop_tcp.h"

/* ---- helpers ------------------------------------------------------------- */

static uint64_t fake_now;
static uint64_t fake_clock(void *user) {
  (void)user;
  return fake_now;
}

static h2_loop *new_fake_loop(void) {
  h2_loop_config cfg = {0};
  cfg.clock = fake_clock;
  fake_now = 1000;
  h2_loop *loop = NULL;
  assert_int_equal(h2_loop_new(&loop, &cfg), 0);
  assert_non_null(loop);
  return loop;
}

static h2_loop *new_loop(void) {
  h2_loop *loop = NULL;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  assert_string_equal(h2_loop_backend(loop), "epoll");
  return loop;
}

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

/* A watchdog: an unreferenced timer that stops a real-clock loop and flags
 * the test as timed out. */
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

/* ---- timers -------------------------------------------------------------- */

typedef struct fired {
  int ids[64];
  uint64_t at[64];
  int n;
  h2_loop *loop;
} fired;

typedef struct tmr {
  h2_loop_timer t;
  int id;
  fired *log;
  int stop_after; /* repeating: stop itself after this many fires (0: never) */
  int count;
} tmr;

static void tmr_cb(h2_loop_timer *t, void *user) {
  tmr *x = user;
  assert_ptr_equal(t, &x->t);
  fired *f = x->log;
  if (f->n < 64) {
    f->ids[f->n] = x->id;
    f->at[f->n] = h2_loop_now(f->loop);
    f->n++;
  }
  x->count++;
  if (x->stop_after && x->count >= x->stop_after) h2_loop_timer_stop(t);
}

static void test_timers_fire_in_order_on_time(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  fired f = {.loop = loop};
  /* timeouts, by id; ids 1 and 3 tie at 10 ms and must fire in start order */
  static const uint64_t timeouts[] = {50, 10, 30, 10, 0, 25};
  static const int expect_ids[] = {4, 1, 3, 5, 2, 0};
  tmr t[6];
  for (int i = 0; i < 6; i++) {
    t[i] = (tmr){.id = i, .log = &f};
    h2_loop_timer_init(loop, &t[i].t, tmr_cb, &t[i]);
    assert_int_equal(h2_loop_timer_start(&t[i].t, timeouts[i], 0), 0);
    assert_true(h2_loop_timer_active(&t[i].t));
    assert_int_equal(h2_loop_timer_due(&t[i].t), 1000 + timeouts[i]);
  }
  h2_loop_stats st;
  h2_loop_get_stats(loop, &st);
  assert_int_equal(st.timers, 6);
  assert_true(h2_loop_alive(loop));
  /* Step the fake clock 1 ms at a time; each timer must fire exactly when
   * it is due, not a step early or late. */
  for (int step = 0; step <= 60; step++) {
    int rc = h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    assert_int_equal(rc, f.n < 6 ? 1 : 0);
    fake_now++;
  }
  assert_int_equal(f.n, 6);
  for (int i = 0; i < 6; i++) {
    assert_int_equal(f.ids[i], expect_ids[i]);
    assert_int_equal(f.at[i], 1000 + timeouts[expect_ids[i]]);
    assert_false(h2_loop_timer_active(&t[expect_ids[i]].t));
  }
  assert_false(h2_loop_alive(loop));
  h2_loop_free(loop);
}

static void test_timer_repeat(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  fired f = {.loop = loop};
  tmr r = {.id = 7, .log = &f};
  h2_loop_timer_init(loop, &r.t, tmr_cb, &r);
  assert_int_equal(h2_loop_timer_start(&r.t, 5, 7), 0);
  for (int step = 0; step <= 40; step++) {
    assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
    fake_now++;
  }
  fake_now--; /* now == 1040 */
  static const uint64_t expect[] = {1005, 1012, 1019, 1026, 1033, 1040};
  assert_int_equal(f.n, 6);
  for (int i = 0; i < 6; i++) assert_int_equal(f.at[i], expect[i]);
  assert_true(h2_loop_timer_active(&r.t));
  assert_int_equal(h2_loop_timer_due(&r.t), 1047);
  /* A late loop fires a repeating timer once, then re-bases on now. */
  fake_now = 1200;
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  assert_int_equal(f.n, 7);
  assert_int_equal(h2_loop_timer_due(&r.t), 1207);
  /* Stopping from its own callback ends it. */
  r.stop_after = r.count + 1;
  fake_now = 1207;
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 0);
  assert_int_equal(f.n, 8);
  assert_false(h2_loop_timer_active(&r.t));
  h2_loop_free(loop);
}

typedef struct cancel_ctx {
  h2_loop_timer a, b, c;
  int fired_a, fired_b, fired_c;
} cancel_ctx;

static void cancel_a(h2_loop_timer *t, void *user) {
  (void)t;
  cancel_ctx *c = user;
  c->fired_a++;
  h2_loop_timer_stop(&c->c); /* due at the same time, later in order */
}
static void cancel_b(h2_loop_timer *t, void *user) {
  (void)t;
  ((cancel_ctx *)user)->fired_b++;
}
static void cancel_c(h2_loop_timer *t, void *user) {
  (void)t;
  ((cancel_ctx *)user)->fired_c++;
}

static void test_timer_cancel_and_restart(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  cancel_ctx c = {0};
  h2_loop_timer_init(loop, &c.a, cancel_a, &c);
  h2_loop_timer_init(loop, &c.b, cancel_b, &c);
  h2_loop_timer_init(loop, &c.c, cancel_c, &c);
  assert_int_equal(h2_loop_timer_start(&c.a, 10, 0), 0);
  assert_int_equal(h2_loop_timer_start(&c.b, 5, 0), 0);
  assert_int_equal(h2_loop_timer_start(&c.c, 10, 0), 0);
  h2_loop_timer_stop(&c.b);
  h2_loop_timer_stop(&c.b); /* twice is fine */
  assert_false(h2_loop_timer_active(&c.b));
  /* restart b later than it was */
  assert_int_equal(h2_loop_timer_start(&c.b, 20, 0), 0);
  assert_int_equal(h2_loop_timer_start(&c.b, 30, 0), 0); /* restart moves it */
  fake_now = 1010;
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  assert_int_equal(c.fired_a, 1);
  assert_int_equal(c.fired_c, 0); /* cancelled by a in the same phase */
  assert_int_equal(c.fired_b, 0);
  fake_now = 1029;
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  assert_int_equal(c.fired_b, 0);
  fake_now = 1030;
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 0);
  assert_int_equal(c.fired_b, 1);
  assert_int_equal(c.fired_c, 0);
  h2_loop_free(loop);
}

/* A callback re-arming its timer with 0 runs once per iteration, not in a
 * tight loop inside one timer phase. */
static void rearm_zero(h2_loop_timer *t, void *user) {
  int *n = user;
  (*n)++;
  if (*n < 1000) assert_int_equal(h2_loop_timer_start(t, 0, 0), 0);
}

static void test_timer_rearm_zero_runs_next_iteration(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  int n = 0;
  h2_loop_timer t;
  h2_loop_timer_init(loop, &t, rearm_zero, &n);
  assert_int_equal(h2_loop_timer_start(&t, 0, 0), 0);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  /* once at the start of the iteration, once after the poll */
  assert_int_equal(n, 2);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  assert_int_equal(n, 4);
  h2_loop_timer_stop(&t);
  h2_loop_free(loop);
}

typedef struct million {
  uint64_t last_due;
  size_t fired;
  int out_of_order;
  h2_loop *loop;
} million;

static void million_cb(h2_loop_timer *t, void *user) {
  million *m = user;
  uint64_t due = h2_loop_timer_due(t);
  if (due < m->last_due) m->out_of_order++;
  m->last_due = due;
  m->fired++;
}

static void test_million_timers(void **state) {
  (void)state;
  enum { N = 1000000 };
  h2_loop *loop = new_fake_loop();
  h2_loop_timer *ts = malloc(sizeof(h2_loop_timer) * N);
  assert_non_null(ts);
  million m = {.loop = loop};
  uint32_t x = 12345;
  double t0 = mono_s();
  for (size_t i = 0; i < N; i++) {
    x = x * 1103515245u + 12345u;
    h2_loop_timer_init(loop, &ts[i], million_cb, &m);
    assert_int_equal(h2_loop_timer_start(&ts[i], 1 + (x >> 8) % 100000, 0), 0);
  }
  double t1 = mono_s();
  for (size_t i = 0; i < N; i += 2) h2_loop_timer_stop(&ts[i]);
  double t2 = mono_s();
  h2_loop_stats st;
  h2_loop_get_stats(loop, &st);
  assert_int_equal(st.timers, N / 2);
  fake_now += 100001;
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 0);
  double t3 = mono_s();
  assert_int_equal(m.fired, N / 2);
  assert_int_equal(m.out_of_order, 0);
  for (size_t i = 0; i < N; i++) assert_false(h2_loop_timer_active(&ts[i]));
  printf("# 1e6 timers: add %.0f ns/op, cancel %.0f ns/op, fire %.0f ns/op\n",
         (t1 - t0) * 1e9 / N, (t2 - t1) * 1e9 / (N / 2), (t3 - t2) * 1e9 / (N / 2));
  /* Generous bound (sanitizer and valgrind builds are slow); an O(n) cancel
   * would take minutes here. */
  assert_true(t3 - t0 < 60.0);
  free(ts);
  h2_loop_free(loop);
}

/* Random start/stop/restart against a naive model: the heap must fire
 * exactly the timers the model says, in (due, start order). */
enum { MODEL_N = 300 };

typedef struct model {
  h2_loop_timer t[MODEL_N];
  int active[MODEL_N];
  uint64_t due[MODEL_N], seq[MODEL_N];
  uint64_t seq_next;
  int mismatches;
  int fired;
} model;

static void model_cb(h2_loop_timer *t, void *user) {
  model *m = user;
  int id = (int)(t - m->t);
  /* the expected one: the active timer with the smallest (due, seq) */
  int best = -1;
  for (int i = 0; i < MODEL_N; i++) {
    if (!m->active[i]) continue;
    if (best < 0 || m->due[i] < m->due[best] ||
        (m->due[i] == m->due[best] && m->seq[i] < m->seq[best])) {
      best = i;
    }
  }
  if (best != id || m->due[id] > fake_now) m->mismatches++;
  m->active[id] = 0;
  m->fired++;
}

static void test_timer_heap_random_vs_model(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  model *m = calloc(1, sizeof(*m));
  assert_non_null(m);
  for (int i = 0; i < MODEL_N; i++) h2_loop_timer_init(loop, &m->t[i], model_cb, m);
  uint32_t x = 99;
  for (int op = 0; op < 20000; op++) {
    x = x * 1103515245u + 12345u;
    int id = (int)((x >> 8) % MODEL_N);
    int what = (int)((x >> 20) % 4);
    if (what < 2) {
      uint64_t timeout = (x >> 3) % 50;
      assert_int_equal(h2_loop_timer_start(&m->t[id], timeout, 0), 0);
      m->active[id] = 1;
      m->due[id] = fake_now + timeout;
      m->seq[id] = ++m->seq_next;
    } else if (what == 2) {
      h2_loop_timer_stop(&m->t[id]);
      m->active[id] = 0;
    } else {
      fake_now += (x >> 12) % 5;
      h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
      for (int i = 0; i < MODEL_N; i++) {
        if (m->active[i] && m->due[i] <= fake_now) m->mismatches++; /* should have fired */
        assert_int_equal(h2_loop_timer_active(&m->t[i]), m->active[i]);
      }
    }
  }
  assert_int_equal(m->mismatches, 0);
  assert_true(m->fired > 1000);
  for (int i = 0; i < MODEL_N; i++) h2_loop_timer_stop(&m->t[i]);
  h2_loop_free(loop);
  free(m);
}

static void test_timer_ref_unref(void **state) {
  (void)state;
  h2_loop *loop = new_loop();
  int n = 0;
  h2_loop_timer t;
  h2_loop_timer_init(loop, &t, rearm_zero, &n);
  assert_int_equal(h2_loop_timer_start(&t, 5000, 0), 0);
  h2_loop_timer_unref(&t);
  h2_loop_timer_unref(&t); /* a flag, not a count */
  assert_false(h2_loop_alive(loop));
  double t0 = mono_s();
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0); /* returns at once */
  assert_true(mono_s() - t0 < 1.0);
  assert_int_equal(n, 0);
  assert_true(h2_loop_timer_active(&t));
  /* Referenced again with a short timeout, it keeps the loop alive until
   * it fires on the real clock. */
  h2_loop_timer_ref(&t);
  n = 999; /* rearm_zero will not re-arm */
  assert_int_equal(h2_loop_timer_start(&t, 30, 0), 0);
  uint64_t start = h2_loop_now(loop);
  t0 = mono_s();
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  assert_int_equal(n, 1000);
  assert_true(h2_loop_now(loop) >= start + 30);
  assert_true(mono_s() - t0 >= 0.025);
  assert_true(mono_s() - t0 < 5.0);
  h2_loop_free(loop);
}

/* ---- deferred callbacks -------------------------------------------------- */

typedef struct dctx {
  h2_loop_defer a, b, c, d;
  char order[32];
  int n;
  int a_runs;
} dctx;

static void d_a(h2_loop_defer *d, void *user) {
  dctx *c = user;
  c->order[c->n++] = 'a';
  if (++c->a_runs == 1) {
    h2_loop_defer_schedule(d); /* again, next iteration */
    h2_loop_defer_schedule(&c->c);
    assert_true(h2_loop_defer_scheduled(&c->c));
  }
}
static void d_b(h2_loop_defer *d, void *user) {
  (void)d;
  dctx *c = user;
  c->order[c->n++] = 'b';
}
static void d_c(h2_loop_defer *d, void *user) {
  (void)d;
  dctx *c = user;
  c->order[c->n++] = 'c';
}
static void d_d(h2_loop_defer *d, void *user) {
  (void)d;
  dctx *c = user;
  c->order[c->n++] = 'd';
}

static void test_deferred(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  dctx c = {0};
  h2_loop_defer_init(loop, &c.a, d_a, &c);
  h2_loop_defer_init(loop, &c.b, d_b, &c);
  h2_loop_defer_init(loop, &c.c, d_c, &c);
  h2_loop_defer_init(loop, &c.d, d_d, &c);
  assert_false(h2_loop_alive(loop));
  h2_loop_defer_schedule(&c.a);
  h2_loop_defer_schedule(&c.b);
  h2_loop_defer_schedule(&c.a); /* already scheduled: no-op */
  h2_loop_defer_schedule(&c.d);
  h2_loop_defer_cancel(&c.d);
  assert_false(h2_loop_defer_scheduled(&c.d));
  assert_true(h2_loop_alive(loop));
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_ONCE), 1);
  c.order[c.n] = '\0';
  assert_string_equal(c.order, "ab");
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_ONCE), 0);
  c.order[c.n] = '\0';
  assert_string_equal(c.order, "abac");
  assert_false(h2_loop_alive(loop));
  /* A scheduled deferred callback makes ONCE not block (fake clock, no
   * timers: a blocking poll would hang here forever). */
  h2_loop_defer_schedule(&c.b);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  c.order[c.n] = '\0';
  assert_string_equal(c.order, "abacb");
  h2_loop_defer_schedule(&c.d); /* dropped by free, never called */
  h2_loop_free(loop);
  assert_int_equal(c.n, 5);
}

/* ---- fds ----------------------------------------------------------------- */

typedef struct coalesce_ctx {
  int calls;
  unsigned last;
} coalesce_ctx;

static void count_cb(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)io;
  (void)fd;
  coalesce_ctx *c = user;
  c->calls++;
  c->last = events;
}

static void test_interest_changes_coalesce(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  set_nonblock(sv[0]);
  coalesce_ctx c = {0};
  h2_loop_io *io;
  assert_int_equal(h2_loop_io_new(loop, &io, sv[0], H2_LOOP_IO_OWN_FD, count_cb, &c), 0);
  h2_loop_io *dup_io;
  assert_int_equal(h2_loop_io_new(loop, &dup_io, sv[0], 0, count_cb, &c), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_loop_io_new(loop, &dup_io, -1, 0, count_cb, &c), H2_ERR_INVALID_ARG);
  h2_loop_stats s0, s1;
  h2_loop_get_stats(loop, &s0);
  assert_int_equal(s0.handles, 1);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_READ), 0);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_WRITE), 0);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_READ | H2_LOOP_WRITE), 0);
  assert_int_equal(h2_loop_io_set(io, 0), 0);
  assert_false(h2_loop_alive(loop)); /* interest 0: inactive */
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_WRITE), 0);
  assert_true(h2_loop_alive(loop));
  assert_int_equal(h2_loop_io_events(io), H2_LOOP_WRITE);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  h2_loop_get_stats(loop, &s1);
  assert_int_equal(s1.ctl_calls - s0.ctl_calls, 1); /* five changes, one syscall */
  assert_int_equal(c.calls, 1);
  assert_int_equal(c.last, H2_LOOP_WRITE);
  /* Setting the same interest again costs nothing. */
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_READ), 0);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_WRITE), 0);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  h2_loop_get_stats(loop, &s0);
  assert_int_equal(s0.ctl_calls, s1.ctl_calls);
  assert_int_equal(c.calls, 2);
  /* Readable with the peer's data; hang-up reports ERROR with the interest. */
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_READ), 0);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  assert_int_equal(c.calls, 2);
  assert_int_equal(write(sv[1], "x", 1), 1);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  assert_int_equal(c.calls, 3);
  assert_int_equal(c.last, H2_LOOP_READ);
  close(sv[1]);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  assert_int_equal(c.calls, 4);
  assert_true(c.last & H2_LOOP_READ);
  /* An unreferenced handle does not keep the loop alive. */
  h2_loop_io_unref(io);
  assert_false(h2_loop_alive(loop));
  h2_loop_io_ref(io);
  assert_true(h2_loop_alive(loop));
  h2_loop_io_close(io, NULL);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_READ), H2_ERR_STATE);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  h2_loop_free(loop);
}

static void test_registration_failure_reports_error(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  char path[] = "/tmp/h2_loop_test_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  coalesce_ctx c = {0};
  h2_loop_io *io;
  assert_int_equal(h2_loop_io_new(loop, &io, fd, H2_LOOP_IO_OWN_FD, count_cb, &c), 0);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_READ), 0);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 0);
  /* epoll refuses regular files (EPERM): reported as ERROR, interest reset */
  assert_int_equal(c.calls, 1);
  assert_int_equal(c.last, H2_LOOP_ERROR);
  assert_int_equal(h2_loop_io_errno(io), EPERM);
  assert_int_equal(h2_loop_io_events(io), 0);
  h2_loop_free(loop); /* closes the owned fd */
  assert_int_equal(fcntl(fd, F_GETFD), -1);
}

/* Mid-batch close: every fd is readable; the first callback closes all the
 * other handles AND opens new socketpairs, which reuse the closed fd
 * numbers, and registers them. Nothing else may be dispatched in that batch:
 * neither the closed handles nor the new ones that now own those numbers. */
enum { MB_N = 64 };

typedef struct midbatch {
  h2_loop *loop;
  h2_loop_io *io[MB_N];
  int fds[MB_N][2];
  int first_calls, other_calls, new_calls;
  int new_fds[MB_N][2];
  h2_loop_io *new_io[MB_N];
  int nnew, reused;
  int closed_cb;
} midbatch;

static void mb_new_cb(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)io;
  (void)fd;
  (void)events;
  ((midbatch *)user)->new_calls++;
}

static void mb_close_cb(h2_loop_io *io, void *user) {
  (void)io;
  ((midbatch *)user)->closed_cb++;
}

static void mb_cb(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)fd;
  (void)events;
  midbatch *m = user;
  if (m->first_calls > 0) {
    m->other_calls++;
    return;
  }
  m->first_calls++;
  int closed_fds[MB_N], nclosed = 0;
  for (int i = 0; i < MB_N; i++) {
    if (m->io[i] == io) continue;
    closed_fds[nclosed++] = m->fds[i][0];
    h2_loop_io_close(m->io[i], mb_close_cb);
    close(m->fds[i][1]);
    m->fds[i][1] = -1;
  }
  assert_int_equal(m->closed_cb, 0); /* close callbacks never run synchronously */
  for (int i = 0; i < MB_N - 1; i++) {
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, m->new_fds[i]), 0);
    for (int k = 0; k < 2; k++) {
      for (int j = 0; j < nclosed; j++) {
        if (m->new_fds[i][k] == closed_fds[j]) m->reused++;
      }
    }
    set_nonblock(m->new_fds[i][0]);
    assert_int_equal(write(m->new_fds[i][1], "n", 1), 1);
    assert_int_equal(h2_loop_io_new(m->loop, &m->new_io[i], m->new_fds[i][0], H2_LOOP_IO_OWN_FD,
                                    mb_new_cb, m), 0);
    assert_int_equal(h2_loop_io_set(m->new_io[i], H2_LOOP_READ), 0);
    m->nnew++;
  }
}

static void test_fd_closed_mid_batch_not_dispatched(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  midbatch *m = calloc(1, sizeof(*m));
  assert_non_null(m);
  m->loop = loop;
  for (int i = 0; i < MB_N; i++) {
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, m->fds[i]), 0);
    set_nonblock(m->fds[i][0]);
    assert_int_equal(write(m->fds[i][1], "r", 1), 1);
    assert_int_equal(h2_loop_io_new(loop, &m->io[i], m->fds[i][0], H2_LOOP_IO_OWN_FD, mb_cb, m), 0);
    assert_int_equal(h2_loop_io_set(m->io[i], H2_LOOP_READ), 0);
  }
  h2_loop_stats s0, s1;
  h2_loop_get_stats(loop, &s0);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  h2_loop_get_stats(loop, &s1);
  assert_int_equal(m->first_calls, 1);
  assert_int_equal(m->other_calls, 0);
  assert_int_equal(m->new_calls, 0);
  assert_int_equal(s1.dispatched - s0.dispatched, 1);
  assert_true(m->reused > 0); /* the scenario really reused fd numbers */
  assert_int_equal(m->closed_cb, MB_N - 1); /* ran in the close phase */
  /* The new handles work normally from the next iteration on. */
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT), 1);
  assert_int_equal(m->new_calls, MB_N - 1);
  for (int i = 0; i < MB_N - 1; i++) {
    h2_loop_io_close(m->new_io[i], NULL);
    close(m->new_fds[i][1]);
  }
  for (int i = 0; i < MB_N; i++) {
    if (m->fds[i][1] >= 0) close(m->fds[i][1]);
  }
  h2_loop_free(loop);
  free(m);
}

/* Allocation-tracking h2_mem: the handle must still be allocated while its
 * close callback runs, and freed right after. */
typedef struct track_mem {
  size_t live;
  void *last_freed;
  int frees;
} track_mem;

static void *tm_malloc(size_t n, void *user) {
  track_mem *t = user;
  void *p = malloc(n ? n : 1);
  if (p) t->live++;
  return p;
}
static void *tm_realloc(void *p, size_t n, void *user) {
  track_mem *t = user;
  void *q = realloc(p, n ? n : 1);
  if (q && !p) t->live++;
  return q;
}
static void tm_free(void *p, void *user) {
  track_mem *t = user;
  if (p) {
    t->live--;
    t->frees++;
    t->last_freed = p;
  }
  free(p);
}

typedef struct lifetime {
  track_mem *tm;
  h2_loop *loop;
  int close_calls;
  int frees_at_close;
  size_t handles_at_close;
  void *user_seen;
  int fd_seen;
} lifetime;

static void lt_close(h2_loop_io *io, void *user) {
  lifetime *l = user;
  l->close_calls++;
  l->frees_at_close = l->tm->frees;
  h2_loop_stats st;
  h2_loop_get_stats(l->loop, &st);
  l->handles_at_close = st.handles;
  /* The handle is still valid here. */
  l->user_seen = h2_loop_io_user(io);
  l->fd_seen = h2_loop_io_fd(io);
}

static void lt_io(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)fd;
  (void)events;
  h2_loop_io_close(io, lt_close);
  h2_loop_io_close(io, lt_close); /* twice is ignored */
  (void)user;
}

static void test_handle_freed_after_close_callback(void **state) {
  (void)state;
  track_mem tm = {0};
  h2_mem mem = {tm_malloc, tm_realloc, tm_free, &tm};
  h2_loop_config cfg = {0};
  cfg.mem = &mem;
  h2_loop *loop;
  assert_int_equal(h2_loop_new(&loop, &cfg), 0);
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  set_nonblock(sv[0]);
  lifetime l = {.tm = &tm, .loop = loop, .fd_seen = -1};
  h2_loop_io *io;
  assert_int_equal(h2_loop_io_new(loop, &io, sv[0], 0, lt_io, &l), 0);
  assert_int_equal(h2_loop_io_set(io, H2_LOOP_WRITE), 0);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  assert_int_equal(l.close_calls, 1);
  assert_int_equal(l.handles_at_close, 1);
  assert_ptr_equal(l.user_seen, &l);
  assert_int_equal(l.fd_seen, sv[0]);
  assert_int_equal(tm.frees, l.frees_at_close + 1); /* freed right after */
  assert_ptr_equal(tm.last_freed, io);
  h2_loop_stats st;
  h2_loop_get_stats(loop, &st);
  assert_int_equal(st.handles, 0);
  /* The handle did not own the fd: still open. */
  assert_int_equal(write(sv[0], "k", 1), 1);
  close(sv[0]);
  close(sv[1]);
  h2_loop_free(loop);
  assert_int_equal(tm.live, 0);
}

/* ---- threads ------------------------------------------------------------- */

enum { POSTS = 2000 };

typedef struct poster {
  h2_loop *loop;
  int seq[POSTS];
  int n;
  int order_errors;
  int done;
} poster;

static void post_cb(h2_loop *loop, void *user) {
  poster *p = user;
  (void)loop;
  if (p->n < POSTS) p->seq[p->n] = p->n;
  p->n++;
}

static void post_done(h2_loop *loop, void *user) {
  poster *p = user;
  p->done = 1;
  h2_loop_unref(loop);
}

static void *poster_thread(void *arg) {
  poster *p = arg;
  for (int i = 0; i < POSTS; i++) {
    if (h2_loop_post(p->loop, post_cb, p) != 0) p->order_errors++;
    if (i % 100 == 0) usleep(1000); /* let the loop block in between */
  }
  if (h2_loop_post(p->loop, post_done, p) != 0) p->order_errors++;
  return NULL;
}

static void test_post_from_thread_wakes_loop(void **state) {
  (void)state;
  h2_loop *loop = new_loop();
  poster *p = calloc(1, sizeof(*p));
  assert_non_null(p);
  p->loop = loop;
  watchdog w;
  watchdog_start(&w, loop, 20000);
  h2_loop_ref(loop); /* the other thread will post */
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, poster_thread, p), 0);
  double t0 = mono_s();
  int rc = h2_loop_run(loop, H2_LOOP_RUN_DEFAULT);
  double t1 = mono_s();
  pthread_join(th, NULL);
  assert_int_equal(w.fired, 0);
  assert_int_equal(rc, 0);
  assert_int_equal(p->done, 1);
  assert_int_equal(p->order_errors, 0);
  assert_int_equal(p->n, POSTS);
  for (int i = 0; i < POSTS; i++) assert_int_equal(p->seq[i], i);
  h2_loop_stats st;
  h2_loop_get_stats(loop, &st);
  /* The loop blocked and was woken: far fewer polls than posts is fine, but
   * it must have polled more than once and not spun. */
  printf("# %d posts from another thread: %llu polls\n", POSTS, (unsigned long long)st.polls);
  assert_true(st.polls >= 2);
  assert_true(st.polls <= POSTS + 2); /* at most one wake-up per post: no spinning */
  assert_true(t1 - t0 < 20.0);
  h2_loop_timer_stop(&w.t);
  h2_loop_free(loop);
  free(p);
}

static void *stopper_thread(void *arg) {
  usleep(50 * 1000);
  h2_loop_stop(arg);
  return NULL;
}

static void test_stop_from_thread(void **state) {
  (void)state;
  h2_loop *loop = new_loop();
  h2_loop_ref(loop); /* alive forever, no timers: blocks in poll */
  watchdog w;
  watchdog_start(&w, loop, 20000);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, stopper_thread, loop), 0);
  double t0 = mono_s();
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 1); /* work remains */
  double dt = mono_s() - t0;
  pthread_join(th, NULL);
  assert_int_equal(w.fired, 0);
  assert_true(dt >= 0.04 && dt < 10.0);
  /* A stop requested while not running is consumed by the next run. */
  h2_loop_stop(loop);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 1);
  h2_loop_unref(loop);
  h2_loop_timer_stop(&w.t);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  h2_loop_free(loop);
}

typedef struct nested {
  h2_loop *loop;
  int rc;
} nested;

static void run_nested(h2_loop_defer *d, void *user) {
  (void)d;
  nested *n = user;
  n->rc = h2_loop_run(n->loop, H2_LOOP_RUN_NOWAIT);
}

static void test_run_not_reentrant(void **state) {
  (void)state;
  h2_loop *loop = new_fake_loop();
  nested n = {loop, 0};
  h2_loop_defer d;
  h2_loop_defer_init(loop, &d, run_nested, &n);
  h2_loop_defer_schedule(&d);
  assert_int_equal(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT), 0);
  assert_int_equal(n.rc, H2_ERR_STATE);
  h2_loop_free(loop);
}

/* ---- 10,000 sockets ------------------------------------------------------ */

enum { PAIRS = 5000, ROUNDS = 3 };

typedef struct sock_srv {
  h2_loop_io *io[2 * PAIRS];
  int fd[2 * PAIRS];
  int reads[2 * PAIRS];
  int rounds_done[PAIRS];
  int pairs_done;
  int errors;
} sock_srv;

typedef struct sock_ref {
  sock_srv *s;
  int idx;
} sock_ref;

static sock_ref *sock_refs;

/* Even index: client (sends "ping", expects "pong"); odd: server (answers
 * "pong" to each "ping"). */
static void sock_cb(h2_loop_io *io, int fd, unsigned events, void *user) {
  sock_ref *r = user;
  sock_srv *s = r->s;
  char buf[16];
  (void)events;
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n != 4) {
    s->errors++;
    h2_loop_io_set(io, 0);
    return;
  }
  s->reads[r->idx]++;
  int pair = r->idx / 2;
  if (r->idx % 2 == 1) {
    if (memcmp(buf, "ping", 4) != 0 || write(fd, "pong", 4) != 4) s->errors++;
    return;
  }
  if (memcmp(buf, "pong", 4) != 0) s->errors++;
  if (++s->rounds_done[pair] < ROUNDS) {
    if (write(fd, "ping", 4) != 4) s->errors++;
  } else {
    s->pairs_done++;
    /* done: both handles stop (the loop ends when all are done) */
    h2_loop_io_set(io, 0);
    h2_loop_io_set(s->io[r->idx + 1], 0);
  }
}

static void test_ten_thousand_sockets(void **state) {
  (void)state;
  struct rlimit rl;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
  rlim_t need = 2 * PAIRS + 256;
  if (rl.rlim_cur < need) {
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || want < need) {
      fail_msg("cannot raise RLIMIT_NOFILE to %lu (hard limit %lu): 10,000-socket test impossible",
               (unsigned long)need, (unsigned long)rl.rlim_max);
    }
  }
  h2_loop *loop = new_loop();
  sock_srv *s = calloc(1, sizeof(*s));
  sock_refs = calloc(2 * PAIRS, sizeof(*sock_refs));
  assert_non_null(s);
  assert_non_null(sock_refs);
  for (int p = 0; p < PAIRS; p++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
      fail_msg("socketpair #%d failed: %s", p, strerror(errno));
    }
    for (int k = 0; k < 2; k++) {
      int i = 2 * p + k;
      set_nonblock(sv[k]);
      s->fd[i] = sv[k];
      sock_refs[i] = (sock_ref){s, i};
      assert_int_equal(h2_loop_io_new(loop, &s->io[i], sv[k], H2_LOOP_IO_OWN_FD, sock_cb,
                                      &sock_refs[i]), 0);
      assert_int_equal(h2_loop_io_set(s->io[i], H2_LOOP_READ), 0);
    }
    assert_int_equal(write(sv[0], "ping", 4), 4);
  }
  h2_loop_stats st;
  h2_loop_get_stats(loop, &st);
  assert_int_equal(st.handles, 2 * PAIRS);
  watchdog w;
  watchdog_start(&w, loop, 60000);
  double t0 = mono_s();
  int rc = h2_loop_run(loop, H2_LOOP_RUN_DEFAULT);
  double dt = mono_s() - t0;
  assert_int_equal(w.fired, 0);
  assert_int_equal(rc, 0);
  assert_int_equal(s->errors, 0);
  assert_int_equal(s->pairs_done, PAIRS);
  for (int i = 0; i < 2 * PAIRS; i++) assert_int_equal(s->reads[i], ROUNDS);
  h2_loop_get_stats(loop, &st);
  printf("# 10,000 sockets, %d round trips each pair: %.3f s, %llu polls, %llu callbacks\n",
         ROUNDS, dt, (unsigned long long)st.polls, (unsigned long long)st.dispatched);
  h2_loop_timer_stop(&w.t);
  h2_loop_free(loop); /* closes all 10,000 owned fds */
  for (int i = 0; i < 2 * PAIRS; i += 997) assert_int_equal(fcntl(s->fd[i], F_GETFD), -1);
  free(s);
  free(sock_refs);
}

/* ---- failing allocations ------------------------------------------------ */

typedef struct fail_mem {
  long n;       /* allocations so far */
  long fail_at; /* the allocation that fails (0-based), -1: none */
  long live;
  int failed;
} fail_mem;

static void *fm_malloc(size_t n, void *user) {
  fail_mem *f = user;
  if (f->n++ == f->fail_at) {
    f->failed = 1;
    return NULL;
  }
  void *p = malloc(n ? n : 1);
  if (p) f->live++;
  return p;
}
static void *fm_realloc(void *p, size_t n, void *user) {
  fail_mem *f = user;
  if (f->n++ == f->fail_at) {
    f->failed = 1;
    return NULL;
  }
  void *q = realloc(p, n ? n : 1);
  if (q && !p) f->live++;
  return q;
}
static void fm_free(void *p, void *user) {
  fail_mem *f = user;
  if (p) f->live--;
  free(p);
}

static int count_fds(void) {
  int n = 0;
  for (int fd = 0; fd < 1024; fd++) {
    if (fcntl(fd, F_GETFD) != -1) n++;
  }
  return n;
}

static void nop_post(h2_loop *loop, void *user) {
  (void)loop;
  (*(int *)user)++;
}

static void nop_timer(h2_loop_timer *t, void *user) {
  (void)t;
  (*(int *)user)++;
}

static int is_ok_or_nomem(int rc) { return rc == 0 || rc == H2_ERR_NOMEM; }

/* Fail the n-th allocation, for every n, in a scenario that creates a loop,
 * handles, a growing timer heap, posts and an output queue: every failure
 * is reported as H2_ERR_NOMEM, nothing leaks (memory or fds), nothing
 * crashes. */
static void test_failing_allocations(void **state) {
  (void)state;
  int fds_before = count_fds();
  int completed = 0;
  long points = 0;
  for (long at = 0; at < 2000 && !completed; at++, points++) {
    fail_mem fm = {.fail_at = at};
    h2_mem mem = {fm_malloc, fm_realloc, fm_free, &fm};
    h2_loop_config cfg = {.mem = &mem, .clock = fake_clock};
    h2_loop *loop = NULL;
    int rc = h2_loop_new(&loop, &cfg);
    assert_true(is_ok_or_nomem(rc));
    if (rc != 0) {
      assert_null(loop);
      assert_int_equal(fm.live, 0);
      assert_int_equal(count_fds(), fds_before);
      continue;
    }
    int sv[3][2];
    coalesce_ctx calls = {0};
    h2_loop_io *io[3];
    for (int i = 0; i < 3; i++) {
      assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]), 0);
      set_nonblock(sv[i][0]);
      rc = h2_loop_io_new(loop, &io[i], sv[i][0], H2_LOOP_IO_OWN_FD, NULL, NULL);
      assert_int_equal(rc, H2_ERR_INVALID_ARG); /* no callback */
      rc = h2_loop_io_new(loop, &io[i], sv[i][0], H2_LOOP_IO_OWN_FD,
                          count_cb, &calls);
      assert_true(is_ok_or_nomem(rc));
      if (rc == 0) {
        assert_int_equal(h2_loop_io_set(io[i], H2_LOOP_WRITE), 0);
      } else {
        assert_null(io[i]);
        close(sv[i][0]);
      }
    }
    h2_loop_timer ts[200];
    int tfired = 0, tstarted = 0;
    for (int i = 0; i < 200; i++) {
      h2_loop_timer_init(loop, &ts[i], nop_timer, &tfired);
      rc = h2_loop_timer_start(&ts[i], (uint64_t)i % 7, 0);
      assert_true(is_ok_or_nomem(rc));
      assert_int_equal(h2_loop_timer_active(&ts[i]), rc == 0);
      if (rc == 0) tstarted++;
    }
    int posted = 0, pran = 0;
    for (int i = 0; i < 40; i++) {
      rc = h2_loop_post(loop, nop_post, &pran);
      assert_true(is_ok_or_nomem(rc));
      if (rc == 0) posted++;
    }
    h2_loop_wbuf b;
    h2_loop_wbuf_init(&b, &mem);
    size_t queued = 0;
    for (int i = 0; i < 100; i++) {
      uint8_t frame[600];
      memset(frame, i, sizeof(frame));
      rc = h2_loop_wbuf_append(&b, frame, sizeof(frame));
      assert_true(is_ok_or_nomem(rc));
      if (rc == 0) queued += sizeof(frame);
      assert_int_equal(h2_loop_wbuf_pending(&b), queued);
    }
    fake_now += 10;
    assert_true(h2_loop_run(loop, H2_LOOP_RUN_NOWAIT) >= 0);
    assert_int_equal(pran, posted);
    assert_int_equal(tfired, tstarted);
    h2_loop_wbuf_free(&b);
    h2_loop_free(loop);
    for (int i = 0; i < 3; i++) close(sv[i][1]);
    assert_int_equal(fm.live, 0);
    assert_int_equal(count_fds(), fds_before);
    if (!fm.failed) {
      completed = 1;
      points--; /* this round failed nothing */
    }
  }
  assert_true(completed); /* the scenario ran through with no failure */
  printf("# %ld allocation points failed one at a time\n", points);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timers_fire_in_order_on_time),
      cmocka_unit_test(test_timer_repeat),
      cmocka_unit_test(test_timer_cancel_and_restart),
      cmocka_unit_test(test_timer_rearm_zero_runs_next_iteration),
      cmocka_unit_test(test_million_timers),
      cmocka_unit_test(test_timer_heap_random_vs_model),
      cmocka_unit_test(test_timer_ref_unref),
      cmocka_unit_test(test_deferred),
      cmocka_unit_test(test_interest_changes_coalesce),
      cmocka_unit_test(test_registration_failure_reports_error),
      cmocka_unit_test(test_fd_closed_mid_batch_not_dispatched),
      cmocka_unit_test(test_handle_freed_after_close_callback),
      cmocka_unit_test(test_post_from_thread_wakes_loop),
      cmocka_unit_test(test_stop_from_thread),
      cmocka_unit_test(test_run_not_reentrant),
      cmocka_unit_test(test_ten_thousand_sockets),
      cmocka_unit_test(test_failing_allocations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
