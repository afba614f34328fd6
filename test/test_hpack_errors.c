/* test_hpack_errors.c: the HPACK decoder's error paths (one per error),
 * size update rules, the soft limits and the HPACK bomb, never-indexed
 * fields, encoder atomicity, random round trips in random pieces, and
 * failing allocations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2_hpack.h"
#include "test_hpack_util.h"

/* ---- one test per decoder error ----------------------------------------- */

static const struct {
  int line;
  uint32_t settings; /* 0: default 4096 */
  const char *hex;
  int err;
} bad[] = {
    {__LINE__, 0, "41", H2_ERR_HPACK_TRUNCATED},                 /* literal, no value */
    {__LINE__, 0, "1f", H2_ERR_HPACK_TRUNCATED},                 /* index cut */
    {__LINE__, 0, "82ff", H2_ERR_HPACK_TRUNCATED},
    {__LINE__, 0, "000161", H2_ERR_HPACK_TRUNCATED},             /* no value header */
    {__LINE__, 0, "ff8080808010", H2_ERR_HPACK_INT_OVERFLOW},    /* 2^32 + 127 */
    {__LINE__, 0, "ff8080808080808001", H2_ERR_HPACK_INT_OVERFLOW}, /* too many octets */
    {__LINE__, 0, "007f8080808080", H2_ERR_HPACK_INT_OVERFLOW},  /* string length */
    {__LINE__, 0, "80", H2_ERR_HPACK_INDEX_ZERO},
    {__LINE__, 0, "8280", H2_ERR_HPACK_INDEX_ZERO},
    {__LINE__, 0, "be", H2_ERR_HPACK_INDEX_RANGE},               /* 62, empty table */
    {__LINE__, 0, "7e0161", H2_ERR_HPACK_INDEX_RANGE},           /* literal, name 62 */
    {__LINE__, 0, "ff80808080 0f", H2_ERR_HPACK_INDEX_RANGE},
    {__LINE__, 0, "400178017940017801797f01", H2_ERR_HPACK_INDEX_RANGE}, /* 2 entries, idx 64 */
    {__LINE__, 0, "0001618118", H2_ERR_HPACK_HUFFMAN_PADDING},   /* 'a' + 000 */
    {__LINE__, 0, "000161821fff", H2_ERR_HPACK_HUFFMAN_PADDING}, /* 11 bits of padding */
    {__LINE__, 0, "0081ff0161", H2_ERR_HPACK_HUFFMAN_PADDING},   /* in the name */
    {__LINE__, 0, "00016184ffffffff", H2_ERR_HPACK_HUFFMAN_EOS},
    {__LINE__, 0, "4084fffffffc0161", H2_ERR_HPACK_HUFFMAN_EOS},
    {__LINE__, 0, "3fe21f", H2_ERR_HPACK_SIZE_UPDATE_TOO_LARGE}, /* 4097 */
    {__LINE__, 100, "3f46", H2_ERR_HPACK_SIZE_UPDATE_TOO_LARGE}, /* 101 > 100 */
    {__LINE__, 0, "8220", H2_ERR_HPACK_SIZE_UPDATE_MISPLACED},
    {__LINE__, 0, "400178017920", H2_ERR_HPACK_SIZE_UPDATE_MISPLACED},
    {__LINE__, 100, "82", H2_ERR_HPACK_SIZE_UPDATE_MISPLACED},   /* lowered, no update */
    {__LINE__, 100, "", H2_ERR_HPACK_SIZE_UPDATE_MISPLACED},
    {__LINE__, 0, "000161056162", H2_ERR_HPACK_STRING_TOO_LONG},
    {__LINE__, 0, "0005616263", H2_ERR_HPACK_STRING_TOO_LONG},
    {__LINE__, 0, "0001618561", H2_ERR_HPACK_STRING_TOO_LONG},   /* Huffman value cut */
    {__LINE__, 0, "007f00", H2_ERR_HPACK_STRING_TOO_LONG},       /* 127, nothing */
    {__LINE__, 0, "007fffff03", H2_ERR_HPACK_STRING_TOO_LONG},   /* over bound, skipping */
};

static void strip_spaces(const char *in, char *out) {
  for (; *in; in++)
    if (*in != ' ') *out++ = *in;
  *out = 0;
}

/* test_decoder_error runs the rows of |bad| expecting error *state (one
 * cmocka test per error code, see main). */
static void test_decoder_error(void **state) {
  int want = (int)(intptr_t)*state;
  size_t rows = 0;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (bad[i].err != want) continue;
    rows++;
    for (int bytewise = 0; bytewise < 2; bytewise++) {
      char hex[128];
      uint8_t in[64];
      strip_spaces(bad[i].hex, hex);
      size_t n = hex_to_bin(hex, in, sizeof in);
      h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
      assert_non_null(d);
      if (bad[i].settings) assert_int_equal(h2_hpack_decoder_set_max_table_size(d, bad[i].settings), 0);
      collector col;
      collector_init(&col);
      int rc = feed(d, in, n, bytewise, &col);
      if (rc != bad[i].err)
        fail_msg("line %d (%s): got %d (%s) want %s", bad[i].line, bytewise ? "bytewise" : "whole", rc,
                 h2_strerror(rc), h2_strerror(bad[i].err));
      /* Hard errors leave the decoder unusable. */
      assert_int_equal(h2_hpack_decode(d, (const uint8_t *)"\x82", 1, 1, collect_cb, &col), H2_ERR_STATE);
      collector_free(&col);
      h2_hpack_decoder_free(d);
    }
  }
  assert_true(rows >= 2);
}

static void test_decoder_bad_args(void **state) {
  (void)state;
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  assert_int_equal(h2_hpack_decode(d, NULL, 1, 1, NULL, NULL), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_hpack_decode(d, NULL, 0, 1, NULL, NULL), 0);          /* empty block */
  assert_int_equal(h2_hpack_decode(d, (const uint8_t *)"\x82\x84", 2, 1, NULL, NULL), 2);
  h2_hpack_decoder_free(d);
  h2_hpack_decoder_free(NULL);
  h2_hpack_encoder_free(NULL);
}

static int cancel_cb(void *user, const h2_hpack_field *f) {
  (void)f;
  int *calls = user;
  return ++*calls == 2 ? H2_ERR_CANCEL : 0;
}

static void test_callback_error(void **state) {
  (void)state;
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  int calls = 0;
  assert_int_equal(h2_hpack_decode(d, (const uint8_t *)"\x82\x84\x86", 3, 1, cancel_cb, &calls), H2_ERR_CANCEL);
  assert_int_equal(calls, 2);
  assert_int_equal(h2_hpack_decode(d, (const uint8_t *)"\x82", 1, 1, cancel_cb, &calls), H2_ERR_STATE);
  h2_hpack_decoder_free(d);
}

/* ---- size updates ------------------------------------------------------- */

static int decode_hex(h2_hpack_decoder *d, const char *hex, int end, collector *col) {
  uint8_t in[512];
  size_t n = hex_to_bin(hex, in, sizeof in);
  return h2_hpack_decode(d, in, n, end, collect_cb, col);
}

static void test_size_update_rules(void **state) {
  (void)state;
  collector col;
  collector_init(&col);
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  /* Two updates at the start of a block, then a field. */
  assert_int_equal(decode_hex(d, "203fe11f82", 1, &col), 1);
  assert_int_equal(h2_hpack_decoder_table_max(d), 4096);
  /* An update to 0 empties the table. */
  assert_int_equal(decode_hex(d, "40017801794001790178", 1, &col), 2);
  assert_int_equal(h2_hpack_decoder_table_count(d), 2);
  assert_int_equal(h2_hpack_decoder_table_size(d), 34 + 34);
  assert_int_equal(decode_hex(d, "20", 1, &col), 0);
  assert_int_equal(h2_hpack_decoder_table_count(d), 0);
  assert_int_equal(h2_hpack_decoder_table_size(d), 0);
  /* With max 0 a literal with indexing is delivered but not stored. */
  assert_int_equal(decode_hex(d, "4001780179", 1, &col), 1);
  assert_int_equal(h2_hpack_decoder_table_count(d), 0);
  /* An update shrinking the table evicts the oldest entries. */
  assert_int_equal(decode_hex(d, "3f4540017801794001790179", 1, &col), 2); /* max 100 */
  assert_int_equal(h2_hpack_decoder_table_count(d), 2);
  assert_int_equal(decode_hex(d, "3f0382", 1, &col), 1); /* max 34: keeps the newest */
  assert_int_equal(h2_hpack_decoder_table_count(d), 1);
  h2_hpack_field f;
  assert_int_equal(h2_hpack_decoder_table_get(d, 1, &f), 0);
  assert_memory_equal(f.name, "y", 1);
  assert_int_equal(h2_hpack_decoder_table_get(d, 2, &f), H2_ERR_NOT_FOUND);
  /* An update is fine at the start of a block fed in pieces... */
  assert_int_equal(decode_hex(d, "3f", 0, &col), 0);
  assert_int_equal(decode_hex(d, "e11f", 0, &col), 0);
  assert_int_equal(h2_hpack_decoder_set_max_table_size(d, 8192), H2_ERR_STATE); /* mid-block */
  assert_int_equal(decode_hex(d, "82", 1, &col), 1);
  /* ...but not after a field, even in another piece. */
  assert_int_equal(decode_hex(d, "82", 0, &col), 1);
  assert_int_equal(decode_hex(d, "20", 1, &col), H2_ERR_HPACK_SIZE_UPDATE_MISPLACED);
  h2_hpack_decoder_free(d);

  /* Lowering our limit requires the peer's update; raising does not. */
  d = h2_hpack_decoder_new(NULL);
  assert_int_equal(h2_hpack_decoder_set_max_table_size(d, 8192), 0);
  assert_int_equal(decode_hex(d, "82", 1, &col), 1);
  assert_int_equal(h2_hpack_decoder_table_max(d), 4096);
  assert_int_equal(decode_hex(d, "3fe13f82", 1, &col), 1); /* 8192 now allowed */
  assert_int_equal(h2_hpack_decoder_table_max(d), 8192);
  assert_int_equal(h2_hpack_decoder_set_max_table_size(d, 1024), 0);
  assert_int_equal(decode_hex(d, "3fe10782", 1, &col), 1); /* 1024 */
  assert_int_equal(decode_hex(d, "82", 1, &col), 1);       /* no update needed any more */
  h2_hpack_decoder_free(d);
  collector_free(&col);
}

static void expect_encode(h2_hpack_encoder *e, const char *want_hex) {
  uint8_t out[64];
  char hex[130];
  h2_cbb b;
  h2_cbb_init(&b, out, sizeof out);
  h2_hpack_field f = {":method", 7, "GET", 3, 0};
  int n = h2_hpack_encode(e, &b, &f, 1);
  assert_true(n > 0);
  bin_to_hex(out, (size_t)n, hex);
  assert_string_equal(hex, want_hex);
}

static void test_encoder_size_updates(void **state) {
  (void)state;
  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  expect_encode(e, "82");
  assert_int_equal(h2_hpack_encoder_set_max_table_size(e, 4096), 0); /* no change */
  expect_encode(e, "82");
  h2_hpack_encoder_set_max_table_size(e, 100);
  h2_hpack_encoder_set_max_table_size(e, 200);
  expect_encode(e, "3f453fa90182"); /* smallest (100), then final (200) */
  assert_int_equal(h2_hpack_encoder_table_max(e), 200);
  h2_hpack_encoder_set_max_table_size(e, 0);
  h2_hpack_encoder_set_max_table_size(e, 65536); /* capped by the local limit 4096 */
  expect_encode(e, "203fe11f82");
  h2_hpack_encoder_set_max_table_size(e, 300);
  expect_encode(e, "3f8d0282"); /* only one update when the final is the smallest */
  assert_int_equal(h2_hpack_encoder_set_table_limit(e, 100), 0);
  expect_encode(e, "3f4582");
  h2_hpack_encoder_set_max_table_size(e, 1 << 16); /* still capped at 100 */
  h2_hpack_encoder_set_table_limit(e, 1 << 20);
  expect_encode(e, "3fe1ff0382");
  h2_hpack_encoder_free(e);
}

/* ---- soft limits, the HPACK bomb ----------------------------------------- */

/* bomb_block: one 4000-octet entry, then |refs| references to it. */
static size_t bomb_block(uint8_t *out, size_t refs) {
  size_t n = 0;
  out[n++] = 0x40;
  out[n++] = 0x01;
  out[n++] = 'x';
  out[n++] = 0x7f; /* 4000 = 127 + 3873 */
  out[n++] = 0xa1;
  out[n++] = 0x1e;
  memset(out + n, 'a', 4000);
  n += 4000;
  memset(out + n, 0xbe, refs);
  return n + refs;
}

static void test_hpack_bomb(void **state) {
  (void)state;
  size_t refs = 20000;
  uint8_t *in = malloc(4006 + refs);
  size_t n = bomb_block(in, refs);
  for (int bytewise = 0; bytewise < 2; bytewise++) {
    fail_mem fm;
    fail_mem_init(&fm, -1);
    h2_hpack_decoder *d = h2_hpack_decoder_new(&fm.mem);
    collector col;
    collector_init(&col);
    int rc = feed(d, in, n, bytewise, &col);
    assert_int_equal(rc, H2_ERR_HPACK_LIST_TOO_LARGE);
    /* 65536 / (1 + 4000 + 32) = 16 fields fit. */
    assert_int_equal(col.n, 16);
    /* Only the table (and its compaction slack) was allocated. */
    if (fm.peak > 16384) fail_msg("peak %zu octets", fm.peak);
    collector_free(&col);
    /* The decoder is still in sync and usable. */
    assert_int_equal(decode_hex(d, "be82", 1, &col), 2);
    assert_int_equal(col.len[0], 4003);
    collector_free(&col);
    h2_hpack_decoder_free(d);
    assert_int_equal(fm.live, 0);
  }
  free(in);
}

static void test_too_many_fields(void **state) {
  (void)state;
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  h2_hpack_decoder_set_limits(d, 65536, 5, 65536);
  collector col;
  collector_init(&col);
  /* The 7th representation adds an entry: it must still happen. */
  assert_int_equal(decode_hex(d, "82828282828282400178017982", 1, &col), H2_ERR_HPACK_TOO_MANY_FIELDS);
  assert_int_equal(col.n, 5);
  assert_int_equal(h2_hpack_decoder_table_count(d), 1);
  collector_free(&col);
  assert_int_equal(decode_hex(d, "be", 1, &col), 1);
  assert_string_equal(col.f[0], "x: y");
  collector_free(&col);
  h2_hpack_decoder_free(d);
}

static void test_list_too_large(void **state) {
  (void)state;
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  h2_hpack_decoder_set_limits(d, 100, 100, 100); /* :method GET = 42 */
  collector col;
  collector_init(&col);
  assert_int_equal(decode_hex(d, "8282", 1, &col), 2);
  collector_free(&col);
  assert_int_equal(decode_hex(d, "828282", 1, &col), H2_ERR_HPACK_LIST_TOO_LARGE);
  assert_int_equal(col.n, 2);
  collector_free(&col);
  assert_int_equal(decode_hex(d, "82", 1, &col), 1); /* counted per block */
  collector_free(&col);
  h2_hpack_decoder_free(d);
}

static void test_field_too_long(void **state) {
  (void)state;
  for (int bytewise = 0; bytewise < 2; bytewise++) {
    h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
    h2_hpack_decoder_set_limits(d, 65536, 100, 10);
    collector col;
    collector_init(&col);
    uint8_t in[64];
    size_t n = hex_to_bin("400a637573746f6d2d6b65790d637573746f6d2d686561646572", in, sizeof in);
    assert_int_equal(feed(d, in, n, bytewise, &col), H2_ERR_HPACK_FIELD_TOO_LONG);
    assert_int_equal(col.n, 0);
    assert_int_equal(h2_hpack_decoder_table_size(d), 55); /* still indexed */
    assert_int_equal(decode_hex(d, "be", 1, &col), H2_ERR_HPACK_FIELD_TOO_LONG);
    assert_int_equal(decode_hex(d, "82", 1, &col), 1);
    collector_free(&col);
    h2_hpack_decoder_free(d);
  }
}

/* Strings over max(field limit, SETTINGS size) are skipped, not held. */
static void test_oversized_strings_skipped(void **state) {
  (void)state;
  static const struct {
    int line;
    int name_over; /* the name, not the value, is the long string */
    int indexing;
  } v[] = {{__LINE__, 0, 1}, {__LINE__, 1, 1}, {__LINE__, 0, 0}, {__LINE__, 1, 0}};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    for (int bytewise = 0; bytewise < 2; bytewise++) {
      fail_mem fm;
      fail_mem_init(&fm, -1);
      h2_hpack_decoder *d = h2_hpack_decoder_new(&fm.mem);
      assert_int_equal(h2_hpack_decoder_set_max_table_size(d, 64), 0);
      h2_hpack_decoder_set_limits(d, 65536, 100, 16);
      collector col;
      collector_init(&col);
      /* max 64, one small entry x: y. */
      assert_int_equal(decode_hex(d, "3f214001780179", 1, &col), 1);
      assert_int_equal(h2_hpack_decoder_table_count(d), 1);
      collector_free(&col);
      uint8_t in[20000];
      size_t n = 0;
      in[n++] = v[i].indexing ? 0x40 : 0x00;
      size_t big = 15000;
      if (v[i].name_over) {
        in[n++] = 0x7f;
        in[n++] = (uint8_t)(0x80 | ((big - 127) & 0x7f));
        in[n++] = (uint8_t)((big - 127) >> 7);
        memset(in + n, 'n', big);
        n += big;
        in[n++] = 0x01;
        in[n++] = 'v';
      } else {
        in[n++] = 0x01;
        in[n++] = 'n';
        in[n++] = 0x7f;
        in[n++] = (uint8_t)(0x80 | ((big - 127) & 0x7f));
        in[n++] = (uint8_t)((big - 127) >> 7);
        memset(in + n, 'v', big);
        n += big;
      }
      in[n++] = 0x82;
      int rc = feed(d, in, n, bytewise, &col);
      if (rc != H2_ERR_HPACK_FIELD_TOO_LONG) fail_msg("line %d: %d", v[i].line, rc);
      assert_int_equal(col.n, 0);
      /* An entry larger than the table empties it; without indexing it stays. */
      assert_int_equal(h2_hpack_decoder_table_count(d), v[i].indexing ? 0 : 1);
      if (fm.peak > 4096) fail_msg("line %d: peak %zu", v[i].line, fm.peak);
      assert_int_equal(decode_hex(d, "82", 1, &col), 1);
      collector_free(&col);
      h2_hpack_decoder_free(d);
    }
  }
}

/* The documented worst case: a representation cut into octets whose
 * Huffman name and value could each decode to half of B: both are held
 * coded until complete; memory stays under 2T + 6B + 1 KiB. */
static void test_decoder_memory_bound(void **state) {
  (void)state;
  const size_t T = 4096, B = 4096;
  size_t enc = 2047 * 30 / 8 + 1; /* decodes to at least 2047 octets */
  uint8_t *in = malloc(2 * enc + 16);
  size_t n = 0;
  in[n++] = 0x40;
  for (int s = 0; s < 2; s++) {
    in[n++] = 0xff; /* Huffman, 127 + ... */
    in[n++] = (uint8_t)(0x80 | ((enc - 127) & 0x7f));
    in[n++] = (uint8_t)((enc - 127) >> 7);
    memset(in + n, 0x2a, enc); /* valid codes, whatever they decode to */
    n += enc;
  }
  for (int bytewise = 0; bytewise < 2; bytewise++) {
    fail_mem fm;
    fail_mem_init(&fm, -1);
    h2_hpack_decoder *d = h2_hpack_decoder_new(&fm.mem);
    h2_hpack_decoder_set_limits(d, 65536, 100, (uint32_t)B);
    collector col;
    collector_init(&col);
    int rc = feed(d, in, n, bytewise, &col);
    assert_true(rc < 0); /* too long (soft) or a Huffman error (hard) */
    if (fm.peak > 2 * T + 6 * B + 1024) fail_msg("peak %zu", fm.peak);
    if (bytewise && fm.peak < 2 * enc) fail_msg("peak %zu: the case was not reached", fm.peak);
    collector_free(&col);
    h2_hpack_decoder_free(d);
    assert_int_equal(fm.live, 0);
  }
  free(in);
}

/* ---- never indexed ------------------------------------------------------ */

static void test_never_indexed_roundtrip(void **state) {
  (void)state;
  static const char long_cookie[] = "session=0123456789abcdef0123";
  h2_hpack_field fs[] = {
      {"authorization", 13, "Basic Zm9vOmJhcg==", 18, 0},
      {"cookie", 6, "a=b", 3, 0},
      {"cookie", 6, long_cookie, sizeof long_cookie - 1, 0},
      {"x-secret", 8, "v", 1, H2_HPACK_NEVER_INDEXED},
      {"proxy-authorization", 19, "x", 1, 0},
      {"x-plain", 7, "v", 1, H2_HPACK_NO_INDEX},
      {":method", 7, "GET", 3, H2_HPACK_NEVER_INDEXED}, /* even a static match */
  };
  uint32_t want[] = {H2_HPACK_NEVER_INDEXED, H2_HPACK_NEVER_INDEXED, 0, H2_HPACK_NEVER_INDEXED,
                     H2_HPACK_NEVER_INDEXED, H2_HPACK_NO_INDEX, H2_HPACK_NEVER_INDEXED};
  size_t n = sizeof fs / sizeof fs[0];
  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  for (int round = 0; round < 2; round++) {
    uint8_t out[512];
    h2_cbb b;
    h2_cbb_init(&b, out, sizeof out);
    int len = h2_hpack_encode(e, &b, fs, n);
    assert_true(len > 0);
    collector col;
    collector_init(&col);
    assert_int_equal(h2_hpack_decode(d, out, (size_t)len, 1, collect_cb, &col), (int)n);
    for (size_t i = 0; i < n; i++) {
      /* The second time the long cookie is an indexed field: flags 0. */
      if (col.flags[i] != want[i]) fail_msg("round %d field %zu flags %u", round, i, col.flags[i]);
      assert_int_equal(col.len[i], fs[i].name_len + 2 + fs[i].value_len);
    }
    collector_free(&col);
    /* Only the long cookie ever enters the tables. */
    assert_int_equal(h2_hpack_encoder_table_count(e), 1);
    assert_int_equal(h2_hpack_decoder_table_count(d), 1);
  }
  h2_hpack_decoder_free(d);
  h2_hpack_encoder_free(e);
}

/* ---- encoder ------------------------------------------------------------ */

static void test_encoder_atomic(void **state) {
  (void)state;
  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  h2_hpack_encoder_set_max_table_size(e, 1000); /* an update is pending */
  h2_hpack_field f[] = {{"x-a", 3, "1", 1, 0}, {"x-b", 3, "2", 1, 0}};
  size_t bound = h2_hpack_encode_bound(f, 2);
  assert_true(bound >= 12 + 2 * 4);
  uint8_t out[256];
  h2_cbb b;
  h2_cbb_init(&b, out, bound - 1);
  assert_int_equal(h2_hpack_encode(e, &b, f, 2), H2_ERR_BUF_TOO_SMALL);
  assert_int_equal(b.len, 0);
  assert_int_equal(h2_hpack_encoder_table_count(e), 0);
  h2_cbb_init(&b, out, bound);
  int n = h2_hpack_encode(e, &b, f, 2);
  assert_true(n > 0 && (size_t)n <= bound);
  assert_int_equal(out[0] & 0xe0, 0x20); /* the update was kept for this block */
  assert_int_equal(h2_hpack_encoder_table_count(e), 2);
  /* Bad arguments. */
  h2_hpack_field nul = {NULL, 3, "v", 1, 0};
  h2_cbb_init(&b, out, sizeof out);
  assert_int_equal(h2_hpack_encode(e, &b, &nul, 1), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_hpack_encode(e, &b, NULL, 1), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_hpack_encode(e, &b, NULL, 0), 0);
  h2_hpack_field huge = {"x", 1, "v", SIZE_MAX - 4, 0};
  assert_int_equal(h2_hpack_encode_bound(&huge, 1), SIZE_MAX);
  h2_hpack_encoder_free(e);
}

static void test_encoder_strategy(void **state) {
  (void)state;
  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  h2_hpack_encoder_set_huffman(e, H2_HPACK_HUFFMAN_NEVER);
  h2_hpack_field fs[] = {
      {":path", 5, "/a", 2, 0},                /* not indexed: 04 */
      {":authority", 10, "h", 1, 0},           /* indexed: 41 */
      {"content-length", 14, "1", 1, 0},       /* 0f 0d: name 28, no index */
      {"x", 1, "y", 1, H2_HPACK_NO_INDEX},     /* 00 01 78 01 79 */
      {":path", 5, "/b", 2, H2_HPACK_INDEX},   /* forced: 44 */
      {":authority", 10, "h", 1, 0},           /* now a dynamic hit: bf (idx 63) */
  };
  uint8_t out[256];
  h2_cbb b;
  h2_cbb_init(&b, out, sizeof out);
  int n = h2_hpack_encode(e, &b, fs, 6);
  char hex[600];
  bin_to_hex(out, (size_t)n, hex);
  assert_string_equal(hex, "04022f61410168" "0f0d0131" "0001780179" "44022f62" "bf");
  /* An entry over 3/4 of the table is not indexed unless forced. */
  char big[4000];
  memset(big, 'z', sizeof big);
  h2_hpack_field bf = {"x-big", 5, big, sizeof big, 0};
  uint8_t *bigout = malloc(8192);
  h2_cbb_init(&b, bigout, 8192);
  assert_true(h2_hpack_encode(e, &b, &bf, 1) > 0);
  assert_int_equal(h2_hpack_encoder_table_count(e), 2);
  bf.flags = H2_HPACK_INDEX;
  h2_cbb_init(&b, bigout, 8192);
  assert_true(h2_hpack_encode(e, &b, &bf, 1) > 0);
  assert_int_equal(h2_hpack_encoder_table_count(e), 2); /* evicted the oldest */
  h2_hpack_field got;
  assert_int_equal(h2_hpack_encoder_table_get(e, 2, &got), 0);
  assert_memory_equal(got.name, ":path", 5);
  assert_int_equal(h2_hpack_encoder_table_size(e), 4037 + 39);
  free(bigout);
  h2_hpack_encoder_free(e);
}

/* Many distinct names share hash buckets: every name is still found. */
static void test_encoder_many_names(void **state) {
  (void)state;
  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  h2_hpack_encoder_set_table_limit(e, 16384);
  h2_hpack_encoder_set_max_table_size(e, 16384);
  assert_int_equal(h2_hpack_decoder_set_max_table_size(d, 16384), 0);
  char names[300][8];
  uint8_t out[256];
  h2_cbb b;
  h2_cbb_init(&b, out, sizeof out);
  int len = h2_hpack_encode(e, &b, NULL, 0); /* just the size update */
  assert_int_equal(len, 3);
  assert_int_equal(h2_hpack_decode(d, out, (size_t)len, 1, NULL, NULL), 0);
  assert_int_equal(h2_hpack_decoder_table_max(d), 16384);
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 300; i++) {
      snprintf(names[i], sizeof names[i], "x-%d", i);
      /* Round 0 adds x-i: v; round 1 sends x-i: w, which must reuse the
       * name by index (0x0f...: literal without indexing, indexed name). */
      h2_hpack_field f = {names[i], strlen(names[i]), round ? "w" : "v", 1, round ? H2_HPACK_NO_INDEX : 0};
      h2_cbb_init(&b, out, sizeof out);
      int n = h2_hpack_encode(e, &b, &f, 1);
      assert_true(n > 0);
      if (round) {
        if (i >= 300 - 16384 / 36 && out[0] != 0x0f) fail_msg("x-%d: name not reused (%02x)", i, out[0]);
      } else if (out[0] != 0x40) {
        fail_msg("x-%d: not indexed (%02x)", i, out[0]);
      }
      collector col;
      collector_init(&col);
      assert_int_equal(h2_hpack_decode(d, out, (size_t)n, 1, collect_cb, &col), 1);
      collector_free(&col);
    }
  }
  assert_int_equal(h2_hpack_encoder_table_count(e), h2_hpack_decoder_table_count(d));
  h2_hpack_decoder_free(d);
  h2_hpack_encoder_free(e);
}

/* ---- random round trips -------------------------------------------------- */

static const char *const names[] = {":method", ":path", ":authority", ":status", "user-agent", "cookie",
                                    "accept", "x-a", "x-bb", "content-length", "authorization",
                                    "set-cookie", "location", "x-long-header-name-for-tests"};

static void test_random_roundtrip(void **state) {
  (void)state;
  uint32_t seed = 99;
  static const uint32_t sizes[] = {4096, 0, 64, 256, 4096, 1000, 32, 4096};
  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  h2_hpack_encoder_set_table_limit(e, 1 << 16);
  assert_int_equal(h2_hpack_decoder_set_max_table_size(d, 1 << 16), 0);
  char vals[40][64];
  uint8_t *out = malloc(1 << 16);
  for (int blk = 0; blk < 600; blk++) {
    if (blk % 75 == 0) h2_hpack_encoder_set_max_table_size(e, sizes[(blk / 75) % 8]);
    h2_hpack_encoder_set_huffman(e, blk % 4); /* AUTO, NEVER, PREFER, ALWAYS */
    size_t n = test_rand(&seed) % 40;
    h2_hpack_field fs[40];
    for (size_t i = 0; i < n; i++) {
      const char *nm = names[test_rand(&seed) % (sizeof names / sizeof names[0])];
      size_t vl = test_rand(&seed) % 4 == 0 ? test_rand(&seed) % 60 : test_rand(&seed) % 4;
      for (size_t k = 0; k < vl; k++) vals[i][k] = (char)(test_rand(&seed) % 7 == 0 ? test_rand(&seed) & 0xff : 'a' + test_rand(&seed) % 4);
      uint32_t fl = test_rand(&seed) % 10 == 0 ? (test_rand(&seed) % 3 == 0 ? H2_HPACK_NEVER_INDEXED : H2_HPACK_INDEX) : 0;
      fs[i] = (h2_hpack_field){nm, strlen(nm), vals[i], vl, fl};
    }
    h2_cbb b;
    h2_cbb_init(&b, out, 1 << 16);
    int len = h2_hpack_encode(e, &b, fs, n);
    assert_true(len >= 0);
    collector col;
    collector_init(&col);
    /* Feed in random pieces. */
    size_t off = 0;
    int total = 0;
    while (off < (size_t)len) {
      size_t piece = 1 + test_rand(&seed) % 8;
      if (piece > (size_t)len - off) piece = (size_t)len - off;
      int last = off + piece == (size_t)len;
      int rc = h2_hpack_decode(d, out + off, piece, last, collect_cb, &col);
      if (rc < 0) fail_msg("block %d: %d %s", blk, rc, h2_strerror(rc));
      total += rc;
      off += piece;
    }
    if (len == 0) total = h2_hpack_decode(d, NULL, 0, 1, collect_cb, &col);
    assert_int_equal(total, (int)n);
    for (size_t i = 0; i < n; i++) {
      assert_int_equal(col.len[i], fs[i].name_len + 2 + fs[i].value_len);
      assert_memory_equal(col.f[i], fs[i].name, fs[i].name_len);
      assert_memory_equal(col.f[i] + fs[i].name_len + 2, fs[i].value, fs[i].value_len);
      if (fs[i].flags & H2_HPACK_NEVER_INDEXED) assert_int_equal(col.flags[i], H2_HPACK_NEVER_INDEXED);
    }
    collector_free(&col);
    assert_int_equal(h2_hpack_encoder_table_size(e), h2_hpack_decoder_table_size(d));
    assert_int_equal(h2_hpack_encoder_table_count(e), h2_hpack_decoder_table_count(d));
    assert_int_equal(h2_hpack_encoder_table_max(e), h2_hpack_decoder_table_max(d));
    /* Entry by entry, the two tables hold the same fields. */
    for (size_t k = 1; k <= h2_hpack_decoder_table_count(d); k++) {
      h2_hpack_field fe, fd;
      assert_int_equal(h2_hpack_encoder_table_get(e, k, &fe), 0);
      assert_int_equal(h2_hpack_decoder_table_get(d, k, &fd), 0);
      assert_int_equal(fe.name_len, fd.name_len);
      assert_int_equal(fe.value_len, fd.value_len);
      assert_memory_equal(fe.name, fd.name, fd.name_len);
      assert_memory_equal(fe.value, fd.value, fd.value_len);
    }
  }
  assert_true(h2_hpack_decoder_memory(d) > 0);
  assert_true(h2_hpack_encoder_memory(e) > 0);
  free(out);
  h2_hpack_decoder_free(d);
  h2_hpack_encoder_free(e);
}

/* ---- failing allocations -------------------------------------------------- */

static const char *const c4_blocks[] = {
    "828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf",
    "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"};

/* alloc_scenario runs a decoder and an encoder on |m|; every step must
 * either work or fail with H2_ERR_NOMEM. Returns 1 if something failed. */
static int alloc_scenario(const h2_mem *m) {
  int failed = 0;
  h2_hpack_decoder *d = h2_hpack_decoder_new(m);
  if (!d) {
    failed = 1;
  } else {
    collector col;
    collector_init(&col);
    for (int bytewise = 0; bytewise < 2 && !failed; bytewise++) {
      for (size_t i = 0; i < 3; i++) {
        uint8_t in[64];
        size_t n = hex_to_bin(c4_blocks[i], in, sizeof in);
        int rc = feed(d, in, n, bytewise, &col);
        if (rc == H2_ERR_NOMEM) {
          failed = 1;
          assert_int_equal(h2_hpack_decode(d, in, 1, 1, NULL, NULL), H2_ERR_STATE);
          break;
        }
        assert_true(rc == (i == 0 ? 4 : 5));
      }
      collector_free(&col);
    }
    h2_hpack_decoder_free(d);
  }
  h2_hpack_encoder *e = h2_hpack_encoder_new(m);
  if (!e) return 1;
  h2_hpack_decoder *check = h2_hpack_decoder_new(NULL); /* verifies e's output */
  char vals[30][16];
  for (int blk = 0; blk < 10; blk++) {
    h2_hpack_field fs[30];
    for (int i = 0; i < 30; i++) {
      snprintf(vals[i], sizeof vals[i], "v%d", (blk * 7 + i) % 45);
      fs[i] = (h2_hpack_field){"x-field", 7, vals[i], strlen(vals[i]), 0};
    }
    uint8_t out[2048];
    h2_cbb b;
    h2_cbb_init(&b, out, sizeof out);
    int len = h2_hpack_encode(e, &b, fs, 30);
    assert_true(len > 0); /* allocation failure never fails the encoder */
    collector col;
    collector_init(&col);
    assert_int_equal(h2_hpack_decode(check, out, (size_t)len, 1, collect_cb, &col), 30);
    for (int i = 0; i < 30; i++) assert_memory_equal(col.f[i] + 9, vals[i], strlen(vals[i]));
    collector_free(&col);
    assert_int_equal(h2_hpack_encoder_table_size(e), h2_hpack_decoder_table_size(check));
  }
  h2_hpack_decoder_free(check);
  h2_hpack_encoder_free(e);
  return failed;
}

static void test_failing_allocations(void **state) {
  (void)state;
  long n;
  for (n = 0; n < 10000; n++) {
    fail_mem fm;
    fail_mem_init(&fm, n);
    (void)alloc_scenario(&fm.mem);
    if (fm.live != 0) fail_msg("allocation %ld failed: %ld blocks leaked", n, fm.live);
    if (fm.calls <= n) break; /* the n-th allocation never happened: all covered */
  }
  assert_true(n > 5 && n < 10000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define ERROR_TEST(code) {"decoder error " #code, test_decoder_error, NULL, NULL, (void *)(intptr_t)(code)}
      ERROR_TEST(H2_ERR_HPACK_TRUNCATED),
      ERROR_TEST(H2_ERR_HPACK_INT_OVERFLOW),
      ERROR_TEST(H2_ERR_HPACK_INDEX_ZERO),
      ERROR_TEST(H2_ERR_HPACK_INDEX_RANGE),
      ERROR_TEST(H2_ERR_HPACK_HUFFMAN_PADDING),
      ERROR_TEST(H2_ERR_HPACK_HUFFMAN_EOS),
      ERROR_TEST(H2_ERR_HPACK_SIZE_UPDATE_TOO_LARGE),
      ERROR_TEST(H2_ERR_HPACK_SIZE_UPDATE_MISPLACED),
      ERROR_TEST(H2_ERR_HPACK_STRING_TOO_LONG),
      cmocka_unit_test(test_decoder_bad_args),
      cmocka_unit_test(test_callback_error),
      cmocka_unit_test(test_size_update_rules),
      cmocka_unit_test(test_encoder_size_updates),
      cmocka_unit_test(test_hpack_bomb),
      cmocka_unit_test(test_too_many_fields),
      cmocka_unit_test(test_list_too_large),
      cmocka_unit_test(test_field_too_long),
      cmocka_unit_test(test_oversized_strings_skipped),
      cmocka_unit_test(test_decoder_memory_bound),
      cmocka_unit_test(test_never_indexed_roundtrip),
      cmocka_unit_test(test_encoder_atomic),
      cmocka_unit_test(test_encoder_strategy),
      cmocka_unit_test(test_encoder_many_names),
      cmocka_unit_test(test_random_roundtrip),
      cmocka_unit_test(test_failing_allocations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
