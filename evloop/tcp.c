/* tcp.c: addresses, listening, batched accept, connect with a timeout,
 * read and writev on non-blocking TCP sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "h2_loop_tcp.h"
#include "loop_internal.h"

/* ---- Addresses ----------------------------------------------------------- */

/* split_hostport copies the host part of |s| into |host| (without brackets)
 * and parses the port. 0 or H2_ERR_PARSE. */
static int split_hostport(const char *s, char *host, size_t host_len, uint16_t *port,
                          int *bracketed) {
  const char *colon;
  size_t hl;
  *bracketed = 0;
  if (s == NULL || *s == '\0') return H2_ERR_PARSE;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (close == NULL || close[1] != ':') return H2_ERR_PARSE;
    hl = (size_t)(close - s - 1);
    if (hl == 0 || hl >= host_len) return H2_ERR_PARSE;
    memcpy(host, s + 1, hl);
    colon = close + 1;
    *bracketed = 1;
  } else {
    colon = strrchr(s, ':');
    if (colon == NULL) return H2_ERR_PARSE;
    hl = (size_t)(colon - s);
    if (hl == 0 || hl >= host_len || memchr(s, ':', hl) != NULL) return H2_ERR_PARSE;
    memcpy(host, s, hl);
  }
  host[hl] = '\0';
  const char *p = colon + 1;
  if (*p == '\0') return H2_ERR_PARSE;
  uint32_t v = 0;
  for (int n = 0; *p != '\0'; p++, n++) {
    if (*p < '0' || *p > '9' || n >= 5) return H2_ERR_PARSE;
    v = v * 10 + (uint32_t)(*p - '0');
  }
  if (v > 65535) return H2_ERR_PARSE;
  *port = (uint16_t)v;
  return 0;
}

/* from_addrinfo resolves |host| into up to |max| addresses (IPv4/IPv6, in
 * the resolver's order) with |port|; returns how many (>= 1) or an error. */
static int from_addrinfo(h2_loop_addr *out, size_t max, const char *host, uint16_t port,
                         int numeric) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = numeric ? AI_NUMERICHOST : AI_ADDRCONFIG;
  int gai = getaddrinfo(host, NULL, &hints, &res);
  if (gai != 0 && !numeric) {
    /* AI_ADDRCONFIG fails even "localhost" on hosts with only loopback
     * addresses: retry without it. */
    hints.ai_flags = 0;
    res = NULL;
    gai = getaddrinfo(host, NULL, &hints, &res);
  }
  if (gai != 0 || res == NULL) return numeric ? H2_ERR_PARSE : H2_ERR_NOT_FOUND;
  size_t n = 0;
  for (struct addrinfo *ai = res; ai != NULL && n < max; ai = ai->ai_next) {
    if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
        ai->ai_addrlen <= sizeof(out->ss)) {
      h2_loop_addr *a = &out[n];
      memset(a, 0, sizeof(*a));
      memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
      a->len = (socklen_t)ai->ai_addrlen;
      h2_loop_addr_set_port(a, port);
      /* A hosts file may list an address twice: keep each once. */
      int dup = 0;
      for (size_t k = 0; k < n && !dup; k++)
        dup = out[k].len == a->len && memcmp(&out[k].ss, &a->ss, a->len) == 0;
      if (!dup) n++;
    }
  }
  freeaddrinfo(res);
  return n > 0 ? (int)n : H2_ERR_NOT_FOUND;
}

/* parse fills up to |max| (>= 1) addresses; returns how many or an error. */
static int parse(h2_loop_addr *out, size_t max, const char *hostport, int allow_names) {
  char host[256];
  uint16_t port;
  int bracketed;
  memset(out, 0, sizeof(*out));
  if (split_hostport(hostport, host, sizeof(host), &port, &bracketed) != 0) return H2_ERR_PARSE;
  if (bracketed) {
    if (strchr(host, ':') == NULL) return H2_ERR_PARSE; /* "[1.2.3.4]:80" */
    return from_addrinfo(out, 1, host, port, 1) == 1 ? 1 : H2_ERR_PARSE;
  }
  struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
  if (strcmp(host, "*") == 0 || inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
    if (host[0] == '*') sin->sin_addr.s_addr = htonl(INADDR_ANY);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    out->len = sizeof(*sin);
    return 1;
  }
  if (!allow_names) return H2_ERR_PARSE;
  return from_addrinfo(out, max, host, port, 0);
}

int h2_loop_addr_parse(h2_loop_addr *out, const char *hostport) {
  int n = parse(out, 1, hostport, 0);
  return n < 0 ? n : 0;
}

int h2_loop_addr_resolve(h2_loop_addr *out, const char *hostport) {
  int n = parse(out, 1, hostport, 1);
  return n < 0 ? n : 0;
}

int h2_loop_addr_resolve_all(h2_loop_addr *out, size_t max, const char *hostport) {
  if (out == NULL || max == 0 || hostport == NULL) return H2_ERR_INVALID_ARG;
  return parse(out, max, hostport, 1);
}

void h2_loop_addr_set_port(h2_loop_addr *addr, uint16_t port) {
  if (addr->ss.ss_family == AF_INET) {
    ((struct sockaddr_in *)&addr->ss)->sin_port = htons(port);
  } else if (addr->ss.ss_family == AF_INET6) {
    ((struct sockaddr_in6 *)&addr->ss)->sin6_port = htons(port);
  }
}

uint16_t h2_loop_addr_port(const h2_loop_addr *addr) {
  if (addr->ss.ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)&addr->ss)->sin_port);
  if (addr->ss.ss_family == AF_INET6) {
    return ntohs(((const struct sockaddr_in6 *)&addr->ss)->sin6_port);
  }
  return 0;
}

int h2_loop_addr_format(char *buf, size_t len, const h2_loop_addr *addr) {
  char host[INET6_ADDRSTRLEN];
  int n;
  if (addr->ss.ss_family == AF_INET) {
    if (inet_ntop(AF_INET, &((const struct sockaddr_in *)&addr->ss)->sin_addr, host,
                  sizeof(host)) == NULL) {
      return H2_ERR_INVALID_ARG;
    }
    n = snprintf(buf, len, "%s:%u", host, (unsigned)h2_loop_addr_port(addr));
  } else if (addr->ss.ss_family == AF_INET6) {
    if (inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&addr->ss)->sin6_addr, host,
                  sizeof(host)) == NULL) {
      return H2_ERR_INVALID_ARG;
    }
    n = snprintf(buf, len, "[%s]:%u", host, (unsigned)h2_loop_addr_port(addr));
  } else {
    return H2_ERR_INVALID_ARG;
  }
  if (n < 0) return H2_ERR_INVALID_ARG;
  if ((size_t)n >= len) return H2_ERR_BUF_TOO_SMALL;
  return n;
}

/* ---- Sockets ------------------------------------------------------------- */

static int io_err(void) { return H2_ERR_IO; }

static int close_keep_errno(int fd) {
  int e = errno;
  close(fd);
  errno = e;
  return H2_ERR_IO;
}

/* new_socket makes a non-blocking, close-on-exec stream socket. */
static int new_socket(int family) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = socket(family, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    close_keep_errno(fd);
    return -1;
  }
#ifdef SO_NOSIGPIPE
  int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
  return fd;
#endif
}

int h2_loop_tcp_listen(int *out_fd, const h2_loop_addr *addr, int backlog, unsigned flags) {
  *out_fd = -1;
  int family = addr->ss.ss_family;
  if ((family != AF_INET && family != AF_INET6) || addr->len == 0) return H2_ERR_INVALID_ARG;
  int fd = new_socket(family);
  if (fd < 0) return io_err();
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) return close_keep_errno(fd);
  if (flags & H2_LOOP_TCP_REUSEPORT) {
#ifdef SO_REUSEPORT
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
      return close_keep_errno(fd);
    }
#else
    close(fd);
    errno = ENOTSUP;
    return H2_ERR_IO;
#endif
  }
  if (family == AF_INET6 && (flags & H2_LOOP_TCP_V6ONLY)) {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
      return close_keep_errno(fd);
    }
  }
  if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0) return close_keep_errno(fd);
  if (listen(fd, backlog <= 0 ? SOMAXCONN : backlog) != 0) return close_keep_errno(fd);
  *out_fd = fd;
  return 0;
}

static int accept_one(int lfd, h2_loop_addr *a) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int fd;
  do {
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
    fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    fd = accept(lfd, (struct sockaddr *)&ss, &len);
    if (fd >= 0) {
      int fl = fcntl(fd, F_GETFL);
      if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
          fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        close_keep_errno(fd);
        fd = -1;
      }
    }
#endif
  } while (fd < 0 && errno == EINTR);
  if (fd >= 0 && a != NULL) {
    memset(a, 0, sizeof(*a));
    if (len > sizeof(a->ss)) len = sizeof(a->ss);
    memcpy(&a->ss, &ss, len);
    a->len = len;
  }
  return fd;
}

int h2_loop_tcp_accept(int lfd, int *out_fds, h2_loop_addr *out_addrs, size_t max) {
  size_t n = 0;
  while (n < max && n < INT32_MAX) {
    int fd = accept_one(lfd, out_addrs ? &out_addrs[n] : NULL);
    if (fd < 0) {
      if (errno == ECONNABORTED) continue; /* that one is gone; try the next */
      if (errno == EAGAIN || errno == EWOULDBLOCK || n > 0) break;
      return H2_ERR_IO;
    }
    out_fds[n++] = fd;
  }
  return (int)n;
}

int h2_loop_tcp_nodelay(int fd, int on) {
  int v = on ? 1 : 0;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) == 0 ? 0 : H2_ERR_IO;
}

int h2_loop_tcp_local_addr(int fd, h2_loop_addr *out) {
  memset(out, 0, sizeof(*out));
  out->len = sizeof(out->ss);
  return getsockname(fd, (struct sockaddr *)&out->ss, &out->len) == 0 ? 0 : H2_ERR_IO;
}

int h2_loop_tcp_peer_addr(int fd, h2_loop_addr *out) {
  memset(out, 0, sizeof(*out));
  out->len = sizeof(out->ss);
  return getpeername(fd, (struct sockaddr *)&out->ss, &out->len) == 0 ? 0 : H2_ERR_IO;
}

int h2_loop_tcp_read(int fd, void *buf, size_t len) {
  if (len > INT32_MAX) len = INT32_MAX;
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n > 0) return (int)n;
    if (n == 0) return len == 0 ? 0 : H2_ERR_EOF;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return H2_ERR_WOULD_BLOCK;
    return H2_ERR_IO;
  }
}

int64_t h2_loop_tcp_writev(int fd, const struct iovec *iov, int iovcnt) {
  if (iovcnt > 1024) iovcnt = 1024;
  if (iovcnt < 0) return H2_ERR_INVALID_ARG;
  for (;;) {
    ssize_t n;
#ifdef MSG_NOSIGNAL
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = (size_t)iovcnt;
    n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = writev(fd, iov, iovcnt);
#else
    n = writev(fd, iov, iovcnt);
#endif
    if (n >= 0) return (int64_t)n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return H2_ERR_WOULD_BLOCK;
    return H2_ERR_IO;
  }
}

/* ---- Connecting ---------------------------------------------------------- */

struct h2_loop_connect {
  h2_loop *loop;
  h2_loop_io *io;
  h2_loop_timer timer;
  h2_loop_defer defer; /* reports an outcome known at once */
  h2_loop_connect_cb cb;
  void *user;
  int fd;
  int status;       /* outcome for the deferred report */
  int saved_errno;
  int done;
};

static void connect_freed(h2_loop_io *io, void *user) {
  (void)io;
  h2_loop_connect *c = user;
  h2_mem_free(c->loop->mem, c);
}

/* finish ends |c|: the timer and defer stop, the handle closes (not the fd)
 * and the callback gets the socket or the error. */
static void finish(h2_loop_connect *c, int status, int err) {
  if (c->done) return;
  c->done = 1;
  h2_loop_timer_stop(&c->timer);
  h2_loop_defer_cancel(&c->defer);
  int fd = c->fd;
  c->fd = -1;
  if (status == 0) {
    c->io->flags &= ~(unsigned)IO_OWN_FD; /* the socket goes to the callback */
    (void)h2_loop_tcp_nodelay(fd, 1);
  } else {
    fd = -1;
  }
  h2_loop_io_close(c->io, NULL); /* closes the socket on failure */
  errno = err;
  c->cb(c, fd, status, c->user);
}

static void connect_ready(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)io;
  (void)events;
  h2_loop_connect *c = user;
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == EINPROGRESS || err == EALREADY || err == EINTR) return; /* not yet */
  if (err == 0) {
    /* Some systems report writable on failure without SO_ERROR: confirm. */
    h2_loop_addr peer;
    if (h2_loop_tcp_peer_addr(fd, &peer) != 0) err = errno == ENOTCONN ? ECONNREFUSED : errno;
  }
  finish(c, err == 0 ? 0 : H2_ERR_IO, err);
}

static void connect_timeout(h2_loop_timer *t, void *user) {
  (void)t;
  finish(user, H2_ERR_TIMEOUT, ETIMEDOUT);
}

static void connect_deferred(h2_loop_defer *d, void *user) {
  (void)d;
  h2_loop_connect *c = user;
  finish(c, c->status, c->saved_errno);
}

int h2_loop_tcp_connect(h2_loop *loop, h2_loop_connect **out_c, const h2_loop_addr *addr,
                        uint64_t timeout_ms, h2_loop_connect_cb cb, void *user) {
  if (out_c != NULL) *out_c = NULL;
  int family = addr->ss.ss_family;
  if (cb == NULL || (family != AF_INET && family != AF_INET6) || addr->len == 0) {
    return H2_ERR_INVALID_ARG;
  }
  h2_loop_connect *c = h2_mem_malloc(loop->mem, sizeof(*c));
  if (c == NULL) return H2_ERR_NOMEM;
  memset(c, 0, sizeof(*c));
  c->loop = loop;
  c->cb = cb;
  c->user = user;
  c->fd = new_socket(family);
  if (c->fd < 0) {
    int e = errno;
    h2_mem_free(loop->mem, c);
    errno = e;
    return H2_ERR_IO;
  }
  /* The handle owns the socket until the connect succeeds, so that cancel,
   * failure and h2_loop_free all close it. */
  int rc = h2_loop_io_new(loop, &c->io, c->fd, H2_LOOP_IO_OWN_FD, connect_ready, c);
  if (rc != 0) {
    close(c->fd);
    h2_mem_free(loop->mem, c);
    return rc;
  }
  c->io->on_free = connect_freed; /* also when h2_loop_free closes it */
  h2_loop_timer_init(loop, &c->timer, connect_timeout, c);
  h2_loop_defer_init(loop, &c->defer, connect_deferred, c);
  int r;
  do {
    r = connect(c->fd, (const struct sockaddr *)&addr->ss, addr->len);
  } while (r != 0 && errno == EINTR);
  if (r == 0 || errno != EINPROGRESS) {
    c->status = r == 0 ? 0 : H2_ERR_IO;
    c->saved_errno = r == 0 ? 0 : errno;
    h2_loop_defer_schedule(&c->defer);
  } else {
    (void)h2_loop_io_set(c->io, H2_LOOP_WRITE);
    if (timeout_ms > 0 && h2_loop_timer_start(&c->timer, timeout_ms, 0) != 0) {
      h2_loop_io_close(c->io, NULL);
      return H2_ERR_NOMEM;
    }
  }
  if (out_c != NULL) *out_c = c;
  return 0;
}

void h2_loop_connect_cancel(h2_loop_connect *c) {
  if (c->done) return;
  c->done = 1;
  h2_loop_timer_stop(&c->timer);
  h2_loop_defer_cancel(&c->defer);
  c->fd = -1;
  h2_loop_io_close(c->io, NULL);
}
