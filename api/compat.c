/* compat.c: Node's compatibility API (h2_compat.h): h2_req / h2_res over
 * one server h2_stream each, driven by the stream's callbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"
#include "h2_compat.h"

#define RES_MAX_FIELDS 128

typedef struct res_field {
  char *name;  /* "name\0value\0" in one allocation; value follows */
  char *value;
} res_field;

struct joined {
  struct joined *next;
  char *name;  /* lower-case; the value follows its NUL */
  char *value;
};

struct h2_req {
  h2_stream *st;
  h2_res *res;
  h2_req_callbacks cbs;
  void *user;
  h2_header *hdrs;  /* one block: the array, then the strings */
  size_t n;
  h2_header *tr;    /* trailers, same layout */
  size_t ntr;
  const char *method, *path, *authority, *scheme;
  struct joined *joined; /* h2_req_header_joined results */
  struct joined *tjoined; /* h2_req_trailer_joined results */
  int ended, aborted, closed, in_handler, end_deferred;
};

struct h2_res {
  h2_stream *st;
  h2_req *req;      /* NULL for a push response */
  h2_res_callbacks cbs;
  void *user;
  res_field *f;
  size_t nf, cap;
  h2_header *tr;    /* trailers to send (one block) */
  size_t ntr;
  int status;
  int send_date, headers_sent, ended, closed, trailers_pending, free_pending;
  unsigned busy;    /* API calls / the handler in progress: freeing waits */
};

/* ---- helpers ---------------------------------------------------------------- */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int name_eq(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b);
  if (alen != blen) return 0;
  for (size_t i = 0; i < alen; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
  return 1;
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int check_name(const char *name, size_t len) {
  if (!name || len == 0) return h2_api_fail("header name is empty");
  for (size_t i = 0; i < len; i++)
    if (!is_tchar((unsigned char)name[i]))
      return h2_api_fail("invalid character in header name \"%.*s\"", (int)len, name);
  return 0;
}

static int check_value(const char *v, size_t len, const char *name, size_t nlen) {
  for (size_t i = 0; i < len; i++)
    if (v[i] == 0 || v[i] == '\r' || v[i] == '\n')
      return h2_api_fail("invalid character in the value of header \"%.*s\"", (int)nlen, name);
  return 0;
}

/* Copies |n| fields into one allocation (array + NUL-terminated strings),
 * names lower-cased. */
static h2_header *copy_fields(const h2_header *h, size_t n) {
  size_t total = n * sizeof(h2_header);
  for (size_t i = 0; i < n; i++) total += h[i].name_len + h[i].value_len + 2;
  h2_header *out = malloc(total ? total : 1);
  if (!out) return NULL;
  char *p = (char *)(out + n);
  for (size_t i = 0; i < n; i++) {
    char *nm = p;
    for (size_t j = 0; j < h[i].name_len; j++) nm[j] = (char)lower((unsigned char)h[i].name[j]);
    nm[h[i].name_len] = 0;
    p += h[i].name_len + 1;
    char *v = p;
    if (h[i].value_len) memcpy(v, h[i].value, h[i].value_len);
    v[h[i].value_len] = 0;
    p += h[i].value_len + 1;
    out[i] = (h2_header){nm, h[i].name_len, v, h[i].value_len, h[i].flags};
  }
  return out;
}

static const char *find_value(const h2_header *h, size_t n, const char *name, size_t idx) {
  for (size_t i = 0; i < n; i++)
    if (name_eq(h[i].name, h[i].name_len, name) && idx-- == 0) return h[i].value;
  return NULL;
}

/* ---- lifetime ----------------------------------------------------------------- */

static void free_joined(struct joined *j) {
  while (j) {
    struct joined *next = j->next;
    free(j);
    j = next;
  }
}

static void res_free(h2_res *res) {
  for (size_t i = 0; i < res->nf; i++) free(res->f[i].name);
  free(res->f);
  free(res->tr);
  if (res->req) {
    free_joined(res->req->joined);
    free_joined(res->req->tjoined);
    free(res->req->hdrs);
    free(res->req->tr);
    free(res->req);
  }
  free(res);
}

static void enter(h2_res *res) { res->busy++; }

static void leave(h2_res *res) {
  if (--res->busy == 0 && res->free_pending) res_free(res);
}

/* ---- stream callbacks (user = h2_res) ------------------------------------------ */

static void c_data(h2_stream *st, const uint8_t *d, size_t len, void *u) {
  (void)st;
  h2_req *req = ((h2_res *)u)->req;
  if (req && req->cbs.on_data) req->cbs.on_data(req, d, len, req->user);
}

static void c_end(h2_stream *st, void *u) {
  (void)st;
  h2_req *req = ((h2_res *)u)->req;
  if (!req || req->ended) return;
  req->ended = 1;
  if (req->in_handler) req->end_deferred = 1;
  else if (req->cbs.on_end) req->cbs.on_end(req, req->user);
}

static void c_trailers(h2_stream *st, const h2_header *h, size_t n, unsigned flags, void *u) {
  (void)st; (void)flags;
  h2_req *req = ((h2_res *)u)->req;
  if (!req || req->tr) return;
  req->tr = copy_fields(h, n);
  if (req->tr) req->ntr = n;
}

static void c_drain(h2_stream *st, void *u) {
  (void)st;
  h2_res *res = u;
  if (res->cbs.on_drain) res->cbs.on_drain(res, res->user);
}

static void c_aborted(h2_stream *st, void *u) {
  (void)st;
  h2_req *req = ((h2_res *)u)->req;
  if (!req) return;
  req->aborted = 1;
  if (req->cbs.on_aborted) req->cbs.on_aborted(req, req->user);
}

static void c_timeout(h2_stream *st, void *u) {
  h2_res *res = u;
  if (res->cbs.on_timeout) res->cbs.on_timeout(res, res->user);
  else h2_stream_close(st, H2_CODE_CANCEL);
}

static void c_close(h2_stream *st, uint32_t code, void *u) {
  (void)st;
  h2_res *res = u;
  h2_req *req = res->req;
  res->closed = 1;
  enter(res);
  if (res->ended && code == 0 && !res->trailers_pending && res->cbs.on_finish)
    res->cbs.on_finish(res, res->user);
  if (res->cbs.on_close) res->cbs.on_close(res, res->user);
  if (req) {
    req->closed = 1;
    if (req->cbs.on_close) req->cbs.on_close(req, req->user);
  }
  res->free_pending = 1;
  leave(res);
}

static const h2_stream_callbacks compat_cbs = {
  .on_data = c_data, .on_end = c_end, .on_trailers = c_trailers, .on_drain = c_drain,
  .on_aborted = c_aborted, .on_timeout = c_timeout, .on_close = c_close,
};

static h2_res *res_new(h2_stream *st) {
  h2_res *res = calloc(1, sizeof *res);
  if (!res) return NULL;
  res->st = st;
  res->status = 200;
  res->send_date = 1;
  return res;
}

/* ---- dispatch ------------------------------------------------------------------- */

int h2_compat_dispatch(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags,
                       h2_request_handler fn, void *user) {
  (void)flags;
  if (!h2_session_is_server(h2_stream_session(st)) || !fn) return H2_ERR_STATE;
  h2_res *res = res_new(st);
  h2_req *req = res ? calloc(1, sizeof *req) : NULL;
  h2_header *copy = req ? copy_fields(hdrs, n) : NULL;
  if (!copy) {
    free(req);
    free(res);
    h2_stream_close(st, H2_CODE_INTERNAL_ERROR);
    return H2_ERR_NOMEM;
  }
  req->st = st;
  req->res = res;
  req->hdrs = copy;
  req->n = n;
  const char *v;
  req->method = (v = find_value(copy, n, ":method", 0)) ? v : "";
  req->path = (v = find_value(copy, n, ":path", 0)) ? v : "";
  req->scheme = (v = find_value(copy, n, ":scheme", 0)) ? v : "";
  req->authority = (v = find_value(copy, n, ":authority", 0)) ? v
                   : (v = find_value(copy, n, "host", 0))   ? v
                                                            : "";
  res->req = req;
  h2_stream_on(st, &compat_cbs, res);
  enter(res);
  req->in_handler = 1;
  fn(req, res, user);
  req->in_handler = 0;
  if (req->end_deferred && !res->closed && req->cbs.on_end) req->cbs.on_end(req, req->user);
  leave(res);
  return 0;
}

int h2_compat_expects_continue(const h2_header *hdrs, size_t n, unsigned flags) {
  if (flags & H2_FLAG_END_STREAM_RCVD) return 0;
  static const char want[] = "100-continue";
  for (size_t i = 0; i < n; i++) {
    const h2_header *x = &hdrs[i];
    if (x->name_len != 6 || memcmp(x->name, "expect", 6) != 0) continue;
    size_t a = 0, b = x->value_len;
    while (a < b && (x->value[a] == ' ' || x->value[a] == '\t')) a++;
    while (b > a && (x->value[b - 1] == ' ' || x->value[b - 1] == '\t')) b--;
    if (b - a != sizeof want - 1) continue;
    size_t k = 0;
    while (k < b - a && (x->value[a + k] | 0x20) == want[k]) k++;
    if (k == b - a) return 1;
  }
  return 0;
}

int h2_compat_dispatch_handler(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags,
                               const h2_compat_handler *h) {
  if (!h || !h->fn) return H2_ERR_STATE;
  if (!h2_compat_expects_continue(hdrs, n, flags))
    return h2_compat_dispatch(st, hdrs, n, flags, h->fn, h->user);
  if (h->check_continue) return h2_compat_dispatch(st, hdrs, n, flags, h->check_continue, h->user);
  h2_header c[] = {{":status", 7, "100", 3, 0}};
  int rc = h2_stream_additional_headers(st, c, 1);
  if (rc < 0) {
    h2_stream_close(st, 0x2 /* INTERNAL_ERROR */);
    return rc;
  }
  return h2_compat_dispatch(st, hdrs, n, flags, h->fn, h->user);
}

void h2_compat_on_stream(h2_session *s, h2_stream *st, const h2_header *hdrs, size_t n,
                         unsigned flags, void *user) {
  const h2_compat_handler *h = user;
  if (!h2_session_is_server(s) || !h || !h->fn) {
    h2_stream_close(st, H2_CODE_CANCEL);
    return;
  }
  h2_compat_dispatch_handler(st, hdrs, n, flags, h);
}

/* ---- request --------------------------------------------------------------------- */

void h2_req_on(h2_req *req, const h2_req_callbacks *cbs, void *user) {
  if (cbs) req->cbs = *cbs;
  else memset(&req->cbs, 0, sizeof req->cbs);
  req->user = user;
}

const char *h2_req_method(const h2_req *req) { return req->method; }
const char *h2_req_url(const h2_req *req) { return req->path; }
const char *h2_req_authority(const h2_req *req) { return req->authority; }
const char *h2_req_scheme(const h2_req *req) { return req->scheme; }
const char *h2_req_http_version(const h2_req *req) { (void)req; return "2.0"; }

const char *h2_req_header(const h2_req *req, const char *name, size_t idx) {
  return find_value(req->hdrs, req->n, name, idx);
}

/* Node discards duplicates of these (the first wins). */
static const char *const single[] = {
  ":status", ":method", ":authority", ":scheme", ":path", ":protocol", "age", "authorization",
  "access-control-allow-credentials", "access-control-max-age",
  "access-control-request-method", "content-encoding", "content-language", "content-length",
  "content-location", "content-md5", "content-range", "content-type", "date", "dnt", "etag",
  "expires", "from", "if-match", "if-modified-since", "if-none-match", "if-range",
  "if-unmodified-since", "last-modified", "location", "max-forwards", "proxy-authorization",
  "range", "referer", "retry-after", "tk", "upgrade-insecure-requests", "user-agent",
  "x-content-type-options", "set-cookie",
};

/* joined_value: |name|'s value in the |n| fields |hdrs| as Node's headers
 * object shows it; joined results are kept in |*list| (freed with the
 * request). */
static const char *joined_value(const h2_header *hdrs, size_t n, struct joined **list,
                                const char *name) {
  const char *first = find_value(hdrs, n, name, 0);
  if (!first || !find_value(hdrs, n, name, 1)) return first;
  size_t nl = strlen(name);
  for (size_t i = 0; i < sizeof single / sizeof single[0]; i++)
    if (name_eq(name, nl, single[i])) return first;
  for (struct joined *j = *list; j; j = j->next)
    if (name_eq(name, nl, j->name)) return j->value;
  const char *sep = name_eq(name, nl, "cookie") ? "; " : ", ";
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    if (name_eq(hdrs[i].name, hdrs[i].name_len, name)) total += hdrs[i].value_len + 2;
  struct joined *j = malloc(sizeof *j + nl + 1 + total + 1);
  if (!j) return first; /* out of memory: the first value at least */
  j->name = (char *)(j + 1);
  for (size_t i = 0; i < nl; i++) j->name[i] = (char)lower((unsigned char)name[i]);
  j->name[nl] = 0;
  j->value = j->name + nl + 1;
  char *p = j->value;
  for (size_t i = 0; i < n; i++) {
    const h2_header *h = &hdrs[i];
    if (!name_eq(h->name, h->name_len, name)) continue;
    if (p != j->value) {
      memcpy(p, sep, 2);
      p += 2;
    }
    memcpy(p, h->value, h->value_len);
    p += h->value_len;
  }
  *p = 0;
  j->next = *list;
  *list = j;
  return j->value;
}

const char *h2_req_header_joined(h2_req *req, const char *name) {
  return joined_value(req->hdrs, req->n, &req->joined, name);
}

const char *h2_req_trailer(const h2_req *req, const char *name, size_t idx) {
  return find_value(req->tr, req->ntr, name, idx);
}

const char *h2_req_trailer_joined(h2_req *req, const char *name) {
  return joined_value(req->tr, req->ntr, &req->tjoined, name);
}

const h2_header *h2_req_headers(const h2_req *req, size_t *n) {
  *n = req->n;
  return req->hdrs;
}

const h2_header *h2_req_trailers(const h2_req *req, size_t *n) {
  *n = req->ntr;
  return req->tr;
}

int h2_req_complete(const h2_req *req) { return req->ended || req->aborted || req->closed; }
int h2_req_aborted(const h2_req *req) { return req->aborted; }
h2_stream *h2_req_stream(const h2_req *req) { return req->st; }
void *h2_req_user(const h2_req *req) { return req->user; }

void h2_req_destroy(h2_req *req, uint32_t code) {
  h2_res *res = req->res;
  if (res->closed) return;
  enter(res);
  h2_stream_close(req->st, code ? code : H2_CODE_CANCEL);
  leave(res);
}

/* ---- response headers --------------------------------------------------------------- */

void h2_res_on(h2_res *res, const h2_res_callbacks *cbs, void *user) {
  if (cbs) res->cbs = *cbs;
  else memset(&res->cbs, 0, sizeof res->cbs);
  res->user = user;
}

int h2_res_set_status(h2_res *res, int code) {
  if (res->headers_sent) return H2_ERR_STATE;
  if (code < 100 || code > 599 || code == 101)
    return h2_api_fail("invalid status code %d (100..599, not 101)", code);
  res->status = code;
  return 0;
}

int h2_res_status(const h2_res *res) { return res->status; }

int h2_res_remove_header(h2_res *res, const char *name) {
  if (res->headers_sent) return H2_ERR_STATE;
  size_t k = 0;
  int removed = 0;
  for (size_t i = 0; i < res->nf; i++) {
    if (name_eq(res->f[i].name, strlen(res->f[i].name), name)) {
      free(res->f[i].name);
      removed++;
    } else {
      res->f[k++] = res->f[i];
    }
  }
  res->nf = k;
  return removed;
}

int h2_res_append_header(h2_res *res, const char *name, const char *value) {
  if (res->headers_sent || res->closed) return H2_ERR_STATE;
  if (!value) value = "";
  size_t nl = name ? strlen(name) : 0, vl = strlen(value);
  int rc = check_name(name, nl);
  if (!rc) rc = check_value(value, vl, name, nl);
  if (rc) return rc;
  if (res->nf == RES_MAX_FIELDS)
    return H2_ERR_LIMIT;
  if (res->nf == res->cap) {
    size_t cap = res->cap ? res->cap * 2 : 8;
    res_field *f = realloc(res->f, cap * sizeof *f);
    if (!f) return H2_ERR_NOMEM;
    res->f = f;
    res->cap = cap;
  }
  char *p = malloc(nl + vl + 2);
  if (!p) return H2_ERR_NOMEM;
  for (size_t i = 0; i < nl; i++) p[i] = (char)lower((unsigned char)name[i]);
  p[nl] = 0;
  memcpy(p + nl + 1, value, vl + 1);
  res->f[res->nf++] = (res_field){p, p + nl + 1};
  return 0;
}

int h2_res_set_header(h2_res *res, const char *name, const char *value) {
  if (res->headers_sent || res->closed) return H2_ERR_STATE;
  if (!value) value = "";
  size_t nl = name ? strlen(name) : 0;
  int rc = check_name(name, nl);
  if (!rc) rc = check_value(value, strlen(value), name, nl);
  if (rc) return rc;
  h2_res_remove_header(res, name);
  return h2_res_append_header(res, name, value);
}

const char *h2_res_get_header(const h2_res *res, const char *name, size_t idx) {
  for (size_t i = 0; i < res->nf; i++)
    if (name_eq(res->f[i].name, strlen(res->f[i].name), name) && idx-- == 0)
      return res->f[i].value;
  return NULL;
}

int h2_res_has_header(const h2_res *res, const char *name) {
  return h2_res_get_header(res, name, 0) != NULL;
}

size_t h2_res_header_names(const h2_res *res, const char **names, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < res->nf; i++) {
    size_t j = 0;
    for (; j < i; j++)
      if (strcmp(res->f[j].name, res->f[i].name) == 0) break;
    if (j < i) continue; /* seen */
    if (k < cap) names[k] = res->f[i].name;
    k++;
  }
  return k;
}

void h2_res_set_send_date(h2_res *res, int on) { res->send_date = on != 0; }

static int no_body(const h2_res *res) {
  if (res->status == 204 || res->status == 304) return 1;
  return res->req && strcmp(res->req->method, "HEAD") == 0;
}

/* Sends :status, the queued fields not overridden by |extra|, |extra|, and
 * a date when none is given. */
static int send_headers(h2_res *res, const h2_header *extra, size_t n, unsigned flags) {
  if (res->headers_sent || res->closed) return H2_ERR_STATE;
  size_t cap = 1 + res->nf + n + 1;
  h2_header *h = malloc(cap * sizeof *h);
  if (!h) return H2_ERR_NOMEM;
  char status[8];
  snprintf(status, sizeof status, "%d", res->status);
  size_t m = 0;
  h[m++] = (h2_header){":status", 7, status, strlen(status), 0};
  int have_date = 0;
  for (size_t i = 0; i < res->nf; i++) {
    size_t nl = strlen(res->f[i].name);
    int overridden = 0;
    for (size_t j = 0; j < n && !overridden; j++)
      overridden = name_eq(extra[j].name, extra[j].name_len, res->f[i].name);
    if (overridden) continue;
    if (nl == 4 && memcmp(res->f[i].name, "date", 4) == 0) have_date = 1;
    h[m++] = (h2_header){res->f[i].name, nl, res->f[i].value, strlen(res->f[i].value), 0};
  }
  for (size_t j = 0; j < n; j++) {
    if (name_eq(extra[j].name, extra[j].name_len, "date")) have_date = 1;
    h[m++] = extra[j];
  }
  char date[64];
  if (res->send_date && !have_date) {
    time_t now = time(NULL);
    struct tm tm;
    size_t dl = 0;
    if (gmtime_r(&now, &tm)) dl = strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (dl) h[m++] = (h2_header){"date", 4, date, dl, 0};
  }
  int rc = h2_stream_respond(res->st, h, m, flags);
  free(h);
  if (rc == 0) res->headers_sent = 1;
  return rc;
}

int h2_res_write_head(h2_res *res, int status, const h2_header *hdrs, size_t n) {
  if (res->headers_sent || res->closed) return H2_ERR_STATE;
  if (n && !hdrs) return h2_api_fail("writeHead: headers NULL with a count");
  for (size_t i = 0; i < n; i++) {
    int rc = check_name(hdrs[i].name, hdrs[i].name_len);
    if (!rc) rc = check_value(hdrs[i].value, hdrs[i].value_len, hdrs[i].name, hdrs[i].name_len);
    if (rc) return rc;
  }
  int rc = h2_res_set_status(res, status);
  if (rc) return rc;
  enter(res);
  rc = send_headers(res, hdrs, n, 0);
  leave(res);
  return rc;
}

const char *h2_res_status_message(const h2_res *res) {
  (void)res;
  return "";
}

int h2_res_set_status_message(h2_res *res, const char *msg) {
  (void)res; (void)msg;
  h2_api_fail("statusMessage is not supported by HTTP/2 (no reason phrase, RFC 9113 section 8.3.2): ignored");
  return 1;
}

int h2_res_write_continue(h2_res *res) {
  if (res->headers_sent || res->closed) return H2_ERR_STATE;
  h2_header h[] = {{":status", 7, "100", 3, 0}};
  return h2_stream_additional_headers(res->st, h, 1);
}

int h2_res_add_trailers(h2_res *res, const h2_header *hdrs, size_t n) {
  if (res->ended || res->closed) return H2_ERR_STATE;
  if (n && !hdrs) return h2_api_fail("addTrailers: headers NULL with a count");
  size_t total = res->ntr + n;
  if (total > RES_MAX_FIELDS) return H2_ERR_LIMIT;
  for (size_t i = 0; i < n; i++) {
    int rc = check_name(hdrs[i].name, hdrs[i].name_len);
    if (!rc) rc = check_value(hdrs[i].value, hdrs[i].value_len, hdrs[i].name, hdrs[i].name_len);
    if (rc) return rc;
  }
  h2_header *all = malloc((total ? total : 1) * sizeof *all);
  if (!all) return H2_ERR_NOMEM;
  if (res->ntr) memcpy(all, res->tr, res->ntr * sizeof *all);
  if (n) memcpy(all + res->ntr, hdrs, n * sizeof *all);
  h2_header *copy = copy_fields(all, total);
  free(all);
  if (!copy) return H2_ERR_NOMEM;
  free(res->tr);
  res->tr = copy;
  res->ntr = total;
  return 0;
}

/* ---- response body ------------------------------------------------------------------ */

/* One compat write: the user's completion and, for copies, the bytes. */
typedef struct cw {
  h2_res *res;
  h2_write_cb cb;
  void *user;
  uint8_t data[];
} cw;

static void try_trailers(h2_res *res) {
  int rc = h2_stream_send_trailers(res->st, res->tr, res->ntr);
  if (rc == H2_ERR_WOULD_BLOCK) return; /* data still held: retried on the next release */
  res->trailers_pending = 0;
  if (rc < 0) h2_stream_close(res->st, H2_CODE_INTERNAL_ERROR);
}

static void cw_done(h2_stream *st, int err, void *u) {
  cw *w = u;
  h2_res *res = w->res;
  if (w->cb) w->cb(st, err, w->user);
  free(w);
  if (err == 0 && res->trailers_pending && !res->closed) try_trailers(res);
}

static cw *cw_new(h2_res *res, const uint8_t *copy_from, size_t len, h2_write_cb cb, void *user) {
  cw *w = malloc(sizeof *w + (copy_from ? len : 0));
  if (!w) return NULL;
  w->res = res;
  w->cb = cb;
  w->user = user;
  if (copy_from && len) memcpy(w->data, copy_from, len);
  return w;
}

static int res_write(h2_res *res, const uint8_t *data, size_t len, int copy, h2_write_cb cb,
                     void *user) {
  if (res->ended || res->closed) return H2_ERR_STATE;
  enter(res);
  int rc = 0;
  if (!res->headers_sent) rc = send_headers(res, NULL, 0, 0);
  if (rc == 0 && (no_body(res) || len == 0)) {
    if (cb) cb(res->st, 0, user);
    rc = 1;
  } else if (rc == 0) {
    cw *w = cw_new(res, copy ? data : NULL, len, cb, user);
    if (!w) {
      rc = H2_ERR_NOMEM;
    } else {
      rc = h2_stream_write(res->st, copy ? w->data : data, len, cw_done, w);
      if (rc < 0) free(w);
    }
  }
  leave(res);
  return rc;
}

int h2_res_write(h2_res *res, const uint8_t *data, size_t len) {
  return res_write(res, data, len, 1, NULL, NULL);
}

int h2_res_write_nocopy(h2_res *res, const uint8_t *data, size_t len, h2_write_cb cb,
                        void *user) {
  return res_write(res, data, len, 0, cb, user);
}

int h2_res_end(h2_res *res, const uint8_t *data, size_t len) {
  if (res->ended || res->closed) return H2_ERR_STATE;
  enter(res);
  res->ended = 1; /* before anything can close the stream: on_finish needs it */
  int rc = 0;
  if (no_body(res) || !data) len = 0;
  if (!res->headers_sent) rc = send_headers(res, NULL, 0, len == 0 && res->ntr == 0 ? H2_END_STREAM : 0);
  else if (len == 0 && res->ntr == 0) rc = h2_stream_end(res->st);
  if (rc == 0 && (len || res->ntr)) {
    cw *w = len ? cw_new(res, data, len, NULL, NULL) : NULL;
    if (len && !w) {
      rc = H2_ERR_NOMEM;
    } else if (res->ntr == 0) {
      rc = h2_stream_end_with(res->st, w->data, len, cw_done, w);
      if (rc < 0) free(w);
    } else {
      if (w) {
        rc = h2_stream_write(res->st, w->data, len, cw_done, w);
        if (rc < 0) free(w);
        else rc = 0;
      }
      if (rc == 0) {
        res->trailers_pending = 1;
        try_trailers(res);
      }
    }
  }
  if (rc < 0 && !res->closed) res->ended = 0;
  leave(res);
  return rc;
}

/* ---- push, misc ------------------------------------------------------------------------- */

int h2_res_create_push_response(h2_res *res, const h2_header *hdrs, size_t n, h2_res **out) {
  if (res->closed || !res->req) return H2_ERR_STATE;
  if (n && !hdrs) return h2_api_fail("createPushResponse: headers NULL with a count");
  if (!find_value(hdrs, n, ":path", 0)) return h2_api_fail("createPushResponse: :path missing");
  h2_header *h = malloc((n + 3) * sizeof *h);
  if (!h) return H2_ERR_NOMEM;
  size_t m = 0;
  const h2_req *req = res->req;
  if (!find_value(hdrs, n, ":method", 0)) h[m++] = (h2_header){":method", 7, "GET", 3, 0};
  if (!find_value(hdrs, n, ":scheme", 0) && *req->scheme)
    h[m++] = (h2_header){":scheme", 7, req->scheme, strlen(req->scheme), 0};
  if (!find_value(hdrs, n, ":authority", 0) && *req->authority)
    h[m++] = (h2_header){":authority", 10, req->authority, strlen(req->authority), 0};
  if (n) memcpy(h + m, hdrs, n * sizeof *h);
  m += n;
  h2_res *pres = res_new(NULL);
  if (!pres) {
    free(h);
    return H2_ERR_NOMEM;
  }
  enter(res);
  h2_stream *ps;
  int rc = h2_stream_push(res->st, &ps, h, m);
  leave(res);
  free(h);
  if (rc) {
    free(pres);
    return rc;
  }
  pres->st = ps;
  h2_stream_on(ps, &compat_cbs, pres);
  *out = pres;
  return 0;
}

void h2_res_set_timeout(h2_res *res, uint64_t ms) {
  if (!res->closed) h2_stream_set_timeout(res->st, ms);
}

int h2_res_headers_sent(const h2_res *res) { return res->headers_sent; }
int h2_res_finished(const h2_res *res) { return res->ended; }
h2_stream *h2_res_stream(const h2_res *res) { return res->st; }
h2_req *h2_res_req(const h2_res *res) { return res->req; }
void *h2_res_user(const h2_res *res) { return res->user; }
