/* serve_fs.c: the disk side of `h2 serve`: look entities up under a root
 * directory (an h2_serve_lookup_fn) and cache small files in memory. */
#include "serve_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int h2_serve_fs_init(h2_serve_fs *fs, const char *root) {
  memset(fs, 0, sizeof *fs);
  if (!realpath(root, fs->root)) return -1;
  struct stat st;
  if (stat(fs->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  fs->root_len = strlen(fs->root);
  return 0;
}

static uint64_t hash_path(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
  return h;
}

static uint64_t coarse_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t fs_now(const h2_serve_fs *fs) {
  return fs->clock_ms ? fs->clock_ms(fs->clock_user) : coarse_ms();
}

/* Formats the header values of a plain GET of |e| (see serve_fs.h). */
static void entry_format(h2_serve_fs_entry *e) {
  e->content_type = h2_serve_content_type(e->path);
  e->content_type_len = strlen(e->content_type);
  h2_serve_etag(e->etag, sizeof e->etag, e->size, e->mtime, e->mtime_nsec);
  e->etag_len = strlen(e->etag);
  h2_serve_http_date(e->last_modified, sizeof e->last_modified, e->mtime);
  e->last_modified_len = strlen(e->last_modified);
  int n = snprintf(e->content_length, sizeof e->content_length, "%llu", (unsigned long long)e->size);
  e->content_length_len = n > 0 ? (size_t)n : 0;
}

int h2_serve_fs_full_path(const h2_serve_fs *fs, const char *path, char *out, size_t cap) {
  int n = snprintf(out, cap, "%s%s", fs->root, path);
  return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* Returns the cache entry for |path| with this size and mtime, loading the
 * file when it is small enough and the cache has room; NULL otherwise. */
static const uint8_t *cache_get(h2_serve_fs *fs, const char *path, size_t plen, uint64_t h,
                                const char *full, const struct stat *st) {
  if ((uint64_t)st->st_size > H2_SERVE_FS_CACHE_FILE_MAX) return NULL;
  size_t slot = (size_t)(h % H2_SERVE_FS_CACHE_SLOTS);
  h2_serve_fs_entry *e = &fs->cache[slot];
  if (e->data && e->hash == h && e->path_len == plen && !memcmp(e->path, path, plen) &&
      e->size == (uint64_t)st->st_size && e->mtime == st->st_mtim.tv_sec &&
      e->mtime_nsec == st->st_mtim.tv_nsec)
    return e->data;
  if (plen >= sizeof e->path) return NULL;
  if (fs->cache_bytes + (size_t)st->st_size > H2_SERVE_FS_CACHE_MAX) return NULL;
  int fd = open(full, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  uint8_t *buf = malloc(st->st_size ? (size_t)st->st_size : 1);
  size_t got = 0;
  while (buf && got < (size_t)st->st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st->st_size - got);
    if (r <= 0) {
      free(buf);
      buf = NULL;
      break;
    }
    got += (size_t)r;
  }
  close(fd);
  if (!buf) return NULL;
  /* The old entry may still be referenced by responses in flight: keep it
   * on the retired list until the process ends (bounded by cache size). */
  if (e->data) {
    h2_serve_fs_retired *r = malloc(sizeof *r);
    if (!r) {
      free(buf);
      return NULL;
    }
    r->data = e->data;
    r->next = fs->retired;
    fs->retired = r;
  }
  e->data = buf;
  e->hash = h;
  memcpy(e->path, path, plen + 1);
  e->path_len = plen;
  e->size = (uint64_t)st->st_size;
  e->mtime = st->st_mtim.tv_sec;
  e->mtime_nsec = st->st_mtim.tv_nsec;
  entry_format(e);
  fs->cache_bytes += (size_t)st->st_size;
  return buf;
}

int h2_serve_fs_lookup(void *ctx, const char *path, h2_serve_entity *out) {
  h2_serve_fs *fs = ctx;
  char full[PATH_MAX + H2_SERVE_PATH_MAX];
  memset(out, 0, sizeof *out);
  /* A cached small file checked less than a second ago is served without
   * another stat (changes show up within H2_SERVE_FS_RECHECK_MS). */
  uint64_t now = fs_now(fs);
  size_t plen = strlen(path);
  uint64_t h = hash_path(path, plen);
  h2_serve_fs_entry *e = &fs->cache[h % H2_SERVE_FS_CACHE_SLOTS];
  if (e->data && e->hash == h && now - e->checked_ms < H2_SERVE_FS_RECHECK_MS &&
      e->path_len == plen && !memcmp(e->path, path, plen)) {
    out->kind = H2_SERVE_KIND_FILE;
    out->size = e->size;
    out->mtime = e->mtime;
    out->mtime_nsec = e->mtime_nsec;
    out->data = e->data;
    return 0;
  }
  if (h2_serve_fs_full_path(fs, path, full, sizeof full)) return 0; /* too long: not found */
  struct stat st;
  if (stat(full, &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG || errno == EACCES) return 0;
    return -1;
  }
  out->mtime = st.st_mtim.tv_sec;
  out->mtime_nsec = st.st_mtim.tv_nsec;
  if (S_ISDIR(st.st_mode)) {
    out->kind = H2_SERVE_KIND_DIR;
    return 0;
  }
  if (!S_ISREG(st.st_mode)) return 0; /* devices, fifos...: not served */
  out->kind = H2_SERVE_KIND_FILE;
  out->size = (uint64_t)st.st_size;
  out->data = cache_get(fs, path, plen, h, full, &st);
  if (out->data) e->checked_ms = now;
  return 0;
}

const h2_serve_fs_entry *h2_serve_fs_fresh(h2_serve_fs *fs, const char *path, size_t len) {
  if (len == 0 || len >= sizeof fs->cache[0].path || path[len - 1] == '/' || !h2_serve_path_is_plain(path, len))
    return NULL;
  uint64_t h = hash_path(path, len);
  const h2_serve_fs_entry *e = &fs->cache[h % H2_SERVE_FS_CACHE_SLOTS];
  if (!e->data || e->hash != h || e->path_len != len || memcmp(e->path, path, len)) return NULL;
  if (fs_now(fs) - e->checked_ms >= H2_SERVE_FS_RECHECK_MS) return NULL;
  return e;
}

void h2_serve_fs_free(h2_serve_fs *fs) {
  for (size_t i = 0; i < H2_SERVE_FS_CACHE_SLOTS; i++) free(fs->cache[i].data);
  while (fs->retired) {
    h2_serve_fs_retired *r = fs->retired;
    fs->retired = r->next;
    free(r->data);
    free(r);
  }
  memset(fs->cache, 0, sizeof fs->cache);
}
