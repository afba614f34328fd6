/* serve_files.c: request -> response decisions for `h2 serve` (see
 * serve_files.h). Pure: no I/O except through the lookup callback. */
#include "serve_files.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Octet classes of a request target for the plain-path test: 1 for the
 * octets a path may hold with nothing to decode or resolve (letters,
 * digits, '-', '_', '.', '~'), 2 for '/', 0 for everything else. */
#define PC_LOWER ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, \
  ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, \
  ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, \
  ['x'] = 1, ['y'] = 1, ['z'] = 1
#define PC_UPPER ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, \
  ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, \
  ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, \
  ['X'] = 1, ['Y'] = 1, ['Z'] = 1
static const uint8_t path_class[256] = {
  PC_LOWER, PC_UPPER,
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
  ['8'] = 1, ['9'] = 1, ['-'] = 1, ['_'] = 1, ['.'] = 1, ['~'] = 1, ['/'] = 2,
};
#undef PC_LOWER
#undef PC_UPPER

int h2_serve_path_is_plain(const char *path, size_t len) {
  if (len == 0 || path[0] != '/') return 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t k = path_class[(unsigned char)path[i]];
    if (k == 1) continue;
    if (k == 0) return 0;
    /* '/': not followed by another '/' or by a '.' (a dot segment or a
     * hidden name: the general path decides those) */
    if (i + 1 < len && (path[i + 1] == '/' || path[i + 1] == '.')) return 0;
  }
  return 1;
}

int h2_serve_sanitize_path(char *out, size_t cap, const char *path, size_t path_len) {
  if (cap < 2 || path_len == 0 || path[0] != '/') return -1;
  /* Fast path: plain segments, no "//", no segment starting with '.':
   * already in the form the general case below would produce. */
  if (path_len < cap) {
    if (h2_serve_path_is_plain(path, path_len)) {
      memcpy(out, path, path_len);
      out[path_len] = '\0';
      return (int)path_len;
    }
  }
  /* Pass 1: percent-decode up to the query/fragment. A decoded '/' is a
   * separator like any other (so "..%2f" cannot hide a "..") */
  char dec[H2_SERVE_PATH_MAX];
  size_t n = 0;
  for (size_t i = 0; i < path_len && path[i] != '?' && path[i] != '#';) {
    char c = path[i];
    if (c == '%') {
      if (i + 2 >= path_len) return -1;
      int hi = hexval(path[i + 1]), lo = hexval(path[i + 2]);
      if (hi < 0 || lo < 0) return -1;
      c = (char)(hi * 16 + lo);
      i += 3;
    } else {
      i++;
    }
    if (c == '\0' || n + 1 >= sizeof dec) return -1;
    dec[n++] = c;
  }
  /* Pass 2: resolve segments. |o| always ends just after a '/'. */
  size_t o = 0;
  out[o++] = '/';
  int trailing = 0;
  for (size_t i = 0; i < n;) {
    while (i < n && dec[i] == '/') i++;
    if (i >= n) { trailing = 1; break; }
    size_t s = i;
    while (i < n && dec[i] != '/') i++;
    size_t len = i - s;
    trailing = 0;
    if (len == 1 && dec[s] == '.') { trailing = 1; continue; }
    if (len == 2 && dec[s] == '.' && dec[s + 1] == '.') {
      if (o <= 1) return -1; /* would climb above the root */
      o--;                   /* the '/' after the previous segment */
      while (o > 1 && out[o - 1] != '/') o--;
      trailing = 1;
      continue;
    }
    if (o + len + 1 > cap) return -1;
    memcpy(out + o, dec + s, len);
    o += len;
    out[o++] = '/';
  }
  /* Drop the final '/' unless the target named a directory. */
  if (o > 1 && !trailing) o--;
  if (o >= cap) return -1;
  out[o] = '\0';
  return (int)o;
}

struct ctype { const char *ext; const char *type; };
static const struct ctype ctypes[] = {
  {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
  {"css", "text/css; charset=utf-8"}, {"js", "text/javascript; charset=utf-8"},
  {"mjs", "text/javascript; charset=utf-8"}, {"json", "application/json"},
  {"txt", "text/plain; charset=utf-8"}, {"md", "text/markdown; charset=utf-8"},
  {"csv", "text/csv; charset=utf-8"}, {"xml", "application/xml"},
  {"svg", "image/svg+xml"}, {"png", "image/png"}, {"jpg", "image/jpeg"},
  {"jpeg", "image/jpeg"}, {"gif", "image/gif"}, {"webp", "image/webp"},
  {"avif", "image/avif"}, {"ico", "image/x-icon"}, {"wasm", "application/wasm"},
  {"pdf", "application/pdf"}, {"zip", "application/zip"}, {"gz", "application/gzip"},
  {"tar", "application/x-tar"}, {"mp4", "video/mp4"}, {"webm", "video/webm"},
  {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"}, {"wav", "audio/wav"},
  {"woff", "font/woff"}, {"woff2", "font/woff2"}, {"ttf", "font/ttf"},
};

static int ascii_casecmp(const char *a, const char *b) {
  for (;; a++, b++) {
    char x = *a, y = *b;
    if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
    if (x != y) return 1;
    if (!x) return 0;
  }
}

const char *h2_serve_content_type(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  const char *dot = strrchr(base, '.');
  if (dot && dot != base && dot[1]) {
    for (size_t i = 0; i < sizeof ctypes / sizeof ctypes[0]; i++)
      if (!ascii_casecmp(dot + 1, ctypes[i].ext)) return ctypes[i].type;
  }
  return "application/octet-stream";
}

void h2_serve_etag(char *out, size_t cap, uint64_t size, int64_t mtime, long mtime_nsec) {
  snprintf(out, cap, "\"%" PRIx64 "-%" PRIx64 "-%lx\"", size, (uint64_t)mtime,
           (unsigned long)mtime_nsec);
}

static const char *const wday[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = (int64_t)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void h2_serve_http_date(char *out, size_t cap, int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  int64_t secs = t - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  int64_t wd = days % 7;
  if (wd < 0) wd += 7;
  snprintf(out, cap, "%s, %02u %s %04" PRId64 " %02d:%02d:%02d GMT", wday[wd], d, months[m - 1], y,
           (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

static int digits(const char *s, size_t n, unsigned *out) {
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  *out = v;
  return 0;
}

int h2_serve_parse_http_date(const char *s, size_t len, int64_t *out) {
  /* "Sun, 06 Nov 1994 08:49:37 GMT" */
  if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s[25] != ' ' || memcmp(s + 26, "GMT", 3) != 0)
    return -1;
  unsigned d, y, hh, mm, ss, m = 0;
  if (digits(s + 5, 2, &d) || digits(s + 12, 4, &y) || digits(s + 17, 2, &hh) ||
      digits(s + 20, 2, &mm) || digits(s + 23, 2, &ss))
    return -1;
  for (unsigned i = 0; i < 12; i++)
    if (!memcmp(s + 8, months[i], 3)) m = i + 1;
  if (!m || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return -1;
  *out = days_from_civil((int64_t)y, m, d) * 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60 + ss;
  return 0;
}

static void skip_ows(const char *s, size_t len, size_t *i) {
  while (*i < len && (s[*i] == ' ' || s[*i] == '\t')) (*i)++;
}

/* Parses a decimal u64 at s[*i]; -1 when there is none or on overflow. */
static int parse_u64(const char *s, size_t len, size_t *i, uint64_t *out) {
  size_t start = *i;
  uint64_t v = 0;
  while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
    unsigned dgt = (unsigned)(s[*i] - '0');
    if (v > (UINT64_MAX - dgt) / 10) return -1;
    v = v * 10 + dgt;
    (*i)++;
  }
  if (*i == start) return -1;
  *out = v;
  return 0;
}

int h2_serve_parse_range(const char *s, size_t len, uint64_t size, uint64_t *first, uint64_t *last) {
  size_t i = 0;
  if (len < 6 || memcmp(s, "bytes=", 6) != 0) return 0;
  i = 6;
  skip_ows(s, len, &i);
  uint64_t a = 0, b = 0;
  int have_a = 0, have_b = 0;
  if (i < len && s[i] != '-') {
    if (parse_u64(s, len, &i, &a)) return 0;
    have_a = 1;
  }
  if (i >= len || s[i] != '-') return 0;
  i++;
  if (i < len && s[i] >= '0' && s[i] <= '9') {
    if (parse_u64(s, len, &i, &b)) return 0;
    have_b = 1;
  }
  skip_ows(s, len, &i);
  if (i != len) return 0; /* several ranges or junk: ignore the header */
  if (!have_a && !have_b) return 0;
  if (have_a && have_b && b < a) return 0;
  if (!have_a) { /* suffix: the last b bytes */
    if (b == 0 || size == 0) return -1;
    *first = b >= size ? 0 : size - b;
    *last = size - 1;
    return 1;
  }
  if (a >= size) return -1;
  *first = a;
  *last = (!have_b || b >= size) ? size - 1 : b;
  return 1;
}

/* Compares one entity-tag (with optional W/) against |etag| weakly. */
static int tag_eq_weak(const char *t, size_t n, const char *etag) {
  if (n >= 2 && t[0] == 'W' && t[1] == '/') { t += 2; n -= 2; }
  const char *e = etag;
  if (e[0] == 'W' && e[1] == '/') e += 2;
  return strlen(e) == n && memcmp(t, e, n) == 0;
}

int h2_serve_etag_matches(const char *s, size_t len, const char *etag) {
  size_t i = 0;
  while (i < len) {
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) i++;
    if (i >= len) break;
    if (s[i] == '*') return 1;
    size_t start = i;
    if (i + 1 < len && s[i] == 'W' && s[i + 1] == '/') i += 2;
    if (i >= len || s[i] != '"') return 0; /* malformed list: no match */
    i++;
    while (i < len && s[i] != '"') i++;
    if (i >= len) return 0;
    i++;
    if (tag_eq_weak(s + start, i - start, etag)) return 1;
  }
  return 0;
}

#define method_is(r, m) \
  ((r)->method && (r)->method_len == sizeof(m) - 1 && memcmp((r)->method, m, sizeof(m) - 1) == 0)

static void set_text(h2_serve_result *out, int status, const char *text, int head) {
  out->status = status;
  out->text = text;
  out->body = head ? H2_SERVE_BODY_NONE : H2_SERVE_BODY_TEXT;
  out->length = strlen(text);
  out->content_type = "text/plain; charset=utf-8";
}

void h2_serve_decide(h2_serve_result *out, const h2_serve_request *req,
                     h2_serve_lookup_fn lookup, void *lookup_ctx) {
  /* Not a memset: the struct is over 2 KiB of mostly string buffers, and
   * an empty string only needs its first byte. */
  out->status = 0;
  out->body = 0;
  out->path[0] = '\0';
  memset(&out->entity, 0, sizeof out->entity);
  out->offset = out->length = 0;
  out->text = NULL;
  out->content_type = NULL;
  out->etag[0] = out->last_modified[0] = out->content_range[0] = out->location[0] = '\0';
  out->accept_ranges = out->allow = 0;
  int head = method_is(req, "HEAD");
  if (method_is(req, "POST") || method_is(req, "PUT")) {
    out->status = 200;
    out->body = H2_SERVE_UPLOAD;
    out->content_type = "text/plain; charset=utf-8";
    return;
  }
  if (!head && !method_is(req, "GET")) {
    set_text(out, 405, "method not allowed\n", 0);
    out->allow = 1;
    return;
  }
  if (!req->path || h2_serve_sanitize_path(out->path, sizeof out->path, req->path, req->path_len) < 0) {
    set_text(out, 400, "bad request path\n", head);
    return;
  }
  h2_serve_entity ent;
  memset(&ent, 0, sizeof ent);
  if (lookup(lookup_ctx, out->path, &ent) < 0) {
    set_text(out, 500, "internal error\n", head);
    return;
  }
  size_t plen = strlen(out->path);
  if (ent.kind == H2_SERVE_KIND_DIR) {
    if (out->path[plen - 1] != '/') {
      /* Redirect to the slashed form so relative links resolve. */
      snprintf(out->location, sizeof out->location, "%s/", out->path);
      set_text(out, 301, "moved\n", head);
      return;
    }
    if (plen + sizeof "index.html" > sizeof out->path) {
      set_text(out, 404, "not found\n", head);
      return;
    }
    memcpy(out->path + plen, "index.html", sizeof "index.html");
    memset(&ent, 0, sizeof ent);
    if (lookup(lookup_ctx, out->path, &ent) < 0) {
      set_text(out, 500, "internal error\n", head);
      return;
    }
  }
  if (ent.kind != H2_SERVE_KIND_FILE) {
    set_text(out, 404, "not found\n", head);
    return;
  }
  out->entity = ent;
  out->content_type = h2_serve_content_type(out->path);
  /* Formatting costs more than the rest of the decision: remember the last
   * entity's strings (most requests hit the same few files). */
  static _Thread_local struct {
    uint64_t size;
    int64_t mtime;
    long nsec;
    int valid;
    char etag[48];
    char date[32];
  } memo;
  if (!memo.valid || memo.size != ent.size || memo.mtime != ent.mtime || memo.nsec != ent.mtime_nsec) {
    h2_serve_etag(memo.etag, sizeof memo.etag, ent.size, ent.mtime, ent.mtime_nsec);
    h2_serve_http_date(memo.date, sizeof memo.date, ent.mtime);
    memo.size = ent.size;
    memo.mtime = ent.mtime;
    memo.nsec = ent.mtime_nsec;
    memo.valid = 1;
  }
  memcpy(out->etag, memo.etag, sizeof out->etag);
  memcpy(out->last_modified, memo.date, sizeof out->last_modified);
  out->accept_ranges = 1;

  /* Conditionals (RFC 9110 §13.2.2): If-None-Match wins over If-Modified-Since. */
  int not_modified = 0;
  if (req->if_none_match) {
    not_modified = h2_serve_etag_matches(req->if_none_match, req->if_none_match_len, out->etag);
  } else if (req->if_modified_since) {
    int64_t t;
    if (h2_serve_parse_http_date(req->if_modified_since, req->if_modified_since_len, &t) == 0 &&
        ent.mtime <= t)
      not_modified = 1;
  }
  if (not_modified) {
    out->status = 304;
    out->body = H2_SERVE_BODY_NONE;
    out->length = 0;
    out->content_type = NULL;
    return;
  }

  out->status = 200;
  out->offset = 0;
  out->length = ent.size;
  out->body = head ? H2_SERVE_BODY_NONE : H2_SERVE_BODY_ENTITY;
  if (head || !req->range) return;

  if (req->if_range) {
    /* Only a strong ETag or the exact Last-Modified date keeps the range. */
    int ok;
    if (req->if_range_len > 0 && req->if_range[0] == '"')
      ok = strlen(out->etag) == req->if_range_len &&
           memcmp(out->etag, req->if_range, req->if_range_len) == 0;
    else {
      int64_t t;
      ok = h2_serve_parse_http_date(req->if_range, req->if_range_len, &t) == 0 && t == ent.mtime;
    }
    if (!ok) return;
  }
  uint64_t first, last;
  int r = h2_serve_parse_range(req->range, req->range_len, ent.size, &first, &last);
  if (r == 0) return;
  if (r < 0) {
    snprintf(out->content_range, sizeof out->content_range, "bytes */%" PRIu64, ent.size);
    set_text(out, 416, "range not satisfiable\n", 0);
    return;
  }
  out->status = 206;
  out->offset = first;
  out->length = last - first + 1;
  snprintf(out->content_range, sizeof out->content_range, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
           first, last, ent.size);
}

size_t h2_serve_result_headers(const h2_serve_result *r, h2_serve_header *out, size_t cap) {
  size_t n = 0;
#define ADD(nm, val, vlen)                                                            \
  do {                                                                                \
    if (n < cap) {                                                                    \
      out[n] = (h2_serve_header){(nm), (val), sizeof(nm) - 1, (vlen)};                \
      n++;                                                                            \
    }                                                                                 \
  } while (0)
  if (r->content_type) ADD("content-type", r->content_type, strlen(r->content_type));
  if (r->etag[0]) ADD("etag", r->etag, strlen(r->etag));
  if (r->last_modified[0]) ADD("last-modified", r->last_modified, strlen(r->last_modified));
  if (r->accept_ranges) ADD("accept-ranges", "bytes", 5);
  if (r->content_range[0]) ADD("content-range", r->content_range, strlen(r->content_range));
  if (r->location[0]) ADD("location", r->location, strlen(r->location));
  if (r->allow) ADD("allow", "GET, HEAD, POST, PUT", 20);
#undef ADD
  return n;
}
