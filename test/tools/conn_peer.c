/* conn_peer.c: the bare connection engine (h2_conn, no api/ layer) over a
 * plain TCP socket on 127.0.0.1, with a scripted behaviour, for interop
 * tests against other HTTP/2 implementations (test/tools/conn_python_h2.py).
 *
 *   conn_peer server
 *       Listens on 127.0.0.1, port 0; prints "PORT <n>" and serves
 *       connections one after the other until stdin is closed or 60 s pass.
 *       Every request is answered when the client has ended its side:
 *         headers  :status 200, x-method, x-path, x-body-len, x-body-hash
 *                  (FNV-1a 64 of the request body, hex), x-req-trailers
 *                  (request trailer fields seen), x-settings (SETTINGS frames
 *                  received so far on this connection)
 *         /echo        body = the request body
 *         /big/N       N bytes 'a'..'z' repeated
 *         /trailers    the request body, then trailers x-trailer: done
 *         /stats       "resets=R pings=P ping_acks=A settings=S goaways=G\n"
 *         /ping        also sends a PING (its ACK shows in /stats)
 *         /goaway      then a graceful GOAWAY
 *         /push        first pushes /pushed.txt ("pushed body\n")
 *         /rst-me      RST_STREAM CANCEL instead of a response
 *
 *   conn_peer client PORT SCRIPT
 *       Connects to 127.0.0.1:PORT and runs SCRIPT (basic, echo, trailers,
 *       many, rst, ping, settings, goaway, push, server-goaway), then a
 *       graceful GOAWAY. Prints one line per stream when it closes:
 *         STREAM <path> status=<s> len=<n> hash=<h> trailers=<k> reason=<r> code=<c>
 *       and PING_ACK / SETTINGS_ACK / GOAWAY last=<id> code=<c> / PUSH <path>
 *       lines, then DONE (or FAIL <why>). Exit status 0 unless FAIL.
 *
 * CONN_PEER_PADDING=<H2_CONN_PAD_* number> in the environment pads DATA and
 * HEADERS/PUSH_PROMISE (ALIGNED to 64 octets) in both roles.
 *
 * Every loop is bounded in time; the socket is non-blocking and driven by
 * poll() so neither side can dead-lock on a full buffer. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "h2_conn.h"

#define MAX_REQ 512
#define MAX_BODY (8u << 20)

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("FAIL ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  exit(1);
}

static uint8_t pattern[MAX_BODY];

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}
#define FNV0 1469598103934665603ull

/* One stream's bookkeeping (either role). */
typedef struct req {
  uint32_t id;
  int used;
  char method[16];
  char path[256];
  uint8_t *body; /* server: the request body kept for /echo */
  size_t blen, bcap;
  uint64_t hash;
  int trailers;   /* trailer fields seen */
  int status;
  int closed, reason;
  uint32_t code;
  int pushed;
} req;

typedef struct peer {
  h2_conn *c;
  int fd;
  h2_conn_role role;
  req reqs[MAX_REQ];
  int resets, pings, ping_acks, settings, settings_acks, goaways;
  int open_script; /* client: streams of the script not closed yet */
  int want_ping_ack;
  uint32_t goaway_last;
  uint32_t goaway_code;
  int goaway_seen;
  int errors;
} peer;

static req *req_get(peer *p, uint32_t id, int create) {
  for (int i = 0; i < MAX_REQ; i++)
    if (p->reqs[i].used && p->reqs[i].id == id) return &p->reqs[i];
  if (!create) return NULL;
  for (int i = 0; i < MAX_REQ; i++)
    if (!p->reqs[i].used) {
      memset(&p->reqs[i], 0, sizeof p->reqs[i]);
      p->reqs[i].used = 1;
      p->reqs[i].id = id;
      p->reqs[i].hash = FNV0;
      return &p->reqs[i];
    }
  return NULL;
}

static void req_free(req *r) {
  free(r->body);
  memset(r, 0, sizeof *r);
}

static void copy_field(char *dst, size_t cap, const h2_hpack_field *f) {
  size_t n = f->value_len < cap - 1 ? f->value_len : cap - 1;
  memcpy(dst, f->value, n);
  dst[n] = 0;
}

static int field_is(const h2_hpack_field *f, const char *name) {
  return f->name_len == strlen(name) && memcmp(f->name, name, f->name_len) == 0;
}

/* ---- server behaviour ---------------------------------------------------- */

static void server_respond(peer *p, req *r) {
  h2_conn *c = p->c;
  if (strcmp(r->path, "/rst-me") == 0) {
    h2_conn_submit_rst(c, r->id, 8);
    return;
  }
  if (strcmp(r->path, "/push") == 0) {
    h2_hpack_field pf[4] = {{":method", 7, "GET", 3, 0},
                            {":scheme", 7, "http", 4, 0},
                            {":authority", 10, "127.0.0.1", 9, 0},
                            {":path", 5, "/pushed.txt", 11, 0}};
    int32_t pid = h2_conn_submit_push_promise(c, r->id, pf, 4, NULL);
    if (pid > 0) {
      h2_hpack_field rf[1] = {{":status", 7, "200", 3, 0}};
      h2_conn_submit_response(c, (uint32_t)pid, rf, 1, 0);
      h2_conn_submit_data(c, (uint32_t)pid, (const uint8_t *)"pushed body\n", 12,
                          H2_CONN_DATA_END_STREAM, NULL);
    }
  }
  char blen[32], hash[32], ntr[16], nset[16], stats[256];
  snprintf(blen, sizeof blen, "%zu", r->blen);
  snprintf(hash, sizeof hash, "%016llx", (unsigned long long)r->hash);
  snprintf(ntr, sizeof ntr, "%d", r->trailers);
  snprintf(nset, sizeof nset, "%d", p->settings);
  const uint8_t *body = NULL;
  size_t len = 0;
  unsigned flags = H2_CONN_DATA_END_STREAM;
  if (strcmp(r->path, "/echo") == 0 || strcmp(r->path, "/trailers") == 0) {
    body = r->body;
    len = r->blen;
    flags |= H2_CONN_DATA_COPY;
  } else if (strncmp(r->path, "/big/", 5) == 0) {
    len = (size_t)strtoul(r->path + 5, NULL, 10);
    if (len > MAX_BODY) len = MAX_BODY;
    body = pattern;
  } else if (strcmp(r->path, "/stats") == 0) {
    int n = snprintf(stats, sizeof stats, "resets=%d pings=%d ping_acks=%d settings=%d goaways=%d\n",
                     p->resets, p->pings, p->ping_acks, p->settings, p->goaways);
    body = (const uint8_t *)stats;
    len = (size_t)n;
    flags |= H2_CONN_DATA_COPY;
  }
  h2_hpack_field f[8] = {{":status", 7, "200", 3, 0},
                         {"content-type", 12, "application/octet-stream", 24, 0},
                         {"x-method", 8, r->method, strlen(r->method), 0},
                         {"x-path", 6, r->path, strlen(r->path), 0},
                         {"x-body-len", 10, blen, strlen(blen), 0},
                         {"x-body-hash", 11, hash, strlen(hash), 0},
                         {"x-req-trailers", 14, ntr, strlen(ntr), 0},
                         {"x-settings", 10, nset, strlen(nset), 0}};
  int trailers = strcmp(r->path, "/trailers") == 0;
  if (h2_conn_submit_response(c, r->id, f, 8, len == 0 && !trailers) != 0) {
    p->errors++;
    return;
  }
  if (trailers) flags &= ~(unsigned)H2_CONN_DATA_END_STREAM;
  if (len && h2_conn_submit_data(c, r->id, body, len, flags, NULL) != 0) p->errors++;
  if (trailers) {
    h2_hpack_field t[2] = {{"x-trailer", 9, "done", 4, 0}, {"x-body-hash", 11, hash, strlen(hash), 0}};
    if (h2_conn_submit_trailers(c, r->id, t, 2) != 0) p->errors++;
  }
  if (strcmp(r->path, "/ping") == 0) h2_conn_submit_ping(c, NULL, now_ms());
  if (strcmp(r->path, "/goaway") == 0) h2_conn_submit_goaway(c, 0, H2_MAX_STREAM_ID, NULL, 0);
}

/* ---- events --------------------------------------------------------------- */

static int on_event(h2_conn *c, const h2_conn_event *ev, void *user) {
  peer *p = user;
  req *r;
  switch (ev->type) {
    case H2_CONN_EV_HEADERS: {
      uint32_t id = ev->stream_id;
      int cat = ev->u.headers.category;
      if (cat == H2_CONN_HEADERS_PUSH_PROMISE) {
        id = ev->u.headers.promised_id;
        r = req_get(p, id, 1);
        if (!r) return 0;
        r->pushed = 1;
        for (size_t i = 0; i < ev->u.headers.num_fields; i++)
          if (field_is(&ev->u.headers.fields[i], ":path")) copy_field(r->path, sizeof r->path, &ev->u.headers.fields[i]);
        printf("PUSH %s\n", r->path);
        p->open_script++;
        break;
      }
      r = req_get(p, id, cat == H2_CONN_HEADERS_REQUEST);
      if (!r) break;
      if (cat == H2_CONN_HEADERS_TRAILERS) {
        r->trailers += (int)ev->u.headers.num_fields;
        break;
      }
      for (size_t i = 0; i < ev->u.headers.num_fields; i++) {
        const h2_hpack_field *f = &ev->u.headers.fields[i];
        if (field_is(f, ":method")) copy_field(r->method, sizeof r->method, f);
        if (field_is(f, ":path")) copy_field(r->path, sizeof r->path, f);
        if (field_is(f, ":status") && cat == H2_CONN_HEADERS_RESPONSE) {
          char s[8];
          copy_field(s, sizeof s, f);
          r->status = atoi(s);
        }
      }
      break;
    }
    case H2_CONN_EV_DATA:
      r = req_get(p, ev->stream_id, 0);
      if (r) {
        r->hash = fnv(r->hash, ev->u.data.data, ev->u.data.len);
        if (p->role == H2_CONN_SERVER && r->blen + ev->u.data.len <= MAX_BODY) {
          if (r->bcap < r->blen + ev->u.data.len) {
            size_t nc = r->bcap ? r->bcap * 2 : 65536;
            while (nc < r->blen + ev->u.data.len) nc *= 2;
            uint8_t *nb = realloc(r->body, nc);
            if (!nb) fail("oom");
            r->body = nb;
            r->bcap = nc;
          }
          memcpy(r->body + r->blen, ev->u.data.data, ev->u.data.len);
        }
        r->blen += ev->u.data.len;
      }
      h2_conn_consume(c, ev->stream_id, ev->u.data.len);
      break;
    case H2_CONN_EV_STREAM_END:
      r = req_get(p, ev->stream_id, 0);
      if (r && p->role == H2_CONN_SERVER) server_respond(p, r);
      break;
    case H2_CONN_EV_STREAM_RESET:
      if (ev->u.reset.remote) p->resets++;
      r = req_get(p, ev->stream_id, 0);
      if (r) r->code = ev->u.reset.error_code;
      break;
    case H2_CONN_EV_STREAM_CLOSED:
      r = req_get(p, ev->stream_id, 0);
      if (!r) break;
      if (p->role == H2_CONN_CLIENT) {
        printf("STREAM %s status=%d len=%zu hash=%016llx trailers=%d reason=%d code=%u\n", r->path,
               r->status, r->blen, (unsigned long long)r->hash, r->trailers, ev->u.closed.reason,
               ev->u.closed.error_code ? ev->u.closed.error_code : r->code);
        p->open_script--;
      }
      req_free(r);
      break;
    case H2_CONN_EV_PING: p->pings++; break;
    case H2_CONN_EV_PING_ACK:
      p->ping_acks++;
      if (p->role == H2_CONN_CLIENT) printf("PING_ACK\n");
      p->want_ping_ack = 0;
      break;
    case H2_CONN_EV_SETTINGS: p->settings++; break;
    case H2_CONN_EV_SETTINGS_ACK:
      p->settings_acks++;
      if (p->role == H2_CONN_CLIENT && p->settings_acks > 1) printf("SETTINGS_ACK\n");
      break;
    case H2_CONN_EV_GOAWAY:
      p->goaways++;
      p->goaway_seen = 1;
      p->goaway_last = ev->u.goaway.last_stream_id;
      p->goaway_code = ev->u.goaway.error_code;
      if (p->role == H2_CONN_CLIENT)
        printf("GOAWAY last=%u code=%u\n", ev->u.goaway.last_stream_id, ev->u.goaway.error_code);
      break;
    case H2_CONN_EV_CONN_ERROR:
      fprintf(stderr, "conn_peer: connection error %d (%s) remote=%d\n", ev->u.error.err,
              ev->u.error.message ? ev->u.error.message : "", ev->u.error.remote);
      if (!ev->u.error.remote) p->errors++;
      break;
    default: break;
  }
  return 0;
}

/* ---- I/O ------------------------------------------------------------------ */

/* io_step polls once (up to |wait| ms), reads and writes. Returns 0 while
 * the connection lives, 1 once closed (EOF or engine closed). */
static int io_step(peer *p, int wait) {
  struct pollfd pfd = {p->fd, POLLIN, 0};
  if (h2_conn_want_write(p->c) || h2_conn_pending(p->c)) pfd.events |= POLLOUT;
  int pr = poll(&pfd, 1, wait);
  if (pr < 0 && errno != EINTR) fail("poll: %s", strerror(errno));
  uint64_t now = now_ms();
  if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
    uint8_t buf[65536];
    ssize_t n = read(p->fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      h2_conn_recv_eof(p->c, now);
      return 1;
    }
    if (n > 0) (void)h2_conn_recv(p->c, buf, (size_t)n, now);
  }
  for (int k = 0; k < 64; k++) {
    h2_iov iov[32];
    int n = h2_conn_output(p->c, iov, 32, now);
    if (n <= 0) break;
    struct iovec v[32];
    for (int i = 0; i < n; i++) {
      v[i].iov_base = (void *)iov[i].base;
      v[i].iov_len = iov[i].len;
    }
    ssize_t w = writev(p->fd, v, n);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return 1; /* peer gone */
    }
    h2_conn_output_done(p->c, (size_t)w);
  }
  h2_conn_timeout(p->c, now);
  return h2_conn_is_closed(p->c) && h2_conn_pending(p->c) == 0;
}

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Padding from CONN_PEER_PADDING (see the file comment). */
static void padding_from_env(h2_conn_config *cfg) {
  const char *e = getenv("CONN_PEER_PADDING");
  if (!e || !*e) return;
  int mode = atoi(e);
  if (mode < H2_CONN_PAD_NONE || mode > H2_CONN_PAD_ALIGNED) return; /* no callback here */
  cfg->padding = cfg->header_padding = (uint8_t)mode;
  cfg->padding_align = 64;
}

static peer *peer_new(h2_conn_role role, int fd, const h2_conn_config *cfg) {
  peer *p = calloc(1, sizeof *p);
  if (!p) fail("oom");
  p->fd = fd;
  p->role = role;
  p->c = h2_conn_new(role, cfg, NULL, on_event, p);
  if (!p->c) fail("h2_conn_new");
  set_nonblock(fd);
  return p;
}

static void peer_free(peer *p) {
  h2_conn_free(p->c);
  for (int i = 0; i < MAX_REQ; i++)
    if (p->reqs[i].used) req_free(&p->reqs[i]);
  close(p->fd);
  free(p);
}

/* ---- server --------------------------------------------------------------- */

static int run_server(void) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 16)) fail("bind/listen: %s", strerror(errno));
  socklen_t al = sizeof a;
  getsockname(ls, (struct sockaddr *)&a, &al);
  printf("PORT %d\n", ntohs(a.sin_port));
  fflush(stdout);
  uint64_t end = now_ms() + 60000;
  while (now_ms() < end) {
    struct pollfd pf[2] = {{ls, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(pf, 2, 200) < 0 && errno != EINTR) break;
    if (pf[1].revents) {
      char b[64];
      if (read(0, b, sizeof b) <= 0) break; /* stdin closed: done */
    }
    if (!(pf[0].revents & POLLIN)) continue;
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) continue;
    h2_conn_config cfg;
    h2_conn_config_init(&cfg, H2_CONN_SERVER);
    cfg.settings.max_concurrent_streams = 256;
    padding_from_env(&cfg);
    peer *p = peer_new(H2_CONN_SERVER, fd, &cfg);
    uint64_t cend = now_ms() + 20000;
    while (now_ms() < cend && !io_step(p, 50)) {
    }
    peer_free(p);
  }
  close(ls);
  return 0;
}

/* ---- client --------------------------------------------------------------- */

static int32_t request(peer *p, const char *method, const char *path, size_t body, int trailers) {
  h2_hpack_field f[6] = {{":method", 7, method, strlen(method), 0},
                         {":scheme", 7, "http", 4, 0},
                         {":authority", 10, "127.0.0.1", 9, 0},
                         {":path", 5, path, strlen(path), 0},
                         {"user-agent", 10, "conn_peer", 9, 0},
                         {"te", 2, "trailers", 8, 0}};
  int end = body == 0 && !trailers;
  int32_t id = h2_conn_submit_request(p->c, f, trailers ? 6 : 5, NULL, end, NULL);
  if (id <= 0) fail("submit_request %s: %d", path, id);
  req *r = req_get(p, (uint32_t)id, 1);
  if (!r) fail("too many streams");
  snprintf(r->path, sizeof r->path, "%s", path);
  p->open_script++;
  if (body) {
    int rc = h2_conn_submit_data(p->c, (uint32_t)id, pattern, body, trailers ? 0 : H2_CONN_DATA_END_STREAM, NULL);
    if (rc) fail("submit_data: %d", rc);
  }
  if (trailers) {
    h2_hpack_field t[2] = {{"x-client-trailer", 16, "1", 1, 0}, {"x-more", 6, "2", 1, 0}};
    if (h2_conn_submit_trailers(p->c, (uint32_t)id, t, 2)) fail("submit_trailers");
  }
  return id;
}

/* run_until steps until |cond| holds, the connection closes, or |ms| pass. */
static int run_until(peer *p, int (*cond)(peer *), int ms) {
  uint64_t end = now_ms() + (uint64_t)ms;
  while (now_ms() < end) {
    if (cond(p)) return 1;
    if (io_step(p, 20)) return cond(p);
  }
  return 0;
}

static int all_closed(peer *p) { return p->open_script == 0; }
static int got_ping_ack(peer *p) { return p->ping_acks > 0; }
static int got_settings_ack(peer *p) { return p->settings_acks >= 2; }
static int got_goaway(peer *p) { return p->goaway_seen; }
static int closed(peer *p) { return h2_conn_is_closed(p->c); }

static int run_client(int port, const char *script) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a)) fail("connect: %s", strerror(errno));
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_CLIENT);
  padding_from_env(&cfg);
  peer *p = peer_new(H2_CONN_CLIENT, fd, &cfg);
  int ok = 1;
  if (strcmp(script, "basic") == 0) {
    request(p, "GET", "/hello", 0, 0);
    ok = run_until(p, all_closed, 10000);
  } else if (strcmp(script, "echo") == 0) {
    request(p, "POST", "/echo", 300000, 0);
    ok = run_until(p, all_closed, 20000);
  } else if (strcmp(script, "trailers") == 0) {
    request(p, "POST", "/trailers", 1000, 1);
    ok = run_until(p, all_closed, 10000);
  } else if (strcmp(script, "many") == 0) {
    for (int i = 0; i < 60; i++) {
      if (i % 3 == 0)
        request(p, "POST", "/echo", 5000 + (size_t)i, 0);
      else
        request(p, "GET", "/big/1000", 0, 0);
    }
    ok = run_until(p, all_closed, 20000);
  } else if (strcmp(script, "rst") == 0) {
    int32_t id = request(p, "POST", "/echo", 1000000, 0);
    /* send until the peer's window stops us, then reset mid-body */
    uint64_t end = now_ms() + 10000;
    while (now_ms() < end && h2_conn_stream_queued(p->c, (uint32_t)id) > 1000000 - 60000) io_step(p, 20);
    for (int i = 0; i < 10; i++) io_step(p, 10);
    if (h2_conn_submit_rst(p->c, (uint32_t)id, 8)) fail("submit_rst");
    request(p, "GET", "/after-rst", 0, 0);
    ok = run_until(p, all_closed, 10000);
  } else if (strcmp(script, "ping") == 0) {
    uint8_t op[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    h2_conn_submit_ping(p->c, op, now_ms());
    request(p, "GET", "/ping", 0, 0);
    ok = run_until(p, got_ping_ack, 10000) && run_until(p, all_closed, 10000);
    /* give the server's PING a moment to be answered */
    for (int i = 0; i < 10; i++) io_step(p, 10);
    printf("PINGS_RECEIVED %d\n", p->pings);
  } else if (strcmp(script, "settings") == 0) {
    h2_frame_setting s[3] = {{H2_SETTINGS_INITIAL_WINDOW_SIZE, 1000},
                             {H2_SETTINGS_MAX_FRAME_SIZE, 32768},
                             {H2_SETTINGS_HEADER_TABLE_SIZE, 0}};
    if (h2_conn_submit_settings(p->c, s, 3, now_ms())) fail("submit_settings");
    ok = run_until(p, got_settings_ack, 10000);
    request(p, "GET", "/big/100000", 0, 0);
    request(p, "GET", "/big/5", 0, 0);
    ok = ok && run_until(p, all_closed, 20000);
  } else if (strcmp(script, "goaway") == 0) {
    request(p, "GET", "/hello", 0, 0);
    ok = run_until(p, all_closed, 10000);
  } else if (strcmp(script, "server-goaway") == 0) {
    request(p, "GET", "/goaway", 0, 0);
    ok = run_until(p, all_closed, 10000) && run_until(p, got_goaway, 10000);
  } else if (strcmp(script, "push") == 0) {
    request(p, "GET", "/push", 0, 0);
    ok = run_until(p, all_closed, 10000);
  } else {
    fail("unknown script %s", script);
  }
  if (!ok) fail("script %s timed out (open=%d)", script, p->open_script);
  if (!h2_conn_is_closed(p->c)) {
    h2_conn_submit_goaway(p->c, 0, H2_MAX_STREAM_ID, NULL, 0);
    run_until(p, closed, 3000);
  }
  /* flush what is left (the GOAWAY) */
  for (int i = 0; i < 20 && h2_conn_pending(p->c); i++) io_step(p, 10);
  int errors = p->errors;
  peer_free(p);
  if (errors) fail("%d local errors", errors);
  printf("DONE\n");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (size_t i = 0; i < MAX_BODY; i++) pattern[i] = (uint8_t)('a' + i % 26);
  alarm(90); /* hard bound */
  if (argc >= 2 && strcmp(argv[1], "server") == 0) return run_server();
  if (argc >= 4 && strcmp(argv[1], "client") == 0) return run_client(atoi(argv[2]), argv[3]);
  fprintf(stderr, "usage: conn_peer server | conn_peer client PORT SCRIPT\n");
  return 2;
}
