/* h2_frame.h: the HTTP/2 frame codec (RFC 9113 §4-6, plus the extension
 * frames ALTSVC (RFC 7838), ORIGIN (RFC 8336) and PRIORITY_UPDATE
 * (RFC 9218)).
 *
 * Pure functions, sans-IO, libc only, no allocation, no global state, safe to
 * call from any thread on distinct data.
 *
 * Receiving: once 9 bytes are buffered, h2_frame_parse_hdr() gives the frame
 * header and h2_frame_check_hdr() rejects an oversized frame before its
 * payload is buffered. Once the whole payload (hdr.length bytes) is buffered,
 * h2_frame_decode() validates it against every frame-level rule of §4-6 and
 * fills an h2_frame whose pointers point INTO the caller's payload bytes
 * (nothing is ever copied except the 8 PING bytes). h2_frame_parse() does both
 * over an h2_cbs cursor.
 *
 * Errors: h2_frame_decode() returns a negative h2_err (the negated RFC 9113
 * error code). Most are connection errors (send GOAWAY). A few are STREAM
 * errors (send RST_STREAM on hdr.stream_id and go on): for those
 * h2_frame_error_is_stream() returns 1, and the frame is still fully decoded
 * in |out| (so a HEADERS frame's field block can still be fed to HPACK to keep
 * the compression context in sync, RFC 9113 §4.3). The stream errors are:
 *   - WINDOW_UPDATE with increment 0 on a stream other than 0 (§6.9,
 *     PROTOCOL_ERROR); on stream 0 it is a connection error.
 *   - PRIORITY whose length is not 5 (§6.3, FRAME_SIZE_ERROR); |out| then
 *     holds no priority data.
 *   - HEADERS or PRIORITY whose stream depends on itself (§5.3.1,
 *     PROTOCOL_ERROR).
 * |out->err_desc| always names the rule that failed (static string).
 *
 * A PUSH_PROMISE promising stream 0 is a connection PROTOCOL_ERROR here
 * (0 is never a valid promised id; §6.6).
 *
 * Things this codec does NOT decide (connection state; the engine does): the
 * CONTINUATION sequence rule, stream states, which side may send
 * PUSH_PROMISE / PRIORITY_UPDATE, whether push is enabled, idle stream ids,
 * flow-control windows. Unknown frame types decode as H2_FRAME_UNKNOWN with
 * no error (the engine ignores them). Unknown flags are kept in hdr.flags and
 * otherwise ignored. The reserved bit of every 31-bit stream field is
 * ignored (masked off).
 *
 * Sending: every h2_frame_write_* appends exactly one frame (or, for the
 * *_block helpers, one HEADERS/PUSH_PROMISE plus CONTINUATIONs) to an h2_cbb.
 * Each reserves the whole frame at once: if it does not fit, nothing is
 * written, the builder's sticky error is set, and H2_ERR_BUF_TOO_SMALL is
 * returned. An argument that cannot go on the wire (stream id > 2^31-1,
 * payload > 2^24-1, padding > 255, stream 0 where a stream is required, ...)
 * returns H2_ERR_INVALID_ARG without touching the builder. Every writer
 * returns 0 on success. Writers never check |max_frame_size| except the
 * *_block helpers; callers keep frames within the peer's limit. */
#ifndef H2_FRAME_H
#define H2_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "h2_cbs.h"
#include "h2_err.h"

/* Frame types. */
#define H2_FRAME_DATA 0x0
#define H2_FRAME_HEADERS 0x1
#define H2_FRAME_PRIORITY 0x2
#define H2_FRAME_RST_STREAM 0x3
#define H2_FRAME_SETTINGS 0x4
#define H2_FRAME_PUSH_PROMISE 0x5
#define H2_FRAME_PING 0x6
#define H2_FRAME_GOAWAY 0x7
#define H2_FRAME_WINDOW_UPDATE 0x8
#define H2_FRAME_CONTINUATION 0x9
#define H2_FRAME_ALTSVC 0xa           /* RFC 7838 */
#define H2_FRAME_ORIGIN 0xc           /* RFC 8336 */
#define H2_FRAME_PRIORITY_UPDATE 0x10 /* RFC 9218 */
/* H2_FRAME_UNKNOWN is not a wire value: h2_frame.type for any other type
 * (the wire type stays in h2_frame.hdr.type). */
#define H2_FRAME_UNKNOWN 0x100

/* Flags. */
#define H2_FLAG_END_STREAM 0x1  /* DATA, HEADERS */
#define H2_FLAG_ACK 0x1         /* SETTINGS, PING */
#define H2_FLAG_END_HEADERS 0x4 /* HEADERS, PUSH_PROMISE, CONTINUATION */
#define H2_FLAG_PADDED 0x8      /* DATA, HEADERS, PUSH_PROMISE */
#define H2_FLAG_PRIORITY 0x20   /* HEADERS */

/* SETTINGS identifiers (RFC 9113 §6.5.2, RFC 8441, RFC 9218). */
#define H2_SETTINGS_HEADER_TABLE_SIZE 0x1
#define H2_SETTINGS_ENABLE_PUSH 0x2
#define H2_SETTINGS_MAX_CONCURRENT_STREAMS 0x3
#define H2_SETTINGS_INITIAL_WINDOW_SIZE 0x4
#define H2_SETTINGS_MAX_FRAME_SIZE 0x5
#define H2_SETTINGS_MAX_HEADER_LIST_SIZE 0x6
#define H2_SETTINGS_ENABLE_CONNECT_PROTOCOL 0x8
#define H2_SETTINGS_NO_RFC7540_PRIORITIES 0x9

/* Sizes and limits. */
#define H2_FRAME_HEADER_LEN 9
#define H2_CLIENT_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_CLIENT_PREFACE_LEN 24
#define H2_DEFAULT_MAX_FRAME_SIZE 16384u /* also the smallest legal value */
#define H2_MIN_MAX_FRAME_SIZE 16384u
#define H2_MAX_MAX_FRAME_SIZE 16777215u /* 2^24-1 */
#define H2_MAX_STREAM_ID 0x7fffffffu
#define H2_MAX_WINDOW 0x7fffffffu /* 2^31-1: window and increment limit */
#define H2_DEFAULT_INITIAL_WINDOW_SIZE 65535u
#define H2_DEFAULT_HEADER_TABLE_SIZE 4096u
#define H2_DEFAULT_WEIGHT 16

/* h2_frame_hdr is the 9-octet frame header. |stream_id| never has the
 * reserved bit set. */
typedef struct h2_frame_hdr {
  uint32_t length; /* payload length, 0 .. 2^24-1 */
  uint8_t type;
  uint8_t flags;
  uint32_t stream_id;
} h2_frame_hdr;

/* h2_frame_prio is RFC 7540 priority data (HEADERS with PRIORITY, and the
 * PRIORITY frame). |weight| is the real weight 1..256 (wire value + 1). */
typedef struct h2_frame_prio {
  uint32_t dependency; /* stream depended on, reserved bit cleared */
  uint16_t weight;     /* 1..256 */
  uint8_t exclusive;   /* 0 or 1 */
} h2_frame_prio;

/* h2_frame_setting is one SETTINGS entry. */
typedef struct h2_frame_setting {
  uint16_t id;
  uint32_t value;
} h2_frame_setting;

/* h2_frame is one decoded frame. Every pointer points into the payload
 * passed to h2_frame_decode() and is valid as long as those bytes are. For
 * padded frames (hdr.flags & H2_FLAG_PADDED) |pad_len| is the Pad Length
 * field; flow control counts the whole hdr.length, padding included. */
typedef struct h2_frame {
  h2_frame_hdr hdr;
  int type;             /* hdr.type, or H2_FRAME_UNKNOWN */
  uint8_t pad_len;      /* DATA/HEADERS/PUSH_PROMISE with PADDED, else 0 */
  uint8_t stream_error; /* see h2_frame_error_is_stream() */
  /* ignore is 1 when the RFC says to discard this frame silently: an ALTSVC
   * with an origin on a non-zero stream, without one on stream 0, or
   * malformed (RFC 7838 §4); an ORIGIN on a non-zero stream or malformed
   * (RFC 8336 §2). Decode still returns 0 for those. */
  uint8_t ignore;
  const char *err_desc; /* static; why decode failed or ignored, else NULL */
  union {
    struct {
      const uint8_t *data; /* points into the input: never copied */
      size_t len;          /* without Pad Length field and padding */
    } data;
    struct {
      const uint8_t *fragment; /* field block fragment */
      size_t fragment_len;
      uint8_t has_priority; /* hdr.flags & H2_FLAG_PRIORITY */
      h2_frame_prio prio;   /* valid when has_priority */
    } headers;
    h2_frame_prio priority;
    struct {
      uint32_t error_code;
    } rst_stream;
    struct {
      const uint8_t *raw; /* hdr.length bytes: 6 per entry */
      size_t num_entries; /* hdr.length / 6; 0 for an ACK */
    } settings;
    struct {
      uint32_t promised_id; /* reserved bit cleared */
      const uint8_t *fragment;
      size_t fragment_len;
    } push_promise;
    struct {
      uint8_t opaque[8]; /* copied */
    } ping;
    struct {
      uint32_t last_stream_id; /* reserved bit cleared */
      uint32_t error_code;
      const uint8_t *debug;
      size_t debug_len;
    } goaway;
    struct {
      uint32_t increment; /* reserved bit cleared; 1..2^31-1 unless error */
    } window_update;
    struct {
      const uint8_t *fragment;
      size_t fragment_len;
    } continuation;
    struct {
      const uint8_t *origin; /* empty on a non-zero stream */
      size_t origin_len;
      const uint8_t *value; /* Alt-Svc field value */
      size_t value_len;
    } altsvc;
    struct {
      const uint8_t *payload; /* iterate with h2_frame_origin_next() */
      size_t payload_len;
      size_t num_origins;
    } origin;
    struct {
      uint32_t stream_id; /* prioritized stream, reserved bit cleared */
      const uint8_t *value; /* Priority field value (RFC 9218 §4) */
      size_t value_len;
    } priority_update;
    struct {
      const uint8_t *payload;
      size_t payload_len;
    } unknown;
  } u;
} h2_frame;

/* h2_frame_parse_hdr parses the 9-octet frame header at |buf| into |out|,
 * clearing the reserved bit. Returns 0, or H2_ERR_INCOMPLETE when |len| < 9
 * (|out| untouched). Reads exactly 9 bytes. */
int h2_frame_parse_hdr(const uint8_t *buf, size_t len, h2_frame_hdr *out);

/* h2_frame_check_hdr applies the one rule that needs only the header: a
 * payload longer than |max_frame_size| (our SETTINGS_MAX_FRAME_SIZE) is a
 * connection error. Call it before buffering the payload. Returns 0,
 * H2_ERR_FRAME_SIZE, or H2_ERR_INVALID_ARG if |max_frame_size| is outside
 * 16384..2^24-1. */
int h2_frame_check_hdr(const h2_frame_hdr *hdr, uint32_t max_frame_size);

/* h2_frame_decode decodes the one complete frame with header |hdr| and
 * payload |payload|/|payload_len| (which must equal hdr->length, else
 * H2_ERR_INVALID_ARG) into |out|, checking every frame-level rule of
 * RFC 9113 §4-6 (see the file comment) and the settings value rules of
 * §6.5.2 (ENABLE_PUSH, ENABLE_CONNECT_PROTOCOL and NO_RFC7540_PRIORITIES must
 * be 0 or 1, INITIAL_WINDOW_SIZE <= 2^31-1 else FLOW_CONTROL_ERROR,
 * MAX_FRAME_SIZE within 16384..2^24-1; unknown ids are accepted).
 * Reads the payload only through h2_cbs and never past |payload_len|.
 * Returns 0 or a negative h2_err; on error |out->err_desc| says why and
 * h2_frame_error_is_stream() tells stream from connection errors. */
int h2_frame_decode(const h2_frame_hdr *hdr, const uint8_t *payload, size_t payload_len,
                    uint32_t max_frame_size, h2_frame *out);

/* h2_frame_parse reads one frame from the front of |in|: header, size check,
 * payload, decode. Returns H2_ERR_INCOMPLETE (|in| unchanged) when |in| does
 * not hold the whole frame, H2_ERR_FRAME_SIZE (|in| unchanged) for an
 * oversized frame, otherwise advances |in| past the frame and returns what
 * h2_frame_decode() returned. |out| points into |in|'s bytes. On
 * INCOMPLETE and on an oversized frame |out| is zeroed except err_desc and,
 * when the 9 header bytes were there, hdr and type. */
int h2_frame_parse(h2_cbs *in, uint32_t max_frame_size, h2_frame *out);

/* h2_frame_error_is_stream returns 1 when the error h2_frame_decode() just
 * returned for |f| is a stream error (RST_STREAM f->hdr.stream_id with the
 * code h2_err_rfc_code(err)), 0 when it is a connection error (GOAWAY). */
static inline int h2_frame_error_is_stream(const h2_frame *f) { return f->stream_error; }

/* h2_frame_settings_get sets |*out| to SETTINGS entry |i| of the decoded
 * SETTINGS frame |f|. Returns 1, or 0 if |i| >= num_entries. */
int h2_frame_settings_get(const h2_frame *f, size_t i, h2_frame_setting *out);

/* h2_frame_settings_next reads the next entry from |it| (initialize it with
 * h2_cbs_init(it, f->u.settings.raw, f->hdr.length)). Returns 1, or 0 at
 * the end. */
int h2_frame_settings_next(h2_cbs *it, h2_frame_setting *out);

/* h2_frame_origin_next reads the next origin of a decoded, not ignored
 * ORIGIN frame from |it| (initialize it with h2_cbs_init(it,
 * f->u.origin.payload, f->u.origin.payload_len)). Sets |*out| to the
 * ASCII-Origin bytes (pointing into the payload; may be empty). Returns 1,
 * or 0 at the end or on a malformed entry. */
int h2_frame_origin_next(h2_cbs *it, h2_cbs *out);

/* --- Serializers (see the file comment for the shared contract). --- */

/* h2_frame_write_hdr writes a 9-octet frame header. H2_ERR_INVALID_ARG if
 * hdr->length > 2^24-1 or hdr->stream_id > 2^31-1. */
int h2_frame_write_hdr(h2_cbb *b, const h2_frame_hdr *hdr);

/* h2_frame_write_data writes a DATA frame on |stream_id| (> 0) carrying
 * |len| bytes of |data|. |flags| may hold H2_FLAG_END_STREAM (and unknown
 * bits); H2_FLAG_PADDED is set iff |pad_len| >= 0, in which case a Pad Length
 * field and |pad_len| (<= 255) zero octets are added. */
int h2_frame_write_data(h2_cbb *b, uint32_t stream_id, uint8_t flags, const uint8_t *data,
                        size_t len, int pad_len);

/* h2_frame_write_headers writes one HEADERS frame with field block fragment
 * |frag|/|frag_len|. |flags| may hold END_STREAM and END_HEADERS; PADDED is
 * set iff |pad_len| >= 0, PRIORITY iff |prio| is non-NULL (weight 1..256,
 * dependency <= 2^31-1). */
int h2_frame_write_headers(h2_cbb *b, uint32_t stream_id, uint8_t flags, const h2_frame_prio *prio,
                           const uint8_t *frag, size_t frag_len, int pad_len);

/* h2_frame_write_priority writes a PRIORITY frame for |stream_id| (> 0). */
int h2_frame_write_priority(h2_cbb *b, uint32_t stream_id, const h2_frame_prio *prio);

/* h2_frame_write_rst_stream writes RST_STREAM on |stream_id| (> 0) with the
 * wire |error_code| (e.g. h2_err_rfc_code(err)). */
int h2_frame_write_rst_stream(h2_cbb *b, uint32_t stream_id, uint32_t error_code);

/* h2_frame_write_settings writes a SETTINGS frame (no ACK) holding the
 * |num| entries of |settings| in order; values are not checked. */
int h2_frame_write_settings(h2_cbb *b, const h2_frame_setting *settings, size_t num);

/* h2_frame_write_settings_ack writes an empty SETTINGS frame with ACK. */
int h2_frame_write_settings_ack(h2_cbb *b);

/* h2_frame_write_push_promise writes one PUSH_PROMISE on |stream_id| (> 0)
 * promising |promised_id| (1..2^31-1). Flags and padding as for HEADERS. */
int h2_frame_write_push_promise(h2_cbb *b, uint32_t stream_id, uint8_t flags,
                                uint32_t promised_id, const uint8_t *frag, size_t frag_len,
                                int pad_len);

/* h2_frame_write_ping writes a PING with the 8 octets of |opaque|; |flags|
 * is H2_FLAG_ACK for a reply, else 0. */
int h2_frame_write_ping(h2_cbb *b, uint8_t flags, const uint8_t opaque[8]);

/* h2_frame_write_goaway writes GOAWAY with |last_stream_id| (<= 2^31-1),
 * the wire |error_code| and |debug_len| bytes of |debug| (may be NULL when
 * 0). */
int h2_frame_write_goaway(h2_cbb *b, uint32_t last_stream_id, uint32_t error_code,
                          const uint8_t *debug, size_t debug_len);

/* h2_frame_write_window_update writes WINDOW_UPDATE on |stream_id| (0 for
 * the connection) with |increment| 1..2^31-1. */
int h2_frame_write_window_update(h2_cbb *b, uint32_t stream_id, uint32_t increment);

/* h2_frame_write_continuation writes one CONTINUATION on |stream_id| (> 0);
 * |flags| may hold H2_FLAG_END_HEADERS. */
int h2_frame_write_continuation(h2_cbb *b, uint32_t stream_id, uint8_t flags, const uint8_t *frag,
                                size_t frag_len);

/* h2_frame_write_altsvc writes ALTSVC (RFC 7838). On stream 0 |origin| must
 * be non-empty; on a stream > 0 it must be empty (|origin_len| 0), else
 * H2_ERR_INVALID_ARG. |value| is the Alt-Svc field value. */
int h2_frame_write_altsvc(h2_cbb *b, uint32_t stream_id, const uint8_t *origin, size_t origin_len,
                          const uint8_t *value, size_t value_len);

/* h2_frame_write_origin writes an ORIGIN frame (RFC 8336) on stream 0 with
 * the |num| origins of |origins| (each < 65536 bytes, ASCII serialized
 * origins such as "https://example.com"). */
int h2_frame_write_origin(h2_cbb *b, const h2_cbs *origins, size_t num);

/* h2_frame_write_priority_update writes PRIORITY_UPDATE (RFC 9218) on
 * stream 0 for |prioritized_id| (1..2^31-1) with the Priority field value
 * |value| (e.g. "u=1, i"). */
int h2_frame_write_priority_update(h2_cbb *b, uint32_t prioritized_id, const uint8_t *value,
                                   size_t value_len);

/* h2_frame_write_unknown writes a frame of any |type| with a raw payload
 * (extensions, tests). */
int h2_frame_write_unknown(h2_cbb *b, uint8_t type, uint8_t flags, uint32_t stream_id,
                           const uint8_t *payload, size_t len);

/* h2_frame_write_headers_block writes the whole field block |block| as one
 * HEADERS frame followed by as many CONTINUATION frames as needed, none with
 * a payload over |max_frame_size| (the peer's SETTINGS_MAX_FRAME_SIZE,
 * 16384..2^24-1). END_HEADERS goes on the last frame; END_STREAM from
 * |flags| on the HEADERS frame; |prio| as for h2_frame_write_headers (no
 * padding). All or nothing: on BUF_TOO_SMALL nothing is written. */
int h2_frame_write_headers_block(h2_cbb *b, uint32_t stream_id, uint8_t flags,
                                 const h2_frame_prio *prio, const uint8_t *block, size_t block_len,
                                 uint32_t max_frame_size);

/* h2_frame_write_push_promise_block is h2_frame_write_headers_block for
 * PUSH_PROMISE + CONTINUATION. */
int h2_frame_write_push_promise_block(h2_cbb *b, uint32_t stream_id, uint32_t promised_id,
                                      const uint8_t *block, size_t block_len,
                                      uint32_t max_frame_size);

/* h2_frame_write_padded_block is h2_frame_write_headers_block (|type|
 * H2_FRAME_HEADERS) or h2_frame_write_push_promise_block (|type|
 * H2_FRAME_PUSH_PROMISE, |prio| NULL, |flags| ignored) with PADDED set on
 * the first frame iff |pad_len| >= 0: a Pad Length octet and |pad_len|
 * (<= 255) zero octets, which count against |max_frame_size| and shorten
 * the first fragment. CONTINUATION frames carry no padding. Size it with
 * h2_frame_block_size(fixed + 1 + pad_len, ...). */
int h2_frame_write_padded_block(h2_cbb *b, uint8_t type, uint32_t stream_id, uint8_t flags,
                                const h2_frame_prio *prio, uint32_t promised_id,
                                const uint8_t *block, size_t block_len, uint32_t max_frame_size,
                                int pad_len);

/* h2_frame_block_size returns the bytes h2_frame_write_*_block needs for a
 * |block_len| block whose first frame has |first_extra| bytes of fixed
 * fields (5 for HEADERS with priority, 4 for PUSH_PROMISE, else 0), or 0
 * if |max_frame_size| is outside 16384..2^24-1 or |block_len| > SIZE_MAX/2. */
size_t h2_frame_block_size(size_t first_extra, size_t block_len, uint32_t max_frame_size);

/* h2_frame_encode writes the decoded frame |f| back to wire form, keeping
 * its flags (including unknown bits), padding length (zero padding) and
 * stream. For H2_FRAME_UNKNOWN it writes hdr.type with the raw payload.
 * |f| must be a frame h2_frame_decode() returned 0 for and did not mark
 * |ignore|; otherwise (or for a frame that cannot be put on the wire)
 * H2_ERR_INVALID_ARG. */
int h2_frame_encode(h2_cbb *b, const h2_frame *f);

/* --- Names and traces. --- */

/* h2_frame_type_name returns "DATA", "HEADERS", ..., "PRIORITY_UPDATE", or
 * "UNKNOWN" for any other |type|. Static string. */
const char *h2_frame_type_name(unsigned type);

/* h2_frame_setting_name returns "SETTINGS_HEADER_TABLE_SIZE", ... or
 * "UNKNOWN" for id |id|. Static string. */
const char *h2_frame_setting_name(uint16_t id);

/* h2_frame_print writes a one-line, human-readable form of the decoded
 * frame |f| into |buf| (|cap| bytes, always NUL-terminated when cap > 0),
 * like nghttp -v, e.g. "[DATA] stream=1 len=16384 flags=END_STREAM" or
 * "[SETTINGS] stream=0 len=12 flags=none MAX_CONCURRENT_STREAMS=100 ...".
 * No trailing newline. Returns the length the full line has (as snprintf),
 * so a result >= |cap| means it was truncated. */
size_t h2_frame_print(char *buf, size_t cap, const h2_frame *f);

#endif
