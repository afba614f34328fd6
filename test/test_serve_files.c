/* test_serve_files.c: the HTTP semantics of `h2 serve` (api/cmd/serve_files.c)
 * and the embedded demo site. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve_files.h"
#include "serve_fs.h"

struct san_case { int line; const char *in; const char *out; /* NULL = rejected */ };
static const struct san_case san_cases[] = {
  {__LINE__, "/", "/"},
  {__LINE__, "/index.html", "/index.html"},
  {__LINE__, "/a/b/c.txt?x=1#f", "/a/b/c.txt"},
  {__LINE__, "/dir/", "/dir/"},
  {__LINE__, "//a///b", "/a/b"},
  {__LINE__, "/a/./b", "/a/b"},
  {__LINE__, "/a/.", "/a/"},
  {__LINE__, "/a/b/../c", "/a/c"},
  {__LINE__, "/a/b/..", "/a/"},
  {__LINE__, "/a/..", "/"},
  {__LINE__, "/..", NULL},
  {__LINE__, "/../etc/passwd", NULL},
  {__LINE__, "/a/../../etc/passwd", NULL},
  {__LINE__, "/%2e%2e/etc/passwd", NULL},
  {__LINE__, "/a/..%2f..%2fetc", NULL},
  {__LINE__, "/a/%2E%2E/b", "/b"},
  {__LINE__, "/hello%20world.txt", "/hello world.txt"},
  {__LINE__, "/caf%C3%A9", "/caf\xc3\xa9"},
  {__LINE__, "/a%2fb", "/a/b"},
  {__LINE__, "/bad%zz", NULL},
  {__LINE__, "/trunc%4", NULL},
  {__LINE__, "/trunc%", NULL},
  {__LINE__, "/nul%00x", NULL},
  {__LINE__, "relative", NULL},
  {__LINE__, "/x?/../../etc", "/x"},
  {__LINE__, "/...", "/..."},
  {__LINE__, "/.hidden", "/.hidden"},
};

static void test_sanitize_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof san_cases / sizeof san_cases[0]; i++) {
    const struct san_case *c = &san_cases[i];
    char out[H2_SERVE_PATH_MAX];
    int r = h2_serve_sanitize_path(out, sizeof out, c->in, strlen(c->in));
    if (!c->out) {
      if (r >= 0) fail_msg("line %d: %s accepted as %s", c->line, c->in, out);
    } else {
      if (r < 0) fail_msg("line %d: %s rejected", c->line, c->in);
      if (strcmp(out, c->out) != 0) fail_msg("line %d: %s -> %s, want %s", c->line, c->in, out, c->out);
      assert_int_equal((size_t)r, strlen(c->out));
    }
  }
}

static void test_sanitize_bounds(void **state) {
  (void)state;
  char big[3000];
  big[0] = '/';
  memset(big + 1, 'a', sizeof big - 1);
  char out[H2_SERVE_PATH_MAX];
  assert_true(h2_serve_sanitize_path(out, sizeof out, big, sizeof big) < 0);
  char small[4];
  assert_true(h2_serve_sanitize_path(small, sizeof small, "/abcd", 5) < 0);
  assert_int_equal(h2_serve_sanitize_path(small, sizeof small, "/ab", 3), 3);
  assert_string_equal(small, "/ab");
  /* Not NUL-terminated input: only path_len bytes are read. */
  const char raw[] = {'/', 'x', 'y'};
  assert_int_equal(h2_serve_sanitize_path(out, sizeof out, raw, 2), 2);
  assert_string_equal(out, "/x");
}

/* Random paths: the result is idempotent (a sanitized path comes back
 * unchanged, whichever of the fast or general paths handles it) and holds
 * no empty, "." or ".." segment. */
static void test_sanitize_random(void **state) {
  (void)state;
  static const char *const parts[] = {"a", "B", "0", "-", "_", ".", "..", "~", "/", "//", "%2e",
                                      "%2F", "x.y", "/.", "?q", "%41"};
  srand(7);
  for (int t = 0; t < 20000; t++) {
    char in[128] = "/";
    size_t n = 1;
    int k = rand() % 8;
    for (int j = 0; j < k; j++) {
      const char *p = parts[rand() % (int)(sizeof parts / sizeof parts[0])];
      size_t l = strlen(p);
      memcpy(in + n, p, l);
      n += l;
    }
    in[n] = '\0';
    char out[H2_SERVE_PATH_MAX], again[H2_SERVE_PATH_MAX];
    int r = h2_serve_sanitize_path(out, sizeof out, in, n);
    if (r < 0) continue;
    assert_int_equal((size_t)r, strlen(out));
    assert_int_equal(out[0], '/');
    if (strstr(out, "//") || strstr(out, "/./") || strstr(out, "/../")) fail_msg("%s -> %s", in, out);
    size_t ol = strlen(out);
    if ((ol >= 2 && !strcmp(out + ol - 2, "/.")) || (ol >= 3 && !strcmp(out + ol - 3, "/..")))
      fail_msg("%s -> %s", in, out);
    int r2 = h2_serve_sanitize_path(again, sizeof again, out, (size_t)r);
    assert_int_equal(r2, r);
    if (strcmp(again, out)) fail_msg("%s -> %s -> %s", in, out, again);
  }
}

static void test_content_types(void **state) {
  (void)state;
  assert_string_equal(h2_serve_content_type("/index.html"), "text/html; charset=utf-8");
  assert_string_equal(h2_serve_content_type("/a/B.PNG"), "image/png");
  assert_string_equal(h2_serve_content_type("/x.json"), "application/json");
  assert_string_equal(h2_serve_content_type("/x.woff2"), "font/woff2");
  assert_string_equal(h2_serve_content_type("/noext"), "application/octet-stream");
  assert_string_equal(h2_serve_content_type("/.bashrc"), "application/octet-stream");
  assert_string_equal(h2_serve_content_type("/dir.html/file"), "application/octet-stream");
  assert_string_equal(h2_serve_content_type("/trailingdot."), "application/octet-stream");
}

static void test_http_dates(void **state) {
  (void)state;
  char buf[32];
  h2_serve_http_date(buf, sizeof buf, 784111777);
  assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
  h2_serve_http_date(buf, sizeof buf, 0);
  assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
  h2_serve_http_date(buf, sizeof buf, 951782400); /* leap day 2000 */
  assert_string_equal(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
  int64_t t;
  assert_int_equal(h2_serve_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t), 0);
  assert_int_equal(t, 784111777);
  /* Round trip over a range of instants. */
  for (int64_t x = 0; x < 4102444800; x += 86400 * 37 + 3607) {
    h2_serve_http_date(buf, sizeof buf, x);
    assert_int_equal(h2_serve_parse_http_date(buf, strlen(buf), &t), 0);
    assert_int_equal(t, x);
  }
  assert_int_equal(h2_serve_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t), -1);
  assert_int_equal(h2_serve_parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC", 29, &t), -1);
  assert_int_equal(h2_serve_parse_http_date("Sun, 06 Xyz 1994 08:49:37 GMT", 29, &t), -1);
  assert_int_equal(h2_serve_parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT", 29, &t), -1);
  assert_int_equal(h2_serve_parse_http_date("Sun, 0a Nov 1994 08:49:37 GMT", 29, &t), -1);
  assert_int_equal(h2_serve_parse_http_date("", 0, &t), -1);
}

struct range_case { int line; const char *v; uint64_t size; int want; uint64_t first, last; };
static const struct range_case range_cases[] = {
  {__LINE__, "bytes=0-99", 1000, 1, 0, 99},
  {__LINE__, "bytes=100-", 1000, 1, 100, 999},
  {__LINE__, "bytes=-100", 1000, 1, 900, 999},
  {__LINE__, "bytes=-5000", 1000, 1, 0, 999},
  {__LINE__, "bytes=500-5000", 1000, 1, 500, 999},
  {__LINE__, "bytes=999-999", 1000, 1, 999, 999},
  {__LINE__, "bytes=1000-", 1000, -1, 0, 0},
  {__LINE__, "bytes=1000-2000", 1000, -1, 0, 0},
  {__LINE__, "bytes=-0", 1000, -1, 0, 0},
  {__LINE__, "bytes=0-", 0, -1, 0, 0},
  {__LINE__, "bytes=5-4", 1000, 0, 0, 0},
  {__LINE__, "bytes=0-1,5-6", 1000, 0, 0, 0},
  {__LINE__, "bytes=-", 1000, 0, 0, 0},
  {__LINE__, "items=0-1", 1000, 0, 0, 0},
  {__LINE__, "bytes=a-b", 1000, 0, 0, 0},
  {__LINE__, "bytes=99999999999999999999999-", 1000, 0, 0, 0},
  {__LINE__, "bytes= 1-2 ", 1000, 1, 1, 2},
  {__LINE__, "", 1000, 0, 0, 0},
};

static void test_range_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof range_cases / sizeof range_cases[0]; i++) {
    const struct range_case *c = &range_cases[i];
    uint64_t f = 77, l = 77;
    int r = h2_serve_parse_range(c->v, strlen(c->v), c->size, &f, &l);
    if (r != c->want) fail_msg("line %d: %s gave %d want %d", c->line, c->v, r, c->want);
    if (r == 1 && (f != c->first || l != c->last))
      fail_msg("line %d: %s gave %llu-%llu", c->line, c->v, (unsigned long long)f, (unsigned long long)l);
  }
}

static void test_etag_matching(void **state) {
  (void)state;
  char etag[48];
  h2_serve_etag(etag, sizeof etag, 13, 1000, 5);
  assert_string_equal(etag, "\"d-3e8-5\"");
  h2_serve_etag(etag, sizeof etag, 13, 1000, 6);
  assert_string_not_equal(etag, "\"d-3e8-5\"");
  const char *e = "\"d-3e8-5\"";
  assert_true(h2_serve_etag_matches("\"d-3e8-5\"", 9, e));
  assert_true(h2_serve_etag_matches("W/\"d-3e8-5\"", 11, e));
  assert_true(h2_serve_etag_matches("\"x\", \"d-3e8-5\"", 14, e));
  assert_true(h2_serve_etag_matches("*", 1, e));
  assert_false(h2_serve_etag_matches("\"x\"", 3, e));
  assert_false(h2_serve_etag_matches("d-3e8-5", 7, e));
  assert_false(h2_serve_etag_matches("\"d-3e8-5", 8, e));
  assert_false(h2_serve_etag_matches("", 0, e));
}

/* A fake file system: /a.txt (100 bytes), /dir/ with index.html, /empty/
 * (no index), /boom (lookup error). */
static int fake_lookup(void *ctx, const char *path, h2_serve_entity *out) {
  int *calls = ctx;
  (*calls)++;
  memset(out, 0, sizeof *out);
  out->mtime = 784111777;
  if (!strcmp(path, "/a.txt")) { out->kind = H2_SERVE_KIND_FILE; out->size = 100; return 0; }
  if (!strcmp(path, "/dir") || !strcmp(path, "/dir/") || !strcmp(path, "/empty/") || !strcmp(path, "/")) {
    out->kind = H2_SERVE_KIND_DIR;
    return 0;
  }
  if (!strcmp(path, "/dir/index.html")) { out->kind = H2_SERVE_KIND_FILE; out->size = 7; return 0; }
  if (!strcmp(path, "/boom")) return -1;
  return 0;
}

static h2_serve_request mkreq(const char *method, const char *path) {
  h2_serve_request r;
  memset(&r, 0, sizeof r);
  r.method = method; r.method_len = strlen(method);
  r.path = path; r.path_len = strlen(path);
  return r;
}

static const char *find_header(const h2_serve_result *res, const char *name) {
  h2_serve_header h[8];
  size_t n = h2_serve_result_headers(res, h, 8);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(h[i].name_len, strlen(h[i].name));
    assert_int_equal(h[i].value_len, strlen(h[i].value));
  }
  for (size_t i = 0; i < n; i++)
    if (!strcmp(h[i].name, name)) return h[i].value;
  return NULL;
}

static void test_decide_basic(void **state) {
  (void)state;
  int calls = 0;
  h2_serve_result res;
  h2_serve_request r = mkreq("GET", "/a.txt");
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 200);
  assert_int_equal(res.body, H2_SERVE_BODY_ENTITY);
  assert_int_equal(res.offset, 0);
  assert_int_equal(res.length, 100);
  assert_string_equal(find_header(&res, "content-type"), "text/plain; charset=utf-8");
  assert_string_equal(find_header(&res, "last-modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
  assert_string_equal(find_header(&res, "accept-ranges"), "bytes");
  assert_non_null(find_header(&res, "etag"));
  assert_null(find_header(&res, "content-range"));

  r = mkreq("HEAD", "/a.txt");
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 200);
  assert_int_equal(res.body, H2_SERVE_BODY_NONE);
  assert_int_equal(res.length, 100);

  r = mkreq("GET", "/missing");
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 404);
  assert_int_equal(res.body, H2_SERVE_BODY_TEXT);
  assert_int_equal(res.length, strlen(res.text));

  r = mkreq("GET", "/../secret");
  calls = 0;
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 400);
  assert_int_equal(calls, 0); /* never reaches the file system */

  r = mkreq("GET", "/boom");
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 500);

  r = mkreq("DELETE", "/a.txt");
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 405);
  assert_non_null(find_header(&res, "allow"));

  r = mkreq("POST", "/anything");
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 200);
  assert_int_equal(res.body, H2_SERVE_UPLOAD);
}

static void test_decide_directories(void **state) {
  (void)state;
  int calls = 0;
  h2_serve_result res;
  h2_serve_request r = mkreq("GET", "/dir");
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 301);
  assert_string_equal(find_header(&res, "location"), "/dir/");

  r = mkreq("GET", "/dir/?q=1");
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 200);
  assert_string_equal(res.path, "/dir/index.html");
  assert_int_equal(res.length, 7);
  assert_string_equal(res.content_type, "text/html; charset=utf-8");

  r = mkreq("GET", "/empty/");
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 404);
}

static void test_decide_conditionals(void **state) {
  (void)state;
  int calls = 0;
  h2_serve_result res, first;
  h2_serve_request r = mkreq("GET", "/a.txt");
  h2_serve_decide(&first, &r, fake_lookup, &calls);

  r.if_none_match = first.etag;
  r.if_none_match_len = strlen(first.etag);
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 304);
  assert_int_equal(res.body, H2_SERVE_BODY_NONE);
  assert_non_null(find_header(&res, "etag"));

  /* A non-matching If-None-Match wins over a matching If-Modified-Since. */
  r.if_none_match = "\"other\"";
  r.if_none_match_len = 7;
  r.if_modified_since = first.last_modified;
  r.if_modified_since_len = strlen(first.last_modified);
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 200);

  r.if_none_match = NULL;
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 304);

  r.if_modified_since = "Sun, 06 Nov 1994 08:49:36 GMT"; /* one second earlier */
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 200);

  r.if_modified_since = "garbage";
  r.if_modified_since_len = 7;
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 200);
}

static void test_decide_ranges(void **state) {
  (void)state;
  int calls = 0;
  h2_serve_result res;
  h2_serve_request r = mkreq("GET", "/a.txt");
  r.range = "bytes=10-19";
  r.range_len = strlen(r.range);
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 206);
  assert_int_equal(res.offset, 10);
  assert_int_equal(res.length, 10);
  assert_string_equal(find_header(&res, "content-range"), "bytes 10-19/100");

  r.range = "bytes=-1";
  r.range_len = strlen(r.range);
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 206);
  assert_int_equal(res.offset, 99);
  assert_int_equal(res.length, 1);

  r.range = "bytes=100-";
  r.range_len = strlen(r.range);
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 416);
  assert_string_equal(find_header(&res, "content-range"), "bytes */100");
  assert_int_equal(res.body, H2_SERVE_BODY_TEXT);

  /* HEAD ignores Range. */
  h2_serve_request h = r;
  h.method = "HEAD"; h.method_len = 4;
  h.range = "bytes=0-1"; h.range_len = 9;
  h2_serve_decide(&res, &h, fake_lookup, &calls);
  assert_int_equal(res.status, 200);

  /* If-Range: a matching strong ETag keeps the range, anything else drops it. */
  h2_serve_result full;
  h2_serve_request g = mkreq("GET", "/a.txt");
  h2_serve_decide(&full, &g, fake_lookup, &calls);
  r.range = "bytes=0-9";
  r.range_len = 9;
  r.if_range = full.etag;
  r.if_range_len = strlen(full.etag);
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 206);
  r.if_range = "\"stale\"";
  r.if_range_len = 7;
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 200);
  assert_int_equal(res.length, 100);
  r.if_range = full.last_modified;
  r.if_range_len = strlen(full.last_modified);
  h2_serve_decide(&res, &r, fake_lookup, &calls);
  assert_int_equal(res.status, 206);
}

static void test_demo_site(void **state) {
  (void)state;
  h2_serve_result res;
  h2_serve_request r = mkreq("GET", "/");
  h2_serve_decide(&res, &r, h2_demo_lookup, NULL);
  assert_int_equal(res.status, 200);
  assert_string_equal(res.path, "/index.html");
  assert_non_null(res.entity.data);
  assert_true(res.length > 100);
  assert_non_null(memmem(res.entity.data, res.length, "<html", 5));

  r = mkreq("GET", "/big.bin");
  r.range = "bytes=1000-1999";
  r.range_len = strlen(r.range);
  h2_serve_decide(&res, &r, h2_demo_lookup, NULL);
  assert_int_equal(res.status, 206);
  assert_int_equal(res.entity.size, H2_DEMO_BIG_SIZE);
  for (uint64_t i = 0; i < res.length; i++)
    assert_int_equal(res.entity.data[res.offset + i], h2_demo_big_byte(res.offset + i));

  r = mkreq("GET", "/nope.html");
  h2_serve_decide(&res, &r, h2_demo_lookup, NULL);
  assert_int_equal(res.status, 404);

  /* Stable ETags across lookups. */
  h2_serve_result a, b;
  r = mkreq("GET", "/hello.txt");
  h2_serve_decide(&a, &r, h2_demo_lookup, NULL);
  h2_serve_decide(&b, &r, h2_demo_lookup, NULL);
  assert_string_equal(a.etag, b.etag);
  assert_memory_equal(a.entity.data, "Hello from h2!\n", a.length);
}


/* ---- serve_fs: the small-file cache and its shortcut for plain GETs ---- */

static uint64_t fake_now;
static uint64_t fake_clock(void *user) { (void)user; return fake_now; }

static void write_file(const char *path, const char *data, int64_t mtime) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
  assert_int_equal(fclose(f), 0);
  struct timespec ts[2] = {{(time_t)mtime, 0}, {(time_t)mtime, 0}};
  assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* The entry's strings must be exactly what the general decision sends. */
static void check_entry_matches(const h2_serve_fs_entry *e, const h2_serve_result *res) {
  assert_int_equal(res->status, 200);
  assert_int_equal(res->body, H2_SERVE_BODY_ENTITY);
  assert_string_equal(e->content_type, find_header(res, "content-type"));
  assert_int_equal(e->content_type_len, strlen(e->content_type));
  assert_string_equal(e->etag, find_header(res, "etag"));
  assert_int_equal(e->etag_len, strlen(e->etag));
  assert_string_equal(e->last_modified, find_header(res, "last-modified"));
  assert_int_equal(e->last_modified_len, strlen(e->last_modified));
  char cl[24];
  snprintf(cl, sizeof cl, "%llu", (unsigned long long)res->length);
  assert_string_equal(e->content_length, cl);
  assert_int_equal(e->content_length_len, strlen(cl));
  assert_int_equal(e->size, res->length);
  assert_ptr_equal(e->data, res->entity.data);
}

static void test_fs_fresh(void **state) {
  (void)state;
  char dir[] = "/tmp/h2_serve_fs_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char small[64], page[64];
  snprintf(small, sizeof small, "%s/small", dir);
  snprintf(page, sizeof page, "%s/p.html", dir);
  write_file(small, "Hello, h2!!\r\n", 1000000000);
  write_file(page, "<p>hi</p>\n", 1000000000);

  static h2_serve_fs fs; /* large (the cache) */
  assert_int_equal(h2_serve_fs_init(&fs, dir), 0);
  fs.clock_ms = fake_clock;
  fake_now = 5000;
  assert_null(h2_serve_fs_fresh(&fs, "/small", 6)); /* not looked up yet */

  h2_serve_result res;
  h2_serve_request r = mkreq("GET", "/small");
  h2_serve_decide(&res, &r, h2_serve_fs_lookup, &fs);
  const h2_serve_fs_entry *e = h2_serve_fs_fresh(&fs, "/small", 6);
  assert_non_null(e);
  check_entry_matches(e, &res);
  assert_memory_equal(e->data, "Hello, h2!!\r\n", 13);
  assert_string_equal(e->content_length, "13");
  r = mkreq("GET", "/p.html");
  h2_serve_decide(&res, &r, h2_serve_fs_lookup, &fs);
  e = h2_serve_fs_fresh(&fs, "/p.html", 7);
  assert_non_null(e);
  check_entry_matches(e, &res);
  assert_string_equal(e->content_type, "text/html; charset=utf-8");

  /* Targets that sanitizing would change, or that name something else,
   * take the general path. */
  static const char *const other[] = {"/small?x=1", "/small#f", "//small", "/./small",
                                      "/%73mall", "/small/", "/smal", "/smalll", "small", ""};
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
    if (h2_serve_fs_fresh(&fs, other[i], strlen(other[i]))) fail_msg("%s taken as fresh", other[i]);
  assert_int_equal(h2_serve_path_is_plain("/a/b.c", 6), 1);
  assert_int_equal(h2_serve_path_is_plain("/a/.b", 5), 0);
  assert_int_equal(h2_serve_path_is_plain("/a b", 4), 0);

  /* The file changes: served from the cache until the recheck time has
   * passed, then the next lookup stats it and the new ETag goes out. */
  e = h2_serve_fs_fresh(&fs, "/small", 6);
  assert_non_null(e);
  write_file(small, "Hello again, h2!!\r\n", 1000000001);
  char old_etag[48];
  snprintf(old_etag, sizeof old_etag, "%s", e->etag);
  fake_now += H2_SERVE_FS_RECHECK_MS - 1;
  e = h2_serve_fs_fresh(&fs, "/small", 6);
  assert_non_null(e);
  assert_string_equal(e->content_length, "13");
  fake_now += 1;
  assert_null(h2_serve_fs_fresh(&fs, "/small", 6));
  r = mkreq("GET", "/small");
  h2_serve_decide(&res, &r, h2_serve_fs_lookup, &fs);
  assert_int_equal(res.length, 19);
  e = h2_serve_fs_fresh(&fs, "/small", 6);
  assert_non_null(e);
  check_entry_matches(e, &res);
  assert_string_equal(e->content_length, "19");
  assert_memory_equal(e->data, "Hello again, h2!!\r\n", 19);
  assert_string_not_equal(e->etag, old_etag);

  /* Removed: stale for at most the recheck time, then 404. */
  assert_int_equal(unlink(small), 0);
  fake_now += H2_SERVE_FS_RECHECK_MS;
  assert_null(h2_serve_fs_fresh(&fs, "/small", 6));
  h2_serve_decide(&res, &r, h2_serve_fs_lookup, &fs);
  assert_int_equal(res.status, 404);

  h2_serve_fs_free(&fs);
  unlink(page);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sanitize_table),
    cmocka_unit_test(test_sanitize_bounds),
    cmocka_unit_test(test_sanitize_random),
    cmocka_unit_test(test_content_types),
    cmocka_unit_test(test_http_dates),
    cmocka_unit_test(test_range_table),
    cmocka_unit_test(test_etag_matching),
    cmocka_unit_test(test_decide_basic),
    cmocka_unit_test(test_decide_directories),
    cmocka_unit_test(test_decide_conditionals),
    cmocka_unit_test(test_decide_ranges),
    cmocka_unit_test(test_demo_site),
    cmocka_unit_test(test_fs_fresh),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
