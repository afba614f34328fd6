/* client.c: h2_connect (authority URL parsing, resolution, TCP connect, TLS
 * with ALPN h2 or h2c prior knowledge) and h2_session_request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session_internal.h"

#define MAX_FIELDS 128
#define CONNECT_TIMEOUT_MS 10000

typedef struct pending_connect {
  h2_session *s;
  h2_tls_ctx *tls;
  char host[256];
} pending_connect;

static void connect_failed(h2_session *s, int err, const char *msg) {
  s->errored = 1;
  if (s->cbs.on_error) s->cbs.on_error(s, err, msg, s->user);
  h2_session_transport_closed(s, 0); /* closes streams, on_close, frees |s| */
}

static void on_connected(h2_loop_connect *c, int fd, int status, void *user) {
  (void)c;
  pending_connect *pc = user;
  h2_session *s = pc->s;
  if (status != 0) {
    char msg[400];
    snprintf(msg, sizeof msg, "cannot connect to %s: %s", h2_session_authority_(s),
             status == H2_ERR_TIMEOUT ? "timed out" : h2_strerror(status));
    free(pc);
    connect_failed(s, status, msg);
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
  int rc = h2_parse_authority(authority, &tls, host, sizeof host, &port);
  if (rc) return rc;
  h2_loop_addr addr;
  char hp[300];
  if (strchr(host, ':')) snprintf(hp, sizeof hp, "[%s]:%u", host, port);
  else snprintf(hp, sizeof hp, "%s:%u", host, port);
  rc = h2_loop_addr_resolve(&addr, hp);
  if (rc) {
    h2_api_fail("cannot resolve %s", host);
    return H2_ERR_IO;
  }
  h2_session *s = calloc(1, sizeof *s);
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
    free(s);
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
  if (tls) {
    h2_tls_ctx *ctx = s->opts.tls_ctx;
    if (!ctx) {
      ctx = h2_tls_ctx_new(H2_TLS_CLIENT);
      if (!ctx) goto nomem;
      s->own_tls = ctx;
      if (s->opts.insecure) h2_tls_ctx_set_insecure(ctx, 1);
      if (s->opts.ca_file && (rc = h2_tls_ctx_load_ca_file(ctx, s->opts.ca_file)) != 0) {
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
  rc = h2_loop_tcp_connect(loop, NULL, &addr, CONNECT_TIMEOUT_MS, on_connected, pc);
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

int h2_session_request(h2_session *s, h2_stream **out, const h2_header *hdrs, size_t n,
                       unsigned flags, const h2_priority *prio) {
  if (s->is_server || !s->conn || s->closed) return H2_ERR_STATE;
  h2_hpack_field user_f[MAX_FIELDS];
  char arena[4096];
  int m = h2_fields_prepare_(user_f, MAX_FIELDS, arena, sizeof arena, hdrs, n);
  if (m < 0) return m;
  /* Pseudo-headers in order :method :scheme :authority :path, defaults added. */
  h2_hpack_field f[MAX_FIELDS + 4];
  size_t k = 0;
  int is_connect = 0;
  for (int i = 0; i < m; i++)
    if (user_f[i].name_len == 7 && !memcmp(user_f[i].name, ":method", 7)) {
      f[k++] = user_f[i];
      is_connect = user_f[i].value_len == 7 && !memcmp(user_f[i].value, "CONNECT", 7);
    }
  if (!k) f[k++] = (h2_hpack_field){":method", 7, "GET", 3, 0};
  if (!is_connect && !has_field(user_f, (size_t)m, ":scheme"))
    f[k++] = (h2_hpack_field){":scheme", 7, s->scheme, strlen(s->scheme), 0};
  if (!has_field(user_f, (size_t)m, ":authority"))
    f[k++] = (h2_hpack_field){":authority", 10, h2_session_authority_(s),
                              strlen(h2_session_authority_(s)), 0};
  if (!is_connect && !has_field(user_f, (size_t)m, ":path"))
    f[k++] = (h2_hpack_field){":path", 5, "/", 1, 0};
  for (int i = 0; i < m; i++) {
    if (user_f[i].name_len == 7 && !memcmp(user_f[i].name, ":method", 7)) continue;
    f[k++] = user_f[i];
  }
  int rc = h2_check_send_size_(s, f, k, 0);
  if (rc) return rc;
  h2_stream *st = h2_stream_new_(s, 0);
  if (!st) return H2_ERR_NOMEM;
  h2_frame_prio p, *pp = NULL;
  if (prio) {
    p.dependency = prio->parent;
    p.weight = prio->weight ? prio->weight : 16;
    p.exclusive = prio->exclusive ? 1 : 0;
    pp = &p;
  }
  int end = (flags & H2_END_STREAM) != 0;
  int32_t id = h2_conn_submit_request(s->conn, f, k, pp, end, st);
  if (id < 0) {
    st->closed = 1;
    st->outstanding = 0;
    /* unlink */
    if (st->prev) st->prev->next = st->next; else s->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    s->num_streams--;
    free(st);
    return id;
  }
  st->id = (uint32_t)id;
  st->headers_sent = 1;
  st->wait_trailers = (flags & H2_WAIT_FOR_TRAILERS) != 0;
  if (end) {
    st->local_ended = 1;
    st->end_pending = 1;
  }
  *out = st;
  h2_session_schedule_flush_(s);
  return 0;
}
