/* loop_internal.h: the loop's private state, shared by loop.c (core, fds,
 * deferred and posted callbacks) and loop_timer.c (the timer heap). */
#ifndef H2_LOOP_INTERNAL_H
#define H2_LOOP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "h2_loop.h"
#include "loop_poller.h"

/* h2_loop_io flags. */
enum {
  IO_OWN_FD = 1,     /* close(fd) when the handle closes */
  IO_UNREF = 2,      /* does not keep the loop alive */
  IO_CLOSING = 4,    /* h2_loop_io_close was called */
  IO_COUNTED = 8,    /* counted in loop->nactive */
  IO_CHANGED = 16,   /* in loop->changes at index chg_idx */
  IO_ERR_QUEUED = 32,/* in loop->errq: a registration failed */
  IO_INTERNAL = 64,  /* the loop's own wake-up handle */
};

struct h2_loop_io {
  h2_loop *loop;
  int fd;
  uint8_t flags; /* IO_* */
  uint8_t want;  /* interest as set by the user (H2_LOOP_READ|WRITE) */
  uint8_t reg;   /* interest as registered with the poller */
  int err;       /* errno of the last failed registration */
  uint32_t chg_idx; /* < loop->nchanges (one entry per handle) */
  h2_loop_io_cb cb;
  void *user;
  h2_loop_close_cb close_cb;
  h2_loop_close_cb on_free; /* internal owners: runs after close_cb, always */
  h2_loop_io *next_closing;
  h2_loop_io *next_err;
};

typedef struct h2_loop_heap_ent {
  uint64_t due;
  uint64_t seq;
  h2_loop_timer *t;
} h2_loop_heap_ent;

typedef struct post_item {
  h2_loop_post_cb cb;
  void *user;
} post_item;

struct h2_loop {
  const h2_mem *mem;
  h2_loop_clock_fn clock;
  void *clock_user;
  uint64_t now;

  h2_loop_poller *poller;
  h2_loop_event *events; /* the current dispatch batch */
  unsigned max_events;
  int batch_n, batch_i;  /* batch size and the entry being dispatched */

  h2_loop_io **fdtab;    /* fd -> open handle */
  size_t fdtab_len;
  h2_loop_io **changes;  /* handles with a queued interest change */
  size_t nchanges, changes_cap;
  size_t nhandles;       /* handles allocated, not yet freed */
  h2_loop_io *closing;   /* close callbacks to run (FIFO) */
  h2_loop_io *closing_last;
  h2_loop_io *errq;      /* failed registrations to report */

  size_t nactive;        /* referenced active handles and timers */
  size_t refs;           /* h2_loop_ref count */
  int running;

  /* Timers: a 4-ary min-heap ordered by (due, seq), keys stored inline so
   * that sifting compares without touching the timers. */
  struct h2_loop_heap_ent *heap;
  size_t nheap, heap_cap;
  uint64_t timer_seq;

  /* Deferred callbacks: circular lists with sentinels. */
  h2_loop_defer defer_q;   /* scheduled for the next defer phase */
  h2_loop_defer defer_run; /* being run in this defer phase */

  /* Posted callbacks (any thread). */
  pthread_mutex_t post_mu;
  post_item *posts, *posts_run;
  size_t nposts, posts_cap, posts_run_cap;
  atomic_size_t nposts_atomic;
  atomic_int stop;
  atomic_int wake_pending;
  int wake_rfd, wake_wfd; /* eventfd: both the same fd */
  h2_loop_io *wake_io;

  h2_loop_stats stats;
};

/* Timer internals (loop_timer.c). */
void h2_loop_timers_run(h2_loop *loop);
int h2_loop_timers_timeout(const h2_loop *loop); /* ms until the next timer, or -1 */
void h2_loop_timers_detach_all(h2_loop *loop);

/* h2_loop_active_add adjusts the count of referenced active things (+1/-1). */
static inline void h2_loop_active_add(h2_loop *loop, int delta) {
  loop->nactive = (size_t)((ptrdiff_t)loop->nactive + delta);
}

#endif
