/* h2_err.c: messages and RFC code mapping for h2_err. */
#include "h2_err.h"

const char *h2_strerror(int err) {
  switch (err) {
    case H2_OK: return "success";
    case H2_ERR_PROTOCOL: return "protocol error";
    case H2_ERR_INTERNAL: return "internal error";
    case H2_ERR_FLOW_CONTROL: return "flow-control error";
    case H2_ERR_SETTINGS_TIMEOUT: return "settings not acknowledged in time";
    case H2_ERR_STREAM_CLOSED: return "frame received for a closed stream";
    case H2_ERR_FRAME_SIZE: return "frame size error";
    case H2_ERR_REFUSED_STREAM: return "stream refused";
    case H2_ERR_CANCEL: return "stream cancelled";
    case H2_ERR_COMPRESSION: return "header compression error";
    case H2_ERR_CONNECT: return "CONNECT tunnel error";
    case H2_ERR_ENHANCE_YOUR_CALM: return "peer exceeded a limit (enhance your calm)";
    case H2_ERR_INADEQUATE_SECURITY: return "inadequate transport security";
    case H2_ERR_HTTP_1_1_REQUIRED: return "HTTP/1.1 required";
    case H2_ERR_NOMEM: return "out of memory";
    case H2_ERR_INVALID_ARG: return "invalid argument";
    case H2_ERR_BUF_TOO_SMALL: return "output buffer too small";
    case H2_ERR_INCOMPLETE: return "input incomplete";
    case H2_ERR_STATE: return "operation not allowed in this state";
    case H2_ERR_NOT_FOUND: return "not found";
    case H2_ERR_LIMIT: return "local limit reached";
    case H2_ERR_IO: return "I/O error";
    case H2_ERR_TLS: return "TLS error";
    case H2_ERR_TIMEOUT: return "timed out";
    case H2_ERR_CLOSED: return "closed";
    case H2_ERR_WOULD_BLOCK: return "would block";
    case H2_ERR_EOF: return "peer closed the connection";
    case H2_ERR_PARSE: return "input does not parse";
    case H2_ERR_HPACK_TRUNCATED: return "HPACK: header block truncated";
    case H2_ERR_HPACK_INT_OVERFLOW: return "HPACK: integer overflow";
    case H2_ERR_HPACK_INDEX_ZERO: return "HPACK: index 0";
    case H2_ERR_HPACK_INDEX_RANGE: return "HPACK: index past the table";
    case H2_ERR_HPACK_HUFFMAN_PADDING: return "HPACK: bad Huffman padding";
    case H2_ERR_HPACK_HUFFMAN_EOS: return "HPACK: EOS inside a Huffman string";
    case H2_ERR_HPACK_SIZE_UPDATE_TOO_LARGE: return "HPACK: table size update above the limit";
    case H2_ERR_HPACK_SIZE_UPDATE_MISPLACED: return "HPACK: table size update not at block start";
    case H2_ERR_HPACK_STRING_TOO_LONG: return "HPACK: string runs past the end of input";
    case H2_ERR_HPACK_LIST_TOO_LARGE: return "HPACK: header list over the size limit";
    case H2_ERR_HPACK_TOO_MANY_FIELDS: return "HPACK: too many header fields";
    case H2_ERR_HPACK_FIELD_TOO_LONG: return "HPACK: header field over the length limit";
    default: return "unknown error";
  }
}

uint32_t h2_err_rfc_code(int err) {
  if (err >= 0) return 0;
  if (err >= -0xd) return (uint32_t)-err;
  if (err <= -200 && err >= -299) {
    if (err == H2_ERR_HPACK_LIST_TOO_LARGE || err == H2_ERR_HPACK_TOO_MANY_FIELDS ||
        err == H2_ERR_HPACK_FIELD_TOO_LONG)
      return 0xb; /* ENHANCE_YOUR_CALM: the block decoded, the peer overdid it */
    return 0x9;   /* COMPRESSION_ERROR */
  }
  return 0x2;     /* INTERNAL_ERROR */
}

const char *h2_err_rfc_name(uint32_t code) {
  static const char *const names[] = {
    "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
    "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",
    "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
    "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"};
  return code < sizeof names / sizeof names[0] ? names[code] : "UNKNOWN_ERROR";
}
