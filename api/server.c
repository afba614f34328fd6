/* server.c: h2_server: listeners on h2_loop (h2c and TLS), one server
 * session per accepted connection, graceful close. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session_internal.h"

#define MAX_LISTENERS 8
#define ACCEPT_BATCH 64
/* After accept() fails (EMFILE, ENFILE, ENOBUFS...), the listener stops
 * being watched for this long: a level-triggered readable listener whose
 * accept keeps failing would otherwise spin the loop. */
#define ACCEPT_PAUSE_MS 100
/* Node's default server timeouts: createSecureServer 120 s, createServer
 * none. */
#define TLS_TIMEOUT_DEFAULT_MS 120000

typedef struct listener {
  h2_server *srv;
  h2_loop_io *io;
  int fd;
  uint16_t port;
  h2_tls_ctx *tls;
  h2_loop_timer resume; /* restarts watching after an accept failure */
  int paused;           /* not watched until |resume| fires */
  int failing;          /* the current accept failure was reported */
} listener;

struct h2_server {
  h2_loop *loop;
  h2_options opts;
  int has_opts;
  h2_server_callbacks cbs;
  void *user;
  listener lis[MAX_LISTENERS];
  int num_lis;
  h2_session *sessions;
  size_t num_sessions;
  uint64_t timeout_ms;
  int timeout_set;      /* h2_server_set_timeout was called */
  size_t max_sessions;  /* 0 = no limit */
  int closing;
  int freeing;
  int freed;            /* h2_server_free done; freed by the last cbs user */
  size_t cbs_users;     /* sessions pointing to cbs.session (until freed) */
  void (*done)(h2_server *srv, void *user);
  char **origins_copy;  /* opts.origins points here (copy_origins) */
};

/* The origins option is kept as its derived origins, in one block: the
 * pointer array, then the strings. */
static int copy_origins(h2_server *srv) {
  h2_origin_list *w;
  size_t n = srv->opts.num_origins, bytes = 0;
  if (h2_origins_prepare_("origins", srv->opts.origins, n, &w)) return -1;
  for (size_t i = 0; i < n; i++) bytes += w->l[i] + 1;
  char **list = malloc(n * sizeof *list + bytes);
  if (!list) {
    free(w);
    return -1;
  }
  char *p = (char *)(list + n);
  for (size_t i = 0; i < n; i++) {
    memcpy(p, w->o[i], w->l[i] + 1);
    list[i] = p;
    p += w->l[i] + 1;
  }
  free(w);
  srv->origins_copy = list;
  srv->opts.origins = (const char *const *)list;
  return 0;
}

int h2_server_new(h2_server **out, h2_loop *loop, const h2_options *opts,
                  const h2_server_callbacks *cbs, void *user) {
  if (opts) {
    int rc = h2_options_validate(opts);
    if (rc) return rc;
  }
  h2_server *srv = calloc(1, sizeof *srv);
  if (!srv) return H2_ERR_NOMEM;
  srv->loop = loop;
  if (opts) {
    srv->opts = *opts;
    srv->has_opts = 1;
    if (opts->num_origins && copy_origins(srv) != 0) {
      free(srv);
      return H2_ERR_NOMEM;
    }
  }
  if (cbs) srv->cbs = *cbs;
  srv->user = user;
  *out = srv;
  return 0;
}

static void server_struct_free(h2_server *srv) {
  free(srv->origins_copy);
  free(srv);
}

static void report(h2_server *srv, int err, const char *msg) {
  if (srv->cbs.on_session_error) srv->cbs.on_session_error(srv, err, msg, srv->user);
}

void h2_server_report_(h2_server *srv, int err, const char *msg) { report(srv, err, msg); }

int h2_server_unknown_protocol_(h2_server *srv, int fd, h2_tls_conn *tls) {
  if (!srv->cbs.on_unknown_protocol) return 0;
  srv->cbs.on_unknown_protocol(srv, fd, tls, srv->user);
  return 1;
}

static void new_session(h2_server *srv, listener *l, int fd) {
  if (srv->max_sessions && srv->num_sessions >= srv->max_sessions) {
    /* Node's maxConnections: the connection is dropped at once. */
    close(fd);
    char msg[96];
    snprintf(msg, sizeof msg, "connection limit reached (%zu sessions); connection dropped",
             srv->max_sessions);
    report(srv, H2_ERR_LIMIT, msg);
    return;
  }
  h2_session *s = h2_session_alloc_(0);
  if (!s) {
    close(fd);
    report(srv, H2_ERR_NOMEM, "out of memory");
    return;
  }
  int rc = h2_session_init_(s, 1, srv->has_opts ? &srv->opts : NULL, &srv->cbs.session,
                            srv->user);
  if (rc) {
    free(s);
    close(fd);
    report(srv, rc, "cannot create a session");
    return;
  }
  h2_tls_conn *tc = NULL;
  if (l->tls) {
    tc = h2_tls_conn_new(l->tls, NULL);
    if (!tc) {
      h2_conn_free(s->conn);
      h2_session_free_struct_(s);
      close(fd);
      report(srv, H2_ERR_NOMEM, "cannot create a TLS connection");
      return;
    }
  }
  s->server = srv;
  s->connecting = 1;
  snprintf(s->scheme, sizeof s->scheme, "%s", l->tls ? "https" : "http");
  h2_xport *xp;
  rc = h2_xport_new(&xp, srv->loop, fd, tc, &h2_session_xport_events_, s);
  if (rc) {
    h2_conn_free(s->conn);
    h2_session_free_struct_(s);
    report(srv, rc, "cannot watch the connection");
    return;
  }
  h2_session_attach_(s, srv->loop, xp);
  s->cbs_srv = srv;
  srv->cbs_users++;
  s->srv_next = srv->sessions;
  if (srv->sessions) srv->sessions->srv_prev = s;
  srv->sessions = s;
  srv->num_sessions++;
  uint64_t timeout = h2_server_get_timeout(srv, (int)(l - srv->lis));
  if (timeout) h2_session_set_timeout(s, timeout);
  h2_session_start_clock_(s); /* the handshake time limit counts from the accept */
  if (srv->cbs.on_session) srv->cbs.on_session(srv, s, srv->user);
}

void h2_server_session_gone_(h2_server *srv, h2_session *s) {
  if (s->srv_prev) s->srv_prev->srv_next = s->srv_next;
  else if (srv->sessions == s) srv->sessions = s->srv_next;
  if (s->srv_next) s->srv_next->srv_prev = s->srv_prev;
  s->srv_next = s->srv_prev = NULL;
  s->server = NULL;
  srv->num_sessions--;
  if (srv->closing && srv->num_sessions == 0 && srv->done && !srv->freeing) {
    void (*done)(h2_server *, void *) = srv->done;
    srv->done = NULL;
    done(srv, srv->user);
  }
}

static void on_accept(h2_loop_io *io, int fd, unsigned events, void *user);

/* pause_listener stops watching |l| for ACCEPT_PAUSE_MS after accept failed
 * with |err| (errno |eno|), reporting the failure once per episode. */
static void pause_listener(listener *l, int err, int eno) {
  if (!l->failing) {
    char msg[96];
    snprintf(msg, sizeof msg, "accept failed: %s; pausing the listener", strerror(eno));
    l->failing = 1;
    report(l->srv, err, msg);
  }
  if (!l->io) return; /* closed from the report callback */
  h2_loop_io_set(l->io, 0);
  l->paused = 1;
  if (h2_loop_timer_start(&l->resume, ACCEPT_PAUSE_MS, 0) != 0) {
    /* No timer: keep watching rather than never accepting again. */
    h2_loop_io_set(l->io, H2_LOOP_READ);
    l->paused = 0;
  }
}

static void on_resume(h2_loop_timer *t, void *user) {
  (void)t;
  listener *l = user;
  if (!l->io || !l->paused) return;
  l->paused = 0;
  h2_loop_io_set(l->io, H2_LOOP_READ);
  /* Try at once: a free fd may be waiting for a connection already queued. */
  on_accept(l->io, l->fd, H2_LOOP_READ, l);
}

static void on_accept(h2_loop_io *io, int fd, unsigned events, void *user) {
  (void)io; (void)events; (void)fd;
  listener *l = user;
  int fds[ACCEPT_BATCH];
  errno = 0;
  int n = h2_loop_tcp_accept(l->fd, fds, NULL, ACCEPT_BATCH);
  int eno = errno;
  for (int i = 0; i < n; i++) new_session(l->srv, l, fds[i]);
  if (n < 0) {
    pause_listener(l, n, eno);
  } else if (n > 0 && n < ACCEPT_BATCH && eno != 0 && eno != EAGAIN && eno != EWOULDBLOCK) {
    /* The batch stopped on an error after accepting some: the queue is
     * not empty, so pause now rather than fail again next iteration. */
    pause_listener(l, H2_ERR_IO, eno);
  } else if (n > 0) {
    l->failing = 0;
  }
}

int h2_server_listen(h2_server *srv, const char *host, uint16_t port, h2_tls_ctx *tls) {
  if (srv->num_lis >= MAX_LISTENERS || srv->closing) return H2_ERR_STATE;
  char hp[300];
  h2_loop_addr addr;
  if (!host || !*host) host = "*";
  if (strchr(host, ':') && host[0] != '[') snprintf(hp, sizeof hp, "[%s]:%u", host, port);
  else snprintf(hp, sizeof hp, "%s:%u", host, port);
  int rc = h2_loop_addr_resolve(&addr, hp);
  if (rc) return h2_api_fail("cannot resolve listen address %s", hp);
  int fd;
  rc = h2_loop_tcp_listen(&fd, &addr, 0, 0);
  if (rc) return rc;
  listener *l = &srv->lis[srv->num_lis];
  l->srv = srv;
  l->fd = fd;
  l->tls = tls;
  l->paused = l->failing = 0;
  h2_loop_timer_init(srv->loop, &l->resume, on_resume, l);
  h2_loop_addr local;
  l->port = h2_loop_tcp_local_addr(fd, &local) == 0 ? h2_loop_addr_port(&local) : port;
  rc = h2_loop_io_new(srv->loop, &l->io, fd, H2_LOOP_IO_OWN_FD, on_accept, l);
  if (rc) {
    close(fd);
    return rc;
  }
  h2_loop_io_set(l->io, H2_LOOP_READ);
  return srv->num_lis++;
}

uint16_t h2_server_port(const h2_server *srv, int index) {
  if (index < 0 || index >= srv->num_lis) return 0;
  return srv->lis[index].port;
}

static void close_listeners(h2_server *srv) {
  for (int i = 0; i < srv->num_lis; i++) {
    if (srv->lis[i].io) h2_loop_io_close(srv->lis[i].io, NULL);
    srv->lis[i].io = NULL;
    h2_loop_timer_stop(&srv->lis[i].resume);
    srv->lis[i].paused = 0;
  }
}

void h2_server_close(h2_server *srv, void (*done)(h2_server *srv, void *user)) {
  srv->closing = 1;
  srv->done = done;
  close_listeners(srv);
  for (h2_session *s = srv->sessions; s; s = s->srv_next) h2_session_close(s);
  if (srv->num_sessions == 0 && srv->done) {
    srv->done = NULL;
    done(srv, srv->user);
  }
}

void h2_server_free(h2_server *srv) {
  if (!srv) return;
  srv->freeing = 1;
  srv->closing = 1;
  close_listeners(srv);
  /* Destroy sessions; they unlink themselves once their transport closes.
   * Detach them from the server so nothing points back here. */
  while (srv->sessions) {
    h2_session *s = srv->sessions;
    h2_server_session_gone_(srv, s);
    h2_session_destroy(s, 0);
  }
  /* Sessions still closing use srv->cbs.session: the last one frees srv. */
  srv->freed = 1;
  if (srv->cbs_users == 0) server_struct_free(srv);
}

void h2_server_cbs_unref_(h2_server *srv) {
  if (--srv->cbs_users == 0 && srv->freed) server_struct_free(srv);
}

void h2_server_set_timeout(h2_server *srv, uint64_t ms) {
  srv->timeout_ms = ms;
  srv->timeout_set = 1;
}

uint64_t h2_server_get_timeout(const h2_server *srv, int index) {
  if (index == -1) return srv->timeout_set ? srv->timeout_ms : 0;
  if (index < 0 || index >= srv->num_lis) return 0;
  if (srv->timeout_set) return srv->timeout_ms;
  return srv->lis[index].tls ? TLS_TIMEOUT_DEFAULT_MS : 0;
}
void h2_server_set_max_connections(h2_server *srv, size_t max) { srv->max_sessions = max; }
size_t h2_server_num_sessions(const h2_server *srv) { return srv->num_sessions; }
