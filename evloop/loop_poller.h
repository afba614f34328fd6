/* loop_poller.h: the contract between the loop core and its poller backend
 * (internal). One backend file is compiled per platform: backend_epoll.c on
 * Linux, backend_kqueue.c elsewhere. Each implements these functions and
 * nothing else. Masks are H2_LOOP_READ | H2_LOOP_WRITE; poll reports
 * H2_LOOP_READ, H2_LOOP_WRITE and H2_LOOP_ERROR (error or hang-up). */
#ifndef H2_LOOP_POLLER_H
#define H2_LOOP_POLLER_H

#include "h2_loop.h"

typedef struct h2_loop_poller h2_loop_poller;

/* One ready fd as the backend reports it. The core sets fd to -1 to
 * invalidate an entry whose handle was closed during the dispatch batch. */
typedef struct h2_loop_event {
  int fd;
  unsigned events;
} h2_loop_event;

/* h2_loop_poller_name returns "epoll" or "kqueue". */
const char *h2_loop_poller_name(void);

/* h2_loop_poller_new creates the poller; |max_events| is the largest batch
 * h2_loop_poller_poll will be asked for. 0, H2_ERR_NOMEM or H2_ERR_IO. */
int h2_loop_poller_new(h2_loop_poller **out, const h2_mem *mem, unsigned max_events);

/* h2_loop_poller_free closes the poller (NULL allowed). */
void h2_loop_poller_free(h2_loop_poller *be, const h2_mem *mem);

/* add starts watching |fd| for |mask| (non-zero); mod changes the mask from
 * |old_mask| to |new_mask| (both non-zero); del stops watching |fd| that was
 * watched for |old_mask|. 0 or H2_ERR_IO (errno set). */
int h2_loop_poller_add(h2_loop_poller *be, int fd, unsigned mask);
int h2_loop_poller_mod(h2_loop_poller *be, int fd, unsigned old_mask, unsigned new_mask);
int h2_loop_poller_del(h2_loop_poller *be, int fd, unsigned old_mask);

/* h2_loop_poller_poll waits up to |timeout_ms| (-1: forever, 0: no wait)
 * and stores at most |max| ready fds into |out|. Returns the count (0 on
 * timeout or EINTR) or H2_ERR_IO (errno set). */
int h2_loop_poller_poll(h2_loop_poller *be, int timeout_ms, h2_loop_event *out, int max);

#endif
