/* h2_err.h: the one error space of h2.
 *
 * Every h2 function that can fail returns an int: 0 (or a non-negative count)
 * on success, a negative h2_err on failure. Codes -0x1 .. -0xd are the
 * RFC 9113 §7 error codes negated, so a protocol failure carries the code that
 * goes on the wire. Library errors sit at -100 and below; each one maps onto the
 * RFC code that h2_err_rfc_code() returns for it (for example every HPACK
 * decoding error maps to COMPRESSION_ERROR).
 *
 * This header is part of the libc-only core (hpack/ + h2core/). */
#ifndef H2_ERR_H
#define H2_ERR_H

#include <stdint.h>

typedef enum h2_err {
  H2_OK = 0,

  /* RFC 9113 §7 error codes, negated. */
  H2_ERR_PROTOCOL = -0x1,
  H2_ERR_INTERNAL = -0x2,
  H2_ERR_FLOW_CONTROL = -0x3,
  H2_ERR_SETTINGS_TIMEOUT = -0x4,
  H2_ERR_STREAM_CLOSED = -0x5,
  H2_ERR_FRAME_SIZE = -0x6,
  H2_ERR_REFUSED_STREAM = -0x7,
  H2_ERR_CANCEL = -0x8,
  H2_ERR_COMPRESSION = -0x9,
  H2_ERR_CONNECT = -0xa,
  H2_ERR_ENHANCE_YOUR_CALM = -0xb,
  H2_ERR_INADEQUATE_SECURITY = -0xc,
  H2_ERR_HTTP_1_1_REQUIRED = -0xd,

  /* Library errors (map to INTERNAL_ERROR unless noted). */
  H2_ERR_NOMEM = -100,        /* an allocation failed */
  H2_ERR_INVALID_ARG = -101,  /* the caller passed something invalid */
  H2_ERR_BUF_TOO_SMALL = -102,/* the output buffer cannot hold the result */
  H2_ERR_INCOMPLETE = -103,   /* more input is needed (not an error for streams) */
  H2_ERR_STATE = -104,        /* the call is not allowed in the current state */
  H2_ERR_NOT_FOUND = -105,    /* no such stream, entry, file, ... */
  H2_ERR_LIMIT = -106,        /* a configured local limit was reached */
  H2_ERR_IO = -110,           /* a system call failed (errno tells more) */
  H2_ERR_TLS = -111,          /* the TLS layer failed */
  H2_ERR_TIMEOUT = -112,      /* an operation timed out */
  H2_ERR_CLOSED = -113,       /* the session or stream is closed */
  H2_ERR_WOULD_BLOCK = -114,  /* no progress possible now; wait for an event */
  H2_ERR_EOF = -115,          /* the peer closed the transport */
  H2_ERR_PARSE = -116,        /* local input (a file, an option) does not parse */

  /* HPACK decoding errors (all map to COMPRESSION_ERROR, except the three
   * header-list limits, which map to ENHANCE_YOUR_CALM... see h2_err_rfc_code). */
  H2_ERR_HPACK_TRUNCATED = -200,       /* block ends inside a representation */
  H2_ERR_HPACK_INT_OVERFLOW = -201,    /* integer > 2^32-1 or too many octets */
  H2_ERR_HPACK_INDEX_ZERO = -202,      /* indexed field with index 0 */
  H2_ERR_HPACK_INDEX_RANGE = -203,     /* index past static + dynamic table */
  H2_ERR_HPACK_HUFFMAN_PADDING = -204, /* padding > 7 bits or not all ones */
  H2_ERR_HPACK_HUFFMAN_EOS = -205,     /* EOS symbol inside a string */
  H2_ERR_HPACK_SIZE_UPDATE_TOO_LARGE = -206, /* above the SETTINGS limit */
  H2_ERR_HPACK_SIZE_UPDATE_MISPLACED = -207, /* not at the start of a block */
  H2_ERR_HPACK_STRING_TOO_LONG = -208, /* string length past the input end */
  H2_ERR_HPACK_LIST_TOO_LARGE = -209,  /* header list size limit (HPACK bomb) */
  H2_ERR_HPACK_TOO_MANY_FIELDS = -210, /* field count limit */
  H2_ERR_HPACK_FIELD_TOO_LONG = -211,  /* one field's name+value over the limit */
} h2_err;

/* RFC 9113 §7 error codes as they go on the wire, positive (Node's
 * http2.constants.NGHTTP2_NO_ERROR ...): the |code| of h2_stream_close,
 * h2_session_goaway, h2_session_destroy, the rst_code of on_close, the
 * error_code of on_goaway. h2_err_rfc_name names them. */
enum {
  H2_CODE_NO_ERROR = 0x0,
  H2_CODE_PROTOCOL_ERROR = 0x1,
  H2_CODE_INTERNAL_ERROR = 0x2,
  H2_CODE_FLOW_CONTROL_ERROR = 0x3,
  H2_CODE_SETTINGS_TIMEOUT = 0x4,
  H2_CODE_STREAM_CLOSED = 0x5,
  H2_CODE_FRAME_SIZE_ERROR = 0x6,
  H2_CODE_REFUSED_STREAM = 0x7,
  H2_CODE_CANCEL = 0x8,
  H2_CODE_COMPRESSION_ERROR = 0x9,
  H2_CODE_CONNECT_ERROR = 0xa,
  H2_CODE_ENHANCE_YOUR_CALM = 0xb,
  H2_CODE_INADEQUATE_SECURITY = 0xc,
  H2_CODE_HTTP_1_1_REQUIRED = 0xd,
};

/* h2_strerror returns a static, human-readable message for |err| (any int; an
 * unknown code gets a generic message). Never returns NULL. */
const char *h2_strerror(int err);

/* h2_err_rfc_code returns the RFC 9113 error code to put on the wire for
 * |err|: the negation for -0x1..-0xd, COMPRESSION_ERROR (0x9) for HPACK
 * decoding errors, INTERNAL_ERROR (0x2) for the rest. 0 for |err| >= 0. */
uint32_t h2_err_rfc_code(int err);

/* h2_err_rfc_name returns the RFC 9113 name of wire error code |code|
 * ("PROTOCOL_ERROR", ...) or "UNKNOWN_ERROR" for codes it does not know. */
const char *h2_err_rfc_name(uint32_t code);

#endif
