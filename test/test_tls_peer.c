/* test_tls_peer.c: tls/ over real loopback sockets.
 *
 * Without arguments: cmocka tests where our client and our server talk over
 * non-blocking 127.0.0.1 TCP sockets, driven by one poll() loop the way the
 * event loop drives h2_tls_conn.
 *
 * With arguments it is the peer program of test/interop/tls_peers.sh
 * (blocking sockets with 5 s timeouts, every wait bounded):
 *
 *   test_tls_peer serve [--fallback] [--tls12] [--count N] [--echo]
 *                       [--cert-out CERT --key-out KEY] [--cert CERT --key KEY]
 *                       [--client-ca FILE [--require-client-cert]]
 *                       [--also NAME --also-out CERT]  (a second, SNI-selected certificate)
 *       Generates a localhost certificate (or loads --cert/--key), listens on 127.0.0.1:0, prints
 *       "PORT <n>", then for each of N connections (default 1) prints
 *       "HANDSHAKE ok alpn=<h2|http/1.1> resumed=<0|1> version=<v> ... sni=<name>
 *       client_cn=<CN of the client certificate or ->" (--client-ca asks
 *       for one, verified against FILE; optional unless required) or
 *       "HANDSHAKE error <message>", echoes what it reads with --echo, waits
 *       for the peer to finish (3 s at most) and closes with close_notify.
 *
 *   test_tls_peer connect PORT [--name NAME] [--ca FILE] [--insecure]
 *                        [--tls12] [--fallback] [--count N] [--get]
 *                        [--cert CERT --key KEY]   (a client certificate)
 *       Connects N times (default 1) with one client context (so later
 *       connections resume), prints "CONNECT ok alpn=.. resumed=.. version=.."
 *       or "CONNECT error <message>"; with --get sends "GET / HTTP/1.0" and
 *       prints "BODY <n> bytes" after reading the reply to EOF. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include "h2_err.h"
#include "h2_tls.h"

/* ---- sockets ------------------------------------------------------------ */

static int listen_loopback(int *out_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    close(fd);
    return -1;
  }
  *out_port = ntohs(a.sin_port);
  return fd;
}

static int connect_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void set_timeouts(int fd, int seconds) {
  struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- blocking drive (the tool) ------------------------------------------ */

/* flush_all writes all pending ciphertext (blocking socket). */
static int flush_all(int fd, h2_tls_conn *c) {
  size_t len;
  const uint8_t *p;
  while ((p = h2_tls_conn_out_peek(c, &len)) != NULL) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return H2_ERR_IO;
    h2_tls_conn_out_consume(c, (size_t)n);
  }
  return 0;
}

/* fill_once reads what the socket has (blocking, bounded by SO_RCVTIMEO). */
static int fill_once(int fd, h2_tls_conn *c) {
  size_t cap;
  uint8_t *p = h2_tls_conn_in_space(c, &cap);
  if (cap == 0) return 0;
  ssize_t n = recv(fd, p, cap, 0);
  if (n < 0 && errno == EINTR) return 0;
  if (n < 0) return H2_ERR_TIMEOUT;
  if (n == 0) {
    h2_tls_conn_in_eof(c);
    return 0;
  }
  return h2_tls_conn_in_commit(c, (size_t)n);
}

static int blocking_handshake(int fd, h2_tls_conn *c) {
  double deadline = now_s() + 10;
  for (;;) {
    int r = h2_tls_conn_handshake(c);
    flush_all(fd, c); /* an alert may be waiting even after a failure */
    if (r != 0) return r;
    if (now_s() > deadline) return H2_ERR_TIMEOUT;
    int f = fill_once(fd, c);
    if (f < 0) return f;
  }
}

static const char *proto_name(h2_tls_proto p) {
  return p == H2_TLS_PROTO_H2 ? "h2" : p == H2_TLS_PROTO_HTTP11 ? "http/1.1" : "none";
}

static int tool_serve(int argc, char **argv) {
  int count = 1, echo = 0, fallback = 0, tls12 = 0;
  const char *cert_out = NULL, *key_out = NULL, *cert_in = NULL, *key_in = NULL, *client_ca = NULL;
  int require_client_cert = 0;
  const char *also = NULL, *also_out = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = atoi(argv[++i]);
    else if (strcmp(argv[i], "--echo") == 0) echo = 1;
    else if (strcmp(argv[i], "--fallback") == 0) fallback = 1;
    else if (strcmp(argv[i], "--tls12") == 0) tls12 = 1;
    else if (strcmp(argv[i], "--cert-out") == 0 && i + 1 < argc) cert_out = argv[++i];
    else if (strcmp(argv[i], "--key-out") == 0 && i + 1 < argc) key_out = argv[++i];
    else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) cert_in = argv[++i];
    else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) key_in = argv[++i];
    else if (strcmp(argv[i], "--client-ca") == 0 && i + 1 < argc) client_ca = argv[++i];
    else if (strcmp(argv[i], "--require-client-cert") == 0) require_client_cert = 1;
    else if (strcmp(argv[i], "--also") == 0 && i + 1 < argc) also = argv[++i];
    else if (strcmp(argv[i], "--also-out") == 0 && i + 1 < argc) also_out = argv[++i];
    else {
      fprintf(stderr, "serve: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (count < 1 || count > 100) count = 1;
  h2_tls_ctx *ctx = h2_tls_ctx_new(H2_TLS_SERVER);
  int added = ctx == NULL ? -1
              : cert_in != NULL ? h2_tls_ctx_add_cert_files(ctx, cert_in, key_in, NULL)
                                : h2_tls_ctx_add_self_signed(ctx, NULL);
  if (ctx == NULL || added != 0 ||
      (fallback && h2_tls_ctx_set_alpn(ctx, H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11) != 0) ||
      (tls12 && h2_tls_ctx_set_versions(ctx, H2_TLS_VERSION_1_2, H2_TLS_VERSION_1_2) != 0) ||
      (client_ca != NULL &&
       h2_tls_ctx_set_client_auth(ctx, require_client_cert ? H2_TLS_CLIENT_AUTH_REQUIRED : H2_TLS_CLIENT_AUTH_OPTIONAL,
                                  client_ca) != 0) ||
      (cert_out != NULL && h2_tls_ctx_write_cert_pem(ctx, 0, cert_out, key_out, NULL) != 0) ||
      (also != NULL && h2_tls_ctx_add_self_signed(ctx, also) != 0) ||
      (also != NULL && also_out != NULL && h2_tls_ctx_write_cert_pem(ctx, 1, also_out, NULL, NULL) != 0)) {
    fprintf(stderr, "serve: setup failed: %s\n", ctx ? h2_tls_ctx_errmsg(ctx) : "no memory");
    h2_tls_ctx_free(ctx);
    return 1;
  }
  int port;
  int lfd = listen_loopback(&port);
  if (lfd < 0) {
    perror("serve: listen");
    h2_tls_ctx_free(ctx);
    return 1;
  }
  printf("PORT %d\n", port);
  fflush(stdout);
  for (int n = 0; n < count; n++) {
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    if (poll(&pfd, 1, 30000) != 1) {
      printf("ACCEPT timeout\n");
      break;
    }
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) continue;
    set_timeouts(fd, 5);
    h2_tls_conn *c = h2_tls_conn_new(ctx, NULL);
    int r = c != NULL ? blocking_handshake(fd, c) : H2_ERR_NOMEM;
    if (r == 1) {
      char cn[128] = "-";
      X509 *peer = SSL_get_peer_certificate(h2_tls_conn_ssl(c));
      if (peer != NULL) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, (int)sizeof cn);
        X509_free(peer);
      }
      printf("HANDSHAKE ok alpn=%s resumed=%d version=%s cipher=%s sni=%s client_cn=%s\n",
             proto_name(h2_tls_conn_alpn(c)), h2_tls_conn_resumed(c), h2_tls_conn_version(c),
             h2_tls_conn_cipher(c),
             h2_tls_conn_server_name(c) ? h2_tls_conn_server_name(c) : "-", cn);
      fflush(stdout);
      /* Echo (or just drain) until the peer closes, at most 3 s. */
      set_timeouts(fd, 1);
      double deadline = now_s() + 3;
      uint8_t buf[4096];
      while (now_s() < deadline) {
        int rd = h2_tls_conn_read(c, buf, sizeof buf);
        if (rd > 0) {
          if (echo) {
            int off = 0;
            while (off < rd) {
              int w = h2_tls_conn_write(c, buf + off, (size_t)(rd - off));
              if (w <= 0) break;
              off += w;
            }
          }
          flush_all(fd, c);
          continue;
        }
        flush_all(fd, c);
        if (rd != H2_ERR_WOULD_BLOCK) break;
        if (fill_once(fd, c) < 0) break;
      }
      h2_tls_conn_close(c);
      flush_all(fd, c);
    } else {
      printf("HANDSHAKE error %s\n", c ? h2_tls_conn_errmsg(c) : h2_strerror(r));
    }
    fflush(stdout);
    h2_tls_conn_free(c);
    close(fd);
  }
  close(lfd);
  h2_tls_ctx_free(ctx);
  return 0;
}

static int tool_connect(int argc, char **argv) {
  if (argc < 1) return 2;
  int port = atoi(argv[0]);
  int count = 1, insecure = 0, tls12 = 0, fallback = 0, get = 0;
  const char *name = "localhost", *ca = NULL, *cert = NULL, *key = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = atoi(argv[++i]);
    else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) name = argv[++i];
    else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) ca = argv[++i];
    else if (strcmp(argv[i], "--insecure") == 0) insecure = 1;
    else if (strcmp(argv[i], "--tls12") == 0) tls12 = 1;
    else if (strcmp(argv[i], "--fallback") == 0) fallback = 1;
    else if (strcmp(argv[i], "--get") == 0) get = 1;
    else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) cert = argv[++i];
    else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) key = argv[++i];
    else {
      fprintf(stderr, "connect: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (count < 1 || count > 100) count = 1;
  h2_tls_ctx *ctx = h2_tls_ctx_new(H2_TLS_CLIENT);
  if (ctx == NULL || (ca != NULL && h2_tls_ctx_load_ca_file(ctx, ca) != 0) ||
      (cert != NULL && h2_tls_ctx_add_cert_files(ctx, cert, key, NULL) != 0) ||
      (insecure && h2_tls_ctx_set_insecure(ctx, 1) != 0) ||
      (fallback && h2_tls_ctx_set_alpn(ctx, H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11) != 0) ||
      (tls12 && h2_tls_ctx_set_versions(ctx, H2_TLS_VERSION_1_2, H2_TLS_VERSION_1_2) != 0)) {
    printf("CONNECT error setup: %s\n", ctx ? h2_tls_ctx_errmsg(ctx) : "no memory");
    h2_tls_ctx_free(ctx);
    return 1;
  }
  int status = 0;
  for (int n = 0; n < count; n++) {
    int fd = connect_loopback(port);
    if (fd < 0) {
      printf("CONNECT error connect: %s\n", strerror(errno));
      status = 1;
      break;
    }
    set_timeouts(fd, 5);
    h2_tls_conn *c = h2_tls_conn_new(ctx, name);
    if (c == NULL) {
      printf("CONNECT error %s\n", h2_tls_ctx_errmsg(ctx));
      close(fd);
      status = 1;
      break;
    }
    int r = blocking_handshake(fd, c);
    if (r != 1) {
      printf("CONNECT error %s\n", h2_tls_conn_errmsg(c)[0] ? h2_tls_conn_errmsg(c) : h2_strerror(r));
      status = 1;
    } else {
      printf("CONNECT ok alpn=%s resumed=%d version=%s cipher=%s\n",
             proto_name(h2_tls_conn_alpn(c)), h2_tls_conn_resumed(c), h2_tls_conn_version(c),
             h2_tls_conn_cipher(c));
      /* Read what the server sends (session tickets at least) for a moment,
       * or the whole reply to a GET. */
      static const char req[] = "GET / HTTP/1.0\r\n\r\n";
      if (get) h2_tls_conn_write(c, (const uint8_t *)req, sizeof req - 1);
      flush_all(fd, c);
      set_timeouts(fd, get ? 5 : 1);
      size_t body = 0;
      uint8_t buf[4096];
      double deadline = now_s() + (get ? 5 : 0.5);
      while (now_s() < deadline) {
        int rd = h2_tls_conn_read(c, buf, sizeof buf);
        flush_all(fd, c);
        if (rd > 0) {
          body += (size_t)rd;
          continue;
        }
        if (rd != H2_ERR_WOULD_BLOCK) {
          if (rd != H2_ERR_EOF) printf("READ error %s\n", h2_tls_conn_errmsg(c));
          break;
        }
        if (fill_once(fd, c) < 0) break;
      }
      if (get) printf("BODY %zu bytes\n", body);
      h2_tls_conn_close(c);
      flush_all(fd, c);
    }
    fflush(stdout);
    h2_tls_conn_free(c);
    close(fd);
  }
  h2_tls_ctx_free(ctx);
  return status;
}

/* ---- non-blocking loop (the cmocka tests) ------------------------------- */

typedef struct end {
  int fd;
  h2_tls_conn *c;
  int hs;          /* handshake result: 0 pending, 1 done, < 0 failed */
  uint8_t *rx;     /* plaintext received */
  size_t rx_len, rx_cap;
  const uint8_t *tx; /* plaintext to send */
  size_t tx_len, tx_off;
  int want_write;  /* output blocked on EAGAIN */
  int peer_eof;    /* h2_tls_conn_read said H2_ERR_EOF */
} end;

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* step does what the event loop would do on readiness for one end. */
static void step(end *e, short revents) {
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    size_t cap;
    uint8_t *p = h2_tls_conn_in_space(e->c, &cap);
    if (cap > 0) {
      ssize_t n = recv(e->fd, p, cap, 0);
      if (n > 0) assert_int_equal(h2_tls_conn_in_commit(e->c, (size_t)n), 0);
      else if (n == 0) h2_tls_conn_in_eof(e->c);
      else assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
  }
  if (e->hs == 0) e->hs = h2_tls_conn_handshake(e->c);
  if (e->hs == 1) {
    for (;;) {
      if (e->rx_cap - e->rx_len == 0) break;
      int r = h2_tls_conn_read(e->c, e->rx + e->rx_len, e->rx_cap - e->rx_len);
      if (r > 0) {
        e->rx_len += (size_t)r;
        continue;
      }
      if (r == H2_ERR_EOF) e->peer_eof = 1;
      else assert_int_equal(r, H2_ERR_WOULD_BLOCK);
      break;
    }
    while (e->tx_off < e->tx_len) {
      int w = h2_tls_conn_write(e->c, e->tx + e->tx_off, e->tx_len - e->tx_off);
      if (w == H2_ERR_WOULD_BLOCK) break;
      assert_true(w > 0);
      e->tx_off += (size_t)w;
    }
  }
  e->want_write = 0;
  size_t len;
  const uint8_t *p;
  while ((p = h2_tls_conn_out_peek(e->c, &len)) != NULL) {
    ssize_t n = send(e->fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
      e->want_write = 1;
      break;
    }
    h2_tls_conn_out_consume(e->c, (size_t)n);
  }
}

/* run_pair drives both ends with poll() until |done| says so or 20 s pass. */
static void run_pair(end *a, end *b, int (*done)(end *, end *)) {
  double deadline = now_s() + 20;
  step(a, 0);
  step(b, 0);
  while (!done(a, b)) {
    assert_true(now_s() < deadline);
    struct pollfd p[2] = {
        {.fd = a->fd, .events = (short)(POLLIN | (a->want_write ? POLLOUT : 0))},
        {.fd = b->fd, .events = (short)(POLLIN | (b->want_write ? POLLOUT : 0))},
    };
    int n = poll(p, 2, 100);
    assert_true(n >= 0);
    step(a, p[0].revents);
    step(b, p[1].revents);
  }
}

static int both_handshaken(end *a, end *b) { return a->hs != 0 && b->hs != 0; }
static int transfers_done(end *a, end *b) {
  return a->rx_len == a->rx_cap && b->rx_len == b->rx_cap && !a->want_write && !b->want_write;
}
static int b_saw_eof(end *a, end *b) {
  (void)a;
  return b->peer_eof;
}

static void tcp_pair(int *cfd, int *sfd) {
  int port;
  int lfd = listen_loopback(&port);
  assert_true(lfd >= 0);
  *cfd = connect_loopback(port);
  assert_true(*cfd >= 0);
  *sfd = accept(lfd, NULL, NULL);
  assert_true(*sfd >= 0);
  close(lfd);
  set_nonblock(*cfd);
  set_nonblock(*sfd);
  /* Small kernel buffers make EAGAIN and partial writes happen. */
  int small = 16 * 1024;
  setsockopt(*cfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(*sfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
}

static void loopback_session(h2_tls_ctx *cc, h2_tls_ctx *sc, int expect_resumed) {
  end cl, sv;
  memset(&cl, 0, sizeof cl);
  memset(&sv, 0, sizeof sv);
  tcp_pair(&cl.fd, &sv.fd);
  cl.c = h2_tls_conn_new(cc, "localhost");
  sv.c = h2_tls_conn_new(sc, NULL);
  assert_non_null(cl.c);
  assert_non_null(sv.c);
  run_pair(&cl, &sv, both_handshaken);
  if (cl.hs != 1 || sv.hs != 1)
    print_message("client: %s / server: %s\n", h2_tls_conn_errmsg(cl.c), h2_tls_conn_errmsg(sv.c));
  assert_int_equal(cl.hs, 1);
  assert_int_equal(sv.hs, 1);
  assert_int_equal(h2_tls_conn_alpn(cl.c), H2_TLS_PROTO_H2);
  assert_int_equal(h2_tls_conn_resumed(cl.c), expect_resumed);
  assert_int_equal(h2_tls_conn_resumed(sv.c), expect_resumed);

  /* 3 MB one way, 1 MB the other, at the same time. */
  size_t up = 3u << 20, down = 1u << 20;
  uint8_t *src_up = malloc(up), *src_down = malloc(down);
  assert_non_null(src_up);
  assert_non_null(src_down);
  for (size_t i = 0; i < up; i++) src_up[i] = (uint8_t)(i * 31 + (i >> 12));
  for (size_t i = 0; i < down; i++) src_down[i] = (uint8_t)(i * 17 + 5);
  cl.tx = src_up;
  cl.tx_len = up;
  sv.tx = src_down;
  sv.tx_len = down;
  sv.rx = malloc(up);
  sv.rx_cap = up;
  cl.rx = malloc(down);
  cl.rx_cap = down;
  assert_non_null(sv.rx);
  assert_non_null(cl.rx);
  run_pair(&cl, &sv, transfers_done);
  assert_memory_equal(sv.rx, src_up, up);
  assert_memory_equal(cl.rx, src_down, down);

  /* Clean close: close_notify reaches the server as H2_ERR_EOF. */
  sv.rx_len = 0; /* room to read again */
  assert_int_equal(h2_tls_conn_close(cl.c), 0);
  run_pair(&cl, &sv, b_saw_eof);
  assert_non_null(strstr(h2_tls_conn_errmsg(sv.c), "close_notify"));
  free(src_up);
  free(src_down);
  free(sv.rx);
  free(cl.rx);
  h2_tls_conn_free(cl.c);
  h2_tls_conn_free(sv.c);
  close(cl.fd);
  close(sv.fd);
}

static void test_loopback_nonblocking(void **state) {
  (void)state;
  char dir[] = "/tmp/h2tlspeerXXXXXX";
  assert_non_null(mkdtemp(dir));
  char ca[64];
  snprintf(ca, sizeof ca, "%s/ca.pem", dir);
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_int_equal(h2_tls_ctx_add_self_signed(sc, NULL), 0);
  assert_int_equal(h2_tls_ctx_write_cert_pem(sc, 0, ca, NULL, NULL), 0);
  h2_tls_ctx *cc = h2_tls_ctx_new(H2_TLS_CLIENT);
  assert_int_equal(h2_tls_ctx_load_ca_file(cc, ca), 0);
  loopback_session(cc, sc, 0);
  loopback_session(cc, sc, 1); /* the ticket from the first one */
  h2_tls_ctx_free(cc);
  h2_tls_ctx_free(sc);
  unlink(ca);
  rmdir(dir);
}

static void test_peer_vanishes_mid_handshake(void **state) {
  (void)state;
  h2_tls_ctx *sc = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_int_equal(h2_tls_ctx_add_self_signed(sc, NULL), 0);
  int cfd, sfd;
  tcp_pair(&cfd, &sfd);
  static const uint8_t partial[] = {0x16, 0x03, 0x01, 0x00, 0x80, 0x01}; /* a cut ClientHello */
  assert_int_equal(send(cfd, partial, sizeof partial, 0), (ssize_t)sizeof partial);
  close(cfd);
  end sv;
  memset(&sv, 0, sizeof sv);
  sv.fd = sfd;
  sv.c = h2_tls_conn_new(sc, NULL);
  double deadline = now_s() + 5;
  while (sv.hs == 0 && now_s() < deadline) {
    struct pollfd p = {.fd = sfd, .events = POLLIN};
    assert_true(poll(&p, 1, 100) >= 0);
    step(&sv, p.revents);
  }
  assert_int_equal(sv.hs, H2_ERR_EOF);
  assert_non_null(strstr(h2_tls_conn_errmsg(sv.c), "during the handshake"));
  h2_tls_conn_free(sv.c);
  close(sfd);
  h2_tls_ctx_free(sc);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "serve") == 0) return tool_serve(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "connect") == 0) return tool_connect(argc - 2, argv + 2);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loopback_nonblocking),
      cmocka_unit_test(test_peer_vanishes_mid_handshake),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
