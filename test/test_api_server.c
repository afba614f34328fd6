/* test_api_server.c: h2_server on a real loop over 127.0.0.1: a listener
 * whose accept() fails with EMFILE is paused (the loop does not spin) and
 * accepts again once descriptors are free; h2_connect clients against it
 * (the server on its own loop): requests, ref/unref, timeouts, destroy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "h2.h"
#include "api_loops.h"
#include "h2_loop.h"
#include "h2_tls.h"

#define NCLIENTS 3
#define MAX_FILL 4096

typedef struct ctx {
  int errors;
  int last_err;
  char last_msg[128];
  int closes; /* sessions' on_close */
} ctx;

/* Sessions share the server's callback table: on_close still fires for
 * sessions that finish closing after h2_server_free. */
static void on_sess_close(h2_session *s, void *user) {
  (void)s;
  ((ctx *)user)->closes++;
}

static void on_session_error(h2_server *srv, int err, const char *msg, void *user) {
  (void)srv;
  ctx *c = user;
  c->errors++;
  c->last_err = err;
  snprintf(c->last_msg, sizeof c->last_msg, "%s", msg);
}

static void on_stop(h2_loop_timer *t, void *user) {
  (void)t;
  h2_loop_stop(user);
}

static void on_tick(h2_loop_timer *t, void *user) { (void)t; (void)user; }

static int connect_client(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* Loopback connect to a listening socket completes in the kernel's
   * accept queue without the server calling accept(). */
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static uint64_t cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
         (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* new_server makes a loop and a server on it whose connection errors and
 * session closes are counted in |c| (zeroed here). */
static h2_server *new_server(h2_loop **loop, ctx *c) {
  assert_int_equal(h2_loop_new(loop, NULL), 0);
  memset(c, 0, sizeof *c);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.on_session_error = on_session_error;
  cbs.session.on_close = on_sess_close;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, *loop, NULL, &cbs, c), 0);
  return srv;
}

/* A server TLS context with a generated certificate for localhost. */
static h2_tls_ctx *self_signed_ctx(void) {
  h2_tls_ctx *tls = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(tls);
  assert_int_equal(h2_tls_ctx_add_self_signed(tls, "localhost"), 0);
  return tls;
}

/* Frees |srv| and |tls| (may be NULL), lets the loop finish the closing
 * connections (at most 50 turns) and frees it. */
static void free_server(h2_server *srv, h2_tls_ctx *tls, h2_loop *loop) {
  h2_server_free(srv);
  h2_tls_ctx_free(tls);
  for (int i = 0; i < 50 && h2_loop_alive(loop); i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  h2_loop_free(loop);
}

static void test_accept_emfile_pauses(void **state) {
  (void)state;
  h2_loop *loop;
  ctx c;
  h2_server *srv = new_server(&loop, &c);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);
  assert_true(port > 0);

  /* A soft limit just above the descriptors open now, so that filling the
   * table takes a bounded number of fds. */
  struct rlimit old;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(probe >= 0);
  close(probe);
  struct rlimit low = old;
  low.rlim_cur = (rlim_t)probe + 64;
  if (low.rlim_cur > old.rlim_cur) low.rlim_cur = old.rlim_cur;
  assert_true(low.rlim_cur <= MAX_FILL);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);

  static int fill[MAX_FILL];
  int nfill = 0;
  while (nfill < MAX_FILL) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fill[nfill++] = fd;
  }
  assert_int_equal(errno, EMFILE);
  assert_true(nfill > NCLIENTS);
  /* Free exactly enough for the client ends; the server ends then hit EMFILE. */
  int cl[NCLIENTS];
  for (int i = 0; i < NCLIENTS; i++) {
    close(fill[--nfill]);
    cl[i] = connect_client(port);
    assert_true(cl[i] >= 0);
  }
  assert_int_equal(open("/dev/null", O_RDONLY), -1);

  /* 500 ms with the accept queue non-empty and no fd to accept into. */
  h2_loop_timer stop, tick;
  h2_loop_timer_init(loop, &stop, on_stop, loop);
  h2_loop_timer_init(loop, &tick, on_tick, NULL);
  h2_loop_stats st0, st1;
  h2_loop_get_stats(loop, &st0);
  uint64_t cpu0 = cpu_us();
  assert_int_equal(h2_loop_timer_start(&stop, 500, 0), 0);
  assert_true(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT) >= 0);
  uint64_t cpu1 = cpu_us();
  h2_loop_get_stats(loop, &st1);
  uint64_t iters = st1.iterations - st0.iterations;
  print_message("EMFILE window: %llu loop iterations, %llu us CPU, %d report(s): %s\n",
                (unsigned long long)iters, (unsigned long long)(cpu1 - cpu0), c.errors, c.last_msg);
  /* A spinning loop runs hundreds of thousands of iterations here; paused,
   * it wakes about once per retry (every 100 ms). */
  assert_true(iters < 50);
  assert_true(cpu1 - cpu0 < 250000);
  assert_int_equal(c.errors, 1); /* reported once, not once per retry */
  assert_non_null(strstr(c.last_msg, "accept"));
  assert_int_equal(h2_server_num_sessions(srv), 0);

  /* Free the descriptors: the paused listener resumes and accepts all. */
  for (int i = 0; i < nfill; i++) close(fill[i]);
  nfill = 0;
  assert_int_equal(h2_loop_timer_start(&tick, 20, 20), 0);
  for (int i = 0; i < 200 && h2_server_num_sessions(srv) < NCLIENTS; i++)
    assert_true(h2_loop_run(loop, H2_LOOP_RUN_ONCE) >= 0);
  assert_int_equal(h2_server_num_sessions(srv), NCLIENTS);
  for (int i = 0; i < 10; i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  /* Each accepted connection is a working session: it sent SETTINGS. */
  for (int i = 0; i < NCLIENTS; i++) {
    uint8_t buf[64];
    ssize_t n = recv(cl[i], buf, sizeof buf, MSG_DONTWAIT);
    assert_true(n >= 9);
    assert_int_equal(buf[3], 0x4); /* SETTINGS */
  }
  assert_int_equal(c.errors, 1);

  /* Fail again after a success: reported again (once per episode). */
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  while (nfill < MAX_FILL) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fill[nfill++] = fd;
  }
  close(fill[--nfill]);
  int extra = connect_client(port);
  assert_true(extra >= 0);
  assert_int_equal(h2_loop_timer_start(&stop, 250, 0), 0);
  assert_true(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT) >= 0);
  assert_int_equal(c.errors, 2);
  for (int i = 0; i < nfill; i++) close(fill[i]);
  nfill = 0;
  for (int i = 0; i < 200 && h2_server_num_sessions(srv) < NCLIENTS + 1; i++)
    assert_true(h2_loop_run(loop, H2_LOOP_RUN_ONCE) >= 0);
  assert_int_equal(h2_server_num_sessions(srv), NCLIENTS + 1);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);

  /* Closing the server while paused stops the retry timer. */
  close(extra);
  for (int i = 0; i < NCLIENTS; i++) close(cl[i]);
  h2_loop_timer_stop(&tick);
  h2_loop_timer_stop(&stop);
  h2_server_free(srv);
  for (int i = 0; i < 50 && h2_loop_alive(loop); i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  assert_int_equal(h2_loop_alive(loop), 0);
  assert_int_equal(c.closes, NCLIENTS + 1);
  h2_loop_free(loop);
}

/* h2_server_close while the listener is paused: the resume timer is
 * stopped with it and the loop ends. */
static void test_close_while_paused(void **state) {
  (void)state;
  h2_loop *loop;
  ctx c;
  h2_server *srv = new_server(&loop, &c);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);
  struct rlimit old;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(probe >= 0);
  close(probe);
  struct rlimit low = old;
  low.rlim_cur = (rlim_t)probe + 16;
  if (low.rlim_cur > old.rlim_cur) low.rlim_cur = old.rlim_cur;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  static int fill[MAX_FILL];
  int nfill = 0;
  while (nfill < MAX_FILL) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fill[nfill++] = fd;
  }
  close(fill[--nfill]);
  int cfd = connect_client(port);
  assert_true(cfd >= 0);
  for (int i = 0; i < 5 && c.errors == 0; i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  assert_int_equal(c.errors, 1);
  assert_int_equal(h2_loop_alive(loop), 1); /* the resume timer */
  h2_server_close(srv, NULL);
  for (int i = 0; i < 20 && h2_loop_alive(loop); i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  assert_int_equal(h2_loop_alive(loop), 0);
  for (int i = 0; i < nfill; i++) close(fill[i]);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
  close(cfd);
  h2_server_free(srv);
  h2_loop_free(loop);
}


/* ---- a client (h2_connect) and a server, each on its own loop ---- */

typedef struct lctx {
  int connected, responses, closes, session_closes, timeouts, goaways;
  uint32_t last_code;
  size_t body;
} lctx;

static void srv_on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n,
                          unsigned flags, void *u) {
  (void)s; (void)flags; (void)u;
  const h2_header *p = h2_header_find(h, n, ":path");
  assert_non_null(p);
  if (p->value_len == 5 && !memcmp(p->value, "/hang", 5)) return; /* never answered */
  h2_header r[] = {H2_HDR(":status", "200")};
  assert_int_equal(h2_stream_respond(st, r, 1, 0), 0);
  assert_true(h2_stream_write(st, (const uint8_t *)"hello", 5, NULL, NULL) >= 0);
  assert_int_equal(h2_stream_end(st), 0);
}

static void c_connect(h2_session *s, void *u) { (void)s; ((lctx *)u)->connected++; }
static void c_close(h2_session *s, void *u) { (void)s; ((lctx *)u)->session_closes++; }
static void c_timeout(h2_session *s, void *u) { (void)s; ((lctx *)u)->timeouts++; }
static void c_goaway(h2_session *s, uint32_t code, uint32_t last, const uint8_t *o, size_t ol,
                     void *u) {
  (void)s; (void)code; (void)last; (void)o; (void)ol;
  ((lctx *)u)->goaways++;
}
static void cs_response(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f;
  assert_non_null(h2_header_find(h, n, ":status"));
  ((lctx *)u)->responses++;
}
static void cs_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st; (void)d;
  ((lctx *)u)->body += n;
}
static void cs_close(h2_stream *st, uint32_t code, void *u) {
  (void)st;
  ((lctx *)u)->closes++;
  ((lctx *)u)->last_code = code;
}
static const h2_stream_callbacks cs_cbs = {
  .on_response = cs_response, .on_data = cs_data, .on_close = cs_close,
};

static h2_session *connect_to(h2_loop *loop, uint16_t port, lctx *lc) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
  h2_session_callbacks cc;
  memset(&cc, 0, sizeof cc);
  cc.on_connect = c_connect;
  cc.on_close = c_close;
  cc.on_timeout = c_timeout;
  cc.on_goaway = c_goaway;
  h2_session *cs = NULL;
  assert_int_equal(h2_connect(&cs, loop, url, NULL, &cc, lc), 0);
  return cs;
}

static h2_stream *get(h2_session *cs, const char *path, lctx *lc) {
  h2_stream *st;
  h2_header h[] = {{":path", 5, path, strlen(path), 0}};
  assert_int_equal(h2_session_request(cs, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &cs_cbs, lc);
  return st;
}

static void test_client_server_loops(void **state) {
  (void)state;
  h2_loop *ls, *lcl;
  assert_int_equal(h2_loop_new(&ls, NULL), 0);
  assert_int_equal(h2_loop_new(&lcl, NULL), 0);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.session.on_stream = srv_on_stream;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, ls, NULL, &cbs, NULL), 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);

  /* Requests over one connection. */
  lctx a;
  memset(&a, 0, sizeof a);
  h2_session *cs = connect_to(lcl, port, &a);
  for (int i = 0; i < 3; i++) get(cs, "/x", &a);
  assert_true(api_run_until(ls, lcl, &a.closes, 3, 3000));
  assert_int_equal(a.connected, 1);
  assert_int_equal(a.responses, 3);
  assert_int_equal(a.body, 15);
  assert_int_equal(a.last_code, 0);
  assert_string_equal(h2_session_alpn_protocol(cs), "h2c");
  assert_false(h2_session_encrypted(cs));
  assert_int_equal(h2_server_num_sessions(srv), 1);
  h2_session_state ss;
  h2_session_get_state(cs, &ss);
  assert_int_equal(ss.next_stream_id, 7);
  assert_int_equal(ss.num_streams, 0);

  /* ref/unref: only the client session lives on its loop. */
  for (int i = 0; i < 5; i++) h2_loop_run(lcl, H2_LOOP_RUN_NOWAIT);
  assert_int_equal(h2_loop_alive(lcl), 1);
  h2_session_unref(cs);
  assert_int_equal(h2_loop_alive(lcl), 0);
  assert_int_equal(h2_loop_run(lcl, H2_LOOP_RUN_DEFAULT), 0); /* returns at once */
  h2_session_set_timeout(cs, 10000);                           /* its timer is unref'd too */
  assert_int_equal(h2_loop_alive(lcl), 0);
  h2_session_ref(cs);
  assert_int_equal(h2_loop_alive(lcl), 1);

  /* A session timeout on the loop's clock calls on_timeout. */
  uint64_t t0 = api_mono_ms();
  h2_session_set_timeout(cs, 60);
  assert_true(api_run_until(ls, lcl, &a.timeouts, 1, 3000));
  assert_true(api_mono_ms() - t0 >= 50);
  h2_session_set_timeout(cs, 0);

  /* destroy: the stream in flight closes with CANCEL, then the session;
   * the server sees the connection go. */
  get(cs, "/hang", &a);
  int before = a.closes;
  for (int i = 0; i < 20; i++) {
    h2_loop_run(lcl, H2_LOOP_RUN_NOWAIT);
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
  }
  h2_session_destroy(cs, 0);
  assert_true(api_run_until(ls, lcl, &a.session_closes, 1, 3000));
  assert_int_equal(a.closes, before + 1);
  assert_int_equal(a.last_code, H2_CODE_CANCEL);
  uint64_t end = api_mono_ms() + 3000;
  while (h2_server_num_sessions(srv) > 0 && api_mono_ms() < end) {
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    usleep(200);
  }
  assert_int_equal(h2_server_num_sessions(srv), 0);

  /* The server's idle timeout closes an idle session with GOAWAY. */
  h2_server_set_timeout(srv, 100);
  lctx b;
  memset(&b, 0, sizeof b);
  h2_session *cs2 = connect_to(lcl, port, &b);
  get(cs2, "/x", &b);
  assert_true(api_run_until(ls, lcl, &b.closes, 1, 3000));
  t0 = api_mono_ms();
  assert_true(api_run_until(ls, lcl, &b.session_closes, 1, 3000));
  assert_int_equal(b.goaways, 1);
  assert_true(api_mono_ms() - t0 >= 50);

  h2_server_free(srv);
  for (int i = 0; i < 50 && (h2_loop_alive(ls) || h2_loop_alive(lcl)); i++) {
    h2_loop_run(ls, H2_LOOP_RUN_NOWAIT);
    h2_loop_run(lcl, H2_LOOP_RUN_NOWAIT);
  }
  h2_loop_free(lcl);
  h2_loop_free(ls);
}

/* A TLS connection that fails its handshake (bytes that are not TLS) or
 * that the peer leaves mid-handshake reaches on_session_error, with the
 * error and a message; the server keeps listening. */
static void test_tls_handshake_failure_reported(void **state) {
  (void)state;
  h2_loop *loop;
  ctx c;
  h2_server *srv = new_server(&loop, &c);
  h2_tls_ctx *tls = self_signed_ctx();
  int li = h2_server_listen(srv, "127.0.0.1", 0, tls);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);

  /* 1: an HTTP/1.1 request where a ClientHello belongs. */
  int fd = connect_client(port);
  assert_true(fd >= 0);
  static const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  assert_int_equal(write(fd, junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
  for (int i = 0; i < 200 && c.closes < 1; i++) { h2_loop_run(loop, H2_LOOP_RUN_NOWAIT); usleep(5000); }
  assert_int_equal(c.closes, 1);
  assert_int_equal(c.errors, 1);
  assert_int_equal(c.last_err, H2_ERR_TLS);
  assert_true(strlen(c.last_msg) > 0);
  close(fd);

  /* 2: a peer that connects and leaves before any handshake byte. */
  fd = connect_client(port);
  assert_true(fd >= 0);
  for (int i = 0; i < 5; i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  close(fd);
  for (int i = 0; i < 200 && c.closes < 2; i++) { h2_loop_run(loop, H2_LOOP_RUN_NOWAIT); usleep(5000); }
  assert_int_equal(c.closes, 2);
  assert_int_equal(c.errors, 2);
  assert_int_equal(c.last_err, H2_ERR_EOF);

  free_server(srv, tls, loop);
}

/* The server timeout: Node's default per listener kind (TLS 120 s, h2c
 * none) until h2_server_set_timeout sets one for all. */
static void test_timeout_defaults(void **state) {
  (void)state;
  h2_loop *loop;
  ctx c;
  h2_server *srv = new_server(&loop, &c);
  h2_tls_ctx *tls = self_signed_ctx();
  int plain = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  int secure = h2_server_listen(srv, "127.0.0.1", 0, tls);
  assert_true(plain >= 0 && secure >= 0);
  assert_int_equal(h2_server_get_timeout(srv, plain), 0);
  assert_int_equal(h2_server_get_timeout(srv, secure), 120000);
  assert_int_equal(h2_server_get_timeout(srv, -1), 0);
  assert_int_equal(h2_server_get_timeout(srv, 7), 0); /* no such listener */
  h2_server_set_timeout(srv, 5000);
  assert_int_equal(h2_server_get_timeout(srv, plain), 5000);
  assert_int_equal(h2_server_get_timeout(srv, secure), 5000);
  assert_int_equal(h2_server_get_timeout(srv, -1), 5000);
  h2_server_set_timeout(srv, 0); /* none, on TLS too */
  assert_int_equal(h2_server_get_timeout(srv, secure), 0);
  free_server(srv, tls, loop);
}

/* h2_server_set_max_connections: with 2 sessions live a third connection is
 * closed at once and reported (H2_ERR_LIMIT); once one goes, a new one is
 * served again. */
static void test_max_connections(void **state) {
  (void)state;
  h2_loop *loop;
  ctx c;
  h2_server *srv = new_server(&loop, &c);
  h2_server_set_max_connections(srv, 2);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);
  int a = connect_client(port), b = connect_client(port);
  assert_true(a >= 0 && b >= 0);
  for (int i = 0; i < 200 && h2_server_num_sessions(srv) < 2; i++) {
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    usleep(1000);
  }
  assert_int_equal(h2_server_num_sessions(srv), 2);
  int d = connect_client(port);
  assert_true(d >= 0);
  for (int i = 0; i < 200 && c.errors < 1; i++) {
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    usleep(1000);
  }
  assert_int_equal(c.errors, 1);
  assert_int_equal(c.last_err, H2_ERR_LIMIT);
  assert_non_null(strstr(c.last_msg, "connection limit"));
  assert_int_equal(h2_server_num_sessions(srv), 2);
  /* The dropped connection reads EOF at once. */
  char buf[16];
  struct timeval tv = {2, 0};
  setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  assert_int_equal(read(d, buf, sizeof buf), 0);
  close(d);
  /* One goes; the next connection is served (the server's SETTINGS come). */
  close(a);
  for (int i = 0; i < 200 && h2_server_num_sessions(srv) > 1; i++) {
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    usleep(1000);
  }
  assert_int_equal(h2_server_num_sessions(srv), 1);
  int e = connect_client(port);
  assert_true(e >= 0);
  static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  assert_int_equal(write(e, preface, sizeof preface - 1), (ssize_t)(sizeof preface - 1));
  ssize_t got = -1;
  for (int i = 0; i < 200 && got <= 0; i++) {
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    got = recv(e, buf, 9, MSG_DONTWAIT);
    usleep(1000);
  }
  assert_true(got >= 4);
  assert_int_equal(buf[3], 0x4); /* a SETTINGS frame */
  assert_int_equal(c.errors, 1);
  close(b);
  close(e);
  free_server(srv, NULL, loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_accept_emfile_pauses),
    cmocka_unit_test(test_close_while_paused),
    cmocka_unit_test(test_client_server_loops),
    cmocka_unit_test(test_tls_handshake_failure_reported),
    cmocka_unit_test(test_max_connections),
    cmocka_unit_test(test_timeout_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
