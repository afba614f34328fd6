/* api_internal.h (internal to api/): helpers shared by the api sources. */
#ifndef H2_API_INTERNAL_H
#define H2_API_INTERNAL_H

#include "h2.h"

/* h2_api_fail sets the thread's validation message (h2_last_error_message)
 * and returns H2_ERR_INVALID_ARG. */
int h2_api_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* h2_parse_authority splits "[scheme://][user@]host[:port][/...]" into
 * |*tls| (1 for https, 0 for http, |default_tls| without a scheme: Node's
 * options.protocol), |host| (NUL-terminated, IPv6 without brackets) and
 * |*port| (default 443 / 80 by that scheme). Returns 0 or
 * H2_ERR_INVALID_ARG with a message (h2_last_error_message). */
int h2_parse_authority(const char *url, int default_tls, int *tls, char *host, size_t host_cap,
                       uint16_t *port);

/* What one ORIGIN or ALTSVC frame the API sends may hold: the payload
 * octets (the smallest SETTINGS_MAX_FRAME_SIZE a peer may have) and, for
 * ORIGIN, the entries. */
#define H2_ORIGIN_FRAME_MAX_BYTES 16384
#define H2_ORIGIN_FRAME_MAX_ENTRIES 256

/* h2_origin_from_url_ writes the ASCII serialization of the origin of
 * |url| (an http:// or https:// URL of visible ASCII characters;
 * user-info, path, query and fragment dropped; scheme and host lower-cased,
 * the default port dropped) into |out| (|cap| octets, NUL-terminated).
 * Returns its length, or H2_ERR_INVALID_ARG with a message that starts
 * with |what|. */
int h2_origin_from_url_(const char *what, const char *url, char *out, size_t cap);

/* The derived origins of one ORIGIN frame: about 20 KiB, so callers take
 * it from the heap (h2_origins_prepare_), never the stack: a library call
 * must not need tens of KiB of stack in an embedder's small-stack thread. */
typedef struct h2_origin_list {
  size_t n;
  const char *o[H2_ORIGIN_FRAME_MAX_ENTRIES]; /* into buf, NUL-terminated */
  size_t l[H2_ORIGIN_FRAME_MAX_ENTRIES];
  char buf[H2_ORIGIN_FRAME_MAX_BYTES];
} h2_origin_list;

/* h2_origins_prepare_ derives the origins of the |n| URLs of |urls| into a
 * new h2_origin_list (*out, free() it) and checks that they fit one ORIGIN
 * frame (H2_ORIGIN_FRAME_MAX_*). Returns 0, H2_ERR_INVALID_ARG (message) or
 * H2_ERR_NOMEM; *out is NULL on error. */
int h2_origins_prepare_(const char *what, const char *const *urls, size_t n,
                        h2_origin_list **out);

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
