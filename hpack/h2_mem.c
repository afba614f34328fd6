/* h2_mem.c: the default (libc) allocator. */
#include "h2_mem.h"

#include <stdlib.h>

static void *libc_malloc(size_t n, void *u) { (void)u; return malloc(n ? n : 1); }
static void *libc_realloc(void *p, size_t n, void *u) { (void)u; return realloc(p, n ? n : 1); }
static void libc_free(void *p, void *u) { (void)u; free(p); }

static const h2_mem default_mem = {libc_malloc, libc_realloc, libc_free, NULL};

const h2_mem *h2_mem_default(void) { return &default_mem; }
