/* pool.c: a small free-list allocator for the fixed-size objects the API
 * makes per request (streams, write records). With thousands of streams in
 * flight and freed in bursts, libc's per-size caches overflow and every
 * request pays the slow path; a free list of up to |max| objects avoids it.
 * Pools are per thread (a session lives on one loop thread). */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

typedef struct pool_node {
  struct pool_node *next;
} pool_node;

void *h2_pool_get(h2_pool *p) {
  pool_node *n = p->free;
  if (n) {
    p->free = n->next;
    p->n--;
    memset(n, 0, p->size);
    return n;
  }
  return calloc(1, p->size < sizeof(pool_node) ? sizeof(pool_node) : p->size);
}

void h2_pool_put(h2_pool *p, void *x) {
  if (!x) return;
  if (p->n >= p->max) {
    free(x);
    return;
  }
  pool_node *n = x;
  n->next = p->free;
  p->free = n;
  p->n++;
}

void h2_pool_drain(h2_pool *p) {
  while (p->free) {
    pool_node *n = p->free;
    p->free = n->next;
    free(n);
  }
  p->n = 0;
}
