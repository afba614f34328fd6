/* session_internal.h (internal to api/): the structs behind h2_session and
 * h2_stream, shared by session.c, stream.c, server.c and client.c. */
#ifndef H2_API_SESSION_INTERNAL_H
#define H2_API_SESSION_INTERNAL_H

#include "api_internal.h"
#include "h2_conn.h"
#include "h2_loop.h"
#include "transport.h"

typedef struct h2_write_rec h2_write_rec;
typedef struct h2_metrics_ h2_metrics_;   /* metrics.c */
typedef struct h2_smetrics_ h2_smetrics_; /* metrics.c */
typedef struct h2_sent_ h2_sent_;         /* sent_headers.c */
typedef struct h2_sent_block_ h2_sent_block_;

/* One h2_stream_write: submitted to the engine (or held while the engine's
 * stream queue is full) until DATA_RELEASED. */
struct h2_write_rec {
  h2_write_rec *next;      /* held-writes FIFO */
  h2_stream *st;
  const uint8_t *data;
  size_t len;
  h2_write_cb cb;
  void *user;
  unsigned flags;          /* H2_CONN_DATA_* to submit with */
  uint8_t *owned;          /* h2_stream_write_copy: freed on release */
};

struct h2_stream {
  h2_session *s;
  uint32_t id;
  h2_stream_callbacks cbs;
  void *user;
  h2_stream *next, *prev;  /* session's list of live streams */
  unsigned paused : 1, headers_sent : 1, local_ended : 1, remote_ended : 1,
      wait_trailers : 1, end_after_headers : 1, aborted : 1, closed : 1, is_push : 1,
      end_pending : 1, trailers_sent : 1, want_trailers_fired : 1, rst_sent : 1,
      close_pending : 1, ready_queued : 1;
  uint32_t rst_code;
  size_t buffered;         /* bytes written and not yet released */
  int need_drain;
  unsigned outstanding;    /* write records not yet released */
  h2_write_rec *held, *held_tail;
  /* pull source */
  h2_source_read_fn src;
  void *src_user;
  void (*src_release)(void *user); /* called with src_user when |st| is freed */
  uint8_t *src_bufs;       /* SRC_CHUNKS * SRC_CHUNK bytes */
  unsigned src_inflight;   /* chunks submitted, not released */
  unsigned src_next;       /* next chunk index to fill */
  int src_eof, src_blocked;
  uint64_t timeout_ms, last_activity;
  h2_write_rec inline_w;   /* the first write needs no allocation */
  int inline_busy;
  /* client: a request waiting for room under the peer's
   * MAX_CONCURRENT_STREAMS (id 0 until it starts) */
  struct h2_pending_req *pend;
  h2_stream *pend_next;
  h2_stream *ready_next;   /* client: waiting for its on_ready (ready_queued) */
  uint16_t weight;         /* RFC 7540 weight last set either way; 0 = 16 */
  h2_smetrics_ *m;         /* with h2_options.enable_metrics only */
  h2_sent_ *sent;          /* with h2_options.keep_sent_headers only */
};

typedef struct h2_ping_rec {
  h2_ping_cb cb;
  void *user;
  uint8_t payload[8];
} h2_ping_rec;

#define H2_MAX_PINGS H2_MAX_OUTSTANDING_PINGS /* h2.h; also the engine's cap */
_Static_assert(H2_MAX_PINGS <= 255, "ping_head and ping_count are one octet each");

struct h2_session {
  h2_conn *conn;
  uint8_t is_server;
  uint8_t own_cbs;
  /* state (0/1 flags) */
  uint8_t connecting, closed, destroyed, finished, goaway_sent, transport_gone;
  uint8_t errored, want_write_notified, refd;
  uint8_t remote_settings_seen; /* the peer's first SETTINGS arrived */
  uint8_t keep_sent;       /* h2_options.keep_sent_headers */
  uint16_t engine_depth;   /* nesting of calls into the engine (a few) */
  /* The callbacks: a server's sessions share the server's table (|cbs_srv|
   * set: the server struct is kept until the last of them is freed, see
   * h2_server_cbs_unref_); other sessions point to their own copy, which
   * h2_session_alloc_ places right after the struct (|own_cbs|). */
  const h2_session_callbacks *cbs;
  struct h2_server *cbs_srv;
  void *user;
  /* The few h2_options values used after creation (the rest only shape the
   * engine's configuration), resolved: 0 never means "default" here. */
  size_t (*select_padding)(size_t frame_len, size_t max_frame_len, void *user);
  uint32_t max_outstanding_pings;
  uint32_t max_send_header_block_length;
  uint32_t peer_max_concurrent_streams; /* client */
  uint32_t stream_high_water_mark;
  const h2_mem *mem;
  /* transport */
  h2_loop *loop;           /* NULL for transport-less sessions */
  h2_xport *xp;
  h2_session_transport tr; /* transport-less */
  h2_loop_defer flush_defer;
  h2_loop_timer timer;
  uint64_t now;            /* transport-less clock */
  uint64_t t0;             /* loop time when attached (session time 0) */
  /* server link */
  h2_server *server;
  h2_session *srv_next, *srv_prev;
  /* client */
  char scheme[6];           /* "http" or "https" */
  uint8_t ping_head, ping_count; /* in |pings| (< H2_MAX_PINGS, <= H2_MAX_PINGS) */
  char *authority;         /* client: malloc'd "host[:port]"; NULL = "localhost" */
  h2_tls_ctx *own_tls;     /* client context made by h2_connect */
  /* state */
  h2_stream *streams;      /* live streams */
  h2_stream *pend_head, *pend_tail; /* client: requests waiting to start */
  h2_stream *ready_head, *ready_tail; /* client: started, on_ready not yet run */
  uint32_t num_timed_streams; /* streams with a timeout set */
  uint32_t destroy_code;
  h2_ping_rec *pings;      /* H2_MAX_PINGS entries, allocated by the first ping */
  uint64_t timeout_ms, last_activity;
  void (*trace)(h2_session *s, int out, const char *line, void *user);
  void *trace_user;
  const uint8_t *tl_pending; /* transport-less: piece returned by pending */
  struct h2_origin_set *origins; /* client: origin set (origin.c), made on first use */
  h2_metrics_ *metrics;    /* with h2_options.enable_metrics only */
};

/* metrics.c: all but the getters run only when s->metrics is set (checked
 * by the callers, except h2_metrics_session_closed_ and the stream ones,
 * which check themselves). */
int h2_metrics_session_init_(h2_session *s);
void h2_metrics_session_free_(h2_session *s);
void h2_metrics_session_closed_(h2_session *s);
void h2_metrics_io_(h2_session *s, size_t in, size_t out);
/* h2_metrics_clock_: a transport-less session's clock (|now| from feed or
 * tick); the first one is the session's start. */
void h2_metrics_clock_(h2_session *s, uint64_t now);
void h2_metrics_event_(h2_session *s, const h2_conn_event *ev);
int h2_metrics_stream_new_(h2_stream *st);
void h2_metrics_stream_closed_(h2_stream *st);
/* h2_metrics_stream_sent_: |len| body octets of |st| were written out
 * (a write released as sent); only when st->m is set. */
void h2_metrics_stream_sent_(h2_stream *st, size_t len);
void h2_metrics_stream_free_(h2_stream *st);

/* sent_headers.c: h2_sent_prepare_ copies a block about to be sent (no-op
 * unless the session keeps them; *out NULL then); h2_sent_attach_ keeps it
 * once the block was accepted (|kind| H2_SENT_*; NULL is fine); the caller
 * frees a prepared block that was not sent. h2_sent_free_ with the
 * stream. */
enum { H2_SENT_HEADERS, H2_SENT_INFO, H2_SENT_TRAILERS };
int h2_sent_prepare_(h2_stream *st, const h2_header *f, size_t n, h2_sent_block_ **out);
void h2_sent_attach_(h2_stream *st, int kind, h2_sent_block_ *b);
void h2_sent_free_(h2_stream *st);

/* session.c */
/* h2_session_alloc_ returns a zeroed session (NULL: no memory); |own_cbs|:
 * with room for its own copy of the callbacks (sessions not made by a
 * server). Freed with free() before h2_session_init_ succeeded. */
h2_session *h2_session_alloc_(int own_cbs);
void h2_session_free_struct_(h2_session *s);
const char *h2_session_authority_(const h2_session *s);
uint64_t h2_session_now_(h2_session *s);
void h2_session_schedule_flush_(h2_session *s);
int h2_session_init_(h2_session *s, int is_server, const h2_options *opts,
                     const h2_session_callbacks *cbs, void *user);
void h2_session_attach_(h2_session *s, h2_loop *loop, h2_xport *xp);
/* h2_session_start_clock_ starts the engine's clock now (a server's
 * handshake time limit counts from here) and arms the session timer. */
void h2_session_start_clock_(h2_session *s);
extern const h2_xport_events h2_session_xport_events_;

/* origin.c */
/* h2_session_on_origin_frame_: a client on TLS adds the frame's origins to
 * its set, then calls on_origin with every entry. */
void h2_session_on_origin_frame_(h2_session *s, const h2_frame *f);
/* h2_session_submit_origins_ queues an ORIGIN frame with the origins of
 * |urls| (checked as h2_origins_prepare_ does). */
int h2_session_submit_origins_(h2_session *s, const char *const *urls, size_t n);
void h2_session_origins_free_(h2_session *s);

/* stream.c */
h2_stream *h2_stream_new_(h2_session *s, uint32_t id);
void h2_stream_on_closed_(h2_stream *st, uint32_t code);
void h2_stream_released_(h2_write_rec *w, int sent);
void h2_stream_writable_(h2_stream *st);
void h2_stream_maybe_free_(h2_stream *st);
/* h2_stream_unhold_ ends a st->outstanding++ hold around a callback: a
 * stream that closed meanwhile gets its on_close now. */
void h2_stream_unhold_(h2_stream *st);
/* h2_stream_discard_ drops a stream that never started (no callbacks): it
 * is unlinked from its session and freed. */
void h2_stream_discard_(h2_stream *st);
void h2_stream_pump_source_(h2_stream *st);
/* h2_fields_prepare copies |hdrs| into |out| (capacity |cap|) with names
 * lower-cased (into |arena|) and pseudo-headers first. Returns the count or
 * H2_ERR_INVALID_ARG / H2_ERR_BUF_TOO_SMALL. */
int h2_fields_prepare_(h2_hpack_field *out, size_t cap, char *arena, size_t arena_cap,
                       const h2_header *hdrs, size_t n);

/* h2_fields_bytes_ is the name + value octets of |f|; h2_fields_copy_
 * copies |f| into |out| with the names and values packed into |bytes|
 * (h2_fields_bytes_ octets): one allocation holds a whole block. */
size_t h2_fields_bytes_(const h2_hpack_field *f, size_t n);
void h2_fields_copy_(h2_hpack_field *out, char *bytes, const h2_hpack_field *f, size_t n);

/* h2_check_send_size_ returns 0, or H2_ERR_LIMIT (message set, nothing
 * reported) for an outbound header list (name + value + 32 per field) above
 * maxSendHeaderBlockLength or the peer's SETTINGS_MAX_HEADER_LIST_SIZE. */
int h2_check_send_size_(h2_session *s, const h2_hpack_field *f, size_t n);

/* h2_stream_frame_error_: a frame of |type| for |st| could not be sent
 * (|err|): the stream's on_frame_error, the session's (only when |st| has
 * an id: 0 there means a connection-level frame), then the stream is
 * closed with INTERNAL_ERROR (RST_STREAM when it has an id) unless a
 * callback closed it. */
void h2_stream_frame_error_(h2_stream *st, unsigned type, int err);

/* client.c */
/* h2_session_start_pending_ opens waiting requests while the peer allows
 * more streams; those that can never start (GOAWAY, closing) are closed
 * with REFUSED_STREAM. */
void h2_session_start_pending_(h2_session *s);
/* h2_stream_drop_pending_ forgets the waiting request of |st| (closing). */
void h2_stream_drop_pending_(h2_stream *st);
/* h2_stream_set_pending_prio_ replaces the priority a waiting request will
 * be opened with. */
void h2_stream_set_pending_prio_(h2_stream *st, const h2_frame_prio *p);
/* h2_stream_queue_ready_: the request |st| just got its id; its on_ready
 * runs at the session's next flush (h2_session_fire_ready_).
 * h2_stream_unqueue_ready_ forgets it (the stream closes first). */
void h2_stream_queue_ready_(h2_stream *st);
void h2_stream_unqueue_ready_(h2_stream *st);
/* h2_session_fire_ready_ runs on_ready for the queued streams, in the
 * order they got their ids; not while the engine is running (then the
 * next flush does it). */
void h2_session_fire_ready_(h2_session *s);

/* server.c */
void h2_server_session_gone_(h2_server *srv, h2_session *s);
/* h2_server_report_ calls the server's on_session_error (if set): a
 * connection failed before it became a session (TLS handshake, ALPN). */
void h2_server_report_(h2_server *srv, int err, const char *msg);
/* h2_server_unknown_protocol_ hands a non-h2 TLS connection to the
 * server's on_unknown_protocol; returns 1 if it took it, 0 if unset. */
int h2_server_unknown_protocol_(h2_server *srv, int fd, h2_tls_conn *tls);
/* h2_server_cbs_unref_: a session that used |srv|'s callbacks is freed;
 * the last one frees a server whose h2_server_free already ran. */
void h2_server_cbs_unref_(h2_server *srv);

#endif
