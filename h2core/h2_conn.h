/* h2_conn.h: the sans-IO HTTP/2 connection engine (RFC 9113).
 *
 * An h2_conn is one HTTP/2 connection, client or server, without sockets,
 * clocks or threads: bytes in (h2_conn_recv), bytes out (h2_conn_output /
 * h2_conn_output_done, or h2_conn_send), events out through ONE callback, and
 * the current time passed in as |now_ms| arguments (any monotonic
 * millisecond clock). libc only; all memory through the h2_mem given to
 * h2_conn_new (counted, see h2_conn_memory). Not thread-safe; distinct
 * connections may be used from distinct threads.
 *
 * What the engine does by itself: the connection preface both ways, SETTINGS
 * (validation, ACK, several of ours in flight, each applied when acked),
 * PING ACK, the §5.1 stream state machine, stream id rules,
 * MAX_CONCURRENT_STREAMS both ways, CONTINUATION assembly and HPACK decoding
 * of every header block (even for refused streams, to keep the table in
 * sync), the §8 HTTP message checks (malformed -> RST_STREAM PROTOCOL_ERROR),
 * flow control both ways (windows kept in 64 bits), DATA framing within the
 * windows and the peer's MAX_FRAME_SIZE, GOAWAY, and the abuse limits of
 * h2_conn_config (token buckets on |now_ms|). Stream errors become
 * RST_STREAM; connection errors become GOAWAY, after which the connection is
 * closed once that GOAWAY has been written out.
 *
 * Calling rules: the event callback runs synchronously inside h2_conn_recv,
 * h2_conn_output, h2_conn_output_done, h2_conn_send, h2_conn_timeout and
 * h2_conn_free (only H2_CONN_EV_DATA_RELEASED there). From inside the
 * callback the application may call any h2_conn_submit_*, h2_conn_consume,
 * h2_conn_stream_set_user and every query, but NOT h2_conn_recv,
 * h2_conn_output*, h2_conn_send, h2_conn_timeout or h2_conn_free
 * (those return H2_ERR_STATE when nested). Submit calls never emit events
 * themselves; their effects show up as events from the next output call. */
#ifndef H2_CONN_H
#define H2_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "h2_err.h"
#include "h2_frame.h"
#include "h2_hpack.h"
#include "h2_mem.h"
#include "h2_prio.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct h2_conn h2_conn;

/* Roles. */
typedef enum h2_conn_role {
  H2_CONN_SERVER = 0,
  H2_CONN_CLIENT = 1,
} h2_conn_role;

/* h2_conn_settings is one side's SETTINGS (RFC 9113 §6.5.2, RFC 8441,
 * RFC 9218). A value of H2_CONN_UNLIMITED for max_concurrent_streams or
 * max_header_list_size means "no limit" (the initial value per the RFC). */
#define H2_CONN_UNLIMITED 0xffffffffu
typedef struct h2_conn_settings {
  uint32_t header_table_size;       /* default 4096 */
  uint32_t enable_push;             /* 0/1, default 1 (servers send 0... see config) */
  uint32_t max_concurrent_streams;  /* default H2_CONN_UNLIMITED */
  uint32_t initial_window_size;     /* default 65535, <= 2^31-1 */
  uint32_t max_frame_size;          /* default 16384, 16384..2^24-1 */
  uint32_t max_header_list_size;    /* default H2_CONN_UNLIMITED */
  uint32_t enable_connect_protocol; /* RFC 8441, 0/1, default 0 */
  uint32_t no_rfc7540_priorities;   /* RFC 9218, 0/1, default 0 */
} h2_conn_settings;

/* h2_conn_settings_default fills |s| with the RFC initial values (what a peer
 * is assumed to use before its SETTINGS arrive). */
void h2_conn_settings_default(h2_conn_settings *s);

/* Limit identifiers, reported by H2_CONN_EV_LIMIT (h2_conn_event.u.limit).
 * Unless noted, tripping one ends the connection with GOAWAY
 * ENHANCE_YOUR_CALM. */
typedef enum h2_conn_limit {
  H2_CONN_LIMIT_CONTROL_QUEUE = 1,  /* queued PING/SETTINGS ACKs etc. not written out (flood) */
  H2_CONN_LIMIT_SETTINGS_ENTRIES,   /* entries in one SETTINGS frame */
  H2_CONN_LIMIT_SETTINGS_RATE,      /* SETTINGS frames per second */
  H2_CONN_LIMIT_PING_RATE,          /* PING frames per second */
  H2_CONN_LIMIT_RST_RATE,           /* RST_STREAM received (CVE-2023-44487 rapid reset) */
  H2_CONN_LIMIT_LOCAL_RST_RATE,     /* RST_STREAM we send because of the peer (CVE-2025-8671) */
  H2_CONN_LIMIT_CONTINUATIONS,      /* CONTINUATION frames in one header block */
  H2_CONN_LIMIT_HEADER_BLOCK,       /* compressed header block bytes */
  H2_CONN_LIMIT_HEADER_LIST,        /* decoded header list (stream refused, connection lives) */
  H2_CONN_LIMIT_EMPTY_FRAMES,       /* DATA/HEADERS/CONTINUATION with no payload, no END_* */
  H2_CONN_LIMIT_PRIORITY_RATE,      /* PRIORITY / PRIORITY_UPDATE churn */
  H2_CONN_LIMIT_WINDOW_UPDATE_RATE, /* WINDOW_UPDATE frames per second */
  H2_CONN_LIMIT_CONCURRENT_STREAMS, /* peer exceeded our MAX_CONCURRENT_STREAMS (REFUSED_STREAM, lives) */
  H2_CONN_LIMIT_REFUSED_STREAMS,    /* too many streams refused in a row */
  H2_CONN_LIMIT_RESERVED_STREAMS,   /* pushed streams held in reserved (remote) state (refused, lives) */
  H2_CONN_LIMIT_MEMORY,             /* total memory over max_memory: new peer streams refused (lives) */
} h2_conn_limit;

/* Padding strategies for DATA (h2_conn_config.padding) and, chosen
 * separately, for HEADERS and PUSH_PROMISE (h2_conn_config.header_padding).
 * DATA padding counts against the flow-control windows and never makes a
 * frame exceed them or the peer's MAX_FRAME_SIZE; a DATA frame that has
 * room for no padding goes out unpadded. HEADERS/PUSH_PROMISE padding does
 * not touch the windows: it goes in the HEADERS (PUSH_PROMISE) frame only,
 * never in CONTINUATION, and only fills what the peer's MAX_FRAME_SIZE
 * leaves after the whole first fragment (a block that spills into
 * CONTINUATION gets PADDED with Pad Length 0). */
#define H2_CONN_PAD_NONE 0    /* default */
#define H2_CONN_PAD_MAX 1     /* as much padding (<= 255) as the windows allow */
#define H2_CONN_PAD_ALIGNED 2 /* pad each frame (9-octet header included) to a
                               * multiple of |padding_align| octets */
#define H2_CONN_PAD_CALLBACK 3 /* ask |padding_cb| */

/* h2_conn_config configures a connection. Always start from
 * h2_conn_config_init(); fields added later get safe defaults there.
 * Rates are token buckets: |*_burst| tokens, refilled at |*_per_sec| per
 * second of |now_ms|. A zero burst disables that limit. */
typedef struct h2_conn_config {
  /* Local SETTINGS sent in the first SETTINGS frame. Defaults: RFC initial
   * values except max_concurrent_streams 100, max_header_list_size 65536,
   * enable_push 0 for servers (a server never receives pushes; clients 1),
   * initial_window_size 65535. Only values that differ from the RFC initial
   * ones are sent, plus MAX_CONCURRENT_STREAMS always. */
  h2_conn_settings settings;
  /* Local connection receive window (default 65535; larger values are sent
   * as a WINDOW_UPDATE on stream 0 right after the preface). */
  uint32_t connection_window;
  /* auto_window_update: 1 (default 0): received DATA counts as consumed as
   * soon as its H2_CONN_EV_DATA event returns (no h2_conn_consume needed).
   * With 0 the application calls h2_conn_consume() when it has used data;
   * until then the peer's window shrinks (backpressure). Padding and DATA
   * the application never sees (closed/reset streams) are always returned
   * automatically. */
  uint8_t auto_window_update;
  /* window_update_threshold: percent (1..100, default 50) of a receive
   * window that must be consumed before a WINDOW_UPDATE is sent for it. */
  uint8_t window_update_threshold;
  /* validate_http: 1 (default): apply the §8 message checks (h2_http_check);
   * 0: only the framing rules (for proxies/tests). */
  uint8_t validate_http;
  /* send_queue_limit: bytes of DATA queued per stream before
   * h2_conn_submit_data returns H2_ERR_WOULD_BLOCK (default 1 MiB). A single
   * submit is accepted whenever the queue is below the limit. */
  size_t send_queue_limit;
  /* max_memory: total bytes the connection may hold from its allocator,
   * HPACK tables and queued copies included (default 16 MiB). Over it, new
   * peer streams get REFUSED_STREAM and submits fail with H2_ERR_NOMEM-like
   * H2_ERR_LIMIT. */
  size_t max_memory;
  /* output_high_water: h2_conn_output stops producing frames once this many
   * bytes are pending (default 49152: three full 16 KiB DATA frames with
   * their headers fit one 64 KiB TCP segment; DATA referenced, not copied). */
  size_t output_high_water;
  /* settings_timeout_ms: our SETTINGS must be acked within this long, else
   * h2_conn_timeout ends the connection with SETTINGS_TIMEOUT (default
   * 10000; 0 disables). The clock starts when that SETTINGS frame is
   * first handed out by h2_conn_output (the first one) or submitted. */
  uint32_t settings_timeout_ms;
  /* Time limits against slow peers (slowloris), checked by h2_conn_timeout
   * and reported by h2_conn_next_deadline; 0 disables each. The connection
   * error is H2_CONN_EV_CONN_ERROR with err H2_ERR_TIMEOUT and a message
   * saying which limit passed.
   * preface_timeout_ms (server only; clients ignore it; default 10000): the
   * client's connection preface and its first SETTINGS frame must have
   * arrived within this long of the first |now_ms| the engine is given (by
   * any call: a transport that wants a TLS handshake bounded too calls
   * h2_conn_timeout(conn, now) when it accepts the connection). If the
   * 24-octet client magic did not arrive in full, the peer may not speak
   * HTTP/2 at all: no GOAWAY, the connection is closed (the event's
   * error_code is 0, RFC 9113 3.4 lets the GOAWAY be omitted). If the magic
   * came but the SETTINGS frame did not: GOAWAY PROTOCOL_ERROR (the preface
   * is incomplete, which 3.4 makes a PROTOCOL_ERROR).
   * header_block_timeout_ms (both roles; default 10000): a header block
   * (HEADERS or PUSH_PROMISE and its CONTINUATION frames) must be complete
   * within this long of the arrival of its first frame's header (a block in
   * progress stalls every stream of the connection: nothing else may be
   * sent until END_HEADERS, RFC 9113 6.10). Else GOAWAY ENHANCE_YOUR_CALM,
   * the code of the other header-block limits (max_continuations,
   * max_header_block). */
  uint32_t preface_timeout_ms;
  uint32_t header_block_timeout_ms;

  /* Abuse limits (defaults in brackets). */
  uint32_t max_control_queue;        /* [10000] queued control frames */
  uint32_t max_settings_entries;     /* [32] per SETTINGS frame */
  uint32_t settings_burst, settings_per_sec;   /* [100, 10] */
  uint32_t ping_burst, ping_per_sec;           /* [100, 10] */
  uint32_t rst_burst, rst_per_sec;             /* [1000, 33] received RST_STREAM */
  uint32_t local_rst_burst, local_rst_per_sec; /* [1000, 33] RSTs the peer caused */
  uint32_t max_continuations;        /* [64] CONTINUATION frames per block */
  uint32_t max_header_block;         /* [262144] compressed bytes per block */
  uint32_t max_header_fields;        /* [256] fields per block (HPACK limit) */
  uint32_t empty_frame_burst, empty_frame_per_sec; /* [1000, 100] */
  uint32_t priority_burst, priority_per_sec;       /* [10000, 1000] */
  uint32_t window_update_burst, window_update_per_sec; /* [10000, 1000] */
  uint32_t max_closed_streams;       /* [1000] recently closed ids remembered */
  uint32_t max_refused_streams;      /* [100] REFUSED_STREAMs in a row before GOAWAY */
  uint32_t max_reserved_streams;     /* [100] client: pushed streams in reserved state */
  uint32_t hpack_encoder_table_limit;/* [4096] cap on our encoder's table */

  /* DATA padding (H2_CONN_PAD_*, default none). For ALIGNED, |padding_align|
   * (1..256, default 64). For CALLBACK, |padding_cb| returns the padding
   * wanted for a DATA frame of |data_len| octets on |stream_id|; the engine
   * clips it to |max_pad|. Called from h2_conn_output with |padding_user|. */
  uint8_t padding;
  uint16_t padding_align;
  size_t (*padding_cb)(void *padding_user, uint32_t stream_id, size_t data_len, size_t max_pad);
  void *padding_user;
  /* HEADERS and PUSH_PROMISE padding (H2_CONN_PAD_*, default none; trailers
   * included), independent of |padding|. ALIGNED uses |padding_align| (then
   * checked even when |padding| is not ALIGNED). CALLBACK asks
   * |header_padding_cb| (with |padding_user|) for the padding of a frame
   * whose field block fragment is |frag_len| octets (the stream id is the
   * HEADERS stream, or for PUSH_PROMISE the associated stream); the engine
   * clips the answer to |max_pad|. */
  uint8_t header_padding;
  size_t (*header_padding_cb)(void *padding_user, uint32_t stream_id, size_t frag_len, size_t max_pad);
} h2_conn_config;

/* h2_conn_config_init fills |cfg| with the defaults above for |role|. */
void h2_conn_config_init(h2_conn_config *cfg, h2_conn_role role);

/* ---- Events ------------------------------------------------------------ */

typedef enum h2_conn_event_type {
  /* The peer's SETTINGS frame was applied (u.settings.settings = the peer's
   * settings now in force; an ACK has been queued; u.settings.frame is the
   * frame itself: iterate it with h2_frame_settings_next to see entries
   * with ids the engine does not know, which it otherwise ignores). */
  H2_CONN_EV_SETTINGS = 1,
  /* The peer acked one of our SETTINGS frames; u.settings.settings = our
   * settings now in force. */
  H2_CONN_EV_SETTINGS_ACK,
  /* A complete, validated header block (u.headers). stream_id is the stream
   * it belongs to; for H2_CONN_HEADERS_PUSH_PROMISE, u.headers.promised_id
   * is the new reserved stream and the fields are the promised request. */
  H2_CONN_EV_HEADERS,
  /* DATA payload (u.data). The bytes point into the buffer passed to
   * h2_conn_recv (or engine memory) and are valid only during the callback.
   * One DATA frame may be delivered in several pieces when the input was
   * split; concatenation is what matters. Padding is never delivered. */
  H2_CONN_EV_DATA,
  /* The peer ended its side of the stream (END_STREAM received), after the
   * last DATA/HEADERS event of that stream. */
  H2_CONN_EV_STREAM_END,
  /* The stream was reset (u.reset): by the peer (remote = 1, RST_STREAM
   * received) or by us (remote = 0: h2_conn_submit_rst or a stream error we
   * detected; the RST_STREAM has been written out). Followed by
   * H2_CONN_EV_STREAM_CLOSED. */
  H2_CONN_EV_STREAM_RESET,
  /* The stream is closed and its state freed (u.closed). After this event
   * the stream id is unknown to every call (H2_ERR_NOT_FOUND). Every stream
   * that was opened gets exactly one. A stream whose last frame is our
   * END_STREAM closes when that frame is produced (from h2_conn_output), so
   * its last DATA_RELEASED events may follow this one. */
  H2_CONN_EV_STREAM_CLOSED,
  /* PING received (not an ACK); the ACK is queued automatically (u.ping). */
  H2_CONN_EV_PING,
  /* PING ACK received that matches one we sent (u.ping.rtt_ms set). */
  H2_CONN_EV_PING_ACK,
  /* GOAWAY received (u.goaway). Streams above last_stream_id that we
   * opened are closed (STREAM_CLOSED with reason H2_CONN_CLOSE_GOAWAY). */
  H2_CONN_EV_GOAWAY,
  /* The peer opened our send window (u.window: stream_id 0 = connection). */
  H2_CONN_EV_WINDOW_UPDATE,
  /* The stream's send queue dropped below send_queue_limit after a submit
   * returned H2_ERR_WOULD_BLOCK: the application may write again. */
  H2_CONN_EV_WRITABLE,
  /* A buffer given to h2_conn_submit_data is no longer referenced
   * (u.released): its bytes were written out (sent = 1) or the stream died
   * first (sent = 0). Emitted once per submit call that queued a buffer
   * (also for copied ones, so the count always matches). */
  H2_CONN_EV_DATA_RELEASED,
  /* Frame traces (u.frame.frame): every frame received (after decoding,
   * before processing; DATA with u.data.data NULL) and every frame written
   * out (emitted from h2_conn_output_done/h2_conn_send when its last byte is
   * done). Only emitted when h2_conn_set_trace(conn, 1). */
  H2_CONN_EV_FRAME_RECV,
  H2_CONN_EV_FRAME_SENT,
  /* A connection error (u.error). remote = 0: we detected it, GOAWAY with
   * u.error.error_code is queued (error_code 0: no GOAWAY, which only a
   * server whose peer never sent the whole client magic in time gets), the
   * connection is going away and h2_conn_recv returns u.error.err. remote = 1: the peer sent GOAWAY with
   * a non-zero code (after H2_CONN_EV_GOAWAY); the peer will close. */
  H2_CONN_EV_CONN_ERROR,
  /* An abuse limit tripped (u.limit). */
  H2_CONN_EV_LIMIT,
  /* A frame of an unknown type arrived (u.frame.frame, type
   * H2_FRAME_UNKNOWN; ignored otherwise). */
  H2_CONN_EV_UNKNOWN_FRAME,
  /* A PRIORITY frame or HEADERS priority (u.priority) or PRIORITY_UPDATE
   * (u.priority.update_value) arrived; already applied. */
  H2_CONN_EV_PRIORITY,
  /* ALTSVC received (u.altsvc); client only, server ignores it. */
  H2_CONN_EV_ALTSVC,
  /* ORIGIN received (u.origin); client only. */
  H2_CONN_EV_ORIGIN,
  /* A frame could not be sent (u.not_sent: its type and the reason; Node's
   * 'frameError'). DATA frames are never reported: a DATA frame that
   * cannot be produced ends the connection (CONN_ERROR). Two cases:
   *   stream_id > 0, from h2_conn_output: the trailers of h2_conn_submit_
   *     trailers, encoded when their turn comes, no longer fit the peer's
   *     SETTINGS_MAX_HEADER_LIST_SIZE (lowered since the submit:
   *     H2_ERR_LIMIT) or could not be encoded (H2_ERR_NOMEM). The block is
   *     dropped and, unless the application resets the stream from the
   *     callback, the engine resets it with RST_STREAM u.not_sent.rst_code
   *     (INTERNAL_ERROR): STREAM_RESET (remote 0) and STREAM_CLOSED follow
   *     once that is written.
   *   stream_id 0, from h2_conn_recv: a SETTINGS ACK or PING ACK the peer
   *     is owed could not be queued (H2_ERR_NOMEM); the connection error
   *     (CONN_ERROR, GOAWAY INTERNAL_ERROR if it can be queued) follows at
   *     once. */
  H2_CONN_EV_FRAME_NOT_SENT,
} h2_conn_event_type;

/* Header block categories (u.headers.category). */
typedef enum h2_conn_headers_cat {
  H2_CONN_HEADERS_REQUEST = 1,  /* server: a request opening a stream */
  H2_CONN_HEADERS_RESPONSE,     /* client: final response (:status >= 200) */
  H2_CONN_HEADERS_INFO,         /* client: 1xx informational response */
  H2_CONN_HEADERS_TRAILERS,     /* either side: trailers (END_STREAM set) */
  H2_CONN_HEADERS_PUSH_PROMISE, /* client: a promised request */
} h2_conn_headers_cat;

/* Stream close reasons (u.closed.reason). */
typedef enum h2_conn_close_reason {
  H2_CONN_CLOSE_DONE = 1,     /* both sides ended normally */
  H2_CONN_CLOSE_RESET_REMOTE, /* the peer sent RST_STREAM */
  H2_CONN_CLOSE_RESET_LOCAL,  /* we sent RST_STREAM */
  H2_CONN_CLOSE_GOAWAY,       /* above the last_stream_id of a GOAWAY */
  H2_CONN_CLOSE_CONNECTION,   /* the connection ended (error or free) */
} h2_conn_close_reason;

typedef struct h2_conn_event {
  h2_conn_event_type type;
  uint32_t stream_id; /* 0 for connection-level events */
  void *stream_user;  /* the stream's user pointer, NULL if none */
  union {
    struct {
      const h2_conn_settings *settings;
      const h2_frame *frame; /* SETTINGS only (NULL for SETTINGS_ACK) */
    } settings;
    struct {
      const h2_hpack_field *fields; /* valid during the callback only */
      size_t num_fields;
      h2_conn_headers_cat category;
      int end_stream;
      uint32_t promised_id; /* PUSH_PROMISE only */
      const h2_frame_prio *prio; /* HEADERS with PRIORITY flag, else NULL */
    } headers;
    struct {
      const uint8_t *data; /* valid during the callback only */
      size_t len;
      int end_stream; /* set on the piece that ends the frame with END_STREAM */
    } data;
    struct {
      uint32_t error_code; /* RFC 9113 wire code */
      int remote;
    } reset;
    struct {
      h2_conn_close_reason reason;
      uint32_t error_code;
    } closed;
    struct {
      uint8_t opaque[8];
      uint64_t rtt_ms; /* PING_ACK only */
    } ping;
    struct {
      uint32_t last_stream_id;
      uint32_t error_code;
      const uint8_t *debug;
      size_t debug_len;
    } goaway;
    struct {
      uint32_t increment;
    } window;
    struct {
      const void *data; /* the pointer given to h2_conn_submit_data */
      size_t len;
      void *user;       /* the |user| given to h2_conn_submit_data */
      int sent;
    } released;
    struct {
      const h2_frame *frame; /* pointers inside valid during the callback */
    } frame;
    struct {
      int err;             /* negative h2_err */
      uint32_t error_code; /* wire code in the GOAWAY */
      const char *message; /* static */
      int remote;
    } error;
    struct {
      h2_conn_limit which;
      uint64_t value; /* the value seen, when meaningful */
    } limit;
    struct {
      h2_frame_prio prio; /* RFC 7540 (PRIORITY frame or HEADERS) */
      const uint8_t *update_value; /* RFC 9218 PRIORITY_UPDATE, else NULL */
      size_t update_len;
    } priority;
    struct {
      const uint8_t *origin;
      size_t origin_len;
      const uint8_t *value;
      size_t value_len;
    } altsvc;
    struct {
      const h2_frame *frame; /* iterate with h2_frame_origin_next */
    } origin;
    struct {
      uint8_t frame_type; /* H2_FRAME_HEADERS, H2_FRAME_SETTINGS, H2_FRAME_PING */
      int err;            /* negative h2_err: why */
      uint32_t rst_code;  /* stream_id > 0: the RST_STREAM code the engine
                             resets the stream with (INTERNAL_ERROR); 0 */
    } not_sent;
  } u;
} h2_conn_event;

/* h2_conn_event_cb receives every event. Return 0. A negative h2_err ends the
 * connection: GOAWAY INTERNAL_ERROR is queued and the running call returns
 * that error. */
typedef int (*h2_conn_event_cb)(h2_conn *conn, const h2_conn_event *ev, void *user);

/* ---- Lifecycle --------------------------------------------------------- */

/* h2_conn_new creates a connection for |role|. |cfg| NULL means
 * h2_conn_config_init(role) defaults; it is copied. |mem| (NULL = default)
 * must outlive the connection; the engine wraps it to count its memory.
 * |cb| (required) gets every event with |user|. The preface (client magic for
 * a client) and our SETTINGS are queued at once, so h2_conn_output has bytes
 * to send immediately. Returns NULL when out of memory or |cfg| is invalid
 * (settings outside their RFC ranges). */
h2_conn *h2_conn_new(h2_conn_role role, const h2_conn_config *cfg, const h2_mem *mem,
                     h2_conn_event_cb cb, void *user);

/* h2_conn_free frees |conn| and everything it owns. Each referenced DATA
 * buffer still queued gets H2_CONN_EV_DATA_RELEASED (sent = 0) first; no
 * other event is emitted. NULL is a no-op. */
void h2_conn_free(h2_conn *conn);

/* h2_conn_set_trace turns frame trace events (H2_CONN_EV_FRAME_RECV/SENT)
 * on (1) or off (0, default). */
void h2_conn_set_trace(h2_conn *conn, int on);

/* ---- Input ------------------------------------------------------------- */

/* h2_conn_recv consumes |len| bytes read from the peer, emitting events
 * synchronously. Input may be split anywhere: feeding the same bytes whole,
 * in pieces or one byte at a time gives the same events (DATA possibly in
 * more pieces) and the same output. Partial frames are buffered internally
 * (bounded by our MAX_FRAME_SIZE; DATA payload is never buffered).
 * Returns |len| (everything is always consumed) or a negative h2_err on a
 * connection error: the GOAWAY is queued, H2_CONN_EV_CONN_ERROR was
 * emitted, later input is ignored (returns H2_ERR_CLOSED); keep calling
 * h2_conn_output until it returns 0 so the GOAWAY gets out, then close.
 * Once a GOAWAY with a non-zero code was submitted (h2_conn_submit_goaway,
 * also from inside a callback of this call), the rest of the input is
 * dropped unprocessed (returns |len|): nothing may be sent after it.
 * H2_ERR_STATE when called from the event callback. */
int h2_conn_recv(h2_conn *conn, const uint8_t *in, size_t len, uint64_t now_ms);

/* h2_conn_recv_eof tells the engine the transport was closed by the peer.
 * Every open stream is closed (H2_CONN_CLOSE_CONNECTION) and the connection
 * is closed. Returns 0. */
int h2_conn_recv_eof(h2_conn *conn, uint64_t now_ms);

/* ---- Output ------------------------------------------------------------ */

/* h2_iov is one piece of output (like struct iovec). */
typedef struct h2_iov {
  const uint8_t *base;
  size_t len;
} h2_iov;

/* h2_conn_output fills |iov| (at most |max_iov| entries, >= 1) with the bytes
 * to send next, producing frames as needed: control frames first, then
 * HEADERS, then DATA per stream as the windows, the peer's MAX_FRAME_SIZE and
 * the scheduler allow. Frame headers and control frames live in engine
 * memory; DATA payloads point to the application's buffers (not copied).
 * Returns the number of entries filled (0 = nothing to send now) or a
 * negative h2_err (H2_ERR_STATE when nested in the callback). The entries
 * stay valid until the next call to h2_conn_output, h2_conn_output_done,
 * h2_conn_send, h2_conn_recv or h2_conn_free. Calling it again without
 * output_done returns the same bytes first (plus possibly more). */
int h2_conn_output(h2_conn *conn, h2_iov *iov, int max_iov, uint64_t now_ms);

/* h2_conn_output_done records that the first |nbytes| bytes of what
 * h2_conn_output returned were written. Emits H2_CONN_EV_FRAME_SENT,
 * H2_CONN_EV_DATA_RELEASED, and H2_CONN_EV_STREAM_RESET + CLOSED for a
 * stream reset by h2_conn_submit_rst once its RST_STREAM is written. Returns 0, or
 * H2_ERR_INVALID_ARG if |nbytes| exceeds the pending bytes. */
int h2_conn_output_done(h2_conn *conn, size_t nbytes);

/* h2_conn_send copies up to |cap| bytes of output into |buf| and marks them
 * written (h2_conn_output + memcpy + h2_conn_output_done). Returns the byte
 * count (0 = nothing to send) or a negative h2_err. */
int h2_conn_send(h2_conn *conn, uint8_t *buf, size_t cap, uint64_t now_ms);

/* h2_conn_pending returns the bytes produced but not yet marked written. */
size_t h2_conn_pending(const h2_conn *conn);

/* ---- Time -------------------------------------------------------------- */

/* h2_conn_timeout checks the deadlines at |now_ms|: SETTINGS ACK timeout
 * (connection error SETTINGS_TIMEOUT), the preface and header-block time
 * limits (h2_conn_config.preface_timeout_ms / header_block_timeout_ms:
 * connection error H2_ERR_TIMEOUT). Returns 0 or the connection error
 * (H2_ERR_STATE when nested in the callback). Like every call with a time,
 * it starts a server's preface clock if it is the first. */
int h2_conn_timeout(h2_conn *conn, uint64_t now_ms);

/* h2_conn_next_deadline returns the |now_ms| value at which h2_conn_timeout
 * has work to do, or UINT64_MAX when none. It moves as input arrives (a
 * header block starts or ends, the preface completes): ask again after
 * each h2_conn_recv / h2_conn_output. */
uint64_t h2_conn_next_deadline(const h2_conn *conn);

/* h2_conn_pending_settings returns how many of our SETTINGS frames await
 * their ACK (0..8). */
uint32_t h2_conn_pending_settings(const h2_conn *conn);

/* ---- Submitting -------------------------------------------------------- */

/* Flags for h2_conn_submit_data. */
#define H2_CONN_DATA_END_STREAM 0x1 /* END_STREAM on the last DATA frame */
#define H2_CONN_DATA_COPY 0x2       /* copy |data| now (else referenced) */

/* Header blocks we send are held to the peer's SETTINGS_MAX_HEADER_LIST_SIZE
 * (RFC 9113 §6.5.2: the sum over the fields of name + value + 32 octets):
 * the submit calls below refuse a larger list with H2_ERR_LIMIT and change
 * nothing. Trailers are checked again when they are encoded (see
 * H2_CONN_EV_FRAME_NOT_SENT). Until the peer's SETTINGS arrive there is no
 * limit. */

/* h2_conn_submit_request (client) opens a new stream with the request
 * |fields| (:method, :scheme, :authority, :path first; validated like
 * received ones, H2_ERR_INVALID_ARG if malformed; the fields are encoded at
 * once, so they need not outlive the call). |prio| (may be NULL) adds
 * RFC 7540 priority to the HEADERS. |end_stream|: no body. |stream_user| is
 * stored as the stream's user pointer. Returns the new stream id (> 0) or:
 * H2_ERR_STATE (server, or GOAWAY sent/received), H2_ERR_REFUSED_STREAM
 * (the peer's MAX_CONCURRENT_STREAMS is reached: retry after a stream
 * closes), H2_ERR_LIMIT (stream ids exhausted, memory limit, the peer's
 * header list limit), H2_ERR_NOMEM. */
int32_t h2_conn_submit_request(h2_conn *conn, const h2_hpack_field *fields, size_t num_fields,
                               const h2_frame_prio *prio, int end_stream, void *stream_user);

/* h2_conn_submit_response (server) sends the final response HEADERS
 * (:status >= 200 first) on the peer-opened |stream_id|. H2_ERR_NOT_FOUND
 * (no such stream), H2_ERR_STATE (already responded / our side ended),
 * H2_ERR_INVALID_ARG (malformed fields), H2_ERR_LIMIT (over the peer's
 * header list limit), H2_ERR_NOMEM. */
int h2_conn_submit_response(h2_conn *conn, uint32_t stream_id, const h2_hpack_field *fields,
                            size_t num_fields, int end_stream);

/* h2_conn_submit_info (server) sends a 1xx informational HEADERS (:status
 * 100..199, not 101) before the response. Errors as submit_response. */
int h2_conn_submit_info(h2_conn *conn, uint32_t stream_id, const h2_hpack_field *fields,
                        size_t num_fields);

/* h2_conn_submit_trailers sends trailers (no pseudo-headers) with
 * END_STREAM after the queued DATA (the fields are copied; they are encoded
 * when their turn comes, and H2_CONN_EV_FRAME_NOT_SENT reports a block that
 * cannot be encoded then). Errors as submit_response. */
int h2_conn_submit_trailers(h2_conn *conn, uint32_t stream_id, const h2_hpack_field *fields,
                            size_t num_fields);

/* h2_conn_submit_data queues |len| bytes of body on |stream_id| (after its
 * HEADERS). Without H2_CONN_DATA_COPY the bytes are referenced and must stay
 * valid and unchanged until H2_CONN_EV_DATA_RELEASED with this |user|.
 * H2_CONN_DATA_END_STREAM ends our side after these bytes (|len| may be 0).
 * Returns 0, H2_ERR_WOULD_BLOCK (queue at send_queue_limit: nothing queued,
 * wait for H2_CONN_EV_WRITABLE), H2_ERR_NOT_FOUND, H2_ERR_STATE (our side
 * ended, no HEADERS yet, or reset), H2_ERR_NOMEM. */
int h2_conn_submit_data(h2_conn *conn, uint32_t stream_id, const uint8_t *data, size_t len,
                        unsigned flags, void *user);

/* h2_conn_submit_rst resets |stream_id| with wire |error_code| (queued
 * DATA is dropped and released). The stream stops delivering events except
 * H2_CONN_EV_STREAM_RESET (remote = 0) and H2_CONN_EV_STREAM_CLOSED when the
 * RST_STREAM is written. Returns 0, H2_ERR_NOT_FOUND, H2_ERR_CLOSED (the
 * connection is going away: after a connection error, EOF, or our GOAWAY
 * with an error code, whose writing closes every stream). */
int h2_conn_submit_rst(h2_conn *conn, uint32_t stream_id, uint32_t error_code);

/* h2_conn_submit_ping sends a PING with |opaque| (NULL: an 8-byte counter);
 * the matching ACK gives H2_CONN_EV_PING_ACK with the RTT measured from
 * |now_ms| at submit to |now_ms| at receipt. At most 16 pings may be
 * outstanding (H2_ERR_LIMIT). Returns 0. */
int h2_conn_submit_ping(h2_conn *conn, const uint8_t *opaque, uint64_t now_ms);

/* h2_conn_submit_settings sends a SETTINGS frame with |num| entries (values
 * checked: H2_ERR_INVALID_ARG; ENABLE_CONNECT_PROTOCOL cannot go from 1 to
 * 0: H2_ERR_STATE). Up to 8 may be in flight (H2_ERR_LIMIT); each is
 * applied to our local settings when acked (H2_CONN_EV_SETTINGS_ACK).
 * |now_ms| starts its ACK timeout. */
int h2_conn_submit_settings(h2_conn *conn, const h2_frame_setting *entries, size_t num,
                            uint64_t now_ms);

/* h2_conn_submit_goaway sends GOAWAY. |error_code| 0 is graceful: the last
 * stream id is the highest peer stream we processed (or |last_stream_id| if
 * lower, use H2_MAX_STREAM_ID for "all"), new peer streams above it are
 * ignored, and streams at or below it run to completion; the connection is
 * closed (h2_conn_is_closed) once none remain and the output is flushed.
 * A non-zero |error_code| closes every stream at once (CLOSED with
 * H2_CONN_CLOSE_CONNECTION when written) and the connection after the
 * flush. |debug| (may be NULL) is copied. Returns 0 or H2_ERR_NOMEM;
 * H2_ERR_STATE after a non-graceful GOAWAY. May be called twice (graceful
 * first with a high id, then the final one). */
int h2_conn_submit_goaway(h2_conn *conn, uint32_t error_code, uint32_t last_stream_id,
                          const uint8_t *debug, size_t debug_len);

/* h2_conn_consume returns |n| received DATA bytes of |stream_id| to the
 * flow-control windows (stream and connection); WINDOW_UPDATE is sent when
 * the threshold is reached. Not needed with auto_window_update. Returns 0;
 * H2_ERR_NOT_FOUND for an unknown stream still credits the connection. */
int h2_conn_consume(h2_conn *conn, uint32_t stream_id, size_t n);

/* h2_conn_set_local_window_size sets the connection receive window
 * (Node's setLocalWindowSize): growing sends WINDOW_UPDATE for the
 * difference at once; shrinking takes effect as data arrives. |size| <=
 * 2^31-1 else H2_ERR_INVALID_ARG. */
int h2_conn_set_local_window_size(h2_conn *conn, uint32_t size);

/* h2_conn_submit_priority sends an RFC 7540 PRIORITY frame for |stream_id|
 * (any id, even idle) and applies it to the local scheduler. Returns 0,
 * H2_ERR_INVALID_ARG (self dependency, weight out of 1..256). */
int h2_conn_submit_priority(h2_conn *conn, uint32_t stream_id, const h2_frame_prio *prio);

/* h2_conn_set_priority applies an RFC 7540 priority to |stream_id| (any
 * id, even idle) in the local scheduler only: no frame is sent, the peer
 * keeps its own view (Node's stream.priority({silent: true})). The tree
 * changes exactly as for h2_conn_submit_priority (exclusive insertion,
 * §5.3.3 descendant moves). Returns 0, H2_ERR_INVALID_ARG (self
 * dependency, weight out of 1..256, id or parent out of range),
 * H2_ERR_CLOSED (connection failed or closed), H2_ERR_NOMEM (nothing
 * changed). */
int h2_conn_set_priority(h2_conn *conn, uint32_t stream_id, const h2_frame_prio *prio);

/* h2_conn_submit_priority_update (client) sends an RFC 9218
 * PRIORITY_UPDATE for |stream_id| with the Priority field value |value|
 * (e.g. "u=1, i") and applies it to the local scheduler. Returns 0,
 * H2_ERR_STATE (server), H2_ERR_INVALID_ARG. */
int h2_conn_submit_priority_update(h2_conn *conn, uint32_t stream_id, const char *value, size_t len);

/* h2_conn_submit_push_promise (server) promises a pushed response on the
 * peer-opened |assoc_stream_id| with the request |fields| (safe, cacheable
 * method: GET or HEAD; :scheme, :authority, :path; no body). Returns the
 * promised (even) stream id, now reserved (local); send its response with
 * h2_conn_submit_response. Errors: H2_ERR_STATE (the peer disabled push,
 * we are a client, |assoc_stream_id| is itself pushed or not open),
 * H2_ERR_INVALID_ARG, H2_ERR_REFUSED_STREAM (peer's concurrency limit),
 * H2_ERR_LIMIT (stream ids, memory, the peer's header list limit). */
int32_t h2_conn_submit_push_promise(h2_conn *conn, uint32_t assoc_stream_id,
                                    const h2_hpack_field *fields, size_t num_fields,
                                    void *stream_user);

/* h2_conn_submit_altsvc (server) sends ALTSVC on stream 0 with |origin| or
 * on |stream_id| > 0 with an empty origin (RFC 7838). H2_ERR_INVALID_ARG
 * when the payload (2 + origin + value) exceeds 16384 octets, the smallest
 * MAX_FRAME_SIZE. */
int h2_conn_submit_altsvc(h2_conn *conn, uint32_t stream_id, const char *origin, size_t origin_len,
                          const char *value, size_t value_len);

/* h2_conn_submit_origin (server) sends an ORIGIN frame (RFC 8336) listing
 * |num| origins (at most 256, 16384 payload octets; else
 * H2_ERR_INVALID_ARG). The origins are sent as given. */
int h2_conn_submit_origin(h2_conn *conn, const char *const *origins, const size_t *lens,
                          size_t num);

/* ---- Queries ----------------------------------------------------------- */

/* Stream states of RFC 9113 §5.1. */
typedef enum h2_stream_state {
  H2_STREAM_IDLE = 0,
  H2_STREAM_RESERVED_LOCAL,
  H2_STREAM_RESERVED_REMOTE,
  H2_STREAM_OPEN,
  H2_STREAM_HALF_CLOSED_LOCAL,
  H2_STREAM_HALF_CLOSED_REMOTE,
  H2_STREAM_CLOSED,
} h2_stream_state;

/* h2_conn_stream_state returns the state of |stream_id|: a live stream's
 * state, H2_STREAM_CLOSED for an id at or below the highest used by its
 * initiator, else H2_STREAM_IDLE. */
h2_stream_state h2_conn_stream_state(const h2_conn *conn, uint32_t stream_id);

/* h2_stream_state_name returns "idle", "open", ... (static). */
const char *h2_stream_state_name(h2_stream_state s);

/* h2_conn_stream_set_user / _user: the application pointer of a live
 * stream. set returns 0 or H2_ERR_NOT_FOUND; get returns NULL if none. */
int h2_conn_stream_set_user(h2_conn *conn, uint32_t stream_id, void *user);
void *h2_conn_stream_user(const h2_conn *conn, uint32_t stream_id);

/* Window selectors for h2_conn_window. */
#define H2_CONN_WINDOW_SEND 0 /* what we may still send (peer's window) */
#define H2_CONN_WINDOW_RECV 1 /* what the peer may still send us */

/* h2_conn_window returns the flow-control window |which| of |stream_id| (0 =
 * connection). May be negative (a lowered INITIAL_WINDOW_SIZE). INT64_MIN
 * for an unknown stream. */
int64_t h2_conn_window(const h2_conn *conn, uint32_t stream_id, int which);

/* h2_conn_recv_unreturned returns the DATA octets (padding included) the
 * peer sent on the connection that no connection WINDOW_UPDATE of ours has
 * given back yet, consumed or not (Node's effectiveRecvDataLength). A
 * WINDOW_UPDATE counts once queued, before it is written. */
uint64_t h2_conn_recv_unreturned(const h2_conn *conn);

/* h2_conn_effective_local_window returns the connection receive window the
 * peer has been granted in all: what it may still send (h2_conn_window
 * with H2_CONN_WINDOW_RECV) plus h2_conn_recv_unreturned (Node's
 * effectiveLocalWindowSize). It follows h2_conn_set_local_window_size only
 * as far as WINDOW_UPDATEs tell the peer: a grown window at once, a
 * shrunk one as data arrives and less is given back. */
int64_t h2_conn_effective_local_window(const h2_conn *conn);

/* h2_conn_stream_queued returns the DATA bytes queued on |stream_id| and not
 * yet framed (0 for unknown streams). */
size_t h2_conn_stream_queued(const h2_conn *conn, uint32_t stream_id);

/* h2_conn_priority_info fills |*out| with the local scheduler's view of
 * |stream_id| (h2_prio_info: parent, weight, sum of the children's
 * weights, number of children, RFC 9218 urgency, node state). Streams
 * that were closed may have been forgotten (h2_prio_close); an open stream
 * is always known. Returns 0, H2_ERR_NOT_FOUND, H2_ERR_INVALID_ARG (id 0
 * or out of range, |out| NULL). */
int h2_conn_priority_info(const h2_conn *conn, uint32_t stream_id, h2_prio_info *out);

/* h2_conn_num_streams returns the live streams (open, half-closed,
 * reserved) opened by us (|local| = 1) or by the peer (|local| = 0). */
uint32_t h2_conn_num_streams(const h2_conn *conn, int local);

/* h2_conn_local_settings returns our settings in force (acked);
 * h2_conn_remote_settings the peer's (RFC initial values until its SETTINGS
 * arrive). Valid as long as |conn|. */
const h2_conn_settings *h2_conn_local_settings(const h2_conn *conn);
const h2_conn_settings *h2_conn_remote_settings(const h2_conn *conn);

/* h2_conn_hpack_sizes stores the HPACK dynamic table sizes of our decoder
 * and encoder (either pointer may be NULL). */
void h2_conn_hpack_sizes(const h2_conn *conn, uint32_t *decoder, uint32_t *encoder);

/* h2_conn_memory returns the bytes |conn| holds from its allocator. */
size_t h2_conn_memory(const h2_conn *conn);

/* h2_conn_want_read: 1 while input is still useful (not closed, no fatal
 * error). h2_conn_want_write: 1 when h2_conn_output would return bytes.
 * h2_conn_is_closed: 1 once nothing more will happen (GOAWAY both ways and
 * no stream left, or a connection error or EOF, and output flushed). */
int h2_conn_want_read(const h2_conn *conn);
int h2_conn_want_write(const h2_conn *conn);
int h2_conn_is_closed(const h2_conn *conn);

/* h2_conn_last_stream_id returns the highest stream id opened by the peer
 * (for GOAWAY); h2_conn_next_stream_id the id our next stream will get. */
uint32_t h2_conn_last_peer_stream_id(const h2_conn *conn);
uint32_t h2_conn_next_stream_id(const h2_conn *conn);

/* h2_conn_role_of returns the role given to h2_conn_new. */
h2_conn_role h2_conn_role_of(const h2_conn *conn);

#ifdef __cplusplus
}
#endif

#endif
