/* transport.h (internal to api/): the socket under a loop-driven session:
 * plain TCP (h2c) or TLS over TCP, both on h2_loop (transport.c).
 *
 * Output is pulled, not queued: the owner offers bytes with h2_xport_writev
 * and learns how many were taken; the rest stays with the owner (the h2_conn
 * keeps it pending) until on_writable. So a plain TCP connection writes the
 * engine's iovecs (application DATA buffers included) with no copy, and an
 * idle connection holds no buffer at all. */
#ifndef H2_API_TRANSPORT_H
#define H2_API_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "h2_loop.h"
#include "h2_loop_tcp.h"
#include "h2_tls.h"

typedef struct h2_xport h2_xport;

typedef struct h2_xport_events {
  /* Ready for HTTP/2 bytes (TLS: handshake done with ALPN h2). */
  void (*on_open)(h2_xport *x, void *user);
  /* Received plaintext; valid during the call. */
  void (*on_data)(h2_xport *x, const uint8_t *data, size_t len, void *user);
  /* The socket can take more after a writev took less than offered. */
  void (*on_writable)(h2_xport *x, void *user);
  /* Closed: EOF (H2_ERR_EOF), failure (other), or after h2_xport_close (0).
   * Last event; the transport is freed right after it returns. */
  void (*on_close)(h2_xport *x, int err, const char *msg, void *user);
  /* TLS only, may be NULL: the handshake ended with a protocol other than
   * h2 (ALPN "http/1.1" or none, when the context allows the fallback).
   * Return 1 to take |fd| (a duplicate of the socket, non-blocking) and
   * |tls| (handshake done): the transport then closes quietly, on_close(0)
   * follows, and neither is touched again. Return 0 to refuse: the
   * transport fails as without this callback. */
  int (*on_other_protocol)(h2_xport *x, int fd, h2_tls_conn *tls, void *user);
} h2_xport_events;

/* h2_xport_new wraps the connected non-blocking |fd| and, when |tls| is not
 * NULL, a TLS connection over it (a client's handshake starts at once). Both
 * are owned from now on (also on failure). |ev| is not copied: it must
 * outlive the transport (a static table). */
int h2_xport_new(h2_xport **out, h2_loop *loop, int fd, h2_tls_conn *tls,
                 const h2_xport_events *ev, void *user);

/* h2_xport_writev offers |n| pieces; returns how many bytes were taken
 * (possibly 0: on_writable follows), or a negative h2_err (the transport is
 * failing; on_close follows from the loop). */
int64_t h2_xport_writev(h2_xport *x, const struct iovec *iov, int n);

/* h2_xport_pause_read / resume_read stop and restart reading. */
void h2_xport_pause_read(h2_xport *x);
void h2_xport_resume_read(h2_xport *x);

/* h2_xport_close sends what TLS still holds (and close_notify), shuts the
 * socket down and closes it; on_close(0) follows from the loop. Bounded by
 * |linger_ms| when bytes cannot be written. */
void h2_xport_close(h2_xport *x, uint64_t linger_ms);

/* h2_xport_abort closes at once; on_close(err) follows from the loop. */
void h2_xport_abort(h2_xport *x, int err, const char *msg);

int h2_xport_encrypted(const h2_xport *x);
int h2_xport_is_open(const h2_xport *x);
void h2_xport_ref(h2_xport *x, int on);
int h2_xport_fd(const h2_xport *x);
h2_tls_conn *h2_xport_tls(const h2_xport *x);

#endif
