/* conn_map.c: a small hash map from stream id (non-zero) to a pointer.
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), load factor <= 1/2, so lookups stay short whatever the
 * insert/delete history. Ids come from the peer, so the hash mixes bits
 * (a multiplicative hash); the table only grows to twice the live count. */
#include "conn_internal.h"

static uint32_t hash(uint32_t k) { return (k * 0x9e3779b1u) ^ (k >> 15); }

void *h2_idmap_get(const h2_idmap *m, uint32_t key) {
  if (m->cap == 0 || key == 0) return NULL;
  uint32_t mask = m->cap - 1;
  for (uint32_t i = hash(key) & mask;; i = (i + 1) & mask) {
    if (m->slots[i].key == key) return m->slots[i].val;
    if (m->slots[i].key == 0) return NULL;
  }
}

static int grow(h2_idmap *m, const h2_mem *mem) {
  uint32_t ncap = m->cap ? m->cap * 2 : m->hint ? m->hint : 8;
  if (ncap == 0 || ncap > (1u << 28)) return H2_ERR_NOMEM;
  h2_idmap_slot *ns = h2_mem_malloc(mem, (size_t)ncap * sizeof *ns);
  if (!ns) return H2_ERR_NOMEM;
  memset(ns, 0, (size_t)ncap * sizeof *ns);
  uint32_t mask = ncap - 1;
  for (uint32_t j = 0; j < m->cap; j++) {
    if (!m->slots[j].key) continue;
    uint32_t i = hash(m->slots[j].key) & mask;
    while (ns[i].key) i = (i + 1) & mask;
    ns[i] = m->slots[j];
  }
  h2_mem_free(mem, m->slots);
  m->slots = ns;
  m->cap = ncap;
  return 0;
}

int h2_idmap_put(h2_idmap *m, const h2_mem *mem, uint32_t key, void *val) {
  if (key == 0) return H2_ERR_INVALID_ARG;
  if ((m->count + 1) * 2 > m->cap) {
    int r = grow(m, mem);
    if (r) return r;
  }
  uint32_t mask = m->cap - 1;
  uint32_t i = hash(key) & mask;
  while (m->slots[i].key && m->slots[i].key != key) i = (i + 1) & mask;
  if (!m->slots[i].key) m->count++;
  m->slots[i].key = key;
  m->slots[i].val = val;
  return 0;
}

void *h2_idmap_del(h2_idmap *m, uint32_t key) {
  if (m->cap == 0 || key == 0) return NULL;
  uint32_t mask = m->cap - 1;
  uint32_t i = hash(key) & mask;
  while (m->slots[i].key != key) {
    if (m->slots[i].key == 0) return NULL;
    i = (i + 1) & mask;
  }
  void *val = m->slots[i].val;
  /* Backward shift: move later entries of the probe run into the hole. */
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (m->slots[j].key == 0) break;
    uint32_t home = hash(m->slots[j].key) & mask;
    /* Move j to i if home is not cyclically in (i, j]. */
    int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!in_range) {
      m->slots[i] = m->slots[j];
      i = j;
    }
  }
  m->slots[i].key = 0;
  m->slots[i].val = NULL;
  m->count--;
  return val;
}

void h2_idmap_release(h2_idmap *m, const h2_mem *mem) {
  if (m->count) return;
  m->hint = m->cap < 1024 ? m->cap : 1024;
  h2_idmap_free(m, mem);
}

void h2_idmap_free(h2_idmap *m, const h2_mem *mem) {
  h2_mem_free(mem, m->slots);
  m->slots = NULL;
  m->cap = m->count = 0;
}
