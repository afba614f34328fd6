/* prio_internal.h: the data shared by prio_table.c (object, id hash,
 * node lifetime, inactive bound), prio_tree.c (RFC 7540 tree), prio_sched.c
 * (the send scheduler) and prio_field.c (RFC 9218 signals). Not installed. */
#ifndef H2_PRIO_INTERNAL_H
#define H2_PRIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "h2_prio.h"

typedef struct prio_node prio_node;

struct prio_node {
  uint32_t id;
  uint16_t weight; /* 1..256 */
  uint8_t state;   /* H2_PRIO_STATE_* */
  uint8_t ready;   /* has a frame to send (active nodes only) */
  uint8_t queued;  /* tree: in parent->queue; 9218: in its bucket */
  uint8_t urgency;
  uint8_t incremental;
  uint8_t update_seen; /* a PRIORITY_UPDATE set urgency: header ignored */
  uint8_t plain;       /* opened without a priority and never given one */
  uint8_t in_lane;     /* tree: queued in the parent's lane, not its heap */

  /* The dependency tree. */
  prio_node *parent; /* NULL only for the root */
  prio_node *first_child, *next_sib, *prev_sib;
  uint32_t num_children;
  uint32_t sum_child_weight;

  /* The inactive (idle + closed) FIFO, oldest first. */
  prio_node *in_prev, *in_next;

  /* Membership in one scheduling structure: the parent's pairing heap
   * (tree mode), a bucket's id heap or round-robin ring (9218 mode). */
  prio_node *hp_child, *hp_next, *hp_prev;
  uint64_t key;   /* tree: virtual finish time; 9218 heap: stream id */
  uint64_t seq;   /* tie-break: insertion order */
  uint32_t rem;   /* carried remainder of bytes * scale / weight */

  /* Tree mode: this node's own queue of queued children, and its virtual
   * time (the key of the child served last). The queue is two parts: a
   * lane, a list already in (key, seq) order that takes every child joining
   * with a key not below the lane's last one (the common case: children
   * join at the virtual time, which never goes back), linked by
   * hp_next/hp_prev; and a pairing heap for the others. The next child is
   * the lesser of the two fronts. */
  prio_node *queue;
  prio_node *lane_head, *lane_tail;
  uint64_t vt;
};

typedef struct prio_bucket {
  prio_node *seq_heap; /* non-incremental, by stream id */
  prio_node *rr;       /* incremental: ring, rr = the next one to serve */
} prio_bucket;

struct h2_prio {
  const h2_mem *mem;
  uint8_t mode;
  uint8_t bucket_bits; /* bit u set: bucket u non-empty (RFC 9218 mode) */
  uint32_t max_inactive;
  size_t mem_bytes;

  prio_node root;

  /* id -> node, open addressing with linear probing, load <= 1/2. */
  prio_node **slots;
  uint32_t cap;   /* power of two, or 0 */
  uint32_t count; /* nodes in the table */

  prio_node *in_head, *in_tail;
  uint32_t num_inactive;
  uint32_t num_spare;

  /* Freed nodes kept for reuse (linked by |parent|), at most PRIO_SPARE_MAX,
   * still counted in mem_bytes; released when the table empties. */
  prio_node *spare;

  uint64_t seq;
  prio_node *last; /* h2_prio_next's answer or the node h2_prio_open just
                    * made (prio_find_next checks it first) */
  /* RFC 9218 mode only: the eight urgency buckets, allocated (and counted
   * in mem_bytes) when that mode is entered, freed when leaving it; NULL in
   * tree mode, which most connections stay in. */
  prio_bucket *buckets;
};

/* prio_table.c */
/* prio_buckets_alloc gives |p| zeroed RFC 9218 buckets (no-op when it has
 * them): 0 or H2_ERR_NOMEM. prio_buckets_free releases them. */
int prio_buckets_alloc(h2_prio *p);
void prio_buckets_free(h2_prio *p);
/* prio_reserve makes room in the hash table for |n| more nodes. 0 or
 * H2_ERR_NOMEM. */
int prio_reserve(h2_prio *p, size_t n);
/* prio_node_alloc_slow is prio_node_alloc when no spare node is kept. */
prio_node *prio_node_alloc_slow(h2_prio *p);
/* prio_node_free_slow frees |n| (the spare list is full). */
void prio_node_free_slow(h2_prio *p, prio_node *n);
void prio_table_del(h2_prio *p, prio_node *n);
void prio_table_maybe_shrink(h2_prio *p);
void prio_inactive_push(h2_prio *p, prio_node *n);
void prio_inactive_unlink(h2_prio *p, prio_node *n);
/* prio_make_room evicts the oldest inactive nodes other than |keep1| and
 * |keep2| until one more inactive node fits. Returns 1 if it fits, 0 if
 * not (the bound is 0, or only kept nodes are inactive). */
int prio_make_room(h2_prio *p, const prio_node *keep1, const prio_node *keep2);
/* prio_enforce_bound evicts oldest inactive nodes while over the bound. */
void prio_enforce_bound(h2_prio *p);
/* prio_new_node creates, registers and links under the root a node with
 * the default priority; room must have been reserved and |n| allocated. */
void prio_init_node(h2_prio *p, prio_node *n, uint32_t id, uint8_t state);

/* prio_tree.c */
/* prio_node_remove removes |n| from everything, re-parents its children
 * (§5.3.4) and frees it. */
void prio_node_remove(h2_prio *p, prio_node *n);

/* prio_sched.c */
/* prio_sched_before_move takes |n| out of its parent's queue (tree mode)
 * before a tree change; prio_sched_after_move puts it back in its new
 * parent's queue if it or a descendant is ready. */
void prio_sched_before_move(h2_prio *p, prio_node *n);
void prio_sched_after_move(h2_prio *p, prio_node *n);
/* prio_sched_rebase (tree mode) restarts the virtual time of |n| (just
 * linked, not queued) at its new parent's; in RFC 9218 mode |n| may sit in
 * a bucket keyed by id and is left alone. */
void prio_sched_rebase(h2_prio *p, prio_node *n);
/* prio_sched_unready makes |n| not ready and unscheduled (close/remove). */
void prio_sched_unready(h2_prio *p, prio_node *n);
/* prio_sched_set_urgency changes |n|'s RFC 9218 fields, moving it between
 * buckets if it is queued in 9218 mode. */
void prio_sched_set_urgency(h2_prio *p, prio_node *n, uint8_t urgency, uint8_t incremental);

static inline int prio_valid_id(uint32_t id) { return id != 0 && id <= H2_PRIO_MAX_STREAM_ID; }

/* The small helpers every stream's open, schedule and close go through,
 * inline: one engine request passes each of them a few times. */

static inline size_t prio_hash_id(uint32_t id, size_t cap) {
  /* Fibonacci hashing; cap is a power of two. */
  return (size_t)(((uint64_t)id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

/* prio_find returns the node of |id|, NULL if none. */
static inline prio_node *prio_find(const h2_prio *p, uint32_t id) {
  if (!p->cap) return NULL;
  size_t mask = p->cap - 1;
  for (size_t i = prio_hash_id(id, p->cap);; i = (i + 1) & mask) {
    prio_node *n = p->slots[i];
    if (!n) return NULL;
    if (n->id == id) return n;
  }
}

static inline void prio_put_slot(prio_node **slots, size_t cap, prio_node *n) {
  size_t mask = cap - 1;
  size_t i = prio_hash_id(n->id, cap);
  while (slots[i]) i = (i + 1) & mask;
  slots[i] = n;
}

/* prio_table_add inserts |n| (room reserved). */
static inline void prio_table_add(h2_prio *p, prio_node *n) {
  prio_put_slot(p->slots, p->cap, n);
  p->count++;
}

/* Spare nodes: a stream closing while another opens (the common case)
 * reuses the node evicted from the inactive list instead of a free +
 * malloc. Bounded like the inactive list. */
#define PRIO_SPARE_MAX 128

/* prio_node_alloc returns a zeroed node (not yet in the table) or NULL. */
static inline prio_node *prio_node_alloc(h2_prio *p) {
  prio_node *n = p->spare;
  if (!n) return prio_node_alloc_slow(p);
  p->spare = n->parent;
  p->num_spare--;
  /* Two halves: compilers store each with a few vector moves where one
   * memset of the whole node becomes a string instruction (slower to
   * start than this node is long). */
  memset(n, 0, sizeof *n / 2);
  memset((char *)n + sizeof *n / 2, 0, sizeof *n - sizeof *n / 2);
  return n;
}

/* prio_node_dealloc keeps |n| (out of every structure) for reuse or frees
 * it. Accepts NULL. */
static inline void prio_node_dealloc(h2_prio *p, prio_node *n) {
  if (!n) return;
  if (p->last == n) p->last = NULL;
  if (p->num_spare < PRIO_SPARE_MAX) {
    n->parent = p->spare;
    p->spare = n;
    p->num_spare++;
    return;
  }
  prio_node_free_slow(p, n);
}

static inline void prio_tree_link(prio_node *parent, prio_node *c, uint16_t weight) {
  c->parent = parent;
  c->weight = weight;
  c->prev_sib = NULL;
  c->next_sib = parent->first_child;
  if (parent->first_child) parent->first_child->prev_sib = c;
  parent->first_child = c;
  parent->num_children++;
  parent->sum_child_weight += weight;
}

static inline void prio_tree_unlink(prio_node *c) {
  prio_node *parent = c->parent;
  if (c->prev_sib)
    c->prev_sib->next_sib = c->next_sib;
  else
    parent->first_child = c->next_sib;
  if (c->next_sib) c->next_sib->prev_sib = c->prev_sib;
  c->prev_sib = c->next_sib = NULL;
  parent->num_children--;
  parent->sum_child_weight -= c->weight;
  c->parent = NULL;
}

/* prio_find_next is prio_find, checking h2_prio_next's last answer (or the
 * stream opened last) first: the engine charges, unreadies and closes the
 * stream it was just given, and marks a stream ready right after opening
 * it. */
static inline prio_node *prio_find_next(const h2_prio *p, uint32_t id) {
  return p->last && p->last->id == id ? p->last : prio_find(p, id);
}

#endif
