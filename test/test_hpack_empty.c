/* test_hpack_empty.c: the HPACK coder on empty strings (empty names and
 * values, raw and zero-length Huffman, indexed into a table of zero-octet
 * entries). Run under SANITIZE=1 (UBSan fatal) it checks that no null buffer
 * is ever offset or passed to memcpy; everywhere it checks the fields. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "h2_hpack.h"

static int empty_cb(void *user, const h2_hpack_field *f) {
  assert_non_null(f->name); /* never NULL, even empty */
  assert_non_null(f->value);
  assert_int_equal(f->name_len, 0);
  assert_int_equal(f->value_len, 0);
  (*(size_t *)user)++;
  return 0;
}

/* Empty names and values, raw and Huffman (a zero-length Huffman string),
 * indexed into a table that then holds only zero-octet entries, and an empty
 * dynamic name reused: all decode to empty strings (under the sanitizers,
 * with no pointer arithmetic on the table's or scratch's null buffer). The
 * encoder indexes and finds an empty field too; an empty final call is fine. */
static void test_empty_strings(void **state) {
  (void)state;
  static const uint8_t blk[] = {
      0x40, 0x00, 0x00, /* literal, incremental indexing, new name "" : "" -> entry 62 */
      0xbe,             /* indexed 62 */
      0x7e, 0x80,       /* literal, incremental indexing, name of entry 62, Huffman "" */
      0x40, 0x80, 0x80, /* literal, incremental indexing, Huffman "" : Huffman "" */
      0x00, 0x80, 0x00, /* literal without indexing, Huffman "" : "" */
  };
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  assert_non_null(d);
  size_t n = 0;
  assert_int_equal(h2_hpack_decode(d, NULL, 0, 1, empty_cb, &n), 0);
  assert_int_equal(h2_hpack_decode(d, blk, sizeof blk, 1, empty_cb, &n), 5);
  assert_int_equal(n, 5);
  n = 0; /* again one octet at a time, on the table the first pass left */
  for (size_t i = 0; i < sizeof blk; i++)
    assert_true(h2_hpack_decode(d, blk + i, 1, i + 1 == sizeof blk, empty_cb, &n) >= 0);
  assert_int_equal(n, 5);
  h2_hpack_decoder_free(d);

  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  d = h2_hpack_decoder_new(NULL);
  h2_hpack_field f = {"", 0, "", 0, H2_HPACK_INDEX};
  for (int b = 0; b < 2; b++) { /* the second finds the entry the first added */
    uint8_t out[256];
    assert_true(h2_hpack_encoder_bound(e, &f, 1) <= sizeof out);
    h2_cbb cbb;
    h2_cbb_init(&cbb, out, sizeof out);
    assert_true(h2_hpack_encode(e, &cbb, &f, 1) > 0);
    if (b == 1) {
      assert_int_equal(cbb.len, 1);
      assert_int_equal(out[0], 0xbe);
    }
    n = 0;
    assert_int_equal(h2_hpack_decode(d, out, cbb.len, 1, empty_cb, &n), 1);
    assert_int_equal(n, 1);
  }
  h2_hpack_encoder_free(e);
  h2_hpack_decoder_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_strings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
