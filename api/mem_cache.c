/* mem_cache.c: the allocator sessions hand to their engine when the
 * application gives none: libc malloc behind per-thread free lists of small
 * blocks. A busy connection opens and closes thousands of streams a second,
 * each with a few small engine objects (stream, priority node, data chunk)
 * freed in bursts; libc's own per-size caches hold 7 blocks per size, so
 * most of those calls took its slow path. Here a freed block of up to 1,032 bytes
 * goes on its thread's list for its size class, bounded in count and bytes,
 * and the next malloc of that class pops it.
 *
 * Class k holds blocks of at least k*16 - 8 usable bytes and asks libc for
 * exactly that much: glibc gives a block of n bytes a chunk of n + 8 rounded
 * up to 16 (its header is 8 bytes), so k*16 - 8 fills a chunk of k*16 bytes
 * to the last byte, where asking for k*16 took a chunk 16 bytes larger. A
 * freed block with u usable bytes goes to class (u + 8) / 16, which is its
 * own class on glibc and never a class needing more than u bytes elsewhere.
 *
 * No header is added: the class of a block being freed comes from the C
 * library's usable-size query (glibc, macOS, FreeBSD); elsewhere the cache
 * is off and this is plain malloc/free. Blocks are always real malloc blocks,
 * so realloc and a free on another thread stay correct. */
#include <stdint.h>
#include <stdlib.h>

#include "api_internal.h"

/* Under AddressSanitizer the cache is off: a cached block would stay
 * "allocated" to it, hiding use-after-free in the engine. */
#if defined(__SANITIZE_ADDRESS__)
#define MC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MC_ASAN 1
#endif
#endif

#if defined(MC_ASAN)
#define MC_ENABLED 0
#elif defined(__GLIBC__) || defined(__FreeBSD__)
#if defined(__FreeBSD__)
#include <malloc_np.h>
#else
#include <malloc.h>
#endif
#define MC_ENABLED 1
static size_t usable_size(void *p) { return malloc_usable_size(p); }
#elif defined(__APPLE__)
#include <malloc/malloc.h>
#define MC_ENABLED 1
static size_t usable_size(void *p) { return malloc_size(p); }
#else
#define MC_ENABLED 0
#endif

#define MC_STEP 16
#define MC_SLACK 8                   /* class k: k*MC_STEP - MC_SLACK bytes */
#define MC_CLASSES 65                /* classes 1..65: 8..1032 bytes */
#define MC_MAX_PER_CLASS 8192
#define MC_MAX_BYTES ((size_t)8 << 20) /* per thread */

typedef struct mc_node {
  struct mc_node *next;
} mc_node;

typedef struct mc_cache {
  mc_node *head[MC_CLASSES + 1];
  uint32_t count[MC_CLASSES + 1];
  size_t bytes;
} mc_cache;

#if MC_ENABLED
static _Thread_local mc_cache tc;
#endif

static void *mc_malloc(size_t n, void *user) {
  (void)user;
#if MC_ENABLED
  if (n - 1 < (size_t)MC_CLASSES * MC_STEP - MC_SLACK) { /* 1..1032 */
    size_t k = (n + MC_SLACK + MC_STEP - 1) / MC_STEP;
    mc_node *b = tc.head[k];
    if (b) {
      tc.head[k] = b->next;
      tc.count[k]--;
      tc.bytes -= k * MC_STEP - MC_SLACK;
      return b;
    }
    /* The whole class size, so that the block comes back to this class. */
    return malloc(k * MC_STEP - MC_SLACK);
  }
#endif
  return malloc(n);
}

static void mc_free(void *p, void *user) {
  (void)user;
  if (!p) return;
#if MC_ENABLED
  /* A block of at least k*16 - 8 usable bytes serves class k. */
  size_t k = (usable_size(p) + MC_SLACK) / MC_STEP;
  if (k >= 1 && k <= MC_CLASSES && tc.count[k] < MC_MAX_PER_CLASS &&
      tc.bytes + k * MC_STEP - MC_SLACK <= MC_MAX_BYTES) {
    mc_node *b = p;
    b->next = tc.head[k];
    tc.head[k] = b;
    tc.count[k]++;
    tc.bytes += k * MC_STEP - MC_SLACK;
    return;
  }
#endif
  free(p);
}

static void *mc_realloc(void *p, size_t n, void *user) {
  (void)user;
  return realloc(p, n);
}

static const h2_mem mem_cached = {mc_malloc, mc_realloc, mc_free, NULL};

const h2_mem *h2_mem_cached_(void) { return &mem_cached; }

int h2_mem_cache_enabled_(void) { return MC_ENABLED; }

size_t h2_mem_cache_bytes_(void) {
#if MC_ENABLED
  return tc.bytes;
#else
  return 0;
#endif
}

void h2_mem_cache_trim_(void) {
#if MC_ENABLED
  for (size_t k = 1; k <= MC_CLASSES; k++) {
    while (tc.head[k]) {
      mc_node *b = tc.head[k];
      tc.head[k] = b->next;
      free(b);
    }
    tc.count[k] = 0;
  }
  tc.bytes = 0;
#endif
}
