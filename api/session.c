/* session.c: h2_session over the sans-IO engine (h2_conn): engine events to
 * Node-style callbacks, output flushing to the transport (loop-driven) or to
 * the application (transport-less), timers, ping bookkeeping, close/destroy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_internal.h"

#define MAX_IOV 256
#define FLUSH_ROUNDS 64 /* writevs per flush_loop call */
#define CLOSE_LINGER_MS 2000

static void to_settings(h2_settings *out, const h2_conn_settings *in) {
  out->header_table_size = in->header_table_size;
  out->enable_push = in->enable_push;
  out->max_concurrent_streams = in->max_concurrent_streams;
  out->initial_window_size = in->initial_window_size;
  out->max_frame_size = in->max_frame_size;
  out->max_header_list_size = in->max_header_list_size;
  out->enable_connect_protocol = in->enable_connect_protocol;
  out->present = H2_HAS_ALL_SETTINGS;
}

/* Session time starts at 0 when the session is attached to its loop: the
 * engine stamps its first SETTINGS at time 0 (h2_conn_new takes no clock),
 * so the clock it sees must start there too. */
uint64_t h2_session_now_(h2_session *s) { return s->loop ? h2_loop_now(s->loop) - s->t0 : s->now; }

static void finish_session(h2_session *s);

/* ---- engine events -------------------------------------------------------- */

static void trace_frame(h2_session *s, int out, const h2_frame *f) {
  char line[512];
  h2_frame_print(line, sizeof line, f);
  s->trace(s, out, line, s->trace_user);
}

static int on_event(h2_conn *conn, const h2_conn_event *ev, void *user) {
  (void)conn;
  h2_session *s = user;
  h2_stream *st = ev->stream_user;
  if (s->metrics) h2_metrics_event_(s, ev);
  switch (ev->type) {
    case H2_CONN_EV_SETTINGS:
      s->remote_settings_seen = 1;
      if (s->cbs->on_remote_settings) {
        h2_settings v;
        to_settings(&v, ev->u.settings.settings);
        s->cbs->on_remote_settings(s, &v, s->user);
      }
      if (s->pend_head) h2_session_start_pending_(s); /* the limit may have grown */
      break;
    case H2_CONN_EV_SETTINGS_ACK:
      if (s->cbs->on_local_settings) {
        h2_settings v;
        to_settings(&v, ev->u.settings.settings);
        s->cbs->on_local_settings(s, &v, s->user);
      }
      break;
    case H2_CONN_EV_HEADERS: {
      const h2_header *f = ev->u.headers.fields;
      size_t n = ev->u.headers.num_fields;
      unsigned flags = ev->u.headers.end_stream ? H2_FLAG_END_STREAM_RCVD : 0;
      switch (ev->u.headers.category) {
        case H2_CONN_HEADERS_REQUEST: {
          if (s->closed) { /* closing: refuse new work */
            h2_conn_submit_rst(s->conn, ev->stream_id, 0x7 /* REFUSED_STREAM */);
            break;
          }
          h2_stream *ns = h2_stream_new_(s, ev->stream_id);
          if (!ns) {
            h2_conn_submit_rst(s->conn, ev->stream_id, 0x2);
            break;
          }
          ns->end_after_headers = ev->u.headers.end_stream != 0;
          if (ev->u.headers.prio) ns->weight = ev->u.headers.prio->weight;
          h2_conn_stream_set_user(s->conn, ev->stream_id, ns);
          if (s->cbs->on_stream) s->cbs->on_stream(s, ns, f, n, flags, s->user);
          else h2_stream_close(ns, 0x7);
          break;
        }
        case H2_CONN_HEADERS_PUSH_PROMISE: {
          h2_stream *ns = h2_stream_new_(s, ev->u.headers.promised_id);
          if (!ns) {
            h2_conn_submit_rst(s->conn, ev->u.headers.promised_id, 0x2);
            break;
          }
          ns->is_push = 1;
          ns->local_ended = 1;
          h2_conn_stream_set_user(s->conn, ev->u.headers.promised_id, ns);
          if (s->cbs->on_stream) s->cbs->on_stream(s, ns, f, n, flags, s->user);
          else h2_stream_close(ns, 0x8 /* CANCEL */);
          break;
        }
        case H2_CONN_HEADERS_RESPONSE:
          if (!st) break;
          st->end_after_headers = ev->u.headers.end_stream != 0;
          st->last_activity = h2_session_now_(s);
          if (st->is_push) {
            if (st->cbs.on_push) st->cbs.on_push(st, f, n, flags, st->user);
          } else if (st->cbs.on_response) {
            st->cbs.on_response(st, f, n, flags, st->user);
          }
          break;
        case H2_CONN_HEADERS_INFO:
          if (st && st->cbs.on_headers) st->cbs.on_headers(st, f, n, flags, st->user);
          break;
        case H2_CONN_HEADERS_TRAILERS:
          if (st && st->cbs.on_trailers) st->cbs.on_trailers(st, f, n, flags, st->user);
          break;
      }
      break;
    }
    case H2_CONN_EV_DATA:
      if (!st) {
        h2_conn_consume(s->conn, ev->stream_id, ev->u.data.len);
        break;
      }
      st->last_activity = h2_session_now_(s);
      if (st->cbs.on_data && ev->u.data.len)
        st->cbs.on_data(st, ev->u.data.data, ev->u.data.len, st->user);
      if (!st->paused) h2_conn_consume(s->conn, ev->stream_id, ev->u.data.len);
      break;
    case H2_CONN_EV_PRIORITY:
      if (st && !ev->u.priority.update_value) st->weight = ev->u.priority.prio.weight;
      break;
    case H2_CONN_EV_STREAM_END:
      if (st) {
        st->remote_ended = 1;
        if (st->cbs.on_end) st->cbs.on_end(st, st->user);
      }
      break;
    case H2_CONN_EV_STREAM_RESET:
      if (st) {
        st->rst_code = ev->u.reset.error_code;
        if (!st->local_ended || !st->remote_ended) {
          st->aborted = 1;
          if (st->cbs.on_aborted) st->cbs.on_aborted(st, st->user);
        }
        if (ev->u.reset.error_code != 0 && st->cbs.on_error)
          st->cbs.on_error(st, -(int)ev->u.reset.error_code, st->user);
      }
      break;
    case H2_CONN_EV_STREAM_CLOSED:
      if (st) {
        uint32_t code = st->rst_code ? st->rst_code : ev->u.closed.error_code;
        if (ev->u.closed.reason == H2_CONN_CLOSE_CONNECTION && !code) code = 0x8; /* CANCEL */
        if (ev->u.closed.reason == H2_CONN_CLOSE_GOAWAY && !code) code = 0x7;     /* REFUSED */
        if (ev->u.closed.reason == H2_CONN_CLOSE_DONE) code = st->rst_code;
        h2_stream_on_closed_(st, code);
      }
      if (s->pend_head) h2_session_start_pending_(s); /* room for one more */
      break;
    case H2_CONN_EV_PING:
      if (s->cbs->on_ping) s->cbs->on_ping(s, ev->u.ping.opaque, s->user);
      break;
    case H2_CONN_EV_PING_ACK:
      if (s->ping_count) {
        h2_ping_rec p = s->pings[s->ping_head];
        s->ping_head = (s->ping_head + 1) % H2_MAX_PINGS;
        s->ping_count--;
        if (p.cb) p.cb(s, 0, (double)ev->u.ping.rtt_ms, ev->u.ping.opaque, p.user);
      }
      break;
    case H2_CONN_EV_GOAWAY:
      if (s->cbs->on_goaway)
        s->cbs->on_goaway(s, ev->u.goaway.error_code, ev->u.goaway.last_stream_id,
                         ev->u.goaway.debug, ev->u.goaway.debug_len, s->user);
      if (s->pend_head) h2_session_start_pending_(s); /* they can never start now */
      break;
    case H2_CONN_EV_WRITABLE:
      if (st) h2_stream_writable_(st);
      break;
    case H2_CONN_EV_DATA_RELEASED:
      if (ev->u.released.user) h2_stream_released_(ev->u.released.user, ev->u.released.sent);
      break;
    case H2_CONN_EV_FRAME_RECV:
    case H2_CONN_EV_FRAME_SENT:
      if (s->trace) trace_frame(s, ev->type == H2_CONN_EV_FRAME_SENT, ev->u.frame.frame);
      break;
    case H2_CONN_EV_ALTSVC:
      if (s->cbs->on_altsvc)
        s->cbs->on_altsvc(s, (const char *)ev->u.altsvc.value, ev->u.altsvc.value_len,
                         (const char *)ev->u.altsvc.origin, ev->u.altsvc.origin_len, ev->stream_id,
                         s->user);
      break;
    case H2_CONN_EV_ORIGIN: /* set, then on_origin (TLS clients only) */
      h2_session_on_origin_frame_(s, ev->u.origin.frame);
      break;
    case H2_CONN_EV_FRAME_NOT_SENT:
      if (ev->stream_id == 0) {
        /* A frame of the connection itself: the engine fails the
         * connection right after (CONN_ERROR); the session is destroyed
         * (Node's frameError on stream 0 shuts the session down). */
        if (s->cbs->on_frame_error)
          s->cbs->on_frame_error(s, ev->u.not_sent.frame_type, ev->u.not_sent.err, 0, s->user);
        s->closed = 1;
        s->destroyed = 1;
        if (!s->destroy_code) s->destroy_code = 0x2;
      } else if (st) {
        h2_stream_frame_error_(st, ev->u.not_sent.frame_type, ev->u.not_sent.err);
      }
      break;
    case H2_CONN_EV_CONN_ERROR:
      /* A server whose transport is still connecting (TLS handshake) is
       * aborted by run_timeouts, which reports it with a message that says
       * so. */
      if (s->connecting && s->loop) break;
      if (!s->errored) {
        s->errored = 1;
        if (s->cbs->on_error) {
          char msg[256];
          if (!ev->u.error.remote && ev->u.error.error_code == 0) /* no GOAWAY was sent */
            snprintf(msg, sizeof msg, "%s", ev->u.error.message ? ev->u.error.message : "");
          else
            snprintf(msg, sizeof msg, "%s %s: %s", ev->u.error.remote ? "peer sent" : "sent",
                     h2_err_rfc_name(ev->u.error.error_code),
                     ev->u.error.message ? ev->u.error.message : "");
          s->cbs->on_error(s, ev->u.error.err, msg, s->user);
        }
      }
      break;
    default:
      break;
  }
  return 0;
}

/* ---- output ----------------------------------------------------------------- */

static void arm_timer(h2_session *s);

static void flush_loop(h2_session *s) {
  if (!s->conn || !s->xp || s->transport_gone || !h2_xport_is_open(s->xp)) return;
  if (s->ready_head) {
    h2_session_fire_ready_(s); /* before their HEADERS go out */
    if (!s->conn || !s->xp || s->transport_gone || !h2_xport_is_open(s->xp)) return;
  }
  h2_iov iov[MAX_IOV];
  struct iovec v[MAX_IOV];
  int rounds = 0;
  for (; rounds < FLUSH_ROUNDS; rounds++) {
    s->engine_depth++;
    int n = h2_conn_output(s->conn, iov, MAX_IOV, h2_session_now_(s));
    s->engine_depth--;
    if (n <= 0) break;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
      v[i].iov_base = (void *)iov[i].base;
      v[i].iov_len = iov[i].len;
      total += iov[i].len;
    }
    int64_t w = h2_xport_writev(s->xp, v, n);
    if (w < 0) return; /* the transport is failing; on_close follows */
    if (w > 0) {
      if (s->metrics) h2_metrics_io_(s, 0, (size_t)w);
      s->engine_depth++;
      h2_conn_output_done(s->conn, (size_t)w);
      s->engine_depth--;
    }
    if ((size_t)w < total) return; /* wait for on_writable */
    if (s->finished) return;
  }
  /* Out of rounds with output maybe left (other connections get their turn
   * first): go on in the next iteration. Nothing else would ask for it once
   * every body's bytes are queued (no source chunk release refills and
   * schedules) and the peer has nothing to send: the transfer stalled. */
  if (rounds == FLUSH_ROUNDS) h2_session_schedule_flush_(s);
  if (s->conn && h2_conn_is_closed(s->conn) && h2_conn_pending(s->conn) == 0)
    h2_xport_close(s->xp, CLOSE_LINGER_MS);
  else
    arm_timer(s);
}

static void flush_defer_cb(h2_loop_defer *d, void *user) {
  (void)d;
  flush_loop(user);
}

void h2_session_schedule_flush_(h2_session *s) {
  if (s->loop) {
    if (!s->finished) h2_loop_defer_schedule(&s->flush_defer);
  } else if (s->tr.want_write && !s->want_write_notified && s->conn &&
             h2_conn_want_write(s->conn)) {
    s->want_write_notified = 1;
    s->tr.want_write(s, s->tr.user);
  }
}

/* ---- timers ------------------------------------------------------------------ */

static uint64_t next_deadline(h2_session *s) {
  uint64_t d = s->conn ? h2_conn_next_deadline(s->conn) : UINT64_MAX;
  if (s->timeout_ms && s->last_activity + s->timeout_ms < d) d = s->last_activity + s->timeout_ms;
  if (s->num_timed_streams)
    for (h2_stream *st = s->streams; st; st = st->next)
      if (st->timeout_ms && st->last_activity + st->timeout_ms < d)
        d = st->last_activity + st->timeout_ms;
  return d;
}

static void run_timeouts(h2_session *s, uint64_t now) {
  if (s->conn && !s->engine_depth) {
    s->engine_depth++;
    int tr = h2_conn_timeout(s->conn, now);
    s->engine_depth--;
    /* The handshake time limit passed while the transport was still
     * connecting (a server's TLS handshake): nothing to flush, close. */
    if (tr == H2_ERR_TIMEOUT && s->connecting && s->xp) {
      h2_xport_abort(s->xp, H2_ERR_TIMEOUT,
                     h2_xport_encrypted(s->xp) ? "TLS handshake not completed in time"
                                               : "connection not established in time");
      return;
    }
  }
  for (h2_stream *st = s->streams, *next; st; st = next) {
    next = st->next;
    if (st->timeout_ms && !st->closed && st->last_activity + st->timeout_ms <= now) {
      st->last_activity = now;
      if (st->cbs.on_timeout) st->cbs.on_timeout(st, st->user);
      else h2_stream_close(st, 0x8 /* CANCEL */);
    }
  }
  if (s->timeout_ms && s->last_activity + s->timeout_ms <= now && !s->destroyed) {
    s->last_activity = now;
    if (s->cbs->on_timeout) s->cbs->on_timeout(s, s->user);
    else h2_session_close(s);
  }
  h2_session_schedule_flush_(s);
}

static void timer_cb(h2_loop_timer *t, void *user) {
  (void)t;
  h2_session *s = user;
  run_timeouts(s, h2_session_now_(s));
  arm_timer(s);
}

/* Arms the session timer for the nearest deadline. Lazy: a timer that is
 * already due earlier than needed stays (it re-checks and re-arms when it
 * fires), so activity does not cost a heap operation per flush. */
static void arm_timer(h2_session *s) {
  if (!s->loop || s->finished) return;
  uint64_t d = next_deadline(s);
  int active = h2_loop_timer_active(&s->timer);
  if (d == UINT64_MAX) {
    if (active) h2_loop_timer_stop(&s->timer);
    return;
  }
  if (active && h2_loop_timer_due(&s->timer) <= d + s->t0) return;
  uint64_t now = h2_session_now_(s);
  h2_loop_timer_start(&s->timer, d > now ? d - now : 0, 0);
  if (!s->refd) h2_loop_timer_unref(&s->timer);
}

void h2_session_tick(h2_session *s, uint64_t now_ms) {
  if (s->metrics) h2_metrics_clock_(s, now_ms);
  s->now = now_ms;
  run_timeouts(s, now_ms);
}

/* ---- creation ------------------------------------------------------------------ */

static void fill_config(h2_conn_config *cfg, const h2_session *s, const h2_options *o) {
  h2_conn_config_init(cfg, s->is_server ? H2_CONN_SERVER : H2_CONN_CLIENT);
  if (o->has_settings) {
    cfg->settings.header_table_size = o->settings.header_table_size;
    cfg->settings.enable_push = s->is_server ? 0 : o->settings.enable_push;
    cfg->settings.max_concurrent_streams = o->settings.max_concurrent_streams;
    cfg->settings.initial_window_size = o->settings.initial_window_size;
    cfg->settings.max_frame_size = o->settings.max_frame_size;
    cfg->settings.max_header_list_size = o->settings.max_header_list_size;
    cfg->settings.enable_connect_protocol = o->settings.enable_connect_protocol;
  }
  if (o->connection_window_size) cfg->connection_window = o->connection_window_size;
  /* Node's maxSessionMemory (10 MB) and maxReservedRemoteStreams (200)
   * when not given, not the engine's own defaults. */
  cfg->max_memory = (size_t)(o->max_session_memory_mb ? o->max_session_memory_mb
                                                      : H2_DEFAULT_SESSION_MEMORY_MB) << 20;
  cfg->max_header_fields = o->max_header_list_pairs ? o->max_header_list_pairs : 128; /* Node */
  if (o->max_session_rejected_streams) cfg->max_refused_streams = o->max_session_rejected_streams;
  /* Invalid frames that cost the peer a stream error (RST_STREAM from us):
   * the engine's budget for them, beyond which the session ends with
   * GOAWAY ENHANCE_YOUR_CALM (it refills at local_rst_per_sec). */
  if (o->max_session_invalid_frames) cfg->local_rst_burst = o->max_session_invalid_frames;
  cfg->max_reserved_streams = o->max_reserved_remote_streams ? o->max_reserved_remote_streams
                                                             : H2_DEFAULT_MAX_RESERVED_REMOTE_STREAMS;
  if (o->max_deflate_dynamic_table_size)
    cfg->hpack_encoder_table_limit = o->max_deflate_dynamic_table_size;
  cfg->auto_window_update = 0;
  /* 0 is the engine's default (10 s); H2_TIMEOUT_NONE is the engine's 0. */
  if (o->handshake_timeout_ms)
    cfg->preface_timeout_ms = o->handshake_timeout_ms == H2_TIMEOUT_NONE ? 0 : o->handshake_timeout_ms;
  if (o->headers_timeout_ms)
    cfg->header_block_timeout_ms = o->headers_timeout_ms == H2_TIMEOUT_NONE ? 0 : o->headers_timeout_ms;
}

/* The engine's padding callback for H2_PADDING_CALLBACK (DATA and HEADERS). */
static size_t select_padding(void *user, uint32_t stream_id, size_t len, size_t max_pad) {
  (void)stream_id;
  h2_session *s = user;
  size_t n = s->select_padding(len, len + max_pad, s->user);
  return n > len ? n - len : 0; /* the engine clips to max_pad */
}

typedef struct h2_session_with_cbs {
  h2_session s;
  h2_session_callbacks cbs;
} h2_session_with_cbs;

h2_session *h2_session_alloc_(int own_cbs) {
  if (!own_cbs) return calloc(1, sizeof(h2_session));
  h2_session_with_cbs *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->s.own_cbs = 1;
  return &w->s;
}

int h2_session_init_(h2_session *s, int is_server, const h2_options *opts,
                     const h2_session_callbacks *cbs, void *user) {
  h2_options defaults;
  if (opts) {
    int rc = h2_options_validate(opts);
    if (rc) return rc;
  } else {
    h2_options_default(&defaults);
    opts = &defaults;
  }
  s->is_server = is_server;
  if (s->own_cbs) {
    h2_session_with_cbs *w = (h2_session_with_cbs *)s;
    if (cbs) w->cbs = *cbs;
    s->cbs = &w->cbs;
  } else {
    static const h2_session_callbacks none;
    s->cbs = cbs ? cbs : &none; /* shared: outlives the session (see cbs_srv) */
  }
  s->user = user;
  s->select_padding = opts->select_padding;
  s->max_outstanding_pings = opts->max_outstanding_pings ? opts->max_outstanding_pings : 10;
  s->max_send_header_block_length =
      opts->max_send_header_block_length ? opts->max_send_header_block_length : 65536;
  s->peer_max_concurrent_streams =
      opts->peer_max_concurrent_streams ? opts->peer_max_concurrent_streams : 100;
  s->stream_high_water_mark = opts->stream_high_water_mark ? opts->stream_high_water_mark : 65536;
  s->mem = opts->mem ? opts->mem : h2_mem_default();
  s->refd = 1;
  s->keep_sent = opts->keep_sent_headers != 0;
  h2_conn_config cfg;
  fill_config(&cfg, s, opts);
  cfg.padding = cfg.header_padding = (uint8_t)opts->padding_strategy; /* same values */
  cfg.padding_align = 8;                                              /* Node's ALIGNED */
  cfg.padding_cb = cfg.header_padding_cb = select_padding;
  cfg.padding_user = s;
  s->conn = h2_conn_new(is_server ? H2_CONN_SERVER : H2_CONN_CLIENT, &cfg,
                        opts->mem ? opts->mem : h2_mem_cached_(), on_event, s);
  if (!s->conn) return H2_ERR_NOMEM;
  if (opts->enable_metrics) {
    if (h2_metrics_session_init_(s) != 0) {
      h2_conn_free(s->conn);
      s->conn = NULL;
      return H2_ERR_NOMEM;
    }
    h2_conn_set_trace(s->conn, 1); /* frames are counted from its events */
  }
  /* Node's `origins`: the first ORIGIN frame, right after our SETTINGS. */
  if (is_server && opts->num_origins) {
    int rc = h2_session_submit_origins_(s, opts->origins, opts->num_origins);
    if (rc) {
      h2_metrics_session_free_(s);
      h2_conn_free(s->conn);
      s->conn = NULL;
      return rc;
    }
  }
  return 0;
}

int h2_session_new(h2_session **out, int is_server, const h2_options *opts,
                   const h2_session_callbacks *cbs, void *user, const h2_session_transport *tr) {
  h2_session *s = h2_session_alloc_(1);
  if (!s) return H2_ERR_NOMEM;
  int rc = h2_session_init_(s, is_server, opts, cbs, user);
  if (rc) {
    free(s);
    return rc;
  }
  if (tr) s->tr = *tr;
  snprintf(s->scheme, sizeof s->scheme, "%s", opts && opts->encrypted ? "https" : "http");
  *out = s;
  if (s->cbs->on_connect) s->cbs->on_connect(s, s->user);
  return 0;
}

/* ---- transport events (loop mode) ------------------------------------------------ */

static void xp_open(h2_xport *x, void *user) {
  (void)x;
  h2_session *s = user;
  s->connecting = 0;
  s->last_activity = h2_session_now_(s);
  if (s->cbs->on_connect) s->cbs->on_connect(s, s->user);
  flush_loop(s);
}

static void xp_data(h2_xport *x, const uint8_t *data, size_t len, void *user) {
  (void)x;
  h2_session *s = user;
  if (!s->conn || s->finished) return;
  s->last_activity = h2_session_now_(s);
  if (s->metrics) h2_metrics_io_(s, len, 0);
  s->engine_depth++;
  h2_conn_recv(s->conn, data, len, h2_session_now_(s));
  s->engine_depth--;
  /* Answer this input now rather than at the end of the iteration: with
   * many busy connections, the objects of one connection's requests are
   * then written out and freed (and reused by the next connection) while
   * they are still in the CPU cache, instead of every ready connection's
   * requests piling up before the first byte goes out. Still one writev
   * per read. */
  h2_loop_defer_cancel(&s->flush_defer);
  flush_loop(s);
}

static void xp_writable(h2_xport *x, void *user) {
  (void)x;
  flush_loop(user);
}

static void xp_close(h2_xport *x, int err, const char *msg, void *user) {
  (void)x;
  h2_session *s = user;
  s->xp = NULL;
  s->transport_gone = 1;
  if (s->conn) {
    s->engine_depth++;
    h2_conn_recv_eof(s->conn, h2_session_now_(s));
    s->engine_depth--;
  }
  /* A server connection that ends with an error before it was open (TLS
   * handshake failed, no "h2" from ALPN, the peer left mid-handshake) is
   * the server's 'sessionError' / 'tlsClientError' / 'unknownProtocol'. */
  if (err && s->connecting && s->server) h2_server_report_(s->server, err, msg);
  if (err && err != H2_ERR_EOF && !s->errored && !s->destroyed) {
    s->errored = 1;
    if (s->cbs->on_error) s->cbs->on_error(s, err, msg, s->user);
  }
  finish_session(s);
}

/* A TLS client that negotiated something other than h2: a server's
 * on_unknown_protocol may take the connection. */
static int xp_other_protocol(h2_xport *x, int fd, h2_tls_conn *tls, void *user) {
  (void)x;
  h2_session *s = user;
  return s->server ? h2_server_unknown_protocol_(s->server, fd, tls) : 0;
}

const h2_xport_events h2_session_xport_events_ = {xp_open, xp_data, xp_writable, xp_close,
                                                  xp_other_protocol};

void h2_session_attach_(h2_session *s, h2_loop *loop, h2_xport *xp) {
  s->loop = loop;
  s->xp = xp;
  s->t0 = h2_loop_now(loop);
  h2_loop_defer_init(loop, &s->flush_defer, flush_defer_cb, s);
  h2_loop_timer_init(loop, &s->timer, timer_cb, s);
}

void h2_session_start_clock_(h2_session *s) {
  if (!s->conn) return;
  s->engine_depth++;
  h2_conn_timeout(s->conn, h2_session_now_(s));
  s->engine_depth--;
  arm_timer(s);
}

/* Closes every stream still known, reports close, frees (loop mode). */
static void finish_session(h2_session *s) {
  if (s->finished) return;
  s->finished = 1;
  h2_metrics_session_closed_(s);
  if (s->loop) {
    h2_loop_defer_cancel(&s->flush_defer);
    h2_loop_timer_stop(&s->timer);
  }
  /* Pings that will never be answered. */
  while (s->ping_count) {
    h2_ping_rec p = s->pings[s->ping_head];
    s->ping_head = (s->ping_head + 1) % H2_MAX_PINGS;
    s->ping_count--;
    if (p.cb) p.cb(s, H2_ERR_CLOSED, 0, p.payload, p.user);
  }
  /* Engine teardown releases every referenced buffer and closes streams. */
  if (s->conn) {
    h2_conn *c = s->conn;
    h2_conn_free(c);
    s->conn = NULL;
  }
  while (s->streams) {
    h2_stream *st = s->streams;
    if (!st->closed) h2_stream_on_closed_(st, 0x8);
    else break;
  }
  if (s->server) h2_server_session_gone_(s->server, s);
  if (s->cbs->on_close) s->cbs->on_close(s, s->user);
  if (s->loop) {
    if (s->own_tls) h2_tls_ctx_free(s->own_tls);
    h2_session_free_struct_(s);
  }
}

/* ---- transport-less I/O ----------------------------------------------------------- */

int h2_session_feed(h2_session *s, const uint8_t *data, size_t len, uint64_t now_ms) {
  if (!s->conn || s->destroyed) return H2_ERR_CLOSED;
  if (s->engine_depth) return H2_ERR_STATE;
  if (s->metrics) {
    h2_metrics_clock_(s, now_ms);
    h2_metrics_io_(s, len, 0);
  }
  s->now = now_ms;
  s->last_activity = now_ms;
  s->engine_depth++;
  int rc = h2_conn_recv(s->conn, data, len, now_ms);
  s->engine_depth--;
  h2_session_schedule_flush_(s);
  return rc < 0 ? rc : 0;
}

const uint8_t *h2_session_pending(h2_session *s, size_t *len) {
  *len = 0;
  s->want_write_notified = 0;
  if (!s->conn || s->engine_depth) return NULL;
  if (s->ready_head) {
    h2_session_fire_ready_(s); /* before their HEADERS go out */
    if (!s->conn) return NULL;
  }
  h2_iov iov[1];
  s->engine_depth++;
  int n = h2_conn_output(s->conn, iov, 1, s->now);
  s->engine_depth--;
  if (n <= 0) {
    if ((h2_conn_is_closed(s->conn) || s->destroyed) && s->tr.close && !s->transport_gone) {
      s->transport_gone = 1;
      s->tr.close(s, s->tr.user);
    }
    /* Destroyed, and the GOAWAY is out: tear down now (streams closed). */
    if (s->destroyed && !s->loop) finish_session(s);
    return NULL;
  }
  *len = iov[0].len;
  return iov[0].base;
}

void h2_session_consumed(h2_session *s, size_t n) {
  if (!s->conn || s->engine_depth) return;
  if (s->metrics) h2_metrics_io_(s, 0, n);
  s->engine_depth++;
  h2_conn_output_done(s->conn, n);
  s->engine_depth--;
}

void h2_session_transport_closed(h2_session *s, int err) {
  if (s->finished || !s->conn) return;
  s->transport_gone = 1;
  s->engine_depth++;
  h2_conn_recv_eof(s->conn, s->now);
  s->engine_depth--;
  if (err && !s->errored && s->cbs->on_error) {
    s->errored = 1;
    s->cbs->on_error(s, err, "transport failed", s->user);
  }
  finish_session(s);
}

void h2_session_free_struct_(h2_session *s) {
  h2_session_origins_free_(s);
  h2_metrics_session_free_(s);
  free(s->authority);
  free(s->pings);
  struct h2_server *owner = s->cbs_srv;
  free(s);
  if (owner) h2_server_cbs_unref_(owner);
}

const char *h2_session_authority_(const h2_session *s) {
  return s->authority ? s->authority : "localhost";
}

void h2_session_free(h2_session *s) {
  if (!s) return;
  if (!s->finished) finish_session(s);
  h2_session_free_struct_(s);
}

/* ---- operations --------------------------------------------------------------------- */

int h2_session_settings(h2_session *s, const h2_settings *v) {
  if (!s->conn || s->closed) return H2_ERR_STATE;
  int rc = h2_settings_validate(v);
  if (rc) return rc;
  h2_frame_setting e[7] = {
    {0x1, v->header_table_size}, {0x2, s->is_server ? 0 : v->enable_push},
    {0x3, v->max_concurrent_streams}, {0x4, v->initial_window_size},
    {0x5, v->max_frame_size}, {0x6, v->max_header_list_size},
    {0x8, v->enable_connect_protocol},
  };
  size_t n = 7;
  if (!v->enable_connect_protocol && !h2_conn_local_settings(s->conn)->enable_connect_protocol) n = 6;
  rc = h2_conn_submit_settings(s->conn, e, n, h2_session_now_(s));
  if (rc == 0) h2_session_schedule_flush_(s);
  return rc;
}

int h2_session_ping(h2_session *s, const uint8_t *payload, h2_ping_cb cb, void *user) {
  if (!s->conn || s->destroyed) return H2_ERR_STATE;
  if (s->ping_count >= s->max_outstanding_pings) return H2_ERR_LIMIT;
  if (!s->pings && !(s->pings = calloc(H2_MAX_PINGS, sizeof *s->pings))) return H2_ERR_NOMEM;
  h2_ping_rec p;
  p.cb = cb;
  p.user = user;
  uint64_t now = h2_session_now_(s);
  if (payload) memcpy(p.payload, payload, 8);
  else for (int i = 0; i < 8; i++) p.payload[i] = (uint8_t)(now >> (8 * i)); /* little-endian */
  int rc = h2_conn_submit_ping(s->conn, p.payload, now);
  if (rc) return rc;
  s->pings[(s->ping_head + s->ping_count) % H2_MAX_PINGS] = p;
  s->ping_count++;
  h2_session_schedule_flush_(s);
  return 0;
}

int h2_session_goaway(h2_session *s, uint32_t code, uint32_t last_stream_id,
                      const uint8_t *opaque, size_t opaque_len) {
  if (!s->conn) return H2_ERR_STATE;
  if (last_stream_id == UINT32_MAX) last_stream_id = 0x7fffffff;
  int rc = h2_conn_submit_goaway(s->conn, code, last_stream_id, opaque, opaque_len);
  if (rc == 0) {
    s->goaway_sent = 1;
    h2_session_schedule_flush_(s);
  }
  return rc;
}

int h2_session_altsvc(h2_session *s, const char *alt, const char *origin, uint32_t stream_id) {
  if (!s->conn || !s->is_server) return H2_ERR_STATE;
  if (!alt) return h2_api_fail("altsvc: alt is NULL");
  /* Node's ERR_INVALID_CHAR: tab, space and visible ASCII but backslash. */
  size_t alen = strlen(alt);
  for (size_t i = 0; i < alen; i++) {
    uint8_t c = (uint8_t)alt[i];
    if (c != '\t' && (c < 0x20 || c > 0x7e || c == '\\'))
      return h2_api_fail("altsvc: alt has a character other than tab, space and visible ASCII "
                         "but '\\' (at %zu)", i);
  }
  int has_origin = origin && *origin;
  if (stream_id && has_origin)
    return h2_api_fail("altsvc: give an origin (stream 0) or a stream id, not both");
  char *o = NULL; /* the derived origin (heap: it may be 16 KiB) */
  size_t olen = 0;
  if (stream_id) {
    /* Node: the id of an active stream. */
    h2_stream_state state =
        stream_id > 0x7fffffffu ? H2_STREAM_IDLE : h2_conn_stream_state(s->conn, stream_id);
    if (state == H2_STREAM_IDLE || state == H2_STREAM_CLOSED)
      return h2_api_fail("altsvc: stream %u is not an open stream", stream_id);
  } else {
    if (!has_origin) return h2_api_fail("altsvc: give an origin (stream 0) or a stream id");
    if (!(o = malloc(H2_ORIGIN_FRAME_MAX_BYTES))) return H2_ERR_NOMEM;
    int r = h2_origin_from_url_("altsvc", origin, o, H2_ORIGIN_FRAME_MAX_BYTES); /* ERR_HTTP2_ALTSVC_INVALID_ORIGIN */
    if (r < 0) {
      free(o);
      return r;
    }
    olen = (size_t)r;
  }
  if (2 + olen + alen > H2_ORIGIN_FRAME_MAX_BYTES) { /* Node's ERR_HTTP2_ALTSVC_LENGTH */
    free(o);
    return h2_api_fail("altsvc: origin and alt need %zu octets, more than one frame's %d",
                       2 + olen + alen, H2_ORIGIN_FRAME_MAX_BYTES);
  }
  int rc = h2_conn_submit_altsvc(s->conn, stream_id, o ? o : "", olen, alt, alen);
  free(o);
  if (rc == 0) h2_session_schedule_flush_(s);
  return rc;
}

int h2_session_origin(h2_session *s, const char *const *origins, size_t n) {
  if (!s->conn || !s->is_server) return H2_ERR_STATE;
  if (n == 0) return 0; /* Node: nothing to send */
  int rc = h2_session_submit_origins_(s, origins, n);
  if (rc == 0) h2_session_schedule_flush_(s);
  return rc;
}

void h2_session_close(h2_session *s) {
  if (s->closed || !s->conn) return;
  s->closed = 1;
  if (s->pend_head) h2_session_start_pending_(s); /* closed: they never start */
  if (!s->goaway_sent) h2_conn_submit_goaway(s->conn, 0, 0x7fffffff, NULL, 0);
  s->goaway_sent = 1;
  h2_session_schedule_flush_(s);
  if (s->loop && s->xp && !h2_xport_is_open(s->xp) && s->connecting) {
    /* Never connected: nothing to wait for. */
    h2_xport_abort(s->xp, 0, "closed before connecting");
  }
}

void h2_session_destroy(h2_session *s, uint32_t code) {
  if (s->destroyed || s->finished) return;
  s->destroyed = 1;
  s->closed = 1;
  s->destroy_code = code;
  if (s->conn) h2_conn_submit_goaway(s->conn, code, 0x7fffffff, NULL, 0);
  if (s->loop) {
    if (s->xp && h2_xport_is_open(s->xp)) {
      flush_loop(s);
      if (s->xp) h2_xport_close(s->xp, 500);
    } else if (s->xp) {
      h2_xport_abort(s->xp, 0, "destroyed");
    } else {
      finish_session(s);
    }
  } else {
    h2_session_schedule_flush_(s);
  }
}

void h2_session_set_timeout(h2_session *s, uint64_t ms) {
  s->timeout_ms = ms;
  s->last_activity = h2_session_now_(s);
  arm_timer(s);
}

void h2_session_ref(h2_session *s) {
  s->refd = 1;
  if (s->xp) h2_xport_ref(s->xp, 1);
  if (s->loop) h2_loop_timer_ref(&s->timer);
}

void h2_session_unref(h2_session *s) {
  s->refd = 0;
  if (s->xp) h2_xport_ref(s->xp, 0);
  if (s->loop) h2_loop_timer_unref(&s->timer);
}

void h2_session_get_state(const h2_session *s, h2_session_state *out) {
  memset(out, 0, sizeof *out);
  if (!s->conn) return;
  out->local_window_size = h2_conn_window(s->conn, 0, H2_CONN_WINDOW_RECV);
  out->effective_local_window_size = h2_conn_effective_local_window(s->conn);
  out->effective_recv_data_length = (int64_t)h2_conn_recv_unreturned(s->conn);
  out->remote_window_size = h2_conn_window(s->conn, 0, H2_CONN_WINDOW_SEND);
  out->next_stream_id = h2_conn_next_stream_id(s->conn);
  out->last_proc_stream_id = h2_conn_last_peer_stream_id(s->conn);
  out->outbound_queue_size = h2_conn_pending(s->conn);
  uint32_t dec = 0, enc = 0;
  h2_conn_hpack_sizes(s->conn, &dec, &enc);
  out->deflate_dynamic_table_size = enc;
  out->inflate_dynamic_table_size = dec;
  out->num_streams = h2_conn_num_streams(s->conn, 0) + h2_conn_num_streams(s->conn, 1);
}

void h2_session_local_settings(const h2_session *s, h2_settings *out) {
  h2_settings_default(out);
  if (s->conn) to_settings(out, h2_conn_local_settings(s->conn));
}

void h2_session_remote_settings(const h2_session *s, h2_settings *out) {
  h2_settings_default(out);
  if (s->conn) to_settings(out, h2_conn_remote_settings(s->conn));
}

int h2_session_is_server(const h2_session *s) { return s->is_server; }
int h2_session_closed(const h2_session *s) { return s->closed; }
int h2_session_destroyed(const h2_session *s) { return s->destroyed; }
int h2_session_connecting(const h2_session *s) { return s->connecting; }
/* A transport-less session is encrypted when h2_options.encrypted said so
 * (its scheme is then https). */
int h2_session_encrypted(const h2_session *s) {
  return s->xp ? h2_xport_encrypted(s->xp) : !s->loop && !strcmp(s->scheme, "https");
}
int h2_session_pending_settings_ack(const h2_session *s) {
  return s->conn ? h2_conn_pending_settings(s->conn) != 0 : 0;
}
const char *h2_session_alpn_protocol(const h2_session *s) {
  if (!s->xp) return s->loop ? NULL : h2_session_encrypted(s) ? "h2" : "h2c";
  return h2_xport_encrypted(s->xp) ? "h2" : "h2c";
}
void *h2_session_user(const h2_session *s) { return s->user; }
void h2_session_set_user(h2_session *s, void *user) { s->user = user; }
h2_server *h2_session_server(const h2_session *s) { return s->server; }

void h2_session_set_frame_trace(h2_session *s,
                                void (*trace)(h2_session *s, int out, const char *line,
                                              void *user),
                                void *user) {
  s->trace = trace;
  s->trace_user = user;
  if (s->conn) h2_conn_set_trace(s->conn, trace != NULL || s->metrics != NULL);
}
