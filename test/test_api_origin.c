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

typedef struct pair {
  h2_session *c, *s;
  int origin_frames;
  size_t set_in_cb; /* size of the set seen inside on_origin */
  int server_origin_frames;
} pair;

static void pump(pair *p) {
  api_pump how = {.now = 1, .feed_must_succeed = 1};
  api_pair_pump(p->c, p->s, &how);
}

static void c_origin(h2_session *s, const char *const *o, const size_t *l, size_t n, void *u) {
  (void)o; (void)l; (void)n;
  pair *p = u;
  p->origin_frames++;
  const char *const *set;
  p->set_in_cb = h2_session_origin_set(s, &set);
}

static void s_origin(h2_session *s, const char *const *o, const size_t *l, size_t n, void *u) {
  (void)s; (void)o; (void)l; (void)n;
  ((pair *)u)->server_origin_frames++;
}

static void make_pair(pair *p) {
  memset(p, 0, sizeof *p);
  h2_session_callbacks cc = {.on_origin = c_origin};
  h2_session_callbacks sc = {.on_origin = s_origin};
  assert_int_equal(h2_session_new(&p->c, 0, NULL, &cc, p, NULL), 0);
  assert_int_equal(h2_session_new(&p->s, 1, NULL, &sc, p, NULL), 0);
  pump(p);
}

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
  assert_string_equal(set_text(p.c), "http://localhost");
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
  assert_int_equal(h2_session_origin(p.s, first, sizeof first / sizeof first[0]), 0);
  pump(&p);
  assert_int_equal(p.origin_frames, 1);
  assert_string_equal(set_text(p.c), "http://localhost https://example.com http://a.example:8080 "
                                     "http://a.example https://[2001:db8::1]:8443");
  assert_int_equal(p.set_in_cb, 5); /* on_origin already sees the frame's origins */

  /* A later frame adds to the set. */
  const char *second[] = {"https://b.example", "https://EXAMPLE.com", "http://localhost"};
  assert_int_equal(h2_session_origin(p.s, second, 3), 0);
  pump(&p);
  assert_int_equal(p.origin_frames, 2);
  assert_string_equal(set_text(p.c), "http://localhost https://example.com http://a.example:8080 "
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
  assert_string_equal(set[0], "http://localhost");
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

/* ---- over 127.0.0.1: h2_connect's origin, a server sending ORIGIN ---- */

typedef struct lctx {
  int origins;
  char set_after[512];
} lctx;

static void srv_session(h2_server *srv, h2_session *s, void *u) {
  (void)srv; (void)u;
  const char *o[] = {"https://cdn.example", "https://img.example:8443"};
  assert_int_equal(h2_session_origin(s, o, 2), 0);
}

static void cl_origin(h2_session *s, const char *const *o, const size_t *l, size_t n, void *u) {
  (void)o; (void)l; (void)n;
  lctx *c = u;
  c->origins++;
  snprintf(c->set_after, sizeof c->set_after, "%s", set_text(s));
}

static void test_connect_origin(void **state) {
  (void)state;
  h2_loop *loop;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  h2_server_callbacks sc;
  memset(&sc, 0, sizeof sc);
  sc.on_session = srv_session;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, loop, NULL, &sc, NULL), 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);

  lctx c;
  memset(&c, 0, sizeof c);
  h2_session_callbacks cc;
  memset(&cc, 0, sizeof cc);
  cc.on_origin = cl_origin;
  char url[64], want[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/ignored", port);
  h2_session *cs = NULL;
  assert_int_equal(h2_connect(&cs, loop, url, NULL, &cc, &c), 0);
  snprintf(want, sizeof want, "http://127.0.0.1:%u", port);
  assert_string_equal(set_text(cs), want);

  uint64_t end = api_mono_ms() + 3000;
  while (c.origins < 1 && api_mono_ms() < end) {
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    if (c.origins < 1) usleep(200);
  }
  assert_int_equal(c.origins, 1);
  char full[256];
  snprintf(full, sizeof full, "%s https://cdn.example https://img.example:8443", want);
  assert_string_equal(c.set_after, full);
  assert_string_equal(set_text(cs), full);

  h2_session_destroy(cs, 0);
  h2_server_free(srv);
  for (int i = 0; i < 200 && h2_loop_alive(loop); i++) {
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    usleep(200);
  }
  h2_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set_from_frames),
      cmocka_unit_test(test_bounds),
      cmocka_unit_test(test_connect_origin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
