/* prio_sched.c: the send scheduler. Both schemes keep only ready work in
 * their queues, so choosing a stream never looks at idle ones.
 *
 * Tree mode: every node has a queue of the children that are ready or
 * have a ready descendant (an intrusive pairing heap, plus a lane: a list
 * already in order that takes the children joining in order, the common
 * case; see prio_internal.h), ordered by virtual
 * finish time (start-time fair queueing): a child that joins starts at the
 * parent's virtual time; sending b bytes advances a node and each ancestor
 * by b * 2^16 / weight (the remainder is carried, so shares are exact over
 * time). h2_prio_next walks from the root taking each queue's minimum and
 * stops at the first ready node, so a ready parent blocks its subtree.
 *
 * RFC 9218 mode: eight buckets; a bitmap finds the lowest non-empty one.
 * Each bucket has a pairing heap of non-incremental streams keyed by id and
 * a ring of incremental ones. */
#include <string.h>

#include "prio_internal.h"

#define SCALE 65536u
#define MAX_CHARGE (UINT64_C(1) << 40)

/* ---- intrusive pairing heap ---------------------------------------------- */

static int before(const prio_node *a, const prio_node *b) {
  int64_t d = (int64_t)(a->key - b->key); /* wraps safely */
  if (d != 0) return d < 0;
  return a->seq < b->seq;
}

/* meld joins two heap roots; returns the new root (its hp_next/hp_prev are
 * left NULL for the caller). */
static prio_node *meld(prio_node *a, prio_node *b) {
  if (!a) return b;
  if (!b) return a;
  if (before(b, a)) {
    prio_node *t = a;
    a = b;
    b = t;
  }
  b->hp_prev = a;
  b->hp_next = a->hp_child;
  if (a->hp_child) a->hp_child->hp_prev = b;
  a->hp_child = b;
  a->hp_next = a->hp_prev = NULL;
  return a;
}

/* merge_pairs melds a sibling list into one heap (two-pass). */
static prio_node *merge_pairs(prio_node *first) {
  if (!first) return NULL;
  prio_node *stack = NULL;
  prio_node *a = first;
  while (a) {
    prio_node *b = a->hp_next;
    prio_node *next = b ? b->hp_next : NULL;
    a->hp_next = a->hp_prev = NULL;
    if (b) b->hp_next = b->hp_prev = NULL;
    prio_node *m = meld(a, b);
    m->hp_next = stack;
    stack = m;
    a = next;
  }
  prio_node *r = stack;
  stack = stack->hp_next;
  r->hp_next = NULL;
  while (stack) {
    prio_node *s = stack;
    stack = s->hp_next;
    s->hp_next = NULL;
    r = meld(r, s);
  }
  r->hp_next = r->hp_prev = NULL;
  return r;
}

static prio_node *heap_insert(prio_node *h, prio_node *x) {
  x->hp_child = x->hp_next = x->hp_prev = NULL;
  return meld(h, x);
}

static prio_node *heap_remove(prio_node *h, prio_node *x) {
  if (x == h) {
    prio_node *r = merge_pairs(x->hp_child);
    x->hp_child = NULL;
    return r;
  }
  if (x->hp_prev->hp_child == x)
    x->hp_prev->hp_child = x->hp_next;
  else
    x->hp_prev->hp_next = x->hp_next;
  if (x->hp_next) x->hp_next->hp_prev = x->hp_prev;
  x->hp_next = x->hp_prev = NULL;
  prio_node *sub = merge_pairs(x->hp_child);
  x->hp_child = NULL;
  return meld(h, sub);
}

/* ---- tree mode ------------------------------------------------------------ */

/* q_insert queues |n| in |par|'s queue; n->seq is the newest sequence
 * number, so n goes last in the lane whenever its key is not below the lane
 * tail's: the lane stays in (key, seq) order. */
static void q_insert(prio_node *par, prio_node *n) {
  prio_node *t = par->lane_tail;
  if (t && (int64_t)(n->key - t->key) < 0) {
    par->queue = heap_insert(par->queue, n);
    return;
  }
  n->hp_child = n->hp_next = NULL;
  n->hp_prev = t;
  if (t)
    t->hp_next = n;
  else
    par->lane_head = n;
  par->lane_tail = n;
  n->in_lane = 1;
}

static void q_remove(prio_node *par, prio_node *n) {
  if (!n->in_lane) {
    par->queue = heap_remove(par->queue, n);
    return;
  }
  if (n->hp_prev)
    n->hp_prev->hp_next = n->hp_next;
  else
    par->lane_head = n->hp_next;
  if (n->hp_next)
    n->hp_next->hp_prev = n->hp_prev;
  else
    par->lane_tail = n->hp_prev;
  n->hp_next = n->hp_prev = NULL;
  n->in_lane = 0;
}

/* q_min is the queue's first child, NULL if none. */
static prio_node *q_min(const prio_node *par) {
  prio_node *h = par->queue, *l = par->lane_head;
  if (!h) return l;
  if (!l) return h;
  return before(l, h) ? l : h;
}

static int q_empty(const prio_node *par) { return !par->queue && !par->lane_head; }

/* tq_insert queues |n| (not queued) in its parent, and the parent in its
 * parent, up to the first ancestor already queued. */
static void tq_insert(h2_prio *p, prio_node *n) {
  for (;;) {
    prio_node *par = n->parent;
    if ((int64_t)(n->key - par->vt) < 0) n->key = par->vt; /* no hoarded credit */
    n->seq = ++p->seq;
    q_insert(par, n);
    n->queued = 1;
    if (par == &p->root || par->queued) return;
    n = par;
  }
}

/* tq_remove unqueues |n| (queued), and each ancestor left with nothing. */
static void tq_remove(h2_prio *p, prio_node *n) {
  for (;;) {
    prio_node *par = n->parent;
    q_remove(par, n);
    n->queued = 0;
    if (par == &p->root || par->ready || !q_empty(par) || !par->queued) return;
    n = par;
  }
}

/* ---- RFC 9218 mode -------------------------------------------------------- */

static void b_insert(h2_prio *p, prio_node *n) {
  prio_bucket *b = &p->buckets[n->urgency];
  if (!n->incremental) {
    n->key = n->id;
    n->seq = 0;
    b->seq_heap = heap_insert(b->seq_heap, n);
  } else {
    n->hp_child = NULL;
    if (!b->rr) {
      n->hp_next = n->hp_prev = n;
      b->rr = n;
    } else { /* append at the tail: just before the next one served */
      prio_node *tail = b->rr->hp_prev;
      n->hp_prev = tail;
      n->hp_next = b->rr;
      tail->hp_next = n;
      b->rr->hp_prev = n;
    }
  }
  n->queued = 1;
  p->bucket_bits = (uint8_t)(p->bucket_bits | (1u << n->urgency));
}

static void b_remove(h2_prio *p, prio_node *n) {
  prio_bucket *b = &p->buckets[n->urgency];
  if (!n->incremental) {
    b->seq_heap = heap_remove(b->seq_heap, n);
  } else {
    if (n->hp_next == n) {
      b->rr = NULL;
    } else {
      n->hp_prev->hp_next = n->hp_next;
      n->hp_next->hp_prev = n->hp_prev;
      if (b->rr == n) b->rr = n->hp_next;
    }
    n->hp_next = n->hp_prev = NULL;
  }
  n->queued = 0;
  if (!b->seq_heap && !b->rr) p->bucket_bits = (uint8_t)(p->bucket_bits & ~(1u << n->urgency));
}

/* ---- hooks for the tree --------------------------------------------------- */

void prio_sched_before_move(h2_prio *p, prio_node *n) {
  if (p->mode == H2_PRIO_MODE_TREE && n->queued) tq_remove(p, n);
}

void prio_sched_after_move(h2_prio *p, prio_node *n) {
  if (p->mode == H2_PRIO_MODE_TREE && !n->queued && (n->ready || !q_empty(n))) tq_insert(p, n);
}

void prio_sched_rebase(h2_prio *p, prio_node *n) {
  if (p->mode != H2_PRIO_MODE_TREE) return;
  n->key = n->parent->vt;
  n->rem = 0;
}

void prio_sched_unready(h2_prio *p, prio_node *n) {
  if (!n->ready) return;
  n->ready = 0;
  if (p->mode == H2_PRIO_MODE_TREE) {
    if (n->queued && q_empty(n)) tq_remove(p, n);
  } else if (n->queued) {
    b_remove(p, n);
  }
}

void prio_sched_set_urgency(h2_prio *p, prio_node *n, uint8_t urgency, uint8_t incremental) {
  int requeue = p->mode == H2_PRIO_MODE_RFC9218 && n->queued;
  if (requeue) b_remove(p, n);
  n->urgency = urgency;
  n->incremental = incremental;
  n->plain = 0;
  if (requeue) b_insert(p, n);
}

/* ---- public --------------------------------------------------------------- */

int h2_prio_set_ready(h2_prio *p, uint32_t id, int ready) {
  if (!prio_valid_id(id)) return H2_ERR_INVALID_ARG;
  prio_node *n = prio_find_next(p, id);
  if (!n) return H2_ERR_NOT_FOUND;
  if (!ready) {
    prio_sched_unready(p, n);
    return 0;
  }
  if (n->state != H2_PRIO_STATE_ACTIVE) return H2_ERR_STATE;
  if (n->ready) return 0;
  n->ready = 1;
  if (p->mode == H2_PRIO_MODE_TREE) {
    if (!n->queued) tq_insert(p, n);
  } else {
    b_insert(p, n);
  }
  return 0;
}

uint32_t h2_prio_next(h2_prio *p) {
  if (p->mode == H2_PRIO_MODE_RFC9218) {
    if (!p->bucket_bits) return 0;
    unsigned u = (unsigned)__builtin_ctz(p->bucket_bits);
    const prio_bucket *b = &p->buckets[u];
    p->last = b->seq_heap ? b->seq_heap : b->rr;
    return p->last->id;
  }
  prio_node *n = &p->root;
  for (;;) {
    prio_node *c = q_min(n);
    if (!c) return 0;
    if (c->ready) {
      p->last = c;
      return c->id;
    }
    n = c;
  }
}

int h2_prio_charge(h2_prio *p, uint32_t id, size_t bytes) {
  if (!prio_valid_id(id)) return H2_ERR_INVALID_ARG;
  prio_node *x = prio_find_next(p, id);
  if (!x) return H2_ERR_NOT_FOUND;
  if (p->mode == H2_PRIO_MODE_RFC9218) {
    if (x->queued && x->incremental) {
      prio_bucket *b = &p->buckets[x->urgency];
      if (b->rr == x) {
        b->rr = x->hp_next;
      } else {
        b_remove(p, x);
        b_insert(p, x);
      }
    }
    return 0;
  }
  uint64_t cost = (uint64_t)bytes < MAX_CHARGE ? (uint64_t)bytes : MAX_CHARGE;
  for (prio_node *n = x; n != &p->root;) {
    prio_node *par = n->parent;
    if ((int64_t)(n->key - par->vt) > 0) par->vt = n->key;
    uint64_t num = cost * SCALE + n->rem;
    uint32_t w = n->weight;
    if ((w & (w - 1)) == 0) { /* a power of two (the default 16): no division */
      n->key += num >> __builtin_ctz(w);
      n->rem = (uint32_t)(num & (w - 1));
    } else {
      n->key += num / w;
      n->rem = (uint32_t)(num % w);
    }
    if (n->queued) {
      q_remove(par, n);
      n->seq = ++p->seq;
      q_insert(par, n);
    }
    n = par;
  }
  return 0;
}

static void reset_sched(prio_node *n) {
  n->queue = NULL;
  n->lane_head = n->lane_tail = NULL;
  n->in_lane = 0;
  n->queued = 0;
  n->hp_child = n->hp_next = n->hp_prev = NULL;
  n->key = 0;
  n->rem = 0;
  n->vt = 0;
}

int h2_prio_set_mode(h2_prio *p, int mode) {
  if (mode != H2_PRIO_MODE_TREE && mode != H2_PRIO_MODE_RFC9218) return H2_ERR_INVALID_ARG;
  if (mode == p->mode) return 0;
  if (mode == H2_PRIO_MODE_RFC9218) {
    if (prio_buckets_alloc(p)) return H2_ERR_NOMEM;
  } else {
    prio_buckets_free(p);
  }
  reset_sched(&p->root);
  p->bucket_bits = 0;
  for (size_t i = 0; i < p->cap; i++)
    if (p->slots[i]) reset_sched(p->slots[i]);
  p->mode = mode;
  for (size_t i = 0; i < p->cap; i++) {
    prio_node *n = p->slots[i];
    if (!n || !n->ready || n->queued) continue;
    if (mode == H2_PRIO_MODE_TREE)
      tq_insert(p, n);
    else
      b_insert(p, n);
  }
  return 0;
}

int h2_prio_mode(const h2_prio *p) { return p->mode; }
