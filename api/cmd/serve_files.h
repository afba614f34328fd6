/* serve_files.h: the HTTP semantics of `h2 serve` as pure functions.
 *
 * Given a request (method, :path, conditional and range headers) and a way to
 * look entities up (a directory on disk, or the embedded demo site), decide
 * the response: status, headers, and which bytes of which entity form the
 * body. Nothing here does I/O except through the caller's lookup callback;
 * nothing allocates; everything is safe on hostile input (every length is
 * explicit, every string bounded).
 *
 * Supported: path sanitizing (percent-decoding, "." and ".." resolution that
 * can never climb above the root, NUL rejected), content types by extension,
 * ETag (from size + mtime), Last-Modified, If-None-Match / If-Modified-Since
 * -> 304, HEAD, one byte range (bytes=a-b, a-, -n) -> 206 + Content-Range,
 * unsatisfiable -> 416, If-Range, directory -> index.html, directory without
 * trailing slash -> 301, 404, 405 for methods other than GET/HEAD/POST (POST
 * and PUT are answered by the server with a digest of the uploaded body:
 * H2_SERVE_UPLOAD). */
#ifndef H2_SERVE_FILES_H
#define H2_SERVE_FILES_H

#include <stddef.h>
#include <stdint.h>

#define H2_SERVE_PATH_MAX 1024

/* What a lookup found. */
enum { H2_SERVE_KIND_NONE = 0, H2_SERVE_KIND_FILE = 1, H2_SERVE_KIND_DIR = 2 };

typedef struct h2_serve_entity {
  int kind;              /* H2_SERVE_KIND_* */
  uint64_t size;         /* bytes (files) */
  int64_t mtime;         /* seconds since the epoch */
  long mtime_nsec;       /* 0..999999999 */
  const uint8_t *data;   /* in-memory content (demo site), or NULL for disk */
} h2_serve_entity;

/* h2_serve_lookup_fn fills |out| for the sanitized, root-relative |path|
 * (always begins with '/', no "." / ".." segments, no NUL). Sets out->kind to
 * H2_SERVE_KIND_NONE when nothing is there. Returns 0, or a negative value on
 * an I/O error other than "not found" (the request then gets 500). */
typedef int (*h2_serve_lookup_fn)(void *ctx, const char *path, h2_serve_entity *out);

/* The request fields the decision needs. Pointers are not NUL-terminated;
 * a NULL pointer means the header is absent. */
typedef struct h2_serve_request {
  const char *method; size_t method_len;
  const char *path; size_t path_len;   /* :path, may carry ?query / #frag */
  const char *if_none_match; size_t if_none_match_len;
  const char *if_modified_since; size_t if_modified_since_len;
  const char *range; size_t range_len;
  const char *if_range; size_t if_range_len;
} h2_serve_request;

enum {
  H2_SERVE_BODY_NONE = 0,   /* no body (HEAD, 304, ...) */
  H2_SERVE_BODY_ENTITY = 1, /* bytes [offset, offset+length) of |entity| */
  H2_SERVE_BODY_TEXT = 2,   /* the static |text| (error pages) */
  H2_SERVE_UPLOAD = 3,      /* POST/PUT: the server consumes the request body
                               and answers with its size and digest */
};

typedef struct h2_serve_result {
  int status;
  int body;                            /* H2_SERVE_BODY_* / H2_SERVE_UPLOAD */
  char path[H2_SERVE_PATH_MAX];        /* sanitized path of the entity served */
  h2_serve_entity entity;
  uint64_t offset, length;             /* body range for BODY_ENTITY; the
                                          content-length for every status */
  const char *text;                    /* for BODY_TEXT (static) */
  const char *content_type;            /* static; NULL = none */
  char etag[48];                       /* "" = none */
  char last_modified[32];              /* "" = none */
  char content_range[80];              /* "" = none */
  char location[H2_SERVE_PATH_MAX + 2];/* "" = none (301) */
  int accept_ranges;                   /* send accept-ranges: bytes */
  int allow;                           /* 405: send allow */
} h2_serve_result;

/* One response header (lower-case name, NUL-terminated strings). */
typedef struct h2_serve_header {
  const char *name;
  const char *value;
  size_t name_len, value_len; /* strlen of each */
} h2_serve_header;

/* h2_serve_decide resolves |req| against |lookup| and fills |out|. Always
 * produces a response (never fails): 400 for a path that cannot be
 * sanitized, 500 when the lookup fails. */
void h2_serve_decide(h2_serve_result *out, const h2_serve_request *req,
                     h2_serve_lookup_fn lookup, void *lookup_ctx);

/* h2_serve_result_headers fills |out| (capacity |cap|, 8 is always enough)
 * with the response headers other than :status and content-length, pointing
 * into |r| (valid while |r| is unchanged). Returns the number written. */
size_t h2_serve_result_headers(const h2_serve_result *r, h2_serve_header *out, size_t cap);

/* h2_serve_sanitize_path writes into |out| (capacity |cap|, NUL-terminated)
 * the root-relative form of the request target |path|: the query and
 * fragment dropped, %XX decoded, empty and "." segments removed, ".." popping
 * one segment. A trailing '/' is kept. Returns the length written, or -1 if
 * the target does not start with '/', has a bad %-escape, decodes to a NUL,
 * climbs above the root with "..", or does not fit. */
int h2_serve_sanitize_path(char *out, size_t cap, const char *path, size_t path_len);

/* h2_serve_path_is_plain reports whether the request target |path| (|len|
 * octets) is already in the form h2_serve_sanitize_path produces, so that
 * sanitizing would return it unchanged: it begins with '/', holds only
 * letters, digits, '-', '_', '.', '~' and '/', and has no "//" and no
 * segment beginning with '.' (so no query, fragment, escape or dot
 * segment). */
int h2_serve_path_is_plain(const char *path, size_t len);

/* h2_serve_content_type returns the media type for the extension of |path|
 * (static string; "application/octet-stream" when unknown). */
const char *h2_serve_content_type(const char *path);

/* h2_serve_etag writes the strong ETag (with its quotes) for an entity of
 * |size| bytes modified at |mtime|.|mtime_nsec| into |out| (>= 48 bytes). */
void h2_serve_etag(char *out, size_t cap, uint64_t size, int64_t mtime, long mtime_nsec);

/* h2_serve_http_date writes |t| (seconds since the epoch, UTC) as an
 * IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", 29 chars) into |out|
 * (>= 30 bytes). */
void h2_serve_http_date(char *out, size_t cap, int64_t t);

/* h2_serve_parse_http_date parses an IMF-fixdate. Returns 0 and sets |*out|,
 * or -1 if |s| is not one. */
int h2_serve_parse_http_date(const char *s, size_t len, int64_t *out);

/* h2_serve_parse_range parses a Range header value against an entity of
 * |size| bytes. Returns 1 and sets [*first, *last] (inclusive) for one
 * satisfiable range; 0 when the header must be ignored (not "bytes=", bad
 * syntax, or several ranges: the full entity is sent); -1 when the single
 * range is unsatisfiable (416). */
int h2_serve_parse_range(const char *s, size_t len, uint64_t size, uint64_t *first, uint64_t *last);

/* h2_serve_etag_matches reports whether the If-None-Match list |s| matches
 * |etag| under weak comparison ("*" matches anything). */
int h2_serve_etag_matches(const char *s, size_t len, const char *etag);

/* The embedded demo site (demo_site.c), served by `h2 serve` when no DIR is
 * given: /index.html, /style.css, /hello.txt, /data.json and /big.bin
 * (H2_DEMO_BIG_SIZE generated bytes, built on first use; byte i of it is
 * h2_demo_big_byte(i)). h2_demo_lookup is an h2_serve_lookup_fn (|ctx|
 * unused); entity data points to static or process-lifetime memory. Returns
 * -1 only when the big file cannot be allocated. */
#define H2_DEMO_BIG_SIZE (8u << 20)
int h2_demo_lookup(void *ctx, const char *path, h2_serve_entity *out);
uint8_t h2_demo_big_byte(uint64_t i);

#endif
