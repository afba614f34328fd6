/* test_api_origin.c: a client session's origin set (RFC 8336 §2.3,
 * h2_session_origin_set): the connection's origin first, then origins from
 * ORIGIN frames (normalized, each once, malformed ones skipped), ORIGIN on
 * a stream and at a server ignored, the entry and byte bounds; in memory
 * (h2_session_new) and over 127.0.0.1 with h2_connect and h2_server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "h2.h"
#include "api_loops.h"
#include "h2_loop.h"
#include "api_pair.h"
#include "h2_tls.h"

typedef struct pair {
  h2_session *c, *s;
  int origin_frames;
  size_t set_in_cb; /* size of the set seen inside on_origin */
  int server_origin_frames;
  size_t last_n;             /* entries of the last on_origin */
  char last_entries[65536];  /* and their text */
  int altsvcs;
  size_t alt_len;
  char alt[80], alt_origin[256];
  uint32_t alt_stream;
} pair;

static void pump(pair *p) {
  api_pump how = {.now = 1, .feed_must_succeed = 1};
  api_pair_pump(p->c, p->s, &how);
}

static void c_origin(h2_session *s, const char *const *o, const size_t *l, size_t n, void *u) {
  pair *p = u;
  p->origin_frames++;
  const char *const *set;
  p->set_in_cb = h2_session_origin_set(s, &set);
  /* Every entry of the frame, as received, space-separated. */
  p->last_n = n;
  size_t off = 0;
  p->last_entries[0] = '\0';
  for (size_t i = 0; i < n && off + l[i] + 2 < sizeof p->last_entries; i++) {
    if (i) p->last_entries[off++] = ' ';
    memcpy(p->last_entries + off, o[i], l[i]);
    off += l[i];
    p->last_entries[off] = '\0';
  }
}

static void c_altsvc(h2_session *s, const char *alt, size_t al, const char *o, size_t ol,
                     uint32_t sid, void *u) {
  (void)s;
  pair *p = u;
  p->altsvcs++;
  p->alt_len = al;
  snprintf(p->alt, sizeof p->alt, "%.*s", (int)(al < 64 ? al : 64), alt);
  snprintf(p->alt_origin, sizeof p->alt_origin, "%.*s", (int)ol, o);
  p->alt_stream = sid;
}

static void s_origin(h2_session *s, const char *const *o, const size_t *l, size_t n, void *u) {
  (void)s; (void)o; (void)l; (void)n;
  ((pair *)u)->server_origin_frames++;
}

/* The client says its transport is TLS (h2_options.encrypted): ORIGIN
 * counts on TLS sessions only. |sopts| may be NULL. */
static void make_pair_ex(pair *p, int encrypted, const h2_options *sopts) {
  memset(p, 0, sizeof *p);
  h2_session_callbacks cc = {.on_origin = c_origin, .on_altsvc = c_altsvc};
  h2_session_callbacks sc = {.on_origin = s_origin};
  h2_options co;
  h2_options_default(&co);
  co.encrypted = encrypted;
  assert_int_equal(h2_session_new(&p->c, 0, &co, &cc, p, NULL), 0);
  assert_int_equal(h2_session_new(&p->s, 1, sopts, &sc, p, NULL), 0);
  pump(p);
}

static void make_pair(pair *p) { make_pair_ex(p, 1, NULL); }

/* The set as one string, entries separated by spaces. */
static char *set_text(h2_session *s) {
  const char *const *set;
  size_t n = h2_session_origin_set(s, &set);
  static char buf[16384];
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    assert_non_null(set[i]);
    off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? " " : "", set[i]);
    assert_true(off < sizeof buf);
  }
  return buf;
}

/* Feeds |s| one raw ORIGIN frame on |sid| carrying |n| entries. */
static void feed_origin(h2_session *s, uint32_t sid, const char *const *o, size_t n) {
  uint8_t f[4096];
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(o[i]);
    assert_true(9 + len + 2 + l <= sizeof f);
    f[9 + len] = (uint8_t)(l >> 8);
    f[9 + len + 1] = (uint8_t)l;
    memcpy(f + 9 + len + 2, o[i], l);
    len += 2 + l;
  }
  uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, 0xc, 0,
                  (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
  memcpy(f, h, 9);
  assert_int_equal(h2_session_feed(s, f, 9 + len, 1), 0);
}

static void test_set_from_frames(void **state) {
  (void)state;
  pair p;
  make_pair(&p);
  /* Before any ORIGIN frame: the connection's origin only. */
  assert_string_equal(set_text(p.c), "https://localhost");
  const char *const *set = (const char *const *)&p; /* overwritten */
  assert_int_equal(h2_session_origin_set(p.s, &set), 0);
  assert_null(set);

  const char *first[] = {"https://Example.COM",     /* lower-cased */
                         "https://example.com:443", /* same origin */
                         "http://a.example:8080",   "HTTP://a.example:080", /* = http://a.example */
                         "bad",                     "https://",
                         "ftp://x:99999",           "https://x/path",
                         "https://x:",              "https://[::1",
                         "1http://x",               "https://h%zz",
                         "",                        "https://[2001:DB8::1]:8443",
                         "https://x y"};
  /* h2_session_origin refuses malformed origins: a raw frame carries them. */
  feed_origin(p.c, 0, first, sizeof first / sizeof first[0]);
  assert_int_equal(p.origin_frames, 1);
  assert_int_equal(p.last_n, sizeof first / sizeof first[0]); /* all delivered as received */
  assert_string_equal(set_text(p.c), "https://localhost https://example.com http://a.example:8080 "
                                     "http://a.example https://[2001:db8::1]:8443");
  assert_int_equal(p.set_in_cb, 5); /* on_origin already sees the frame's origins */

  /* A later frame adds to the set. */
  const char *second[] = {"https://b.example", "https://EXAMPLE.com", "https://localhost"};
  assert_int_equal(h2_session_origin(p.s, second, 3), 0);
  pump(&p);
  assert_int_equal(p.origin_frames, 2);
  assert_string_equal(set_text(p.c), "https://localhost https://example.com http://a.example:8080 "
                                     "http://a.example https://[2001:db8::1]:8443 https://b.example");

  /* ORIGIN on a stream is ignored (RFC 8336 §2.1), and so is one sent to a
   * server. */
  const char *third[] = {"https://c.example"};
  feed_origin(p.c, 1, third, 1);
  assert_int_equal(p.origin_frames, 2);
  assert_null(strstr(set_text(p.c), "c.example"));
  feed_origin(p.s, 0, third, 1);
  assert_int_equal(p.server_origin_frames, 0);
  assert_int_equal(h2_session_origin_set(p.s, &set), 0);
  /* A raw frame on stream 0 does count. */
  feed_origin(p.c, 0, third, 1);
  assert_int_equal(p.origin_frames, 3);
  assert_non_null(strstr(set_text(p.c), " https://c.example"));
  h2_session_free(p.c);
  h2_session_free(p.s);
}

static void test_bounds(void **state) {
  (void)state;
  pair p;
  make_pair(&p);
  /* Entries: 100 distinct short origins, 64 kept (the first is the
   * connection's), the first 63 in order. */
  char names[100][32];
  const char *o[50];
  for (int f = 0; f < 2; f++) {
    for (int i = 0; i < 50; i++) {
      snprintf(names[f * 50 + i], sizeof names[0], "https://h%d.example", f * 50 + i);
      o[i] = names[f * 50 + i];
    }
    assert_int_equal(h2_session_origin(p.s, o, 50), 0);
    pump(&p);
  }
  const char *const *set;
  assert_int_equal(h2_session_origin_set(p.c, &set), H2_ORIGIN_SET_MAX_ENTRIES);
  assert_string_equal(set[0], "https://localhost");
  for (int i = 1; i < H2_ORIGIN_SET_MAX_ENTRIES; i++) assert_string_equal(set[i], names[i - 1]);
  h2_session_free(p.c);
  h2_session_free(p.s);

  /* Bytes: 250-octet hosts; the set stops before H2_ORIGIN_SET_MAX_BYTES. */
  make_pair(&p);
  static char longs[40][300];
  const char *lo[40];
  for (int i = 0; i < 40; i++) {
    memcpy(longs[i], "https://", 8);
    memset(longs[i] + 8, 'a' + i % 26, 250);
    snprintf(longs[i] + 8 + 250, 40, ".x%d", i);
    lo[i] = longs[i];
  }
  assert_int_equal(h2_session_origin(p.s, lo, 40), 0);
  pump(&p);
  size_t n = h2_session_origin_set(p.c, &set);
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) bytes += strlen(set[i]) + 1;
  assert_true(n > 1 && n < 40);
  assert_true(bytes <= H2_ORIGIN_SET_MAX_BYTES);
  assert_true(bytes + strlen(longs[n - 1]) + 1 > H2_ORIGIN_SET_MAX_BYTES); /* the next did not fit */
  for (size_t i = 1; i < n; i++) assert_string_equal(set[i], longs[i - 1]);
  h2_session_free(p.c);
  h2_session_free(p.s);
}

/* ---- a client on h2c ignores ORIGIN; every entry is delivered ---- */

/* Node: 'origin' and originSet on TLS sessions only. On h2c the frame is
 * received (it is legal) but neither fires on_origin nor grows the set. */
static void test_h2c_ignored(void **state) {
  (void)state;
  pair p;
  make_pair_ex(&p, 0, NULL);
  assert_int_equal(h2_session_encrypted(p.c), 0);
  assert_string_equal(h2_session_alpn_protocol(p.c), "h2c");
  const char *o[] = {"https://a.example"};
  assert_int_equal(h2_session_origin(p.s, o, 1), 0);
  pump(&p);
  feed_origin(p.c, 0, o, 1);
  assert_int_equal(p.origin_frames, 0);
  const char *const *set = (const char *const *)&p;
  assert_int_equal(h2_session_origin_set(p.c, &set), 0);
  assert_null(set);
  h2_session_free(p.c);
  h2_session_free(p.s);
  /* The same with encrypted = 1: counted. */
  make_pair(&p);
  assert_int_equal(h2_session_encrypted(p.c), 1);
  assert_string_equal(h2_session_alpn_protocol(p.c), "h2");
  feed_origin(p.c, 0, o, 1);
  assert_int_equal(p.origin_frames, 1);
  assert_int_equal(h2_session_origin_set(p.c, &set), 2);
  h2_session_free(p.c);
  h2_session_free(p.s);
}

/* on_origin gets every entry of a frame, more than the 64 the set keeps:
 * 200 sent with h2_session_origin, 1000 in a raw frame. */
static void test_all_delivered(void **state) {
  (void)state;
  pair p;
  make_pair(&p);
  static char names[200][32];
  const char *o[200];
  char want[8192];
  size_t off = 0;
  for (int i = 0; i < 200; i++) {
    snprintf(names[i], sizeof names[0], "https://h%d.example", i);
    o[i] = names[i];
    off += (size_t)snprintf(want + off, sizeof want - off, "%s%s", i ? " " : "", names[i]);
  }
  assert_int_equal(h2_session_origin(p.s, o, 200), 0);
  pump(&p);
  assert_int_equal(p.origin_frames, 1);
  assert_int_equal(p.last_n, 200);
  assert_string_equal(p.last_entries, want);
  assert_int_equal(p.set_in_cb, H2_ORIGIN_SET_MAX_ENTRIES);
  /* 1000 one-letter entries (not origins: delivered, not added). */
  static const char *ones[1000];
  for (int i = 0; i < 1000; i++) ones[i] = i % 2 ? "b" : "a";
  feed_origin(p.c, 0, ones, 1000);
  assert_int_equal(p.origin_frames, 2);
  assert_int_equal(p.last_n, 1000);
  assert_int_equal(strlen(p.last_entries), 1999);
  assert_memory_equal(p.last_entries + 1990, "b a b a b", 9); /* entries 995..999 */
  h2_session_free(p.c);
  h2_session_free(p.s);
}

/* ---- what a server may send: Node's checks ---- */

static void expect_invalid(int rc, const char *words) {
  assert_int_equal(rc, H2_ERR_INVALID_ARG);
  if (!strstr(h2_last_error_message(), words))
    fail_msg("message '%s' lacks '%s'", h2_last_error_message(), words);
}

static void test_origin_checks(void **state) {
  (void)state;
  pair p;
  make_pair(&p);
  /* Each refused with a message (Node's ERR_INVALID_CHAR,
   * ERR_HTTP2_INVALID_ORIGIN, ERR_HTTP2_ORIGIN_LENGTH); nothing is sent. */
  const char *bad[][1] = {{"https://\xc3\xa9.example"}, {"https://a.example\t"},
                          {"https://a b"},              {"ftp://a.example"},
                          {"a.example"},                {"https://"},
                          {"https://a.example:99999"},  {NULL}};
  const char *why[] = {"visible ASCII", "visible ASCII", "visible ASCII", "http:// or https://",
                       "http:// or https://", "no valid origin", "no valid origin", "NULL"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_invalid(h2_session_origin(p.s, bad[i], 1), why[i]);
  static char names[257][32];
  const char *many[257];
  for (int i = 0; i < 257; i++) {
    snprintf(names[i], sizeof names[0], "https://h%d.example", i);
    many[i] = names[i];
  }
  expect_invalid(h2_session_origin(p.s, many, 257), "at most 256");
  static char longs[70][300];
  const char *lo[70];
  for (int i = 0; i < 70; i++) {
    memcpy(longs[i], "https://", 8);
    memset(longs[i] + 8, 'a', 240);
    snprintf(longs[i] + 248, 16, "%d.x", i);
    lo[i] = longs[i];
  }
  expect_invalid(h2_session_origin(p.s, lo, 70), "16384 octets");
  assert_int_equal(h2_session_origin(p.s, lo, 60), 0); /* 60 * 254 fits */
  pump(&p);
  assert_int_equal(p.origin_frames, 1);
  assert_int_equal(p.last_n, 60);
  /* The origin of a URL goes out: user-info, path, query, fragment and the
   * default port dropped, lower case. No origins: nothing sent (Node). */
  const char *url[] = {"HTTPS://user:pw@Example.COM:443/a/b?q=1#f", "http://x.example:8080/"};
  assert_int_equal(h2_session_origin(p.s, url, 2), 0);
  assert_int_equal(h2_session_origin(p.s, url, 0), 0);
  pump(&p);
  assert_int_equal(p.origin_frames, 2);
  assert_string_equal(p.last_entries, "https://example.com http://x.example:8080");
  assert_int_equal(h2_session_origin(p.c, url, 1), H2_ERR_STATE); /* clients cannot */
  h2_session_free(p.c);
  h2_session_free(p.s);
}

static int req_streams;
static h2_stream *req_stream;
static void s_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n, unsigned f,
                     void *u) {
  (void)s; (void)h; (void)n; (void)f; (void)u;
  req_streams++;
  req_stream = st;
}

static void test_altsvc_checks(void **state) {
  (void)state;
  pair p;
  memset(&p, 0, sizeof p);
  h2_session_callbacks cc = {.on_altsvc = c_altsvc};
  h2_session_callbacks sc = {.on_stream = s_stream};
  assert_int_equal(h2_session_new(&p.c, 0, NULL, &cc, &p, NULL), 0);
  assert_int_equal(h2_session_new(&p.s, 1, NULL, &sc, &p, NULL), 0);
  pump(&p);
  /* alt: tab, space and visible ASCII but backslash (Node's kQuotedString). */
  expect_invalid(h2_session_altsvc(p.s, "h2=\":443\"\x01", "https://a.example", 0), "alt has");
  expect_invalid(h2_session_altsvc(p.s, "h2=\"\xc3\xa9:443\"", "https://a.example", 0), "alt has");
  expect_invalid(h2_session_altsvc(p.s, "h2=\"\\\\:443\"", "https://a.example", 0), "alt has");
  expect_invalid(h2_session_altsvc(p.s, NULL, "https://a.example", 0), "NULL");
  /* Origin or stream, exactly one. */
  expect_invalid(h2_session_altsvc(p.s, "clear", NULL, 0), "origin (stream 0) or a stream id");
  expect_invalid(h2_session_altsvc(p.s, "clear", "", 0), "origin (stream 0) or a stream id");
  expect_invalid(h2_session_altsvc(p.s, "clear", "https://a.example", 1), "not both");
  /* The origin must be one (ERR_HTTP2_ALTSVC_INVALID_ORIGIN). */
  expect_invalid(h2_session_altsvc(p.s, "clear", "nope", 0), "http:// or https://");
  expect_invalid(h2_session_altsvc(p.s, "clear", "https://\xc3\xa9", 0), "visible ASCII");
  /* The stream must be open: none yet, an id past 2^31-1. */
  expect_invalid(h2_session_altsvc(p.s, "clear", NULL, 1), "not an open stream");
  expect_invalid(h2_session_altsvc(p.s, "clear", NULL, 0x80000001u), "not an open stream");
  pump(&p);
  assert_int_equal(p.altsvcs, 0);

  /* A URL's origin goes out. */
  assert_int_equal(h2_session_altsvc(p.s, "h2=\":8443\"; ma=60", "HTTPS://Example.com:443/x?y", 0), 0);
  pump(&p);
  assert_int_equal(p.altsvcs, 1);
  assert_string_equal(p.alt, "h2=\":8443\"; ma=60");
  assert_string_equal(p.alt_origin, "https://example.com");
  assert_int_equal(p.alt_stream, 0);

  /* On an open stream, without origin ("" is no origin too). */
  h2_stream *st;
  h2_header h[] = {H2_HDR(H2_HEADER_PATH, "/")};
  assert_int_equal(h2_session_request(p.c, &st, h, 1, 0, NULL), 0);
  pump(&p);
  assert_int_equal(req_streams, 1);
  assert_int_equal(h2_session_altsvc(p.s, "h2=\":1\"", "", h2_stream_id(req_stream)), 0);
  pump(&p);
  assert_int_equal(p.altsvcs, 2);
  assert_string_equal(p.alt_origin, "");
  assert_int_equal(p.alt_stream, 1);
  /* Closed, it is refused. */
  h2_stream_close(st, H2_CODE_CANCEL);
  pump(&p);
  expect_invalid(h2_session_altsvc(p.s, "clear", NULL, 1), "not an open stream");

  /* Length: 2 + origin + alt within 16384 (ERR_HTTP2_ALTSVC_LENGTH). */
  static char alt[16400];
  memset(alt, 'a', sizeof alt - 1);
  alt[16384 - 2 - 17 + 1] = '\0'; /* one octet too many with "https://a.example" */
  expect_invalid(h2_session_altsvc(p.s, alt, "https://a.example", 0), "more than one frame");
  alt[16384 - 2 - 17] = '\0'; /* exactly one frame's worth */
  assert_int_equal(h2_session_altsvc(p.s, alt, "https://a.example", 0), 0);
  pump(&p);
  assert_int_equal(p.altsvcs, 3);
  assert_int_equal(p.alt_len, 16384 - 2 - 17);
  assert_string_equal(p.alt_origin, "https://a.example");
  assert_int_equal(h2_session_altsvc(p.c, "clear", "https://a.example", 0), H2_ERR_STATE);
  h2_session_free(p.c);
  h2_session_free(p.s);
}

/* ---- Node's `origins` server option ---- */

/* Frame types of the bytes a session has to send (consumed). */
static size_t frame_types(h2_session *s, size_t skip, uint8_t *types, size_t cap) {
  size_t n = 0, len;
  const uint8_t *b;
  static uint8_t all[65536];
  size_t got = 0;
  while ((b = h2_session_pending(s, &len)) != NULL && got + len <= sizeof all) {
    memcpy(all + got, b, len);
    got += len;
    h2_session_consumed(s, len);
  }
  for (size_t off = skip; off + 9 <= got && n < cap; n++) {
    types[n] = all[off + 3];
    off += 9 + ((size_t)all[off] << 16 | (size_t)all[off + 1] << 8 | all[off + 2]);
  }
  return n;
}

static void test_origins_option(void **state) {
  (void)state;
  h2_options so;
  h2_options_default(&so);
  const char *bad[] = {"https://ok.example", "ftp://no.example"};
  so.origins = bad;
  so.num_origins = 2;
  expect_invalid(h2_options_validate(&so), "origins");
  h2_session *s = NULL;
  expect_invalid(h2_session_new(&s, 1, &so, NULL, NULL, NULL), "origins");
  h2_loop *loop;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  h2_server *srv = NULL;
  expect_invalid(h2_server_new(&srv, loop, &so, NULL, NULL), "origins");
  h2_loop_free(loop);

  /* A server session queues the ORIGIN frame right after its SETTINGS. */
  const char *good[] = {"https://cdn.example/x", "https://IMG.example:8443"};
  so.origins = good;
  assert_int_equal(h2_options_validate(&so), 0);
  assert_int_equal(h2_session_new(&s, 1, &so, NULL, NULL, NULL), 0);
  uint8_t t[8];
  assert_int_equal(frame_types(s, 0, t, 8), 2);
  assert_int_equal(t[0], 0x4); /* SETTINGS */
  assert_int_equal(t[1], 0xc); /* ORIGIN */
  h2_session_free(s);
  /* ... which a TLS client takes in; clients ignore the option. */
  pair p;
  make_pair_ex(&p, 1, &so);
  assert_int_equal(p.origin_frames, 1);
  assert_string_equal(p.last_entries, "https://cdn.example https://img.example:8443");
  assert_string_equal(set_text(p.c), "https://localhost https://cdn.example https://img.example:8443");
  h2_session_free(p.c);
  h2_session_free(p.s);
  assert_int_equal(h2_session_new(&s, 0, &so, NULL, NULL, NULL), 0);
  size_t n = frame_types(s, 24, t, 8); /* after the 24-octet client preface */
  assert_true(n >= 1);
  assert_int_equal(t[0], 0x4);
  for (size_t i = 0; i < n; i++) assert_int_not_equal(t[i], 0xc);
  h2_session_free(s);
}

/* ---- over 127.0.0.1: a server with `origins`, TLS and h2c listeners ---- */

typedef struct lctx {
  int origins, frames_in, origin_frames_in, closes;
  char set_after[512], first_entries[256];
} lctx;

static void srv_session(h2_server *srv, h2_session *s, void *u) {
  (void)srv; (void)u;
  const char *o[] = {"https://late.example"};
  assert_int_equal(h2_session_origin(s, o, 1), 0);
}

static void cl_origin(h2_session *s, const char *const *o, const size_t *l, size_t n, void *u) {
  lctx *c = u;
  if (c->origins++ == 0) {
    size_t off = 0;
    for (size_t i = 0; i < n && off + l[i] + 2 < sizeof c->first_entries; i++) {
      if (i) c->first_entries[off++] = ' ';
      memcpy(c->first_entries + off, o[i], l[i]);
      off += l[i];
      c->first_entries[off] = '\0';
    }
  }
  snprintf(c->set_after, sizeof c->set_after, "%s", set_text(s));
}

static void cl_trace(h2_session *s, int out, const char *line, void *u) {
  (void)s;
  lctx *c = u;
  if (out) return;
  c->frames_in++;
  if (strstr(line, "ORIGIN")) c->origin_frames_in++;
}

static void cl_close(h2_session *s, void *u) {
  (void)s;
  ((lctx *)u)->closes++;
}

static h2_session *connect_to(h2_loop *loop, const char *scheme, uint16_t port, lctx *c) {
  h2_session_callbacks cc;
  memset(&cc, 0, sizeof cc);
  cc.on_origin = cl_origin;
  cc.on_close = cl_close;
  char url[64];
  snprintf(url, sizeof url, "%s://127.0.0.1:%u/ignored", scheme, port);
  h2_options o;
  h2_options_default(&o);
  o.insecure = 1;
  h2_session *cs = NULL;
  assert_int_equal(h2_connect(&cs, loop, url, &o, &cc, c), 0);
  h2_session_set_frame_trace(cs, cl_trace, c);
  return cs;
}

static void test_connect_origin(void **state) {
  (void)state;
  h2_loop *loop;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  h2_server_callbacks sc;
  memset(&sc, 0, sizeof sc);
  sc.on_session = srv_session;
  /* The option's strings are copied: the array is overwritten after. */
  char o1[64] = "https://cdn.example/a", o2[64] = "https://img.example:8443";
  const char *origins[] = {o1, o2};
  h2_options so;
  h2_options_default(&so);
  so.origins = origins;
  so.num_origins = 2;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, loop, &so, &sc, NULL), 0);
  strcpy(o1, "https://changed.example");
  origins[1] = NULL;
  h2_tls_ctx *tls = h2_tls_ctx_new(H2_TLS_SERVER);
  assert_non_null(tls);
  assert_int_equal(h2_tls_ctx_add_self_signed(tls, "localhost"), 0);
  int li_tls = h2_server_listen(srv, "127.0.0.1", 0, tls);
  int li_h2c = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li_tls >= 0 && li_h2c >= 0);

  /* TLS: the option's frame first, then on_session's. */
  lctx c;
  memset(&c, 0, sizeof c);
  uint16_t port = h2_server_port(srv, li_tls);
  h2_session *cs = connect_to(loop, "https", port, &c);
  assert_true(api_run_until(loop, NULL, &c.origins, 2, 5000));
  assert_string_equal(c.first_entries, "https://cdn.example https://img.example:8443");
  char want[256];
  snprintf(want, sizeof want,
           "https://127.0.0.1:%u https://cdn.example https://img.example:8443 https://late.example",
           port);
  assert_string_equal(c.set_after, want);
  assert_string_equal(set_text(cs), want);
  assert_int_equal(c.origin_frames_in, 2);
  h2_session_destroy(cs, H2_CODE_NO_ERROR);
  assert_true(api_run_until(loop, NULL, &c.closes, 1, 5000));

  /* h2c: the frames arrive (as from Node's server) but a client ignores
   * them there: no on_origin, no origin set. */
  lctx d;
  memset(&d, 0, sizeof d);
  cs = connect_to(loop, "http", h2_server_port(srv, li_h2c), &d);
  assert_true(api_run_until(loop, NULL, &d.origin_frames_in, 2, 5000));
  assert_int_equal(d.origins, 0);
  const char *const *set;
  assert_int_equal(h2_session_origin_set(cs, &set), 0);
  h2_session_destroy(cs, H2_CODE_NO_ERROR);
  assert_true(api_run_until(loop, NULL, &d.closes, 1, 5000));

  h2_server_free(srv);
  for (int i = 0; i < 200 && h2_loop_alive(loop); i++) {
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    usleep(200);
  }
  h2_loop_free(loop);
  h2_tls_ctx_free(tls);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set_from_frames),
      cmocka_unit_test(test_bounds),
      cmocka_unit_test(test_h2c_ignored),
      cmocka_unit_test(test_all_delivered),
      cmocka_unit_test(test_origin_checks),
      cmocka_unit_test(test_altsvc_checks),
      cmocka_unit_test(test_origins_option),
      cmocka_unit_test(test_connect_origin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
