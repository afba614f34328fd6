/* url.c: authority URL parsing for h2_connect (Node's http2.connect rules:
 * scheme, host, port; user-info, path, query and fragment ignored). */
#include <string.h>

#include "api_internal.h"

int h2_parse_authority(const char *url, int default_tls, int *tls, char *host, size_t host_cap,
                       uint16_t *port) {
  const char *p = url;
  *tls = default_tls != 0;
  if (!strncmp(p, "https://", 8)) { p += 8; *tls = 1; }
  else if (!strncmp(p, "http://", 7)) { p += 7; *tls = 0; }
  else if (strstr(p, "://")) return h2_api_fail("unsupported URL scheme in '%s' (use http:// or https://)", url);
  const char *end = p + strcspn(p, "/?#");
  const char *at = memchr(p, '@', (size_t)(end - p));
  if (at) p = at + 1; /* user-info is ignored */
  const char *hs = p, *he, *ps = NULL;
  if (*p == '[') {
    const char *rb = memchr(p, ']', (size_t)(end - p));
    if (!rb) return h2_api_fail("bad IPv6 literal in '%s'", url);
    hs = p + 1;
    he = rb;
    if (rb + 1 < end) {
      if (rb[1] != ':') return h2_api_fail("bad authority in '%s'", url);
      ps = rb + 2;
    }
  } else {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    he = colon ? colon : end;
    if (colon) ps = colon + 1;
  }
  if (he == hs) return h2_api_fail("no host in '%s'", url);
  if ((size_t)(he - hs) >= host_cap) return h2_api_fail("host name too long in '%s'", url);
  memcpy(host, hs, (size_t)(he - hs));
  host[he - hs] = '\0';
  *port = *tls ? 443 : 80;
  if (ps) {
    unsigned v = 0;
    if (ps == end) return h2_api_fail("empty port in '%s'", url);
    for (const char *q = ps; q < end; q++) {
      if (*q < '0' || *q > '9') return h2_api_fail("bad port in '%s'", url);
      v = v * 10 + (unsigned)(*q - '0');
      if (v > 65535) return h2_api_fail("port out of range in '%s'", url);
    }
    if (v == 0) return h2_api_fail("port 0 in '%s'", url);
    *port = (uint16_t)v;
  }
  return 0;
}

