/* serve_fs.h: the disk side of `h2 serve`: an h2_serve_lookup_fn over a
 * root directory, with small files cached in memory (revalidated by size
 * and mtime with a stat at most once a second per file). */
#ifndef H2_SERVE_FS_H
#define H2_SERVE_FS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "serve_files.h"

#define H2_SERVE_FS_CACHE_SLOTS 256
#define H2_SERVE_FS_CACHE_FILE_MAX (256u * 1024)
#define H2_SERVE_FS_CACHE_MAX ((size_t)64 << 20)
#define H2_SERVE_FS_RECHECK_MS 1000

typedef struct h2_serve_fs_entry {
  uint8_t *data;
  uint64_t hash;
  char path[256];
  size_t path_len;
  uint64_t size;
  int64_t mtime;
  long mtime_nsec;
  uint64_t checked_ms; /* the fs clock at the last stat */
  /* The response header values of a plain GET, formatted once per fill:
   * what h2_serve_decide + h2_serve_result_headers would produce. */
  const char *content_type;
  size_t content_type_len, etag_len, last_modified_len, content_length_len;
  char etag[48];
  char last_modified[32];
  char content_length[24];
} h2_serve_fs_entry;

typedef struct h2_serve_fs_retired {
  uint8_t *data;
  struct h2_serve_fs_retired *next;
} h2_serve_fs_retired;

typedef struct h2_serve_fs {
  /* Milliseconds of a monotonic clock; NULL (the default after init) means
   * CLOCK_MONOTONIC_COARSE. `h2 serve` passes its loop's cached time. */
  uint64_t (*clock_ms)(void *user);
  void *clock_user;
  char root[PATH_MAX];
  size_t root_len;
  h2_serve_fs_entry cache[H2_SERVE_FS_CACHE_SLOTS];
  size_t cache_bytes;
  h2_serve_fs_retired *retired;
} h2_serve_fs;

/* h2_serve_fs_init resolves |root| (must be a directory). 0, or -1 with
 * errno set. */
int h2_serve_fs_init(h2_serve_fs *fs, const char *root);

/* h2_serve_fs_lookup is the h2_serve_lookup_fn (|ctx| = the h2_serve_fs).
 * Files up to H2_SERVE_FS_CACHE_FILE_MAX come back with |data| set (cache
 * memory, valid until h2_serve_fs_free); larger ones with data NULL (read
 * them with h2_serve_fs_full_path + open). */
int h2_serve_fs_lookup(void *ctx, const char *path, h2_serve_entity *out);

/* h2_serve_fs_fresh is the shortcut for the common request: a GET of
 * |path| (the :path value, |len| octets, not NUL-terminated) with no
 * conditional or range header. It returns the cache entry when the answer
 * needs no decision: the target is already in sanitized form
 * (h2_serve_path_is_plain, so no query, escape or dot segment), names a
 * cached small file, and that file was checked (stat) less than
 * H2_SERVE_FS_RECHECK_MS ago -- the same freshness rule as
 * h2_serve_fs_lookup. The answer is then 200 with the entry's content-type,
 * etag, last-modified, accept-ranges: bytes and content-length, and its
 * data as the body (valid until h2_serve_fs_free). NULL otherwise: use
 * h2_serve_decide. */
const h2_serve_fs_entry *h2_serve_fs_fresh(h2_serve_fs *fs, const char *path, size_t len);

/* h2_serve_fs_full_path writes root + |path| into |out|. 0 or -1 (too long). */
int h2_serve_fs_full_path(const h2_serve_fs *fs, const char *path, char *out, size_t cap);

/* h2_serve_fs_free releases the cache. */
void h2_serve_fs_free(h2_serve_fs *fs);

#endif
