/* test_prio_rfc9218.c: RFC 9218 extensible priorities in the scheduler
 * (h2core/h2_prio.h): the Priority field parser (table-driven, __LINE__,
 * every prefix, random junk), urgency/incremental ordering, PRIORITY_UPDATE
 * against the request header, switching between tree and RFC 9218 mode,
 * and the urgency buckets' memory (allocated on demand, a failed switch
 * stays in tree mode). The RFC 7540 tree: test_prio.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2_prio.h"
#include "test_prio_util.h"

/* ---- RFC 9218 field parsing ------------------------------------------------------ */

static void test_parse_field(void **state) {
  (void)state;
  static const struct {
    int line;
    const char *in;
    int ok; /* dictionary accepted */
    int u, i;
  } v[] = {
      {__LINE__, "", 1, 3, 0},
      {__LINE__, "u=0", 1, 0, 0},
      {__LINE__, "u=7", 1, 7, 0},
      {__LINE__, "u=5, i", 1, 5, 1},
      {__LINE__, "i", 1, 3, 1},
      {__LINE__, "i=?1", 1, 3, 1},
      {__LINE__, "i=?0", 1, 3, 0},
      {__LINE__, "i, i=?0", 1, 3, 0},         /* the last member wins */
      {__LINE__, "u=1, u=6", 1, 6, 0},
      {__LINE__, "u=2, u=9", 1, 3, 0},        /* last u out of range: ignored */
      {__LINE__, "u=9", 1, 3, 0},             /* out of range */
      {__LINE__, "u=8, i", 1, 3, 1},
      {__LINE__, "u=-1", 1, 3, 0},
      {__LINE__, "u=1.5", 1, 3, 0},           /* decimal: wrong type */
      {__LINE__, "u=\"1\"", 1, 3, 0},         /* string: wrong type */
      {__LINE__, "u=?1", 1, 3, 0},            /* boolean: wrong type */
      {__LINE__, "u", 1, 3, 0},               /* bare key = true: wrong type */
      {__LINE__, "u=(1 2)", 1, 3, 0},         /* inner list */
      {__LINE__, "i=1", 1, 3, 0},             /* integer for i: ignored */
      {__LINE__, "i=tok", 1, 3, 0},
      {__LINE__, "u=1;x=2", 1, 1, 0},         /* parameters skipped */
      {__LINE__, "u=1;x;y=?0;z=\"s\", i;p=:AQID:", 1, 1, 1},
      {__LINE__, "i;u=0", 1, 3, 1},           /* u here is a parameter of i */
      {__LINE__, "u=4,i", 1, 4, 1},
      {__LINE__, "  u=4 ,\ti  ", 1, 4, 1},    /* OWS */
      {__LINE__, "\tu=2", 1, 2, 0},
      {__LINE__, "foo=bar, u=2, baz=(a b;c=1), x=:aGk=:, *k=1.25", 1, 2, 0},
      {__LINE__, "ux=1, iy", 1, 3, 0},        /* not the keys u / i */
      {__LINE__, "u=000000000000005", 1, 5, 0},
      {__LINE__, "u=0000000000000005", 0, 3, 0}, /* 16 digits: invalid integer */
      {__LINE__, "u=123456789012.123", 1, 3, 0},
      {__LINE__, "u=1234567890123.1", 0, 3, 0},
      {__LINE__, "u=1.1234", 0, 3, 0},
      {__LINE__, "u=1.", 0, 3, 0},
      {__LINE__, "u=2,", 0, 3, 0},            /* trailing comma */
      {__LINE__, "u=2,,i", 0, 3, 0},
      {__LINE__, ",u=2", 0, 3, 0},
      {__LINE__, "u=2 i", 0, 3, 0},           /* missing comma */
      {__LINE__, "U=2", 0, 3, 0},             /* keys are lowercase */
      {__LINE__, "u =2", 0, 3, 0},
      {__LINE__, "u= 2", 0, 3, 0},
      {__LINE__, "u=2x", 0, 3, 0},
      {__LINE__, "u=-", 0, 3, 0},
      {__LINE__, "u=\"abc", 0, 3, 0},         /* unterminated string */
      {__LINE__, "u=\"a\\x\"", 0, 3, 0},      /* bad escape */
      {__LINE__, "u=:abc", 0, 3, 0},          /* unterminated binary */
      {__LINE__, "u=:a$c:", 0, 3, 0},
      {__LINE__, "i=?2", 0, 3, 0},
      {__LINE__, "i=?", 0, 3, 0},
      {__LINE__, "u=(1 2", 0, 3, 0},
      {__LINE__, "u=(1,2)", 0, 3, 0},
      {__LINE__, "u=1;", 0, 3, 0},
      {__LINE__, "u=1;X=1", 0, 3, 0},
      {__LINE__, "u=@123", 0, 3, 0},
      {__LINE__, "\x80", 0, 3, 0},
      {__LINE__, "u=1, i, \x01", 0, 3, 0},
      {__LINE__, "u=0\r\n", 0, 3, 0},
  };
  for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
    uint8_t u = 99;
    int inc = 99;
    int ok = h2_prio_parse_field((const uint8_t *)v[k].in, strlen(v[k].in), &u, &inc);
    if (ok != v[k].ok || u != v[k].u || inc != v[k].i)
      fail_msg("line %d: \"%s\": ok %d u %u i %d, want ok %d u %d i %d", v[k].line, v[k].in, ok, u, inc,
               v[k].ok, v[k].u, v[k].i);
    /* Every prefix parses without reading past its end (ASan checks). */
    size_t len = strlen(v[k].in);
    for (size_t n = 0; n < len; n++) {
      uint8_t *copy = malloc(n ? n : 1);
      assert_non_null(copy);
      memcpy(copy, v[k].in, n);
      int r = h2_prio_parse_field(copy, n, &u, &inc);
      assert_true(r == 0 || r == 1);
      assert_true(u <= 7 && (inc == 0 || inc == 1));
      free(copy);
    }
  }
  uint8_t u;
  int inc;
  assert_int_equal(h2_prio_parse_field(NULL, 0, &u, &inc), 1);
  assert_int_equal(u, 3);
}

static void test_field_junk(void **state) {
  (void)state;
  uint32_t seed = 12345;
  uint8_t buf[64];
  static const char alphabet[] = "ui=?01234567,;() \t\"\\:*a-.x";
  for (int iter = 0; iter < 20000; iter++) {
    seed = seed * 1103515245u + 12345u;
    size_t n = (seed >> 16) % sizeof buf;
    for (size_t k = 0; k < n; k++) {
      seed = seed * 1103515245u + 12345u;
      buf[k] = (iter & 1) ? (uint8_t)(seed >> 16) : (uint8_t)alphabet[(seed >> 16) % (sizeof alphabet - 1)];
    }
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    uint8_t u = 99;
    int inc = 99;
    int ok = h2_prio_parse_field(copy, n, &u, &inc);
    assert_true(ok == 0 || ok == 1);
    assert_true(u <= 7);
    assert_true(inc == 0 || inc == 1);
    if (!ok) assert_true(u == 3 && inc == 0);
    free(copy);
  }
}

/* ---- RFC 9218 ordering -------------------------------------------------------------- */

static void test_rfc9218_order(void **state) {
  (void)state;
  h2_prio_config cfg = {0, 0, H2_PRIO_MODE_RFC9218};
  h2_prio *p = h2_prio_new(NULL, &cfg);
  static const struct {
    uint32_t id;
    const char *field;
  } streams[] = {
      {1, "u=3"}, {3, "u=1"}, {5, "u=3, i"}, {7, "i"}, {9, ""}, {11, "u=7"}, {13, "u=1, i"},
  };
  for (size_t k = 0; k < sizeof streams / sizeof streams[0]; k++) {
    h2_prio_spec s = spec(0, 200, 1); /* tree fields are ignored in this mode */
    assert_int_equal(h2_prio_open(p, streams[k].id, &s), 0);
    assert_int_equal(h2_prio_set_header(p, streams[k].id, (const uint8_t *)streams[k].field,
                                        strlen(streams[k].field)),
                     0);
    assert_int_equal(h2_prio_set_ready(p, streams[k].id, 1), 0);
  }
  EXPECT_NODE(p, 1, 0, 16);
  check_invariants(p);
  /* Urgency 1: non-incremental 3 first, to the end. */
  for (int k = 0; k < 3; k++) {
    assert_int_equal(h2_prio_next(p), 3);
    h2_prio_charge(p, 3, 1000);
  }
  assert_int_equal(h2_prio_set_ready(p, 3, 0), 0);
  assert_int_equal(h2_prio_next(p), 13);
  h2_prio_charge(p, 13, 1000);
  assert_int_equal(h2_prio_next(p), 13); /* alone in its round robin */
  assert_int_equal(h2_prio_close(p, 13), 0);
  /* Urgency 3: 1 then 9 one at a time (by id), then 5 and 7 alternating. */
  for (int k = 0; k < 3; k++) {
    assert_int_equal(h2_prio_next(p), 1);
    h2_prio_charge(p, 1, 1000);
  }
  assert_int_equal(h2_prio_set_ready(p, 1, 0), 0);
  assert_int_equal(h2_prio_next(p), 9);
  assert_int_equal(h2_prio_close(p, 9), 0);
  uint32_t want[] = {5, 7, 5, 7, 5, 7};
  for (size_t k = 0; k < 6; k++) {
    assert_int_equal(h2_prio_next(p), want[k]);
    h2_prio_charge(p, want[k], 1000);
  }
  /* A newly ready incremental stream joins at the back of the ring. */
  assert_int_equal(h2_prio_open(p, 15, NULL), 0);
  assert_int_equal(h2_prio_set_urgency(p, 15, 3, 1), 0);
  assert_int_equal(h2_prio_set_ready(p, 15, 1), 0);
  uint32_t want2[] = {5, 7, 15, 5, 7, 15};
  for (size_t k = 0; k < 6; k++) {
    assert_int_equal(h2_prio_next(p), want2[k]);
    h2_prio_charge(p, want2[k], 1000);
  }
  /* PRIORITY_UPDATE moves a ready stream to another bucket at once. */
  assert_int_equal(h2_prio_update_field(p, 11, (const uint8_t *)"u=0", 3), 0);
  assert_int_equal(h2_prio_next(p), 11);
  assert_int_equal(info(p, 11).urgency, 0);
  assert_int_equal(h2_prio_update_field(p, 11, (const uint8_t *)"u=7", 3), 0);
  assert_int_equal(h2_prio_next(p), 5);
  check_invariants(p);
  /* The only ready ones: the u=7 stream. */
  assert_int_equal(h2_prio_set_ready(p, 5, 0), 0);
  assert_int_equal(h2_prio_set_ready(p, 7, 0), 0);
  assert_int_equal(h2_prio_set_ready(p, 15, 0), 0);
  assert_int_equal(h2_prio_next(p), 11);
  assert_int_equal(h2_prio_set_ready(p, 11, 0), 0);
  assert_int_equal(h2_prio_next(p), 0);
  /* PRIORITY frames change nothing in this mode. */
  h2_prio_spec s = spec(1, 99, 1);
  assert_int_equal(h2_prio_set(p, 5, &s), 0);
  EXPECT_NODE(p, 5, 0, 16);
  check_invariants(p);
  h2_prio_free(p);
}

static void test_rfc9218_update_precedence(void **state) {
  (void)state;
  h2_prio_config cfg = {0, 0, H2_PRIO_MODE_RFC9218};
  h2_prio *p = h2_prio_new(NULL, &cfg);
  /* PRIORITY_UPDATE before the request: remembered, wins over the header. */
  assert_int_equal(h2_prio_update_field(p, 5, (const uint8_t *)"u=1, i", 6), 0);
  assert_int_equal(info(p, 5).state, H2_PRIO_STATE_IDLE);
  assert_int_equal(h2_prio_open(p, 5, NULL), 0);
  assert_int_equal(h2_prio_set_header(p, 5, (const uint8_t *)"u=6", 3), 0);
  h2_prio_info in = info(p, 5);
  assert_int_equal(in.urgency, 1);
  assert_int_equal(in.incremental, 1);
  /* Header alone; a later update overrides it. */
  assert_int_equal(h2_prio_open(p, 7, NULL), 0);
  assert_int_equal(h2_prio_set_header(p, 7, (const uint8_t *)"u=6", 3), 0);
  assert_int_equal(info(p, 7).urgency, 6);
  assert_int_equal(h2_prio_update_field(p, 7, (const uint8_t *)"junk!!", 6), 0);
  assert_int_equal(info(p, 7).urgency, 3); /* junk -> defaults */
  assert_int_equal(h2_prio_set_header(p, 9, (const uint8_t *)"u=1", 3), H2_ERR_NOT_FOUND);
  assert_int_equal(h2_prio_set_urgency(p, 7, 8, 0), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_prio_set_urgency(p, 0, 1, 0), H2_ERR_INVALID_ARG);
  check_invariants(p);
  h2_prio_free(p);
}

static void test_mode_switch(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  h2_prio_spec s = spec(0, 16, 0);
  open_ready(p, 1, &s);
  s = spec(1, 16, 0);
  open_ready(p, 3, &s);
  assert_int_equal(h2_prio_set_urgency(p, 3, 0, 0), 0);
  assert_int_equal(h2_prio_next(p), 1); /* tree: the parent first */
  assert_int_equal(h2_prio_set_mode(p, H2_PRIO_MODE_RFC9218), 0);
  assert_int_equal(h2_prio_mode(p), H2_PRIO_MODE_RFC9218);
  check_invariants(p);
  assert_int_equal(h2_prio_next(p), 3); /* 9218: urgency 0 first */
  assert_int_equal(h2_prio_set_mode(p, H2_PRIO_MODE_RFC9218), 0);
  assert_int_equal(h2_prio_set_mode(p, H2_PRIO_MODE_TREE), 0);
  check_invariants(p);
  assert_int_equal(h2_prio_next(p), 1);
  h2_prio_free(p);
}

/* The RFC 9218 urgency buckets exist only in that mode: entering it costs
 * memory (and can fail cleanly), leaving it gives the memory back, and a
 * scheduler created in RFC 9218 mode has them from the start. */
static void test_buckets_on_demand(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  size_t tree = h2_prio_memory(p);
  assert_int_equal(h2_prio_set_mode(p, H2_PRIO_MODE_RFC9218), 0);
  size_t rfc = h2_prio_memory(p);
  assert_true(rfc > tree);
  assert_int_equal(h2_prio_set_mode(p, H2_PRIO_MODE_TREE), 0);
  assert_int_equal(h2_prio_memory(p), tree);
  h2_prio_free(p);

  h2_prio_config cfg = {0, 0, H2_PRIO_MODE_RFC9218};
  p = h2_prio_new(NULL, &cfg);
  assert_non_null(p);
  assert_int_equal(h2_prio_memory(p), rfc);
  h2_prio_free(p);

  /* out of memory when switching: H2_ERR_NOMEM, still the tree, still usable */
  fail_alloc f = {{fa_malloc, fa_realloc, fa_free, NULL}, 1, 0, 0, 0};
  f.mem.user = &f;
  p = h2_prio_new(&f.mem, NULL); /* allocation 0 */
  assert_non_null(p);
  assert_int_equal(h2_prio_set_mode(p, H2_PRIO_MODE_RFC9218), H2_ERR_NOMEM);
  assert_int_equal(f.failed, 1);
  assert_int_equal(h2_prio_mode(p), H2_PRIO_MODE_TREE);
  assert_int_equal(h2_prio_memory(p), tree);
  h2_prio_spec s = spec(0, 16, 0);
  open_ready(p, 1, &s);
  assert_int_equal(h2_prio_next(p), 1);
  h2_prio_free(p);
  assert_int_equal(f.live, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_field),
      cmocka_unit_test(test_field_junk),
      cmocka_unit_test(test_rfc9218_order),
      cmocka_unit_test(test_rfc9218_update_precedence),
      cmocka_unit_test(test_mode_switch),
      cmocka_unit_test(test_buckets_on_demand),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
