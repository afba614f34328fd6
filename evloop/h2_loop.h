/* h2_loop.h: the h2 event loop.
 *
 * A small single-threaded readiness loop: file descriptors (level-triggered
 * read/write interest), timers in a min-heap, deferred callbacks, a
 * thread-safe post queue with a wake-up, ref/unref so that the loop ends when
 * nothing referenced remains, and a cached monotonic "now" in milliseconds
 * with an injectable clock. Backends: epoll (Linux) and kqueue (BSD, macOS),
 * picked at build time.
 *
 * One iteration of h2_loop_run:
 *   1. update "now"; run the timers that are due (in due order, ties in start
 *      order);
 *   2. run the deferred callbacks that were scheduled before this phase began
 *      (ones scheduled while it runs wait for the next iteration);
 *   3. run the callbacks posted from any thread (h2_loop_post);
 *   4. apply the queued interest changes (h2_loop_io_set; several changes to
 *      one fd in one iteration cost at most one system call), then poll: with
 *      timeout 0 if deferred work, posted work, pending close callbacks or a
 *      stop request exist, else until the nearest timer, else forever;
 *   5. update "now"; report failed registrations (H2_LOOP_ERROR); dispatch
 *      the ready fds (an fd handle closed during the batch gets no further
 *      events from that batch, even if its fd number is reused at once);
 *      then run the timers that became due while polling;
 *   6. run the close callbacks of handles closed so far, then free them.
 *
 * Threads: every function is for the loop's thread only, except
 * h2_loop_post, h2_loop_stop and h2_loop_wake, which any thread may call
 * while the loop exists.
 *
 * Errors: functions that can fail return a negative h2_err (h2_err.h). When
 * the cause is a system call, the result is H2_ERR_IO and errno is left as
 * the system call set it, so the caller can print strerror(errno). */
#ifndef H2_LOOP_H
#define H2_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "h2_err.h"
#include "h2_mem.h"

typedef struct h2_loop h2_loop;
typedef struct h2_loop_io h2_loop_io;
typedef struct h2_loop_timer h2_loop_timer;
typedef struct h2_loop_defer h2_loop_defer;

/* ---- The loop ---------------------------------------------------------- */

/* h2_loop_clock_fn returns the current time in milliseconds on a clock that
 * never goes backwards. */
typedef uint64_t (*h2_loop_clock_fn)(void *user);

typedef struct h2_loop_config {
  /* mem allocates everything the loop allocates; NULL means h2_mem_default().
   * It must outlive the loop, and be thread-safe if other threads call
   * h2_loop_post (the post queue grows under the loop's lock). */
  const h2_mem *mem;
  /* clock, when not NULL, replaces CLOCK_MONOTONIC (tests inject a fake
   * clock). The poll timeout is still computed from it, so with a fake clock
   * run the loop with H2_LOOP_RUN_NOWAIT and advance the clock yourself. */
  h2_loop_clock_fn clock;
  void *clock_user;
  /* max_events is how many ready fds one poll may return (0: 256). */
  unsigned max_events;
} h2_loop_config;

/* h2_loop_new creates a loop and stores it in |*out_loop|. |config| may be
 * NULL (all defaults); it is copied. Returns 0, H2_ERR_NOMEM, or H2_ERR_IO
 * (epoll_create1/kqueue/eventfd/pipe failed; errno set). */
int h2_loop_new(h2_loop **out_loop, const h2_loop_config *config);

/* h2_loop_free destroys |loop| (NULL is allowed). It must not be called from
 * inside a callback of |loop|. Timers still started are detached first (they
 * become inactive; their memory is the caller's and is not touched after
 * this), and so are scheduled deferred callbacks (dropped, not called). Then
 * fd handles still open are closed without a close callback (fds they own
 * are closed), the close callbacks already requested run, and every handle
 * is freed. Posted callbacks that have not run are dropped. */
void h2_loop_free(h2_loop *loop);

typedef enum h2_loop_run_mode {
  /* Run until h2_loop_stop, or until nothing referenced remains. */
  H2_LOOP_RUN_DEFAULT = 0,
  /* Run one iteration; poll waits for an event if anything is referenced. */
  H2_LOOP_RUN_ONCE = 1,
  /* Run one iteration; poll does not wait. */
  H2_LOOP_RUN_NOWAIT = 2,
} h2_loop_run_mode;

/* h2_loop_run runs |loop| as |mode| says. Returns 1 if referenced work
 * remains (stopped, or ONCE/NOWAIT finished an iteration with work left), 0
 * if nothing referenced remains, or H2_ERR_IO if polling failed (errno set;
 * EINTR is retried, not reported). Must not be called from a callback of
 * |loop| (no recursion: H2_ERR_STATE). */
int h2_loop_run(h2_loop *loop, h2_loop_run_mode mode);

/* h2_loop_stop makes h2_loop_run return after the current iteration (the
 * next one, if called while it is not running: the stop request is kept
 * until a run consumes it). Any thread may call it. */
void h2_loop_stop(h2_loop *loop);

/* h2_loop_alive returns 1 if |loop| has referenced work: an active
 * referenced fd handle or timer, a deferred or posted callback, a pending
 * close callback, or a loop reference (h2_loop_ref); else 0. */
int h2_loop_alive(const h2_loop *loop);

/* h2_loop_ref and h2_loop_unref count "keep running" references on the loop
 * itself (say, while another thread will post work). Unref below zero is
 * ignored. Loop thread only. */
void h2_loop_ref(h2_loop *loop);
void h2_loop_unref(h2_loop *loop);

/* h2_loop_now returns the loop's cached time in milliseconds, updated at the
 * start of each iteration and after each poll. */
uint64_t h2_loop_now(const h2_loop *loop);

/* h2_loop_update_time refreshes the cached time from the clock (for long
 * callbacks that need a fresh "now"). */
void h2_loop_update_time(h2_loop *loop);

/* h2_loop_backend returns the backend's name: "epoll" or "kqueue". */
const char *h2_loop_backend(const h2_loop *loop);

/* ---- Posting work from other threads ------------------------------------ */

typedef void (*h2_loop_post_cb)(h2_loop *loop, void *user);

/* h2_loop_post queues |cb(loop, user)| to run on the loop's thread in its
 * next iteration (phase 3) and wakes the loop. Any thread may call it,
 * including the loop's own. Callbacks run in the order they were posted.
 * A queued post keeps the loop alive. Returns 0 or H2_ERR_NOMEM. If the loop
 * is freed first, the callback is dropped without being called. */
int h2_loop_post(h2_loop *loop, h2_loop_post_cb cb, void *user);

/* h2_loop_wake makes a blocked poll return early (no callback). Any thread. */
void h2_loop_wake(h2_loop *loop);

/* ---- File descriptors --------------------------------------------------- */

/* Event bits: interest given to h2_loop_io_set, readiness given to the
 * callback. H2_LOOP_ERROR is never requested: it is reported (with READ
 * and/or WRITE, whichever is wanted) when the fd has an error or hang-up, or
 * when registering the fd with the backend failed (then h2_loop_io_errno
 * tells why, and interest is reset to 0). */
enum {
  H2_LOOP_READ = 1,
  H2_LOOP_WRITE = 2,
  H2_LOOP_ERROR = 4,
};

/* Flags for h2_loop_io_new. */
enum {
  /* The handle owns the fd: closing the handle closes the fd. */
  H2_LOOP_IO_OWN_FD = 1,
};

/* h2_loop_io_cb is called with the ready |events| (a subset of the interest,
 * plus H2_LOOP_ERROR). It may do anything with |io|, including close it. */
typedef void (*h2_loop_io_cb)(h2_loop_io *io, int fd, unsigned events, void *user);

/* h2_loop_close_cb is called once after h2_loop_io_close, in the close phase
 * of the iteration; after it returns the loop frees |io|. */
typedef void (*h2_loop_close_cb)(h2_loop_io *io, void *user);

/* h2_loop_io_new creates a handle watching |fd| (which should be
 * non-blocking) with interest 0 and stores it in |*out_io|. The loop owns the
 * handle's memory: it is freed after the close callback (h2_loop_io_close).
 * One handle per fd at a time. |flags| is 0 or H2_LOOP_IO_OWN_FD. The handle
 * starts referenced. Without OWN_FD, close the handle before closing the fd.
 * Returns 0, H2_ERR_INVALID_ARG (fd < 0, |cb| NULL, unknown flags, or |fd|
 * already has a handle that is not closed), or H2_ERR_NOMEM. */
int h2_loop_io_new(h2_loop *loop, h2_loop_io **out_io, int fd, unsigned flags,
                   h2_loop_io_cb cb, void *user);

/* h2_loop_io_set sets the interest of |io| to |events| (H2_LOOP_READ |
 * H2_LOOP_WRITE, or 0 to pause). The change is queued and applied just
 * before the next poll; changes made in between coalesce. A handle with
 * interest 0 is inactive: it does not keep the loop alive. Returns 0 or
 * H2_ERR_STATE if |io| is closing. */
int h2_loop_io_set(h2_loop_io *io, unsigned events);

/* h2_loop_io_events returns the interest of |io| (as last set). */
unsigned h2_loop_io_events(const h2_loop_io *io);

/* h2_loop_io_close stops |io| at once: it is removed from the backend and
 * receives no more events, even later in the current dispatch batch. Its fd
 * is closed now if the handle owns it. |cb| (may be NULL) is called in the
 * close phase of the current iteration (the next one if not running), then
 * the handle is freed. Closing twice is ignored. A closing handle keeps the
 * loop alive until its close callback has run. */
void h2_loop_io_close(h2_loop_io *io, h2_loop_close_cb cb);

/* h2_loop_io_ref / h2_loop_io_unref: an unreferenced handle still gets
 * events but does not keep the loop alive. Idempotent (a flag, not a count). */
void h2_loop_io_ref(h2_loop_io *io);
void h2_loop_io_unref(h2_loop_io *io);

/* Accessors. h2_loop_io_errno returns the errno of the last failed backend
 * registration of |io| (0 if none). */
int h2_loop_io_fd(const h2_loop_io *io);
h2_loop *h2_loop_io_loop(const h2_loop_io *io);
void *h2_loop_io_user(const h2_loop_io *io);
void h2_loop_io_set_user(h2_loop_io *io, void *user);
int h2_loop_io_errno(const h2_loop_io *io);

/* ---- Timers ------------------------------------------------------------- */

/* Timers are caller-owned structs (embed them; no allocation per timer).
 * Start and stop are O(log n) with no system call. A started, referenced
 * timer keeps the loop alive. The fields are private. */
typedef void (*h2_loop_timer_cb)(h2_loop_timer *timer, void *user);

struct h2_loop_timer {
  h2_loop *loop_;
  h2_loop_timer_cb cb_;
  void *user_;
  uint64_t due_;
  uint64_t repeat_;
  uint64_t seq_;
  uint32_t heap_idx_;
  unsigned flags_;
};

/* h2_loop_timer_init prepares |timer| (inactive, referenced). Must be called
 * before any other timer function; never on a started timer. */
void h2_loop_timer_init(h2_loop *loop, h2_loop_timer *timer, h2_loop_timer_cb cb,
                        void *user);

/* h2_loop_timer_start (re)starts |timer| to fire |timeout_ms| after
 * h2_loop_now() and then, if |repeat_ms| > 0, every |repeat_ms| after each
 * time it was due (a late loop fires it once, not once per missed period).
 * Starting a started timer restarts it. Returns 0 or H2_ERR_NOMEM (the heap
 * could not grow; the timer is then inactive). */
int h2_loop_timer_start(h2_loop_timer *timer, uint64_t timeout_ms, uint64_t repeat_ms);

/* h2_loop_timer_stop stops |timer| (no-op if inactive). After it returns
 * the loop no longer touches |timer|: its memory may be freed. */
void h2_loop_timer_stop(h2_loop_timer *timer);

/* h2_loop_timer_active returns 1 if |timer| is started. Inside its own
 * callback a repeating timer is active and a one-shot timer is not. */
int h2_loop_timer_active(const h2_loop_timer *timer);

/* h2_loop_timer_due returns the time |timer| is due (meaningful if active). */
uint64_t h2_loop_timer_due(const h2_loop_timer *timer);

/* Idempotent ref flag, as for fd handles. */
void h2_loop_timer_ref(h2_loop_timer *timer);
void h2_loop_timer_unref(h2_loop_timer *timer);

/* ---- Deferred callbacks ------------------------------------------------- */

/* A deferred callback runs once in the next iteration's defer phase (phase
 * 2), before polling. Caller-owned, no allocation: scheduling an already
 * scheduled one does nothing, which makes "flush once per iteration" cheap.
 * A scheduled deferred callback keeps the loop alive. Fields are private. */
typedef void (*h2_loop_defer_cb)(h2_loop_defer *defer, void *user);

struct h2_loop_defer {
  h2_loop_defer *next_;
  h2_loop_defer *prev_;
  h2_loop *loop_;
  h2_loop_defer_cb cb_;
  void *user_;
};

/* h2_loop_defer_init prepares |defer| (not scheduled). */
void h2_loop_defer_init(h2_loop *loop, h2_loop_defer *defer, h2_loop_defer_cb cb,
                        void *user);

/* h2_loop_defer_schedule schedules |defer| (no-op if already scheduled). It
 * may be called from its own callback to run again next iteration. */
void h2_loop_defer_schedule(h2_loop_defer *defer);

/* h2_loop_defer_cancel unschedules |defer| (no-op if not scheduled). After it
 * returns, the loop no longer touches |defer|. */
void h2_loop_defer_cancel(h2_loop_defer *defer);

/* h2_loop_defer_scheduled returns 1 if |defer| is scheduled. */
int h2_loop_defer_scheduled(const h2_loop_defer *defer);

/* ---- Statistics (tests and benchmarks) ---------------------------------- */

typedef struct h2_loop_stats {
  uint64_t iterations;   /* loop iterations run */
  uint64_t polls;        /* epoll_wait / kevent waits */
  uint64_t ctl_calls;    /* interest-change system calls */
  uint64_t dispatched;   /* fd callbacks called */
  size_t timers;         /* timers started now */
  size_t handles;        /* fd handles not yet freed */
} h2_loop_stats;

/* h2_loop_get_stats fills |*out| with counters of |loop|. */
void h2_loop_get_stats(const h2_loop *loop, h2_loop_stats *out);

#endif
