/* transport.c: plain TCP or TLS-over-TCP under a loop-driven session (see
 * transport.h). Reads go through one per-thread scratch buffer, handed on
 * synchronously, so idle connections hold no read buffer. */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SCRATCH (64 * 1024)
#define READS_PER_EVENT 8

struct h2_xport {
  h2_loop *loop;
  h2_loop_io *io;
  h2_tls_conn *tls;
  const h2_xport_events *ev; /* the caller's table (outlives the transport) */
  void *user;
  h2_loop_defer defer;   /* delivers on_open (TCP) and on_close */
  h2_loop_timer linger;
  int close_err;
  int fd;
  uint8_t open;
  uint8_t want_write;    /* a writev took less than offered */
  uint8_t closing;
  uint8_t dead;
  uint8_t read_paused;
  char *msg;             /* why it closed: set by die(), NULL until then */
};

static _Thread_local uint8_t scratch[READ_SCRATCH];
static _Thread_local uint8_t tls_stage[16384];

static void update_interest(h2_xport *x);

static void io_closed(h2_loop_io *io, void *user) {
  (void)io;
  h2_xport *x = user;
  h2_tls_conn_free(x->tls);
  free(x->msg);
  free(x);
}

static void finish(h2_xport *x) {
  h2_loop_timer_stop(&x->linger);
  h2_loop_defer_cancel(&x->defer);
  if (x->ev->on_close) x->ev->on_close(x, x->close_err, x->msg ? x->msg : "", x->user);
  h2_loop_io_close(x->io, io_closed);
}

static void defer_cb(h2_loop_defer *d, void *user) {
  (void)d;
  h2_xport *x = user;
  if (x->dead) {
    finish(x);
    return;
  }
  if (!x->open && !x->tls) {
    x->open = 1;
    if (x->ev->on_open) x->ev->on_open(x, x->user);
  }
}

static void die(h2_xport *x, int err, const char *msg) {
  if (x->dead) return;
  x->dead = 1;
  x->close_err = err;
  /* A copy (the text may be the TLS layer's buffer), at most 199 octets;
   * allocated here so that an open transport does not carry it. */
  size_t n = msg ? strlen(msg) : 0;
  if (n > 199) n = 199;
  x->msg = malloc(n + 1);
  if (x->msg) {
    if (n) memcpy(x->msg, msg, n);
    x->msg[n] = 0;
  }
  h2_loop_io_set(x->io, 0);
  h2_loop_defer_schedule(&x->defer);
}

static void linger_cb(h2_loop_timer *t, void *user) {
  (void)t;
  die(user, 0, "closed (linger time expired)");
}

/* Writes pending TLS ciphertext. 0 = all out, WOULD_BLOCK, or H2_ERR_IO. */
static int flush_tls(h2_xport *x) {
  size_t len;
  const uint8_t *p;
  while ((p = h2_tls_conn_out_peek(x->tls, &len)) != NULL) {
    ssize_t n = send(x->fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return H2_ERR_WOULD_BLOCK;
      return H2_ERR_IO;
    }
    h2_tls_conn_out_consume(x->tls, (size_t)n);
  }
  return 0;
}

static void on_io(h2_loop_io *io, int fd, unsigned events, void *user);

/* hand_off: the TLS handshake agreed on a protocol other than h2. The
 * owner may take the connection (a duplicate of the descriptor, since the
 * loop owns and closes the original, and the TLS object with whatever it
 * has buffered); otherwise the transport fails. */
static void hand_off(h2_xport *x) {
  if (x->ev->on_other_protocol) {
    int fd = fcntl(x->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      die(x, H2_ERR_IO, strerror(errno));
      return;
    }
    if (x->ev->on_other_protocol(x, fd, x->tls, x->user)) {
      x->tls = NULL; /* the application's now */
      die(x, 0, "handed to the application (not h2)");
      return;
    }
    close(fd);
  }
  die(x, H2_ERR_TLS, "the peer did not negotiate h2 with ALPN");
}

int h2_xport_new(h2_xport **out, h2_loop *loop, int fd, h2_tls_conn *tls,
                 const h2_xport_events *ev, void *user) {
  h2_xport *x = calloc(1, sizeof *x);
  if (!x) {
    close(fd);
    h2_tls_conn_free(tls);
    return H2_ERR_NOMEM;
  }
  x->loop = loop;
  x->fd = fd;
  x->tls = tls;
  x->ev = ev;
  x->user = user;
  h2_loop_defer_init(loop, &x->defer, defer_cb, x);
  h2_loop_timer_init(loop, &x->linger, linger_cb, x);
  int rc = h2_loop_io_new(loop, &x->io, fd, H2_LOOP_IO_OWN_FD, on_io, x);
  if (rc) {
    close(fd);
    h2_tls_conn_free(tls);
    free(x);
    return rc;
  }
  h2_loop_tcp_nodelay(fd, 1);
  if (!tls) {
    h2_loop_defer_schedule(&x->defer);
  } else {
    int hs = h2_tls_conn_handshake(tls); /* a client produces its ClientHello */
    int fr = flush_tls(x);
    if (hs < 0) die(x, hs, h2_tls_conn_errmsg(tls));
    else if (fr == H2_ERR_WOULD_BLOCK) x->want_write = 1;
  }
  update_interest(x);
  *out = x;
  return 0;
}

static void update_interest(h2_xport *x) {
  if (x->dead) return;
  unsigned ev = 0;
  if (!x->read_paused) ev |= H2_LOOP_READ;
  if (x->want_write || (x->tls && h2_tls_conn_out_pending(x->tls))) ev |= H2_LOOP_WRITE;
  if (h2_loop_io_events(x->io) != ev) h2_loop_io_set(x->io, ev);
}

int64_t h2_xport_writev(h2_xport *x, const struct iovec *iov, int n) {
  if (x->dead || x->closing) return H2_ERR_CLOSED;
  if (!x->tls) {
    int64_t w = h2_loop_tcp_writev(x->fd, iov, n);
    if (w == H2_ERR_WOULD_BLOCK) w = 0;
    if (w < 0) {
      die(x, H2_ERR_IO, strerror(errno));
      return w;
    }
    size_t total = 0;
    for (int i = 0; i < n; i++) total += iov[i].iov_len;
    x->want_write = (size_t)w < total;
    update_interest(x);
    return w;
  }
  /* Coalesce the pieces (frame headers, small frames) into records of up to
   * 16 KiB: one TLS record per h2 frame would cost a record header, a MAC
   * and a call each. */
  int64_t taken = 0;
  int blocked = 0;
  int i = 0;
  size_t off = 0; /* offset inside iov[i] */
  while (i < n && !blocked) {
    size_t fill = 0;
    while (i < n && fill < sizeof tls_stage) {
      size_t len = iov[i].iov_len - off;
      size_t c = len < sizeof tls_stage - fill ? len : sizeof tls_stage - fill;
      memcpy(tls_stage + fill, (const uint8_t *)iov[i].iov_base + off, c);
      fill += c;
      off += c;
      if (off == iov[i].iov_len) {
        i++;
        off = 0;
      }
    }
    size_t done = 0;
    while (done < fill) {
      int w = h2_tls_conn_write(x->tls, tls_stage + done, fill - done);
      if (w == H2_ERR_WOULD_BLOCK) {
        int fr = flush_tls(x);
        if (fr == 0) continue;
        if (fr != H2_ERR_WOULD_BLOCK) {
          die(x, H2_ERR_IO, strerror(errno));
          return H2_ERR_IO;
        }
        blocked = 1;
        break;
      }
      if (w < 0) {
        die(x, w, h2_tls_conn_errmsg(x->tls));
        return w;
      }
      done += (size_t)w;
    }
    taken += (int64_t)done;
  }
  int fr = flush_tls(x);
  if (fr != 0 && fr != H2_ERR_WOULD_BLOCK) {
    die(x, H2_ERR_IO, strerror(errno));
    return H2_ERR_IO;
  }
  x->want_write = blocked;
  update_interest(x);
  return taken;
}

static void deliver(h2_xport *x, const uint8_t *p, size_t n) {
  if (!x->closing && x->ev->on_data) x->ev->on_data(x, p, n, x->user);
}

static void do_read_tcp(h2_xport *x) {
  for (int i = 0; i < READS_PER_EVENT && !x->dead && !x->read_paused; i++) {
    int n = h2_loop_tcp_read(x->fd, scratch, sizeof scratch);
    if (n == H2_ERR_WOULD_BLOCK) return;
    if (n == H2_ERR_EOF) {
      die(x, H2_ERR_EOF, "peer closed the connection");
      return;
    }
    if (n < 0) {
      die(x, H2_ERR_IO, strerror(errno));
      return;
    }
    deliver(x, scratch, (size_t)n);
    if ((size_t)n < sizeof scratch) return;
  }
}

static void do_read_tls(h2_xport *x) {
  for (int i = 0; i < READS_PER_EVENT && !x->dead && !x->read_paused; i++) {
    size_t cap;
    uint8_t *p = h2_tls_conn_in_space(x->tls, &cap);
    int eof = 0, got = 0, drained = 0;
    if (cap > 0) {
      int n = h2_loop_tcp_read(x->fd, p, cap);
      if (n == H2_ERR_EOF) {
        h2_tls_conn_in_eof(x->tls);
        eof = 1;
      } else if (n == H2_ERR_WOULD_BLOCK) {
      } else if (n < 0) {
        die(x, H2_ERR_IO, strerror(errno));
        return;
      } else {
        h2_tls_conn_in_commit(x->tls, (size_t)n);
        got = 1;
        /* Less than asked for: the socket is empty for now, and another
         * read would only fail with EAGAIN (the poller is level-triggered
         * and reports what arrives later). */
        drained = (size_t)n < cap;
      }
    }
    if (!h2_tls_conn_handshake_done(x->tls)) {
      int hs = h2_tls_conn_handshake(x->tls);
      flush_tls(x);
      if (hs < 0) {
        die(x, hs, h2_tls_conn_errmsg(x->tls));
        return;
      }
      if (hs == 0) {
        if (eof) die(x, H2_ERR_EOF, "peer closed during the TLS handshake");
        if (!got || drained) return;
        continue;
      }
      if (h2_tls_conn_alpn(x->tls) != H2_TLS_PROTO_H2) {
        hand_off(x);
        return;
      }
      x->open = 1;
      if (x->ev->on_open) x->ev->on_open(x, x->user);
      if (x->dead) return;
    }
    for (;;) {
      if (x->read_paused || x->dead) return;
      int n = h2_tls_conn_read(x->tls, scratch, sizeof scratch);
      if (n == H2_ERR_WOULD_BLOCK) break;
      if (n == H2_ERR_EOF) {
        flush_tls(x);
        die(x, H2_ERR_EOF, "peer closed the connection");
        return;
      }
      if (n < 0) {
        flush_tls(x);
        die(x, n, h2_tls_conn_errmsg(x->tls));
        return;
      }
      deliver(x, scratch, (size_t)n);
    }
    if (h2_tls_conn_out_pending(x->tls)) flush_tls(x);
    if (eof) {
      die(x, H2_ERR_EOF, "peer closed the connection");
      return;
    }
    if (!got || drained) return;
  }
}

static void try_finish_close(h2_xport *x) {
  if (x->tls) {
    int fr = flush_tls(x);
    if (fr == H2_ERR_WOULD_BLOCK) return;
  }
  shutdown(x->fd, SHUT_WR);
  die(x, 0, "closed");
}

static void on_io(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)io; (void)fd;
  h2_xport *x = user;
  if (x->dead) return;
  if (events & H2_LOOP_READ) {
    if (x->closing) {
      /* Drain and discard until EOF so the close is clean. */
      int n = h2_loop_tcp_read(x->fd, scratch, sizeof scratch);
      if (n == H2_ERR_EOF || (n < 0 && n != H2_ERR_WOULD_BLOCK)) {
        die(x, 0, "closed");
        return;
      }
    } else if (x->tls) {
      do_read_tls(x);
    } else {
      do_read_tcp(x);
    }
  } else if (events & H2_LOOP_ERROR) {
    die(x, H2_ERR_IO, "socket error");
  }
  if (x->dead) return;
  if (events & H2_LOOP_WRITE) {
    if (x->tls) {
      int fr = flush_tls(x);
      if (fr != 0 && fr != H2_ERR_WOULD_BLOCK) {
        die(x, H2_ERR_IO, strerror(errno));
        return;
      }
      if (fr == H2_ERR_WOULD_BLOCK) {
        update_interest(x);
        return;
      }
    }
    if (x->closing) {
      try_finish_close(x);
      return;
    }
    if (x->want_write) {
      x->want_write = 0;
      if (x->open && x->ev->on_writable) x->ev->on_writable(x, x->user);
    }
  }
  update_interest(x);
}

void h2_xport_pause_read(h2_xport *x) {
  x->read_paused = 1;
  update_interest(x);
}

void h2_xport_resume_read(h2_xport *x) {
  x->read_paused = 0;
  update_interest(x);
}

void h2_xport_close(h2_xport *x, uint64_t linger_ms) {
  if (x->dead || x->closing) return;
  x->closing = 1;
  x->want_write = 0;
  if (x->tls && h2_tls_conn_handshake_done(x->tls)) h2_tls_conn_close(x->tls);
  if (linger_ms) h2_loop_timer_start(&x->linger, linger_ms, 0);
  try_finish_close(x);
  update_interest(x);
}

void h2_xport_abort(h2_xport *x, int err, const char *msg) { die(x, err, msg); }

int h2_xport_encrypted(const h2_xport *x) { return x->tls != NULL; }
int h2_xport_is_open(const h2_xport *x) { return x->open && !x->dead && !x->closing; }

void h2_xport_ref(h2_xport *x, int on) {
  if (on) h2_loop_io_ref(x->io); else h2_loop_io_unref(x->io);
}

int h2_xport_fd(const h2_xport *x) { return x->fd; }
h2_tls_conn *h2_xport_tls(const h2_xport *x) { return x->tls; }
