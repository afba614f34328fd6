/* test_prio_util.h: helpers shared by the scheduler tests, test_prio.c
 * (RFC 7540 tree and the send scheduler) and test_prio_rfc9218.c (RFC 9218
 * extensible priorities); header only, include after <cmocka.h>: stream
 * specs and lookups, a white-box checker of every internal invariant of
 * h2_prio (prio_internal.h), and an allocator that fails its n-th call. */
#ifndef TEST_PRIO_UTIL_H
#define TEST_PRIO_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h2_prio.h"
#include "prio_internal.h" /* white-box invariant checks only */

static inline h2_prio_spec spec(uint32_t parent, uint16_t weight, int excl) {
  h2_prio_spec s = {parent, weight, (uint8_t)excl};
  return s;
}

static inline h2_prio_info info(h2_prio *p, uint32_t id) {
  h2_prio_info in;
  memset(&in, 0, sizeof in);
  int rc = h2_prio_get(p, id, &in);
  if (rc != 0) fail_msg("h2_prio_get(%u) = %d", id, rc);
  return in;
}

#define EXPECT_NODE(p, id, par, w)                                                   \
  do {                                                                              \
    h2_prio_info in_ = info((p), (id));                                             \
    if (in_.parent != (par) || in_.weight != (w))                                   \
      fail_msg("line %d: stream %u: parent %u weight %u, want parent %u weight %u", \
               __LINE__, (unsigned)(id), in_.parent, in_.weight, (unsigned)(par),    \
               (unsigned)(w));                                                       \
  } while (0)

static inline void open_ready(h2_prio *p, uint32_t id, const h2_prio_spec *s) {
  assert_int_equal(h2_prio_open(p, id, s), 0);
  assert_int_equal(h2_prio_set_ready(p, id, 1), 0);
}

/* ---- white-box invariant checker --------------------------------------------- */

static inline size_t check_heap(const prio_node *h) {
  size_t n = 1;
  const prio_node *prev = h;
  for (const prio_node *c = h->hp_child; c; c = c->hp_next) {
    assert_true(c->hp_prev == prev);
    /* heap order: a child never comes before its heap parent */
    int64_t d = (int64_t)(c->key - h->key);
    assert_true(d > 0 || (d == 0 && c->seq >= h->seq));
    n += check_heap(c);
    prev = c;
  }
  return n;
}

static inline size_t check_subtree(h2_prio *p, const prio_node *n, int depth) {
  assert_true(depth < 10000);
  size_t total = 0, k = 0, queued = 0;
  uint32_t sum = 0;
  const prio_node *prev = NULL;
  for (const prio_node *c = n->first_child; c; c = c->next_sib) {
    assert_true(c->parent == n);
    assert_true(c->prev_sib == prev);
    assert_true(c->weight >= 1 && c->weight <= 256);
    assert_true(prio_find(p, c->id) == c);
    if (c->state != H2_PRIO_STATE_ACTIVE) assert_false(c->ready);
    if (p->mode == H2_PRIO_MODE_TREE) {
      assert_int_equal(c->queued, (c->ready || c->queue || c->lane_head) ? 1 : 0);
      if (!c->queued) assert_false(c->in_lane);
      if (c->queued) queued++;
    } else {
      assert_int_equal(c->queued, c->ready);
    }
    sum += c->weight;
    k++;
    total += 1 + check_subtree(p, c, depth + 1);
    prev = c;
  }
  assert_int_equal(sum, n->sum_child_weight);
  assert_int_equal(k, n->num_children);
  if (p->mode == H2_PRIO_MODE_TREE) {
    size_t inheap = n->queue ? check_heap(n->queue) : 0;
    /* the lane: a list in (key, seq) order, its members flagged */
    size_t inlane = 0;
    const prio_node *lp = NULL;
    for (const prio_node *l = n->lane_head; l; l = l->hp_next) {
      assert_true(l->parent == n && l->queued && l->in_lane);
      assert_true(l->hp_prev == lp);
      assert_null(l->hp_child);
      if (lp) {
        int64_t d = (int64_t)(l->key - lp->key);
        assert_true(d > 0 || (d == 0 && l->seq > lp->seq));
      }
      lp = l;
      inlane++;
    }
    assert_true(n->lane_tail == lp);
    assert_int_equal(inheap + inlane, queued);
    if (n->queue) assert_true(n->queue->hp_prev == NULL && n->queue->hp_next == NULL && !n->queue->in_lane);
  } else {
    assert_null(n->queue);
    assert_null(n->lane_head);
  }
  return total;
}

static inline void check_invariants(h2_prio *p) {
  assert_int_equal(check_subtree(p, &p->root, 0), p->count);
  size_t inactive = 0;
  const prio_node *prev = NULL;
  for (const prio_node *n = p->in_head; n; n = n->in_next) {
    assert_true(n->in_prev == prev);
    assert_true(n->state != H2_PRIO_STATE_ACTIVE);
    inactive++;
    prev = n;
  }
  assert_true(p->in_tail == prev);
  assert_int_equal(inactive, p->num_inactive);
  assert_true(p->num_inactive <= p->max_inactive);
  size_t in_table = 0;
  for (size_t i = 0; i < p->cap; i++) in_table += p->slots[i] != NULL;
  assert_int_equal(in_table, p->count);
  if (p->mode == H2_PRIO_MODE_RFC9218) {
    size_t ready = 0, inb = 0;
    for (size_t i = 0; i < p->cap; i++) ready += p->slots[i] && p->slots[i]->ready;
    for (int u = 0; u < 8; u++) {
      const prio_bucket *b = &p->buckets[u];
      assert_int_equal(((p->bucket_bits >> u) & 1) != 0, b->seq_heap || b->rr);
      if (b->seq_heap) inb += check_heap(b->seq_heap);
      if (b->rr) {
        const prio_node *r = b->rr;
        do {
          assert_true(r->incremental && r->urgency == u && r->ready);
          assert_true(r->hp_next->hp_prev == r);
          inb++;
          r = r->hp_next;
        } while (r != b->rr);
      }
    }
    assert_int_equal(inb, ready);
  }
  /* The scheduler's choice is ready, and in tree mode none of its
   * ancestors is ready. */
  uint32_t id = h2_prio_next(p);
  if (id) {
    const prio_node *n = prio_find(p, id);
    assert_non_null(n);
    assert_true(n->ready && n->state == H2_PRIO_STATE_ACTIVE);
    if (p->mode == H2_PRIO_MODE_TREE) {
      for (const prio_node *a = n->parent; a != &p->root; a = a->parent) assert_false(a->ready);
    } else {
      /* Brute force: lowest urgency; in it non-incremental first, by id. */
      for (size_t i = 0; i < p->cap; i++) {
        const prio_node *m = p->slots[i];
        if (!m || !m->ready) continue;
        assert_true(m->urgency >= n->urgency);
        if (m->urgency != n->urgency) continue;
        if (!m->incremental) assert_true(!n->incremental && n->id <= m->id);
      }
    }
  } else {
    for (size_t i = 0; i < p->cap; i++) assert_false(p->slots[i] && p->slots[i]->ready);
  }
}

/* ---- failing allocations ------------------------------------------------------- */

/* fail_alloc: an h2_mem whose |fail_at|-th call fails; counts live blocks. */
typedef struct fail_alloc {
  h2_mem mem;
  long fail_at; /* the n-th allocation (0-based) fails; -1: none */
  long calls;
  long live;
  int failed;
} fail_alloc;

static inline void *fa_malloc(size_t n, void *u) {
  fail_alloc *f = u;
  if (f->calls++ == f->fail_at) {
    f->failed = 1;
    return NULL;
  }
  void *q = malloc(n ? n : 1);
  if (q) f->live++;
  return q;
}

static inline void *fa_realloc(void *ptr, size_t n, void *u) {
  fail_alloc *f = u;
  if (f->calls++ == f->fail_at) {
    f->failed = 1;
    return NULL;
  }
  void *q = realloc(ptr, n ? n : 1);
  if (q && !ptr) f->live++;
  return q;
}

static inline void fa_free(void *ptr, void *u) {
  fail_alloc *f = u;
  if (ptr) f->live--;
  free(ptr);
}

#endif
