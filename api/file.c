/* file.c: file responses (h2_file.h): respond_with_fd / respond_with_file
 * as a pull source that preads the file chunk by chunk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h2_file.h"
#include "session_internal.h"

#define FH_MAX 16
#define FH_BYTES 2048

struct h2_file_headers {
  h2_header h[FH_MAX];
  size_t n, used;
  char buf[FH_BYTES];
};

int h2_file_headers_add(h2_file_headers *fh, const char *name, const char *value) {
  if (!name || !*name) return h2_api_fail("statCheck: empty header name");
  if (!value) value = "";
  size_t nl = strlen(name), vl = strlen(value);
  if (fh->n == FH_MAX || nl + vl > FH_BYTES - fh->used)
    return H2_ERR_LIMIT;
  char *p = fh->buf + fh->used;
  memcpy(p, name, nl);
  memcpy(p + nl, value, vl);
  fh->used += nl + vl;
  fh->h[fh->n++] = (h2_header){p, nl, p + nl, vl, 0};
  return 0;
}

/* The source state: released with the stream. */
typedef struct file_src {
  int fd;
  int own;      /* respond_with_file: close fd at EOF / release */
  int regular;  /* pread at |pos|; else read() */
  int bounded;  /* |left| counts what remains */
  uint64_t pos, left;
} file_src;

static void src_close_fd(file_src *f) {
  if (f->own && f->fd >= 0) close(f->fd);
  f->fd = -1;
}

static void file_release(void *user) {
  file_src *f = user;
  src_close_fd(f);
  free(f);
}

static int file_read(h2_stream *st, uint8_t *buf, size_t cap, int *eof, void *user) {
  (void)st;
  file_src *f = user;
  if (f->fd < 0 || (f->bounded && f->left == 0)) {
    *eof = 1;
    src_close_fd(f);
    return 0;
  }
  size_t want = cap;
  if (f->bounded && f->left < want) want = (size_t)f->left;
  ssize_t r;
  do {
    r = f->regular ? pread(f->fd, buf, want, (off_t)f->pos) : read(f->fd, buf, want);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return H2_ERR_WOULD_BLOCK;
    return H2_ERR_IO;
  }
  if (r == 0) {
    /* A regular file shorter than announced (truncated while sending):
     * content-length would lie, so the stream is reset. */
    if (f->regular && f->bounded) return H2_ERR_IO;
    *eof = 1;
    src_close_fd(f);
    return 0;
  }
  f->pos += (uint64_t)r;
  if (f->bounded) {
    f->left -= (uint64_t)r;
    if (f->left == 0) {
      *eof = 1;
      src_close_fd(f);
    }
  }
  return (int)r;
}

static int hdr_is(const h2_header *h, const char *name) {
  size_t n = strlen(name);
  if (h->name_len != n) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = h->name[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    if (c != name[i]) return 0;
  }
  return 1;
}

/* Node's ERR_HTTP2_PAYLOAD_FORBIDDEN: these statuses carry no body. */
static int status_forbids_body(const h2_header *hdrs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!hdr_is(&hdrs[i], ":status")) continue;
    const h2_header *h = &hdrs[i];
    if (h->value_len == 3 && h->value[0] == '1') return 1;
    if (h->value_len == 3 && (memcmp(h->value, "204", 3) == 0 ||
                              memcmp(h->value, "205", 3) == 0 ||
                              memcmp(h->value, "304", 3) == 0))
      return 1;
  }
  return 0;
}

static int state_error(void) {
  h2_api_fail("respondWithFD/File: the stream already responded, is closed, or is not a "
              "server stream");
  return H2_ERR_STATE;
}

/* The common path: |fd| is open; |own| says whether we close it. On every
 * error return before the source took |fd| over, an owned fd is closed. */
static int respond_fd(h2_stream *st, int fd, int own, const char *path, const h2_header *hdrs,
                      size_t n, const h2_file_options *opts) {
  static const h2_file_options none;
  if (!opts) opts = &none;
  int rc;
  struct stat sb;
  h2_header *all = NULL;
  file_src *f = NULL;
  if (st->closed || st->headers_sent || !st->s->conn || !st->s->is_server) {
    rc = state_error();
    goto fail;
  }
  if (n && !hdrs) {
    rc = h2_api_fail("respondWithFD: headers NULL with a count");
    goto fail;
  }
  if (status_forbids_body(hdrs, n)) {
    rc = h2_api_fail("respondWithFD: the response :status does not allow a body");
    goto fail;
  }
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    rc = h2_api_fail("respondWithFD: fstat(%d): %s", fd, strerror(e));
    if (e != EBADF) rc = H2_ERR_IO;
    errno = e;
    goto fail;
  }
  int regular = S_ISREG(sb.st_mode);
  if (path && !regular) {
    rc = h2_api_fail("respondWithFile: %s is not a regular file", path);
    goto fail;
  }
  if (S_ISDIR(sb.st_mode)) {
    rc = h2_api_fail("respondWithFD: descriptor %d is a directory", fd);
    goto fail;
  }
  uint64_t length = 0;
  int bounded = 0;
  if (regular) {
    uint64_t size = (uint64_t)sb.st_size;
    if (opts->offset > size) {
      rc = h2_api_fail("respondWithFD: offset %llu is past the end of the file (%llu bytes)",
                       (unsigned long long)opts->offset, (unsigned long long)size);
      goto fail;
    }
    length = size - opts->offset;
    if (opts->has_length && opts->length < length) length = opts->length;
    bounded = 1;
  } else if (opts->has_length) {
    length = opts->length;
    bounded = 1;
    if (opts->offset) {
      rc = h2_api_fail("respondWithFD: offset needs a regular file");
      goto fail;
    }
  } else if (opts->offset) {
    rc = h2_api_fail("respondWithFD: offset needs a regular file");
    goto fail;
  }

  h2_file_headers fh;
  fh.n = fh.used = 0;
  if (opts->stat_check && !opts->stat_check(st, &sb, &fh, opts->user)) {
    rc = H2_FILE_CANCELLED;
    goto fail; /* not a failure, but the same clean-up */
  }

  all = malloc((n + FH_MAX + 1) * sizeof *all);
  if (!all) {
    rc = H2_ERR_NOMEM;
    goto fail;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!(regular && hdr_is(&hdrs[i], "content-length"))) all[m++] = hdrs[i];
  for (size_t i = 0; i < fh.n; i++)
    if (!(regular && hdr_is(&fh.h[i], "content-length"))) all[m++] = fh.h[i];
  char cl[24];
  if (regular) {
    int k = snprintf(cl, sizeof cl, "%llu", (unsigned long long)length);
    all[m++] = (h2_header){"content-length", 14, cl, (size_t)k, 0};
  }
  int trailers = (opts->flags & H2_WAIT_FOR_TRAILERS) != 0;

  if (bounded && length == 0) {
    /* Nothing to read: the HEADERS frame ends the stream (or trailers
     * follow at once). */
    rc = h2_stream_respond(st, all, m, trailers ? H2_WAIT_FOR_TRAILERS : H2_END_STREAM);
    free(all);
    all = NULL;
    if (rc) goto fail;
    if (own) close(fd);
    if (trailers) return h2_stream_end(st);
    return 0;
  }

  f = malloc(sizeof *f);
  if (!f) {
    rc = H2_ERR_NOMEM;
    goto fail;
  }
  *f = (file_src){.fd = fd, .own = own, .regular = regular, .bounded = bounded,
                  .pos = opts->offset, .left = length};
  rc = h2_stream_respond(st, all, m, trailers ? H2_WAIT_FOR_TRAILERS : 0);
  free(all);
  all = NULL;
  if (rc) goto fail;
  rc = h2_stream_set_source_ex(st, file_read, file_release, f);
  if (rc) {
    h2_stream_close(st, H2_CODE_INTERNAL_ERROR);
    goto fail;
  }
  /* The file is the whole body: later h2_stream_write / end_with calls
   * fail with H2_ERR_STATE (Node closes the writable side). */
  if (!st->closed) st->end_pending = 1;
  return 0;

fail:
  free(all);
  free(f);
  if (own) close(fd);
  return rc;
}

int h2_stream_respond_with_fd(h2_stream *st, int fd, const h2_header *hdrs, size_t n,
                              const h2_file_options *opts) {
  if (fd < 0) return h2_api_fail("respondWithFD: invalid descriptor %d", fd);
  return respond_fd(st, fd, 0, NULL, hdrs, n, opts);
}

int h2_stream_respond_with_file(h2_stream *st, const char *path, const h2_header *hdrs, size_t n,
                                const h2_file_options *opts) {
  if (!path) return h2_api_fail("respondWithFile: NULL path");
  if (st->closed || st->headers_sent || !st->s->conn || !st->s->is_server) return state_error();
  /* O_NONBLOCK: opening a FIFO (not served, see respond_fd) must not wait
   * for a writer on the loop's thread; reads of a regular file ignore it. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR) {
      h2_api_fail("respondWithFile: %s: no such file", path);
      errno = e;
      return H2_ERR_NOT_FOUND;
    }
    h2_api_fail("respondWithFile: %s: %s", path, strerror(e));
    errno = e;
    return H2_ERR_IO;
  }
  return respond_fd(st, fd, 1, path, hdrs, n, opts);
}
