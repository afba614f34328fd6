/* test_common.c: the shared core pieces: h2_cbs/h2_cbb, h2_err, h2_mem. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "h2_cbs.h"
#include "h2_err.h"
#include "h2_mem.h"

static void test_cbs_getters_do_not_advance_on_failure(void **state) {
  (void)state;
  const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05};
  h2_cbs c;
  h2_cbs_init(&c, in, sizeof in);
  uint32_t v32;
  uint16_t v16;
  uint8_t v8;
  assert_int_equal(h2_cbs_get_u24(&c, &v32), 1);
  assert_int_equal(v32, 0x010203);
  assert_int_equal(h2_cbs_get_u32(&c, &v32), 0); /* 2 left */
  assert_int_equal(h2_cbs_len(&c), 2);
  assert_int_equal(h2_cbs_get_u16(&c, &v16), 1);
  assert_int_equal(v16, 0x0405);
  assert_int_equal(h2_cbs_get_u8(&c, &v8), 0);
  assert_int_equal(h2_cbs_skip(&c, 1), 0);
  assert_int_equal(h2_cbs_skip(&c, 0), 1);
}

static void test_cbs_get_bytes(void **state) {
  (void)state;
  const uint8_t in[] = "abcdef";
  h2_cbs c, sub;
  h2_cbs_init(&c, in, 6);
  assert_int_equal(h2_cbs_get_bytes(&c, &sub, 7), 0);
  assert_int_equal(h2_cbs_len(&c), 6);
  assert_int_equal(h2_cbs_get_bytes(&c, &sub, 4), 1);
  assert_memory_equal(h2_cbs_data(&sub), "abcd", 4);
  char two[2];
  assert_int_equal(h2_cbs_copy(&c, two, 2), 1);
  assert_memory_equal(two, "ef", 2);
  assert_int_equal(h2_cbs_len(&c), 0);
}

static void test_cbb_sticky_error(void **state) {
  (void)state;
  uint8_t buf[6];
  h2_cbb b;
  h2_cbb_init(&b, buf, sizeof buf);
  h2_cbb_u32(&b, 0xdeadbeef);
  assert_true(h2_cbb_ok(&b));
  h2_cbb_u24(&b, 0x010203); /* does not fit: 2 left */
  assert_false(h2_cbb_ok(&b));
  h2_cbb_u8(&b, 7);          /* ignored after the error */
  assert_int_equal(b.len, 4);
  assert_memory_equal(buf, "\xde\xad\xbe\xef", 4);
}

static void test_err_mapping(void **state) {
  (void)state;
  assert_int_equal(h2_err_rfc_code(H2_OK), 0);
  assert_int_equal(h2_err_rfc_code(H2_ERR_PROTOCOL), 0x1);
  assert_int_equal(h2_err_rfc_code(H2_ERR_HTTP_1_1_REQUIRED), 0xd);
  assert_int_equal(h2_err_rfc_code(H2_ERR_HPACK_HUFFMAN_EOS), 0x9);
  assert_int_equal(h2_err_rfc_code(H2_ERR_HPACK_LIST_TOO_LARGE), 0xb);
  assert_int_equal(h2_err_rfc_code(H2_ERR_NOMEM), 0x2);
  assert_string_equal(h2_err_rfc_name(0xb), "ENHANCE_YOUR_CALM");
  assert_string_equal(h2_err_rfc_name(0x99), "UNKNOWN_ERROR");
  assert_string_equal(h2_strerror(12345), "unknown error");
  assert_non_null(strstr(h2_strerror(H2_ERR_HPACK_INDEX_ZERO), "index 0"));
}

static void test_mem_default(void **state) {
  (void)state;
  const h2_mem *m = h2_mem_default();
  char *p = h2_mem_malloc(m, 8);
  assert_non_null(p);
  p = h2_mem_realloc(m, p, 64);
  assert_non_null(p);
  h2_mem_free(m, p);
  h2_mem_free(m, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cbs_getters_do_not_advance_on_failure),
    cmocka_unit_test(test_cbs_get_bytes),
    cmocka_unit_test(test_cbb_sticky_error),
    cmocka_unit_test(test_err_mapping),
    cmocka_unit_test(test_mem_default),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
