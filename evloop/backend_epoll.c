/* backend_epoll.c: the epoll poller (Linux), level-triggered. */
#include "loop_poller.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

struct h2_loop_poller {
  int epfd;
  unsigned max;
  struct epoll_event evs[]; /* max entries */
};

const char *h2_loop_poller_name(void) { return "epoll"; }

int h2_loop_poller_new(h2_loop_poller **out, const h2_mem *mem, unsigned max_events) {
  *out = NULL;
  if (max_events == 0) return H2_ERR_INVALID_ARG;
  h2_loop_poller *be =
      h2_mem_malloc(mem, sizeof(*be) + (size_t)max_events * sizeof(struct epoll_event));
  if (be == NULL) return H2_ERR_NOMEM;
  be->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (be->epfd < 0) {
    int e = errno;
    h2_mem_free(mem, be);
    errno = e;
    return H2_ERR_IO;
  }
  be->max = max_events;
  *out = be;
  return 0;
}

void h2_loop_poller_free(h2_loop_poller *be, const h2_mem *mem) {
  if (be == NULL) return;
  close(be->epfd);
  h2_mem_free(mem, be);
}

static uint32_t to_epoll(unsigned mask) {
  uint32_t ev = 0;
  if (mask & H2_LOOP_READ) ev |= EPOLLIN;
  if (mask & H2_LOOP_WRITE) ev |= EPOLLOUT;
  return ev;
}

static int ctl(h2_loop_poller *be, int op, int fd, unsigned mask) {
  struct epoll_event ev = {0};
  ev.events = to_epoll(mask);
  ev.data.fd = fd;
  return epoll_ctl(be->epfd, op, fd, &ev) == 0 ? 0 : H2_ERR_IO;
}

int h2_loop_poller_add(h2_loop_poller *be, int fd, unsigned mask) {
  return ctl(be, EPOLL_CTL_ADD, fd, mask);
}

int h2_loop_poller_mod(h2_loop_poller *be, int fd, unsigned old_mask, unsigned new_mask) {
  (void)old_mask;
  return ctl(be, EPOLL_CTL_MOD, fd, new_mask);
}

int h2_loop_poller_del(h2_loop_poller *be, int fd, unsigned old_mask) {
  (void)old_mask;
  return ctl(be, EPOLL_CTL_DEL, fd, 0);
}

int h2_loop_poller_poll(h2_loop_poller *be, int timeout_ms, h2_loop_event *out, int max) {
  if (max > (int)be->max) max = (int)be->max;
  int n = epoll_wait(be->epfd, be->evs, max, timeout_ms);
  if (n < 0) return errno == EINTR ? 0 : H2_ERR_IO;
  for (int i = 0; i < n; i++) {
    uint32_t e = be->evs[i].events;
    unsigned m = 0;
    if (e & EPOLLIN) m |= H2_LOOP_READ;
    if (e & EPOLLOUT) m |= H2_LOOP_WRITE;
    if (e & (EPOLLERR | EPOLLHUP)) m |= H2_LOOP_ERROR;
    out[i].fd = be->evs[i].data.fd;
    out[i].events = m;
  }
  return n;
}
