/* backend_kqueue.c: the kqueue poller (FreeBSD, OpenBSD, NetBSD, macOS).
 *
 * On Linux this file is only compile-checked (`make check-kqueue`) against
 * the test-only declarations in test/kqueue_decl. READ and WRITE interest are
 * two filters; a ready fd may come back as two entries, which poll merges
 * when they are adjacent (the core handles the rest). */
#include "loop_poller.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/event.h>
#include <time.h>
#include <unistd.h>

struct h2_loop_poller {
  int kq;
  unsigned max;
  struct kevent evs[]; /* max entries */
};

const char *h2_loop_poller_name(void) { return "kqueue"; }

int h2_loop_poller_new(h2_loop_poller **out, const h2_mem *mem, unsigned max_events) {
  *out = NULL;
  if (max_events == 0) return H2_ERR_INVALID_ARG;
  h2_loop_poller *be =
      h2_mem_malloc(mem, sizeof(*be) + (size_t)max_events * sizeof(struct kevent));
  if (be == NULL) return H2_ERR_NOMEM;
  be->kq = kqueue();
  if (be->kq < 0) {
    int e = errno;
    h2_mem_free(mem, be);
    errno = e;
    return H2_ERR_IO;
  }
  (void)fcntl(be->kq, F_SETFD, FD_CLOEXEC);
  be->max = max_events;
  *out = be;
  return 0;
}

void h2_loop_poller_free(h2_loop_poller *be, const h2_mem *mem) {
  if (be == NULL) return;
  close(be->kq);
  h2_mem_free(mem, be);
}

/* apply submits the changes for the filters in |add| (EV_ADD) and |del|
 * (EV_DELETE) in one kevent call. */
static int apply(h2_loop_poller *be, int fd, unsigned add, unsigned del) {
  struct kevent ch[4];
  int n = 0;
  if (add & H2_LOOP_READ) EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_READ, EV_ADD, 0, 0, NULL);
  if (add & H2_LOOP_WRITE) EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_WRITE, EV_ADD, 0, 0, NULL);
  if (del & H2_LOOP_READ) EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
  if (del & H2_LOOP_WRITE) EV_SET(&ch[n++], (uintptr_t)fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
  if (n == 0) return 0;
  return kevent(be->kq, ch, n, NULL, 0, NULL) == 0 ? 0 : H2_ERR_IO;
}

int h2_loop_poller_add(h2_loop_poller *be, int fd, unsigned mask) {
  return apply(be, fd, mask, 0);
}

int h2_loop_poller_mod(h2_loop_poller *be, int fd, unsigned old_mask, unsigned new_mask) {
  return apply(be, fd, new_mask & ~old_mask, old_mask & ~new_mask);
}

int h2_loop_poller_del(h2_loop_poller *be, int fd, unsigned old_mask) {
  return apply(be, fd, 0, old_mask);
}

int h2_loop_poller_poll(h2_loop_poller *be, int timeout_ms, h2_loop_event *out, int max) {
  if (max > (int)be->max) max = (int)be->max;
  struct timespec ts, *tsp = NULL;
  if (timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    tsp = &ts;
  }
  int n = kevent(be->kq, NULL, 0, be->evs, max, tsp);
  if (n < 0) return errno == EINTR ? 0 : H2_ERR_IO;
  int k = 0;
  for (int i = 0; i < n; i++) {
    const struct kevent *ev = &be->evs[i];
    int fd = (int)ev->ident;
    unsigned m = 0;
    if (ev->flags & EV_ERROR) {
      m = H2_LOOP_ERROR;
    } else if (ev->filter == EVFILT_READ) {
      m = H2_LOOP_READ;
      if ((ev->flags & EV_EOF) && ev->fflags != 0) m |= H2_LOOP_ERROR;
    } else if (ev->filter == EVFILT_WRITE) {
      m = H2_LOOP_WRITE;
      if (ev->flags & EV_EOF) m |= H2_LOOP_ERROR;
    } else {
      continue;
    }
    if (k > 0 && out[k - 1].fd == fd) {
      out[k - 1].events |= m;
    } else {
      out[k].fd = fd;
      out[k].events = m;
      k++;
    }
  }
  return k;
}
