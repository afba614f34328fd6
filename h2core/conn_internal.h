/* conn_internal.h: private state of the connection engine, shared by the
 * h2core/conn_*.c files. Not installed, not for applications. */
#ifndef H2_CONN_INTERNAL_H
#define H2_CONN_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "h2_conn.h"
#include "h2_prio.h"
#include "http_check.h"
#include "ratelim.h"

/* ---- id map: open addressing, linear probing, backward-shift delete ---- */
typedef struct h2_idmap_slot {
  uint32_t key; /* 0 = empty */
  void *val;
} h2_idmap_slot;

typedef struct h2_idmap {
  h2_idmap_slot *slots;
  uint32_t cap; /* power of two or 0 */
  uint32_t count;
  uint32_t hint; /* capacity to start from after h2_idmap_release (0: 8) */
} h2_idmap;

/* ---- queued DATA ------------------------------------------------------- */
typedef struct h2_dchunk {
  struct h2_dchunk *next; /* in the stream's send queue */
  const uint8_t *data;
  size_t len;
  size_t off;      /* bytes already framed */
  void *user;
  uint32_t refs;   /* output segments still referencing it + 1 while queued */
  uint8_t copied;  /* data was allocated by us (follows this struct) */
  uint8_t dropped; /* removed from its stream before being fully framed */
} h2_dchunk;

/* ---- streams ----------------------------------------------------------- */

/* rx/tx phases of the message on each side. */
#define PHASE_NONE 0      /* no HEADERS yet */
#define PHASE_INFO 1      /* 1xx seen/sent, final still expected */
#define PHASE_HEADERS 2   /* final headers (request or response) done */
#define PHASE_TRAILERS 3  /* trailers done */

typedef struct h2_stream {
  uint32_t id;
  uint8_t state;       /* h2_stream_state */
  uint8_t rx_phase, tx_phase;
  uint8_t local;       /* opened by us */
  uint8_t pushed;      /* a pushed stream (reserved at birth) */
  uint8_t resetting;   /* RST_STREAM queued, not written yet */
  uint8_t end_queued;  /* END_STREAM to send after the queue (and trailers) */
  uint8_t end_sent_queued; /* END_STREAM frame produced (in output) */
  uint8_t want_writable;
  uint8_t in_ready;    /* linked in the ready list */
  uint8_t head_request;/* client: we sent HEAD (no body expected) */
  uint8_t no_body_check; /* content-length not checkable (HEAD, 304) */
  uint8_t counted;     /* counted in num_local/num_remote */
  uint8_t prio_open;   /* registered with the scheduler */
  void *user;
  int64_t send_window; /* peer's window for this stream */
  int64_t recv_window; /* what the peer may still send */
  uint64_t recv_unconsumed; /* delivered to the app, not consumed yet */
  int64_t content_length;   /* expected body (-1 unknown) */
  uint64_t data_received;
  h2_dchunk *qhead, *qtail;
  size_t queued;       /* bytes in the queue not yet framed */
  h2_hpack_field *trailers; /* copied fields + bytes in one allocation */
  size_t num_trailers;
  uint8_t close_deferred; /* END_STREAM sent by a submit: close at next output */
} h2_stream;

/* ---- output queue ------------------------------------------------------ */

/* Actions run when a segment's last byte is written. */
#define SEG_NONE 0
#define SEG_FRAMES 1      /* engine frames: trace them */
#define SEG_DATA 2        /* last piece of a DATA frame */
#define SEG_RST 3         /* RST_STREAM frame: stream_id, code */
#define SEG_GOAWAY 4
#define SEG_CONTROL 5     /* an ACK counted in num_control */

typedef struct h2_oseg {
  h2_dchunk *chunk;  /* NULL: bytes are obuf[off .. off+len) */
  const uint8_t *ptr;/* chunk bytes */
  size_t off;
  size_t len;
  size_t done;       /* bytes already written */
  uint8_t action;
  uint8_t flags;     /* SEG_DATA: frame flags */
  uint32_t stream_id;
  uint32_t code;     /* SEG_RST: error code; SEG_DATA: frame length */
  size_t frame_off;  /* SEG_DATA: obuf offset of the frame header */
  uint8_t copied;    /* chunk bytes were copied to obuf[off..): the chunk is
                      * held only to be released when they are written */
} h2_oseg;

/* seg_in_obuf: the segment's bytes are obuf[off .. off+len). */
static inline int seg_in_obuf(const h2_oseg *s) { return !s->chunk || s->copied; }

/* ---- received header block in progress --------------------------------- */
typedef struct h2_hblock {
  uint32_t stream_id;     /* 0 = none in progress */
  uint32_t promised_id;
  uint32_t num_cont;
  uint32_t rst_code;      /* stream error to send after decoding; 0 = none */
  uint32_t num_checked;   /* fields collected by the decoder and checked so far */
  h2_frame_prio prio;
  uint8_t frame_type;     /* HEADERS or PUSH_PROMISE */
  uint8_t end_stream;
  uint8_t deliver;        /* fields are kept and an event emitted */
  uint8_t has_prio;
  uint8_t has_priority_field; /* a `priority` field is among the fields */
  uint8_t rst_set;        /* 0, or how rst_code was set (conn_headers.c) */
  uint8_t cat;            /* h2_conn_headers_cat (RESPONSE may become INFO) */
  size_t block_bytes;
  h2_http_check chk;
} h2_hblock;

/* Input state. */
#define IN_PREFACE 0
#define IN_HDR 1
#define IN_PAYLOAD 2
#define IN_DATA_PADLEN 3
#define IN_DATA 4
#define IN_DATA_PAD 5
#define IN_DEAD 6

/* Remembered closed streams: how they ended. */
#define CLOSED_NORMAL 1
#define CLOSED_RESET_LOCAL 2 /* we sent RST_STREAM: ignore late frames */
#define CLOSED_RESET_REMOTE 3

/* A free list of same-size blocks (streams, referenced DATA chunks) kept
 * for reuse instead of going back to the allocator: at most |max| blocks,
 * which stay counted in the connection's memory. The bound is the number
 * of streams we let the peer open at once, so a pool never holds more than
 * the live objects already took at their peak. */
typedef struct h2c_pool {
  void *head;
  uint32_t count, max;
} h2c_pool;

#define MAX_PINGS 16
#define MAX_PENDING_SETTINGS 8

/* State seldom in use, allocated when first needed and released when the
 * connection goes idle with none of it in use: SETTINGS frames sent and
 * not acked yet, PINGs sent and not acked yet. */
typedef struct h2c_rare {
  h2_conn_settings pend[MAX_PENDING_SETTINGS]; /* each in-flight frame's result */
  uint64_t pend_sent_ms[MAX_PENDING_SETTINGS];
  struct { uint8_t opaque[8]; uint64_t sent_ms; int used; } pings[MAX_PINGS];
} h2c_rare;

/* The part of h2_conn_config the engine reads after h2_conn_new, with the
 * same field names (c->cfg.x reads as the caller's cfg->x). Settings and
 * rate-limit parameters are not kept: they are applied at creation (to the
 * first SETTINGS frame, the HPACK coders, the token buckets). The
 * connection owns this copy; nothing points into the caller's config. */
typedef struct h2c_cfg {
  size_t send_queue_limit;
  size_t max_memory;
  size_t output_high_water;
  size_t (*padding_cb)(void *padding_user, uint32_t stream_id, size_t data_len, size_t max_pad);
  size_t (*header_padding_cb)(void *padding_user, uint32_t stream_id, size_t frag_len, size_t max_pad);
  void *padding_user;
  uint32_t settings_timeout_ms;
  uint32_t preface_timeout_ms;
  uint32_t header_block_timeout_ms;
  uint32_t max_control_queue;
  uint32_t max_settings_entries;
  uint32_t max_continuations;
  uint32_t max_header_block;
  uint32_t max_header_fields;
  uint32_t max_closed_streams;
  uint32_t max_refused_streams;
  uint32_t max_reserved_streams;
  uint16_t padding_align;
  uint8_t auto_window_update;
  uint8_t window_update_threshold;
  uint8_t validate_http;
  uint8_t padding;
  uint8_t header_padding;
} h2c_cfg;

typedef struct h2_mem_counter {
  const h2_mem *base;
  size_t used;
} h2_mem_counter;

struct h2_conn {
  h2c_cfg cfg;
  h2_mem_counter mc;
  h2_mem mem; /* counting wrapper over mc.base */
  h2_conn_event_cb cb;
  void *user;
  uint64_t now; /* last now_ms seen */
  /* When the input phase with a deadline began (conn.c, input_deadline):
   * the server's first now_ms for the preface, else the time the HEADERS
   * or PUSH_PROMISE frame header of the header block in progress arrived;
   * UINT64_MAX before the first now_ms. */
  uint64_t in_since;

  /* settings */
  h2_conn_settings local;  /* acked */
  h2_conn_settings remote;

  h2_hpack_decoder *dec;
  h2_hpack_encoder *enc;
  h2_prio *prio;

  /* streams */
  h2_idmap streams;
  h2_stream *hot;           /* the stream looked up last (one-entry cache) */
  h2_idmap closed;          /* id -> CLOSED_*, an index of the ring built at
                             * the first lookup once closed_cap > 8 and kept
                             * while lookups come (conn_stream.c) */
  uint32_t closed_unlooked; /* ids remembered since the last lookup (indexed) */
  uint32_t max_concurrent_enforced; /* min(acked, pending) */
  uint32_t *closed_ring;    /* FIFO of closed ids, then their kinds (one byte
                             * each) in the same block; allocated at the
                             * first close, doubled up to max_closed_streams */
  uint32_t closed_head, closed_count, closed_cap;
  uint32_t last_peer_id;    /* highest id the peer opened */
  uint32_t last_local_id;   /* highest id we opened */
  uint32_t next_local_id;
  uint32_t num_local, num_remote; /* live streams by initiator */
  uint32_t num_reserved_remote;
  uint32_t refused_in_row;
  uint32_t *deferred;       /* ids to close at the next output call */
  uint32_t num_deferred, cap_deferred;

  /* flow control */
  int64_t send_window;      /* connection */
  int64_t recv_window;
  int64_t recv_target;      /* our connection window size */
  uint64_t recv_unconsumed; /* connection bytes delivered, not consumed */
  uint64_t recv_unreturned; /* connection bytes received, not yet given back
                             * by a WINDOW_UPDATE (consumed or not) */

  /* input */
  uint8_t hdr_buf[H2_FRAME_HEADER_LEN];
  uint8_t hdr_got;          /* < H2_FRAME_HEADER_LEN */
  uint8_t preface_got;      /* <= H2_CLIENT_PREFACE_LEN */
  uint8_t closed_indexed;   /* |closed| holds every id of the ring */
  h2_frame_hdr fh;          /* current frame header */
  uint32_t data_stream;     /* DATA target stream, 0 = discard */
  uint32_t ibuf_cap, ibuf_got; /* frame payloads are below 2^24 octets */
  uint32_t data_left;       /* DATA payload bytes left (without padding) */
  uint32_t pad_left;
  uint32_t num_control;     /* queued ACKs not yet written (output) */
  uint8_t *ibuf;            /* payload buffer */
  h2_hblock hb;

  /* output */
  uint8_t *obuf;
  size_t obuf_len, obuf_cap;
  h2_oseg *segs;
  uint32_t seg_head, seg_count, seg_cap; /* segments: bounded by memory, far below 2^32 */
  uint32_t obuf_hint, seg_hint; /* first sizes (capacities before the last idle
                                 * release, at most OUT_HINT_MAX bytes) */
  int fatal_err;
  size_t pending_bytes;

  /* pending SETTINGS and PINGs (NULL when none) */
  h2c_rare *rare;
  uint64_t ping_counter;

  h2c_pool stream_pool, chunk_pool;

  /* rate limits (ratelim.h: H2_RL_* buckets on one clock) */
  h2_ratelim_set rl;

  /* goaway */
  uint32_t goaway_sent_last;
  uint32_t goaway_recv_last;

  /* flags and tiny counters, packed */
  uint8_t role;             /* h2_conn_role */
  uint8_t in_cb;            /* nesting guard */
  uint8_t trace;
  uint8_t num_pend;         /* in rare->pend (<= MAX_PENDING_SETTINGS) */
  uint8_t got_remote_settings;
  uint8_t in_state;         /* IN_* */
  uint8_t data_deliver;
  uint8_t expect_cont;      /* a header block is open: only CONTINUATION */
  uint8_t preface_done_out;
  uint8_t goaway_sent;      /* 1 graceful, 2 error */
  uint8_t goaway_recv;
  uint8_t fatal;            /* a connection error happened (no more input) */
  uint8_t eof;
};

/* conn.c */
int h2c_emit(h2_conn *c, h2_conn_event *ev);
/* h2c_emit_known: like h2c_emit when ev->stream_user is already the
 * stream's user pointer (no lookup). */
int h2c_emit_known(h2_conn *c, h2_conn_event *ev);
void h2c_touch(h2_conn *c, uint64_t now_ms);
/* h2c_rare_get returns c->rare, allocating it (zeroed) first if needed;
 * NULL when out of memory. */
h2c_rare *h2c_rare_get(h2_conn *c);
/* h2c_rare_release frees c->rare when no SETTINGS or PING is pending. */
void h2c_rare_release(h2_conn *c);
int h2c_conn_error(h2_conn *c, int err, const char *msg);
/* h2c_conn_fail: the connection error |err| with wire |code| in a GOAWAY
 * (|goaway| 1), or without GOAWAY (|goaway| 0: the event's code is 0). */
int h2c_conn_fail(h2_conn *c, int err, uint32_t code, int goaway, const char *msg);
int h2c_limit(h2_conn *c, h2_conn_limit which, uint64_t value, int fatal);
/* h2c_not_sent_conn reports a connection-level frame of |type| that could
 * not be queued (H2_CONN_EV_FRAME_NOT_SENT, stream 0), then fails the
 * connection with |err|. Returns the connection error. */
int h2c_not_sent_conn(h2_conn *c, uint8_t type, int err);
void *h2c_alloc(h2_conn *c, size_t n);
void h2c_free(h2_conn *c, void *p);

/* Pools (conn.c). */
void *h2c_pool_get(h2_conn *c, h2c_pool *p, size_t size);
static inline void h2c_pool_put(h2_conn *c, h2c_pool *p, void *obj) {
  if (p->count >= p->max) {
    h2c_free(c, obj);
    return;
  }
  *(void **)obj = p->head;
  p->head = obj;
  p->count++;
}
void h2c_pool_drain(h2_conn *c, h2c_pool *p);

/* conn_map.c */
void *h2_idmap_get(const h2_idmap *m, uint32_t key);
int h2_idmap_put(h2_idmap *m, const h2_mem *mem, uint32_t key, void *val);
void *h2_idmap_del(h2_idmap *m, uint32_t key);
void h2_idmap_free(h2_idmap *m, const h2_mem *mem);
/* h2_idmap_release frees the slots of an empty map; it grows back to the
 * capacity it had (at most 1024 slots) at its next insert. */
void h2_idmap_release(h2_idmap *m, const h2_mem *mem);

/* conn_stream.c */
h2_stream *h2c_stream(const h2_conn *c, uint32_t id);
/* h2c_stream_unmap takes |s| out of the stream table (not freed). */
void h2c_stream_unmap(h2_conn *c, h2_stream *s);
h2_stream *h2c_stream_new(h2_conn *c, uint32_t id, int local, uint8_t state);
void h2c_stream_close(h2_conn *c, h2_stream *s, h2_conn_close_reason reason, uint32_t code);
int h2c_closed_kind(h2_conn *c, uint32_t id);
int h2c_is_local_id(const h2_conn *c, uint32_t id);
void h2c_stream_end_remote(h2_conn *c, h2_stream *s);
void h2c_stream_end_local(h2_conn *c, h2_stream *s);
int h2c_stream_error(h2_conn *c, uint32_t id, uint32_t code, int peer_caused);
void h2c_stream_set_state(h2_conn *c, h2_stream *s, uint8_t st);
void h2c_stream_drop_queue(h2_conn *c, h2_stream *s);
void h2c_close_all(h2_conn *c, h2_conn_close_reason reason, uint32_t code);

/* conn_recv.c */
int h2c_recv_frame(h2_conn *c, const uint8_t *payload);

/* conn_control.c: one handler per frame type */
int h2c_on_settings(h2_conn *c, const h2_frame *f);
int h2c_on_ping(h2_conn *c, const h2_frame *f);
int h2c_on_goaway(h2_conn *c, const h2_frame *f);
int h2c_on_rst_stream(h2_conn *c, const h2_frame *f);
int h2c_on_window_update(h2_conn *c, const h2_frame *f);
int h2c_on_priority(h2_conn *c, const h2_frame *f);
int h2c_on_priority_update(h2_conn *c, const h2_frame *f);
int h2c_on_altsvc(h2_conn *c, const h2_frame *f);
int h2c_on_origin(h2_conn *c, const h2_frame *f);
int h2c_on_unknown(h2_conn *c, const h2_frame *f);
void h2c_apply_local_settings(h2_conn *c, const h2_conn_settings *s);

/* conn_headers.c */
int h2c_on_headers(h2_conn *c, const h2_frame *f);
int h2c_on_push_promise(h2_conn *c, const h2_frame *f);
int h2c_on_continuation(h2_conn *c, const h2_frame *f);

/* conn_data.c */
int h2c_data_begin(h2_conn *c);
int h2c_data_check_len(h2_conn *c);
int h2c_data_bytes(h2_conn *c, const uint8_t *p, size_t n);
int h2c_data_end(h2_conn *c);

/* conn_flow.c */
int h2c_flow_recv(h2_conn *c, h2_stream *s, size_t len);
void h2c_flow_consumed(h2_conn *c, h2_stream *s, size_t n);
void h2c_flow_consumed_conn(h2_conn *c, size_t n);
void h2c_flow_consumed_quiet(h2_conn *c, h2_stream *s, size_t n);
int h2c_flow_credit(h2_conn *c, h2_stream *s);
int h2c_flow_update_check(h2_conn *c);
int h2c_flow_shift_initial(h2_conn *c, uint32_t old_iws, uint32_t new_iws);
void h2c_flow_shift_local_initial(h2_conn *c, uint32_t old_iws, uint32_t new_iws);

/* conn_out.c */
uint8_t *h2c_out_reserve(h2_conn *c, size_t n);
int h2c_out_ensure(h2_conn *c, size_t nsegs, size_t nbytes);
int h2c_out_begin(h2_conn *c, h2_cbb *b, size_t max);
int h2c_out_end(h2_conn *c, h2_cbb *b, uint8_t action, uint32_t stream_id, uint32_t code);
int h2c_out_commit(h2_conn *c, size_t start, uint8_t action, uint32_t stream_id, uint32_t code);
int h2c_out_chunk(h2_conn *c, h2_dchunk *ch, size_t off, size_t len);
void h2c_out_free(h2_conn *c);
/* h2c_release_idle frees the buffers an idle connection does not need
 * (output, segments, frame payload, header-block scratch, stream map,
 * pending SETTINGS/PING block) when no output is pending and no stream is
 * left; they come back on demand. Only between calls. */
void h2c_release_idle(h2_conn *c);
void h2c_chunk_unref(h2_conn *c, h2_dchunk *ch);

/* conn_send.c: frame builders appending to the output */
int h2c_send_settings_ack(h2_conn *c);
int h2c_send_ping(h2_conn *c, uint8_t flags, const uint8_t opaque[8]);
int h2c_send_rst(h2_conn *c, uint32_t id, uint32_t code);
int h2c_send_goaway(h2_conn *c, uint32_t last, uint32_t code, const uint8_t *dbg, size_t dlen);
int h2c_send_window_update(h2_conn *c, uint32_t id, uint32_t inc);
int h2c_send_settings(h2_conn *c, const h2_frame_setting *e, size_t n);
int h2c_send_header_block(h2_conn *c, uint32_t id, int type, uint32_t promised, uint8_t flags,
                          const h2_frame_prio *prio, const h2_hpack_field *f, size_t n);
/* conn_hpad.c: h2c_send_header_block under header_padding (|bound| from
 * h2_hpack_encode_bound). */
int h2c_send_padded_block(h2_conn *c, uint32_t id, int type, uint32_t promised, uint8_t flags,
                          const h2_frame_prio *prio, const h2_hpack_field *f, size_t n,
                          size_t bound);
int h2c_produce(h2_conn *c);
void h2c_ready_update(h2_conn *c, h2_stream *s);
void h2c_ready_all(h2_conn *c);
void h2c_run_deferred(h2_conn *c);

#endif
