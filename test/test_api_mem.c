/* test_api_mem.c: the per-thread block cache sessions use as their engine
 * allocator by default (api/mem_cache.c): freed small blocks are reused by
 * the next malloc of their size class, large ones go back to libc, the
 * cache is bounded and can be trimmed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api_internal.h"

#define N 100

static int contains(void *const *set, size_t n, const void *p) {
  for (size_t i = 0; i < n; i++)
    if (set[i] == p) return 1;
  return 0;
}

static void test_reuse_and_classes(void **state) {
  (void)state;
  const h2_mem *m = h2_mem_cached_();
  h2_mem_cache_trim_();
  assert_int_equal(h2_mem_cache_bytes_(), 0);
  void *a[N], *b[N];
  for (int i = 0; i < N; i++) {
    a[i] = h2_mem_malloc(m, 200);
    assert_non_null(a[i]);
    memset(a[i], 0xab, 200); /* the whole requested size is usable */
  }
  for (int i = 0; i < N; i++) h2_mem_free(m, a[i]);
  if (!h2_mem_cache_enabled_()) { /* ASan build or no usable-size query */
    assert_int_equal(h2_mem_cache_bytes_(), 0);
    print_message("block cache off in this build: plain malloc/free\n");
    return;
  }
  size_t cached = h2_mem_cache_bytes_();
  assert_true(cached >= (size_t)N * 200);
  /* The same class (185..200 bytes: 13*16 - 8 fills a 208-byte glibc
   * chunk) gets exactly those blocks back. */
  for (int i = 0; i < N; i++) {
    b[i] = h2_mem_malloc(m, 185 + (size_t)(i % 16));
    assert_true(contains(a, N, b[i]));
    memset(b[i], 0xcd, 185 + (size_t)(i % 16));
  }
  assert_int_equal(h2_mem_cache_bytes_(), 0);
  for (int i = 0; i < N; i++) h2_mem_free(m, b[i]);
  /* 201 bytes is the next class: none of those blocks. */
  for (int i = 0; i < N; i++) {
    b[i] = h2_mem_malloc(m, 201);
    assert_false(contains(a, N, b[i]));
  }
  for (int i = 0; i < N; i++) h2_mem_free(m, b[i]);
  for (int i = 0; i < N; i++) {
    b[i] = h2_mem_malloc(m, 200);
    assert_true(contains(a, N, b[i]));
  }
  assert_int_equal(h2_mem_cache_bytes_(), (size_t)N * 216); /* the 201-byte ones */
  for (int i = 0; i < N; i++) h2_mem_free(m, b[i]);
  /* Blocks above 1 KiB are not kept. */
  void *big = h2_mem_malloc(m, 5000);
  assert_non_null(big);
  size_t before = h2_mem_cache_bytes_();
  h2_mem_free(m, big);
  assert_int_equal(h2_mem_cache_bytes_(), before);
  /* realloc works on cached blocks (they are plain malloc blocks). */
  void *r = h2_mem_malloc(m, 40);
  memcpy(r, "0123456789", 10);
  r = h2_mem_realloc(m, r, 3000);
  assert_non_null(r);
  assert_memory_equal(r, "0123456789", 10);
  h2_mem_free(m, r);
  h2_mem_free(m, NULL);
  h2_mem_free(m, h2_mem_malloc(m, 0)); /* size 0: whatever malloc(0) gives, freed */
  h2_mem_cache_trim_();
  assert_int_equal(h2_mem_cache_bytes_(), 0);
}

static void test_bounded(void **state) {
  (void)state;
  const h2_mem *m = h2_mem_cached_();
  h2_mem_cache_trim_();
  /* 40,000 blocks of 1 KiB (40 MiB) freed: the cache keeps at most 8 MiB. */
  enum { M = 40000 };
  void **p = malloc(M * sizeof *p);
  assert_non_null(p);
  for (int i = 0; i < M; i++) assert_non_null(p[i] = h2_mem_malloc(m, 1024));
  for (int i = 0; i < M; i++) h2_mem_free(m, p[i]);
  assert_true(h2_mem_cache_bytes_() <= (size_t)8 << 20);
  assert_true(h2_mem_cache_bytes_() > 0 || !h2_mem_cache_enabled_());
  free(p);
  h2_mem_cache_trim_();
  assert_int_equal(h2_mem_cache_bytes_(), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reuse_and_classes),
    cmocka_unit_test(test_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
