/* bench_session.c: the connection engine against nghttp2's session API, no
 * sockets, both measured in the same run.
 *
 * session.requests: a server processing complete request/response exchanges.
 *   The client byte stream is recorded once (untimed) from our client engine
 *   talking to our server engine: the preface and SETTINGS, then BATCHES
 *   batches of 100 concurrent GET requests with h2load-like headers (like
 *   h2load -m 100), plus the SETTINGS ACK and WINDOW_UPDATEs the client sent
 *   while reading the responses. Timed: a fresh server session takes batch
 *   after batch (ours: h2_conn_recv; nghttp2: nghttp2_session_mem_recv) and
 *   answers every request with the same 3 headers (:status 200,
 *   content-type, content-length) and a 13-byte body (ours:
 *   h2_conn_submit_response + h2_conn_submit_data of a static buffer;
 *   nghttp2: nghttp2_submit_response with a data provider), and all output
 *   is copied into a sink buffer after each batch (ours: h2_conn_output +
 *   h2_conn_output_done; nghttp2: nghttp2_session_mem_send), as a socket
 *   write would. Untimed verification: each server's whole output is fed to
 *   a fresh client engine that submitted the same requests; every stream
 *   must end with :status 200, the 13 bytes and a normal close.
 *
 * session.transfer: one 1 GiB response body through an in-memory client +
 *   server pair, both engines ours vs both nghttp2, the same windows (stream
 *   1 MiB, connection 16 MiB) and MAX_FRAME_SIZE 16384. Each side uses its
 *   natural zero-extra-copy path: ours hands the server's output iovecs (the
 *   body referenced from the application's buffer, never copied) straight to
 *   the client's h2_conn_recv; nghttp2's data provider copies the body into
 *   its frame buffer and mem_send's buffer goes straight to the client's
 *   mem_recv. Window updates flow back the same way.
 *
 * Every figure is the best of REPS runs (ours and nghttp2 alternating); the
 * spread (best / median / worst) is printed on a comment line. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nghttp2/nghttp2.h>

#include "h2_conn.h"

#define BATCH 100
#define BATCHES 200
#define NREQ (BATCH * BATCHES)
#define REPS 9
#define XFER_BYTES (1ull << 30)
#define XFER_REPS 5
#define PIECE (256u * 1024)

static const uint8_t body13[13] = "hello, world\n";

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *m) {
  fprintf(stderr, "bench_session: %s\n", m);
  exit(1);
}

typedef struct buf {
  uint8_t *p;
  size_t len, cap;
} buf;

static void bput(buf *b, const void *p, size_t n) {
  if (b->cap - b->len < n) {
    size_t nc = b->cap ? b->cap : 65536;
    while (nc - b->len < n) nc *= 2;
    b->p = realloc(b->p, nc);
    if (!b->p) die("oom");
    b->cap = nc;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ---- requests: the recorded client stream ------------------------------ */

static const h2_hpack_field req_fields[] = {
    {":method", 7, "GET", 3, 0},
    {":scheme", 7, "https", 5, 0},
    {":authority", 10, "127.0.0.1:8443", 14, 0},
    {":path", 5, "/index.html", 11, 0},
    {"user-agent", 10, "h2load nghttp2/1.52.0", 21, 0},
    {"accept", 6, "*/*", 3, 0},
    {"accept-encoding", 15, "gzip, deflate", 13, 0},
};
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const h2_hpack_field resp_fields[] = {
    {":status", 7, "200", 3, 0},
    {"content-type", 12, "text/plain", 10, 0},
    {"content-length", 14, "13", 2, 0},
};

/* Our server: answers each complete request. */
typedef struct srv_state {
  long answered;
  int errors;
} srv_state;

static int our_srv_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  srv_state *s = user;
  if (ev->type == H2_CONN_EV_HEADERS && ev->u.headers.category == H2_CONN_HEADERS_REQUEST &&
      ev->u.headers.end_stream) {
    if (h2_conn_submit_response(c, ev->stream_id, resp_fields, 3, 0) != 0 ||
        h2_conn_submit_data(c, ev->stream_id, body13, 13, H2_CONN_DATA_END_STREAM, NULL) != 0)
      s->errors++;
    s->answered++;
  } else if (ev->type == H2_CONN_EV_CONN_ERROR || ev->type == H2_CONN_EV_STREAM_RESET ||
             ev->type == H2_CONN_EV_LIMIT) {
    s->errors++;
  }
  return 0;
}

/* Client-side checker (verification and recording). */
typedef struct cli_state {
  long responses, bytes_ok, closed_ok, bad;
  uint32_t cur;
  size_t got;
} cli_state;

static int cli_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  cli_state *s = user;
  (void)c;
  switch (ev->type) {
    case H2_CONN_EV_HEADERS:
      if (ev->u.headers.category == H2_CONN_HEADERS_RESPONSE && ev->u.headers.num_fields >= 1 &&
          ev->u.headers.fields[0].value_len == 3 && memcmp(ev->u.headers.fields[0].value, "200", 3) == 0)
        s->responses++;
      else
        s->bad++;
      break;
    case H2_CONN_EV_DATA:
      /* one response's 13 bytes may come in pieces */
      if (ev->u.data.len == 13 && memcmp(ev->u.data.data, body13, 13) == 0) s->bytes_ok++;
      else s->bad++;
      break;
    case H2_CONN_EV_STREAM_CLOSED:
      if (ev->u.closed.reason == H2_CONN_CLOSE_DONE) s->closed_ok++;
      else s->bad++;
      break;
    case H2_CONN_EV_CONN_ERROR:
    case H2_CONN_EV_STREAM_RESET:
    case H2_CONN_EV_LIMIT: s->bad++; break;
    default: break;
  }
  return 0;
}

static h2_conn *new_client(cli_state *cs) {
  h2_conn_config cc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  cc.auto_window_update = 1;
  h2_conn *c = h2_conn_new(H2_CONN_CLIENT, &cc, NULL, cli_cb, cs);
  if (!c) die("h2_conn_new client");
  return c;
}

static void submit_batch(h2_conn *cli) {
  for (int i = 0; i < BATCH; i++)
    if (h2_conn_submit_request(cli, req_fields, NFIELDS(req_fields), NULL, 1, NULL) <= 0)
      die("submit_request");
}

static void drain_to(h2_conn *c, buf *out) {
  uint8_t tmp[65536];
  int n;
  while ((n = h2_conn_send(c, tmp, sizeof tmp, 0)) > 0) bput(out, tmp, (size_t)n);
  if (n < 0) die("h2_conn_send");
}

/* record builds the client byte stream: chunk[k] = what the client sent
 * for batch k (requests + ACK/WINDOW_UPDATEs caused by batch k-1). */
static void record(buf *chunks) {
  cli_state cs = {0};
  srv_state ss = {0};
  h2_conn *cli = new_client(&cs);
  h2_conn *srv = h2_conn_new(H2_CONN_SERVER, NULL, NULL, our_srv_cb, &ss);
  if (!srv) die("h2_conn_new server");
  for (int k = 0; k < BATCHES; k++) {
    submit_batch(cli);
    drain_to(cli, &chunks[k]);
    if (h2_conn_recv(srv, chunks[k].p, chunks[k].len, 0) < 0) die("record: server recv");
    buf out = {0};
    drain_to(srv, &out);
    if (h2_conn_recv(cli, out.p, out.len, 0) < 0) die("record: client recv");
    free(out.p);
  }
  if (cs.closed_ok != NREQ || cs.bad || ss.errors) die("record: conversation failed");
  h2_conn_free(cli);
  h2_conn_free(srv);
}

/* verify feeds a server's per-batch output to a fresh client. */
static void verify(const char *who, buf *outs) {
  cli_state cs = {0};
  h2_conn *cli = new_client(&cs);
  buf sink = {0};
  drain_to(cli, &sink);
  for (int k = 0; k < BATCHES; k++) {
    submit_batch(cli);
    sink.len = 0;
    drain_to(cli, &sink);
    if (h2_conn_recv(cli, outs[k].p, outs[k].len, 0) != (int)outs[k].len) {
      fprintf(stderr, "bench_session: %s output rejected in batch %d\n", who, k);
      exit(1);
    }
  }
  if (cs.responses != NREQ || cs.bytes_ok != NREQ || cs.closed_ok != NREQ || cs.bad) {
    fprintf(stderr, "bench_session: %s: %ld responses, %ld bodies, %ld closed, %ld bad of %d\n", who,
            cs.responses, cs.bytes_ok, cs.closed_ok, cs.bad, NREQ);
    exit(1);
  }
  h2_conn_free(cli);
  free(sink.p);
}

/* One timed run of ours. |outs| non-NULL: keep each batch's output. */
__attribute__((noinline)) static double run_ours_requests(const buf *chunks, buf *sink, buf *outs) {
  srv_state ss = {0};
  double t0 = now_s();
  h2_conn *srv = h2_conn_new(H2_CONN_SERVER, NULL, NULL, our_srv_cb, &ss);
  if (!srv) die("h2_conn_new");
  for (int k = 0; k < BATCHES; k++) {
    if (h2_conn_recv(srv, chunks[k].p, chunks[k].len, 0) < 0) die("ours: recv");
    sink->len = 0;
    for (;;) {
      h2_iov iov[64];
      int n = h2_conn_output(srv, iov, 64, 0);
      if (n < 0) die("ours: output");
      if (n == 0) break;
      size_t tot = 0;
      for (int i = 0; i < n; i++) {
        bput(sink, iov[i].base, iov[i].len);
        tot += iov[i].len;
      }
      h2_conn_output_done(srv, tot);
    }
    if (outs) bput(&outs[k], sink->p, sink->len);
  }
  h2_conn_free(srv);
  double t = now_s() - t0;
  if (ss.answered != NREQ || ss.errors) die("ours: not every request answered");
  return t;
}

/* nghttp2 server */
typedef struct ng_srv {
  long answered;
  int errors;
} ng_srv;

static ssize_t ng_read13(nghttp2_session *s, int32_t id, uint8_t *b, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user) {
  (void)s;
  (void)id;
  (void)src;
  (void)user;
  if (len < 13) return NGHTTP2_ERR_CALLBACK_FAILURE;
  memcpy(b, body13, 13);
  *flags |= NGHTTP2_DATA_FLAG_EOF;
  return 13;
}

#define NV(n, v)                                                                   \
  {                                                                                \
    (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1,                  \
        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE               \
  }
static nghttp2_nv ng_resp[] = {NV(":status", "200"), NV("content-type", "text/plain"),
                               NV("content-length", "13")};

static int ng_srv_frame(nghttp2_session *s, const nghttp2_frame *f, void *user) {
  ng_srv *st = user;
  if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST &&
      (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    nghttp2_data_provider dp = {{0}, ng_read13};
    if (nghttp2_submit_response(s, f->hd.stream_id, ng_resp, 3, &dp) != 0) st->errors++;
    st->answered++;
  }
  return 0;
}

static nghttp2_session_callbacks *ng_srv_cbs;

__attribute__((noinline)) static double run_ng_requests(const buf *chunks, buf *sink, buf *outs) {
  ng_srv st = {0};
  nghttp2_session *s;
  double t0 = now_s();
  if (nghttp2_session_server_new(&s, ng_srv_cbs, &st)) die("nghttp2_session_server_new");
  nghttp2_settings_entry iv[1] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
  nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, 1);
  for (int k = 0; k < BATCHES; k++) {
    ssize_t r = nghttp2_session_mem_recv(s, chunks[k].p, chunks[k].len);
    if (r != (ssize_t)chunks[k].len) die("nghttp2: mem_recv");
    sink->len = 0;
    const uint8_t *p;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(s, &p)) > 0) bput(sink, p, (size_t)n);
    if (n < 0) die("nghttp2: mem_send");
    if (outs) bput(&outs[k], sink->p, sink->len);
  }
  nghttp2_session_del(s);
  double t = now_s() - t0;
  if (st.answered != NREQ || st.errors) die("nghttp2: not every request answered");
  return t;
}

static void report(const char *name, const char *unit, double *ours, double *ng, int reps,
                   double work, int per_time) {
  qsort(ours, (size_t)reps, sizeof *ours, cmp_double);
  qsort(ng, (size_t)reps, sizeof *ng, cmp_double);
  double o_best = work / ours[0], o_med = work / ours[reps / 2], o_worst = work / ours[reps - 1];
  double n_best = work / ng[0], n_med = work / ng[reps / 2], n_worst = work / ng[reps - 1];
  (void)per_time;
  printf("# %s spread over %d runs (best/median/worst): ours %.4g/%.4g/%.4g nghttp2 %.4g/%.4g/%.4g %s\n",
         name, reps, o_best, o_med, o_worst, n_best, n_med, n_worst, unit);
  printf("RESULT name=%s unit=%s ours=%.4g nghttp2=%.4g better=%.2f\n", name, unit, o_best, n_best,
         o_best / n_best);
}

static void bench_requests(void) {
  static buf chunks[BATCHES], outs_o[BATCHES], outs_n[BATCHES];
  record(chunks);
  /* Profiling aid: BENCH_SESSION_ONLY=ours|nghttp2 runs one pass of one side
   * only (e.g. under valgrind --tool=callgrind --toggle-collect=run_ours_requests);
   * BENCH_SESSION_PASSES=N runs N passes of it and prints the best and
   * median time per exchange. */
  const char *only = getenv("BENCH_SESSION_ONLY");
  if (only) {
    buf s1 = {0};
    const char *ps = getenv("BENCH_SESSION_PASSES");
    int passes = ps ? atoi(ps) : 1;
    if (passes < 1) passes = 1;
    double *t = malloc((size_t)passes * sizeof *t);
    if (!t) die("oom");
    int ours = strcmp(only, "ours") == 0;
    if (!ours) {
      nghttp2_session_callbacks_new(&ng_srv_cbs);
      nghttp2_session_callbacks_set_on_frame_recv_callback(ng_srv_cbs, ng_srv_frame);
    }
    for (int i = 0; i < passes; i++)
      t[i] = ours ? run_ours_requests(chunks, &s1, NULL) : run_ng_requests(chunks, &s1, NULL);
    if (!ours) nghttp2_session_callbacks_del(ng_srv_cbs);
    if (ps) {
      qsort(t, (size_t)passes, sizeof *t, cmp_double);
      printf("# %s: %d passes, ns per exchange best %.1f median %.1f\n", ours ? "ours" : "nghttp2", passes,
             t[0] * 1e9 / NREQ, t[passes / 2] * 1e9 / NREQ);
    }
    free(t);
    free(s1.p);
    for (int k = 0; k < BATCHES; k++) free(chunks[k].p);
    return;
  }
  size_t total = 0;
  for (int k = 0; k < BATCHES; k++) total += chunks[k].len;
  nghttp2_session_callbacks_new(&ng_srv_cbs);
  nghttp2_session_callbacks_set_on_frame_recv_callback(ng_srv_cbs, ng_srv_frame);
  buf sink = {0};
  /* untimed: both produce complete, valid responses */
  run_ours_requests(chunks, &sink, outs_o);
  run_ng_requests(chunks, &sink, outs_n);
  verify("ours", outs_o);
  verify("nghttp2", outs_n);
  size_t oo = 0, on = 0;
  for (int k = 0; k < BATCHES; k++) {
    oo += outs_o[k].len;
    on += outs_n[k].len;
  }
  printf("# session.requests: %d requests in %d batches of %d; client stream %zu bytes; "
         "server output ours %zu bytes, nghttp2 %zu bytes (verified)\n",
         NREQ, BATCHES, BATCH, total, oo, on);
  double to[REPS], tn[REPS];
  for (int r = 0; r < REPS; r++) {
    to[r] = run_ours_requests(chunks, &sink, NULL);
    tn[r] = run_ng_requests(chunks, &sink, NULL);
  }
  report("session.requests", "req/s", to, tn, REPS, (double)NREQ, 0);
  nghttp2_session_callbacks_del(ng_srv_cbs);
  free(sink.p);
  for (int k = 0; k < BATCHES; k++) {
    free(chunks[k].p);
    free(outs_o[k].p);
    free(outs_n[k].p);
  }
}

/* ---- transfer ----------------------------------------------------------- */

static uint8_t piece[PIECE];

typedef struct xfer {
  h2_conn *cli, *srv;
  uint64_t submitted, received;
  int done, errors;
} xfer;

static void xfer_submit(xfer *x, h2_conn *srv, uint32_t id) {
  while (x->submitted < XFER_BYTES) {
    uint64_t left = XFER_BYTES - x->submitted;
    size_t n = left < PIECE ? (size_t)left : PIECE;
    int r = h2_conn_submit_data(srv, id, piece, n, n == left ? H2_CONN_DATA_END_STREAM : 0, NULL);
    if (r == H2_ERR_WOULD_BLOCK) return;
    if (r != 0) {
      x->errors++;
      return;
    }
    x->submitted += n;
  }
}

static int x_srv_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  xfer *x = user;
  switch (ev->type) {
    case H2_CONN_EV_HEADERS:
      if (h2_conn_submit_response(c, ev->stream_id, resp_fields, 2, 0) != 0) x->errors++;
      xfer_submit(x, c, ev->stream_id);
      break;
    case H2_CONN_EV_WRITABLE: xfer_submit(x, c, ev->stream_id); break;
    case H2_CONN_EV_DATA_RELEASED:
      if (ev->u.released.sent) xfer_submit(x, c, 1);
      break;
    case H2_CONN_EV_CONN_ERROR:
    case H2_CONN_EV_STREAM_RESET: x->errors++; break;
    default: break;
  }
  return 0;
}

static int x_cli_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  xfer *x = user;
  (void)c;
  switch (ev->type) {
    case H2_CONN_EV_DATA: x->received += ev->u.data.len; break;
    case H2_CONN_EV_STREAM_CLOSED:
      if (ev->u.closed.reason == H2_CONN_CLOSE_DONE) x->done = 1;
      else x->errors++;
      break;
    case H2_CONN_EV_CONN_ERROR:
    case H2_CONN_EV_STREAM_RESET: x->errors++; break;
    default: break;
  }
  return 0;
}

static double run_ours_transfer(void) {
  static xfer X;
  xfer *x = &X;
  memset(x, 0, sizeof *x);
  h2_conn_config cc, sc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  h2_conn_config_init(&sc, H2_CONN_SERVER);
  cc.settings.initial_window_size = 1u << 20;
  cc.connection_window = 16u << 20;
  cc.auto_window_update = 1;
  sc.send_queue_limit = 4 * PIECE;
  double t0 = now_s();
  x->cli = h2_conn_new(H2_CONN_CLIENT, &cc, NULL, x_cli_cb, x);
  x->srv = h2_conn_new(H2_CONN_SERVER, &sc, NULL, x_srv_cb, x);
  if (!x->cli || !x->srv) die("h2_conn_new");
  if (h2_conn_submit_request(x->cli, req_fields, NFIELDS(req_fields), NULL, 1, NULL) != 1)
    die("submit_request");
  for (long guard = 0; !x->done && !x->errors; guard++) {
    if (guard > 100000000L) die("ours transfer: no progress");
    h2_iov iov[64];
    int moved = 0;
    for (int side = 0; side < 2; side++) {
      h2_conn *from = side ? x->cli : x->srv, *to = side ? x->srv : x->cli;
      int n = h2_conn_output(from, iov, 64, 0);
      if (n < 0) die("ours transfer: output");
      size_t tot = 0;
      for (int i = 0; i < n; i++) {
        if (h2_conn_recv(to, iov[i].base, iov[i].len, 0) < 0) die("ours transfer: recv");
        tot += iov[i].len;
      }
      if (n) {
        h2_conn_output_done(from, tot);
        moved = 1;
      }
    }
    if (!moved && !x->done) die("ours transfer: stalled");
  }
  double t = now_s() - t0;
  if (x->errors || x->received != XFER_BYTES) die("ours transfer: incomplete");
  h2_conn_free(x->cli);
  h2_conn_free(x->srv);
  return t;
}

typedef struct ngx {
  uint64_t sent, received;
  int done, errors;
} ngx;

static ssize_t ng_read_big(nghttp2_session *s, int32_t id, uint8_t *b, size_t len, uint32_t *flags,
                           nghttp2_data_source *src, void *user) {
  ngx *x = user;
  (void)s;
  (void)id;
  (void)src;
  uint64_t left = XFER_BYTES - x->sent;
  size_t n = len < left ? len : (size_t)left;
  size_t off = (size_t)(x->sent % PIECE);
  if (n > PIECE - off) n = PIECE - off;
  memcpy(b, piece + off, n);
  x->sent += n;
  if (x->sent == XFER_BYTES) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

static int ngx_srv_frame(nghttp2_session *s, const nghttp2_frame *f, void *user) {
  ngx *x = user;
  if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
    nghttp2_data_provider dp = {{0}, ng_read_big};
    if (nghttp2_submit_response(s, f->hd.stream_id, ng_resp, 2, &dp) != 0) x->errors++;
  }
  return 0;
}

static int ngx_cli_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d, size_t len,
                        void *user) {
  ngx *x = user;
  (void)s;
  (void)flags;
  (void)id;
  (void)d;
  x->received += len;
  return 0;
}

static int ngx_cli_close(nghttp2_session *s, int32_t id, uint32_t code, void *user) {
  ngx *x = user;
  (void)s;
  (void)id;
  if (code == 0) x->done = 1;
  else x->errors++;
  return 0;
}

static double run_ng_transfer(void) {
  ngx x = {0};
  nghttp2_session_callbacks *scb, *ccb;
  nghttp2_session_callbacks_new(&scb);
  nghttp2_session_callbacks_new(&ccb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(scb, ngx_srv_frame);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(ccb, ngx_cli_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(ccb, ngx_cli_close);
  nghttp2_session *srv, *cli;
  double t0 = now_s();
  if (nghttp2_session_server_new(&srv, scb, &x) || nghttp2_session_client_new(&cli, ccb, &x))
    die("nghttp2 session new");
  nghttp2_settings_entry siv[1] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
  nghttp2_submit_settings(srv, NGHTTP2_FLAG_NONE, siv, 1);
  nghttp2_settings_entry civ[2] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20}};
  nghttp2_submit_settings(cli, NGHTTP2_FLAG_NONE, civ, 2);
  nghttp2_session_set_local_window_size(cli, NGHTTP2_FLAG_NONE, 0, 16 << 20);
  nghttp2_nv req[] = {NV(":method", "GET"), NV(":scheme", "https"), NV(":authority", "127.0.0.1:8443"),
                      NV(":path", "/index.html"), NV("user-agent", "h2load nghttp2/1.52.0"),
                      NV("accept", "*/*"), NV("accept-encoding", "gzip, deflate")};
  if (nghttp2_submit_request(cli, NULL, req, 7, NULL, NULL) != 1) die("nghttp2_submit_request");
  for (long guard = 0; !x.done && !x.errors; guard++) {
    if (guard > 100000000L) die("nghttp2 transfer: no progress");
    int moved = 0;
    for (int side = 0; side < 2; side++) {
      nghttp2_session *from = side ? cli : srv, *to = side ? srv : cli;
      const uint8_t *p;
      ssize_t n;
      while ((n = nghttp2_session_mem_send(from, &p)) > 0) {
        if (nghttp2_session_mem_recv(to, p, (size_t)n) != n) die("nghttp2 transfer: mem_recv");
        moved = 1;
      }
      if (n < 0) die("nghttp2 transfer: mem_send");
    }
    if (!moved && !x.done) die("nghttp2 transfer: stalled");
  }
  double t = now_s() - t0;
  if (x.errors || x.received != XFER_BYTES) die("nghttp2 transfer: incomplete");
  nghttp2_session_del(cli);
  nghttp2_session_del(srv);
  nghttp2_session_callbacks_del(scb);
  nghttp2_session_callbacks_del(ccb);
  return t;
}

static void bench_transfer(void) {
  for (size_t i = 0; i < PIECE; i++) piece[i] = (uint8_t)('a' + i % 26);
  double to[XFER_REPS], tn[XFER_REPS];
  for (int r = 0; r < XFER_REPS; r++) {
    to[r] = run_ours_transfer();
    tn[r] = run_ng_transfer();
  }
  printf("# session.transfer: %llu bytes on one stream, stream window 1 MiB, connection 16 MiB, "
         "frames 16384\n",
         (unsigned long long)XFER_BYTES);
  report("session.transfer", "GB/s", to, tn, XFER_REPS, (double)XFER_BYTES / 1e9, 0);
}

int main(int argc, char **argv) {
  printf("# peer: nghttp2 %s session API (mem_recv/mem_send), same process, same run\n",
         nghttp2_version(0)->version_str);
  int which = argc > 1 ? atoi(argv[1]) : 0; /* 1: requests only, 2: transfer only */
  if (which != 2) bench_requests();
  if (which != 1) bench_transfer();
  return 0;
}
