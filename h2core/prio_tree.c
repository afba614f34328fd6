/* prio_tree.c: the RFC 7540 §5.3 dependency tree: registering streams,
 * PRIORITY / HEADERS priority (exclusive insertion, moving a stream under
 * its own descendant), closing, and removing a node with §5.3.4
 * re-parenting of its children. */
#include "prio_internal.h"

/* move puts |c| (with its subtree) under |np| with |weight|. In the new
 * parent's queue it starts at the parent's current virtual time. */
static void move(h2_prio *p, prio_node *c, prio_node *np, uint16_t weight) {
  prio_sched_before_move(p, c);
  prio_tree_unlink(c);
  prio_tree_link(np, c, weight);
  prio_sched_rebase(p, c);
  prio_sched_after_move(p, c);
}

void prio_node_remove(h2_prio *p, prio_node *n) {
  prio_sched_unready(p, n);
  prio_sched_before_move(p, n);
  prio_node *np = n->parent;
  uint32_t sum = n->sum_child_weight;
  prio_node *c;
  while ((c = n->first_child) != NULL) {
    /* §5.3.4: the children share the removed stream's weight in proportion
     * to their own weights. sum >= c->weight >= 1 here. */
    uint32_t w = (uint32_t)n->weight * c->weight / sum;
    move(p, c, np, (uint16_t)(w ? w : 1));
  }
  prio_tree_unlink(n);
  if (n->state != H2_PRIO_STATE_ACTIVE) prio_inactive_unlink(p, n);
  prio_table_del(p, n);
  prio_node_dealloc(p, n);
}

/* apply places existing node |x| under |np| (the root or another node)
 * with |w| and |excl|, as §5.3.3 describes. Cannot fail. */
static void apply(h2_prio *p, prio_node *x, prio_node *np, uint16_t w, int excl) {
  prio_node *a = np;
  while (a != &p->root && a != x) a = a->parent;
  if (a == x) move(p, np, x->parent, np->weight); /* np was below x */
  if (!excl && x->parent == np) {
    np->sum_child_weight = np->sum_child_weight - x->weight + w;
    x->weight = w;
    return;
  }
  prio_sched_before_move(p, x);
  prio_tree_unlink(x);
  prio_tree_link(np, x, w); /* x is now np->first_child */
  prio_sched_rebase(p, x);
  if (excl) {
    prio_node *c;
    while ((c = x->next_sib) != NULL) move(p, c, x, c->weight);
  }
  prio_sched_after_move(p, x);
}

static int check_spec(const h2_prio_spec *spec) {
  if (spec->parent > H2_PRIO_MAX_STREAM_ID) return 0;
  return spec->weight >= 1 && spec->weight <= 256;
}

/* prealloc reserves hash room and allocates the nodes a call may create, so
 * that the call either changes nothing (H2_ERR_NOMEM) or cannot fail. */
static int prealloc(h2_prio *p, int need_a, int need_b, prio_node **a, prio_node **b) {
  *a = *b = NULL;
  int rc = prio_reserve(p, (size_t)(need_a + need_b));
  if (rc) return rc;
  if (need_a && !(*a = prio_node_alloc(p))) return H2_ERR_NOMEM;
  if (need_b && !(*b = prio_node_alloc(p))) {
    prio_node_dealloc(p, *a);
    *a = NULL;
    return H2_ERR_NOMEM;
  }
  return 0;
}

/* place applies |spec| to |x|, creating an idle parent if needed (|pn| is
 * its preallocated node, consumed if used). */
static void place(h2_prio *p, prio_node *x, const h2_prio_spec *spec, prio_node *par, prio_node **pn) {
  uint16_t w = spec->weight;
  int excl = spec->exclusive != 0;
  if (!par) {
    if (*pn && prio_make_room(p, x, NULL)) {
      prio_init_node(p, *pn, spec->parent, H2_PRIO_STATE_IDLE);
      par = *pn;
      *pn = NULL;
    } else {
      /* §5.3.1: a dependency we cannot remember gives the default. */
      par = &p->root;
      w = H2_PRIO_DEFAULT_WEIGHT;
      excl = 0;
    }
  }
  apply(p, x, par, w, excl);
}

int h2_prio_set(h2_prio *p, uint32_t id, const h2_prio_spec *spec) {
  if (!prio_valid_id(id) || !spec || !check_spec(spec)) return H2_ERR_INVALID_ARG;
  if (spec->parent == id) return H2_ERR_PROTOCOL;
  if (p->mode != H2_PRIO_MODE_TREE) return 0;
  prio_node *x = prio_find(p, id);
  prio_node *par = spec->parent ? prio_find(p, spec->parent) : &p->root;
  prio_node *nx, *np;
  int rc = prealloc(p, !x, !par, &nx, &np);
  if (rc) return rc;
  if (x) x->plain = 0;
  if (!x) {
    if (!prio_make_room(p, par, NULL)) {
      prio_node_dealloc(p, nx);
      prio_node_dealloc(p, np);
      return 0; /* nothing may be remembered: drop the signal */
    }
    prio_init_node(p, nx, id, H2_PRIO_STATE_IDLE);
    x = nx;
  }
  place(p, x, spec, par, &np);
  prio_node_dealloc(p, np);
  return 0;
}

int h2_prio_open(h2_prio *p, uint32_t id, const h2_prio_spec *spec) {
  if (!prio_valid_id(id) || (spec && !check_spec(spec))) return H2_ERR_INVALID_ARG;
  prio_node *x = prio_find(p, id);
  if (x && x->state != H2_PRIO_STATE_IDLE) return H2_ERR_STATE;
  if (!x && !spec) { /* the common case: a new stream, default priority */
    if (p->count + 1 > p->cap / 2 && prio_reserve(p, 1)) return H2_ERR_NOMEM;
    x = prio_node_alloc(p);
    if (!x) return H2_ERR_NOMEM;
    /* prio_init_node for an active node, inline */
    x->id = id;
    x->state = H2_PRIO_STATE_ACTIVE;
    x->urgency = H2_PRIO_DEFAULT_URGENCY;
    x->plain = 1;
    prio_table_add(p, x);
    prio_tree_link(&p->root, x, H2_PRIO_DEFAULT_WEIGHT);
    x->key = p->root.vt;
    p->last = x; /* the engine marks a new stream ready next, as a rule */
    return 0;
  }
  int selfdep = spec && spec->parent == id;
  int use = spec && !selfdep && p->mode == H2_PRIO_MODE_TREE;
  prio_node *par = use && spec->parent ? prio_find(p, spec->parent) : &p->root;
  prio_node *nx, *np;
  int rc = prealloc(p, !x, use && !par, &nx, &np);
  if (rc) return rc;
  if (!x) {
    prio_init_node(p, nx, id, H2_PRIO_STATE_ACTIVE);
    x = nx;
  } else {
    prio_inactive_unlink(p, x);
    x->state = H2_PRIO_STATE_ACTIVE;
  }
  if (use) place(p, x, spec, par, &np);
  prio_node_dealloc(p, np);
  return selfdep ? H2_ERR_PROTOCOL : 0;
}

/* is_plain tells whether active node |x| carries no priority information:
 * opened without a priority, never given one (PRIORITY, PRIORITY_UPDATE,
 * priority header), still a childless child of the root with the default
 * weight and urgency. Remembering it closed would tell a later reference
 * nothing an idle node with the default priority does not (§5.3.1, §5.3.4). */
static int is_plain(const h2_prio *p, const prio_node *x) {
  return x->plain && x->state == H2_PRIO_STATE_ACTIVE && x->parent == &p->root && !x->first_child &&
         x->weight == H2_PRIO_DEFAULT_WEIGHT && x->urgency == H2_PRIO_DEFAULT_URGENCY && !x->incremental &&
         !x->update_seen;
}

int h2_prio_close(h2_prio *p, uint32_t id) {
  if (!prio_valid_id(id)) return H2_ERR_INVALID_ARG;
  prio_node *x = prio_find_next(p, id);
  if (!x) return H2_ERR_NOT_FOUND;
  if (x->state == H2_PRIO_STATE_CLOSED) return 0;
  if (is_plain(p, x)) { /* nothing to remember: forget it now */
    /* No shrink here: the node and its table slot are about to serve the
     * next stream (the closed node it would have stayed as held as much);
     * the next shrink point (a remembered close, a removal) trims. */
    if (x->ready || x->queued) {
      prio_node_remove(p, x);
      return 0;
    }
    /* prio_node_remove of an active, unscheduled, childless node */
    prio_tree_unlink(x);
    prio_table_del(p, x);
    prio_node_dealloc(p, x);
    return 0;
  }
  prio_sched_unready(p, x);
  if (x->state == H2_PRIO_STATE_ACTIVE) prio_inactive_push(p, x);
  x->state = H2_PRIO_STATE_CLOSED;
  prio_enforce_bound(p);
  prio_table_maybe_shrink(p);
  return 0;
}

int h2_prio_remove(h2_prio *p, uint32_t id) {
  if (!prio_valid_id(id)) return H2_ERR_INVALID_ARG;
  prio_node *x = prio_find(p, id);
  if (!x) return H2_ERR_NOT_FOUND;
  prio_node_remove(p, x);
  prio_table_maybe_shrink(p);
  return 0;
}
