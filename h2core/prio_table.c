/* prio_table.c: the h2_prio object, the id -> node hash table, node
 * lifetime and the bound on remembered (idle + closed) nodes. */
#include <string.h>

#include "prio_internal.h"

#define MIN_CAP 16

static void spare_release(h2_prio *p);

static int rehash(h2_prio *p, size_t ncap) {
  prio_node **ns = h2_mem_malloc(p->mem, ncap * sizeof *ns);
  if (!ns) return H2_ERR_NOMEM;
  memset(ns, 0, ncap * sizeof *ns);
  for (size_t i = 0; i < p->cap; i++)
    if (p->slots[i]) prio_put_slot(ns, ncap, p->slots[i]);
  h2_mem_free(p->mem, p->slots);
  p->mem_bytes -= p->cap * sizeof *ns;
  p->mem_bytes += ncap * sizeof *ns;
  p->slots = ns;
  p->cap = ncap;
  return 0;
}

int prio_reserve(h2_prio *p, size_t n) {
  size_t need = p->count + n;
  size_t ncap = p->cap ? p->cap : MIN_CAP;
  while (need > ncap / 2) {
    /* the capacity is a uint32_t (and the table's bytes a size_t) */
    if (ncap >= ((size_t)1 << 31) || ncap > SIZE_MAX / 4 / sizeof(prio_node *)) return H2_ERR_NOMEM;
    ncap *= 2;
  }
  if (ncap == p->cap) return 0;
  return rehash(p, ncap);
}

void prio_table_maybe_shrink(h2_prio *p) {
  if (p->count == 0) spare_release(p);
  if (p->cap <= 64 || p->count * 8 >= p->cap) return;
  size_t ncap = p->cap;
  while (ncap > MIN_CAP && p->count * 4 < ncap / 2) ncap /= 2;
  (void)rehash(p, ncap); /* failing to shrink is harmless */
}

void prio_table_del(h2_prio *p, prio_node *n) {
  size_t mask = p->cap - 1;
  size_t i = prio_hash_id(n->id, p->cap);
  while (p->slots[i] != n) i = (i + 1) & mask;
  /* Backward-shift deletion keeps probe chains intact without tombstones. */
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    prio_node *m = p->slots[j];
    if (!m) break;
    size_t h = prio_hash_id(m->id, p->cap);
    /* m may move to i if its home h is not cyclically in (i, j]. */
    int in_range = (i <= j) ? (h > i && h <= j) : (h > i || h <= j);
    if (!in_range) {
      p->slots[i] = m;
      i = j;
    }
  }
  p->slots[i] = NULL;
  p->count--;
}

prio_node *prio_node_alloc_slow(h2_prio *p) {
  prio_node *n = h2_mem_malloc(p->mem, sizeof *n);
  if (!n) return NULL;
  p->mem_bytes += sizeof *n;
  memset(n, 0, sizeof *n);
  return n;
}

static void spare_release(h2_prio *p) {
  while (p->spare) {
    prio_node *n = p->spare;
    p->spare = n->parent;
    p->mem_bytes -= sizeof *n;
    h2_mem_free(p->mem, n);
  }
  p->num_spare = 0;
}

void h2_prio_trim(h2_prio *p) {
  if (!p || p->count || p->num_spare > 4) return;
  spare_release(p);
  if (p->cap > MIN_CAP) return;
  h2_mem_free(p->mem, p->slots);
  p->mem_bytes -= p->cap * sizeof *p->slots;
  p->slots = NULL;
  p->cap = 0;
}

void prio_node_free_slow(h2_prio *p, prio_node *n) {
  p->mem_bytes -= sizeof *n;
  h2_mem_free(p->mem, n);
}

void prio_init_node(h2_prio *p, prio_node *n, uint32_t id, uint8_t state) {
  n->id = id;
  n->state = state;
  n->urgency = H2_PRIO_DEFAULT_URGENCY;
  prio_table_add(p, n);
  prio_tree_link(&p->root, n, H2_PRIO_DEFAULT_WEIGHT);
  n->key = p->root.vt;
  if (state != H2_PRIO_STATE_ACTIVE) prio_inactive_push(p, n);
}

void prio_inactive_push(h2_prio *p, prio_node *n) {
  n->in_next = NULL;
  n->in_prev = p->in_tail;
  if (p->in_tail)
    p->in_tail->in_next = n;
  else
    p->in_head = n;
  p->in_tail = n;
  p->num_inactive++;
}

void prio_inactive_unlink(h2_prio *p, prio_node *n) {
  if (n->in_prev)
    n->in_prev->in_next = n->in_next;
  else
    p->in_head = n->in_next;
  if (n->in_next)
    n->in_next->in_prev = n->in_prev;
  else
    p->in_tail = n->in_prev;
  n->in_prev = n->in_next = NULL;
  p->num_inactive--;
}

int prio_make_room(h2_prio *p, const prio_node *keep1, const prio_node *keep2) {
  while (p->num_inactive >= p->max_inactive) {
    prio_node *v = p->in_head;
    while (v && (v == keep1 || v == keep2)) v = v->in_next;
    if (!v) return 0;
    prio_node_remove(p, v);
  }
  return 1;
}

void prio_enforce_bound(h2_prio *p) {
  while (p->num_inactive > p->max_inactive) prio_node_remove(p, p->in_head);
}

int prio_buckets_alloc(h2_prio *p) {
  if (p->buckets) return 0;
  size_t n = 8 * sizeof *p->buckets;
  p->buckets = h2_mem_malloc(p->mem, n);
  if (!p->buckets) return H2_ERR_NOMEM;
  memset(p->buckets, 0, n);
  p->mem_bytes += n;
  return 0;
}

void prio_buckets_free(h2_prio *p) {
  if (!p->buckets) return;
  h2_mem_free(p->mem, p->buckets);
  p->buckets = NULL;
  p->mem_bytes -= 8 * sizeof *p->buckets;
}

h2_prio *h2_prio_new(const h2_mem *mem, const h2_prio_config *cfg) {
  if (!mem) mem = h2_mem_default();
  h2_prio_config c = {0, 0, H2_PRIO_MODE_TREE};
  if (cfg) c = *cfg;
  if (c.mode != H2_PRIO_MODE_TREE && c.mode != H2_PRIO_MODE_RFC9218) return NULL;
  h2_prio *p = h2_mem_malloc(mem, sizeof *p);
  if (!p) return NULL;
  memset(p, 0, sizeof *p);
  p->mem = mem;
  p->mode = c.mode;
  p->max_inactive = c.no_inactive ? 0 : (c.max_inactive ? c.max_inactive : H2_PRIO_DEFAULT_MAX_INACTIVE);
  p->mem_bytes = sizeof *p;
  p->root.state = H2_PRIO_STATE_ACTIVE;
  p->root.weight = H2_PRIO_DEFAULT_WEIGHT;
  p->root.urgency = H2_PRIO_DEFAULT_URGENCY;
  if (c.mode == H2_PRIO_MODE_RFC9218 && prio_buckets_alloc(p)) {
    h2_mem_free(mem, p);
    return NULL;
  }
  return p;
}

void h2_prio_free(h2_prio *p) {
  if (!p) return;
  for (size_t i = 0; i < p->cap; i++) h2_mem_free(p->mem, p->slots[i]);
  spare_release(p);
  h2_mem_free(p->mem, p->slots);
  prio_buckets_free(p);
  h2_mem_free(p->mem, p);
}

int h2_prio_get(const h2_prio *p, uint32_t id, h2_prio_info *out) {
  if (!prio_valid_id(id)) return H2_ERR_INVALID_ARG;
  const prio_node *n = prio_find(p, id);
  if (!n) return H2_ERR_NOT_FOUND;
  out->parent = n->parent ? n->parent->id : 0;
  out->weight = n->weight;
  out->sum_child_weight = n->sum_child_weight;
  out->num_children = n->num_children;
  out->urgency = n->urgency;
  out->incremental = n->incremental;
  out->state = n->state;
  out->ready = n->ready;
  return 0;
}

size_t h2_prio_num_nodes(const h2_prio *p) { return p->count; }
size_t h2_prio_num_inactive(const h2_prio *p) { return p->num_inactive; }
size_t h2_prio_memory(const h2_prio *p) { return p->mem_bytes; }
