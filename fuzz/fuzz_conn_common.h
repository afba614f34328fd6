/* fuzz_conn_common.h: the harness shared by fuzz_conn_server.c and
 * fuzz_conn_client.c (and the input format gen_conn_corpus.c writes).
 *
 * One h2_conn (server or client) is driven by the fuzz input:
 *
 *   input  = config byte, then peer bytes, cut into chunks by records
 *   record = FZC_MARK0 FZC_MARK1 op a b        (5 bytes)
 *
 * Every run of bytes between records goes to h2_conn_recv as the peer's
 * bytes (in pieces of the current split size, see FZC_OP_SPLIT). A record
 * is an application action: advance the clock (h2_conn_timeout), drain the
 * output wholly or partly, respond / write data / trailers / 1xx / push /
 * consume / PING / SETTINGS / GOAWAY / RST_STREAM / PRIORITY / a request
 * (client), EOF, or make the next allocations fail. |op| is taken modulo
 * FZC_OP_COUNT; |a| and |b| are its arguments (stream choice = index into
 * the streams the harness knows about).
 *
 * Config byte bits: FZC_CFG_*. Everything the engine writes is checked as it
 * is marked written (fzc_check_*): the client preface, then well-formed
 * frames (h2_frame_parse returns 0), SETTINGS first, no frame over the
 * largest MAX_FRAME_SIZE the peer announced, CONTINUATION right after an
 * unfinished HEADERS/PUSH_PROMISE of the same stream, no HEADERS / DATA /
 * PUSH_PROMISE on a stream after we ended or reset it, no DATA before
 * HEADERS, no WINDOW_UPDATE on a stream we reset, nothing after a GOAWAY
 * with an error code, the DATA we wrote never exceeds the connection
 * window the peer granted. Events are checked too: a stream closes once, an
 * id never reopens, the stream user pointer is the one we set, nested
 * calls from the callback return H2_ERR_STATE, every accepted
 * h2_conn_submit_data gets exactly one DATA_RELEASED (referenced buffers
 * are freed at that event, so a later read is an ASan error), and all
 * memory is back after h2_conn_free. Violations trap. */
#ifndef FUZZ_CONN_COMMON_H
#define FUZZ_CONN_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2_conn.h"

#define FZC_MARK0 0xf5
#define FZC_MARK1 0xa5

enum {
  FZC_OP_CLOCK = 0, /* now += a*256+b ms, then h2_conn_timeout */
  FZC_OP_DRAIN,     /* write everything out: h2_conn_send into 16 KiB buffers (a == 0) or
                       1+(a-1)*64 byte ones (1 .. 16257 bytes) */
  FZC_OP_PARTIAL,   /* h2_conn_output (1+a%4 iovs), output_done of b*37 bytes */
  FZC_OP_RESPOND,   /* server: response on stream a; b: bit0 end, bit1 big header, bit2 content-length */
  FZC_OP_DATA,      /* data on stream a&31; a&0x20 end, a&0x40 copy, a&0x80 big; length from b */
  FZC_OP_TRAILERS,  /* trailers on stream a */
  FZC_OP_CONSUME,   /* consume b*256 bytes of stream a (a==255: stream 0) */
  FZC_OP_PING,      /* submit PING (a&1: NULL opaque) */
  FZC_OP_SETTINGS,  /* submit SETTINGS: id from a, value from b (a&0x80: two entries) */
  FZC_OP_GOAWAY,    /* code a%14 (0 graceful), last id from b */
  FZC_OP_RST,       /* RST_STREAM stream a code b%14 */
  FZC_OP_PRIORITY,  /* PRIORITY on stream a (a&0x80: raw id a&0x7f), dep from b */
  FZC_OP_PUSH,      /* server: PUSH_PROMISE on stream a, then maybe respond (b&1) */
  FZC_OP_INFO,      /* server: 1xx on stream a */
  FZC_OP_WINDOW,    /* h2_conn_set_local_window_size(a<<16 | b<<8) */
  FZC_OP_REQUEST,   /* client: new request; a: method/prio, b: flags */
  FZC_OP_SPLIT,     /* later chunks fed in pieces of a bytes (0 = whole) */
  FZC_OP_EOF,       /* h2_conn_recv_eof */
  FZC_OP_FAILALLOC, /* after a more allocations, fail the next b%4+1 */
  FZC_OP_EXTRA,     /* server: ALTSVC / ORIGIN; client: PING */
  FZC_OP_COUNT
};

/* Config byte. */
#define FZC_CFG_AUTO_WINDOW 0x01  /* auto_window_update */
#define FZC_CFG_NO_HTTP 0x02      /* validate_http = 0 */
#define FZC_CFG_SMALL_WIN 0x04    /* initial window 1024, connection window 65535 */
#define FZC_CFG_BIG_WIN 0x08      /* initial window 1 MiB, connection 16 MiB */
#define FZC_CFG_MANUAL 0x10       /* no automatic drain after each chunk */
#define FZC_CFG_TRACE 0x20        /* frame traces on, printed */
#define FZC_CFG_AUTORESPOND 0x40  /* server: respond to each request in the callback */
#define FZC_CFG_TIGHT 0x80        /* small limits: memory 256 KiB, 4 streams, high water 4 KiB */
/* SMALL_WIN and BIG_WIN together (the big windows win) also pad DATA and
 * HEADERS/PUSH_PROMISE: MAX, or ALIGNED to 64 with TRACE. */

/* The requests the client harness submits before any input (the corpus
 * generator submits the same ones so its server bytes fit). */
#define FZC_CLIENT_BODY_LEN 70000u
static const h2_hpack_field fzc_req_get[] = {
    {":method", 7, "GET", 3, 0},
    {":scheme", 7, "https", 5, 0},
    {":authority", 10, "example.com", 11, 0},
    {":path", 5, "/index.html", 11, 0},
    {"user-agent", 10, "h2-fuzz/1.0", 11, 0},
    {"accept", 6, "text/html,application/xhtml+xml", 31, 0},
    {"accept-encoding", 15, "gzip, deflate, br", 17, 0},
    {"cookie", 6, "session=0123456789abcdef", 24, H2_HPACK_NEVER_INDEXED},
};
static const h2_hpack_field fzc_req_post[] = {
    {":method", 7, "POST", 4, 0},
    {":scheme", 7, "https", 5, 0},
    {":authority", 10, "example.com", 11, 0},
    {":path", 5, "/upload", 7, 0},
    {"content-type", 12, "application/octet-stream", 24, 0},
    {"content-length", 14, "70000", 5, 0},
    {"te", 2, "trailers", 8, 0},
};
static const h2_hpack_field fzc_req_prio[] = {
    {":method", 7, "GET", 3, 0},
    {":scheme", 7, "https", 5, 0},
    {":authority", 10, "example.com", 11, 0},
    {":path", 5, "/style.css", 10, 0},
    {"priority", 8, "u=1, i", 6, 0},
};
#define FZC_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* fzc_config builds the engine config for |role| from the config byte. */
static inline void fzc_config(h2_conn_config *cfg, h2_conn_role role, uint8_t cb) {
  h2_conn_config_init(cfg, role);
  cfg->auto_window_update = (cb & FZC_CFG_AUTO_WINDOW) ? 1 : 0;
  cfg->validate_http = (cb & FZC_CFG_NO_HTTP) ? 0 : 1;
  if (cb & FZC_CFG_SMALL_WIN) cfg->settings.initial_window_size = 1024;
  if (cb & FZC_CFG_BIG_WIN) {
    cfg->settings.initial_window_size = 1u << 20;
    cfg->connection_window = 16u << 20;
    cfg->settings.max_frame_size = 65536;
  }
  if ((cb & (FZC_CFG_SMALL_WIN | FZC_CFG_BIG_WIN)) == (FZC_CFG_SMALL_WIN | FZC_CFG_BIG_WIN)) {
    uint8_t mode = (cb & FZC_CFG_TRACE) ? H2_CONN_PAD_ALIGNED : H2_CONN_PAD_MAX;
    cfg->padding = cfg->header_padding = mode;
    cfg->padding_align = 64;
  }
  if (cb & FZC_CFG_TIGHT) {
    cfg->max_memory = 256 * 1024;
    cfg->settings.max_concurrent_streams = 4;
    cfg->output_high_water = 4096;
    cfg->send_queue_limit = 32768;
    cfg->max_closed_streams = 8;
    cfg->max_refused_streams = 4;
    cfg->settings.header_table_size = 256;
    cfg->settings.max_header_list_size = 4096;
  }
}

#ifndef FZC_NO_HARNESS

#define FZC_CHECK(c)              \
  do {                            \
    if (!(c)) {                   \
      fprintf(stderr, "check failed: %s (line %d)\n", #c, __LINE__); \
      __builtin_trap();           \
    }                             \
  } while (0)

/* ---- counting allocator with failure injection ------------------------- */

typedef struct fzc_alloc {
  size_t live_bytes, live_blocks;
  long countdown; /* allocations left before failures; <0 = off */
  int fails;      /* failures still to inject */
} fzc_alloc;

typedef struct fzc_blk {
  size_t size;
  size_t pad; /* keeps 16-byte alignment */
} fzc_blk;

static int fzc_should_fail(fzc_alloc *a) {
  if (a->countdown < 0) return 0;
  if (a->countdown > 0) {
    a->countdown--;
    return 0;
  }
  if (a->fails > 0) {
    a->fails--;
    if (a->fails == 0) a->countdown = -1;
    return 1;
  }
  a->countdown = -1;
  return 0;
}

static void *fzc_malloc(size_t n, void *user) {
  fzc_alloc *a = user;
  if (fzc_should_fail(a)) return NULL;
  fzc_blk *b = malloc(sizeof *b + n);
  if (!b) return NULL;
  b->size = n;
  a->live_bytes += n;
  a->live_blocks++;
  return b + 1;
}

static void fzc_free(void *p, void *user) {
  fzc_alloc *a = user;
  if (!p) return;
  fzc_blk *b = (fzc_blk *)p - 1;
  FZC_CHECK(a->live_blocks > 0 && a->live_bytes >= b->size);
  a->live_bytes -= b->size;
  a->live_blocks--;
  free(b);
}

static void *fzc_realloc(void *p, size_t n, void *user) {
  fzc_alloc *a = user;
  if (!p) return fzc_malloc(n, user);
  if (fzc_should_fail(a)) return NULL;
  fzc_blk *old = (fzc_blk *)p - 1;
  size_t oldn = old->size;
  fzc_blk *b = realloc(old, sizeof *b + n);
  if (!b) return NULL;
  a->live_bytes = a->live_bytes - oldn + n;
  b->size = n;
  return b + 1;
}

/* ---- per-stream bookkeeping (small open-addressing map) ---------------- */

#define FZC_MAP 1024
#define FZC_S_HDRS 0x01    /* we wrote HEADERS (or it was promised by us: PUSH) */
#define FZC_S_END 0x02     /* we wrote END_STREAM */
#define FZC_S_RST 0x04     /* we wrote RST_STREAM */
#define FZC_S_OPENED 0x08  /* event side: the stream was seen opening */
#define FZC_S_CLOSED 0x10  /* event side: STREAM_CLOSED seen */
#define FZC_S_TRAILERS 0x20 /* event side: trailers submitted (accepted) */

typedef struct fzc_slot {
  uint32_t id; /* 0 = empty */
  uint8_t flags;
} fzc_slot;

static uint8_t *fzc_flags(fzc_slot *map, uint32_t id) {
  uint32_t h = (id * 2654435761u) & (FZC_MAP - 1);
  for (int i = 0; i < FZC_MAP; i++) {
    fzc_slot *s = &map[(h + (uint32_t)i) & (FZC_MAP - 1)];
    if (s->id == id) return &s->flags;
    if (s->id == 0) {
      s->id = id;
      s->flags = 0;
      return &s->flags;
    }
  }
  return NULL; /* full: no checks for this id */
}

/* ---- the harness state ------------------------------------------------- */

#define FZC_MAX_TRACK 32
#define FZC_OUT_CAP (64u << 20)

typedef struct fzc {
  h2_conn *conn;
  h2_conn_role role;
  uint8_t cfgbyte;
  int verbose; /* FZC_VERBOSE set: print frames and actions */
  int strict;  /* FZC_STRICT set: also the checks of open reports (fuzz/repro/README) */
  fzc_alloc alloc;
  h2_mem mem;
  uint64_t now;
  size_t split;
  /* streams the application may act on */
  uint32_t track[FZC_MAX_TRACK];
  int ntrack;
  /* event checks */
  fzc_slot ev_map[FZC_MAP];
  long submits, releases;
  int nested_checked;
  /* output checks */
  uint8_t *out;
  size_t out_len, out_cap, out_off;
  int out_off_limit;   /* stopped checking (too much output) */
  int preface_done, first_frame_done;
  uint32_t cont_stream; /* expecting CONTINUATION on this stream, 0 none */
  int goaway_error_sent;
  uint32_t max_peer_frame;
  uint64_t data_sent;       /* DATA payload lengths written (padding included) */
  uint64_t conn_window_got; /* 65535 + stream-0 WINDOW_UPDATE increments */
  fzc_slot out_map[FZC_MAP];
  /* gen_conn_corpus.c: every written byte is also handed to the sink */
  void (*sink)(void *user, const uint8_t *p, size_t n);
  void *sink_user;
} fzc;

static uint8_t fzc_pattern[1u << 18];

static void fzc_track_add(fzc *z, uint32_t id) {
  for (int i = 0; i < z->ntrack; i++)
    if (z->track[i] == id) return;
  if (z->ntrack < FZC_MAX_TRACK) z->track[z->ntrack++] = id;
}

static void fzc_track_del(fzc *z, uint32_t id) {
  for (int i = 0; i < z->ntrack; i++)
    if (z->track[i] == id) {
      z->track[i] = z->track[--z->ntrack];
      return;
    }
}

static uint32_t fzc_pick(const fzc *z, uint8_t a) {
  if (z->ntrack == 0) return (uint32_t)a; /* some id anyway: exercises NOT_FOUND */
  return z->track[a % z->ntrack];
}

static void *fzc_tag(uint32_t id) { return (void *)(uintptr_t)(((uintptr_t)id << 1) | 1u); }

/* ---- output checks ------------------------------------------------------ */

static void fzc_check_frame(fzc *z, const h2_frame *f) {
  uint32_t sid = f->hdr.stream_id;
  if (z->verbose) {
    char line[256];
    h2_frame_print(line, sizeof line, f);
    fprintf(stderr, "out: %s\n", line);
  }
  if (!z->first_frame_done) {
    FZC_CHECK(f->type == H2_FRAME_SETTINGS && !(f->hdr.flags & H2_FLAG_ACK));
    z->first_frame_done = 1;
  }
  FZC_CHECK(!z->goaway_error_sent);
  FZC_CHECK(f->hdr.length <= z->max_peer_frame);
  if (z->cont_stream) {
    FZC_CHECK(f->type == H2_FRAME_CONTINUATION && sid == z->cont_stream);
  } else {
    FZC_CHECK(f->type != H2_FRAME_CONTINUATION);
  }
  uint8_t *fl = sid ? fzc_flags(z->out_map, sid) : NULL;
  switch (f->type) {
    case H2_FRAME_HEADERS:
      if (fl) {
        FZC_CHECK(!(*fl & (FZC_S_END | FZC_S_RST)));
        *fl |= FZC_S_HDRS;
        if (f->hdr.flags & H2_FLAG_END_STREAM) *fl |= FZC_S_END;
      }
      z->cont_stream = (f->hdr.flags & H2_FLAG_END_HEADERS) ? 0 : sid;
      break;
    case H2_FRAME_CONTINUATION:
      z->cont_stream = (f->hdr.flags & H2_FLAG_END_HEADERS) ? 0 : sid;
      break;
    case H2_FRAME_PUSH_PROMISE: {
      FZC_CHECK(z->role == H2_CONN_SERVER);
      if (fl) FZC_CHECK(!(*fl & (FZC_S_END | FZC_S_RST)));
      uint8_t *pf = fzc_flags(z->out_map, f->u.push_promise.promised_id);
      if (pf) {
        FZC_CHECK(*pf == 0); /* a fresh id */
        *pf = FZC_S_OPENED;
      }
      z->cont_stream = (f->hdr.flags & H2_FLAG_END_HEADERS) ? 0 : sid;
      break;
    }
    case H2_FRAME_DATA:
      if (fl) {
        FZC_CHECK(*fl & FZC_S_HDRS);
        FZC_CHECK(!(*fl & (FZC_S_END | FZC_S_RST)));
        if (f->hdr.flags & H2_FLAG_END_STREAM) *fl |= FZC_S_END;
      }
      z->data_sent += f->hdr.length;
      FZC_CHECK(z->data_sent <= z->conn_window_got);
      break;
    case H2_FRAME_RST_STREAM:
      if (fl) *fl |= FZC_S_RST;
      break;
    case H2_FRAME_WINDOW_UPDATE:
      if (fl) FZC_CHECK(!(*fl & FZC_S_RST));
      break;
    case H2_FRAME_GOAWAY:
      if (f->u.goaway.error_code != 0) z->goaway_error_sent = 1;
      break;
    default: break;
  }
}

/* fzc_written appends |n| bytes the engine marked written and checks every
 * complete frame. */
static void fzc_written(fzc *z, const uint8_t *p, size_t n) {
  if (n == 0) return;
  if (z->out_off_limit) {
    if (z->sink) z->sink(z->sink_user, p, n);
    return;
  }
  if (z->out_len + n > FZC_OUT_CAP) {
    z->out_off_limit = 1;
    return;
  }
  if (z->out_cap - z->out_len < n) {
    size_t nc = z->out_cap ? z->out_cap : 4096;
    while (nc - z->out_len < n) nc *= 2;
    uint8_t *np = realloc(z->out, nc);
    FZC_CHECK(np != NULL);
    z->out = np;
    z->out_cap = nc;
  }
  if (z->sink) z->sink(z->sink_user, p, n);
  memcpy(z->out + z->out_len, p, n);
  z->out_len += n;
  if (!z->preface_done && z->role == H2_CONN_CLIENT) {
    size_t have = z->out_len < H2_CLIENT_PREFACE_LEN ? z->out_len : H2_CLIENT_PREFACE_LEN;
    FZC_CHECK(memcmp(z->out, H2_CLIENT_PREFACE, have) == 0);
    if (z->out_len < H2_CLIENT_PREFACE_LEN) return;
    z->out_off = H2_CLIENT_PREFACE_LEN;
  }
  z->preface_done = 1;
  for (;;) {
    h2_cbs in;
    h2_frame f;
    h2_cbs_init(&in, z->out + z->out_off, z->out_len - z->out_off);
    int r = h2_frame_parse(&in, H2_MAX_MAX_FRAME_SIZE, &f);
    if (r == H2_ERR_INCOMPLETE) break;
    if (r != 0) fprintf(stderr, "bad output frame: %s\n", f.err_desc ? f.err_desc : "?");
    FZC_CHECK(r == 0);
    fzc_check_frame(z, &f);
    z->out_off = z->out_len - h2_cbs_len(&in);
  }
  /* keep the buffer small: drop the checked prefix */
  if (z->out_off > (1u << 16)) {
    memmove(z->out, z->out + z->out_off, z->out_len - z->out_off);
    z->out_len -= z->out_off;
    z->out_off = 0;
  }
}

static void fzc_drain(fzc *z, size_t cap) {
  uint8_t buf[16384];
  if (cap == 0 || cap > sizeof buf) cap = sizeof buf;
  for (int guard = 0; guard < 100000; guard++) {
    int n = h2_conn_send(z->conn, buf, cap, z->now);
    FZC_CHECK(n >= 0 || n == H2_ERR_CLOSED || n == H2_ERR_NOMEM);
    if (n <= 0) break;
    fzc_written(z, buf, (size_t)n);
  }
}

static void fzc_partial(fzc *z, uint8_t a, uint8_t b) {
  h2_iov iov[4];
  int n = h2_conn_output(z->conn, iov, 1 + a % 4, z->now);
  if (n <= 0) return;
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].len;
  FZC_CHECK(total <= h2_conn_pending(z->conn));
  size_t done = (size_t)b * 37;
  if (done > total) done = total;
  size_t left = done;
  for (int i = 0; i < n && left; i++) {
    size_t k = iov[i].len < left ? iov[i].len : left;
    fzc_written(z, iov[i].base, k);
    left -= k;
  }
  FZC_CHECK(h2_conn_output_done(z->conn, done) == 0);
  FZC_CHECK(h2_conn_output_done(z->conn, h2_conn_pending(z->conn) + 1) == H2_ERR_INVALID_ARG);
}

/* ---- events ------------------------------------------------------------- */

static const h2_hpack_field fzc_resp[] = {
    {":status", 7, "200", 3, 0},
    {"content-type", 12, "text/plain", 10, 0},
    {"server", 6, "h2-fuzz", 7, 0},
};

static void fzc_respond(fzc *z, uint32_t id, uint8_t b) {
  h2_hpack_field f[5];
  memcpy(f, fzc_resp, sizeof fzc_resp);
  size_t n = FZC_NELEM(fzc_resp);
  static char big[20000];
  if (b & 2) {
    memset(big, 'v', sizeof big);
    f[n++] = (h2_hpack_field){"x-big", 5, big, sizeof big, 0};
  }
  if (b & 4) f[n++] = (h2_hpack_field){"content-length", 14, "13", 2, 0};
  (void)h2_conn_submit_response(z->conn, id, f, n, b & 1);
}

/* fzc_submit_data submits DATA and counts it when accepted (each accepted
 * submit must get one DATA_RELEASED). Referenced bodies are malloc'd copies
 * freed at their DATA_RELEASED. */
static int fzc_submit_data(fzc *z, uint32_t id, const uint8_t *p, size_t n, unsigned flags) {
  void *user = NULL;
  const uint8_t *src = p;
  if (!(flags & H2_CONN_DATA_COPY) && n) {
    uint8_t *buf = malloc(n);
    FZC_CHECK(buf != NULL);
    memcpy(buf, p, n);
    user = buf;
    src = buf;
  }
  int r = h2_conn_submit_data(z->conn, id, src, n, flags, user);
  if (r == 0)
    z->submits++;
  else
    free(user);
  return r;
}

static int fzc_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  fzc *z = user;
  FZC_CHECK(c == z->conn);
  if (!z->nested_checked) {
    h2_iov iov[1];
    uint8_t tmp[1];
    z->nested_checked = 1;
    FZC_CHECK(h2_conn_output(c, iov, 1, z->now) == H2_ERR_STATE);
    FZC_CHECK(h2_conn_recv(c, tmp, 0, z->now) == H2_ERR_STATE);
    FZC_CHECK(h2_conn_send(c, tmp, 1, z->now) == H2_ERR_STATE);
    FZC_CHECK(h2_conn_timeout(c, z->now) == H2_ERR_STATE);
  }
  if (ev->stream_user) FZC_CHECK(ev->stream_user == fzc_tag(ev->stream_id));
  switch (ev->type) {
    case H2_CONN_EV_SETTINGS:
      if (ev->u.settings.settings->max_frame_size > z->max_peer_frame)
        z->max_peer_frame = ev->u.settings.settings->max_frame_size;
      break;
    case H2_CONN_EV_HEADERS: {
      uint32_t id = ev->stream_id;
      if (ev->u.headers.category == H2_CONN_HEADERS_PUSH_PROMISE) id = ev->u.headers.promised_id;
      for (size_t i = 0; i < ev->u.headers.num_fields; i++) {
        const h2_hpack_field *f = &ev->u.headers.fields[i];
        volatile uint8_t t = 0;
        if (f->name_len) t ^= (uint8_t)f->name[f->name_len - 1];
        if (f->value_len) t ^= (uint8_t)f->value[f->value_len - 1];
        (void)t;
      }
      if (ev->u.headers.category == H2_CONN_HEADERS_REQUEST ||
          ev->u.headers.category == H2_CONN_HEADERS_PUSH_PROMISE) {
        uint8_t *fl = fzc_flags(z->ev_map, id);
        if (fl) {
          FZC_CHECK(!(*fl & FZC_S_OPENED)); /* an id opens once */
          *fl |= FZC_S_OPENED;
        }
        FZC_CHECK(h2_conn_stream_set_user(c, id, fzc_tag(id)) == 0);
        fzc_track_add(z, id);
        if (z->role == H2_CONN_SERVER && (z->cfgbyte & FZC_CFG_AUTORESPOND)) {
          fzc_respond(z, id, 0);
          (void)fzc_submit_data(z, id, (const uint8_t *)"hello, world\n", 13,
                                H2_CONN_DATA_END_STREAM | H2_CONN_DATA_COPY);
        }
      }
      break;
    }
    case H2_CONN_EV_DATA: {
      volatile uint8_t t = 0;
      for (size_t i = 0; i < ev->u.data.len; i++) t ^= ev->u.data.data[i];
      (void)t;
      break;
    }
    case H2_CONN_EV_WINDOW_UPDATE:
      if (ev->stream_id == 0) z->conn_window_got += ev->u.window.increment;
      break;
    case H2_CONN_EV_DATA_RELEASED:
      z->releases++;
      FZC_CHECK(z->releases <= z->submits);
      if (ev->u.released.user) {
        FZC_CHECK(ev->u.released.user == ev->u.released.data);
        free(ev->u.released.user);
      }
      break;
    case H2_CONN_EV_STREAM_CLOSED: {
      uint8_t *fl = fzc_flags(z->ev_map, ev->stream_id);
      if (fl) {
        FZC_CHECK(!(*fl & FZC_S_CLOSED));
        *fl |= FZC_S_CLOSED | FZC_S_OPENED;
      }
      fzc_track_del(z, ev->stream_id);
      break;
    }
    case H2_CONN_EV_FRAME_RECV:
    case H2_CONN_EV_FRAME_SENT: {
      char line[256];
      (void)h2_frame_print(line, sizeof line, ev->u.frame.frame);
      break;
    }
    case H2_CONN_EV_CONN_ERROR:
      if (z->verbose)
        fprintf(stderr, "conn error %d code %u remote %d: %s\n", ev->u.error.err, ev->u.error.error_code,
                ev->u.error.remote, ev->u.error.message ? ev->u.error.message : "");
      FZC_CHECK(ev->u.error.err < 0);
      break;
    default: break;
  }
  return 0;
}

/* ---- actions ------------------------------------------------------------ */

static const h2_frame_setting fzc_settings_table[8][4] = {
    {{H2_SETTINGS_INITIAL_WINDOW_SIZE, 0}, {H2_SETTINGS_INITIAL_WINDOW_SIZE, 1},
     {H2_SETTINGS_INITIAL_WINDOW_SIZE, 65535}, {H2_SETTINGS_INITIAL_WINDOW_SIZE, 0x7fffffff}},
    {{H2_SETTINGS_MAX_FRAME_SIZE, 16384}, {H2_SETTINGS_MAX_FRAME_SIZE, 65536},
     {H2_SETTINGS_MAX_FRAME_SIZE, 16777215}, {H2_SETTINGS_MAX_FRAME_SIZE, 20000}},
    {{H2_SETTINGS_HEADER_TABLE_SIZE, 0}, {H2_SETTINGS_HEADER_TABLE_SIZE, 100},
     {H2_SETTINGS_HEADER_TABLE_SIZE, 4096}, {H2_SETTINGS_HEADER_TABLE_SIZE, 65536}},
    {{H2_SETTINGS_MAX_CONCURRENT_STREAMS, 0}, {H2_SETTINGS_MAX_CONCURRENT_STREAMS, 1},
     {H2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}, {H2_SETTINGS_MAX_CONCURRENT_STREAMS, 0xffffffff}},
    {{H2_SETTINGS_ENABLE_PUSH, 0}, {H2_SETTINGS_ENABLE_PUSH, 1},
     {H2_SETTINGS_ENABLE_PUSH, 2}, {H2_SETTINGS_ENABLE_PUSH, 0}},
    {{H2_SETTINGS_MAX_HEADER_LIST_SIZE, 100}, {H2_SETTINGS_MAX_HEADER_LIST_SIZE, 65536},
     {H2_SETTINGS_MAX_HEADER_LIST_SIZE, 0}, {H2_SETTINGS_MAX_HEADER_LIST_SIZE, 1u << 20}},
    {{H2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1}, {H2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 0},
     {H2_SETTINGS_NO_RFC7540_PRIORITIES, 1}, {H2_SETTINGS_NO_RFC7540_PRIORITIES, 0}},
    {{0x20, 7}, {H2_SETTINGS_INITIAL_WINDOW_SIZE, 0x80000000u},
     {H2_SETTINGS_MAX_FRAME_SIZE, 100}, {H2_SETTINGS_INITIAL_WINDOW_SIZE, 16}},
};

static void fzc_request(fzc *z, uint8_t a, uint8_t b) {
  const h2_hpack_field *f = fzc_req_get;
  size_t n = FZC_NELEM(fzc_req_get);
  if (a % 3 == 1) {
    f = fzc_req_post;
    n = FZC_NELEM(fzc_req_post) - 1; /* no content-length: any body length */
  } else if (a % 3 == 2) {
    f = fzc_req_prio;
    n = FZC_NELEM(fzc_req_prio);
  }
  h2_frame_prio pr = {fzc_pick(z, b), (uint16_t)(1 + (a >> 2)), (uint8_t)(b >> 7)};
  if (pr.dependency >= 0x80000000u) pr.dependency = 0;
  int32_t id = h2_conn_submit_request(z->conn, f, n, (b & 4) ? &pr : NULL, (b & 2) ? 1 : 0, NULL);
  if (id > 0) {
    FZC_CHECK(h2_conn_stream_set_user(z->conn, (uint32_t)id, fzc_tag((uint32_t)id)) == 0);
    uint8_t *fl = fzc_flags(z->ev_map, (uint32_t)id);
    if (fl) {
      FZC_CHECK(*fl == 0);
      *fl = FZC_S_OPENED;
    }
    fzc_track_add(z, (uint32_t)id);
  }
}

static void fzc_action(fzc *z, uint8_t op, uint8_t a, uint8_t b) {
  h2_conn *c = z->conn;
  if (z->verbose) fprintf(stderr, "action %d a=%u b=%u\n", op % FZC_OP_COUNT, a, b);
  switch (op % FZC_OP_COUNT) {
    case FZC_OP_CLOCK: {
      z->now += (uint64_t)a * 256 + b;
      uint64_t dl = h2_conn_next_deadline(c);
      int r = h2_conn_timeout(c, z->now);
      FZC_CHECK(r <= 0);
      if (dl == UINT64_MAX) FZC_CHECK(r == 0);
      break;
    }
    case FZC_OP_DRAIN: fzc_drain(z, a ? 1 + (size_t)(a - 1) * 64 : 0); break;
    case FZC_OP_PARTIAL: fzc_partial(z, a, b); break;
    case FZC_OP_RESPOND: fzc_respond(z, fzc_pick(z, a), b); break;
    case FZC_OP_DATA: {
      size_t len = (a & 0x80) ? (size_t)b * 1024 : (size_t)b * 29;
      unsigned fl = ((a & 0x20) ? H2_CONN_DATA_END_STREAM : 0) | ((a & 0x40) ? H2_CONN_DATA_COPY : 0);
      (void)fzc_submit_data(z, fzc_pick(z, a & 31), fzc_pattern + (b & 63), len, fl);
      break;
    }
    case FZC_OP_TRAILERS: {
      static const h2_hpack_field t[] = {{"grpc-status", 11, "0", 1, 0},
                                         {"x-checksum", 10, "abc123", 6, 0}};
      uint32_t id = fzc_pick(z, a);
      uint8_t *fl = fzc_flags(z->ev_map, id);
      int r = h2_conn_submit_trailers(c, id, t, 1 + (b & 1));
      if (fl && r == 0) {
        FZC_CHECK(!(*fl & FZC_S_TRAILERS)); /* trailers are accepted once */
        *fl |= FZC_S_TRAILERS;
      }
      break;
    }
    case FZC_OP_CONSUME:
      (void)h2_conn_consume(c, a == 255 ? 0 : fzc_pick(z, a), (size_t)b * 256);
      break;
    case FZC_OP_PING: {
      uint8_t op8[8] = {a, b, 1, 2, 3, 4, 5, 6};
      (void)h2_conn_submit_ping(c, (a & 1) ? NULL : op8, z->now);
      break;
    }
    case FZC_OP_SETTINGS: {
      h2_frame_setting e[2];
      e[0] = fzc_settings_table[a & 7][b & 3];
      e[1] = fzc_settings_table[(b >> 2) & 7][(b >> 5) & 3];
      (void)h2_conn_submit_settings(c, e, (a & 0x80) ? 2 : 1, z->now);
      break;
    }
    case FZC_OP_GOAWAY: {
      uint32_t last = b == 255 ? H2_MAX_STREAM_ID : (b == 254 ? 0 : h2_conn_last_peer_stream_id(c));
      (void)h2_conn_submit_goaway(c, a % 14, last, (const uint8_t *)"fuzz", (a & 0x80) ? 4 : 0);
      break;
    }
    case FZC_OP_RST: (void)h2_conn_submit_rst(c, fzc_pick(z, a), b % 14); break;
    case FZC_OP_PRIORITY: {
      uint32_t id = (a & 0x80) ? (a & 0x7fu) : fzc_pick(z, a);
      h2_frame_prio pr = {(b & 0x80) ? 0 : fzc_pick(z, b), (uint16_t)(1 + b), (uint8_t)(b & 1)};
      if (id == 0) id = 1;
      (void)h2_conn_submit_priority(c, id, &pr);
      break;
    }
    case FZC_OP_PUSH: {
      char path[16];
      int n = snprintf(path, sizeof path, "/push/%u", b);
      h2_hpack_field f[4] = {{":method", 7, "GET", 3, 0},
                             {":scheme", 7, "https", 5, 0},
                             {":authority", 10, "example.com", 11, 0},
                             {":path", 5, path, (size_t)n, 0}};
      int32_t pid = h2_conn_submit_push_promise(c, fzc_pick(z, a), f, 4, NULL);
      if (pid > 0) {
        FZC_CHECK(z->role == H2_CONN_SERVER && (pid % 2) == 0);
        FZC_CHECK(h2_conn_stream_set_user(c, (uint32_t)pid, fzc_tag((uint32_t)pid)) == 0);
        uint8_t *fl = fzc_flags(z->ev_map, (uint32_t)pid);
        if (fl) {
          FZC_CHECK(*fl == 0);
          *fl = FZC_S_OPENED;
        }
        fzc_track_add(z, (uint32_t)pid);
        if (b & 1) {
          fzc_respond(z, (uint32_t)pid, 0);
          (void)fzc_submit_data(z, (uint32_t)pid, fzc_pattern, 100, H2_CONN_DATA_END_STREAM);
        }
      } else {
        FZC_CHECK(pid < 0);
      }
      break;
    }
    case FZC_OP_INFO: {
      h2_hpack_field f[2] = {{":status", 7, (b & 1) ? "103" : "100", 3, 0},
                             {"link", 4, "</style.css>; rel=preload", 25, 0}};
      (void)h2_conn_submit_info(c, fzc_pick(z, a), f, 1 + (b & 1));
      break;
    }
    case FZC_OP_WINDOW:
      (void)h2_conn_set_local_window_size(c, ((uint32_t)a << 16) | ((uint32_t)b << 8));
      break;
    case FZC_OP_REQUEST:
      if (z->role == H2_CONN_CLIENT) fzc_request(z, a, b);
      else FZC_CHECK(h2_conn_submit_request(c, fzc_req_get, FZC_NELEM(fzc_req_get), NULL, 1, NULL) < 0);
      break;
    case FZC_OP_SPLIT: z->split = a; break;
    case FZC_OP_EOF: FZC_CHECK(h2_conn_recv_eof(c, z->now) == 0); break;
    case FZC_OP_FAILALLOC:
      z->alloc.countdown = a;
      z->alloc.fails = 1 + b % 4;
      break;
    case FZC_OP_EXTRA:
      if (z->role == H2_CONN_SERVER) {
        if (b & 1) {
          const char *o[2] = {"https://example.com", "https://cdn.example.com"};
          size_t l[2] = {19, 23};
          (void)h2_conn_submit_origin(c, o, l, 1 + (a & 1));
        } else {
          (void)h2_conn_submit_altsvc(c, (a & 1) ? fzc_pick(z, a) : 0, (a & 1) ? NULL : "example.com",
                                      (a & 1) ? 0 : 11, "h2=\":443\"; ma=60", 16);
        }
      } else {
        (void)h2_conn_submit_ping(c, NULL, z->now);
      }
      break;
  }
}

static void fzc_feed(fzc *z, const uint8_t *p, size_t n) {
  size_t off = 0;
  if (z->verbose && n) fprintf(stderr, "feed %zu bytes\n", n);
  while (off < n) {
    size_t k = n - off;
    if (z->split && k > z->split) k = z->split;
    int r = h2_conn_recv(z->conn, p + off, k, z->now);
    FZC_CHECK(r == (int)k || r < 0);
    if (r < 0) break;
    off += k;
  }
  if (!(z->cfgbyte & FZC_CFG_MANUAL)) fzc_drain(z, 0);
}

/* fzc_start creates the connection for |role| from the config byte |cb|
 * (and, for a client, submits the three fixed requests). */
static void fzc_start(fzc *z, h2_conn_role role, uint8_t cb) {
  if (fzc_pattern[1] == 0)
    for (size_t i = 0; i < sizeof fzc_pattern; i++) fzc_pattern[i] = (uint8_t)(i * 7 + (i >> 8));
  free(z->out);
  memset(z, 0, sizeof *z);
  z->role = role;
  z->cfgbyte = cb;
  z->verbose = getenv("FZC_VERBOSE") != NULL;
  z->strict = getenv("FZC_STRICT") != NULL;
  z->alloc.countdown = -1;
  z->mem = (h2_mem){fzc_malloc, fzc_realloc, fzc_free, &z->alloc};
  z->now = 1000;
  z->max_peer_frame = H2_DEFAULT_MAX_FRAME_SIZE;
  z->conn_window_got = 65535;
  h2_conn_config cfg;
  fzc_config(&cfg, role, cb);
  z->conn = h2_conn_new(role, &cfg, &z->mem, fzc_cb, z);
  FZC_CHECK(z->conn != NULL);
  if (z->cfgbyte & FZC_CFG_TRACE) h2_conn_set_trace(z->conn, 1);
  if (role == H2_CONN_CLIENT) {
    int32_t id1 = h2_conn_submit_request(z->conn, fzc_req_get, FZC_NELEM(fzc_req_get), NULL, 1, NULL);
    int32_t id3 = h2_conn_submit_request(z->conn, fzc_req_post, FZC_NELEM(fzc_req_post), NULL, 0, NULL);
    h2_frame_prio pr = {1, 201, 1};
    int32_t id5 = h2_conn_submit_request(z->conn, fzc_req_prio, FZC_NELEM(fzc_req_prio), &pr, 1, NULL);
    FZC_CHECK(id1 == 1 && id3 == 3 && id5 == 5);
    for (uint32_t id = 1; id <= 5; id += 2) {
      FZC_CHECK(h2_conn_stream_set_user(z->conn, id, fzc_tag(id)) == 0);
      uint8_t *fl = fzc_flags(z->ev_map, id);
      *fl = FZC_S_OPENED;
      fzc_track_add(z, id);
    }
    FZC_CHECK(fzc_submit_data(z, 3, fzc_pattern, FZC_CLIENT_BODY_LEN, H2_CONN_DATA_END_STREAM) == 0);
  }
}

/* fzc_finish drains, checks the end-state invariants and frees. */
static void fzc_finish(fzc *z) {
  z->alloc.countdown = -1;
  fzc_drain(z, 0);
  /* with nothing pending and the connection alive, the engine's connection
   * send window is exactly what the peer granted minus what we wrote */
  if (!z->out_off_limit && h2_conn_pending(z->conn) == 0 && h2_conn_want_read(z->conn)) {
    int64_t w = h2_conn_window(z->conn, 0, H2_CONN_WINDOW_SEND);
    FZC_CHECK(w == (int64_t)z->conn_window_got - (int64_t)z->data_sent);
  }
  (void)h2_conn_memory(z->conn);
  h2_conn_free(z->conn);
  z->conn = NULL;
  FZC_CHECK(z->submits == z->releases);
  FZC_CHECK(z->alloc.live_blocks == 0 && z->alloc.live_bytes == 0);
  free(z->out);
  z->out = NULL;
}

/* fzc_run is the whole LLVMFuzzerTestOneInput for |role|. */
static int fzc_run(h2_conn_role role, const uint8_t *data, size_t size) {
  static fzc Z;
  fzc *z = &Z;
  if (size < 1) return 0;
  fzc_start(z, role, data[0]);
  if (!(z->cfgbyte & FZC_CFG_MANUAL)) fzc_drain(z, 0);
  size_t i = 1, start = 1;
  while (i < size) {
    if (data[i] == FZC_MARK0 && i + 1 < size && data[i + 1] == FZC_MARK1) {
      fzc_feed(z, data + start, i - start);
      uint8_t op = i + 2 < size ? data[i + 2] : 0;
      uint8_t a = i + 3 < size ? data[i + 3] : 0;
      uint8_t b = i + 4 < size ? data[i + 4] : 0;
      fzc_action(z, op, a, b);
      i += 5;
      start = i < size ? i : size;
      continue;
    }
    i++;
  }
  if (start < size) fzc_feed(z, data + start, size - start);
  fzc_finish(z);
  return 0;
}

#endif /* FZC_NO_HARNESS */
#endif
