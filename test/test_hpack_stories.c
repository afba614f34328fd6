/* test_hpack_stories.c: h2's HPACK coder against every hpack-test-case story.
 *
 *  - every implementation directory (stories with "wire"): decode each case
 *    with our decoder, in order, and compare with its "headers"; once more
 *    feeding each block one octet at a time;
 *  - raw-data (no "wire"): encode each story with our encoder and decode it
 *    back at table sizes 4096, 256 and 0, Huffman when shorter / never /
 *    always; the header lists must come back equal;
 *  - stories whose cases change header_table_size are re-encoded honouring
 *    the changes and decoded back.
 *
 * The stories live in ../shared/hpack-test-case (tests run from the repo
 * root; CI clones main with shared/ beside it) or in $H2_HPACK_TEST_CASE.
 * A missing directory FAILS the tests: it must never pass silently. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "h2_hpack.h"
#include "story.h"
#include "story_hpack.h"

#define MAX_ENTRIES 512

static const char *stories_root(void) {
  const char *env = getenv("H2_HPACK_TEST_CASE");
  return env && *env ? env : "../shared/hpack-test-case";
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list_dir returns the sorted names in |path| that are directories (|dirs|)
 * or story_*.json files; NULL-terminated; the caller frees with free_list. */
static char **list_dir(const char *path, int dirs) {
  DIR *d = opendir(path);
  if (!d) fail_msg("cannot open %s (set H2_HPACK_TEST_CASE to the hpack-test-case checkout)", path);
  char **names = calloc(MAX_ENTRIES + 1, sizeof *names);
  assert_non_null(names);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", path, e->d_name);
    struct stat st;
    if (stat(full, &st) != 0) continue;
    if (dirs) {
      if (!S_ISDIR(st.st_mode)) continue;
    } else {
      size_t len = strlen(e->d_name);
      if (!S_ISREG(st.st_mode) || strncmp(e->d_name, "story_", 6) != 0 || len < 5 ||
          strcmp(e->d_name + len - 5, ".json") != 0)
        continue;
    }
    assert_true(n < MAX_ENTRIES);
    names[n] = strdup(e->d_name);
    assert_non_null(names[n]);
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_str);
  return names;
}

static void free_list(char **l) {
  for (size_t i = 0; l[i]; i++) free(l[i]);
  free(l);
}

static void load_story(const char *dir, const char *file, h2_story *s) {
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/%s/%s", stories_root(), dir, file);
  if (h2_story_load(s, path, err, sizeof err) != 0) fail_msg("%s", err);
}

static int story_has_wire(const h2_story *s) {
  for (size_t i = 0; i < s->num_cases; i++)
    if (s->cases[i].has_wire) return 1;
  return 0;
}

static void test_stories_present(void **state) {
  (void)state;
  struct stat st;
  if (stat(stories_root(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail_msg("hpack-test-case stories not found at %s: clone them there or set H2_HPACK_TEST_CASE",
             stories_root());
  char **dirs = list_dir(stories_root(), 1);
  int raw = 0, impl = 0;
  for (size_t i = 0; dirs[i]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", stories_root(), dirs[i]);
    char **files = list_dir(path, 0);
    if (!files[0]) fail_msg("%s has no story_*.json", path);
    free_list(files);
    if (!strcmp(dirs[i], "raw-data")) raw = 1;
    else impl++;
  }
  free_list(dirs);
  if (!raw) fail_msg("%s/raw-data is missing", stories_root());
  if (impl < 1) fail_msg("%s has no implementation directories", stories_root());
}

static void test_decode_all_implementations(void **state) {
  (void)state;
  char **dirs = list_dir(stories_root(), 1);
  size_t total_cases = 0, total_stories = 0, impl_dirs = 0;
  for (size_t i = 0; dirs[i]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", stories_root(), dirs[i]);
    char **files = list_dir(path, 0);
    size_t dir_cases = 0;
    for (size_t j = 0; files[j]; j++) {
      h2_story s;
      load_story(dirs[i], files[j], &s);
      if (story_has_wire(&s)) {
        char err[1024];
        long n = h2_story_decode(&s, 0, 1, NULL, err, sizeof err);
        if (n < 0) fail_msg("%s/%s: %s", dirs[i], files[j], err);
        assert_int_equal((size_t)n, s.num_cases);
        /* The same, one octet per decode call. */
        n = h2_story_decode(&s, 1, 1, NULL, err, sizeof err);
        if (n < 0) fail_msg("%s/%s, one octet at a time: %s", dirs[i], files[j], err);
        assert_int_equal((size_t)n, s.num_cases);
        dir_cases += (size_t)n;
        total_stories++;
      }
      h2_story_free(&s);
    }
    free_list(files);
    if (dir_cases) impl_dirs++;
    else if (strcmp(dirs[i], "raw-data") != 0) fail_msg("%s: no story with \"wire\"", dirs[i]);
    total_cases += dir_cases;
    printf("  %s: %zu cases decoded and matched\n", dirs[i], dir_cases);
  }
  free_list(dirs);
  printf("  %zu cases in %zu stories, %zu implementation directories\n", total_cases, total_stories,
         impl_dirs);
  assert_true(impl_dirs >= 1);
  assert_true(total_cases > 0);
}

/* The checks above can fail: a changed expected value, a dropped size
 * update and a cut wire are each reported, naming the case. */
static void test_decode_detects_errors(void **state) {
  (void)state;
  h2_story s;
  char err[1024];
  load_story("nghttp2-change-table-size", "story_00.json", &s);
  assert_true(s.num_cases >= 2);
  /* A different expected value in case 0, field 2. */
  h2_story_field *f = &s.cases[0].fields[2];
  char saved = f->value[0];
  f->value[0] = (char)(saved ^ 1);
  assert_int_equal(h2_story_decode(&s, 0, 1, NULL, err, sizeof err), -1);
  if (!strstr(err, "seqno 0: field 2: expected")) fail_msg("message: %s", err);
  f->value[0] = saved;
  assert_int_equal(h2_story_decode(&s, 0, 1, NULL, err, sizeof err), (long)s.num_cases);
  /* Case 1 lowers header_table_size; its wire opens with the size update
   * (3f b6 0a = 1365). Without it the block must be refused. */
  h2_story_case *c1 = &s.cases[1];
  assert_true(c1->has_table_size && c1->header_table_size < 4096);
  assert_true(c1->wire_len > 3);
  assert_memory_equal(c1->wire, "\x3f\xb6\x0a", 3);
  memmove(c1->wire, c1->wire + 3, c1->wire_len - 3);
  c1->wire_len -= 3;
  assert_int_equal(h2_story_decode(&s, 0, 1, NULL, err, sizeof err), -1);
  if (!strstr(err, "seqno 1: decoding failed")) fail_msg("message: %s", err);
  /* A block cut inside a representation. */
  c1->wire_len = 0;
  s.cases[0].wire_len -= 2; /* inside the Huffman string of :authority */
  assert_int_equal(h2_story_decode(&s, 1, 1, NULL, err, sizeof err), -1);
  if (!strstr(err, "seqno 0: decoding failed")) fail_msg("message: %s", err);
  h2_story_free(&s);
}

/* round_trip encodes every raw-data story with |opts| and decodes it back,
 * whole and one octet at a time. Returns the total encoded size. */
static size_t round_trip(const h2_story_encode_opts *opts) {
  char path[4096];
  snprintf(path, sizeof path, "%s/raw-data", stories_root());
  char **files = list_dir(path, 0);
  size_t cases = 0, bytes = 0, stories = 0;
  for (size_t j = 0; files[j]; j++) {
    h2_story in, out;
    char err[1024];
    load_story("raw-data", files[j], &in);
    if (h2_story_encode(&in, opts, &out, err, sizeof err) != 0) fail_msg("raw-data/%s: %s", files[j], err);
    assert_int_equal(out.num_cases, in.num_cases);
    long n = h2_story_decode(&out, 0, 1, NULL, err, sizeof err);
    if (n < 0) fail_msg("raw-data/%s re-encoded (table size %u, huffman %d): %s", files[j],
                        (unsigned)opts->table_size, opts->huffman, err);
    n = h2_story_decode(&out, 1, 1, NULL, err, sizeof err);
    if (n < 0) fail_msg("raw-data/%s re-encoded, one octet at a time: %s", files[j], err);
    for (size_t i = 0; i < out.num_cases; i++) bytes += out.cases[i].wire_len;
    cases += out.num_cases;
    stories++;
    h2_story_free(&out);
    h2_story_free(&in);
  }
  free_list(files);
  printf("  table size %u, huffman %d: %zu cases in %zu stories, %zu octets encoded\n",
         (unsigned)opts->table_size, opts->huffman, cases, stories, bytes);
  assert_true(cases > 0);
  return bytes;
}

static void test_round_trip_4096(void **state) {
  (void)state;
  h2_story_encode_opts auto_ = {1, 4096, H2_HPACK_HUFFMAN_AUTO};
  h2_story_encode_opts never = {1, 4096, H2_HPACK_HUFFMAN_NEVER};
  h2_story_encode_opts prefer = {1, 4096, H2_HPACK_HUFFMAN_PREFER};
  h2_story_encode_opts always = {1, 4096, H2_HPACK_HUFFMAN_ALWAYS};
  size_t a = round_trip(&auto_), n = round_trip(&never), p = round_trip(&prefer),
         w = round_trip(&always);
  /* Huffman when shorter is never longer than any other choice, and a
   * Huffman-unless-longer never longer than always-Huffman. */
  assert_true(a <= n);
  assert_true(a <= p);
  assert_true(p <= w);
}

static void test_round_trip_256(void **state) {
  (void)state;
  h2_story_encode_opts auto_ = {1, 256, H2_HPACK_HUFFMAN_AUTO};
  h2_story_encode_opts never = {1, 256, H2_HPACK_HUFFMAN_NEVER};
  round_trip(&auto_);
  round_trip(&never);
}

static void test_round_trip_0(void **state) {
  (void)state;
  h2_story_encode_opts auto_ = {1, 0, H2_HPACK_HUFFMAN_AUTO};
  h2_story_encode_opts never = {1, 0, H2_HPACK_HUFFMAN_NEVER};
  size_t with_table = 0;
  h2_story_encode_opts big = {1, 4096, H2_HPACK_HUFFMAN_AUTO};
  with_table = round_trip(&big);
  size_t without = round_trip(&auto_);
  round_trip(&never);
  /* A dynamic table must pay off on these stories. */
  assert_true(with_table < without);
}

/* Stories whose cases change header_table_size: re-encode honouring the
 * changes (the encoder emits the size updates) and decode back. */
static void test_round_trip_table_size_changes(void **state) {
  (void)state;
  char **dirs = list_dir(stories_root(), 1);
  size_t changed = 0;
  for (size_t i = 0; dirs[i]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", stories_root(), dirs[i]);
    char **files = list_dir(path, 0);
    for (size_t j = 0; files[j]; j++) {
      h2_story in, out;
      char err[1024];
      load_story(dirs[i], files[j], &in);
      uint32_t first = 4096;
      int changes = 0;
      for (size_t k = 0; k < in.num_cases; k++) {
        if (!in.cases[k].has_table_size) continue;
        if (k == 0) first = in.cases[k].header_table_size;
        else if (in.cases[k].header_table_size != first) changes = 1;
      }
      if (changes) {
        h2_story_encode_opts opts = {0, 0, H2_HPACK_HUFFMAN_AUTO};
        if (h2_story_encode(&in, &opts, &out, err, sizeof err) != 0) fail_msg("%s/%s: %s", dirs[i], files[j], err);
        if (h2_story_decode(&out, 0, 1, NULL, err, sizeof err) < 0)
          fail_msg("%s/%s re-encoded: %s", dirs[i], files[j], err);
        h2_story_free(&out);
        changed++;
      }
      h2_story_free(&in);
    }
    free_list(files);
  }
  free_list(dirs);
  printf("  %zu stories with table size changes re-encoded and decoded back\n", changed);
  assert_true(changed > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stories_present),
      cmocka_unit_test(test_decode_all_implementations),
      cmocka_unit_test(test_decode_detects_errors),
      cmocka_unit_test(test_round_trip_4096),
      cmocka_unit_test(test_round_trip_256),
      cmocka_unit_test(test_round_trip_0),
      cmocka_unit_test(test_round_trip_table_size_changes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
