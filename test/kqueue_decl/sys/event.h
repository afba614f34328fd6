/* test/kqueue_decl/sys/event.h: TEST-ONLY declarations of the BSD kqueue
 * interface, so that evloop/backend_kqueue.c can be compile-checked on Linux
 * (`make check-kqueue`, -DH2_KQUEUE_COMPILE_CHECK). Nothing here is
 * implemented or linked: the object built from it is never run. The layout
 * follows the documented kevent(2) interface (FreeBSD/macOS), written from
 * the manual page, not copied from a system header. */
#ifndef H2_TEST_KQUEUE_DECL_SYS_EVENT_H
#define H2_TEST_KQUEUE_DECL_SYS_EVENT_H

#ifndef H2_KQUEUE_COMPILE_CHECK
#error "test/kqueue_decl is for the kqueue compile check only"
#endif

#include <stdint.h>
#include <time.h>

struct kevent {
  uintptr_t ident; /* identifier: the fd for READ/WRITE filters */
  int16_t filter;  /* EVFILT_* */
  uint16_t flags;  /* EV_* action and result flags */
  uint32_t fflags; /* filter-specific flags */
  intptr_t data;   /* filter-specific data (bytes ready, or the error) */
  void *udata;     /* opaque user data */
};

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EVFILT_TIMER (-7)
#define EVFILT_USER (-11)

#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ENABLE 0x0004
#define EV_DISABLE 0x0008
#define EV_ONESHOT 0x0010
#define EV_CLEAR 0x0020
#define EV_RECEIPT 0x0040
#define EV_ERROR 0x4000
#define EV_EOF 0x8000

#define EV_SET(kevp, a, b, c, d, e, f) \
  do {                                 \
    struct kevent *ev_set_p_ = (kevp); \
    ev_set_p_->ident = (a);            \
    ev_set_p_->filter = (b);           \
    ev_set_p_->flags = (c);            \
    ev_set_p_->fflags = (d);           \
    ev_set_p_->data = (e);             \
    ev_set_p_->udata = (f);            \
  } while (0)

int kqueue(void);
int kevent(int kq, const struct kevent *changelist, int nchanges, struct kevent *eventlist,
           int nevents, const struct timespec *timeout);

#endif
