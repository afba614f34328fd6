/* h2_file.h: file responses (Node's ServerHttp2Stream.respondWithFD and
 * respondWithFile), built on the pull source of h2.h (h2_stream_set_source_ex).
 *
 * The body is read with pread (regular files) or read (other descriptors)
 * into the stream's source chunks only when flow control lets it go out,
 * so a file of any size streams with back-pressure in bounded memory
 * (at most 4 chunks of 64 KiB per stream).
 *
 * Ownership of the descriptor:
 *   - h2_stream_respond_with_fd never closes |fd| (Node: the caller closes
 *     it, e.g. in the stream's on_close). It must stay open until the
 *     stream's on_close has run. Sharing one descriptor between streams is
 *     fine for regular files (pread does not move the file offset); other
 *     descriptors (pipes) are read with read() and must not be shared.
 *   - h2_stream_respond_with_file opens the file itself and closes it when
 *     the body has been read or the stream is freed, whichever comes first.
 *
 * Errors before anything was sent (missing file, not a regular file, bad
 * range, :status forbidding a body) are returned synchronously with a
 * message in h2_last_error_message(); the stream is untouched, so the
 * caller chooses what Node's onError would do: answer 404 / 500 with
 * h2_stream_respond, or reset with h2_stream_close. A read error while
 * the body streams resets the stream with INTERNAL_ERROR and reports the
 * error through the stream's on_error callback (Node's behaviour without
 * onError). */
#ifndef H2_FILE_H
#define H2_FILE_H

#include <stdint.h>
#include <sys/types.h>

#include "h2.h"

struct stat;

/* The header collector handed to a stat check (valid during the call). */
typedef struct h2_file_headers h2_file_headers;

/* h2_file_headers_add adds one response header (copied; e.g.
 * "last-modified"). At most 16 headers and 2 KiB of names + values.
 * Returns 0, H2_ERR_LIMIT or H2_ERR_INVALID_ARG (empty name). */
int h2_file_headers_add(h2_file_headers *fh, const char *name, const char *value);

/* Node's statCheck(stat, headers): runs after fstat, before the response
 * headers are sent. Return 1 to send the file (with any headers added
 * through |fh|), 0 to cancel (Node's `return false`): nothing is sent by
 * h2_stream_respond_with_*, which returns H2_FILE_CANCELLED; the callback
 * (or the caller) answers, e.g. h2_stream_respond with 304. */
typedef int (*h2_file_stat_check_fn)(h2_stream *st, const struct stat *sb, h2_file_headers *fh,
                                     void *user);

typedef struct h2_file_options {
  /* First byte to send (Node's offset). Must be <= the file size for
   * regular files. Default 0. */
  uint64_t offset;
  /* Bytes to send from |offset| (Node's length); clamped to what the file
   * holds past |offset|. has_length = 0 sends up to the end of the file. */
  int has_length;
  uint64_t length;
  /* H2_WAIT_FOR_TRAILERS: on_want_trailers fires after the last byte, as
   * with h2_stream_respond (Node's waitForTrailers). */
  unsigned flags;
  h2_file_stat_check_fn stat_check; /* may be NULL */
  void *user;                       /* for stat_check */
} h2_file_options;

/* Returned (positive) when the stat check cancelled the file response. */
#define H2_FILE_CANCELLED 1

/* h2_stream_respond_with_fd (server) responds with the body read from
 * |fd| (not closed, see above). |hdrs| as for h2_stream_respond (:status
 * 200 implied); for a regular file content-length is set to the body
 * length, replacing one given in |hdrs|; other descriptors (pipes,
 * sockets) are read until EOF (or |length| bytes) without content-length;
 * they must be blocking, or the application calls h2_stream_resume_source
 * when they become readable again. |opts| may be NULL (whole file). The
 * stream's own writes are closed (the file is the whole body).
 * Returns 0, H2_FILE_CANCELLED, H2_ERR_STATE (already responded, closed,
 * not a server stream), H2_ERR_INVALID_ARG (bad fd, offset past the end,
 * :status 1xx/204/205/304, bad header; message set), H2_ERR_IO (fstat
 * failed; errno set), H2_ERR_NOMEM. */
int h2_stream_respond_with_fd(h2_stream *st, int fd, const h2_header *hdrs, size_t n,
                              const h2_file_options *opts);

/* h2_stream_respond_with_file (server) opens |path| read-only and responds
 * with it as h2_stream_respond_with_fd, the descriptor owned by h2 (see
 * above). Requires a regular file (the open does not block: a FIFO is
 * refused, not waited on). Returns what h2_stream_respond_with_fd
 * returns, plus H2_ERR_NOT_FOUND (no such file: ENOENT/ENOTDIR, Node's 404
 * case), H2_ERR_IO (open failed otherwise, errno set: a 500), and
 * H2_ERR_INVALID_ARG for something that is not a regular file; the message
 * names the path. */
int h2_stream_respond_with_file(h2_stream *st, const char *path, const h2_header *hdrs, size_t n,
                                const h2_file_options *opts);

#endif
