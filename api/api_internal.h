/* api_internal.h (internal to api/): helpers shared by the api sources. */
#ifndef H2_API_INTERNAL_H
#define H2_API_INTERNAL_H

#include "h2.h"

/* h2_api_fail sets the thread's validation message (h2_last_error_message)
 * and returns H2_ERR_INVALID_ARG. */
int h2_api_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* h2_parse_authority splits "[scheme://][user@]host[:port][/...]" into
 * |*tls| (1 for https or no scheme, 0 for http), |host| (NUL-terminated,
 * IPv6 without brackets) and |*port| (default 443 / 80). Returns 0 or
 * H2_ERR_INVALID_ARG with a message (h2_last_error_message). */
int h2_parse_authority(const char *url, int *tls, char *host, size_t host_cap, uint16_t *port);

/* h2_pool: a per-thread free list of fixed-size objects (pool.c). */
typedef struct h2_pool {
  void *free;
  unsigned n, max;
  size_t size;
} h2_pool;
/* h2_pool_get returns a zeroed object of p->size bytes, or NULL. */
void *h2_pool_get(h2_pool *p);
/* h2_pool_put returns |x| to the pool (freed when the pool is full). */
void h2_pool_put(h2_pool *p, void *x);
/* h2_pool_drain frees every pooled object. */
void h2_pool_drain(h2_pool *p);

/* The allocator sessions give their engine when h2_options.mem is NULL:
 * malloc with per-thread free lists of blocks up to 1 KiB (mem_cache.c). */
const h2_mem *h2_mem_cached_(void);
/* 1 if blocks are cached (not under AddressSanitizer, and only where the C
 * library tells a block's usable size), else plain malloc/free. */
int h2_mem_cache_enabled_(void);
/* Bytes held in the calling thread's free lists. */
size_t h2_mem_cache_bytes_(void);
/* Frees the calling thread's cached blocks (the cache stays usable). */
void h2_mem_cache_trim_(void);

#endif
