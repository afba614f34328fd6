/* cmd_get.c: `h2 get [options] URL...`: fetch every URL over ONE HTTP/2
 * connection, multiplexed. Exits 0 when every response arrived with a
 * status below 400, 1 otherwise (connection failure, reset stream, 4xx/5xx),
 * 2 on a usage error. --stat prints each stream's timings and the
 * connection's counters (the library's metrics) on stderr, like nghttp -s. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "h2.h"
#include "h2_loop.h"
#include "h2cmd.h"

#define MAX_URLS 256
#define MAX_HDRS 64

typedef struct get_ctx get_ctx;

typedef struct fetch {
  get_ctx *g;
  const char *url;
  char path[2048];
  const char *out_name;
  FILE *out;
  h2_stream *st;
  int status;
  uint64_t got, total; /* total = content-length or 0 */
  int started, done, failed;
  int retries; /* REFUSED_STREAM retries (the request was not processed) */
  char why[128];
  h2_stream_metrics m; /* --stat: taken at close */
  int has_m;
} fetch;

struct get_ctx {
  h2_loop *loop;
  h2_session *s;
  fetch f[MAX_URLS];
  int n;
  int finished;
  int verbose, quiet, head, stat;
  h2_session_metrics sm; /* --stat: taken at the session's close */
  int has_sm;
  int conn_failed;
  char conn_err[300];
  h2_header hdrs[MAX_HDRS];
  int nhdrs;
  const uint8_t *data;
  size_t data_len;
  int progress; /* stderr is a terminal */
  uint64_t last_draw_ms;
  /* Requests in flight stay within the server's MAX_CONCURRENT_STREAMS
   * (100, the RFC's recommended minimum, until its SETTINGS arrive); the
   * rest wait in URL order. */
  int next, in_flight;
  uint32_t limit;
  int retry[MAX_URLS]; /* refused requests to start again, first */
  int nretry;
};

#define MAX_RETRIES 5

static void start_more(get_ctx *g);

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void draw_progress(get_ctx *g, int final) {
  if (!g->progress) return;
  uint64_t t = now_ms();
  if (!final && t - g->last_draw_ms < 100) return;
  g->last_draw_ms = t;
  uint64_t got = 0, total = 0;
  int known = 1;
  for (int i = 0; i < g->n; i++) {
    got += g->f[i].got;
    if (g->f[i].total) total += g->f[i].total; else known = 0;
  }
  if (known && total) {
    int width = 30, fill = (int)(got * (uint64_t)width / total);
    if (fill > width) fill = width;
    fprintf(stderr, "\r[%.*s%*s] %3d%% %.1f/%.1f MiB", fill, "==============================",
            width - fill, "", (int)(got * 100 / total), got / 1048576.0, total / 1048576.0);
  } else {
    fprintf(stderr, "\r%.1f MiB", got / 1048576.0);
  }
  if (final) fputc('\n', stderr);
}

static void check_done(get_ctx *g) {
  for (int i = 0; i < g->n; i++)
    if (!g->f[i].done) return;
  if (g->finished) return;
  g->finished = 1;
  if (g->progress && g->last_draw_ms) draw_progress(g, 1);
  h2_session_close(g->s);
}

static void print_headers(FILE *to, const char *prefix, const h2_header *h, size_t n) {
  for (size_t i = 0; i < n; i++)
    fprintf(to, "%s%.*s: %.*s\n", prefix, (int)h[i].name_len, h[i].name, (int)h[i].value_len,
            h[i].value);
}

static void on_response(h2_stream *st, const h2_header *h, size_t n, unsigned flags, void *user) {
  (void)st; (void)flags;
  fetch *f = user;
  const h2_header *sh = h2_header_find(h, n, ":status");
  if (sh) {
    char tmp[8];
    snprintf(tmp, sizeof tmp, "%.*s", (int)sh->value_len, sh->value);
    f->status = atoi(tmp);
  }
  const h2_header *cl = h2_header_find(h, n, "content-length");
  if (cl) {
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%.*s", (int)cl->value_len, cl->value);
    f->total = strtoull(tmp, NULL, 10);
  }
  if (f->g->verbose) {
    fprintf(stderr, "[%s] response headers:\n", f->url);
    print_headers(stderr, "  ", h, n);
  }
  if (f->g->head && !f->g->verbose) print_headers(stdout, "", h, n); /* -I: like curl -I */
}

static void on_info(h2_stream *st, const h2_header *h, size_t n, unsigned flags, void *user) {
  (void)st; (void)flags;
  fetch *f = user;
  if (f->g->verbose) {
    fprintf(stderr, "[%s] informational headers:\n", f->url);
    print_headers(stderr, "  ", h, n);
  }
}

static void on_trailers(h2_stream *st, const h2_header *h, size_t n, unsigned flags, void *user) {
  (void)st; (void)flags;
  fetch *f = user;
  if (f->g->verbose) {
    fprintf(stderr, "[%s] trailers:\n", f->url);
    print_headers(stderr, "  ", h, n);
  }
}

static void on_data(h2_stream *st, const uint8_t *d, size_t len, void *user) {
  (void)st;
  fetch *f = user;
  f->got += len;
  if (f->out && fwrite(d, 1, len, f->out) != len) {
    snprintf(f->why, sizeof f->why, "write failed: %s", strerror(errno));
    f->failed = 1;
  }
  draw_progress(f->g, 0);
}

static void on_close(h2_stream *st, uint32_t code, void *user) {
  (void)st;
  fetch *f = user;
  get_ctx *g = f->g;
  g->in_flight--;
  if (g->stat) f->has_m = h2_stream_get_metrics(st, &f->m) == 0;
  f->st = NULL;
  if (code == 0x7 /* REFUSED_STREAM: not processed, safe to retry */ && !f->status && !f->got &&
      f->retries < MAX_RETRIES && g->s && !g->finished) {
    f->retries++;
    f->started = 0;
    if (g->verbose) fprintf(stderr, "[%s] refused by the server; will retry\n", f->url);
    g->retry[g->nretry++] = (int)(f - g->f); /* started again before the rest */
    start_more(g);
    check_done(g);
    return;
  }
  if (code) {
    f->failed = 1;
    snprintf(f->why, sizeof f->why, "stream reset: %s", h2_err_rfc_name(code));
  }
  if (f->out && f->out != stdout) fclose(f->out);
  else if (f->out) fflush(stdout);
  f->out = NULL;
  f->done = 1;
  start_more(g);
  check_done(g);
}

static void trace(h2_session *s, int out, const char *line, void *user) {
  (void)s; (void)user;
  fprintf(stderr, "%s %s\n", out ? ">" : "<", line);
}

static void s_error(h2_session *s, int err, const char *msg, void *user) {
  (void)s;
  get_ctx *g = user;
  g->conn_failed = 1;
  snprintf(g->conn_err, sizeof g->conn_err, "%s (%s)", msg ? msg : "", h2_strerror(err));
}

static void s_close(h2_session *s, void *user) {
  get_ctx *g = user;
  if (g->stat) g->has_sm = h2_session_get_metrics(s, &g->sm) == 0;
  g->s = NULL;
  for (int i = 0; i < g->n; i++)
    if (!g->f[i].done) {
      g->f[i].done = 1;
      g->f[i].failed = 1;
      if (!g->f[i].why[0]) snprintf(g->f[i].why, sizeof g->f[i].why, "connection closed");
    }
  h2_loop_stop(g->loop);
}

static void s_connect(h2_session *s, void *user) {
  (void)s;
  get_ctx *g = user;
  if (g->verbose) fprintf(stderr, "* connected (%s)\n", h2_session_alpn_protocol(s));
}

static void s_goaway(h2_session *s, uint32_t code, uint32_t last, const uint8_t *op, size_t oplen,
                     void *user) {
  (void)s;
  get_ctx *g = user;
  if (g->verbose || code)
    fprintf(stderr, "* GOAWAY %s last_stream_id=%u %.*s\n", h2_err_rfc_name(code), last, (int)oplen,
            (const char *)op);
}

/* Opens the request of |f| (its response arrives through the callbacks). */
static void start_one(get_ctx *g, fetch *f) {
  h2_header h[MAX_HDRS + 4];
  int k = 0;
  const char *method = g->head ? "HEAD" : g->data ? "POST" : "GET";
  h[k++] = (h2_header){":method", 7, method, strlen(method), 0};
  h[k++] = (h2_header){":path", 5, f->path, strlen(f->path), 0};
  h[k++] = (h2_header){"user-agent", 10, "h2-get", 6, 0};
  for (int j = 0; j < g->nhdrs; j++) h[k++] = g->hdrs[j];
  unsigned flags = g->data ? 0 : H2_END_STREAM;
  f->started = 1;
  int r = h2_session_request(g->s, &f->st, h, (size_t)k, flags, NULL);
  if (r) {
    fprintf(stderr, "h2 get: %s: cannot start the request: %s %s\n", f->url, h2_strerror(r),
            h2_last_error_message());
    f->st = NULL;
    f->done = f->failed = 1;
    return;
  }
  g->in_flight++;
  if (g->verbose) {
    fprintf(stderr, "[%s] request headers:\n", f->url);
    print_headers(stderr, "  ", h, (size_t)k);
  }
  h2_stream_callbacks cbs = {0};
  cbs.on_response = on_response;
  cbs.on_headers = on_info;
  cbs.on_trailers = on_trailers;
  cbs.on_data = on_data;
  cbs.on_close = on_close;
  h2_stream_on(f->st, &cbs, f);
  if (g->data) h2_stream_end_with(f->st, g->data, g->data_len, NULL, NULL);
}

/* Starts waiting requests (refused ones first) while there is room. */
static void start_more(get_ctx *g) {
  while (g->s && !g->finished && !g->conn_failed && !h2_session_closed(g->s) &&
         (uint32_t)g->in_flight < g->limit) {
    fetch *f;
    if (g->nretry) f = &g->f[g->retry[--g->nretry]];
    else if (g->next < g->n) f = &g->f[g->next++];
    else break;
    start_one(g, f);
  }
}

static void s_remote_settings(h2_session *s, const h2_settings *v, void *user) {
  (void)s;
  get_ctx *g = user;
  /* 0 would allow nothing: keep one stream and let the server refuse it. */
  g->limit = v->max_concurrent_streams ? v->max_concurrent_streams : 1;
  start_more(g);
  check_done(g);
}

static int same_origin(const char *a, const char *b) {
  size_t la = strcspn(a + (strstr(a, "://") ? (size_t)(strstr(a, "://") - a) + 3 : 0), "/?#");
  size_t oa = strstr(a, "://") ? (size_t)(strstr(a, "://") - a) + 3 : 0;
  size_t lb = strcspn(b + (strstr(b, "://") ? (size_t)(strstr(b, "://") - b) + 3 : 0), "/?#");
  size_t ob = strstr(b, "://") ? (size_t)(strstr(b, "://") - b) + 3 : 0;
  return oa == ob && la == lb && !strncmp(a, b, oa + la);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: h2 get [options] URL...\n"
          "Fetches every URL over one HTTP/2 connection (all URLs must share scheme://host:port),\n"
          "as many at once as the server allows (refused requests are retried).\n"
          "  -v, --verbose      print every frame sent (>) and received (<), and headers\n"
          "  -o FILE            save the body of the next URL to FILE (repeatable)\n"
          "  -O                 save each body under its URL's file name\n"
          "  -H 'Name: value'   add a request header\n"
          "  -d, --data DATA    send DATA as a POST body (@FILE reads a file)\n"
          "  -I, --head         HEAD requests; print the response headers on stdout\n"
          "  -k, --insecure     do not verify the server certificate\n"
          "  --cacert FILE      trust the certificates in FILE\n"
          "  -s, --silent       no progress bar\n"
          "  --stat             print each stream's timings (ms from the connection's start)\n"
          "                     and the connection's counters on stderr\n");
}

/* print_stats: --stat. Times in ms from the connection's start (the
 * client's loop clock when h2_connect attached the session). */
static void print_stats(get_ctx *g) {
  fprintf(stderr, "%8s %8s %8s %8s %12s %6s  %s\n", "start", "header", "1st-byte", "end",
          "bytes", "status", "path");
  for (int i = 0; i < g->n; i++) {
    fetch *f = &g->f[i];
    if (!f->has_m) {
      fprintf(stderr, "%8s %8s %8s %8s %12s %6s  %s\n", "-", "-", "-", "-", "-", "-", f->path);
      continue;
    }
    const h2_stream_metrics *m = &f->m;
    char hd[24] = "-", fb[24] = "-";
    if (m->time_to_first_header_ms >= 0)
      snprintf(hd, sizeof hd, "%llu", (unsigned long long)(m->start_ms + (uint64_t)m->time_to_first_header_ms));
    if (m->time_to_first_byte_ms >= 0)
      snprintf(fb, sizeof fb, "%llu", (unsigned long long)(m->start_ms + (uint64_t)m->time_to_first_byte_ms));
    fprintf(stderr, "%8llu %8s %8s %8llu %12llu %6d  %s\n", (unsigned long long)m->start_ms, hd, fb,
            (unsigned long long)(m->start_ms + m->duration_ms), (unsigned long long)m->bytes_read,
            f->status, f->path);
  }
  if (g->has_sm) {
    const h2_session_metrics *s = &g->sm;
    fprintf(stderr,
            "connection: %llu ms, %llu frames / %llu bytes sent, %llu frames / %llu bytes "
            "received, %llu streams (at most %u at once, %.1f ms on average)",
            (unsigned long long)s->duration_ms, (unsigned long long)s->frames_sent,
            (unsigned long long)s->bytes_written, (unsigned long long)s->frames_received,
            (unsigned long long)s->bytes_read, (unsigned long long)s->stream_count,
            s->max_concurrent_streams, s->stream_average_duration_ms);
    if (s->ping_rtt_ms >= 0) fprintf(stderr, ", PING RTT %.1f ms", s->ping_rtt_ms);
    fputc('\n', stderr);
  }
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  size_t cap = 65536, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    size_t r = fread(buf + n, 1, cap - n, fp);
    n += r;
    if (n < cap) break;
    uint8_t *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  fclose(fp);
  *len = n;
  return buf;
}

int h2_cmd_get(int argc, char **argv) {
  get_ctx *g = calloc(1, sizeof *g);
  if (!g) return 1;
  const char *outs[MAX_URLS];
  int nouts = 0, save_remote = 0, insecure = 0;
  const char *cacert = NULL;
  uint8_t *data_owned = NULL;
  int rc = 2;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); free(g); return 0; }
    else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) g->verbose = 1;
    else if (!strcmp(a, "-s") || !strcmp(a, "--silent")) g->quiet = 1;
    else if (!strcmp(a, "-I") || !strcmp(a, "--head")) g->head = 1;
    else if (!strcmp(a, "--stat")) g->stat = 1;
    else if (!strcmp(a, "-k") || !strcmp(a, "--insecure")) insecure = 1;
    else if (!strcmp(a, "-O")) save_remote = 1;
    else if (!strcmp(a, "--cacert") && next) { cacert = next; i++; }
    else if (!strcmp(a, "-o") && next) { if (nouts < MAX_URLS) outs[nouts++] = next; i++; }
    else if ((!strcmp(a, "-d") || !strcmp(a, "--data")) && next) {
      if (next[0] == '@') {
        data_owned = read_file(next + 1, &g->data_len);
        if (!data_owned) { fprintf(stderr, "h2 get: cannot read %s\n", next + 1); goto out; }
        g->data = data_owned;
      } else {
        g->data = (const uint8_t *)next;
        g->data_len = strlen(next);
      }
      i++;
    } else if (!strcmp(a, "-H") && next) {
      const char *colon = strchr(next, ':');
      if (!colon || colon == next || g->nhdrs >= MAX_HDRS) { fprintf(stderr, "h2 get: bad header '%s'\n", next); goto out; }
      const char *v = colon + 1;
      while (*v == ' ') v++;
      g->hdrs[g->nhdrs++] = (h2_header){next, (size_t)(colon - next), v, strlen(v), 0};
      i++;
    } else if (a[0] != '-' && g->n < MAX_URLS) {
      g->f[g->n].url = a;
      g->f[g->n].g = g;
      g->n++;
    } else {
      fprintf(stderr, "h2 get: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      goto out;
    }
  }
  if (g->n == 0) { usage(stderr); goto out; }
  for (int i = 1; i < g->n; i++)
    if (!same_origin(g->f[0].url, g->f[i].url)) {
      fprintf(stderr, "h2 get: %s is not on the same connection as %s\n", g->f[i].url, g->f[0].url);
      goto out;
    }
  rc = 1;
  g->progress = !g->quiet && !g->verbose && isatty(2);
  for (int i = 0; i < g->n; i++) {
    fetch *f = &g->f[i];
    const char *u = f->url;
    const char *p = strstr(u, "://");
    p = p ? p + 3 : u;
    p += strcspn(p, "/?#");
    snprintf(f->path, sizeof f->path, "%s", *p == '/' ? p : "/");
    if (*p == '?') snprintf(f->path, sizeof f->path, "/%s", p);
    char *hash = strchr(f->path, '#');
    if (hash) *hash = '\0';
    if (i < nouts) f->out_name = outs[i];
    else if (save_remote) {
      const char *base = strrchr(f->path, '/');
      base = base && base[1] ? base + 1 : "index.html";
      f->out_name = base;
    }
    if (g->head) f->out = NULL;
    else if (f->out_name) {
      f->out = fopen(f->out_name, "wb");
      if (!f->out) { fprintf(stderr, "h2 get: %s: %s\n", f->out_name, strerror(errno)); goto out; }
    } else {
      f->out = stdout;
      /* A body shown on the terminal and a bar on the same terminal mix. */
      if (isatty(1)) g->progress = 0;
    }
  }
  if (h2_loop_new(&g->loop, NULL)) { fprintf(stderr, "h2 get: cannot create the loop\n"); goto out; }
  h2_options opts;
  h2_options_default(&opts);
  opts.insecure = insecure;
  opts.ca_file = cacert;
  opts.has_settings = 1;
  h2_settings_default(&opts.settings);
  opts.settings.enable_push = 0;
  opts.settings.initial_window_size = 1 << 24;
  opts.connection_window_size = 1 << 30;
  opts.enable_metrics = g->stat;
  h2_session_callbacks scb;
  memset(&scb, 0, sizeof scb);
  scb.on_error = s_error;
  scb.on_close = s_close;
  scb.on_connect = s_connect;
  scb.on_goaway = s_goaway;
  scb.on_remote_settings = s_remote_settings;
  int crc = h2_connect(&g->s, g->loop, g->f[0].url, &opts, &scb, g);
  if (crc) {
    fprintf(stderr, "h2 get: %s: %s\n", g->f[0].url,
            h2_last_error_message()[0] ? h2_last_error_message() : h2_strerror(crc));
    goto out;
  }
  if (g->verbose) h2_session_set_frame_trace(g->s, trace, g);
  g->limit = 100;
  start_more(g);
  check_done(g);
  h2_loop_run(g->loop, H2_LOOP_RUN_DEFAULT);
  if (g->s) { /* stopped early: tear down */
    h2_session_destroy(g->s, 0);
    for (int i = 0; i < 100 && g->s; i++) h2_loop_run(g->loop, H2_LOOP_RUN_ONCE);
  }
  rc = 0;
  if (g->conn_failed) {
    int all_done = 1;
    for (int i = 0; i < g->n; i++) if (g->f[i].failed) all_done = 0;
    if (!all_done || !g->finished) {
      fprintf(stderr, "h2 get: %s\n", g->conn_err);
      rc = 1;
    }
  }
  for (int i = 0; i < g->n; i++) {
    fetch *f = &g->f[i];
    if (f->failed) {
      fprintf(stderr, "h2 get: %s: %s\n", f->url, f->why[0] ? f->why : "failed");
      rc = 1;
    } else if (f->status >= 400 || f->status == 0) {
      fprintf(stderr, "h2 get: %s: HTTP status %d\n", f->url, f->status);
      rc = 1;
    } else if (g->verbose) {
      fprintf(stderr, "[%s] %d, %llu bytes\n", f->url, f->status, (unsigned long long)f->got);
    }
  }
  if (g->stat) print_stats(g);
out:
  for (int i = 0; i < g->n; i++)
    if (g->f[i].out && g->f[i].out != stdout) fclose(g->f[i].out);
  if (g->loop) h2_loop_free(g->loop);
  free(data_owned);
  free(g);
  return rc;
}
