/* gen_conn_corpus.c: writes the seed corpora of fuzz_conn_server and
 * fuzz_conn_client: valid conversations between the fuzzed engine (driven
 * through the very harness of fuzz_conn_common.h) and a peer h2_conn in
 * memory. Every byte the peer writes becomes a chunk of the fuzz input and is
 * fed to the fuzzed engine; every application action of the fuzzed side is
 * written as a record (FZC_MARK0 FZC_MARK1 op a b) and performed at once, so
 * replaying a seed file through the fuzz target reproduces the conversation
 * exactly. Scenarios cover many requests, request and response bodies across
 * flow-control windows (application consume and automatic), SETTINGS changes
 * both ways (initial window, frame size, header table), PING, RFC 7540
 * PRIORITY frames and HEADERS priority, the RFC 9218 priority header and
 * PRIORITY_UPDATE, push, 1xx, trailers, CONTINUATION, RST_STREAM, GOAWAY,
 * ALTSVC/ORIGIN, split input and partial output, tight limits, EOF.
 *
 * Not a fuzz target (its name does not start with fuzz_). Build and run by
 * hand from the repository root:
 *
 *   make BUILD=build libh2core.a   # any build dir: build/libh2core.a
 *   cc -std=c11 -O1 -Ihpack -Ih2core -o /tmp/gen_conn_corpus \
 *      fuzz/gen_conn_corpus.c build/libh2core.a
 *   /tmp/gen_conn_corpus fuzz/corpus
 *
 * It writes fuzz/corpus/fuzz_conn_server/gen_* and
 * fuzz/corpus/fuzz_conn_client/gen_*, and checks each seed by replaying it
 * through the harness (fzc_run) once more. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_conn_common.h"

typedef struct gbuf {
  uint8_t *p;
  size_t len, cap;
} gbuf;

static void gput(gbuf *b, const void *p, size_t n) {
  if (b->cap - b->len < n) {
    size_t nc = b->cap ? b->cap : 4096;
    while (nc - b->len < n) nc *= 2;
    b->p = realloc(b->p, nc);
    if (!b->p) abort();
    b->cap = nc;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

/* Peer behaviour. */
typedef struct peer_opts {
  size_t resp_len;   /* server peer: response body bytes */
  int push;          /* server peer: pushes per client request on stream 1 */
  int info;          /* server peer: 103 before the response */
  int trailers;      /* server peer: trailers after the body */
  uint32_t rst_id;   /* server peer: reset this stream instead of answering */
  int consume;       /* consume received DATA (else the peer config auto-credits) */
} peer_opts;

typedef struct gen {
  fzc z;
  h2_conn *peer;
  peer_opts po;
  gbuf in;
  int bad; /* a peer chunk contained the record marker */
  const char *dir;
} gen;

static gen G;
static uint8_t letters[1u << 20];

static void to_peer(void *user, const uint8_t *p, size_t n) {
  gen *g = user;
  int r = h2_conn_recv(g->peer, p, n, g->z.now);
  (void)r;
}

static int peer_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  gen *g = user;
  switch (ev->type) {
    case H2_CONN_EV_DATA:
      if (g->po.consume) h2_conn_consume(c, ev->stream_id, ev->u.data.len);
      break;
    case H2_CONN_EV_STREAM_END: {
      if (h2_conn_role_of(c) != H2_CONN_SERVER) break;
      uint32_t id = ev->stream_id;
      if (id == g->po.rst_id) {
        h2_conn_submit_rst(c, id, 8);
        break;
      }
      if (g->po.push && id == 1) {
        for (int i = 0; i < g->po.push; i++) {
          char path[32];
          int n = snprintf(path, sizeof path, "/pushed/%d.js", i);
          h2_hpack_field f[4] = {{":method", 7, "GET", 3, 0},
                                 {":scheme", 7, "https", 5, 0},
                                 {":authority", 10, "example.com", 11, 0},
                                 {":path", 5, path, (size_t)n, 0}};
          int32_t pid = h2_conn_submit_push_promise(c, id, f, 4, NULL);
          if (pid > 0) {
            h2_hpack_field r[2] = {{":status", 7, "200", 3, 0},
                                   {"content-type", 12, "application/javascript", 22, 0}};
            h2_conn_submit_response(c, (uint32_t)pid, r, 2, 0);
            h2_conn_submit_data(c, (uint32_t)pid, letters, 3000, H2_CONN_DATA_END_STREAM, NULL);
          }
        }
      }
      if (g->po.info) {
        h2_hpack_field f[2] = {{":status", 7, "103", 3, 0}, {"link", 4, "</style.css>; rel=preload", 25, 0}};
        h2_conn_submit_info(c, id, f, 2);
      }
      h2_hpack_field f[4] = {{":status", 7, "200", 3, 0},
                             {"content-type", 12, "text/html; charset=utf-8", 24, 0},
                             {"server", 6, "gen", 3, 0},
                             {"cache-control", 13, "max-age=60", 10, 0}};
      int end = g->po.resp_len == 0 && !g->po.trailers;
      h2_conn_submit_response(c, id, f, 4, end);
      if (g->po.resp_len)
        h2_conn_submit_data(c, id, letters, g->po.resp_len, g->po.trailers ? 0 : H2_CONN_DATA_END_STREAM,
                            NULL);
      if (g->po.trailers) {
        h2_hpack_field t[1] = {{"x-digest", 8, "sha-256=abc", 11, 0}};
        h2_conn_submit_trailers(c, id, t, 1);
      }
      break;
    }
    default: break;
  }
  return 0;
}

/* act performs and records one application action of the fuzzed side. */
static void act(gen *g, uint8_t op, uint8_t a, uint8_t b) {
  uint8_t rec[5] = {FZC_MARK0, FZC_MARK1, op, a, b};
  gput(&g->in, rec, 5);
  fzc_action(&g->z, op, a, b);
}

/* idx returns the |a| argument that picks stream |id| (255 if unknown). */
static uint8_t idx(gen *g, uint32_t id) {
  for (int i = 0; i < g->z.ntrack; i++)
    if (g->z.track[i] == id) return (uint8_t)i;
  return 255;
}

/* chunk records peer bytes and feeds them to the fuzzed engine. */
static void chunk(gen *g, const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i++)
    if (p[i] == FZC_MARK0 && p[i + 1] == FZC_MARK1) g->bad = 1;
  gput(&g->in, p, n);
  fzc_feed(&g->z, p, n);
}

/* pump moves bytes both ways until both sides are quiet. */
static void pump(gen *g) {
  static uint8_t buf[1u << 20];
  for (int round = 0; round < 10000; round++) {
    int moved = 0;
    if (h2_conn_want_write(g->z.conn) && h2_conn_want_read(g->peer)) {
      act(g, FZC_OP_DRAIN, 0, 0);
      moved = 1;
    }
    size_t len = 0;
    for (;;) {
      int n = h2_conn_send(g->peer, buf + len, sizeof buf - len, g->z.now);
      if (n <= 0) break;
      len += (size_t)n;
      if (len == sizeof buf) break;
    }
    if (len) {
      chunk(g, buf, len);
      moved = 1;
    }
    if (!moved) break;
  }
}

static void begin(gen *g, h2_conn_role role, uint8_t cfgbyte, const h2_conn_config *peer_cfg,
                  peer_opts po) {
  if (letters[0] == 0)
    for (size_t i = 0; i < sizeof letters; i++) letters[i] = (uint8_t)('a' + i % 26);
  g->in.len = 0;
  g->bad = 0;
  g->po = po;
  fzc_start(&g->z, role, cfgbyte);
  g->z.sink = to_peer;
  g->z.sink_user = g;
  h2_conn_role prole = role == H2_CONN_SERVER ? H2_CONN_CLIENT : H2_CONN_SERVER;
  h2_conn_config pc;
  if (peer_cfg)
    pc = *peer_cfg;
  else
    h2_conn_config_init(&pc, prole);
  if (!po.consume) pc.auto_window_update = 1;
  g->peer = h2_conn_new(prole, &pc, NULL, peer_cb, g);
  if (!g->peer) abort();
  gput(&g->in, &cfgbyte, 1);
  if (!(cfgbyte & FZC_CFG_MANUAL)) fzc_drain(&g->z, 0);
}

static int nfiles;

static void end(gen *g, const char *name) {
  fzc_finish(&g->z);
  h2_conn_free(g->peer);
  g->peer = NULL;
  if (g->bad) {
    fprintf(stderr, "gen_conn_corpus: %s skipped (marker inside peer bytes)\n", name);
    return;
  }
  /* replay through the target's own entry point */
  fzc_run(g->z.role, g->in.p, g->in.len);
  char path[512];
  snprintf(path, sizeof path, "%s/%s/gen_%s", g->dir,
           g->z.role == H2_CONN_SERVER ? "fuzz_conn_server" : "fuzz_conn_client", name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(g->in.p, 1, g->in.len, f) != g->in.len || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
  printf("%s: %zu bytes\n", path, g->in.len);
  nfiles++;
}

/* ---- the fuzzed side is the server; the peer is a client ---------------- */

static const h2_hpack_field browser_get[] = {
    {":method", 7, "GET", 3, 0},
    {":scheme", 7, "https", 5, 0},
    {":authority", 10, "www.example.org", 15, 0},
    {":path", 5, "/", 1, 0},
    {"user-agent", 10, "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", 70, 0},
    {"accept", 6, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 63, 0},
    {"accept-language", 15, "en-US,en;q=0.5", 14, 0},
    {"accept-encoding", 15, "gzip, deflate, br", 17, 0},
};

static int32_t peer_get(gen *g, const char *path, const h2_frame_prio *prio, const char *prio_hdr) {
  h2_hpack_field f[10];
  memcpy(f, browser_get, sizeof browser_get);
  size_t n = FZC_NELEM(browser_get);
  f[3].value = path;
  f[3].value_len = strlen(path);
  if (prio_hdr) f[n++] = (h2_hpack_field){"priority", 8, prio_hdr, strlen(prio_hdr), 0};
  return h2_conn_submit_request(g->peer, f, n, prio, 1, NULL);
}

static int32_t peer_post(gen *g, size_t body, int trailers, const char *bigcookie) {
  h2_hpack_field f[8] = {{":method", 7, "POST", 4, 0},
                         {":scheme", 7, "https", 5, 0},
                         {":authority", 10, "www.example.org", 15, 0},
                         {":path", 5, "/api/upload", 11, 0},
                         {"content-type", 12, "application/json", 16, 0}};
  size_t n = 5;
  if (trailers) f[n++] = (h2_hpack_field){"te", 2, "trailers", 8, 0};
  if (bigcookie) f[n++] = (h2_hpack_field){"cookie", 6, bigcookie, strlen(bigcookie), 0};
  int32_t id = h2_conn_submit_request(g->peer, f, n, NULL, body == 0 && !trailers, NULL);
  if (id > 0 && body)
    h2_conn_submit_data(g->peer, (uint32_t)id, letters, body, trailers ? 0 : H2_CONN_DATA_END_STREAM, NULL);
  if (id > 0 && trailers) {
    h2_hpack_field t[1] = {{"x-checksum", 10, "12345", 5, 0}};
    h2_conn_submit_trailers(g->peer, (uint32_t)id, t, 1);
  }
  return id;
}

/* respond_all answers every tracked stream: headers, |b29| * 29 bytes, end. */
static void respond_all(gen *g, uint8_t b29) {
  uint32_t ids[FZC_MAX_TRACK];
  int n = g->z.ntrack;
  memcpy(ids, g->z.track, sizeof ids);
  for (int i = 0; i < n; i++) {
    uint8_t k = idx(g, ids[i]);
    if (k == 255) continue;
    act(g, FZC_OP_RESPOND, k, 0);
    k = idx(g, ids[i]);
    if (k == 255) continue;
    act(g, FZC_OP_DATA, (uint8_t)(0x20 | k), b29);
  }
}

static void server_scenarios(gen *g) {
  peer_opts po = {0};
  po.consume = 1;

  /* plain GETs answered by the application */
  begin(g, H2_CONN_SERVER, 0, NULL, po);
  peer_get(g, "/", NULL, NULL);
  peer_get(g, "/app.js", NULL, NULL);
  peer_get(g, "/logo.png", NULL, NULL);
  pump(g);
  respond_all(g, 3);
  pump(g);
  end(g, "get3");

  /* 30 concurrent requests answered in the callback, auto window */
  begin(g, H2_CONN_SERVER, FZC_CFG_AUTORESPOND | FZC_CFG_AUTO_WINDOW, NULL, po);
  for (int i = 0; i < 30; i++) {
    char p[32];
    snprintf(p, sizeof p, "/item/%d", i);
    peer_get(g, p, NULL, NULL);
  }
  pump(g);
  end(g, "autorespond30");

  /* a 200000-byte upload into a 1024-byte stream window, consumed by the
   * application, then a 100 KiB response the client must credit */
  begin(g, H2_CONN_SERVER, FZC_CFG_SMALL_WIN, NULL, po);
  int32_t id = peer_post(g, 80000, 0, NULL);
  pump(g);
  for (int i = 0; i < 400 && h2_conn_stream_state(g->z.conn, (uint32_t)id) == H2_STREAM_OPEN; i++) {
    act(g, FZC_OP_CONSUME, idx(g, (uint32_t)id), 4);
    act(g, FZC_OP_CONSUME, 255, 4);
    pump(g);
  }
  act(g, FZC_OP_RESPOND, idx(g, (uint32_t)id), 0);
  act(g, FZC_OP_DATA, (uint8_t)(0x80 | 0x20 | idx(g, (uint32_t)id)), 100);
  pump(g);
  end(g, "upload_small_window");

  /* priorities: HEADERS priority, PRIORITY frames, priority header,
   * PRIORITY_UPDATE, and a server PRIORITY */
  begin(g, H2_CONN_SERVER, 0, NULL, po);
  {
    h2_frame_prio p1 = {0, 256, 0}, p2 = {1, 32, 1};
    peer_get(g, "/", &p1, NULL);
    peer_get(g, "/a.css", &p2, "u=0");
    peer_get(g, "/b.js", NULL, "u=2, i");
    h2_frame_prio p3 = {3, 100, 0};
    h2_conn_submit_priority(g->peer, 5, &p3);
    h2_conn_submit_priority(g->peer, 11, &p3); /* idle stream */
    pump(g);
    uint8_t fb[64];
    h2_cbb b;
    h2_cbb_init(&b, fb, sizeof fb);
    h2_frame_write_priority_update(&b, 5, (const uint8_t *)"u=1", 3);
    h2_frame_write_priority_update(&b, 7, (const uint8_t *)"u=5, i", 6);
    chunk(g, fb, b.len);
    act(g, FZC_OP_PRIORITY, idx(g, 3), 0x80);
    respond_all(g, 200);
    pump(g);
  }
  end(g, "priority");

  /* SETTINGS changes both ways during a transfer; PINGs; graceful GOAWAY */
  begin(g, H2_CONN_SERVER, 0, NULL, po);
  {
    h2_frame_setting s1[3] = {{H2_SETTINGS_INITIAL_WINDOW_SIZE, 1000},
                              {H2_SETTINGS_MAX_FRAME_SIZE, 32768},
                              {H2_SETTINGS_HEADER_TABLE_SIZE, 100}};
    h2_conn_submit_settings(g->peer, s1, 3, g->z.now);
    h2_conn_submit_ping(g->peer, NULL, g->z.now);
    peer_get(g, "/big", NULL, NULL);
    pump(g);
    act(g, FZC_OP_SETTINGS, 0, 2);       /* our INITIAL_WINDOW_SIZE 65535 */
    act(g, FZC_OP_SETTINGS, 0x82, 0x1c); /* HEADER_TABLE_SIZE 4096 + MAX_CONCURRENT_STREAMS 100 */
    act(g, FZC_OP_PING, 0, 7);
    act(g, FZC_OP_RESPOND, idx(g, 1), 0);
    act(g, FZC_OP_DATA, (uint8_t)(0x80 | idx(g, 1)), 40);
    pump(g);
    h2_frame_setting s2[2] = {{H2_SETTINGS_INITIAL_WINDOW_SIZE, 70000},
                              {H2_SETTINGS_HEADER_TABLE_SIZE, 0}};
    h2_conn_submit_settings(g->peer, s2, 2, g->z.now);
    pump(g);
    act(g, FZC_OP_DATA, (uint8_t)(0x80 | 0x20 | idx(g, 1)), 30);
    pump(g);
    peer_get(g, "/after", NULL, NULL);
    pump(g);
    act(g, FZC_OP_GOAWAY, 0, 255);
    respond_all(g, 1);
    pump(g);
  }
  end(g, "settings_changes");

  /* server push */
  begin(g, H2_CONN_SERVER, 0, NULL, po);
  peer_get(g, "/", NULL, NULL);
  pump(g);
  act(g, FZC_OP_PUSH, idx(g, 1), 1);
  act(g, FZC_OP_PUSH, idx(g, 1), 3);
  act(g, FZC_OP_PUSH, idx(g, 1), 4);
  pump(g);
  respond_all(g, 5);
  pump(g);
  end(g, "push");

  /* request trailers, CONTINUATION, 1xx, response trailers, RST both ways */
  begin(g, H2_CONN_SERVER, 0, NULL, po);
  {
    static char cookie[20001];
    memset(cookie, 'c', 20000);
    peer_post(g, 5000, 1, NULL);
    peer_post(g, 100, 0, cookie);
    int32_t r3 = peer_post(g, 90000, 0, NULL);
    peer_get(g, "/x", NULL, NULL);
    pump(g);
    act(g, FZC_OP_INFO, idx(g, 1), 0);
    act(g, FZC_OP_RESPOND, idx(g, 1), 2); /* big header: CONTINUATION */
    act(g, FZC_OP_DATA, idx(g, 1), 10);
    act(g, FZC_OP_TRAILERS, idx(g, 1), 1);
    act(g, FZC_OP_RESPOND, idx(g, 3), 5);
    act(g, FZC_OP_CONSUME, idx(g, 3), 200);
    h2_conn_submit_rst(g->peer, (uint32_t)r3, 8);
    pump(g);
    act(g, FZC_OP_RST, idx(g, 7), 8);
    pump(g);
  }
  end(g, "trailers_cont_rst");

  /* tight limits: more streams than allowed, refused */
  begin(g, H2_CONN_SERVER, FZC_CFG_TIGHT | FZC_CFG_AUTORESPOND, NULL, po);
  for (int i = 0; i < 10; i++) peer_get(g, "/t", NULL, NULL);
  pump(g);
  end(g, "tight");

  /* manual output: split input, partial writes */
  begin(g, H2_CONN_SERVER, FZC_CFG_MANUAL, NULL, po);
  act(g, FZC_OP_SPLIT, 7, 0);
  peer_get(g, "/s1", NULL, NULL);
  peer_post(g, 3000, 0, NULL);
  act(g, FZC_OP_PARTIAL, 1, 1);
  act(g, FZC_OP_PARTIAL, 3, 200);
  pump(g);
  respond_all(g, 40);
  act(g, FZC_OP_PARTIAL, 2, 50);
  pump(g);
  end(g, "split_partial");

  /* big windows, large frames, a big upload with automatic credit */
  begin(g, H2_CONN_SERVER, FZC_CFG_BIG_WIN | FZC_CFG_AUTO_WINDOW | FZC_CFG_TRACE, NULL, po);
  peer_post(g, 100000, 0, NULL);
  pump(g);
  respond_all(g, 250);
  pump(g);
  end(g, "bigwin_trace");

  /* clock: a PING's RTT, the SETTINGS timeout, EOF */
  begin(g, H2_CONN_SERVER, FZC_CFG_MANUAL, NULL, po);
  act(g, FZC_OP_DRAIN, 0, 0);
  peer_get(g, "/slow", NULL, NULL);
  pump(g);
  act(g, FZC_OP_PING, 1, 0);
  act(g, FZC_OP_SETTINGS, 2, 1);
  act(g, FZC_OP_DRAIN, 3, 0);
  act(g, FZC_OP_CLOCK, 40, 0);
  act(g, FZC_OP_CLOCK, 255, 255);
  act(g, FZC_OP_EOF, 0, 0);
  end(g, "clock_eof");

  /* GOAWAY with an error while streams are open */
  begin(g, H2_CONN_SERVER, 0, NULL, po);
  peer_get(g, "/1", NULL, NULL);
  peer_post(g, 10000, 0, NULL);
  pump(g);
  act(g, FZC_OP_WINDOW, 1, 0);
  act(g, FZC_OP_EXTRA, 0, 0);
  act(g, FZC_OP_EXTRA, 1, 1);
  act(g, FZC_OP_GOAWAY, 2, 0);
  pump(g);
  end(g, "goaway_error");
}

/* ---- the fuzzed side is the client; the peer is a server ---------------- */

static void client_scenarios(gen *g) {
  peer_opts po = {0};
  h2_conn_config sc;

  po.resp_len = 100;
  begin(g, H2_CONN_CLIENT, 0, NULL, po);
  pump(g);
  end(g, "basic");

  po.resp_len = 80000;
  begin(g, H2_CONN_CLIENT, FZC_CFG_AUTO_WINDOW, NULL, po);
  pump(g);
  end(g, "auto_window_big");

  /* the application credits the windows */
  po.resp_len = 70000;
  begin(g, H2_CONN_CLIENT, 0, NULL, po);
  pump(g);
  for (int i = 0; i < 20; i++) {
    for (uint32_t id = 1; id <= 5; id += 2)
      if (idx(g, id) != 255) act(g, FZC_OP_CONSUME, idx(g, id), 64);
    act(g, FZC_OP_CONSUME, 255, 64);
    pump(g);
  }
  end(g, "consume");

  /* pushes and 1xx and trailers */
  po = (peer_opts){0};
  po.resp_len = 500;
  po.push = 2;
  po.info = 1;
  po.trailers = 1;
  begin(g, H2_CONN_CLIENT, FZC_CFG_AUTO_WINDOW, NULL, po);
  pump(g);
  end(g, "push_info_trailers");

  /* the server changes SETTINGS: small window, big frames, table size */
  po = (peer_opts){0};
  po.resp_len = 20000; /* three responses over 16384 (MAX_FRAME_SIZE) that fit in 64 KiB */
  h2_conn_config_init(&sc, H2_CONN_SERVER);
  sc.settings.initial_window_size = 100;
  sc.settings.max_frame_size = 1u << 20;
  sc.settings.header_table_size = 0;
  sc.auto_window_update = 1;
  sc.window_update_burst = 0;
  begin(g, H2_CONN_CLIENT, FZC_CFG_AUTO_WINDOW, &sc, po);
  pump(g);
  act(g, FZC_OP_SETTINGS, 0x81, 0x24); /* IWS 1 + MAX_FRAME_SIZE 65536 */
  act(g, FZC_OP_PING, 0, 1);
  pump(g);
  {
    h2_frame_setting s[2] = {{H2_SETTINGS_INITIAL_WINDOW_SIZE, 65535},
                             {H2_SETTINGS_HEADER_TABLE_SIZE, 4096}};
    h2_conn_submit_settings(g->peer, s, 2, g->z.now);
    h2_conn_submit_ping(g->peer, NULL, g->z.now);
  }
  act(g, FZC_OP_SETTINGS, 0, 2);
  pump(g);
  end(g, "settings_changes");

  /* the server resets one stream, sends ALTSVC and ORIGIN */
  po = (peer_opts){0};
  po.resp_len = 1000;
  po.rst_id = 3;
  begin(g, H2_CONN_CLIENT, FZC_CFG_AUTO_WINDOW, NULL, po);
  h2_conn_submit_altsvc(g->peer, 0, "example.com", 11, "h3=\":443\"", 9);
  {
    const char *o[1] = {"https://example.com"};
    size_t l[1] = {19};
    h2_conn_submit_origin(g->peer, o, l, 1);
  }
  pump(g);
  end(g, "rst_altsvc_origin");

  /* more requests from the application, with priorities */
  po = (peer_opts){0};
  po.resp_len = 3000;
  begin(g, H2_CONN_CLIENT, FZC_CFG_AUTO_WINDOW, NULL, po);
  act(g, FZC_OP_REQUEST, 0, 2);
  act(g, FZC_OP_REQUEST, 2, 6);
  act(g, FZC_OP_REQUEST, 5, 0x86);
  act(g, FZC_OP_PRIORITY, 0, 1);
  act(g, FZC_OP_PRIORITY, 0x89, 0x80);
  pump(g);
  act(g, FZC_OP_REQUEST, 1, 0);
  act(g, FZC_OP_DATA, (uint8_t)(0x20 | idx(g, h2_conn_next_stream_id(g->z.conn) - 2)), 50);
  act(g, FZC_OP_TRAILERS, 0, 0);
  pump(g);
  end(g, "requests_priority");

  /* GOAWAY from the server: graceful, then with an error */
  po = (peer_opts){0};
  po.resp_len = 10;
  begin(g, H2_CONN_CLIENT, 0, NULL, po);
  h2_conn_submit_goaway(g->peer, 0, 3, (const uint8_t *)"bye", 3);
  pump(g);
  act(g, FZC_OP_REQUEST, 0, 2);
  h2_conn_submit_goaway(g->peer, 11, 3, NULL, 0);
  pump(g);
  end(g, "goaway");

  /* tight limits, manual output, split input */
  po = (peer_opts){0};
  po.resp_len = 20000;
  po.consume = 1;
  begin(g, H2_CONN_CLIENT, FZC_CFG_TIGHT | FZC_CFG_MANUAL, NULL, po);
  act(g, FZC_OP_SPLIT, 5, 0);
  act(g, FZC_OP_PARTIAL, 0, 3);
  act(g, FZC_OP_PARTIAL, 3, 255);
  pump(g);
  for (int i = 0; i < 5; i++) {
    for (uint32_t id = 1; id <= 5; id += 2)
      if (idx(g, id) != 255) act(g, FZC_OP_CONSUME, idx(g, id), 100);
    act(g, FZC_OP_CONSUME, 255, 100);
    act(g, FZC_OP_CLOCK, 0, 100);
    pump(g);
  }
  end(g, "tight_manual_split");
}

int main(int argc, char **argv) {
  G.dir = argc > 1 ? argv[1] : "fuzz/corpus";
  server_scenarios(&G);
  client_scenarios(&G);
  printf("%d seeds written\n", nfiles);
  free(G.in.p);
  return 0;
}
