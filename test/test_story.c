/* test_story.c: the hpack-test-case story JSON reader and writer
 * (api/cmd/story.c): schema, escapes, UTF-8, limits, error positions,
 * hostile input (every prefix, every one-byte change), write/read round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "story.h"

static const char good[] =
    "{\n"
    "  \"cases\": [\n"
    "    {\"seqno\": 0, \"header_table_size\": 4096, \"wire\": \"82864188F439CE75c875fa5784\",\n"
    "     \"headers\": [{\":method\": \"GET\"}, {\":scheme\": \"http\"}]},\n"
    "    {\"seqno\": 1, \"header_table_size\": null, \"wire\": \"\",\n"
    "     \"headers\": []},\n"
    "    {\"headers\": [{\"a\": \"1\", \"b\": \"2\"}], \"extra\": [1, -2.5e+3, true, false, null, {\"x\": []}]}\n"
    "  ],\n"
    "  \"description\": \"d\\u00e9sc\",\n"
    "  \"context\": \"request\"\n"
    "}\n";

static int parse(h2_story *s, const char *json, char *err, size_t n) {
  return h2_story_parse(s, json, strlen(json), err, n);
}

static void test_parse_good(void **state) {
  (void)state;
  h2_story s;
  char err[256];
  assert_int_equal(parse(&s, good, err, sizeof err), 0);
  assert_int_equal(s.num_cases, 3);
  assert_string_equal(s.description, "d\xc3\xa9sc");
  assert_string_equal(s.context, "request");
  const h2_story_case *c = &s.cases[0];
  assert_true(c->has_seqno);
  assert_int_equal(c->seqno, 0);
  assert_true(c->has_table_size);
  assert_int_equal(c->header_table_size, 4096);
  assert_true(c->has_wire);
  assert_int_equal(c->wire_len, 13);
  assert_memory_equal(c->wire, "\x82\x86\x41\x88\xf4\x39\xce\x75\xc8\x75\xfa\x57\x84", 13);
  assert_int_equal(c->num_fields, 2);
  assert_string_equal(c->fields[0].name, ":method");
  assert_int_equal(c->fields[0].name_len, 7);
  assert_string_equal(c->fields[0].value, "GET");
  assert_string_equal(c->fields[1].value, "http");
  c = &s.cases[1];
  assert_int_equal(c->seqno, 1);
  assert_false(c->has_table_size);
  assert_true(c->has_wire);
  assert_int_equal(c->wire_len, 0);
  assert_int_equal(c->num_fields, 0);
  c = &s.cases[2];
  assert_false(c->has_seqno);
  assert_false(c->has_wire);
  assert_int_equal(c->num_fields, 2);
  assert_string_equal(c->fields[1].name, "b");
  assert_string_equal(c->fields[1].value, "2");
  h2_story_free(&s);
  h2_story_free(&s); /* idempotent */
  h2_story_free(NULL);
}

static void test_escapes(void **state) {
  (void)state;
  h2_story s;
  char err[256];
  const char *j =
      "{\"cases\":[{\"headers\":[{\"n\\u0000x\":"
      "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\uD834\\uDD1E\xe2\x82\xac\"}]}]}";
  assert_int_equal(parse(&s, j, err, sizeof err), 0);
  const h2_story_field *f = &s.cases[0].fields[0];
  assert_int_equal(f->name_len, 3);
  assert_memory_equal(f->name, "n\0x", 3);
  const char want[] = "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf0\x9d\x84\x9e\xe2\x82\xac";
  assert_int_equal(f->value_len, sizeof want - 1);
  assert_memory_equal(f->value, want, sizeof want - 1);
  h2_story_free(&s);
}

struct bad_case {
  int line;
  const char *json;
  const char *msg; /* substring of the expected message */
};

static const struct bad_case bad[] = {
    {__LINE__, "", "line 1, column 1: a story must be an object, found end of input"},
    {__LINE__, "[]", "must be an object"},
    {__LINE__, "{}", "no \"cases\""},
    {__LINE__, "{\"cases\": {}}", "\"cases\" must be an array"},
    {__LINE__, "{\"cases\": [1]}", "a case must be an object"},
    {__LINE__, "{\"cases\": [{}]}", "without \"headers\""},
    {__LINE__, "{\"cases\": [{\"headers\": {}}]}", "\"headers\" must be an array"},
    {__LINE__, "{\"cases\": [{\"headers\": [[]]}]}", "must be an object"},
    {__LINE__, "{\"cases\": [{\"headers\": [{\"a\": 1}]}]}", "header value must be a string"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"wire\": \"abc\"}]}", "odd number of hex digits"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"wire\": \"zz\"}]}", "non-hex character at offset 0"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"wire\": 12}]}", "\"wire\" must be a hex string"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"seqno\": -1}]}", "integer from 0 to 4294967295"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"seqno\": 1.5}]}", "integer from 0 to 4294967295"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"seqno\": 1e3}]}", "integer from 0 to 4294967295"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"seqno\": 4294967296}]}", "integer from 0 to 4294967295"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"seqno\": null}]}", "\"seqno\" must be a number"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"header_table_size\": \"1\"}]}", "must be a number or null"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"seqno\": 01}]}", "leading zeros"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"x\": 1.}]}", "digit expected after '.'"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"x\": 1e}]}", "digit expected in exponent"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"x\": -}]}", "invalid number"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"x\": tru}]}", "invalid literal (expected true)"},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"x\": +1}]}", "expected a value, found '+'"},
    {__LINE__, "{\"cases\": [{\"headers\": [],}]}", "expected a string, found '}'"},
    {__LINE__, "{\"cases\": [{\"headers\": []},]}", "a case must be an object, found ']'"},
    {__LINE__, "{\"cases\": [] \"x\": 1}", "expected ',' or '}', found '\"'"},
    {__LINE__, "{\"cases\": [{\"headers\": [] \"x\": 1}]}", "expected ',' or '}'"},
    {__LINE__, "{\"cases\": [{\"headers\": [{\"a\" \"b\"}]}]}", "expected ':'"},
    {__LINE__, "{\"cases\": []} x", "unexpected data after the story object"},
    {__LINE__, "{\"cases\": [], \"cases\": []}", "duplicate key \"cases\""},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"wire\": \"\", \"wire\": \"\"}]}", "duplicate key \"wire\""},
    {__LINE__, "{\"cases\": [{\"headers\": [], \"headers\": []}]}", "duplicate key \"headers\""},
    {__LINE__, "{\"cases\": [], \"description\": 1}", "\"description\" must be a string"},
    {__LINE__, "{\"cases\": [], \"x\": \"abc}", "unterminated string"},
    {__LINE__, "{\"cases\": [], \"x\": \"a\\\"}", "unterminated string"},
    {__LINE__, "{\"cases\": [], \"x\": \"a\tb\"}", "control character 0x09"},
    {__LINE__, "{\"cases\": [], \"x\": \"\\q\"}", "invalid escape '\\q'"},
    {__LINE__, "{\"cases\": [], \"x\": \"\\u12\"}", "\\u escape needs 4 hex digits"},
    {__LINE__, "{\"cases\": [], \"x\": \"\\u12g4\"}", "\\u escape needs 4 hex digits"},
    {__LINE__, "{\"cases\": [], \"x\": \"\\ude00\"}", "lone low surrogate"},
    {__LINE__, "{\"cases\": [], \"x\": \"\\ud83d\"}", "not followed by a low surrogate"},
    {__LINE__, "{\"cases\": [], \"x\": \"\\ud83dx\\ude00\"}", "not followed by a low surrogate"},
    {__LINE__, "{\"cases\": [], \"x\": \"\\ud83d\\u0041\"}", "is not a low surrogate"},
    {__LINE__, "{\"cases\": [], \"x\": \"\xc3\"}", "invalid UTF-8"},
    {__LINE__, "{\"cases\": [], \"x\": \"\xc0\xaf\"}", "invalid UTF-8"},          /* overlong */
    {__LINE__, "{\"cases\": [], \"x\": \"\xed\xa0\x80\"}", "invalid UTF-8"},      /* surrogate */
    {__LINE__, "{\"cases\": [], \"x\": \"\xf4\x90\x80\x80\"}", "invalid UTF-8"},  /* > U+10FFFF */
    {__LINE__, "{\"cases\": [], \"x\": \"\xff\"}", "invalid UTF-8"},
    {__LINE__, "{\"cases\": [], \"x\": \"a\x80\"}", "invalid UTF-8"},
    {__LINE__, "{\n  \"cases\": [\n    {\"headers\": [], \"seqno\": x}]}", "line 3, column 30: \"seqno\" must be a number, found 'x'"},
    {__LINE__, "{\"cases\": [{\"headers\": [{\"a\": \"b\"}]}]\n", "line 2, column 1: expected ',' or '}', found end of input"},
};

static void test_bad_inputs(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h2_story s;
    char err[256];
    int rc = parse(&s, bad[i].json, err, sizeof err);
    if (rc != -1 || !strstr(err, bad[i].msg)) {
      fail_msg("line %d: rc %d, message \"%s\", wanted \"%s\"", bad[i].line, rc, err, bad[i].msg);
    }
    assert_null(s.cases);
    assert_int_equal(s.num_cases, 0);
    assert_null(s.description);
  }
}

static void test_depth_limit(void **state) {
  (void)state;
  size_t n = 100000;
  char *j = malloc(n * 2 + 64);
  assert_non_null(j);
  size_t o = (size_t)sprintf(j, "{\"cases\": [], \"x\": ");
  for (size_t i = 0; i < n; i++) j[o++] = '[';
  for (size_t i = 0; i < n; i++) j[o++] = ']';
  j[o++] = '}';
  h2_story s;
  char err[256];
  assert_int_equal(h2_story_parse(&s, j, o, err, sizeof err), -1);
  assert_non_null(strstr(err, "nesting deeper than 64 levels"));
  /* 60 levels under "x" (62 in all) are fine. */
  o = (size_t)sprintf(j, "{\"cases\": [], \"x\": ");
  for (size_t i = 0; i < 60; i++) {
    if (i % 2) j[o++] = '[';
    else o += (size_t)sprintf(j + o, "{\"k\":");
  }
  for (size_t i = 60; i-- > 0;) j[o++] = i % 2 ? ']' : '}';
  j[o++] = '}';
  assert_int_equal(h2_story_parse(&s, j, o, err, sizeof err), 0);
  h2_story_free(&s);
  free(j);
}

static void test_bom_and_blanks(void **state) {
  (void)state;
  h2_story s;
  char err[256];
  assert_int_equal(parse(&s, "\xef\xbb\xbf \t\r\n{ \"cases\" : [ ] } \n", err, sizeof err), 0);
  h2_story_free(&s);
  /* A NUL byte in the middle is not JSON. */
  assert_int_equal(h2_story_parse(&s, "{\"cases\":[]}\0", 13, err, sizeof err), -1);
  /* A tiny or absent error buffer is fine. */
  assert_int_equal(parse(&s, "[", err, 5), -1);
  assert_int_equal(strlen(err), 4);
  assert_int_equal(parse(&s, "[", NULL, 0), -1);
}

/* Every proper prefix of a valid story fails cleanly; every single-byte
 * change either parses or fails cleanly (ASan/valgrind catch the rest). */
static void test_prefixes_and_mutations(void **state) {
  (void)state;
  size_t n = strlen(good);
  char err[256];
  h2_story s;
  for (size_t i = 0; i + 1 < n; i++) { /* all but the trailing newline */
    char *p = malloc(i ? i : 1); /* exact size: an over-read trips ASan */
    assert_non_null(p);
    memcpy(p, good, i);
    assert_int_equal(h2_story_parse(&s, p, i, err, sizeof err), -1);
    assert_true(strncmp(err, "line ", 5) == 0);
    free(p);
  }
  static const char subst[] = {'"', '\\', '{', '}', '[', ']', ',', ':', '0', 'u', 'x', '\0', '\x80', ' '};
  int parsed = 0, failed = 0;
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < sizeof subst; k++) {
      char *p = malloc(n);
      assert_non_null(p);
      memcpy(p, good, n);
      p[i] = subst[k];
      if (h2_story_parse(&s, p, n, err, sizeof err) == 0) {
        parsed++;
        h2_story_free(&s);
      } else {
        failed++;
        assert_true(strncmp(err, "line ", 5) == 0);
      }
      free(p);
    }
  }
  assert_true(parsed > 0);
  assert_true(failed > 0);
}

/* Random damage (seeded, so runs repeat): several bytes changed, inserted or
 * removed, and pure noise. Each input either parses or fails with a
 * positioned message; ASan/valgrind catch any stray read. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}

static void test_random_damage(void **state) {
  (void)state;
  static const char alphabet[] = "{}[]\",:\\u0123456789abcdefABCDEFxnlrtue+-. \n\t\xc3\xa9\xed\xf0\x80";
  size_t n = strlen(good);
  char err[256];
  int parsed = 0, failed = 0;
  for (int iter = 0; iter < 20000; iter++) {
    size_t cap = n + 64;
    char *p = malloc(cap);
    assert_non_null(p);
    size_t len;
    if (iter % 10 == 9) { /* noise from the alphabet */
      len = rnd() % cap;
      for (size_t i = 0; i < len; i++) p[i] = alphabet[rnd() % (sizeof alphabet - 1)];
    } else {
      memcpy(p, good, n);
      len = n;
      int edits = 1 + (int)(rnd() % 4);
      for (int e = 0; e < edits; e++) {
        size_t at = len ? rnd() % len : 0;
        switch (rnd() % 3) {
          case 0: if (len) p[at] = alphabet[rnd() % (sizeof alphabet - 1)]; break;
          case 1: if (len < cap) { memmove(p + at + 1, p + at, len - at); p[at] = alphabet[rnd() % (sizeof alphabet - 1)]; len++; } break;
          default: if (len) { memmove(p + at, p + at + 1, len - at - 1); len--; } break;
        }
      }
    }
    /* Copy to an exact-size buffer so an over-read is caught. */
    char *q = malloc(len ? len : 1);
    assert_non_null(q);
    memcpy(q, p, len);
    free(p);
    h2_story st;
    if (h2_story_parse(&st, q, len, err, sizeof err) == 0) {
      parsed++;
      h2_story_free(&st);
    } else {
      failed++;
      if (strncmp(err, "line ", 5) != 0) fail_msg("unpositioned message: %s", err);
    }
    free(q);
  }
  assert_true(parsed > 0);
  assert_true(failed > 0);
}

static int stories_equal(const h2_story *a, const h2_story *b) {
  if (a->num_cases != b->num_cases) return 0;
  if (!a->description != !b->description) return 0;
  if (a->description && strcmp(a->description, b->description)) return 0;
  if (!a->context != !b->context) return 0;
  if (a->context && strcmp(a->context, b->context)) return 0;
  for (size_t i = 0; i < a->num_cases; i++) {
    const h2_story_case *x = &a->cases[i], *y = &b->cases[i];
    if (x->has_seqno != y->has_seqno || x->seqno != y->seqno) return 0;
    if (x->has_table_size != y->has_table_size || x->header_table_size != y->header_table_size) return 0;
    if (x->has_wire != y->has_wire || x->wire_len != y->wire_len) return 0;
    if (x->wire_len && memcmp(x->wire, y->wire, x->wire_len)) return 0;
    if (x->num_fields != y->num_fields) return 0;
    for (size_t j = 0; j < x->num_fields; j++) {
      const h2_story_field *f = &x->fields[j], *g = &y->fields[j];
      if (f->name_len != g->name_len || memcmp(f->name, g->name, f->name_len)) return 0;
      if (f->value_len != g->value_len || memcmp(f->value, g->value, f->value_len)) return 0;
    }
  }
  return 1;
}

static char *write_to_string(const h2_story *s, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  assert_non_null(f);
  assert_int_equal(h2_story_write(f, s), 0);
  assert_int_equal(fclose(f), 0);
  return buf;
}

static void test_write_read_round_trip(void **state) {
  (void)state;
  h2_story a, b;
  char err[256];
  const char *j =
      "{\"description\": \"q\\\"\\\\\\n\\u0001\\u007f\", \"cases\": ["
      "{\"seqno\": 7, \"header_table_size\": 0, \"wire\": \"00ff\", \"headers\": "
      "[{\"n\\u0000\": \"\\t\\u00e9\\ud83d\\ude00/\"}, {\"\": \"\"}]},"
      "{\"headers\": []}]}";
  assert_int_equal(parse(&a, j, err, sizeof err), 0);
  size_t len;
  char *out = write_to_string(&a, &len);
  assert_int_equal(h2_story_parse(&b, out, len, err, sizeof err), 0);
  assert_true(stories_equal(&a, &b));
  free(out);
  h2_story_free(&b);
  h2_story_free(&a);

  /* Our good sample, and an empty story. */
  assert_int_equal(parse(&a, good, err, sizeof err), 0);
  out = write_to_string(&a, &len);
  assert_int_equal(h2_story_parse(&b, out, len, err, sizeof err), 0);
  assert_true(stories_equal(&a, &b));
  free(out);
  h2_story_free(&b);
  h2_story_free(&a);
  assert_int_equal(parse(&a, "{\"cases\": []}", err, sizeof err), 0);
  out = write_to_string(&a, &len);
  assert_int_equal(h2_story_parse(&b, out, len, err, sizeof err), 0);
  assert_true(stories_equal(&a, &b));
  free(out);
  h2_story_free(&b);
  h2_story_free(&a);
}

static void test_write_string_escaping(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  /* control bytes, a valid 2-byte sequence, a stray continuation byte,
   * a truncated 3-byte sequence, DEL. */
  assert_int_equal(h2_story_write_string(f, "a\x01\"\\\xc3\xa9\x80\xe2\x82\x7f", 10), 0);
  fclose(f);
  assert_string_equal(buf, "\"a\\u0001\\\"\\\\\xc3\xa9\\u0080\\u00e2\\u0082\\u007f\"");
  free(buf);
}

static void test_load_errors(void **state) {
  (void)state;
  h2_story s;
  char err[512];
  assert_int_equal(h2_story_load(&s, "/nonexistent/story.json", err, sizeof err), -1);
  assert_non_null(strstr(err, "/nonexistent/story.json: No such file"));
  char path[] = "/tmp/test_story_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  fputs("{\"cases\": [\n{\"headers\": [{\"a\": 1}]}]}", f);
  fclose(f);
  assert_int_equal(h2_story_load(&s, path, err, sizeof err), -1);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "line 2, column 20: a header value must be a string"));
  remove(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_good),
      cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_bom_and_blanks),
      cmocka_unit_test(test_prefixes_and_mutations),
      cmocka_unit_test(test_random_damage),
      cmocka_unit_test(test_write_read_round_trip),
      cmocka_unit_test(test_write_string_escaping),
      cmocka_unit_test(test_load_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
