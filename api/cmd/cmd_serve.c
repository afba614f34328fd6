/* cmd_serve.c: `h2 serve [DIR] [options]`: a static file server over HTTP/2
 * (TLS with ALPN h2, and/or h2c prior knowledge) built on the public API.
 * Without DIR it serves the embedded demo site. One log line per request.
 * POST/PUT to any path answers "<bytes> <sha256-hex>\n" of the body. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/sha.h>

#include "h2.h"
#include "h2_compat.h"
#include "h2_file.h"
#include "h2_loop.h"
#include "h2_tls.h"
#include "h2cmd.h"
#include "serve_files.h"
#include "serve_fs.h"

typedef struct serve_ctx {
  h2_loop *loop;
  h2_server *srv;
  int quiet;
  h2_loop_defer log_flush; /* writes the buffered log lines once per iteration */
  h2_serve_lookup_fn lookup;
  void *lookup_ctx;
  h2_serve_fs fs;
  /* Connection-level errors are logged at most once a second (a peer can
   * cause one per connection); the rest are counted and summed up. */
  uint64_t err_log_ms;
  unsigned long err_suppressed;
} serve_ctx;

/* An upload in progress (POST/PUT). */
typedef struct upload {
  SHA256_CTX sha;
  uint64_t bytes;
  char reply[128];
} upload;

/* One request in flight (pooled: thousands may be in flight at once). */
typedef struct req {
  struct req *next_free;
  serve_ctx *ctx;
  h2_stream *st;
  int status;
  uint64_t bytes;
  uint64_t off, left;
  upload *up;
  char method[12];
  char path[228]; /* for the log line; empty with --quiet */
} req;

static req *req_free_list;
static unsigned req_free_n;

static req *req_new(void) {
  req *r = req_free_list;
  if (r) {
    /* Field by field: a memset of the whole struct (path buffer included)
     * costs more than the rest of the request's bookkeeping. */
    req_free_list = r->next_free;
    req_free_n--;
    r->next_free = NULL;
    r->status = 0;
    r->bytes = r->off = r->left = 0;
    r->up = NULL;
    r->method[0] = r->path[0] = '\0';
    return r;
  }
  return calloc(1, sizeof *r);
}

static void req_free(req *r) {
  free(r->up);
  if (req_free_n >= 4096) {
    free(r);
    return;
  }
  r->next_free = req_free_list;
  req_free_list = r;
  req_free_n++;
}

static void req_pool_drain(void) {
  while (req_free_list) {
    req *r = req_free_list;
    req_free_list = r->next_free;
    free(r);
  }
  req_free_n = 0;
}

static h2_loop *g_loop;
static volatile sig_atomic_t g_signals; /* SIGINT/SIGTERM seen */

/* A graceful stop gives the connections this long to finish. */
#define DRAIN_MS 10000

static uint64_t loop_clock_ms(void *user) { return h2_loop_now(user); }

/* The first SIGINT/SIGTERM starts a graceful stop (h2_cmd_serve), a second
 * one stops at once. h2_loop_stop is safe here: it stores an atomic flag
 * and writes to the loop's wake-up descriptor. */
static void on_signal(int sig) {
  (void)sig;
  g_signals++;
  if (g_loop) h2_loop_stop(g_loop);
}

static void on_drained(h2_server *srv, void *user) {
  (void)srv;
  h2_loop_stop(((serve_ctx *)user)->loop);
}

static void on_drain_timeout(h2_loop_timer *t, void *user) {
  (void)t;
  h2_loop_stop(user);
}

static size_t fmt_u64(char *out, uint64_t v);

/* Log lines go to stdout's buffer (fully buffered, see h2_cmd_serve) and
 * out in one write per loop iteration, not one write per request. */
static void log_flush_cb(h2_loop_defer *d, void *user) {
  (void)d; (void)user;
  fflush(stdout);
}

static void log_line(serve_ctx *ctx, const char *line, size_t len) {
  fwrite(line, 1, len, stdout);
  h2_loop_defer_schedule(&ctx->log_flush);
}

static void log_req(req *r) {
  if (r->ctx->quiet) return;
  /* "METHOD PATH STATUS BYTES\n" without printf. */
  char line[sizeof r->method + sizeof r->path + 48];
  size_t k = strlen(r->method);
  memcpy(line, r->method, k);
  line[k++] = ' ';
  size_t pl = strlen(r->path);
  memcpy(line + k, r->path, pl);
  k += pl;
  line[k++] = ' ';
  k += fmt_u64(line + k, (uint64_t)r->status);
  line[k++] = ' ';
  k += fmt_u64(line + k, r->bytes);
  line[k++] = '\n';
  log_line(r->ctx, line, k);
}

static void req_close(h2_stream *st, uint32_t code, void *user) {
  (void)st;
  req *r = user;
  if (code && !r->ctx->quiet) {
    char line[sizeof r->method + sizeof r->path + 80];
    int k = snprintf(line, sizeof line, "%s %s %d reset %s\n", r->method, r->path, r->status,
                     h2_err_rfc_name(code));
    if (k > 0) log_line(r->ctx, line, (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
  }
  req_free(r);
}

/* The stat check of a file response: the decision (content-length,
 * content-range) was made from an earlier stat; a file that no longer holds
 * the decided bytes is not sent (the caller resets the stream, as a file
 * that shrinks mid-transfer is reset by the library). */
static int file_still_fits(h2_stream *st, const struct stat *sb, h2_file_headers *fh, void *user) {
  (void)st; (void)fh;
  const req *r = user;
  uint64_t size = (uint64_t)sb->st_size;
  return size >= r->off && size - r->off >= r->left;
}

/* fmt_u64 writes |v| in decimal (NUL-terminated) into |out| (>= 21 bytes)
 * and returns its length. */
static size_t fmt_u64(char *out, uint64_t v) {
  char tmp[21];
  int k = 0;
  do {
    tmp[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (int i = 0; i < k; i++) out[i] = tmp[k - 1 - i];
  out[k] = '\0';
  return (size_t)k;
}

static void send_result(req *r, h2_serve_result *res) {
  h2_header h[12];
  size_t n = 0;
  char status[24], clen[24];
  const char *sv = res->status == 200 ? "200" : res->status == 304 ? "304" : res->status == 404 ? "404" : NULL;
  if (!sv) {
    fmt_u64(status, (uint64_t)res->status);
    sv = status;
  }
  h[n++] = (h2_header){":status", 7, sv, 3, 0};
  h2_serve_header sh[8];
  size_t m = h2_serve_result_headers(res, sh, 8);
  for (size_t i = 0; i < m; i++)
    h[n++] = (h2_header){sh[i].name, sh[i].name_len, sh[i].value, sh[i].value_len, 0};
  if (res->status != 304) {
    size_t cl = fmt_u64(clen, res->length);
    h[n++] = (h2_header){"content-length", 14, clen, cl, 0};
  }
  r->status = res->status;
  int body = res->body;
  if (body == H2_SERVE_BODY_ENTITY && res->length == 0) body = H2_SERVE_BODY_NONE;
  if (body == H2_SERVE_BODY_ENTITY && !res->entity.data) {
    /* Large file on disk: the library's file response (h2_file.h) reads
     * it as flow control lets it go out, and resets the stream if the file
     * shrinks under it. */
    char full[PATH_MAX + H2_SERVE_PATH_MAX];
    int rc = H2_ERR_IO;
    r->off = res->offset;
    r->left = res->length;
    r->bytes = res->length;
    if (h2_serve_fs_full_path(&r->ctx->fs, res->path, full, sizeof full) == 0) {
      h2_file_options fo = {.offset = res->offset, .has_length = 1, .length = res->length,
                            .stat_check = file_still_fits, .user = r};
      rc = h2_stream_respond_with_file(r->st, full, h, n, &fo);
    }
    if (rc < 0) {
      /* Nothing was sent (open or fstat failed, or it is no longer a
       * regular file). */
      h2_header e[] = {{":status", 7, "500", 3, 0}};
      r->status = 500;
      r->bytes = 0;
      h2_stream_respond(r->st, e, 1, H2_END_STREAM);
      log_req(r);
      return;
    }
    log_req(r);
    if (rc == H2_FILE_CANCELLED) h2_stream_close(r->st, H2_CODE_INTERNAL_ERROR);
    return;
  }
  if (body == H2_SERVE_BODY_NONE) {
    h2_stream_respond(r->st, h, n, H2_END_STREAM);
    log_req(r);
    return;
  }
  h2_stream_respond(r->st, h, n, 0);
  const uint8_t *data = body == H2_SERVE_BODY_TEXT ? (const uint8_t *)res->text
                                                   : res->entity.data + res->offset;
  r->bytes = res->length;
  h2_stream_end_with(r->st, data, (size_t)res->length, NULL, NULL);
  log_req(r);
}

static void up_data(h2_stream *st, const uint8_t *data, size_t len, void *user) {
  (void)st;
  req *r = user;
  SHA256_Update(&r->up->sha, data, len);
  r->up->bytes += len;
}

static void up_end(h2_stream *st, void *user) {
  req *r = user;
  upload *u = r->up;
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256_Final(md, &u->sha);
  int k = snprintf(u->reply, sizeof u->reply, "%llu ", (unsigned long long)u->bytes);
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) k += snprintf(u->reply + k, sizeof u->reply - (size_t)k, "%02x", md[i]);
  snprintf(u->reply + k, sizeof u->reply - (size_t)k, "\n");
  char clen[24];
  snprintf(clen, sizeof clen, "%zu", strlen(u->reply));
  h2_header h[] = {{":status", 7, "200", 3, 0},
                   {"content-type", 12, "text/plain; charset=utf-8", 25, 0},
                   {"content-length", 14, clen, strlen(clen), 0}};
  r->status = 200;
  r->bytes = strlen(u->reply);
  h2_stream_respond(st, h, 3, 0);
  h2_stream_end_with(st, (const uint8_t *)u->reply, strlen(u->reply), NULL, NULL);
  log_req(r);
}

/* A GET of a small cached file with no conditional or range header: the
 * answer is the cache entry's, no decision to make (see h2_serve_fs_fresh). */
static int send_fresh(serve_ctx *ctx, h2_stream *st, const h2_header *m, const h2_header *p) {
  const h2_serve_fs_entry *e = h2_serve_fs_fresh(&ctx->fs, p->value, p->value_len);
  if (!e) return 0;
  h2_header h[6] = {
    {":status", 7, "200", 3, 0},
    {"content-type", 12, e->content_type, e->content_type_len, 0},
    {"etag", 4, e->etag, e->etag_len, 0},
    {"last-modified", 13, e->last_modified, e->last_modified_len, 0},
    {"accept-ranges", 13, "bytes", 5, 0},
    {"content-length", 14, e->content_length, e->content_length_len, 0},
  };
  if (!ctx->quiet) {
    /* The request object only carries the log line (and a reset's). */
    req *r = req_new();
    if (!r) {
      h2_stream_close(st, H2_CODE_INTERNAL_ERROR);
      return 1;
    }
    r->ctx = ctx;
    r->st = st;
    r->status = 200;
    r->bytes = e->size;
    snprintf(r->method, sizeof r->method, "%.*s", (int)m->value_len, m->value);
    snprintf(r->path, sizeof r->path, "%.*s", (int)p->value_len, p->value);
    static const h2_stream_callbacks log_cbs = {.on_close = req_close};
    h2_stream_on(st, &log_cbs, r);
    log_req(r);
  }
  if (e->size == 0) {
    h2_stream_respond(st, h, 6, H2_END_STREAM);
  } else {
    h2_stream_respond(st, h, 6, 0);
    h2_stream_end_with(st, e->data, (size_t)e->size, NULL, NULL);
  }
  return 1;
}

static void on_stream(h2_session *s, h2_stream *st, const h2_header *hdrs, size_t n,
                      unsigned flags, void *user) {
  (void)s;
  serve_ctx *ctx = user;
  /* One pass over the request headers for everything the decision needs
   * (pointers only: the request struct is filled on the general path). */
  const h2_header *m = NULL, *p = NULL, *inm = NULL, *ims = NULL, *rng = NULL, *ifr = NULL;
  for (size_t i = 0; i < n; i++) {
    const h2_header *x = &hdrs[i];
#define IS(lit) (!memcmp(x->name, lit, sizeof(lit) - 1))
    switch (x->name_len) {
      case 5:
        if (IS(":path")) p = x;
        else if (IS("range")) rng = x;
        break;
      case 7:
        if (IS(":method")) m = x;
        break;
      case 8:
        if (IS("if-range")) ifr = x;
        break;
      case 13:
        if (IS("if-none-match")) inm = x;
        break;
      case 17:
        if (IS("if-modified-since")) ims = x;
        break;
    }
#undef IS
  }
  if (!inm && !ims && !rng && !ifr && m && p && ctx->lookup == h2_serve_fs_lookup &&
      m->value_len == 3 && !memcmp(m->value, "GET", 3) && send_fresh(ctx, st, m, p))
    return;
  h2_serve_request q;
  memset(&q, 0, sizeof q);
  if (inm) { q.if_none_match = inm->value; q.if_none_match_len = inm->value_len; }
  if (ims) { q.if_modified_since = ims->value; q.if_modified_since_len = ims->value_len; }
  if (rng) { q.range = rng->value; q.range_len = rng->value_len; }
  if (ifr) { q.if_range = ifr->value; q.if_range_len = ifr->value_len; }
  req *r = req_new();
  if (!r) {
    h2_stream_close(st, H2_CODE_INTERNAL_ERROR);
    return;
  }
  r->ctx = ctx;
  r->st = st;
  static const h2_stream_callbacks plain_cbs = {.on_close = req_close};
  h2_stream_callbacks cbs = plain_cbs;
  if (m) {
    q.method = m->value;
    q.method_len = m->value_len;
    if (!ctx->quiet) snprintf(r->method, sizeof r->method, "%.*s", (int)m->value_len, m->value);
  }
  if (p) {
    q.path = p->value;
    q.path_len = p->value_len;
    if (!ctx->quiet) snprintf(r->path, sizeof r->path, "%.*s", (int)p->value_len, p->value);
  }
  h2_serve_result res;
  h2_serve_decide(&res, &q, ctx->lookup, ctx->lookup_ctx);
  if (res.body == H2_SERVE_UPLOAD) {
    r->up = malloc(sizeof *r->up);
    if (!r->up) {
      h2_stream_on(st, &cbs, r);
      h2_stream_close(st, H2_CODE_INTERNAL_ERROR);
      return;
    }
    r->up->bytes = 0;
    SHA256_Init(&r->up->sha);
    cbs.on_data = up_data;
    cbs.on_end = up_end;
    h2_stream_on(st, &cbs, r);
    /* Every upload is accepted: a client waiting for "100 Continue" gets it
     * now instead of waiting out its own timer (curl: 1 s). Without a body
     * (END_STREAM already) on_end follows from the engine. */
    static const h2_header cont[] = {{":status", 7, "100", 3, 0}};
    if (h2_compat_expects_continue(hdrs, n, flags) && h2_stream_additional_headers(st, cont, 1) < 0)
      h2_stream_close(st, 0x2);
    return;
  }
  h2_stream_on(st, &plain_cbs, r);
  send_result(r, &res);
}

static void log_conn_error(serve_ctx *ctx, int err, const char *msg) {
  if (ctx->quiet) return;
  uint64_t now = h2_loop_now(ctx->loop);
  if (ctx->err_log_ms && now - ctx->err_log_ms < 1000) {
    ctx->err_suppressed++;
    return;
  }
  if (ctx->err_suppressed)
    fprintf(stderr, "h2 serve: (%lu more connection errors in the last second not shown)\n",
            ctx->err_suppressed);
  ctx->err_suppressed = 0;
  ctx->err_log_ms = now ? now : 1;
  fprintf(stderr, "h2 serve: connection: %s (%s)\n", msg, h2_strerror(err));
}

static void on_session_error(h2_server *srv, int err, const char *msg, void *user) {
  (void)srv;
  log_conn_error(user, err, msg);
}

/* Sessions' errors: only the slow-peer time limits are logged (a TLS
 * handshake timeout comes through on_session_error). */
static void on_error(h2_session *s, int err, const char *msg, void *user) {
  (void)s;
  if (err == H2_ERR_TIMEOUT) log_conn_error(user, err, msg);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: h2 serve [DIR] [--port N] [--bind ADDR] [--h2c]\n"
          "                [--tls-cert FILE --tls-key FILE | --tls-pfx FILE | --self-signed]\n"
          "                [--cert-out FILE]\n"
          "                [--tls-ca FILE [--tls-verify-client]]\n"
          "                [--h2c-port N] [--idle-timeout SECONDS] [--max-connections N]\n"
          "                [--handshake-timeout SECONDS] [--header-timeout SECONDS] [--quiet]\n"
          "Serves DIR (default: the built-in demo site) over HTTP/2.\n"
          "  no mode flag     TLS (self-signed) on 8443 and h2c on 8080\n"
          "  --h2c            h2c (prior knowledge) on --port (default 8080)\n"
          "  --tls-cert/-key  TLS with this certificate on --port (default 8443)\n"
          "  --tls-pfx FILE   TLS with the key and certificate chain of a PKCS#12 file\n"
          "                   (the password of an encrypted key or PKCS#12 file is\n"
          "                   read from the environment variable H2_TLS_PASSWORD)\n"
          "  --self-signed    TLS with a generated certificate for localhost\n"
          "  --cert-out FILE  write the generated certificate (PEM) there\n"
          "  --tls-ca FILE    ask TLS clients for a certificate and verify it against\n"
          "                   the CA certificates (PEM) in FILE; a client without one\n"
          "                   is still served, one whose certificate does not verify\n"
          "                   fails the handshake\n"
          "  --tls-verify-client  with --tls-ca: require a valid client certificate\n"
          "                   (clients without one fail the handshake)\n"
          "  --bind ADDR      listen address (default 0.0.0.0)\n"
          "  --idle-timeout S close connections idle for S seconds (default 120, 0 = never)\n"
          "  --max-connections N  drop new connections while N are open (default 10000,\n"
          "                   0 = no limit)\n"
          "  --handshake-timeout S  close a connection whose TLS handshake, connection\n"
          "                   preface and first SETTINGS have not all arrived S seconds\n"
          "                   after it was accepted (default 10, 0 = never)\n"
          "  --header-timeout S  end a connection (GOAWAY ENHANCE_YOUR_CALM) whose peer\n"
          "                   has not finished a header block (HEADERS + CONTINUATION)\n"
          "                   S seconds after it began (default 10, 0 = never)\n"
          "  --quiet          no per-request log lines\n");
}

int h2_cmd_serve(int argc, char **argv) {
  /* Fully buffered stdout for the request log (flushed once per loop
   * iteration, and after the start-up lines). Set before any output. */
  static char stdout_buf[1 << 16];
  setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
  const char *dir = NULL, *bind = NULL, *cert = NULL, *key = NULL, *cert_out = NULL, *pfx = NULL;
  const char *client_ca = NULL;
  int port = -1, h2c_port = -1, want_h2c = 0, self_signed = 0, quiet = 0, verify_client = 0;
  long idle_s = 120, max_conns = 10000, handshake_s = 10, header_s = 10;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--port") && next) {
      port = atoi(next); i++;
    } else if (!strcmp(a, "--h2c-port") && next) {
      h2c_port = atoi(next); i++;
    } else if (!strcmp(a, "--idle-timeout") && next) {
      char *end;
      idle_s = strtol(next, &end, 10);
      if (*end || idle_s < 0 || idle_s > 86400) {
        fprintf(stderr, "h2 serve: --idle-timeout wants 0..86400 seconds\n");
        return 2;
      }
      i++;
    } else if ((!strcmp(a, "--handshake-timeout") || !strcmp(a, "--header-timeout")) && next) {
      char *end;
      long v = strtol(next, &end, 10);
      if (*end || !*next || v < 0 || v > 86400) {
        fprintf(stderr, "h2 serve: %s wants 0..86400 seconds\n", a);
        return 2;
      }
      if (a[2] == 'h' && a[3] == 'a') handshake_s = v;
      else header_s = v;
      i++;
    } else if (!strcmp(a, "--max-connections") && next) {
      char *end;
      max_conns = strtol(next, &end, 10);
      if (*end || max_conns < 0 || max_conns > 10000000) {
        fprintf(stderr, "h2 serve: --max-connections wants 0..10000000\n");
        return 2;
      }
      i++;
    } else if (!strcmp(a, "--bind") && next) {
      bind = next; i++;
    } else if (!strcmp(a, "--tls-cert") && next) {
      cert = next; i++;
    } else if (!strcmp(a, "--tls-key") && next) {
      key = next; i++;
    } else if (!strcmp(a, "--tls-pfx") && next) {
      pfx = next; i++;
    } else if (!strcmp(a, "--cert-out") && next) {
      cert_out = next; i++;
    } else if (!strcmp(a, "--tls-ca") && next) {
      client_ca = next; i++;
    } else if (!strcmp(a, "--tls-verify-client")) {
      verify_client = 1;
    } else if (!strcmp(a, "--self-signed")) {
      self_signed = 1;
    } else if (!strcmp(a, "--h2c")) {
      want_h2c = 1;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      quiet = 1;
    } else if (a[0] != '-' && !dir) {
      dir = a;
    } else {
      fprintf(stderr, "h2 serve: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  if ((cert && !key) || (key && !cert)) {
    fprintf(stderr, "h2 serve: --tls-cert and --tls-key go together\n");
    return 2;
  }
  if (pfx && (cert || self_signed)) {
    fprintf(stderr, "h2 serve: --tls-pfx replaces --tls-cert/--tls-key and --self-signed\n");
    return 2;
  }
  if ((port != -1 && (port < 0 || port > 65535)) || (h2c_port != -1 && (h2c_port < 0 || h2c_port > 65535))) {
    fprintf(stderr, "h2 serve: port out of range\n");
    return 2;
  }
  if (verify_client && !client_ca) {
    fprintf(stderr, "h2 serve: --tls-verify-client needs --tls-ca FILE (the CA to verify with)\n");
    return 2;
  }
  int want_tls = cert || pfx || self_signed;
  if (client_ca && !want_tls && want_h2c) {
    fprintf(stderr, "h2 serve: --tls-ca needs TLS (not with --h2c alone)\n");
    return 2;
  }
  int defaults = !want_tls && !want_h2c;
  if (defaults) want_tls = want_h2c = 1, self_signed = 1;
  int tls_port = port >= 0 ? port : 8443;
  int plain_port = want_tls ? (h2c_port >= 0 ? h2c_port : 8080) : (port >= 0 ? port : 8080);

  serve_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return 1;
  ctx->quiet = quiet;
  if (dir) {
    if (h2_serve_fs_init(&ctx->fs, dir)) {
      fprintf(stderr, "h2 serve: %s: %s\n", dir, strerror(errno));
      free(ctx);
      return 1;
    }
    ctx->lookup = h2_serve_fs_lookup;
    ctx->lookup_ctx = &ctx->fs;
  } else {
    ctx->lookup = h2_demo_lookup;
  }
  int rc = 1;
  h2_tls_ctx *tls = NULL;
  if (want_tls) {
    tls = h2_tls_ctx_new(H2_TLS_SERVER);
    if (!tls) goto out;
    const char *pass = getenv("H2_TLS_PASSWORD"); /* not on the command line: ps shows it */
    int trc = pfx    ? h2_tls_ctx_add_pkcs12_file(tls, pfx, pass)
              : cert ? h2_tls_ctx_add_cert_files(tls, cert, key, pass)
                     : h2_tls_ctx_add_self_signed(tls, "localhost");
    if (trc) {
      fprintf(stderr, "h2 serve: TLS: %s\n", h2_tls_ctx_errmsg(tls));
      goto out;
    }
    if (client_ca &&
        h2_tls_ctx_set_client_auth(tls, verify_client ? H2_TLS_CLIENT_AUTH_REQUIRED : H2_TLS_CLIENT_AUTH_OPTIONAL,
                                   client_ca)) {
      fprintf(stderr, "h2 serve: --tls-ca: %s\n", h2_tls_ctx_errmsg(tls));
      goto out;
    }
    if (cert_out && h2_tls_ctx_write_cert_pem(tls, 0, cert_out, NULL, NULL)) {
      fprintf(stderr, "h2 serve: %s\n", h2_tls_ctx_errmsg(tls));
      goto out;
    }
  }
  if (h2_loop_new(&ctx->loop, NULL)) {
    fprintf(stderr, "h2 serve: cannot create the event loop\n");
    goto out;
  }
  h2_loop_defer_init(ctx->loop, &ctx->log_flush, log_flush_cb, ctx);
  if (dir) {
    /* The file cache's freshness clock: the loop's cached time, no
     * clock_gettime per request. */
    ctx->fs.clock_ms = loop_clock_ms;
    ctx->fs.clock_user = ctx->loop;
  }
  h2_options opts;
  h2_options_default(&opts);
  opts.has_settings = 1;
  h2_settings_default(&opts.settings);
  opts.settings.enable_push = 0;
  opts.settings.max_concurrent_streams = 128;
  opts.settings.initial_window_size = 1 << 20;
  opts.connection_window_size = 16 << 20;
  opts.handshake_timeout_ms = handshake_s ? (uint32_t)handshake_s * 1000 : H2_TIMEOUT_NONE;
  opts.headers_timeout_ms = header_s ? (uint32_t)header_s * 1000 : H2_TIMEOUT_NONE;
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.session.on_stream = on_stream;
  cbs.on_session_error = on_session_error;
  cbs.session.on_error = on_error;
  if (h2_server_new(&ctx->srv, ctx->loop, &opts, &cbs, ctx)) {
    fprintf(stderr, "h2 serve: %s\n", h2_last_error_message());
    goto out;
  }
  h2_server_set_timeout(ctx->srv, (uint64_t)idle_s * 1000);
  h2_server_set_max_connections(ctx->srv, (size_t)max_conns);
  const char *host = bind ? bind : "0.0.0.0";
  const char *shown = (!bind || !strcmp(bind, "0.0.0.0") || !strcmp(bind, "::")) ? "localhost" : bind;
  if (want_tls) {
    int li = h2_server_listen(ctx->srv, host, (uint16_t)tls_port, tls);
    if (li < 0) {
      fprintf(stderr, "h2 serve: cannot listen on %s:%d: %s\n", host, tls_port, strerror(errno));
      goto out;
    }
    printf("h2 serve: https://%s:%u/ (TLS, ALPN h2%s%s)\n", shown, h2_server_port(ctx->srv, li),
           cert ? "" : ", self-signed certificate",
           !client_ca ? "" : verify_client ? ", client certificate required" : ", client certificate verified if sent");
  }
  if (want_h2c) {
    int li = h2_server_listen(ctx->srv, host, (uint16_t)plain_port, NULL);
    if (li < 0) {
      fprintf(stderr, "h2 serve: cannot listen on %s:%d: %s\n", host, plain_port, strerror(errno));
      goto out;
    }
    printf("h2 serve: http://%s:%u/ (h2c, prior knowledge)\n", shown, h2_server_port(ctx->srv, li));
  }
  printf("h2 serve: serving %s\n", dir ? ctx->fs.root : "the built-in demo site");
  fflush(stdout);
  g_loop = ctx->loop;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  h2_loop_run(ctx->loop, H2_LOOP_RUN_DEFAULT);
  if (g_signals == 1) {
    /* Graceful: no new connections; every live one gets GOAWAY and its
     * requests in flight finish, for at most DRAIN_MS. */
    size_t live = h2_server_num_sessions(ctx->srv);
    fprintf(stderr, "h2 serve: stopping; %zu connection(s) finishing (at most %d s; "
            "signal again to stop now)\n", live, DRAIN_MS / 1000);
    h2_loop_timer drain;
    h2_loop_timer_init(ctx->loop, &drain, on_drain_timeout, ctx->loop);
    h2_loop_timer_start(&drain, DRAIN_MS, 0);
    h2_server_close(ctx->srv, on_drained);
    if (h2_server_num_sessions(ctx->srv) > 0 && g_signals == 1) h2_loop_run(ctx->loop, H2_LOOP_RUN_DEFAULT);
    h2_loop_timer_stop(&drain);
  }
  rc = 0;
out:
  fflush(stdout);
  g_loop = NULL;
  if (ctx->srv) h2_server_free(ctx->srv);
  if (ctx->loop) {
    /* Let the destroyed sessions run their close callbacks. */
    for (int i = 0; i < 50 && h2_loop_alive(ctx->loop); i++) h2_loop_run(ctx->loop, H2_LOOP_RUN_NOWAIT);
    h2_loop_free(ctx->loop);
  }
  h2_tls_ctx_free(tls);
  if (dir) h2_serve_fs_free(&ctx->fs);
  req_pool_drain();
  free(ctx);
  return rc;
}
