/* h2_mem.h: allocator hooks.
 *
 * Every allocation in hpack/ and h2core/ goes through an h2_mem. The caller
 * owns the h2_mem struct and must keep it alive as long as any object created
 * with it. Passing NULL wherever an h2_mem is taken means h2_mem_default(). */
#ifndef H2_MEM_H
#define H2_MEM_H

#include <stddef.h>

typedef struct h2_mem {
  /* malloc returns NULL on failure. */
  void *(*malloc)(size_t size, void *user);
  /* realloc behaves like C realloc (ptr may be NULL); NULL on failure leaves
   * ptr untouched. */
  void *(*realloc)(void *ptr, size_t size, void *user);
  /* free accepts NULL. */
  void (*free)(void *ptr, void *user);
  void *user;
} h2_mem;

/* h2_mem_default returns the libc allocator (malloc/realloc/free). The result
 * is a pointer to immutable static data. */
const h2_mem *h2_mem_default(void);

static inline void *h2_mem_malloc(const h2_mem *m, size_t n) { return m->malloc(n, m->user); }
static inline void *h2_mem_realloc(const h2_mem *m, void *p, size_t n) { return m->realloc(p, n, m->user); }
static inline void h2_mem_free(const h2_mem *m, void *p) { if (p) m->free(p, m->user); }

#endif
