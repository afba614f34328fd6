/* h2_loop_tcp.h: non-blocking TCP for the h2 event loop.
 *
 * Addresses ("host:port", "[v6]:port"), listening and batched accepting,
 * connecting with a timeout, reading, and an output queue that coalesces
 * many small frames into one writev.
 *
 * A connection, typically:
 *   h2_loop_io_new(loop, &io, fd, H2_LOOP_IO_OWN_FD, on_io, conn);
 *   h2_loop_io_set(io, H2_LOOP_READ);
 *   on_io: READ  -> h2_loop_tcp_read until H2_ERR_WOULD_BLOCK (EOF/IO: close)
 *          WRITE -> h2_loop_wbuf_flush; 0 -> drop H2_LOOP_WRITE from interest
 *   producing frames: h2_loop_wbuf_append/_reserve+_commit/_append_ref, then
 *   h2_loop_defer_schedule(&conn->flush) so that everything produced in one
 *   iteration leaves in one writev; the flush callback calls
 *   h2_loop_wbuf_flush and adds H2_LOOP_WRITE on H2_ERR_WOULD_BLOCK.
 *   closing: h2_loop_io_close(io, on_closed); free conn in on_closed.
 *
 * Every fd these functions create is non-blocking and close-on-exec.
 * Errors: a negative h2_err; H2_ERR_IO means a system call failed and errno
 * is left as it set it (print strerror(errno)). Loop thread only, except the
 * pure helpers (addresses, h2_loop_tcp_read/writev, the wbuf), which keep no
 * global state and are safe on any thread for distinct objects. */
#ifndef H2_LOOP_TCP_H
#define H2_LOOP_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "h2_loop.h"

/* ---- Addresses ---------------------------------------------------------- */

typedef struct h2_loop_addr {
  struct sockaddr_storage ss; /* AF_INET or AF_INET6 */
  socklen_t len;
} h2_loop_addr;

/* h2_loop_addr_parse parses a numeric address: "1.2.3.4:80", "[::1]:443",
 * "[fe80::1%eth0]:443", "*:80" (IPv4 any) or "[::]:80". The port is 0..65535.
 * No name lookup. Returns 0 or H2_ERR_PARSE. */
int h2_loop_addr_parse(h2_loop_addr *out, const char *hostport);

/* h2_loop_addr_resolve is h2_loop_addr_parse that also accepts a host name
 * ("localhost:8080", "example.com:443"), resolved with getaddrinfo: it BLOCKS.
 * The first result is used (IPv4 or IPv6, as the resolver orders them).
 * Returns 0, H2_ERR_PARSE (bad syntax) or H2_ERR_NOT_FOUND (lookup failed). */
int h2_loop_addr_resolve(h2_loop_addr *out, const char *hostport);

/* h2_loop_addr_resolve_all is h2_loop_addr_resolve keeping up to |max|
 * results, each address once, in the resolver's order (a client tries them
 * in turn, e.g. "localhost" as ::1 then 127.0.0.1). BLOCKS like it.
 * Returns how many were stored (1..max), H2_ERR_PARSE, H2_ERR_NOT_FOUND or
 * H2_ERR_INVALID_ARG (NULL, |max| 0). */
int h2_loop_addr_resolve_all(h2_loop_addr *out, size_t max, const char *hostport);

/* h2_loop_addr_set_port sets the port of |addr|. */
void h2_loop_addr_set_port(h2_loop_addr *addr, uint16_t port);

/* h2_loop_addr_port returns the port of |addr| (host order). */
uint16_t h2_loop_addr_port(const h2_loop_addr *addr);

/* h2_loop_addr_format writes "1.2.3.4:80" or "[::1]:80" (NUL-terminated) into
 * |buf| of |len| bytes (64 is always enough). Returns the string length, or
 * H2_ERR_BUF_TOO_SMALL / H2_ERR_INVALID_ARG. */
int h2_loop_addr_format(char *buf, size_t len, const h2_loop_addr *addr);

/* ---- Sockets ------------------------------------------------------------ */

/* Flags for h2_loop_tcp_listen. */
enum {
  H2_LOOP_TCP_REUSEPORT = 1, /* set SO_REUSEPORT (several listeners, one port) */
  H2_LOOP_TCP_V6ONLY = 2,    /* IPv6 only (default: dual-stack per the OS) */
};

/* h2_loop_tcp_listen creates a socket listening on |addr| with SO_REUSEADDR
 * and stores it in |*out_fd|. |backlog| <= 0 means SOMAXCONN. Returns 0,
 * H2_ERR_INVALID_ARG, or H2_ERR_IO (errno set; EAFNOSUPPORT/EADDRNOTAVAIL
 * when the address family is unavailable, EADDRINUSE, ...). */
int h2_loop_tcp_listen(int *out_fd, const h2_loop_addr *addr, int backlog, unsigned flags);

/* h2_loop_tcp_accept accepts up to |max| connections from listening socket
 * |lfd| (accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC where available) into
 * |out_fds| (and their peer addresses into |out_addrs|, which may be NULL).
 * Returns how many were accepted (0 when none was waiting), or H2_ERR_IO if
 * the first accept failed with something other than EAGAIN/ECONNABORTED
 * (EMFILE, ENFILE, ENOBUFS...: errno set). An error after some succeeded ends
 * the batch and returns the count. The caller owns the fds. On EMFILE or
 * ENFILE the listener stays readable (level-triggered): pause it
 * (h2_loop_io_set(io, 0)) and retry from a timer, or the loop spins. */
int h2_loop_tcp_accept(int lfd, int *out_fds, h2_loop_addr *out_addrs, size_t max);

/* h2_loop_tcp_nodelay sets TCP_NODELAY on |fd| to |on|. 0 or H2_ERR_IO. */
int h2_loop_tcp_nodelay(int fd, int on);

/* h2_loop_tcp_local_addr / h2_loop_tcp_peer_addr: getsockname/getpeername.
 * 0 or H2_ERR_IO. */
int h2_loop_tcp_local_addr(int fd, h2_loop_addr *out);
int h2_loop_tcp_peer_addr(int fd, h2_loop_addr *out);

/* h2_loop_tcp_read reads up to |len| bytes from |fd| into |buf|. Returns the
 * count (> 0), H2_ERR_EOF (the peer closed), H2_ERR_WOULD_BLOCK (nothing to
 * read now) or H2_ERR_IO (errno set, e.g. ECONNRESET). EINTR is retried. */
int h2_loop_tcp_read(int fd, void *buf, size_t len);

/* h2_loop_tcp_writev writes |iov[0..iovcnt)| with one writev (MSG_NOSIGNAL
 * semantics: SIGPIPE is not raised, a closed peer gives EPIPE). Returns the
 * bytes written (may be fewer than asked: partial write), H2_ERR_WOULD_BLOCK
 * or H2_ERR_IO (errno set). EINTR is retried. |iovcnt| is capped at 1024. */
int64_t h2_loop_tcp_writev(int fd, const struct iovec *iov, int iovcnt);

/* ---- Connecting --------------------------------------------------------- */

typedef struct h2_loop_connect h2_loop_connect;

/* h2_loop_connect_cb gets the outcome of h2_loop_tcp_connect, always from the
 * loop (never from inside h2_loop_tcp_connect), exactly once unless
 * cancelled. |status| 0: |fd| is the connected socket (non-blocking,
 * close-on-exec, TCP_NODELAY on), owned by the callee from now on.
 * Otherwise |fd| is -1 and |status| is H2_ERR_TIMEOUT or H2_ERR_IO (errno is
 * set to the connect error, e.g. ECONNREFUSED, for the duration of the call).
 * The h2_loop_connect is freed after the callback returns. */
typedef void (*h2_loop_connect_cb)(h2_loop_connect *c, int fd, int status, void *user);

/* h2_loop_tcp_connect starts a non-blocking connect to |addr| that fails
 * with H2_ERR_TIMEOUT after |timeout_ms| (0: no timeout). |*out_c| (may be
 * NULL) receives the handle for cancelling. The pending connect keeps the
 * loop alive. Returns 0 or H2_ERR_NOMEM / H2_ERR_IO (socket() failed; errno
 * set); on failure no callback is called. */
int h2_loop_tcp_connect(h2_loop *loop, h2_loop_connect **out_c, const h2_loop_addr *addr,
                        uint64_t timeout_ms, h2_loop_connect_cb cb, void *user);

/* h2_loop_connect_cancel cancels a pending connect: the socket is closed
 * and the callback is never called. The handle is freed by the loop later;
 * do not use it after this call. Must not be called after the callback. */
void h2_loop_connect_cancel(h2_loop_connect *c);

/* ---- Output queue ------------------------------------------------------- */

/* An h2_loop_wbuf queues bytes for one socket. Small appends are copied into
 * shared chunks so that many frames leave in one writev; large buffers can be
 * queued by reference (no copy) with a release callback. h2_loop_wbuf_flush
 * gathers everything pending into one writev (up to 64 segments per call)
 * and handles partial writes. The struct is caller-owned; fields private. */
typedef void (*h2_loop_wbuf_release_fn)(void *user, const void *data, size_t len);

typedef struct h2_loop_wbuf_seg h2_loop_wbuf_seg;

typedef struct h2_loop_wbuf {
  const h2_mem *mem_;
  h2_loop_wbuf_seg *segs_; /* queue of segments: [head_, tail_) */
  size_t head_, tail_, cap_;
  size_t pending_;         /* bytes queued, not yet written */
  void *spare_;            /* one free chunk kept for reuse */
  uint64_t writes_;        /* writev calls made */
  size_t chunk_size_;
} h2_loop_wbuf;

/* h2_loop_wbuf_init prepares |b| (empty). |mem| NULL means the default. */
void h2_loop_wbuf_init(h2_loop_wbuf *b, const h2_mem *mem);

/* h2_loop_wbuf_free releases everything queued (calling the release callback
 * of every referenced buffer) and leaves |b| empty and reusable. */
void h2_loop_wbuf_free(h2_loop_wbuf *b);

/* h2_loop_wbuf_append copies |len| bytes of |data| to the end of the queue.
 * Returns 0 or H2_ERR_NOMEM (nothing queued). */
int h2_loop_wbuf_append(h2_loop_wbuf *b, const void *data, size_t len);

/* h2_loop_wbuf_reserve returns a pointer to |len| writable bytes at the end
 * of the queue (for serializing a frame in place) or NULL (out of memory or
 * |len| > 16384). The bytes count as queued only after
 * h2_loop_wbuf_commit(b, n) with n <= len; the pointer is valid until the
 * next call on |b|. */
uint8_t *h2_loop_wbuf_reserve(h2_loop_wbuf *b, size_t len);
void h2_loop_wbuf_commit(h2_loop_wbuf *b, size_t n);

/* h2_loop_wbuf_append_ref queues |data| by reference: it must stay valid and
 * unchanged until |release(user, data, len)| is called, which happens once
 * the bytes are written, or in h2_loop_wbuf_free. |release| may be NULL.
 * Returns 0 or H2_ERR_NOMEM (then |release| is not called). */
int h2_loop_wbuf_append_ref(h2_loop_wbuf *b, const void *data, size_t len,
                            h2_loop_wbuf_release_fn release, void *user);

/* h2_loop_wbuf_pending returns the number of queued bytes not yet written
 * (callers cap it to bound memory a slow peer can make them hold). */
size_t h2_loop_wbuf_pending(const h2_loop_wbuf *b);

/* h2_loop_wbuf_flush writes queued bytes to |fd| with writev until the queue
 * is empty or the socket is full. Returns 0 (queue empty), H2_ERR_WOULD_BLOCK
 * (bytes remain: wait for H2_LOOP_WRITE) or H2_ERR_IO (errno set, e.g.
 * EPIPE; the queue is left as it was after the last successful write). */
int h2_loop_wbuf_flush(h2_loop_wbuf *b, int fd);

/* h2_loop_wbuf_writes returns how many writev calls |b| has made. */
uint64_t h2_loop_wbuf_writes(const h2_loop_wbuf *b);

#endif
