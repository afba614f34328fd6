/* gen_session_corpus.c: writes seed inputs for fuzz_session into DIR: a
 * real client and server session exchange a few requests in memory; the
 * client's bytes become a server-role seed and the server's bytes a
 * client-role seed, cut into OP_FEED records (format: fuzz_session.c).
 *
 *   cc -Ihpack -Ih2core -Ievloop -Itls -Iapi fuzz/gen_session_corpus.c \
 *      build/libh2.a build/libh2core.a -L... -lssl -lcrypto -o gen && ./gen DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2.h"

/* The op codes of fuzz_session.c. */
enum { OP_FEED = 0, OP_DRAIN = 1, OP_TICK = 3, OP_RESPOND = 4, OP_WRITE = 5, OP_END = 6,
       OP_RESET = 8, OP_PING = 9, OP_REQUEST = 14, OP_PUSH = 15, OP_EOF = 21 };

typedef struct buf {
  uint8_t *p;
  size_t len;
} buf;

static void put(buf *b, const void *d, size_t n) {
  b->p = realloc(b->p, b->len + n);
  if (!b->p) exit(1);
  memcpy(b->p + b->len, d, n);
  b->len += n;
}

static void put_byte(buf *b, uint8_t v) { put(b, &v, 1); }

/* feeds: |src| as OP_FEED records of at most 200 bytes. */
static void feeds(buf *out, const buf *src) {
  for (size_t off = 0; off < src->len;) {
    size_t n = src->len - off < 200 ? src->len - off : 200;
    put_byte(out, OP_FEED);
    put_byte(out, (uint8_t)n);
    put(out, src->p + off, n);
    off += n;
  }
}

static const uint8_t body[3000];
static int mode; /* server behaviour: 0 body + trailers, 1 push, 2 reset */

static void want_trailers(h2_stream *st, void *u) {
  (void)u;
  h2_header t[] = {H2_HDR("x-checksum", "abc")};
  h2_stream_send_trailers(st, t, 1);
}

static void on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n, unsigned f,
                      void *u) {
  (void)s; (void)h; (void)n; (void)f; (void)u;
  static const h2_stream_callbacks cbs = {.on_want_trailers = want_trailers};
  h2_stream_on(st, &cbs, NULL);
  if (mode == 2) {
    h2_stream_close(st, 0x8);
    return;
  }
  if (mode == 1) {
    h2_header ph[] = {H2_HDR(":method", "GET"), H2_HDR(":path", "/p"),
                      H2_HDR(":scheme", "https"), H2_HDR(":authority", "a.test")};
    h2_stream *ps;
    if (h2_stream_push(st, &ps, ph, 4) == 0) {
      h2_header r[] = {H2_HDR(":status", "200")};
      h2_stream_respond(ps, r, 1, 0);
      h2_stream_end_with(ps, body, 100, NULL, NULL);
    }
  }
  h2_header r[] = {H2_HDR(":status", "200"), H2_HDR("content-type", "text/plain")};
  h2_stream_respond(st, r, 2, H2_WAIT_FOR_TRAILERS);
  h2_stream_end_with(st, body, sizeof body, NULL, NULL);
}

/* One exchange; returns the bytes each side sent. */
static void exchange(int m, int requests, buf *c2s, buf *s2c) {
  mode = m;
  h2_session *c, *s;
  h2_session_callbacks cc, sc;
  memset(&cc, 0, sizeof cc);
  memset(&sc, 0, sizeof sc);
  sc.on_stream = on_stream;
  if (h2_session_new(&c, 0, NULL, &cc, NULL, NULL) || h2_session_new(&s, 1, NULL, &sc, NULL, NULL))
    exit(1);
  for (int i = 0; i < requests; i++) {
    h2_stream *st;
    h2_header h[] = {H2_HDR(":method", i ? "POST" : "GET"), H2_HDR(":path", "/x"),
                     H2_HDR(":scheme", "https"), H2_HDR(":authority", "a.test")};
    if (h2_session_request(c, &st, h, 4, i ? 0 : H2_END_STREAM, NULL) == 0 && i)
      h2_stream_end_with(st, body, 500, NULL, NULL);
  }
  for (int round = 0; round < 50; round++) {
    int moved = 0;
    size_t len;
    const uint8_t *p;
    while ((p = h2_session_pending(c, &len)) != NULL) {
      put(c2s, p, len);
      h2_session_feed(s, p, len, 1000);
      h2_session_consumed(c, len);
      moved = 1;
    }
    while ((p = h2_session_pending(s, &len)) != NULL) {
      put(s2c, p, len);
      h2_session_feed(c, p, len, 1000);
      h2_session_consumed(s, len);
      moved = 1;
    }
    if (!moved) break;
  }
  h2_session_free(c);
  h2_session_free(s);
}

static void save(const char *dir, const char *name, const buf *b) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(b->p, 1, b->len, f) != b->len) exit(1);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen_session_corpus DIR\n");
    return 2;
  }
  static const struct { int mode, requests; uint8_t cfg_server, cfg_client; const char *name; } runs[] = {
    {0, 1, 0x09, 0x00, "get"}, {0, 2, 0x01, 0x02, "get_post"}, {1, 1, 0x0b, 0x00, "push"},
    {2, 2, 0x05, 0x04, "reset"}, {0, 2, 0x19, 0x10, "trace"}, {0, 2, 0x49, 0x20, "compat"},
    {0, 1, 0x61, 0x22, "compat_kept"},
  };
  for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
    buf c2s = {0}, s2c = {0}, seed = {0};
    exchange(runs[k].mode, runs[k].requests, &c2s, &s2c);
    char name[64];
    /* Server role: the client's bytes, with drains and app actions between. */
    put_byte(&seed, runs[k].cfg_server);
    feeds(&seed, &c2s);
    uint8_t tail[] = {OP_DRAIN, OP_RESPOND, 0, 0, OP_WRITE, 0, 5, OP_END, 0, OP_PUSH, 1,
                      OP_DRAIN, OP_PING, OP_TICK, 200, OP_DRAIN, OP_EOF, 0};
    put(&seed, tail, sizeof tail);
    snprintf(name, sizeof name, "server_%s", runs[k].name);
    save(argv[1], name, &seed);
    /* Client role: requests, then the server's bytes. */
    seed.len = 0;
    put_byte(&seed, runs[k].cfg_client);
    for (int i = 0; i < runs[k].requests; i++) {
      put_byte(&seed, OP_REQUEST);
      put_byte(&seed, i ? 2 : 1);
    }
    put_byte(&seed, OP_DRAIN);
    feeds(&seed, &s2c);
    uint8_t ctail[] = {OP_DRAIN, OP_RESET, 0, 8, OP_DRAIN, OP_TICK, 100, OP_EOF, 1};
    put(&seed, ctail, sizeof ctail);
    snprintf(name, sizeof name, "client_%s", runs[k].name);
    save(argv[1], name, &seed);
    free(c2s.p);
    free(s2c.p);
    free(seed.p);
  }
  return 0;
}
