/* test_prio.c: the RFC 7540 priority tree and the send scheduler
 * (h2core/h2_prio.h).
 *
 * Tree operations (RFC 7540 §5.3: default priority, exclusive insertion,
 * moving a stream under its own descendant, §5.3.4 re-parenting with weight
 * redistribution, self-dependency, the bound on idle/closed nodes), the
 * exact share of bytes each stream gets for fixed trees, parent-before-
 * children, exclusive chains, forgetting plain streams, a randomized run
 * (both modes) that checks every internal invariant after each step,
 * failing allocations for every n, and trimming. RFC 9218 (the Priority
 * field, urgency buckets, mode switches): test_prio_rfc9218.c. */
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

/* ---- tree operations ----------------------------------------------------------- */

static void test_default_priority(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  assert_non_null(p);
  assert_int_equal(h2_prio_mode(p), H2_PRIO_MODE_TREE);
  assert_int_equal(h2_prio_open(p, 1, NULL), 0);
  h2_prio_info in = info(p, 1);
  assert_int_equal(in.parent, 0);
  assert_int_equal(in.weight, 16);
  assert_int_equal(in.state, H2_PRIO_STATE_ACTIVE);
  assert_int_equal(in.urgency, 3);
  assert_int_equal(in.incremental, 0);
  assert_int_equal(in.ready, 0);
  assert_int_equal(h2_prio_open(p, 1, NULL), H2_ERR_STATE);
  assert_int_equal(h2_prio_open(p, 0, NULL), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_prio_open(p, 0x80000000u, NULL), H2_ERR_INVALID_ARG);
  h2_prio_spec bad = spec(0, 0, 0);
  assert_int_equal(h2_prio_open(p, 3, &bad), H2_ERR_INVALID_ARG);
  bad = spec(0, 257, 0);
  assert_int_equal(h2_prio_set(p, 1, &bad), H2_ERR_INVALID_ARG);
  bad = spec(0x80000000u, 16, 0);
  assert_int_equal(h2_prio_set(p, 1, &bad), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_prio_get(p, 3, &in), H2_ERR_NOT_FOUND);
  assert_int_equal(h2_prio_set_ready(p, 3, 1), H2_ERR_NOT_FOUND);
  assert_int_equal(h2_prio_charge(p, 3, 10), H2_ERR_NOT_FOUND);
  assert_int_equal(h2_prio_close(p, 3), H2_ERR_NOT_FOUND);
  assert_int_equal(h2_prio_remove(p, 3), H2_ERR_NOT_FOUND);
  assert_int_equal(h2_prio_next(p), 0);
  h2_prio_config bc = {0, 0, 7};
  assert_null(h2_prio_new(NULL, &bc));
  assert_int_equal(h2_prio_set_mode(p, 2), H2_ERR_INVALID_ARG);
  check_invariants(p);
  h2_prio_free(p);
  h2_prio_free(NULL);
}

/* RFC 7540 §5.3.1 Figure 3/4: D added as an exclusive dependency of A. */
static void test_exclusive_insert(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  enum { A = 1, B = 3, C = 5, D = 7 };
  h2_prio_spec s = spec(A, 16, 0);
  assert_int_equal(h2_prio_open(p, A, NULL), 0);
  assert_int_equal(h2_prio_open(p, B, &s), 0);
  s = spec(A, 8, 0);
  assert_int_equal(h2_prio_open(p, C, &s), 0);
  assert_int_equal(info(p, A).num_children, 2);
  assert_int_equal(info(p, A).sum_child_weight, 24);
  s = spec(A, 32, 1);
  assert_int_equal(h2_prio_open(p, D, &s), 0);
  EXPECT_NODE(p, D, A, 32);
  EXPECT_NODE(p, B, D, 16);
  EXPECT_NODE(p, C, D, 8);
  assert_int_equal(info(p, A).num_children, 1);
  assert_int_equal(info(p, A).sum_child_weight, 32);
  assert_int_equal(info(p, D).sum_child_weight, 24);
  check_invariants(p);
  /* Exclusive under the root moves every top-level stream below. */
  s = spec(0, 200, 1);
  assert_int_equal(h2_prio_open(p, 9, &s), 0);
  EXPECT_NODE(p, 9, 0, 200);
  EXPECT_NODE(p, A, 9, 16);
  /* Exclusive re-insertion of a stream that already is a child. */
  s = spec(0, 16, 0);
  assert_int_equal(h2_prio_open(p, 11, &s), 0);
  s = spec(0, 50, 1);
  assert_int_equal(h2_prio_set(p, 11, &s), 0);
  EXPECT_NODE(p, 11, 0, 50);
  EXPECT_NODE(p, 9, 11, 200);
  assert_int_equal(info(p, 11).num_children, 1);
  /* A weight-only change keeps the parent. */
  s = spec(11, 7, 0);
  assert_int_equal(h2_prio_set(p, 9, &s), 0);
  EXPECT_NODE(p, 9, 11, 7);
  assert_int_equal(info(p, 11).sum_child_weight, 7);
  check_invariants(p);
  h2_prio_free(p);
}

/* RFC 7540 §5.3.3 Figure 5: A made dependent on its descendant D. */
static void build_fig5(h2_prio *p) {
  enum { X = 1, A = 3, B = 5, C = 7, D = 9, E = 11, F = 13 };
  h2_prio_spec s;
  assert_int_equal(h2_prio_open(p, X, NULL), 0);
  s = spec(X, 10, 0);
  assert_int_equal(h2_prio_open(p, A, &s), 0);
  s = spec(A, 11, 0);
  assert_int_equal(h2_prio_open(p, B, &s), 0);
  s = spec(A, 12, 0);
  assert_int_equal(h2_prio_open(p, C, &s), 0);
  s = spec(C, 13, 0);
  assert_int_equal(h2_prio_open(p, D, &s), 0);
  s = spec(C, 14, 0);
  assert_int_equal(h2_prio_open(p, E, &s), 0);
  s = spec(D, 15, 0);
  assert_int_equal(h2_prio_open(p, F, &s), 0);
}

static void test_reprioritize_under_descendant(void **state) {
  (void)state;
  enum { X = 1, A = 3, B = 5, C = 7, D = 9, E = 11, F = 13 };
  for (int excl = 0; excl < 2; excl++) {
    h2_prio *p = h2_prio_new(NULL, NULL);
    build_fig5(p);
    h2_prio_spec s = spec(D, 20, excl);
    assert_int_equal(h2_prio_set(p, A, &s), 0);
    EXPECT_NODE(p, D, X, 13); /* D moved to A's old parent, keeping its weight */
    EXPECT_NODE(p, A, D, 20);
    EXPECT_NODE(p, B, A, 11);
    EXPECT_NODE(p, C, A, 12);
    EXPECT_NODE(p, E, C, 14);
    if (excl) {
      EXPECT_NODE(p, F, A, 15);
      assert_int_equal(info(p, D).num_children, 1);
      assert_int_equal(info(p, A).num_children, 3);
    } else {
      EXPECT_NODE(p, F, D, 15);
      assert_int_equal(info(p, D).num_children, 2);
      assert_int_equal(info(p, A).num_children, 2);
    }
    check_invariants(p);
    h2_prio_free(p);
  }
}

static void test_self_dependency(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  h2_prio_spec s = spec(0, 40, 0);
  assert_int_equal(h2_prio_open(p, 1, &s), 0);
  s = spec(1, 99, 1);
  assert_int_equal(h2_prio_set(p, 1, &s), H2_ERR_PROTOCOL);
  EXPECT_NODE(p, 1, 0, 40); /* nothing changed */
  assert_int_equal(h2_err_rfc_code(H2_ERR_PROTOCOL), 0x1);
  /* In HEADERS: a stream error, the stream registered with the default. */
  s = spec(3, 99, 0);
  assert_int_equal(h2_prio_open(p, 3, &s), H2_ERR_PROTOCOL);
  EXPECT_NODE(p, 3, 0, 16);
  assert_int_equal(info(p, 3).state, H2_PRIO_STATE_ACTIVE);
  /* For an idle stream: nothing remembered. */
  s = spec(5, 99, 0);
  assert_int_equal(h2_prio_set(p, 5, &s), H2_ERR_PROTOCOL);
  assert_int_equal(h2_prio_num_nodes(p), 2);
  /* Also in RFC 9218 mode. */
  assert_int_equal(h2_prio_set_mode(p, H2_PRIO_MODE_RFC9218), 0);
  s = spec(1, 99, 0);
  assert_int_equal(h2_prio_set(p, 1, &s), H2_ERR_PROTOCOL);
  check_invariants(p);
  h2_prio_free(p);
}

static void test_remove_reparents(void **state) {
  (void)state;
  static const struct {
    int line;
    uint16_t pw;     /* weight of the removed stream */
    uint16_t cw[3];  /* its children's weights (0 = absent) */
    uint16_t want[3];
  } v[] = {
      {__LINE__, 16, {1, 3, 12}, {1, 3, 12}},
      {__LINE__, 32, {16, 48, 0}, {8, 24, 0}},
      {__LINE__, 1, {1, 255, 0}, {1, 1, 0}},    /* never below 1 */
      {__LINE__, 256, {1, 1, 2}, {64, 64, 128}},
      {__LINE__, 100, {7, 0, 0}, {100, 0, 0}},  /* a single child takes it all */
      {__LINE__, 10, {3, 3, 3}, {3, 3, 3}},     /* 10*3/9 rounds down */
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    for (int how = 0; how < 2; how++) {
      /* how 0: h2_prio_remove; how 1: close with nothing remembered. */
      h2_prio_config cfg = {0, how == 1, H2_PRIO_MODE_TREE};
      h2_prio *p = h2_prio_new(NULL, &cfg);
      h2_prio_spec s = spec(0, 16, 0);
      assert_int_equal(h2_prio_open(p, 1, &s), 0); /* grandparent */
      s = spec(1, v[i].pw, 0);
      assert_int_equal(h2_prio_open(p, 3, &s), 0);
      for (int k = 0; k < 3; k++) {
        if (!v[i].cw[k]) continue;
        s = spec(3, v[i].cw[k], 0);
        assert_int_equal(h2_prio_open(p, (uint32_t)(5 + 2 * k), &s), 0);
      }
      if (how == 0)
        assert_int_equal(h2_prio_remove(p, 3), 0);
      else
        assert_int_equal(h2_prio_close(p, 3), 0);
      h2_prio_info in;
      if (h2_prio_get(p, 3, &in) != H2_ERR_NOT_FOUND) fail_msg("line %d: 3 still there", v[i].line);
      for (int k = 0; k < 3; k++) {
        if (!v[i].cw[k]) continue;
        in = info(p, (uint32_t)(5 + 2 * k));
        if (in.parent != 1 || in.weight != v[i].want[k])
          fail_msg("line %d how %d child %d: parent %u weight %u want %u", v[i].line, how, k, in.parent,
                   in.weight, v[i].want[k]);
      }
      check_invariants(p);
      h2_prio_free(p);
    }
  }
}

static void test_close_keeps_node(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  h2_prio_spec s = spec(0, 16, 0);
  assert_int_equal(h2_prio_open(p, 1, &s), 0);
  s = spec(1, 5, 0);
  assert_int_equal(h2_prio_open(p, 3, &s), 0);
  assert_int_equal(h2_prio_set_ready(p, 1, 1), 0);
  assert_int_equal(h2_prio_close(p, 1), 0);
  assert_int_equal(h2_prio_close(p, 1), 0); /* idempotent */
  h2_prio_info in = info(p, 1);
  assert_int_equal(in.state, H2_PRIO_STATE_CLOSED);
  assert_int_equal(in.ready, 0);
  EXPECT_NODE(p, 3, 1, 5);
  assert_int_equal(h2_prio_num_inactive(p), 1);
  assert_int_equal(h2_prio_set_ready(p, 1, 1), H2_ERR_STATE);
  assert_int_equal(h2_prio_set_ready(p, 1, 0), 0);
  assert_int_equal(h2_prio_open(p, 1, NULL), H2_ERR_STATE);
  /* A PRIORITY frame naming the closed stream as parent finds it. */
  s = spec(1, 9, 0);
  assert_int_equal(h2_prio_open(p, 5, &s), 0);
  EXPECT_NODE(p, 5, 1, 9);
  /* A PRIORITY frame for the closed stream itself moves it. */
  s = spec(5, 9, 0);
  assert_int_equal(h2_prio_set(p, 1, &s), 0);
  EXPECT_NODE(p, 5, 0, 9); /* moved up to 1's old parent, keeping its weight */
  EXPECT_NODE(p, 1, 5, 9);
  /* Idle stream remembered from PRIORITY, then opened without priority:
   * it keeps what the frame said. */
  s = spec(3, 77, 0);
  assert_int_equal(h2_prio_set(p, 7, &s), 0);
  assert_int_equal(info(p, 7).state, H2_PRIO_STATE_IDLE);
  assert_int_equal(h2_prio_open(p, 7, NULL), 0);
  EXPECT_NODE(p, 7, 3, 77);
  assert_int_equal(info(p, 7).state, H2_PRIO_STATE_ACTIVE);
  /* An unknown parent becomes an idle node with the default priority. */
  s = spec(101, 33, 0);
  assert_int_equal(h2_prio_open(p, 9, &s), 0);
  EXPECT_NODE(p, 9, 101, 33);
  EXPECT_NODE(p, 101, 0, 16);
  assert_int_equal(info(p, 101).state, H2_PRIO_STATE_IDLE);
  check_invariants(p);
  h2_prio_free(p);
}

static void test_inactive_bound(void **state) {
  (void)state;
  h2_prio_config cfg = {3, 0, H2_PRIO_MODE_TREE};
  h2_prio *p = h2_prio_new(NULL, &cfg);
  h2_prio_spec s = spec(0, 16, 0);
  for (uint32_t id = 1; id <= 9; id += 2) assert_int_equal(h2_prio_open(p, id, &s), 0);
  /* Idle nodes from PRIORITY frames: 101, 103, 105 fit; 107 evicts 101. */
  for (uint32_t id = 101; id <= 105; id += 2) assert_int_equal(h2_prio_set(p, id, &s), 0);
  assert_int_equal(h2_prio_num_inactive(p), 3);
  s = spec(1, 20, 0);
  assert_int_equal(h2_prio_set(p, 107, &s), 0);
  h2_prio_info in;
  assert_int_equal(h2_prio_get(p, 101, &in), H2_ERR_NOT_FOUND);
  EXPECT_NODE(p, 107, 1, 20);
  assert_int_equal(h2_prio_num_inactive(p), 3);
  /* Closing streams: the oldest inactive goes; active ones never do. */
  assert_int_equal(h2_prio_close(p, 9), 0);
  assert_int_equal(h2_prio_get(p, 103, &in), H2_ERR_NOT_FOUND);
  assert_int_equal(info(p, 9).state, H2_PRIO_STATE_CLOSED);
  for (uint32_t id = 1; id <= 7; id += 2) assert_int_equal(info(p, id).state, H2_PRIO_STATE_ACTIVE);
  /* Evicting a parent re-parents its children (§5.3.4). */
  s = spec(105, 40, 0);
  assert_int_equal(h2_prio_set(p, 3, &s), 0);
  EXPECT_NODE(p, 3, 105, 40);
  assert_int_equal(h2_prio_close(p, 7), 0); /* evicts 105 */
  assert_int_equal(h2_prio_get(p, 105, &in), H2_ERR_NOT_FOUND);
  EXPECT_NODE(p, 3, 0, 16);                  /* 105's weight 16 * 40/40 */
  check_invariants(p);
  /* A flood of PRIORITY frames for idle streams keeps memory bounded. */
  size_t before = h2_prio_memory(p);
  for (uint32_t id = 1001; id < 41001; id += 2) {
    s = spec(id + 2, (uint16_t)(1 + id % 256), id % 3 == 0);
    assert_int_equal(h2_prio_set(p, id, &s), 0);
  }
  assert_true(h2_prio_num_inactive(p) <= 3);
  assert_int_equal(h2_prio_num_nodes(p), 3 + h2_prio_num_inactive(p));
  assert_true(h2_prio_memory(p) <= before + 4096);
  for (uint32_t id = 1; id <= 5; id += 2) assert_int_equal(info(p, id).state, H2_PRIO_STATE_ACTIVE);
  check_invariants(p);
  h2_prio_free(p);

  /* Bound 1: the stream takes the only slot, its unknown parent does not
   * fit, so it gets the default priority (§5.3.1). */
  cfg.max_inactive = 1;
  p = h2_prio_new(NULL, &cfg);
  s = spec(203, 99, 1);
  assert_int_equal(h2_prio_set(p, 201, &s), 0);
  EXPECT_NODE(p, 201, 0, 16);
  assert_int_equal(h2_prio_get(p, 203, &in), H2_ERR_NOT_FOUND);
  check_invariants(p);
  h2_prio_free(p);

  /* Bound 0: PRIORITY for idle streams is dropped; closing forgets. */
  h2_prio_config none = {0, 1, H2_PRIO_MODE_TREE};
  p = h2_prio_new(NULL, &none);
  s = spec(0, 99, 0);
  assert_int_equal(h2_prio_set(p, 5, &s), 0);
  assert_int_equal(h2_prio_num_nodes(p), 0);
  assert_int_equal(h2_prio_set_urgency(p, 5, 1, 1), 0);
  assert_int_equal(h2_prio_num_nodes(p), 0);
  assert_int_equal(h2_prio_open(p, 1, NULL), 0);
  s = spec(3, 99, 0);
  assert_int_equal(h2_prio_set(p, 1, &s), 0); /* parent cannot be remembered */
  EXPECT_NODE(p, 1, 0, 16);
  assert_int_equal(h2_prio_close(p, 1), 0);
  assert_int_equal(h2_prio_num_nodes(p), 0);
  check_invariants(p);
  h2_prio_free(p);
}

static void test_memory(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  size_t empty = h2_prio_memory(p);
  assert_true(empty >= sizeof(h2_prio));
  for (uint32_t id = 1; id < 2000; id += 2) assert_int_equal(h2_prio_open(p, id, NULL), 0);
  size_t full = h2_prio_memory(p);
  assert_true(full >= empty + 1000 * sizeof(prio_node));
  for (uint32_t id = 1; id < 2000; id += 2) assert_int_equal(h2_prio_remove(p, id), 0);
  assert_true(h2_prio_memory(p) <= empty + 64 * sizeof(void *)); /* table shrank */
  h2_prio_free(p);
}

/* ---- shares --------------------------------------------------------------------- */

/* run picks |n| frames of |frame| bytes (or frame_of[id] if set) and counts
 * the bytes each stream got. */
static void run(h2_prio *p, int n, size_t frame, uint64_t *bytes, size_t nb) {
  memset(bytes, 0, nb * sizeof *bytes);
  for (int k = 0; k < n; k++) {
    uint32_t id = h2_prio_next(p);
    assert_true(id != 0 && id < nb);
    assert_int_equal(h2_prio_next(p), id); /* next has no side effect */
    bytes[id] += frame;
    assert_int_equal(h2_prio_charge(p, id, frame), 0);
  }
}

static void expect_share(int line, const uint64_t *bytes, uint32_t id, uint64_t want, uint64_t slack) {
  uint64_t got = bytes[id];
  if (got + slack < want || got > want + slack)
    fail_msg("line %d: stream %u got %llu bytes, want %llu +- %llu", line, id, (unsigned long long)got,
             (unsigned long long)want, (unsigned long long)slack);
}

static void test_share_siblings(void **state) {
  (void)state;
  static const struct {
    int line;
    uint16_t w[4];
    size_t frame;
  } v[] = {
      {__LINE__, {1, 3, 12, 0}, 1000},
      {__LINE__, {16, 16, 16, 16}, 16384},
      {__LINE__, {256, 1, 0, 0}, 1},
      {__LINE__, {7, 11, 13, 0}, 999},
      {__LINE__, {200, 100, 50, 6}, 4096},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    h2_prio *p = h2_prio_new(NULL, NULL);
    uint32_t sum = 0;
    for (int k = 0; k < 4 && v[i].w[k]; k++) {
      h2_prio_spec s = spec(0, v[i].w[k], 0);
      open_ready(p, (uint32_t)(1 + 2 * k), &s);
      sum += v[i].w[k];
    }
    int picks = (int)sum * 200;
    uint64_t bytes[16];
    run(p, picks, v[i].frame, bytes, 16);
    for (int k = 0; k < 4 && v[i].w[k]; k++)
      expect_share(v[i].line, bytes, (uint32_t)(1 + 2 * k), (uint64_t)picks * v[i].frame * v[i].w[k] / sum,
                   v[i].frame);
    check_invariants(p);
    h2_prio_free(p);
  }
}

/* Shares are in bytes: a stream sending small frames gets more frames. */
static void test_share_bytes(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  h2_prio_spec s = spec(0, 16, 0);
  open_ready(p, 1, &s);
  open_ready(p, 3, &s);
  uint64_t bytes[4] = {0};
  for (int k = 0; k < 11000; k++) {
    uint32_t id = h2_prio_next(p);
    size_t f = id == 1 ? 100 : 1000;
    bytes[id] += f;
    h2_prio_charge(p, id, f);
  }
  /* 11000 frames: 10000 of 100 octets and 1000 of 1000 octets. */
  expect_share(__LINE__, bytes, 1, 1000000, 1000);
  expect_share(__LINE__, bytes, 3, 1000000, 1000);
  h2_prio_free(p);
}

static void test_parent_first(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  h2_prio_spec s = spec(0, 16, 0);
  open_ready(p, 1, &s);
  s = spec(1, 1, 0);
  open_ready(p, 3, &s);
  s = spec(1, 3, 0);
  open_ready(p, 5, &s);
  s = spec(0, 16, 0);
  open_ready(p, 7, &s); /* a sibling of 1 */
  uint64_t bytes[8];
  run(p, 1000, 100, bytes, 8);
  /* 1 and 7 share the root equally; 3 and 5 wait for 1. */
  expect_share(__LINE__, bytes, 1, 50000, 100);
  expect_share(__LINE__, bytes, 7, 50000, 100);
  expect_share(__LINE__, bytes, 3, 0, 0);
  expect_share(__LINE__, bytes, 5, 0, 0);
  /* 1 runs out: its share goes to its children, 1:3. */
  assert_int_equal(h2_prio_set_ready(p, 1, 0), 0);
  run(p, 1600, 100, bytes, 8);
  expect_share(__LINE__, bytes, 7, 80000, 100);
  expect_share(__LINE__, bytes, 3, 20000, 100);
  expect_share(__LINE__, bytes, 5, 60000, 100);
  expect_share(__LINE__, bytes, 1, 0, 0);
  /* 1 has data again: it preempts its children. */
  assert_int_equal(h2_prio_set_ready(p, 1, 1), 0);
  run(p, 200, 100, bytes, 8);
  expect_share(__LINE__, bytes, 1, 10000, 100);
  expect_share(__LINE__, bytes, 3, 0, 0);
  /* Only the children left: all of it, 1:3. */
  assert_int_equal(h2_prio_set_ready(p, 1, 0), 0);
  assert_int_equal(h2_prio_set_ready(p, 7, 0), 0);
  run(p, 400, 100, bytes, 8);
  expect_share(__LINE__, bytes, 3, 10000, 100);
  expect_share(__LINE__, bytes, 5, 30000, 100);
  check_invariants(p);
  h2_prio_free(p);
}

static void test_nested_shares(void **state) {
  (void)state;
  /* root: A(1) B(1); A: A1(1) A2(3), A not ready -> B 1/2, A1 1/8, A2 3/8. */
  h2_prio *p = h2_prio_new(NULL, NULL);
  h2_prio_spec s = spec(0, 1, 0);
  assert_int_equal(h2_prio_open(p, 1, &s), 0);
  open_ready(p, 3, &s);
  s = spec(1, 1, 0);
  open_ready(p, 5, &s);
  s = spec(1, 3, 0);
  open_ready(p, 7, &s);
  uint64_t bytes[8];
  run(p, 8000, 1000, bytes, 8);
  expect_share(__LINE__, bytes, 3, 4000000, 1000);
  expect_share(__LINE__, bytes, 5, 1000000, 1000);
  expect_share(__LINE__, bytes, 7, 3000000, 1000);
  /* A reprioritization re-shapes the shares at once: 7 exclusive under
   * the root gets everything ... */
  s = spec(0, 16, 1);
  assert_int_equal(h2_prio_set(p, 7, &s), 0);
  run(p, 100, 1000, bytes, 8);
  expect_share(__LINE__, bytes, 7, 100000, 0);
  /* ... until it is done; then 1's subtree (5) and 3 split 7's queue. */
  assert_int_equal(h2_prio_set_ready(p, 7, 0), 0);
  run(p, 200, 1000, bytes, 8);
  expect_share(__LINE__, bytes, 3, 100000, 1000);
  expect_share(__LINE__, bytes, 5, 100000, 1000);
  check_invariants(p);
  h2_prio_free(p);
}

static void test_exclusive_chain(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  /* Each stream exclusive on the previous one (Chrome's pattern). */
  open_ready(p, 1, NULL);
  for (uint32_t id = 3; id <= 9; id += 2) {
    h2_prio_spec s = spec(id - 2, 220, 1);
    open_ready(p, id, &s);
  }
  for (uint32_t id = 1; id <= 9; id += 2) {
    for (int k = 0; k < 5; k++) {
      assert_int_equal(h2_prio_next(p), id);
      h2_prio_charge(p, id, 16384);
    }
    assert_int_equal(h2_prio_close(p, id), 0);
    check_invariants(p);
  }
  assert_int_equal(h2_prio_next(p), 0);
  /* A stream inserted exclusively under the root goes before the chain. */
  h2_prio_free(p);
  p = h2_prio_new(NULL, NULL);
  open_ready(p, 1, NULL);
  h2_prio_spec s = spec(1, 16, 1);
  open_ready(p, 3, &s);
  s = spec(0, 16, 1);
  open_ready(p, 5, &s);
  assert_int_equal(h2_prio_next(p), 5);
  assert_int_equal(h2_prio_set_ready(p, 5, 0), 0);
  assert_int_equal(h2_prio_next(p), 1);
  assert_int_equal(h2_prio_set_ready(p, 1, 0), 0);
  assert_int_equal(h2_prio_next(p), 3);
  check_invariants(p);
  h2_prio_free(p);
}

/* A stream that was idle does not bank credit; one that sent too much pays. */
static void test_no_hoarding(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  open_ready(p, 1, NULL);
  assert_int_equal(h2_prio_open(p, 3, NULL), 0);
  uint64_t bytes[4];
  run(p, 1000, 100, bytes, 4);
  expect_share(__LINE__, bytes, 1, 100000, 0);
  assert_int_equal(h2_prio_set_ready(p, 3, 1), 0);
  run(p, 100, 100, bytes, 4);
  expect_share(__LINE__, bytes, 1, 5000, 100);
  expect_share(__LINE__, bytes, 3, 5000, 100);
  h2_prio_free(p);
}

/* h2_prio_charge after the picked stream was removed finds nothing. */
static void test_charge_after_remove(void **state) {
  (void)state;
  for (int mode = 0; mode < 2; mode++) {
    h2_prio_config cfg = {0, 0, mode};
    h2_prio *p = h2_prio_new(NULL, &cfg);
    open_ready(p, 1, NULL);
    assert_int_equal(h2_prio_next(p), 1);
    assert_int_equal(h2_prio_remove(p, 1), 0);
    assert_int_equal(h2_prio_charge(p, 1, 100), H2_ERR_NOT_FOUND);
    h2_prio_spec s = spec(0, 16, 0); /* an explicit priority: remembered */
    open_ready(p, 3, &s);
    assert_int_equal(h2_prio_next(p), 3);
    assert_int_equal(h2_prio_close(p, 3), 0);
    assert_int_equal(h2_prio_charge(p, 3, 100), 0); /* closed, remembered */
    assert_int_equal(h2_prio_next(p), 0);
    check_invariants(p);
    h2_prio_free(p);
  }
}

/* A stream opened without a priority that never got one is forgotten when
 * it closes (nothing to remember); one with any signal is remembered. */
static void test_close_plain_forgets(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  h2_prio_info in;
  open_ready(p, 1, NULL);
  assert_int_equal(h2_prio_close(p, 1), 0);
  assert_int_equal(h2_prio_get(p, 1, &in), H2_ERR_NOT_FOUND);
  assert_int_equal(h2_prio_num_inactive(p), 0);
  assert_int_equal(h2_prio_close(p, 1), H2_ERR_NOT_FOUND);
  /* A later reference makes it an idle node with the default priority. */
  h2_prio_spec s = spec(1, 7, 0);
  assert_int_equal(h2_prio_set(p, 5, &s), 0);
  EXPECT_NODE(p, 5, 1, 7);
  EXPECT_NODE(p, 1, 0, 16);
  assert_int_equal(info(p, 1).state, H2_PRIO_STATE_IDLE);
  /* Any signal while open keeps it remembered: a PRIORITY frame (even one
   * restating the default), an urgency, a child, a non-root parent. */
  open_ready(p, 7, NULL);
  s = spec(0, 16, 0);
  assert_int_equal(h2_prio_set(p, 7, &s), 0);
  assert_int_equal(h2_prio_close(p, 7), 0);
  assert_int_equal(info(p, 7).state, H2_PRIO_STATE_CLOSED);
  open_ready(p, 9, NULL);
  assert_int_equal(h2_prio_set_urgency(p, 9, 3, 0), 0);
  assert_int_equal(h2_prio_close(p, 9), 0);
  assert_int_equal(info(p, 9).state, H2_PRIO_STATE_CLOSED);
  open_ready(p, 11, NULL);
  s = spec(11, 16, 0);
  assert_int_equal(h2_prio_open(p, 13, &s), 0);
  assert_int_equal(h2_prio_close(p, 11), 0);
  assert_int_equal(info(p, 11).state, H2_PRIO_STATE_CLOSED);
  EXPECT_NODE(p, 13, 11, 16);
  open_ready(p, 15, NULL);
  s = spec(0, 16, 1); /* 15 moves under 17 */
  assert_int_equal(h2_prio_open(p, 17, &s), 0);
  assert_int_equal(h2_prio_close(p, 15), 0);
  assert_int_equal(info(p, 15).state, H2_PRIO_STATE_CLOSED);
  /* A forgotten plain stream does not evict remembered ones. */
  size_t before = h2_prio_num_inactive(p);
  for (uint32_t id = 101; id < 1101; id += 2) {
    open_ready(p, id, NULL);
    assert_int_equal(h2_prio_close(p, id), 0);
  }
  assert_int_equal(h2_prio_num_inactive(p), before);
  assert_int_equal(info(p, 7).state, H2_PRIO_STATE_CLOSED);
  check_invariants(p);
  h2_prio_free(p);
}

/* ---- randomized: every invariant after every step ------------------------------------ */

static uint32_t rnd(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

/* step does one random operation on ids 1..2*range-1; returns its rc. */
static int step(h2_prio *p, uint32_t *seed, uint32_t range) {
  uint32_t id = 1 + 2 * (rnd(seed) % range);
  h2_prio_spec s;
  s.parent = rnd(seed) % 4 == 0 ? 0 : 1 + 2 * (rnd(seed) % range);
  s.weight = (uint16_t)(1 + rnd(seed) % 256);
  s.exclusive = (uint8_t)(rnd(seed) % 3 == 0);
  switch (rnd(seed) % 13) {
    case 0: case 1: return h2_prio_open(p, id, rnd(seed) % 2 ? &s : NULL);
    case 2: case 3: return h2_prio_set(p, id, &s);
    case 4: return h2_prio_close(p, id);
    case 5: return h2_prio_remove(p, id);
    case 6: case 7: case 8: return h2_prio_set_ready(p, id, (int)(rnd(seed) % 4 != 0));
    case 9: {
      uint32_t n = h2_prio_next(p);
      return n ? h2_prio_charge(p, n, 1 + rnd(seed) % 20000) : 0;
    }
    case 10: return h2_prio_set_urgency(p, id, (uint8_t)(rnd(seed) % 8), (int)(rnd(seed) % 2));
    case 11: return h2_prio_charge(p, id, rnd(seed) % 100);
    default:
      if (rnd(seed) % 50 == 0)
        return h2_prio_set_mode(p, (int)(rnd(seed) % 2));
      return h2_prio_set_header(p, id, (const uint8_t *)"u=2, i", 6);
  }
}

static int expected_rc(int rc) {
  return rc == 0 || rc == H2_ERR_NOT_FOUND || rc == H2_ERR_STATE || rc == H2_ERR_PROTOCOL;
}

static void test_random_invariants(void **state) {
  (void)state;
  for (uint32_t run_no = 0; run_no < 40; run_no++) {
    uint32_t seed = 0x9e3779b9u + run_no * 7919u;
    h2_prio_config cfg = {1 + run_no % 9, run_no % 13 == 0, (int)(run_no % 3 == 0)};
    h2_prio *p = h2_prio_new(NULL, &cfg);
    assert_non_null(p);
    uint32_t range = 8 + run_no * 3;
    for (int k = 0; k < 3000; k++) {
      int rc = step(p, &seed, range);
      if (!expected_rc(rc)) fail_msg("run %u step %d: rc %d", run_no, k, rc);
      check_invariants(p);
    }
    h2_prio_free(p);
  }
}

/* ---- failing allocations --------------------------------------------------------- */

static void test_failing_allocations(void **state) {
  (void)state;
  for (long n = 0;; n++) {
    fail_alloc fa = {{fa_malloc, fa_realloc, fa_free, NULL}, n, 0, 0, 0};
    fa.mem.user = &fa;
    h2_prio_config cfg = {5, 0, H2_PRIO_MODE_TREE};
    h2_prio *p = h2_prio_new(&fa.mem, &cfg);
    if (!p) {
      assert_true(fa.failed);
      assert_int_equal(fa.live, 0);
      continue;
    }
    uint32_t seed = 4242;
    int nomem = 0;
    for (int k = 0; k < 400; k++) {
      size_t nodes = h2_prio_num_nodes(p);
      int rc = step(p, &seed, 40);
      if (rc == H2_ERR_NOMEM) {
        nomem++;
        assert_int_equal(h2_prio_num_nodes(p), nodes); /* nothing created */
      } else if (!expected_rc(rc)) {
        fail_msg("fail_at %ld step %d: rc %d", n, k, rc);
      }
      check_invariants(p);
    }
    /* One last burst that forces the table to grow. */
    for (uint32_t id = 1001; id < 1201; id += 2) {
      int rc = h2_prio_open(p, id, NULL);
      assert_true(rc == 0 || rc == H2_ERR_NOMEM);
      nomem += rc == H2_ERR_NOMEM;
    }
    check_invariants(p);
    h2_prio_free(p);
    if (fa.live != 0) fail_msg("fail_at %ld: %ld blocks leaked", n, fa.live);
    if (!fa.failed) break; /* n passed the last allocation */
  }
}

/* h2_prio_trim: an empty scheduler that served a few plain streams gives
 * back its spare nodes and id table; one with many spares keeps them; both
 * work on afterwards. */
static void test_trim(void **state) {
  (void)state;
  h2_prio *p = h2_prio_new(NULL, NULL);
  assert_non_null(p);
  size_t empty = h2_prio_memory(p);
  assert_int_equal(h2_prio_open(p, 1, NULL), 0);
  assert_int_equal(h2_prio_close(p, 1), 0);
  assert_true(h2_prio_memory(p) > empty); /* a spare node and the table */
  h2_prio_trim(p);
  assert_int_equal(h2_prio_memory(p), empty);
  for (uint32_t id = 3; id < 3 + 2 * 40; id += 2) assert_int_equal(h2_prio_open(p, id, NULL), 0);
  for (uint32_t id = 3; id < 3 + 2 * 40; id += 2) assert_int_equal(h2_prio_close(p, id), 0);
  size_t busy = h2_prio_memory(p);
  h2_prio_trim(p);
  assert_int_equal(h2_prio_memory(p), busy); /* 40 spares: kept */
  assert_int_equal(h2_prio_open(p, 201, NULL), 0);
  h2_prio_trim(p); /* a node is live: nothing to do */
  assert_int_equal(h2_prio_close(p, 201), 0);
  h2_prio_trim(NULL);
  h2_prio_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_default_priority),
      cmocka_unit_test(test_exclusive_insert),
      cmocka_unit_test(test_reprioritize_under_descendant),
      cmocka_unit_test(test_self_dependency),
      cmocka_unit_test(test_remove_reparents),
      cmocka_unit_test(test_close_keeps_node),
      cmocka_unit_test(test_inactive_bound),
      cmocka_unit_test(test_memory),
      cmocka_unit_test(test_share_siblings),
      cmocka_unit_test(test_share_bytes),
      cmocka_unit_test(test_parent_first),
      cmocka_unit_test(test_nested_shares),
      cmocka_unit_test(test_exclusive_chain),
      cmocka_unit_test(test_no_hoarding),
      cmocka_unit_test(test_charge_after_remove),
      cmocka_unit_test(test_close_plain_forgets),
      cmocka_unit_test(test_random_invariants),
      cmocka_unit_test(test_failing_allocations),
      cmocka_unit_test(test_trim),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
