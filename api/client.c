/* client.c: h2_connect (authority URL parsing, resolution, TCP connect, TLS
 * with ALPN h2 or h2c prior knowledge) and h2_session_request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_check.h"
#include "session_internal.h"

#define MAX_FIELDS 128
#define CONNECT_TIMEOUT_MS 10000
/* A name may resolve to several addresses (::1 and 127.0.0.1 for
 * "localhost"): they are tried in the resolver's order, each but the last
 * for at most CONNECT_TRY_MS, the last for CONNECT_TIMEOUT_MS. */
#define CONNECT_MAX_ADDRS 8
#define CONNECT_TRY_MS 2000

typedef struct pending_connect {
  h2_session *s;
  h2_tls_ctx *tls;
  char host[256];
  h2_loop_addr addrs[CONNECT_MAX_ADDRS];
  int naddrs, next; /* next: the address being tried */
} pending_connect;

static void on_connected(h2_loop_connect *c, int fd, int status, void *user);

/* start_next starts connecting to pc->addrs[pc->next], skipping addresses
 * whose socket cannot even be made. Returns 0 or the last error. */
static int start_next(pending_connect *pc) {
  int rc = H2_ERR_IO;
  for (; pc->next < pc->naddrs; pc->next++) {
    uint64_t t = pc->next + 1 < pc->naddrs ? CONNECT_TRY_MS : CONNECT_TIMEOUT_MS;
    rc = h2_loop_tcp_connect(pc->s->loop, NULL, &pc->addrs[pc->next], t, on_connected, pc);
    if (rc == 0) return 0;
  }
  return rc;
}

static void connect_failed(h2_session *s, int err, const char *msg) {
  s->errored = 1;
  if (s->cbs->on_error) s->cbs->on_error(s, err, msg, s->user);
  h2_session_transport_closed(s, 0); /* closes streams, on_close, frees |s| */
}

static void on_connected(h2_loop_connect *c, int fd, int status, void *user) {
  (void)c;
  pending_connect *pc = user;
  h2_session *s = pc->s;
  if (status != 0) {
    char msg[400], tried[80] = "";
    const char *why = status == H2_ERR_TIMEOUT ? "timed out" : strerror(errno);
    snprintf(msg, sizeof msg, "%s", why);
    /* Another address of the name may answer. */
    pc->next++;
    if (pc->next < pc->naddrs && start_next(pc) == 0) return;
    if (pc->naddrs > 1) snprintf(tried, sizeof tried, " (%d addresses tried)", pc->naddrs);
    char full[600];
    snprintf(full, sizeof full, "cannot connect to %s: %s%s", h2_session_authority_(s), msg,
             tried);
    free(pc);
    connect_failed(s, status, full);
    return;
  }
  h2_tls_conn *tc = NULL;
  if (pc->tls) {
    tc = h2_tls_conn_new(pc->tls, pc->host);
    if (!tc) {
      close(fd);
      free(pc);
      connect_failed(s, H2_ERR_TLS, "cannot create the TLS connection");
      return;
    }
  }
  free(pc);
  h2_xport *xp;
  int rc = h2_xport_new(&xp, s->loop, fd, tc, &h2_session_xport_events_, s);
  if (rc) {
    connect_failed(s, rc, "cannot watch the connection");
    return;
  }
  s->xp = xp;
  if (!s->refd) h2_xport_ref(xp, 0);
}

int h2_connect(h2_session **out, h2_loop *loop, const char *authority, const h2_options *opts,
               const h2_session_callbacks *cbs, void *user) {
  int tls;
  char host[256];
  uint16_t port;
  int rc = opts ? h2_options_validate(opts) : 0;
  if (rc) return rc;
  int default_tls = !(opts && opts->protocol && !strcmp(opts->protocol, "http:"));
  rc = h2_parse_authority(authority, default_tls, &tls, host, sizeof host, &port);
  if (rc) return rc;
  h2_loop_addr addrs[CONNECT_MAX_ADDRS];
  char hp[300];
  if (strchr(host, ':')) snprintf(hp, sizeof hp, "[%s]:%u", host, port);
  else snprintf(hp, sizeof hp, "%s:%u", host, port);
  int naddrs = h2_loop_addr_resolve_all(addrs, CONNECT_MAX_ADDRS, hp);
  if (naddrs <= 0) {
    h2_api_fail("cannot resolve %s", host);
    return H2_ERR_IO;
  }
  h2_session *s = h2_session_alloc_(1);
  if (!s) return H2_ERR_NOMEM;
  rc = h2_session_init_(s, 0, opts, cbs, user);
  if (rc) {
    free(s);
    return rc;
  }
  snprintf(s->scheme, sizeof s->scheme, "%s", tls ? "https" : "http");
  char auth[300];
  if ((tls && port == 443) || (!tls && port == 80)) snprintf(auth, sizeof auth, "%s", host);
  else if (strchr(host, ':')) snprintf(auth, sizeof auth, "[%s]:%u", host, port);
  else snprintf(auth, sizeof auth, "%s:%u", host, port);
  s->authority = strdup(auth);
  if (!s->authority) {
    h2_conn_free(s->conn);
    h2_session_free_struct_(s);
    return H2_ERR_NOMEM;
  }
  s->connecting = 1;
  h2_session_attach_(s, loop, NULL);
  pending_connect *pc = calloc(1, sizeof *pc);
  if (!pc) {
    h2_conn_free(s->conn);
    h2_session_free_struct_(s);
    return H2_ERR_NOMEM;
  }
  pc->s = s;
  snprintf(pc->host, sizeof pc->host, "%s", host);
  memcpy(pc->addrs, addrs, (size_t)naddrs * sizeof addrs[0]);
  pc->naddrs = naddrs;
  if (tls) {
    h2_tls_ctx *ctx = opts ? opts->tls_ctx : NULL;
    if (!ctx) {
      ctx = h2_tls_ctx_new(H2_TLS_CLIENT);
      if (!ctx) goto nomem;
      s->own_tls = ctx;
      if (opts && opts->insecure) h2_tls_ctx_set_insecure(ctx, 1);
      if (opts && opts->ca_file && (rc = h2_tls_ctx_load_ca_file(ctx, opts->ca_file)) != 0) {
        h2_api_fail("%s", h2_tls_ctx_errmsg(ctx));
        h2_tls_ctx_free(ctx);
        h2_conn_free(s->conn);
        free(pc);
        h2_session_free_struct_(s);
        return rc;
      }
    }
    pc->tls = ctx;
  }
  rc = start_next(pc);
  if (rc) {
    if (s->own_tls) h2_tls_ctx_free(s->own_tls);
    h2_conn_free(s->conn);
    free(pc);
    h2_session_free_struct_(s);
    return rc;
  }
  *out = s;
  return 0;
nomem:
  h2_conn_free(s->conn);
  free(pc);
  h2_session_free_struct_(s);
  return H2_ERR_NOMEM;
}

static int has_field(const h2_hpack_field *f, size_t n, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < n; i++)
    if (f[i].name_len == len && !memcmp(f[i].name, name, len)) return 1;
  return 0;
}

/* A request waiting to start: its fields and their bytes in one block. */
typedef struct h2_pending_req {
  size_t n;
  int end, has_prio;
  h2_frame_prio prio;
  h2_hpack_field f[]; /* then the name and value bytes */
} h2_pending_req;

static h2_pending_req *pending_new(const h2_hpack_field *f, size_t n, const h2_frame_prio *pp,
                                   int end) {
  h2_pending_req *p = malloc(sizeof *p + n * sizeof *f + h2_fields_bytes_(f, n));
  if (!p) return NULL;
  p->n = n;
  p->end = end;
  p->has_prio = pp != NULL;
  if (pp) p->prio = *pp;
  h2_fields_copy_(p->f, (char *)(p->f + n), f, n);
  return p;
}

static void pend_unlink(h2_session *s, h2_stream *st) {
  h2_stream **pp = &s->pend_head, *prev = NULL;
  while (*pp && *pp != st) {
    prev = *pp;
    pp = &(*pp)->pend_next;
  }
  if (!*pp) return;
  *pp = st->pend_next;
  if (s->pend_tail == st) s->pend_tail = prev;
  st->pend_next = NULL;
}

void h2_stream_drop_pending_(h2_stream *st) {
  if (!st->pend) return;
  pend_unlink(st->s, st);
  free(st->pend);
  st->pend = NULL;
}

void h2_stream_set_pending_prio_(h2_stream *st, const h2_frame_prio *p) {
  if (!st->pend) return;
  st->pend->prio = *p;
  st->pend->has_prio = 1;
}

/* Until the peer's SETTINGS arrive, its limit is taken to be
 * peer_max_concurrent_streams (Node's peerMaxConcurrentStreams, 100). */
static int before_settings_full(const h2_session *s) {
  if (s->remote_settings_seen) return 0;
  uint32_t max = s->peer_max_concurrent_streams;
  return h2_conn_num_streams(s->conn, 1) >= max;
}

/* 1 when the peer's MAX_CONCURRENT_STREAMS lets one more request open. */
static int peer_has_room(const h2_session *s) {
  uint32_t max = h2_conn_remote_settings(s->conn)->max_concurrent_streams;
  return max == H2_CONN_UNLIMITED || h2_conn_num_streams(s->conn, 1) < max;
}

void h2_stream_queue_ready_(h2_stream *st) {
  h2_session *s = st->s;
  st->ready_queued = 1;
  st->ready_next = NULL;
  if (s->ready_tail) s->ready_tail->ready_next = st;
  else s->ready_head = st;
  s->ready_tail = st;
}

void h2_stream_unqueue_ready_(h2_stream *st) {
  if (!st->ready_queued) return;
  h2_session *s = st->s;
  h2_stream **pp = &s->ready_head, *prev = NULL;
  while (*pp && *pp != st) {
    prev = *pp;
    pp = &(*pp)->ready_next;
  }
  if (*pp) {
    *pp = st->ready_next;
    if (s->ready_tail == st) s->ready_tail = prev;
  }
  st->ready_queued = 0;
  st->ready_next = NULL;
}

void h2_session_fire_ready_(h2_session *s) {
  /* One at a time from the head: a callback may close or open streams
   * (which changes the queue) or start a nested flush. */
  while (s->ready_head && !s->engine_depth) {
    h2_stream *st = s->ready_head;
    s->ready_head = st->ready_next;
    if (!s->ready_head) s->ready_tail = NULL;
    st->ready_queued = 0;
    st->ready_next = NULL;
    if (st->closed || st->rst_sent || !st->cbs.on_ready) continue;
    st->outstanding++; /* alive through the callback, even if it closes */
    st->cbs.on_ready(st, st->user);
    h2_stream_unhold_(st);
  }
}

void h2_session_start_pending_(h2_session *s) {
  while (s->pend_head && s->conn) {
    h2_stream *st = s->pend_head;
    h2_pending_req *p = st->pend;
    if (!s->closed && before_settings_full(s)) return;
    if (!s->closed && peer_has_room(s) && h2_check_send_size_(s, p->f, p->n) != 0) {
      /* Its turn, but the peer lowered its header list limit while it
       * waited: it cannot be sent (on_frame_error, then closed). */
      h2_stream_drop_pending_(st);
      h2_stream_frame_error_(st, H2_FRAME_HEADERS, H2_ERR_LIMIT);
      continue;
    }
    int32_t id = s->closed ? H2_ERR_STATE
                           : h2_conn_submit_request(s->conn, p->f, p->n, p->has_prio ? &p->prio : NULL,
                                                    p->end, st);
    if (id == H2_ERR_REFUSED_STREAM) return; /* still no room */
    h2_stream_drop_pending_(st);
    if (id < 0) {
      /* GOAWAY or closing: it will never start; like a refused stream. */
      h2_stream_on_closed_(st, 0x7 /* REFUSED_STREAM */);
      continue;
    }
    st->id = (uint32_t)id;
    st->headers_sent = 1;
    h2_stream_queue_ready_(st);
    h2_stream_writable_(st); /* writes made while it waited */
    h2_session_schedule_flush_(s);
  }
}

/* check_request applies the engine's RFC 9113 §8 checks (http_check.h) to
 * the request as it will be sent, at call time: a request that has to wait
 * would otherwise fail only when it starts, as a REFUSED_STREAM close that
 * invites a retry. :protocol (extended CONNECT) needs the peer's
 * SETTINGS_ENABLE_CONNECT_PROTOCOL already received (RFC 8441 §3), as the
 * engine requires when the request starts. Returns 0 or H2_ERR_INVALID_ARG
 * (message set). */
static int check_request(const h2_session *s, const h2_hpack_field *f, size_t n, int end) {
  int cp = (int)h2_conn_remote_settings(s->conn)->enable_connect_protocol;
  h2_http_check chk;
  h2_http_check_init(&chk, H2_HTTP_REQUEST, cp);
  int rc = h2_http_check_fields(&chk, f, n);
  if (rc == H2_ERR_INVALID_ARG) return h2_api_fail("request: a header field without name or value");
  if (rc == 0) rc = h2_http_check_end(&chk, end);
  if (rc == 0) return 0;
  if (!cp && has_field(f, n, ":protocol"))
    return h2_api_fail("request: :protocol (extended CONNECT) before the peer's "
                       "SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (wait for on_remote_settings)");
  return h2_api_fail("request headers are malformed (RFC 9113 section 8): %s",
                     chk.why ? chk.why : "rule broken");
}

int h2_session_request(h2_session *s, h2_stream **out, const h2_header *hdrs, size_t n,
                       unsigned flags, const h2_priority *prio) {
  if (s->is_server || !s->conn || s->closed) return H2_ERR_STATE;
  h2_hpack_field user_f[MAX_FIELDS];
  char arena[4096];
  int m = h2_fields_prepare_(user_f, MAX_FIELDS, arena, sizeof arena, hdrs, n);
  if (m < 0) return m;
  /* Pseudo-headers in order :method :scheme :authority :path, defaults
   * added, except to a CONNECT (§8.5: the caller names the :authority,
   * there is no :scheme nor :path); an extended CONNECT (:protocol) is an
   * ordinary request in that respect (RFC 8441 §4). */
  h2_hpack_field f[MAX_FIELDS + 4];
  size_t k = 0;
  int is_connect = 0;
  for (int i = 0; i < m; i++)
    if (user_f[i].name_len == 7 && !memcmp(user_f[i].name, ":method", 7)) {
      f[k++] = user_f[i];
      is_connect = user_f[i].value_len == 7 && !memcmp(user_f[i].value, "CONNECT", 7);
    }
  int defaults = !is_connect || has_field(user_f, (size_t)m, ":protocol");
  if (!k) f[k++] = (h2_hpack_field){":method", 7, "GET", 3, 0};
  if (defaults && !has_field(user_f, (size_t)m, ":scheme"))
    f[k++] = (h2_hpack_field){":scheme", 7, s->scheme, strlen(s->scheme), 0};
  if (defaults && !has_field(user_f, (size_t)m, ":authority"))
    f[k++] = (h2_hpack_field){":authority", 10, h2_session_authority_(s),
                              strlen(h2_session_authority_(s)), 0};
  if (defaults && !has_field(user_f, (size_t)m, ":path"))
    f[k++] = (h2_hpack_field){":path", 5, "/", 1, 0};
  for (int i = 0; i < m; i++) {
    if (user_f[i].name_len == 7 && !memcmp(user_f[i].name, ":method", 7)) continue;
    f[k++] = user_f[i];
  }
  int end = (flags & H2_END_STREAM) != 0;
  int rc = check_request(s, f, k, end);
  if (rc) return rc;
  /* Too large a request is refused here: no stream exists yet, so there
   * is nothing to report on_frame_error about. */
  rc = h2_check_send_size_(s, f, k);
  if (rc) return rc;
  h2_stream *st = h2_stream_new_(s, 0);
  if (!st) return H2_ERR_NOMEM;
  h2_sent_block_ *kept = NULL;
  if (s->keep_sent && (rc = h2_sent_prepare_(st, f, k, &kept)) != 0) {
    h2_stream_discard_(st);
    return rc;
  }
  h2_frame_prio p, *pp = NULL;
  if (prio) {
    p.dependency = prio->parent;
    p.weight = prio->weight ? prio->weight : 16;
    p.exclusive = prio->exclusive ? 1 : 0;
    pp = &p;
    st->weight = p.weight;
  }
  /* Behind requests already waiting, or no room under the peer's limit:
   * wait (Node queues such requests too). */
  int32_t id = s->pend_head || before_settings_full(s)
                   ? H2_ERR_REFUSED_STREAM
                   : h2_conn_submit_request(s->conn, f, k, pp, end, st);
  if (id == H2_ERR_REFUSED_STREAM) {
    st->pend = pending_new(f, k, pp, end);
    if (st->pend) {
      if (s->pend_tail) s->pend_tail->pend_next = st;
      else s->pend_head = st;
      s->pend_tail = st;
      id = 0;
    } else {
      id = H2_ERR_NOMEM;
    }
  }
  if (id < 0) {
    free(kept);
    h2_stream_discard_(st);
    return id;
  }
  if (kept) h2_sent_attach_(st, H2_SENT_HEADERS, kept);
  st->id = (uint32_t)id;
  st->headers_sent = id > 0;
  if (id > 0) h2_stream_queue_ready_(st); /* on_ready once the caller has set it */
  st->wait_trailers = (flags & H2_WAIT_FOR_TRAILERS) != 0;
  if (end) {
    st->local_ended = 1;
    st->end_pending = 1;
  }
  *out = st;
  h2_session_schedule_flush_(s);
  return 0;
}
