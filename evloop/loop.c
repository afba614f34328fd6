/* loop.c: the loop core: iterations, fd handles, deferred and posted
 * callbacks, the wake-up, ref counting and the cached clock. Timers live in
 * loop_timer.c, the poller behind loop_poller.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
/* The wake-up is an eventfd on Linux and a pipe elsewhere; H2_LOOP_WAKE_PIPE
 * forces the pipe (the kqueue emulation test uses it on Linux). */
#if defined(__linux__) && !defined(H2_LOOP_WAKE_PIPE)
#define H2_LOOP_EVENTFD 1
#include <sys/eventfd.h>
#endif

#include "loop_internal.h"

/* ---- Clock --------------------------------------------------------------- */

static uint64_t monotonic_ms(void *user) {
  (void)user;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t h2_loop_now(const h2_loop *loop) { return loop->now; }

void h2_loop_update_time(h2_loop *loop) {
  uint64_t t = loop->clock(loop->clock_user);
  if (t > loop->now) loop->now = t; /* never backwards */
}

const char *h2_loop_backend(const h2_loop *loop) {
  (void)loop;
  return h2_loop_poller_name();
}

/* ---- Deferred-callback lists --------------------------------------------- */

static void dlist_init(h2_loop_defer *s) { s->next_ = s->prev_ = s; }
static int dlist_empty(const h2_loop_defer *s) { return s->next_ == s; }

static void dlist_unlink(h2_loop_defer *d) {
  d->prev_->next_ = d->next_;
  d->next_->prev_ = d->prev_;
  d->next_ = d->prev_ = NULL;
}

static void dlist_detach_all(h2_loop_defer *s) {
  while (!dlist_empty(s)) dlist_unlink(s->next_);
}

void h2_loop_defer_init(h2_loop *loop, h2_loop_defer *defer, h2_loop_defer_cb cb, void *user) {
  defer->next_ = defer->prev_ = NULL;
  defer->loop_ = loop;
  defer->cb_ = cb;
  defer->user_ = user;
}

void h2_loop_defer_schedule(h2_loop_defer *defer) {
  if (defer->next_ != NULL) return;
  h2_loop_defer *q = &defer->loop_->defer_q;
  defer->prev_ = q->prev_;
  defer->next_ = q;
  q->prev_->next_ = defer;
  q->prev_ = defer;
}

void h2_loop_defer_cancel(h2_loop_defer *defer) {
  if (defer->next_ != NULL) dlist_unlink(defer);
}

int h2_loop_defer_scheduled(const h2_loop_defer *defer) { return defer->next_ != NULL; }

static void run_deferred(h2_loop *loop) {
  h2_loop_defer *q = &loop->defer_q, *r = &loop->defer_run;
  if (dlist_empty(q)) return;
  /* Move everything scheduled so far to the run list; what callbacks
   * schedule now lands in defer_q for the next iteration. */
  r->next_ = q->next_;
  r->prev_ = q->prev_;
  r->next_->prev_ = r;
  r->prev_->next_ = r;
  dlist_init(q);
  while (!dlist_empty(r)) {
    h2_loop_defer *d = r->next_;
    dlist_unlink(d);
    d->cb_(d, d->user_);
  }
}

/* ---- Alive / ref --------------------------------------------------------- */

int h2_loop_alive(const h2_loop *loop) {
  return loop->nactive > 0 || loop->refs > 0 || !dlist_empty(&loop->defer_q) ||
         loop->closing != NULL || atomic_load(&loop->nposts_atomic) > 0;
}

void h2_loop_ref(h2_loop *loop) { loop->refs++; }

void h2_loop_unref(h2_loop *loop) {
  if (loop->refs > 0) loop->refs--;
}

/* ---- fd handles ---------------------------------------------------------- */

static void io_recount(h2_loop_io *io) {
  int should = io->want != 0 && !(io->flags & (IO_UNREF | IO_CLOSING));
  int is = (io->flags & IO_COUNTED) != 0;
  if (should == is) return;
  if (should) {
    io->flags |= IO_COUNTED;
    h2_loop_active_add(io->loop, 1);
  } else {
    io->flags &= ~(unsigned)IO_COUNTED;
    h2_loop_active_add(io->loop, -1);
  }
}

static int grow_ptrs(const h2_mem *mem, h2_loop_io ***arr, size_t *cap, size_t need, int zero) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 64;
  while (n < need) {
    if (n > SIZE_MAX / 2 / sizeof(h2_loop_io *)) return H2_ERR_NOMEM;
    n *= 2;
  }
  h2_loop_io **p = h2_mem_realloc(mem, *arr, n * sizeof(*p));
  if (p == NULL) return H2_ERR_NOMEM;
  if (zero) memset(p + *cap, 0, (n - *cap) * sizeof(*p));
  *arr = p;
  *cap = n;
  return 0;
}

int h2_loop_io_new(h2_loop *loop, h2_loop_io **out_io, int fd, unsigned flags, h2_loop_io_cb cb,
                   void *user) {
  *out_io = NULL;
  if (fd < 0 || cb == NULL || (flags & ~(unsigned)H2_LOOP_IO_OWN_FD)) return H2_ERR_INVALID_ARG;
  if ((size_t)fd < loop->fdtab_len && loop->fdtab[fd] != NULL) return H2_ERR_INVALID_ARG;
  /* Reserve room so that h2_loop_io_set can never fail for memory. */
  if (grow_ptrs(loop->mem, &loop->fdtab, &loop->fdtab_len, (size_t)fd + 1, 1) != 0 ||
      grow_ptrs(loop->mem, &loop->changes, &loop->changes_cap, loop->nhandles + 1, 0) != 0) {
    return H2_ERR_NOMEM;
  }
  h2_loop_io *io = h2_mem_malloc(loop->mem, sizeof(*io));
  if (io == NULL) return H2_ERR_NOMEM;
  memset(io, 0, sizeof(*io));
  io->loop = loop;
  io->fd = fd;
  io->flags = (flags & H2_LOOP_IO_OWN_FD) ? IO_OWN_FD : 0;
  io->cb = cb;
  io->user = user;
  loop->fdtab[fd] = io;
  loop->nhandles++;
  *out_io = io;
  return 0;
}

int h2_loop_io_set(h2_loop_io *io, unsigned events) {
  if (io->flags & IO_CLOSING) return H2_ERR_STATE;
  io->want = events & (H2_LOOP_READ | H2_LOOP_WRITE);
  io_recount(io);
  if (io->want != io->reg && !(io->flags & IO_CHANGED)) {
    h2_loop *loop = io->loop;
    io->flags |= IO_CHANGED;
    io->chg_idx = loop->nchanges;
    loop->changes[loop->nchanges++] = io; /* capacity reserved in io_new */
  }
  return 0;
}

unsigned h2_loop_io_events(const h2_loop_io *io) { return io->want; }

static void unqueue_change(h2_loop_io *io) {
  if (!(io->flags & IO_CHANGED)) return;
  h2_loop *loop = io->loop;
  h2_loop_io *last = loop->changes[--loop->nchanges];
  loop->changes[io->chg_idx] = last;
  last->chg_idx = io->chg_idx;
  io->flags &= ~(unsigned)IO_CHANGED;
}

void h2_loop_io_close(h2_loop_io *io, h2_loop_close_cb cb) {
  if (io->flags & IO_CLOSING) return;
  h2_loop *loop = io->loop;
  io->flags |= IO_CLOSING;
  io_recount(io);
  unqueue_change(io);
  if (io->reg != 0) {
    int e = errno;
    (void)h2_loop_poller_del(loop->poller, io->fd, io->reg);
    errno = e;
    loop->stats.ctl_calls++;
    io->reg = 0;
  }
  if ((size_t)io->fd < loop->fdtab_len && loop->fdtab[io->fd] == io) loop->fdtab[io->fd] = NULL;
  /* Invalidate the rest of the current batch for this fd: its number may be
   * reused by a new handle before the batch ends. */
  for (int j = loop->batch_i + 1; j < loop->batch_n; j++) {
    if (loop->events[j].fd == io->fd) loop->events[j].fd = -1;
  }
  if (io->flags & IO_OWN_FD) {
    int e = errno;
    close(io->fd);
    errno = e;
  }
  io->close_cb = cb;
  io->next_closing = NULL;
  if (loop->closing == NULL) {
    loop->closing = io;
  } else {
    loop->closing_last->next_closing = io;
  }
  loop->closing_last = io;
}

void h2_loop_io_ref(h2_loop_io *io) {
  io->flags &= ~(unsigned)IO_UNREF;
  io_recount(io);
}

void h2_loop_io_unref(h2_loop_io *io) {
  io->flags |= IO_UNREF;
  io_recount(io);
}

int h2_loop_io_fd(const h2_loop_io *io) { return io->fd; }
h2_loop *h2_loop_io_loop(const h2_loop_io *io) { return io->loop; }
void *h2_loop_io_user(const h2_loop_io *io) { return io->user; }
void h2_loop_io_set_user(h2_loop_io *io, void *user) { io->user = user; }
int h2_loop_io_errno(const h2_loop_io *io) { return io->err; }

/* apply_change brings the poller's view of |io| to io->want. A failure
 * resets the interest to 0 and queues an H2_LOOP_ERROR report. */
static void apply_change(h2_loop *loop, h2_loop_io *io) {
  unsigned want = io->want, reg = io->reg;
  if (want == reg) return;
  int rc;
  if (reg == 0) {
    rc = h2_loop_poller_add(loop->poller, io->fd, want);
  } else if (want == 0) {
    rc = h2_loop_poller_del(loop->poller, io->fd, reg);
  } else {
    rc = h2_loop_poller_mod(loop->poller, io->fd, reg, want);
  }
  loop->stats.ctl_calls++;
  if (rc == 0) {
    io->reg = want;
    return;
  }
  io->err = errno;
  if (reg != 0 && want != 0) {
    (void)h2_loop_poller_del(loop->poller, io->fd, reg);
    loop->stats.ctl_calls++;
  }
  io->reg = 0;
  io->want = 0;
  io_recount(io);
  if (!(io->flags & IO_ERR_QUEUED)) {
    io->flags |= IO_ERR_QUEUED;
    io->next_err = loop->errq;
    loop->errq = io;
  }
}

static void flush_changes(h2_loop *loop) {
  for (size_t i = 0; i < loop->nchanges; i++) {
    h2_loop_io *io = loop->changes[i];
    io->flags &= ~(unsigned)IO_CHANGED;
    apply_change(loop, io);
  }
  loop->nchanges = 0;
}

/* report_errors calls back the handles whose registration failed. Runs in
 * the dispatch phase, so handles closed meanwhile are still allocated. */
static void report_errors(h2_loop *loop) {
  while (loop->errq != NULL) {
    h2_loop_io *io = loop->errq;
    loop->errq = io->next_err;
    io->flags &= ~(unsigned)IO_ERR_QUEUED;
    if (io->flags & IO_CLOSING) continue;
    errno = io->err;
    loop->stats.dispatched++;
    io->cb(io, io->fd, H2_LOOP_ERROR, io->user);
  }
}

static void dispatch(h2_loop *loop, int n) {
  loop->batch_n = n;
  for (loop->batch_i = 0; loop->batch_i < n; loop->batch_i++) {
    h2_loop_event ev = loop->events[loop->batch_i];
    if (ev.fd < 0 || (size_t)ev.fd >= loop->fdtab_len) continue;
    h2_loop_io *io = loop->fdtab[ev.fd];
    if (io == NULL || (io->flags & IO_CLOSING) || io->want == 0) continue;
    unsigned deliver = ev.events & io->want;
    if (ev.events & H2_LOOP_ERROR) deliver |= H2_LOOP_ERROR | io->want;
    if (deliver == 0) continue;
    loop->stats.dispatched++;
    io->cb(io, ev.fd, deliver, io->user);
  }
  loop->batch_n = 0;
  loop->batch_i = 0;
}

static void run_closing(h2_loop *loop) {
  while (loop->closing != NULL) {
    h2_loop_io *io = loop->closing;
    loop->closing = io->next_closing;
    if (loop->closing == NULL) loop->closing_last = NULL;
    if (io->close_cb != NULL) io->close_cb(io, io->user);
    if (io->on_free != NULL) io->on_free(io, io->user);
    h2_mem_free(loop->mem, io);
    loop->nhandles--;
  }
}

/* ---- Posting and waking -------------------------------------------------- */

void h2_loop_wake(h2_loop *loop) {
  if (atomic_exchange(&loop->wake_pending, 1) != 0) return;
  int e = errno;
#ifdef H2_LOOP_EVENTFD
  uint64_t one = 1;
  ssize_t r = write(loop->wake_wfd, &one, sizeof(one));
#else
  char one = 1;
  ssize_t r = write(loop->wake_wfd, &one, 1);
#endif
  (void)r; /* EAGAIN: the counter/pipe is already full, so it is readable */
  errno = e;
}

static void wake_cb(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)io;
  (void)events;
  h2_loop *loop = user;
  /* Drain, then clear. Clearing first lost wake-ups: a post between the
   * clear and the read wrote a wake-up this read then consumed, leaving
   * wake_pending set over an empty fd, so every later post skipped its write
   * and the loop slept. A post before the clear needs no write: its work is
   * queued already and this iteration's run_posted/poll timeout check sees it. */
  uint64_t buf[8];
  for (int i = 0; i < 64; i++) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r <= 0 || r < (ssize_t)sizeof(buf)) break;
  }
  atomic_store(&loop->wake_pending, 0);
}

int h2_loop_post(h2_loop *loop, h2_loop_post_cb cb, void *user) {
  if (cb == NULL) return H2_ERR_INVALID_ARG;
  pthread_mutex_lock(&loop->post_mu);
  if (loop->nposts == loop->posts_cap) {
    size_t cap = loop->posts_cap ? loop->posts_cap * 2 : 16;
    post_item *p = NULL;
    if (cap <= SIZE_MAX / sizeof(*p)) p = h2_mem_realloc(loop->mem, loop->posts, cap * sizeof(*p));
    if (p == NULL) {
      pthread_mutex_unlock(&loop->post_mu);
      return H2_ERR_NOMEM;
    }
    loop->posts = p;
    loop->posts_cap = cap;
  }
  loop->posts[loop->nposts].cb = cb;
  loop->posts[loop->nposts].user = user;
  loop->nposts++;
  atomic_store(&loop->nposts_atomic, loop->nposts);
  pthread_mutex_unlock(&loop->post_mu);
  h2_loop_wake(loop);
  return 0;
}

static void run_posted(h2_loop *loop) {
  if (atomic_load(&loop->nposts_atomic) == 0) return;
  pthread_mutex_lock(&loop->post_mu);
  post_item *items = loop->posts;
  size_t n = loop->nposts, cap = loop->posts_cap;
  loop->posts = loop->posts_run;
  loop->posts_cap = loop->posts_run_cap;
  loop->nposts = 0;
  atomic_store(&loop->nposts_atomic, 0);
  loop->posts_run = items;
  loop->posts_run_cap = cap;
  pthread_mutex_unlock(&loop->post_mu);
  for (size_t i = 0; i < n; i++) items[i].cb(loop, items[i].user);
}

void h2_loop_stop(h2_loop *loop) {
  atomic_store(&loop->stop, 1);
  h2_loop_wake(loop);
}

/* ---- Create / destroy ---------------------------------------------------- */

static int set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  return fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -1 : 0;
}

static int wake_open(h2_loop *loop) {
#ifdef H2_LOOP_EVENTFD
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return H2_ERR_IO;
  loop->wake_rfd = loop->wake_wfd = fd;
#else
  int p[2];
  if (pipe(p) != 0) return H2_ERR_IO;
  loop->wake_rfd = p[0];
  loop->wake_wfd = p[1];
  if (set_nonblock_cloexec(p[0]) != 0 || set_nonblock_cloexec(p[1]) != 0) return H2_ERR_IO;
#endif
  (void)set_nonblock_cloexec;
  int rc = h2_loop_io_new(loop, &loop->wake_io, loop->wake_rfd, H2_LOOP_IO_OWN_FD, wake_cb, loop);
  if (rc != 0) return rc;
  loop->wake_io->flags |= IO_INTERNAL | IO_UNREF;
  /* Register now, so that a failure fails h2_loop_new. */
  rc = h2_loop_poller_add(loop->poller, loop->wake_rfd, H2_LOOP_READ);
  if (rc != 0) return rc;
  loop->wake_io->want = loop->wake_io->reg = H2_LOOP_READ;
  return 0;
}

int h2_loop_new(h2_loop **out_loop, const h2_loop_config *config) {
  *out_loop = NULL;
  h2_loop_config cfg = {0};
  if (config != NULL) cfg = *config;
  const h2_mem *mem = cfg.mem ? cfg.mem : h2_mem_default();
  if (cfg.max_events == 0) cfg.max_events = 256;
  if (cfg.max_events > 65536) cfg.max_events = 65536;
  h2_loop *loop = h2_mem_malloc(mem, sizeof(*loop));
  if (loop == NULL) return H2_ERR_NOMEM;
  memset(loop, 0, sizeof(*loop));
  loop->mem = mem;
  loop->clock = cfg.clock ? cfg.clock : monotonic_ms;
  loop->clock_user = cfg.clock ? cfg.clock_user : NULL;
  loop->max_events = cfg.max_events;
  loop->wake_rfd = loop->wake_wfd = -1;
  dlist_init(&loop->defer_q);
  dlist_init(&loop->defer_run);
  atomic_init(&loop->nposts_atomic, 0);
  atomic_init(&loop->stop, 0);
  atomic_init(&loop->wake_pending, 0);
  if (pthread_mutex_init(&loop->post_mu, NULL) != 0) {
    h2_mem_free(mem, loop);
    return H2_ERR_NOMEM;
  }
  loop->now = loop->clock(loop->clock_user);
  int rc = h2_loop_poller_new(&loop->poller, mem, cfg.max_events);
  if (rc == 0) {
    loop->events = h2_mem_malloc(mem, (size_t)cfg.max_events * sizeof(h2_loop_event));
    if (loop->events == NULL) rc = H2_ERR_NOMEM;
  }
  if (rc == 0) rc = wake_open(loop);
  if (rc != 0) {
    int e = errno;
    if (loop->wake_io == NULL && loop->wake_rfd >= 0) close(loop->wake_rfd);
    h2_loop_free(loop);
    errno = e;
    return rc;
  }
  *out_loop = loop;
  return 0;
}

void h2_loop_free(h2_loop *loop) {
  if (loop == NULL) return;
  h2_loop_timers_detach_all(loop);
  dlist_detach_all(&loop->defer_q);
  dlist_detach_all(&loop->defer_run);
  /* Close callbacks may touch timers or defers: they are detached now. */
  for (size_t fd = 0; fd < loop->fdtab_len; fd++) {
    h2_loop_io *io = loop->fdtab[fd];
    if (io != NULL) h2_loop_io_close(io, NULL);
  }
  loop->errq = NULL;
  run_closing(loop);
  if (loop->wake_wfd >= 0 && loop->wake_wfd != loop->wake_rfd) close(loop->wake_wfd);
  h2_loop_poller_free(loop->poller, loop->mem);
  const h2_mem *mem = loop->mem;
  h2_mem_free(mem, loop->events);
  h2_mem_free(mem, loop->fdtab);
  h2_mem_free(mem, loop->changes);
  h2_mem_free(mem, loop->heap);
  h2_mem_free(mem, loop->posts);
  h2_mem_free(mem, loop->posts_run);
  pthread_mutex_destroy(&loop->post_mu);
  h2_mem_free(mem, loop);
}

/* ---- Running ------------------------------------------------------------- */

static int iterate(h2_loop *loop, h2_loop_run_mode mode) {
  h2_loop_update_time(loop);
  h2_loop_timers_run(loop);
  run_deferred(loop);
  run_posted(loop);
  flush_changes(loop);

  int timeout;
  if (mode == H2_LOOP_RUN_NOWAIT || atomic_load(&loop->stop) || !dlist_empty(&loop->defer_q) ||
      atomic_load(&loop->nposts_atomic) > 0 || loop->closing != NULL || loop->errq != NULL ||
      !h2_loop_alive(loop)) {
    timeout = 0;
  } else {
    timeout = h2_loop_timers_timeout(loop);
  }
  int n = h2_loop_poller_poll(loop->poller, timeout, loop->events, (int)loop->max_events);
  loop->stats.polls++;
  int rc = 0, saved = 0;
  if (n < 0) {
    rc = n;
    saved = errno;
    n = 0;
  }
  h2_loop_update_time(loop);
  report_errors(loop);
  dispatch(loop, n);
  h2_loop_timers_run(loop);
  run_closing(loop);
  loop->stats.iterations++;
  if (rc != 0) errno = saved;
  return rc;
}

int h2_loop_run(h2_loop *loop, h2_loop_run_mode mode) {
  if (loop->running) return H2_ERR_STATE;
  loop->running = 1;
  int rc = 0;
  int alive = h2_loop_alive(loop);
  if (!alive) {
    /* Nothing to run: still bring the poller up to date (e.g. paused fds). */
    h2_loop_update_time(loop);
    flush_changes(loop);
  }
  while (alive) {
    rc = iterate(loop, mode);
    alive = h2_loop_alive(loop);
    if (rc < 0) break;
    if (atomic_exchange(&loop->stop, 0)) break;
    if (mode != H2_LOOP_RUN_DEFAULT) break;
  }
  loop->running = 0;
  if (rc < 0) return rc;
  return alive ? 1 : 0;
}

void h2_loop_get_stats(const h2_loop *loop, h2_loop_stats *out) {
  *out = loop->stats;
  out->timers = loop->nheap;
  out->handles = loop->nhandles - (loop->wake_io != NULL ? 1 : 0);
}
