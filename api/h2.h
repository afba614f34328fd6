/* h2.h: the public API of h2, an HTTP/2 library with the shape of Node.js's
 * `http2` module.
 *
 * Objects (opaque handles):
 *   h2_server   listens (h2c prior knowledge and/or TLS with ALPN "h2") and
 *               creates one server h2_session per accepted connection.
 *   h2_session  one HTTP/2 connection (server or client).
 *   h2_stream   one request/response exchange on a session.
 *
 * Events are callbacks. A session has one h2_session_callbacks table; each
 * stream may get its own h2_stream_callbacks table (h2_stream_on). Every
 * callback is optional (NULL = not listening) and gets the user pointer set
 * with the table. Callbacks run on the loop's thread, never re-entrantly for
 * the same session; inside any callback every API function may be called,
 * including ones that close or destroy the very session or stream (the object
 * stays valid until its close callback has returned).
 *
 * Two ways to run a session:
 *   1. Over h2's own event loop and transports (h2_loop from evloop/,
 *      h2_tls from tls/): h2_server_* and h2_connect do everything.
 *   2. Over ANY byte transport the application owns (its own event loop, a
 *      pipe, a test harness, QUIC-less tunnels...): h2_session_new creates a
 *      transport-less session; the application feeds received bytes with
 *      h2_session_feed and takes bytes to send with h2_session_pending /
 *      h2_session_consumed, and tells the session when the transport ended
 *      (h2_session_transport_closed). h2_session_transport callbacks tell the
 *      application when output became available and when to close.
 *   Both kinds behave identically above the transport.
 *
 * Lifetime and ownership:
 *   - A session is freed after its on_close callback returns (h2_connect'ed
 *     and server sessions), or by h2_session_free (transport-less sessions,
 *     after h2_session_destroy or once on_close ran).
 *   - A stream is freed after its on_close callback returns. Handles must
 *     not be used after that.
 *   - Header arrays passed to callbacks are valid only during the callback.
 *   - Header arrays passed to API functions are copied (HPACK-encoded) before
 *     the function returns.
 *   - h2_stream_write does NOT copy: the bytes must stay valid until the
 *     write's completion callback runs (h2_stream_write_copy copies).
 *
 * Errors: every function that can fail returns a negative h2_err (h2_err.h);
 * validation failures return H2_ERR_INVALID_ARG and leave a message for
 * h2_last_error_message(). Asynchronous failures arrive through on_error
 * callbacks.
 *
 * Threads: a session, its streams and its server belong to one loop thread.
 * h2_loop_post (evloop/h2_loop.h) is how other threads hand work over. */
#ifndef H2_H
#define H2_H

#include <stddef.h>
#include <stdint.h>

#include "h2_err.h"
#include "h2_hpack.h"
#include "h2_mem.h"

typedef struct h2_loop h2_loop;
typedef struct h2_tls_ctx h2_tls_ctx;
typedef struct h2_tls_conn h2_tls_conn;

typedef struct h2_server h2_server;
typedef struct h2_session h2_session;
typedef struct h2_stream h2_stream;

/* ---- Headers -------------------------------------------------------------- */

/* One header field: the HPACK field type (hpack/h2_hpack.h): name,
 * name_len, value, value_len, flags. Names are lower-case on the wire: API
 * calls lower-case outbound names for you (copying only when needed);
 * inbound names are lower-case already (RFC 9113 rejects upper case). Names
 * and values are not NUL-terminated. */
typedef h2_hpack_field h2_header;

/* flags: H2_HEADER_SENSITIVE sends the field as an HPACK never-indexed
 * literal (Node's sensitive headers); inbound it marks fields that arrived
 * that way. */
#define H2_HEADER_SENSITIVE H2_HPACK_NEVER_INDEXED

/* H2_HDR builds an h2_header from two C strings. */
#define H2_HDR(n, v) ((h2_header){(n), sizeof(n) - 1, (v), __builtin_strlen(v), 0})


/* Names of the pseudo-headers and a few common fields (Node's
 * http2.constants.HTTP2_HEADER_*), lower-case C strings. */
#define H2_HEADER_METHOD ":method"
#define H2_HEADER_PATH ":path"
#define H2_HEADER_SCHEME ":scheme"
#define H2_HEADER_AUTHORITY ":authority"
#define H2_HEADER_STATUS ":status"
#define H2_HEADER_PROTOCOL ":protocol"
#define H2_HEADER_CONTENT_TYPE "content-type"
#define H2_HEADER_CONTENT_LENGTH "content-length"

/* h2_header_find returns the first header named |name| (lower-case, NUL-
 * terminated) in |hdrs|, or NULL. */
const h2_header *h2_header_find(const h2_header *hdrs, size_t n, const char *name);

/* Flags given with received header blocks (Node's `flags` argument). */
enum {
  H2_FLAG_END_STREAM_RCVD = 0x1, /* the block carried END_STREAM */
};

/* ---- Settings (Node's names; RFC 9113 §6.5.2) ------------------------------ */

typedef struct h2_settings {
  uint32_t header_table_size;      /* default 4096 */
  uint32_t enable_push;            /* 0 or 1; default 1 (a server sends 0) */
  uint32_t max_concurrent_streams; /* default 0xffffffff (= unlimited) */
  uint32_t initial_window_size;    /* default 65535, max 2^31-1 */
  uint32_t max_frame_size;         /* 16384 .. 2^24-1, default 16384 */
  uint32_t max_header_list_size;   /* default 65535 */
  uint32_t enable_connect_protocol;/* 0 or 1, default 0 (RFC 8441) */
  /* Which of the fields above are given (H2_HAS_* bits; Node's settings
   * object has only the properties set). Read by h2_settings_pack, set by
   * h2_settings_unpack; h2_settings_default and the settings the session
   * reports (callbacks, h2_session_local_settings ...) have every bit.
   * Every other function uses all seven fields whatever |present| says. */
  uint32_t present;
} h2_settings;

/* Bits of h2_settings.present: 1 << the setting's RFC 9113 identifier. */
#define H2_HAS_HEADER_TABLE_SIZE (1u << 0x1)
#define H2_HAS_ENABLE_PUSH (1u << 0x2)
#define H2_HAS_MAX_CONCURRENT_STREAMS (1u << 0x3)
#define H2_HAS_INITIAL_WINDOW_SIZE (1u << 0x4)
#define H2_HAS_MAX_FRAME_SIZE (1u << 0x5)
#define H2_HAS_MAX_HEADER_LIST_SIZE (1u << 0x6)
#define H2_HAS_ENABLE_CONNECT_PROTOCOL (1u << 0x8)
#define H2_HAS_ALL_SETTINGS                                                          \
  (H2_HAS_HEADER_TABLE_SIZE | H2_HAS_ENABLE_PUSH | H2_HAS_MAX_CONCURRENT_STREAMS |   \
   H2_HAS_INITIAL_WINDOW_SIZE | H2_HAS_MAX_FRAME_SIZE | H2_HAS_MAX_HEADER_LIST_SIZE | \
   H2_HAS_ENABLE_CONNECT_PROTOCOL)

/* h2_settings_default fills |s| with the defaults above, |present| with
 * H2_HAS_ALL_SETTINGS (Node's getDefaultSettings). */
void h2_settings_default(h2_settings *s);

/* h2_settings_validate checks every field against its range and returns 0,
 * or H2_ERR_INVALID_ARG with a message naming the field and the range
 * (h2_last_error_message). */
int h2_settings_validate(const h2_settings *s);

/* h2_settings_pack (Node's getPackedSettings) writes the settings whose
 * bit is in s->present, each checked against its range (the others are
 * not read), as a SETTINGS payload into |out| (capacity |cap|; 42 is
 * enough): 6 octets each (16-bit identifier, 32-bit value, network
 * order), in Node's order, which is the identifiers' (1, 2, 3, 4, 5, 6,
 * 8). {enable_push = 0, present = H2_HAS_ENABLE_PUSH} gives the 6 octets
 * 00 02 00 00 00 00; present 0 gives nothing. Returns the length written,
 * H2_ERR_BUF_TOO_SMALL (nothing written) or H2_ERR_INVALID_ARG (a given
 * value out of range, message set). */
int h2_settings_pack(uint8_t *out, size_t cap, const h2_settings *s);

/* h2_settings_unpack (Node's getUnpackedSettings) reads a packed SETTINGS
 * payload: the value of each known identifier it holds goes into its field
 * of |s| (a later entry for the same identifier wins), the other fields
 * keep what they held (start from h2_settings_default), and s->present is
 * set to the H2_HAS_* bits of the identifiers seen, exactly (0 for an
 * empty payload). Unknown identifiers are skipped. The values read are
 * checked against their ranges. Returns 0; H2_ERR_FRAME_SIZE (length not
 * a multiple of 6) or H2_ERR_INVALID_ARG (a value out of range, message
 * set), |s| then unchanged. */
int h2_settings_unpack(h2_settings *s, const uint8_t *in, size_t len);

/* ---- Options ---------------------------------------------------------------- */

typedef struct h2_options {
  /* Initial SETTINGS sent to the peer (Node's `settings`): set has_settings
   * and fill |settings| (start from h2_settings_default). has_settings = 0
   * means the defaults. */
  int has_settings;
  h2_settings settings;

  uint32_t max_deflate_dynamic_table_size; /* encoder table cap; 0 = 4096 */
  uint32_t max_session_memory_mb;          /* 0 = 10 (Node's default;
                                              H2_DEFAULT_SESSION_MEMORY_MB);
                                              1..1048576: what the engine
                                              may hold (HPACK tables, queued
                                              frames, copies) */
  uint32_t max_header_list_pairs;          /* 0 = 128; min 4 */
  uint32_t max_outstanding_pings;          /* 0 = 10; 1..16
                                              (H2_MAX_OUTSTANDING_PINGS):
                                              larger values are refused by
                                              h2_options_validate */
  uint32_t max_send_header_block_length;   /* 0 = 64 KiB: an outbound header
                                              list larger than this, or than
                                              the peer's MAX_HEADER_LIST_SIZE
                                              (names + values + 32 per field,
                                              an upper bound of its HPACK
                                              size), is refused (H2_ERR_LIMIT):
                                              on a stream, on_frame_error and
                                              the stream is closed (see
                                              h2_stream_callbacks) */
  uint32_t peer_max_concurrent_streams;    /* 0 = 100: client requests in
                                              flight before the peer's first
                                              SETTINGS (more wait) */
  uint32_t max_session_invalid_frames;     /* 0 = 1000: stream errors the
                                              peer may cause (in a burst; the
                                              budget refills at 33/s) before
                                              GOAWAY ENHANCE_YOUR_CALM */
  uint32_t max_session_rejected_streams;   /* server; 0 = 100 */
  uint32_t max_reserved_remote_streams;    /* client; 0 = 200 (Node's
                                              default; H2_DEFAULT_MAX_RESERVED_
                                              REMOTE_STREAMS): pushed streams
                                              promised and not yet answered;
                                              beyond, promises are refused */

  /* Per-stream write buffering above which h2_stream_write reports
   * back-pressure (returns 0). 0 = 64 KiB. */
  uint32_t stream_high_water_mark;

  /* Connection-level receive window we advertise with a WINDOW_UPDATE right
   * after the preface (0 = keep 65535). Large values speed up downloads. */
  uint32_t connection_window_size;

  /* Padding of HEADERS, PUSH_PROMISE and DATA frames (Node's
   * paddingStrategy): H2_PADDING_NONE (default), H2_PADDING_MAX (255 octets
   * where allowed), H2_PADDING_ALIGNED (the whole frame, 9-octet header
   * included, to a multiple of 8 where allowed), H2_PADDING_CALLBACK (ask
   * |select_padding|). DATA padding counts against flow control and never
   * exceeds the windows; HEADERS padding costs no window, goes in the first
   * frame of a block only and never exceeds the peer's MAX_FRAME_SIZE. */
  int padding_strategy;
  /* Node's selectPadding: for a frame of |frame_len| payload octets that
   * may carry up to |max_frame_len| - |frame_len| octets of padding, returns
   * the padded length (frame_len..max_frame_len; outside values are
   * clipped; the Pad Length octet is not counted). |user| is the session's
   * user pointer. Called while output is produced, once per padded frame. */
  size_t (*select_padding)(size_t frame_len, size_t max_frame_len, void *user);

  /* Client only: TLS context to use for https:// (NULL: h2_connect makes
   * one that verifies against the system store); insecure = 1 is curl -k;
   * ca_file adds trust anchors. */
  h2_tls_ctx *tls_ctx;
  int insecure;
  const char *ca_file;

  /* Client only (Node's `protocol`): the scheme h2_connect uses for an
   * authority without one: "https:" (NULL, the default: TLS) or "http:"
   * (h2c prior knowledge); anything else is refused by
   * h2_options_validate. A scheme in the URL wins. */
  const char *protocol;

  /* Server only (Node's `origins`; clients ignore them): |num_origins|
   * URLs whose origins (derived as h2_session_origin does: http/https,
   * visible ASCII, "https://example.com/x" -> "https://example.com") make
   * up an ORIGIN frame (RFC 8336) queued right after the server's SETTINGS
   * on every server session, TLS and h2c alike, as Node does (a client,
   * Node's or ours, ignores ORIGIN on h2c). h2_options_validate checks
   * them (at most 256, one frame); h2_server_new keeps a copy,
   * h2_session_new reads them during the call. */
  const char *const *origins;
  size_t num_origins;

  /* h2_session_new only: the caller's transport is encrypted (TLS), as
   * Node's session.encrypted for a TLS socket: h2_session_encrypted
   * returns 1, h2_session_alpn_protocol "h2", a client's requests default
   * to :scheme https, and a client honours ORIGIN frames (on_origin, its
   * origin set), which it ignores on h2c. */
  int encrypted;

  /* Allocator for everything the session's engine allocates (NULL: libc
   * malloc behind a per-thread cache of freed blocks up to 1,032 bytes, at most
   * 8 MiB per thread, which spares busy connections malloc's slow path). */
  const h2_mem *mem;

  /* Node's PerformanceObserver 'http2' entries: keep per-session and
   * per-stream metrics, read with h2_session_get_metrics / h2_stream_get_metrics.
   * Off by default: on, a session holds about 100 more bytes, each stream
   * about 60, and every frame in and out is counted through the engine's
   * frame events. */
  int enable_metrics;

  /* Node's sentHeaders / sentInfoHeaders / sentTrailers: keep a copy of
   * every header block a stream sends (h2_stream_sent_headers ...), freed
   * with the stream. Off by default (it costs a copy per block). */
  int keep_sent_headers;

  /* Time limits against slow peers (slowloris); 0 = the default, 10000 ms;
   * H2_TIMEOUT_NONE disables. A peer that trickles bytes keeps the idle
   * timeout (h2_session_set_timeout) from firing; these do not move.
   * handshake_timeout_ms (server only; Node's tls.Server handshakeTimeout,
   * but covering HTTP/2's own handshake too): from the accept, the TLS
   * handshake (over TLS), the client's connection preface and its first
   * SETTINGS frame must all have arrived within this long. Else the
   * connection is closed: a TLS client still in its handshake is reported
   * to the server's on_session_error and the session's on_error
   * (H2_ERR_TIMEOUT, "TLS handshake not completed in time"); a client that
   * did not send the whole 24-octet preface magic gets no GOAWAY (it may
   * not speak HTTP/2); one whose SETTINGS frame did not arrive gets GOAWAY
   * PROTOCOL_ERROR (RFC 9113 3.4: an incomplete preface). on_error gets
   * H2_ERR_TIMEOUT and a message naming the limit. For a session over the
   * application's own transport (h2_session_new) the clock starts at the
   * first time the engine is given: h2_session_feed's or h2_session_tick's
   * |now_ms|, or for an earlier h2_session_pending 0 (it uses the time of
   * the last feed or tick): call h2_session_tick(s, now) first when the
   * clock does not start near 0.
   * headers_timeout_ms (both roles; Node's http.Server headersTimeout, per
   * header block): a header block (HEADERS or PUSH_PROMISE and its
   * CONTINUATION frames) must be complete within this long of its first
   * frame header, else GOAWAY ENHANCE_YOUR_CALM and on_error (H2_ERR_TIMEOUT,
   * "header block not completed in time"): while a block is open nothing
   * else may arrive on the connection (RFC 9113 6.10). */
  uint32_t handshake_timeout_ms;
  uint32_t headers_timeout_ms;
} h2_options;

/* H2_TIMEOUT_NONE in h2_options.handshake_timeout_ms / headers_timeout_ms:
 * no limit. */
#define H2_TIMEOUT_NONE 0xffffffffu

/* Defaults of h2_options fields left 0 (Node's), and the cap of
 * max_outstanding_pings (PINGs in flight are kept in a fixed table of
 * this size, here and in the engine). */
#define H2_DEFAULT_SESSION_MEMORY_MB 10
#define H2_DEFAULT_MAX_RESERVED_REMOTE_STREAMS 200
#define H2_MAX_OUTSTANDING_PINGS 16

/* h2_options.padding_strategy values. */
#define H2_PADDING_NONE 0
#define H2_PADDING_MAX 1
#define H2_PADDING_ALIGNED 2
#define H2_PADDING_CALLBACK 3

/* h2_options_default zeroes |o| (every field's default applies). */
void h2_options_default(h2_options *o);

/* h2_options_validate checks |o| (including its settings) and returns 0 or
 * H2_ERR_INVALID_ARG with a message (h2_last_error_message): values out of
 * the ranges above (max_outstanding_pings over H2_MAX_OUTSTANDING_PINGS
 * included) are refused, never cut down. */
int h2_options_validate(const h2_options *o);

/* h2_last_error_message returns the message of the last validation error of
 * the calling thread ("" if none). Static thread-local storage. */
const char *h2_last_error_message(void);

/* ---- Session events ------------------------------------------------------ */

typedef struct h2_session_callbacks {
  /* 'connect': the connection is up (TLS handshake done, preface sent). */
  void (*on_connect)(h2_session *s, void *user);
  /* 'stream': a new stream from the peer: a request on a server (|hdrs| are
   * the request headers), a pushed stream on a client (|hdrs| are the
   * promised request headers). Set the stream's callbacks here. */
  void (*on_stream)(h2_session *s, h2_stream *st, const h2_header *hdrs, size_t n,
                    unsigned flags, void *user);
  /* 'localSettings': the peer ACKed our SETTINGS; they are in effect now. */
  void (*on_local_settings)(h2_session *s, const h2_settings *settings, void *user);
  /* 'remoteSettings': the peer sent SETTINGS (already applied and ACKed). */
  void (*on_remote_settings)(h2_session *s, const h2_settings *settings, void *user);
  /* 'ping': the peer sent a PING (the ACK is sent automatically). */
  void (*on_ping)(h2_session *s, const uint8_t payload[8], void *user);
  /* 'goaway': the peer sent GOAWAY. The session then shuts down by itself
   * once the streams it may still finish are done. */
  void (*on_goaway)(h2_session *s, uint32_t error_code, uint32_t last_stream_id,
                    const uint8_t *opaque, size_t opaque_len, void *user);
  /* 'frameError': a frame could not be sent. |type| is its frame type
   * (H2_FRAME_HEADERS = 1, ...), |err| the reason (negative h2_err),
   * |stream_id| the stream it belonged to:
   *   > 0: the stream's own on_frame_error ran just before this one, and
   *        the stream is then closed (see h2_stream_callbacks.on_frame_error).
   *   0:   a frame of the connection itself (a SETTINGS or PING ACK the
   *        engine could not queue: H2_ERR_NOMEM). As in Node, the session
   *        is destroyed right after: on_error (the connection error,
   *        GOAWAY INTERNAL_ERROR when it can still be written), its streams'
   *        on_close, then on_close (a session over the caller's transport:
   *        once h2_session_pending has nothing more to hand out).
   * Calls that refuse a header block before any stream exists for it
   * (h2_session_request, h2_stream_push: H2_ERR_LIMIT) report nothing
   * here: the return value says it, and no stream or session changes. */
  void (*on_frame_error)(h2_session *s, unsigned type, int err, uint32_t stream_id,
                         void *user);
  /* 'timeout': no activity for the h2_session_set_timeout period. */
  void (*on_timeout)(h2_session *s, void *user);
  /* 'error': the session failed (protocol error from the peer, transport
   * failure, TLS failure...). on_close follows. */
  void (*on_error)(h2_session *s, int err, const char *message, void *user);
  /* 'close': the session is gone; last callback; the handle is freed after
   * it returns (loop-driven sessions). */
  void (*on_close)(h2_session *s, void *user);
  /* 'altsvc' (client): an ALTSVC frame (RFC 7838); |origin| is empty when
   * the frame was stream-scoped (|stream_id| > 0). */
  void (*on_altsvc)(h2_session *s, const char *alt, size_t alt_len, const char *origin,
                    size_t origin_len, uint32_t stream_id, void *user);
  /* 'origin' (client, TLS sessions only, as Node): an ORIGIN frame (RFC
   * 8336) on stream 0 with |n| entries: every entry of the frame, as
   * received (not NUL-terminated; |lens| gives their lengths; malformed
   * ones included, which the origin set skips). The arrays are valid
   * during the call. A frame of more than 64 entries needs one allocation
   * of 16 octets per entry (the frame holds at least 2 per entry); if it
   * fails, on_origin is not called for that frame (the set is updated all
   * the same). On h2c the frame is ignored: no call, no origin set. */
  void (*on_origin)(h2_session *s, const char *const *origins, const size_t *lens, size_t n,
                    void *user);
} h2_session_callbacks;

/* ---- Stream events ------------------------------------------------------- */

typedef struct h2_stream_callbacks {
  /* 'response' (client): the final response headers. */
  void (*on_response)(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags,
                      void *user);
  /* 'headers': an informational (1xx) block; 'continue' is a 100 here. */
  void (*on_headers)(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags,
                     void *user);
  /* 'push' (client, pushed stream): the pushed response's headers. */
  void (*on_push)(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags,
                  void *user);
  /* 'data': body bytes (valid during the call). Consumed (the flow-control
   * window reopened) when the callback returns unless the stream is paused
   * (h2_stream_pause): then call h2_stream_consume yourself. */
  void (*on_data)(h2_stream *st, const uint8_t *data, size_t len, void *user);
  /* 'end': the peer ended its side (END_STREAM). */
  void (*on_end)(h2_stream *st, void *user);
  /* 'trailers': trailing headers (END_STREAM follows implicitly). */
  void (*on_trailers)(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags,
                      void *user);
  /* 'wantTrailers': all data queued with H2_WAIT_FOR_TRAILERS was sent;
   * call h2_stream_send_trailers (or h2_stream_close). */
  void (*on_want_trailers)(h2_stream *st, void *user);
  /* 'drain': buffered outbound bytes fell below the high-water mark after a
   * write returned 0. */
  void (*on_drain)(h2_stream *st, void *user);
  /* 'aborted': reset mid-exchange while our side was still writable. */
  void (*on_aborted)(h2_stream *st, void *user);
  /* 'timeout': no activity for the h2_stream_set_timeout period. */
  void (*on_timeout)(h2_stream *st, void *user);
  /* 'ready' (client requests only): the request got its stream id
   * (h2_stream_id is non-zero from now on). Runs once, never from inside
   * h2_session_request (callbacks are set after it returns): a request
   * that opens at once gets it when the session next writes (for a
   * session still connecting: after on_connect), before its HEADERS
   * reach the transport; a request that had to wait (the peer's
   * MAX_CONCURRENT_STREAMS, or peer_max_concurrent_streams before its
   * SETTINGS) gets it when a stream closes or SETTINGS make room and it
   * opens, after the writes made while it waited were queued. A request
   * closed or reset before then, or one that never opens (REFUSED_STREAM),
   * gets no on_ready. Node emits 'ready' from request() itself when the
   * session is connected, where no listener can see it yet. */
  void (*on_ready)(h2_stream *st, void *user);
  /* 'frameError': a frame of this stream could not be sent: |type| (1 =
   * HEADERS), |err| (H2_ERR_LIMIT: the header list, name + value + 32 per
   * field, is over maxSendHeaderBlockLength or the peer's
   * SETTINGS_MAX_HEADER_LIST_SIZE; H2_ERR_NOMEM: trailers the engine could
   * not encode), |stream_id| (0 for a request still waiting for its id).
   * Reported both synchronously, from inside the h2_stream_respond /
   * h2_stream_additional_headers / h2_stream_send_trailers call that then
   * returns the error, and from output (trailers that no longer fit a
   * limit the peer lowered after they were queued). The session's
   * on_frame_error follows (not for a stream without an id), then the
   * stream is closed: RST_STREAM INTERNAL_ERROR (2) if it has an id, and
   * on_close with rst_code 2 (unless a callback closed it first with its
   * own code). Nothing of the refused block is sent. */
  void (*on_frame_error)(h2_stream *st, unsigned type, int err, uint32_t stream_id, void *user);
  /* 'error': the stream failed (RST from the peer with a non-zero code,
   * frame error, ...). on_close follows. */
  void (*on_error)(h2_stream *st, int err, void *user);
  /* 'close': last callback; |rst_code| is the RST_STREAM code (0 = clean).
   * The handle is freed after it returns. */
  void (*on_close)(h2_stream *st, uint32_t rst_code, void *user);
} h2_stream_callbacks;

/* ---- Server ------------------------------------------------------------- */

typedef struct h2_server_callbacks {
  /* Every server session gets these callbacks (user = server's user). */
  h2_session_callbacks session;
  /* 'session': a new session was created (before any stream). */
  void (*on_session)(h2_server *srv, h2_session *s, void *user);
  /* 'sessionError' / 'tlsClientError' / 'unknownProtocol': connection-level
   * failures before or outside a session: accept failure, a TLS handshake
   * that fails (|err| H2_ERR_TLS with BoringSSL's reason) or that the peer
   * leaves (H2_ERR_EOF), no "h2" from ALPN. For a connection that already
   * had on_session, that session's on_error (not for H2_ERR_EOF) and
   * on_close follow. */
  void (*on_session_error)(h2_server *srv, int err, const char *message, void *user);
  /* Node's allowHTTP1 / 'unknownProtocol' as a hand-off: a TLS client
   * finished its handshake with "http/1.1" or without ALPN, which the
   * listener's context accepts only after h2_tls_ctx_set_alpn(ctx,
   * H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11). With this callback set, the
   * application gets the connection: |fd| (non-blocking, no longer watched
   * by the loop) and |tls| (handshake done; it may already hold the
   * client's first bytes, read them with h2_tls_conn_read, and output to
   * flush: h2_tls_conn_out_peek). Both are the application's from then on:
   * close(fd), h2_tls_conn_free(tls) (the context lives as long as |tls|).
   * The session on_session announced then closes quietly (on_close, no
   * error). Unset: the connection is closed and reported through
   * on_session_error (H2_ERR_TLS, "the peer did not negotiate h2"). */
  void (*on_unknown_protocol)(h2_server *srv, int fd, h2_tls_conn *tls, void *user);
} h2_server_callbacks;

/* h2_server_new creates a server on |loop|. |opts| (copied, may be NULL) is
 * given to every session; |cbs| is copied. Returns 0, H2_ERR_NOMEM or
 * H2_ERR_INVALID_ARG (options). */
int h2_server_new(h2_server **out, h2_loop *loop, const h2_options *opts,
                  const h2_server_callbacks *cbs, void *user);

/* h2_server_listen starts listening on |host| (numeric IPv4/IPv6 or a name;
 * NULL = all interfaces) |port| (0 = pick a free one; h2_server_port tells).
 * With |tls| (not NULL, must outlive the server; certificates added) the
 * listener speaks TLS with ALPN "h2", else h2c with prior knowledge. May be
 * called several times (e.g. h2c on one port, TLS on another). Returns the
 * listener index (>= 0) or H2_ERR_IO (errno set) / H2_ERR_NOMEM. */
int h2_server_listen(h2_server *srv, const char *host, uint16_t port, h2_tls_ctx *tls);

/* h2_server_port returns the port of listener |index| (0 if none). */
uint16_t h2_server_port(const h2_server *srv, int index);

/* h2_server_close stops accepting (Node's server.close) and closes every
 * live session gracefully (h2_session_close: GOAWAY, the streams in flight
 * finish); |done| (may be NULL) runs once the last one has closed. Bound
 * the wait with a timer and h2_server_free if it must not take long. */
void h2_server_close(h2_server *srv, void (*done)(h2_server *srv, void *user));

/* h2_server_free closes every listener and destroys every session at once
 * (their on_close callbacks run), then frees |srv|. NULL is fine. */
void h2_server_free(h2_server *srv);

/* h2_server_set_timeout sets the inactivity timeout for new sessions on
 * every listener (ms, 0 = none; Node's server.setTimeout). Sessions
 * already live keep theirs. Until it is called, each listener has Node's
 * default for its kind: 120000 (120 s) on a TLS listener (Node's
 * createSecureServer), 0 (none) on an h2c one (createServer). */
void h2_server_set_timeout(h2_server *srv, uint64_t ms);

/* h2_server_get_timeout returns the inactivity timeout (ms, 0 = none) that
 * sessions accepted on listener |index| (h2_server_listen's result) get:
 * the value of h2_server_set_timeout if it was called, else the default of
 * the listener's kind (120000 TLS, 0 h2c). With |index| -1: the value set,
 * or 0 if h2_server_set_timeout was never called. An unknown |index|
 * returns 0. */
uint64_t h2_server_get_timeout(const h2_server *srv, int index);

/* h2_server_set_max_connections caps the live sessions (Node's
 * server.maxConnections; 0, the default, means no cap): a connection
 * accepted while |max| sessions live is closed at once and reported through
 * on_session_error (H2_ERR_LIMIT, "connection limit reached ..."). Sessions
 * already live are not touched when the cap is lowered. */
void h2_server_set_max_connections(h2_server *srv, size_t max);

/* h2_server_num_sessions returns the number of live sessions. */
size_t h2_server_num_sessions(const h2_server *srv);

/* ---- Client ------------------------------------------------------------- */

/* h2_connect starts a client session to |authority| ("https://host[:port]"
 * or "http://host[:port]"; user-info, path, query and fragment ignored;
 * without a scheme, h2_options.protocol says which: "https:" by default,
 * or "http:"). http uses h2c prior knowledge.
 * Name resolution is synchronous (getaddrinfo); connecting, the TLS
 * handshake and the preface are asynchronous: on_connect fires when done.
 * The addresses of the name (at most 8) are tried in the resolver's order,
 * each but the last for at most 2 s, the last for 10 s; when all fail,
 * on_error gets one message with the reason and the count, then on_close.
 * Requests may be made at once (they are queued). Returns 0 and the session
 * in |*out|, or H2_ERR_INVALID_ARG (bad URL / options, message set),
 * H2_ERR_IO (resolution or socket failure), H2_ERR_TLS, H2_ERR_NOMEM. */
int h2_connect(h2_session **out, h2_loop *loop, const char *authority,
               const h2_options *opts, const h2_session_callbacks *cbs, void *user);

/* Flags for h2_session_request, h2_stream_respond, h2_stream_push. */
enum {
  H2_END_STREAM = 1,        /* no body follows (Node's endStream) */
  H2_WAIT_FOR_TRAILERS = 2, /* emit on_want_trailers instead of ending */
};

/* Priority (RFC 7540 tree) for requests and h2_stream_priority. */
typedef struct h2_priority {
  uint32_t parent;   /* stream id depended on; 0 = root */
  uint16_t weight;   /* 1..256; 0 = 16 */
  int exclusive;
  int silent;        /* h2_stream_priority: change our own priority tree
                        (and so what we send first) without sending a
                        PRIORITY frame; the peer keeps its view */
} h2_priority;

/* h2_session_request (client) opens a stream with |hdrs|; :method defaults
 * to GET, :path to /, :scheme and :authority to the session's. A CONNECT
 * (RFC 9113 §8.5) gets no default: give :authority, and neither :scheme
 * nor :path; an extended CONNECT (RFC 8441: with :protocol, once the
 * peer's SETTINGS allow it) gets the defaults of any request. |prio| may
 * be NULL. The headers are checked at once (RFC 9113 §8: names, values,
 * pseudo-headers, connection-specific fields, the CONNECT rules), also when
 * the request has to wait: a bad one fails the call with
 * H2_ERR_INVALID_ARG and a message (h2_last_error_message), no stream.
 * The stream is returned in |*out| at once (Node: pending until the
 * session is up). When the peer's MAX_CONCURRENT_STREAMS is reached the
 * request waits (h2_stream_id 0; writes, end and priority are kept) and
 * opens, in order, as streams close; if it can never open (GOAWAY, close)
 * it closes with REFUSED_STREAM (7), safe to retry. The stream's on_ready
 * tells when it has its id. Returns 0, H2_ERR_STATE (not a client session,
 * or closing), H2_ERR_INVALID_ARG (bad header
 * or priority; message set), H2_ERR_LIMIT (stream ids
 * exhausted, or the header list is over maxSendHeaderBlockLength or the
 * peer's SETTINGS_MAX_HEADER_LIST_SIZE: no stream is made and no
 * on_frame_error runs; Node would return a stream and report 'frameError'
 * on it), H2_ERR_NOMEM. A waiting request whose headers stop fitting
 * because the peer lowered its limit gets its stream's on_frame_error
 * (stream_id 0) and closes with INTERNAL_ERROR. */
int h2_session_request(h2_session *s, h2_stream **out, const h2_header *hdrs, size_t n,
                       unsigned flags, const h2_priority *prio);

/* ---- Session operations -------------------------------------------------- */

/* h2_session_settings sends a SETTINGS frame with |settings| (validated);
 * they take effect when ACKed (on_local_settings). */
int h2_session_settings(h2_session *s, const h2_settings *settings);

/* h2_session_ping sends a PING with |payload| (8 bytes, or NULL for an
 * 8-byte timestamp). |cb| runs with the round-trip time in milliseconds when
 * the ACK arrives (err 0), or with an error if the session ends first.
 * Returns 0, H2_ERR_LIMIT (max_outstanding_pings reached: Node returns
 * false), H2_ERR_STATE, H2_ERR_NOMEM. */
typedef void (*h2_ping_cb)(h2_session *s, int err, double rtt_ms, const uint8_t payload[8],
                           void *user);
int h2_session_ping(h2_session *s, const uint8_t *payload, h2_ping_cb cb, void *user);

/* h2_session_goaway sends a GOAWAY without closing (Node's goaway()).
 * |last_stream_id| UINT32_MAX means "the last stream we processed". */
int h2_session_goaway(h2_session *s, uint32_t code, uint32_t last_stream_id,
                      const uint8_t *opaque, size_t opaque_len);

/* h2_session_altsvc (server; Node's altsvc(alt, originOrStream)) sends an
 * ALTSVC frame (RFC 7838) advertising |alt| (an Alt-Svc field value, e.g.
 * "h2=\":8443\"; ma=60", or "clear"; its syntax is not checked, as in
 * Node), either for an origin on stream 0 (|stream_id| 0) or scoped to a
 * stream (|origin| NULL or ""); one of the two, never both. |origin| is a
 * URL whose origin is sent (as h2_session_origin derives it:
 * "https://Example.com:443/x" sends "https://example.com"); |stream_id|
 * must name a stream of |s| that is open (not idle, not closed). |alt| may
 * hold tab, space and visible ASCII but '\\' (Node's ERR_INVALID_CHAR);
 * 2 + origin + alt octets must fit one frame (16384, Node's
 * ERR_HTTP2_ALTSVC_LENGTH). Returns 0, H2_ERR_STATE (a client, or the
 * session is gone), H2_ERR_INVALID_ARG (each rule above, with a message
 * naming it: h2_last_error_message), H2_ERR_NOMEM. */
int h2_session_altsvc(h2_session *s, const char *alt, const char *origin, uint32_t stream_id);

/* h2_session_origin (server; Node's origin(...origins)) sends an ORIGIN
 * frame (RFC 8336) with the origins of the |n| URLs of |origins|: each an
 * http:// or https:// URL of visible ASCII characters (Node's
 * ERR_INVALID_CHAR), whose origin is derived as Node's URL does it
 * (user-info, path, query and fragment dropped, scheme and host
 * lower-cased, the default port dropped: "https://user@Example.COM:443/a?b"
 * sends "https://example.com"; a URL without one is Node's
 * ERR_HTTP2_INVALID_ORIGIN). At most 256 origins, and 2 + length each
 * within one frame of 16384 octets (Node's ERR_HTTP2_ORIGIN_LENGTH). |n| 0
 * sends nothing and returns 0 (Node). The strings are read during the call
 * only. Returns 0, H2_ERR_STATE (a client, or the session is gone),
 * H2_ERR_INVALID_ARG (message: h2_last_error_message; nothing sent),
 * H2_ERR_NOMEM. See also h2_options.origins. */
int h2_session_origin(h2_session *s, const char *const *origins, size_t n);

/* Bounds of a client's origin set: entries (the connection's own included)
 * and octets (terminating NULs included). Origins beyond them are dropped. */
#define H2_ORIGIN_SET_MAX_ENTRIES 64
#define H2_ORIGIN_SET_MAX_BYTES 8192

/* h2_session_origin_set (client) returns the session's origin set (RFC 8336
 * §2.3) and points |*out| at its entries, NUL-terminated ASCII
 * serializations of origins (RFC 6454: "scheme://host[:port]", lower case,
 * default port omitted). The first entry is the origin of the connection
 * (from h2_connect's URL; "https://localhost" for h2_session_new sessions);
 * the others are added, once each, from ORIGIN frames the server sent on
 * stream 0, in order of arrival (entries that are not such origins are
 * skipped). Until an ORIGIN frame arrives the set holds the first entry
 * only; the RFC then lets the client treat any origin the connection is
 * authoritative for (certificate) as in the set. Only TLS sessions have
 * one (Node's originSet is undefined on h2c): unencrypted sessions (h2c,
 * h2_session_new without h2_options.encrypted) return 0 and ignore ORIGIN
 * frames. The array and strings
 * belong to |s| and stay valid until |s| processes more input (loop
 * events, h2_session_feed) or is freed; inside on_origin they already
 * include that frame's origins. Server sessions: returns 0, |*out| NULL.
 * Returns the number of entries (0 when out of memory, or when the
 * connection's own origin does not parse and no ORIGIN frame added any). */
size_t h2_session_origin_set(h2_session *s, const char *const **out);

/* h2_session_close closes gracefully: GOAWAY(NO_ERROR), no new streams,
 * existing streams finish, then the session closes (on_close). */
void h2_session_close(h2_session *s);

/* h2_session_destroy tears the session down now: GOAWAY with |code| (if the
 * transport is up), every stream closed (their on_close with |code|, or
 * CANCEL when it is 0), then the session's on_close. A transport-less
 * session ignores input from then on and tears down once
 * h2_session_pending has handed out the GOAWAY (then returns NULL). */
void h2_session_destroy(h2_session *s, uint32_t code);

/* h2_session_set_timeout arms an inactivity timer (ms; 0 disarms). Without
 * an on_timeout callback the session is closed when it fires. */
void h2_session_set_timeout(h2_session *s, uint64_t ms);

/* h2_session_ref / h2_session_unref: whether this session keeps its loop
 * alive (default: yes). */
void h2_session_ref(h2_session *s);
void h2_session_unref(h2_session *s);

/* Node's session.state and friends. Windows are the connection's
 * (stream 0); "received" counts DATA octets, padding included. */
typedef struct h2_session_state {
  int64_t effective_local_window_size; /* the receive window the peer has
                                          been granted in all: what it may
                                          still send plus
                                          effective_recv_data_length */
  int64_t effective_recv_data_length;  /* received and not yet given back
                                          to the peer by a WINDOW_UPDATE
                                          (consumed or not: a WINDOW_UPDATE
                                          goes out once half the window was
                                          consumed) */
  uint32_t next_stream_id;
  int64_t local_window_size;           /* what the peer may still send */
  uint32_t last_proc_stream_id;
  int64_t remote_window_size;
  size_t outbound_queue_size;      /* bytes waiting to be sent */
  size_t deflate_dynamic_table_size;
  size_t inflate_dynamic_table_size;
  size_t num_streams;              /* open streams */
} h2_session_state;

/* h2_session_get_state fills |out|. */
void h2_session_get_state(const h2_session *s, h2_session_state *out);

/* h2_session_local_settings / h2_session_remote_settings copy the settings
 * in effect. */
void h2_session_local_settings(const h2_session *s, h2_settings *out);
void h2_session_remote_settings(const h2_session *s, h2_settings *out);

/* Flags and accessors. */
int h2_session_is_server(const h2_session *s);
int h2_session_closed(const h2_session *s);     /* close() or destroy() began */
int h2_session_destroyed(const h2_session *s);  /* destroy() began (Node's
                                                   destroyed; not set by a
                                                   graceful close) */
int h2_session_connecting(const h2_session *s);
int h2_session_encrypted(const h2_session *s); /* TLS (or h2_options.encrypted) */
/* 1 while a SETTINGS frame of ours waits for its ACK: from creation (the
 * initial SETTINGS) until the peer acks it, and after each
 * h2_session_settings until that one is acked (Node's pendingSettingsAck). */
int h2_session_pending_settings_ack(const h2_session *s);
const char *h2_session_alpn_protocol(const h2_session *s); /* "h2", "h2c", NULL */

/* ---- Socket and TLS details (Node's session.socket / request.socket:
 * remoteAddress, remotePort, remoteFamily, localAddress, localPort,
 * servername, getProtocol(), getCipher(), getPeerCertificate().raw).
 * There is no way to read or write the socket itself through the API
 * (Node's ERR_HTTP2_NO_SOCKET_MANIPULATION); timeouts are the session's
 * (h2_session_set_timeout). A compat request reaches these through
 * h2_stream_session(h2_req_stream(req)). */

/* A numeric socket address. */
typedef struct h2_address {
  int family;        /* AF_INET or AF_INET6 (AF_UNIX: |address| is the path,
                        port 0) */
  uint16_t port;
  char address[108]; /* "127.0.0.1", "::1", ... (NUL-terminated) */
} h2_address;

/* h2_session_remote_address / h2_session_local_address ask the session's
 * socket (getpeername / getsockname, at the time of the call) and fill
 * |out|. Returns 0, H2_ERR_STATE (a session over the caller's own transport
 * (h2_session_new), or the socket is
 * gone), H2_ERR_IO (the system call failed, errno set; e.g. ENOTCONN
 * while a client is still connecting) or
 * H2_ERR_INVALID_ARG (NULL). */
int h2_session_remote_address(const h2_session *s, h2_address *out);
int h2_session_local_address(const h2_session *s, h2_address *out);

/* TLS details of an encrypted session once its handshake is done; NULL on
 * h2c sessions and before the handshake. Strings are static or live as long
 * as the session.
 *   h2_session_tls_version: "TLSv1.3", "TLSv1.2".
 *   h2_session_tls_cipher: the standard cipher suite name.
 *   h2_session_servername: a server session: the SNI name the client sent
 *     (NULL if none); a client session: the name it verified. */
const char *h2_session_tls_version(const h2_session *s);
const char *h2_session_tls_cipher(const h2_session *s);
const char *h2_session_servername(const h2_session *s);

/* h2_session_peer_certificate copies the DER encoding of the peer's leaf
 * certificate (the server's on a client session; the client's on a server
 * that asked for one, see h2_tls_ctx_set_client_auth) into |buf| (|cap|
 * bytes) and sets |*len| to its size. Returns 0, H2_ERR_STATE (h2c, or the
 * handshake is not done), H2_ERR_NOT_FOUND (the peer sent none) or
 * H2_ERR_BUF_TOO_SMALL (nothing copied; |*len| is the size needed; |buf|
 * may be NULL with |cap| 0 to ask). */
int h2_session_peer_certificate(const h2_session *s, uint8_t *buf, size_t cap, size_t *len);

/* ---- Metrics (Node's PerformanceObserver entries for 'Http2Session' and
 * 'Http2Stream'; only with h2_options.enable_metrics). Times are in ms:
 * the loop's clock (h2_loop_now) for loop sessions, the now_ms given to
 * h2_session_feed / h2_session_tick for sessions over the caller's
 * transport (which start at the first of them). Read them any time, also
 * from on_close (Node delivers its entries when the session or stream is
 * destroyed). */

typedef struct h2_session_metrics {
  int is_server;                     /* Node's type: "server" / "client" */
  uint64_t duration_ms;              /* since creation; frozen at close */
  uint64_t bytes_read;               /* HTTP/2 octets received (TLS: plaintext) */
  uint64_t bytes_written;            /* HTTP/2 octets handed to the transport */
  uint64_t frames_received;
  uint64_t frames_sent;
  uint32_t max_concurrent_streams;   /* most streams open at once */
  uint64_t stream_count;             /* streams that have closed */
  double stream_average_duration_ms; /* over those; 0 if none */
  double ping_rtt_ms;                /* last PING round trip; -1 if none */
} h2_session_metrics;

/* h2_session_get_metrics fills |out|. Returns 0, H2_ERR_STATE (metrics
 * not enabled) or H2_ERR_INVALID_ARG. */
int h2_session_get_metrics(const h2_session *s, h2_session_metrics *out);

typedef struct h2_stream_metrics {
  uint32_t id;                  /* 0 until a client stream starts */
  uint64_t start_ms;            /* when it was created, from the session's start */
  uint64_t duration_ms;         /* since then; frozen at close */
  uint64_t bytes_read;          /* DATA payload octets received */
  uint64_t bytes_written;       /* DATA payload octets sent */
  int64_t time_to_first_byte_ms;      /* first DATA received; -1 if none */
  int64_t time_to_first_byte_sent_ms; /* first DATA sent; -1 if none */
  int64_t time_to_first_header_ms;    /* first HEADERS received; -1 if none */
} h2_stream_metrics;

/* h2_stream_get_metrics fills |out|. Returns 0, H2_ERR_STATE (metrics not
 * enabled on its session) or H2_ERR_INVALID_ARG. */
int h2_stream_get_metrics(const h2_stream *st, h2_stream_metrics *out);

void *h2_session_user(const h2_session *s);
void h2_session_set_user(h2_session *s, void *user);
h2_server *h2_session_server(const h2_session *s);

/* h2_session_set_frame_trace installs a function that sees every frame sent
 * (|out| = 1) and received (|out| = 0) as a printable line (h2_frame_print
 * format): `h2 get -v`. NULL removes it. */
void h2_session_set_frame_trace(h2_session *s,
                                void (*trace)(h2_session *s, int out, const char *line,
                                              void *user),
                                void *user);

/* ---- Transport-agnostic sessions ----------------------------------------- */

typedef struct h2_session_transport {
  /* Output became available (h2_session_pending would return bytes). Called
   * at most once per iteration of feeding/API calls; may be NULL (poll). */
  void (*want_write)(h2_session *s, void *user);
  /* The session is done with the transport: close it after sending what
   * h2_session_pending still returns. */
  void (*close)(h2_session *s, void *user);
  void *user;
} h2_session_transport;

/* h2_session_new creates a session that runs over the caller's transport:
 * |is_server| selects the role; the transport counts as h2c unless
 * |opts|->encrypted (then https, ALPN "h2", and ORIGIN frames count). The client preface / server SETTINGS are
 * queued at once. on_connect fires right away (the transport is up). |tr|
 * (copied) may be NULL. Free with h2_session_free. */
int h2_session_new(h2_session **out, int is_server, const h2_options *opts,
                   const h2_session_callbacks *cbs, void *user, const h2_session_transport *tr);

/* h2_session_feed processes |len| received bytes at time |now_ms| (any
 * monotonic millisecond clock). Returns 0 or a negative h2_err when the
 * session failed (it then queued a GOAWAY: send it, then close). */
int h2_session_feed(h2_session *s, const uint8_t *data, size_t len, uint64_t now_ms);

/* h2_session_pending returns bytes ready to be sent (valid until the next
 * call on |s|) and their count in |*len|; NULL when there are none. */
const uint8_t *h2_session_pending(h2_session *s, size_t *len);

/* h2_session_consumed drops the first |n| bytes returned by
 * h2_session_pending (they were written to the transport). */
void h2_session_consumed(h2_session *s, size_t n);

/* h2_session_transport_closed tells the session the transport ended (|err|
 * 0 for a clean EOF). The session closes its streams and calls on_close. */
void h2_session_transport_closed(h2_session *s, int err);

/* h2_session_tick runs timers (session/stream timeouts, SETTINGS timeout,
 * the handshake and header-block time limits of h2_options) at |now_ms|;
 * call it now and then (once a second is enough; the time limits are then
 * enforced to within that period). */
void h2_session_tick(h2_session *s, uint64_t now_ms);

/* h2_session_free frees a transport-less session (NULL is fine). Streams
 * still open get their on_close first. Do not call it for loop-driven
 * sessions. */
void h2_session_free(h2_session *s);

/* ---- Stream operations ---------------------------------------------------- */

/* h2_stream_on sets the stream's callbacks (copied) and user pointer. */
void h2_stream_on(h2_stream *st, const h2_stream_callbacks *cbs, void *user);

/* h2_stream_respond (server) sends the response headers (:status required,
 * numeric, 200..599). |flags|: H2_END_STREAM (no body), H2_WAIT_FOR_TRAILERS.
 * Returns 0, H2_ERR_STATE (already responded / closed), H2_ERR_INVALID_ARG,
 * H2_ERR_LIMIT (the header list is over maxSendHeaderBlockLength or the
 * peer's SETTINGS_MAX_HEADER_LIST_SIZE: nothing is sent, on_frame_error
 * ran and the stream is being reset with INTERNAL_ERROR). */
int h2_stream_respond(h2_stream *st, const h2_header *hdrs, size_t n, unsigned flags);

/* h2_stream_additional_headers (server) sends an informational 1xx block
 * before the response. Errors as h2_stream_respond (H2_ERR_LIMIT: frame
 * error, the stream is reset). */
int h2_stream_additional_headers(h2_stream *st, const h2_header *hdrs, size_t n);

/* h2_stream_write queues |len| bytes (not copied: keep them valid until |cb|
 * runs) to send as DATA, subject to flow control. |cb| (may be NULL) runs
 * when the bytes were handed to the transport (err 0) or dropped (err < 0:
 * the stream closed first). Returns 1 if the buffered amount is below the
 * high-water mark, 0 if it is at or above it (back-pressure: wait for
 * on_drain), or a negative h2_err (H2_ERR_STATE after end/close). */
typedef void (*h2_write_cb)(h2_stream *st, int err, void *user);
int h2_stream_write(h2_stream *st, const uint8_t *data, size_t len, h2_write_cb cb,
                    void *user);

/* h2_stream_end_with writes |len| bytes (not copied, as h2_stream_write)
 * and ends our side after them (Node's end(chunk)): the last DATA frame
 * carries END_STREAM, and it costs one queued write instead of two. With
 * H2_WAIT_FOR_TRAILERS it is h2_stream_write then h2_stream_end. Returns 0
 * or a negative h2_err (H2_ERR_STATE after end/close or, on a server,
 * before respond). */
int h2_stream_end_with(h2_stream *st, const uint8_t *data, size_t len, h2_write_cb cb,
                       void *user);

/* h2_stream_write_copy is h2_stream_write on a private copy of the bytes:
 * the same return values and errors (H2_ERR_STATE after end/close, without
 * a connection, or on a server stream, pushed ones included, before
 * h2_stream_respond), and H2_ERR_NOMEM. */
int h2_stream_write_copy(h2_stream *st, const uint8_t *data, size_t len);

/* h2_stream_source pulls body bytes on demand (Node's respondWithFD): the
 * session calls |read| when the flow-control window allows; it fills up to
 * |cap| bytes into |buf| and returns the count, or 0 with *eof = 1 at the
 * end, or H2_ERR_WOULD_BLOCK (call h2_stream_resume_source later), or
 * another negative h2_err (the stream is reset with INTERNAL_ERROR). */
typedef int (*h2_source_read_fn)(h2_stream *st, uint8_t *buf, size_t cap, int *eof,
                                 void *user);
int h2_stream_set_source(h2_stream *st, h2_source_read_fn read, void *user);
void h2_stream_resume_source(h2_stream *st);

/* h2_stream_set_source_ex is h2_stream_set_source for a source that owns
 * state: |release| (may be NULL) runs exactly once with |user| when the
 * stream is freed (after its on_close), however it ended. When the call
 * fails, |release| is not called (the caller still owns |user|). */
int h2_stream_set_source_ex(h2_stream *st, h2_source_read_fn read, void (*release)(void *user),
                            void *user);

/* h2_stream_end ends our side: END_STREAM after the queued data (or
 * on_want_trailers with H2_WAIT_FOR_TRAILERS). */
int h2_stream_end(h2_stream *st);

/* h2_stream_send_trailers sends trailers (no pseudo-headers) with
 * END_STREAM after the queued data. Returns 0, H2_ERR_STATE,
 * H2_ERR_INVALID_ARG, H2_ERR_WOULD_BLOCK (earlier writes are still held
 * back, or the request has no stream id yet (see on_ready): nothing was
 * queued, call it again once they went out, e.g. from a write's
 * completion callback), H2_ERR_LIMIT (the block is over
 * maxSendHeaderBlockLength or the peer's SETTINGS_MAX_HEADER_LIST_SIZE:
 * on_frame_error ran and the stream is being reset with INTERNAL_ERROR;
 * a block that only stops fitting when its turn comes is reported the
 * same way, from output). */
int h2_stream_send_trailers(h2_stream *st, const h2_header *hdrs, size_t n);

/* h2_stream_close resets the stream with RST_STREAM |code| (Node's
 * close(code)); on_close follows. */
void h2_stream_close(h2_stream *st, uint32_t code);

/* h2_stream_priority changes the stream's RFC 7540 priority (Node's
 * stream.priority()): |prio->parent| (0 = root), |prio->weight| (1..256, 0
 * means 16) and |prio->exclusive| are applied to the session's own
 * priority tree, which orders what this side sends (the §5.3.3 rules:
 * an exclusive dependency adopts the parent's other children, a parent that
 * depends on the stream first moves up). Unless |prio->silent|, a PRIORITY
 * frame tells the peer too; with |prio->silent| nothing is sent. A request
 * still waiting for a stream id keeps it and opens with it (HEADERS
 * priority). |prio| is read during the call only. Returns 0,
 * H2_ERR_INVALID_ARG (weight > 256, or |parent| is the stream itself;
 * message set), H2_ERR_STATE (stream or session closed), H2_ERR_CLOSED
 * (connection failed), H2_ERR_NOMEM. In RFC 9218 mode (both sides sent
 * SETTINGS_NO_RFC7540_PRIORITIES) the tree is not used: the call is
 * accepted (and sent unless silent) but changes no local state. */
int h2_stream_priority(h2_stream *st, const h2_priority *prio);

/* h2_stream_push (server) promises a pushed stream with request headers
 * |hdrs| on |st| and returns it in |*out| (respond on it like on a
 * request). H2_ERR_STATE when the client disabled push or |st| is pushed;
 * H2_ERR_LIMIT when the promised request's header list is over
 * maxSendHeaderBlockLength or the peer's SETTINGS_MAX_HEADER_LIST_SIZE
 * (refused before the pushed stream exists: no on_frame_error, |st|
 * untouched). */
int h2_stream_push(h2_stream *st, h2_stream **out, const h2_header *hdrs, size_t n);

/* h2_stream_pause stops automatic consumption of received data (the peer
 * stalls once the window is used up); h2_stream_consume reopens the window
 * by |n| bytes; h2_stream_resume returns to automatic consumption. */
void h2_stream_pause(h2_stream *st);
void h2_stream_resume(h2_stream *st);
void h2_stream_consume(h2_stream *st, size_t n);

/* h2_stream_set_timeout arms an inactivity timer (ms; 0 disarms). Without
 * an on_timeout callback the stream is reset with CANCEL. */
void h2_stream_set_timeout(h2_stream *st, uint64_t ms);

/* Node's sentHeaders, sentInfoHeaders and sentTrailers (only with
 * h2_options.keep_sent_headers): the fields of the blocks this side sent on
 * |st| as they went out (names lower-cased, pseudo-headers first, the
 * :status or request pseudo-headers the API filled in included). The
 * arrays and strings belong to the stream: valid until its on_close
 * returns. Each returns the fields and sets |*n|, or NULL with |*n| 0 when
 * no such block was sent (or keeping is off). The 1xx blocks are numbered
 * from 0 in the order sent; at most 8 are kept. */
const h2_header *h2_stream_sent_headers(const h2_stream *st, size_t *n);
const h2_header *h2_stream_sent_trailers(const h2_stream *st, size_t *n);
size_t h2_stream_sent_info_count(const h2_stream *st);
const h2_header *h2_stream_sent_info_headers(const h2_stream *st, size_t i, size_t *n);

/* Node's stream.state. */
typedef struct h2_stream_status {
  int64_t local_window_size;
  int state;        /* H2_STREAM_STATE_* */
  int local_close;  /* our side ended */
  int remote_close; /* peer's side ended */
  uint32_t sum_dependency_weight; /* sum of the weights of the streams that
                                     depend on this one in our priority tree
                                     (Node's sumDependencyWeight); 0 when
                                     none, pending or closed */
  uint16_t weight;  /* RFC 7540 weight in our priority tree (either side may
                       have set it); for a pending or closed stream the
                       weight last given (16 by default) */
} h2_stream_status;

enum {
  H2_STREAM_STATE_IDLE = 0,
  H2_STREAM_STATE_RESERVED_LOCAL = 1,
  H2_STREAM_STATE_RESERVED_REMOTE = 2,
  H2_STREAM_STATE_OPEN = 3,
  H2_STREAM_STATE_HALF_CLOSED_LOCAL = 4,
  H2_STREAM_STATE_HALF_CLOSED_REMOTE = 5,
  H2_STREAM_STATE_CLOSED = 6,
};

/* h2_stream_get_state fills |*out| (Node's stream.state) from the
 * stream's current state; it never fails. */
void h2_stream_get_state(const h2_stream *st, h2_stream_status *out);
uint32_t h2_stream_id(const h2_stream *st);          /* 0 while pending */
size_t h2_stream_buffer_size(const h2_stream *st);   /* bytes queued to send */
int h2_stream_headers_sent(const h2_stream *st);
int h2_stream_push_allowed(const h2_stream *st);
int h2_stream_end_after_headers(const h2_stream *st);
int h2_stream_aborted(const h2_stream *st);
uint32_t h2_stream_rst_code(const h2_stream *st);
h2_session *h2_stream_session(const h2_stream *st);
void *h2_stream_user(const h2_stream *st);
void h2_stream_set_user(h2_stream *st, void *user);

#endif
