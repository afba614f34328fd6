/* origin.c: a client session's origin set (RFC 8336 §2.3): the origin of
 * the connection, plus every origin named by ORIGIN frames received on
 * stream 0. Entries are parsed as ASCII serializations of origins (RFC 6454
 * §6.2: scheme "://" host [":" port]) and kept normalized (scheme and host
 * lower-cased, a default port dropped, no leading zeros), so the set holds
 * each origin once. Bounded by H2_ORIGIN_SET_MAX_ENTRIES and
 * H2_ORIGIN_SET_MAX_BYTES; what does not fit is dropped. Also the
 * checks of the origins a server sends (h2_session_origin, the origins
 * option, h2_session_altsvc): origins derived from http(s) URLs. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "session_internal.h"

struct h2_origin_set {
  size_t n, used;
  const char *list[H2_ORIGIN_SET_MAX_ENTRIES];
  char buf[H2_ORIGIN_SET_MAX_BYTES];
};

static int is_alpha(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_hex(uint8_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static char lower(uint8_t c) { return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); }

/* Host characters of a reg-name or IPv4 address (RFC 3986 unreserved,
 * sub-delims and pct-encoded), none that could end the authority. */
static int is_host_char(uint8_t c) {
  return is_alpha(c) || is_digit(c) || (c != 0 && strchr("-._~%!$&'()*+,;=", c) != NULL);
}

/* Parses |p|/|len| as "scheme://host[:port]" into |out| (normalized, NUL
 * terminated, at most |cap| octets with the NUL). Returns its length, or 0
 * when |p| is not such an origin or does not fit. */
static size_t parse_origin(const uint8_t *p, size_t len, char *out, size_t cap) {
  size_t i = 0, o = 0;
#define PUT(ch)                  \
  do {                           \
    if (o + 1 >= cap) return 0;  \
    out[o++] = (char)(ch);       \
  } while (0)
  if (len == 0 || !is_alpha(p[0])) return 0;
  while (i < len && (is_alpha(p[i]) || is_digit(p[i]) || p[i] == '+' || p[i] == '-' || p[i] == '.'))
    PUT(lower(p[i++]));
  size_t scheme_len = o;
  if (len - i < 3 || memcmp(p + i, "://", 3) != 0) return 0;
  i += 3;
  PUT(':');
  PUT('/');
  PUT('/');
  size_t host_start = i;
  if (i < len && p[i] == '[') { /* IPv6 literal */
    PUT('[');
    i++;
    while (i < len && (is_hex(p[i]) || p[i] == ':' || p[i] == '.')) PUT(lower(p[i++]));
    if (i >= len || p[i] != ']' || i == host_start + 1) return 0;
    PUT(']');
    i++;
  } else {
    while (i < len && is_host_char(p[i])) {
      if (p[i] == '%' && (len - i < 3 || !is_hex(p[i + 1]) || !is_hex(p[i + 2]))) return 0;
      PUT(lower(p[i++]));
    }
    if (i == host_start) return 0;
  }
  if (i < len) {
    if (p[i] != ':' || ++i == len) return 0;
    unsigned port = 0;
    for (; i < len; i++) {
      if (!is_digit(p[i])) return 0;
      port = port * 10 + (unsigned)(p[i] - '0');
      if (port > 65535) return 0;
    }
    if (port == 0) return 0;
    int dflt = (scheme_len == 5 && memcmp(out, "https", 5) == 0 && port == 443) ||
               (scheme_len == 4 && memcmp(out, "http", 4) == 0 && port == 80);
    if (!dflt) {
      char digits[6];
      int nd = 0;
      for (; port; port /= 10) digits[nd++] = (char)('0' + port % 10);
      PUT(':');
      while (nd) PUT(digits[--nd]);
    }
  }
#undef PUT
  out[o] = '\0';
  return o;
}

int h2_origin_from_url_(const char *what, const char *url, char *out, size_t cap) {
  if (!url) return h2_api_fail("%s: NULL origin", what);
  size_t len = strlen(url);
  for (size_t i = 0; i < len; i++) {
    uint8_t c = (uint8_t)url[i];
    if (c <= 0x20 || c >= 0x7f) /* Node's ERR_INVALID_CHAR */
      return h2_api_fail("%s: '%.200s' has a character that is not visible ASCII (at %zu)", what,
                         url, i);
  }
  const char *sep = strstr(url, "://");
  size_t sl = sep ? (size_t)(sep - url) : 0;
  if (!sep || !((sl == 4 && !strncasecmp(url, "http", 4)) || (sl == 5 && !strncasecmp(url, "https", 5))))
    return h2_api_fail("%s: '%.200s' is not an http:// or https:// URL", what, url);
  const char *auth = sep + 3;
  size_t alen = strcspn(auth, "/?#");
  const char *at = memchr(auth, '@', alen);
  while (at) { /* user-info is not part of the origin */
    alen -= (size_t)(at + 1 - auth);
    auth = at + 1;
    at = memchr(auth, '@', alen);
  }
  if (sl + 3 + alen >= H2_ORIGIN_FRAME_MAX_BYTES)
    return h2_api_fail("%s: '%.200s' is too long", what, url);
  char *tmp = malloc(sl + 3 + alen); /* scheme://authority, without user-info */
  if (!tmp) return H2_ERR_NOMEM;
  memcpy(tmp, url, sl + 3);
  memcpy(tmp + sl + 3, auth, alen);
  size_t olen = parse_origin((const uint8_t *)tmp, sl + 3 + alen, out, cap);
  free(tmp);
  if (olen == 0)
    return h2_api_fail("%s: no valid origin in '%.200s' (or it is too long)", what, url);
  return (int)olen;
}

int h2_origins_prepare_(const char *what, const char *const *urls, size_t n,
                        h2_origin_list **out) {
  *out = NULL;
  if (n > H2_ORIGIN_FRAME_MAX_ENTRIES)
    return h2_api_fail("%s: %zu origins, at most %d fit one ORIGIN frame", what, n,
                       H2_ORIGIN_FRAME_MAX_ENTRIES);
  if (n && !urls) return h2_api_fail("%s: NULL list", what);
  h2_origin_list *w = malloc(sizeof *w);
  char *one = malloc(H2_ORIGIN_FRAME_MAX_BYTES);
  if (!w || !one) {
    free(w);
    free(one);
    return H2_ERR_NOMEM;
  }
  size_t used = 0, payload = 0;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    int r = h2_origin_from_url_(what, urls[i], one, H2_ORIGIN_FRAME_MAX_BYTES);
    if (r < 0) {
      rc = r;
      break;
    }
    payload += 2 + (size_t)r;
    if (payload > H2_ORIGIN_FRAME_MAX_BYTES) /* Node's ERR_HTTP2_ORIGIN_LENGTH */
      rc = h2_api_fail("%s: the origins need more than the %d octets of one frame", what,
                       H2_ORIGIN_FRAME_MAX_BYTES);
    else if ((size_t)r + 1 > sizeof w->buf - used)
      rc = h2_api_fail("%s: no room for the origins", what);
    else {
      memcpy(w->buf + used, one, (size_t)r + 1);
      w->o[i] = w->buf + used;
      w->l[i] = (size_t)r;
      used += (size_t)r + 1;
    }
  }
  free(one);
  if (rc) {
    free(w);
    return rc;
  }
  w->n = n;
  *out = w;
  return 0;
}

int h2_session_submit_origins_(h2_session *s, const char *const *urls, size_t n) {
  h2_origin_list *w;
  int rc = h2_origins_prepare_("origin", urls, n, &w);
  if (rc) return rc;
  rc = h2_conn_submit_origin(s->conn, w->o, w->l, n);
  free(w);
  return rc;
}

/* Adds |p|/|len| when it parses and is new; silently dropped otherwise. */
static void add(struct h2_origin_set *set, const uint8_t *p, size_t len) {
  if (set->n == H2_ORIGIN_SET_MAX_ENTRIES) return;
  char *dst = set->buf + set->used;
  size_t olen = parse_origin(p, len, dst, sizeof set->buf - set->used);
  if (olen == 0) return;
  for (size_t k = 0; k < set->n; k++)
    if (strcmp(set->list[k], dst) == 0) return;
  set->list[set->n++] = dst;
  set->used += olen + 1;
}

/* The set, made on first use with the connection's origin in it. */
static struct h2_origin_set *get_set(h2_session *s) {
  if (s->origins) return s->origins;
  struct h2_origin_set *set = malloc(sizeof *set);
  if (!set) return NULL;
  set->n = set->used = 0;
  char first[sizeof s->scheme + 3 + 300];
  const char *auth = h2_session_authority_(s);
  size_t sl = strnlen(s->scheme, sizeof s->scheme), al = strlen(auth);
  if (sl + 3 + al < sizeof first) {
    memcpy(first, s->scheme, sl);
    memcpy(first + sl, "://", 3);
    memcpy(first + sl + 3, auth, al);
    add(set, (const uint8_t *)first, sl + 3 + al);
  }
  s->origins = set;
  return set;
}

void h2_session_on_origin_frame_(h2_session *s, const h2_frame *f) {
  /* RFC 8336 §2.1: ignored on a stream and by servers; Node honours it on
   * TLS sessions only (no 'origin' event, no origin set on h2c). */
  if (s->is_server || f->type != H2_FRAME_ORIGIN || f->ignore || f->hdr.stream_id != 0 ||
      !h2_session_encrypted(s))
    return;
  struct h2_origin_set *set = get_set(s);
  h2_cbs it, one;
  if (set) {
    h2_cbs_init(&it, f->u.origin.payload, f->u.origin.payload_len);
    while (h2_frame_origin_next(&it, &one)) add(set, h2_cbs_data(&one), h2_cbs_len(&one));
  }
  if (!s->cbs->on_origin) return;
  /* Every entry of the frame, as received (after the set was updated, so
   * the callback sees the new set). Up to 64 on the stack; more (a frame
   * of n entries holds at least 2n octets) in one block of 16n octets. */
  const char *so[64];
  size_t sl[64], cap = 0;
  h2_cbs_init(&it, f->u.origin.payload, f->u.origin.payload_len);
  while (h2_frame_origin_next(&it, &one)) cap++;
  const char **o = so;
  size_t *l = sl;
  void *block = NULL;
  if (cap > 64) {
    block = malloc(cap * (sizeof *o + sizeof *l));
    if (!block) return; /* documented: no on_origin for this frame */
    o = block;
    l = (size_t *)(o + cap);
  }
  size_t n = 0;
  h2_cbs_init(&it, f->u.origin.payload, f->u.origin.payload_len);
  while (n < cap && h2_frame_origin_next(&it, &one)) {
    o[n] = (const char *)h2_cbs_data(&one);
    l[n++] = h2_cbs_len(&one);
  }
  s->cbs->on_origin(s, o, l, n, s->user);
  free(block);
}

void h2_session_origins_free_(h2_session *s) {
  free(s->origins);
  s->origins = NULL;
}

size_t h2_session_origin_set(h2_session *s, const char *const **out) {
  *out = NULL;
  if (!s || s->is_server || !h2_session_encrypted(s)) return 0;
  struct h2_origin_set *set = get_set(s);
  if (!set) return 0;
  *out = set->list;
  return set->n;
}
