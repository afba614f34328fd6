/* frame_decode.c: validating frame decoder (RFC 9113 §4-6, RFC 7838,
 * RFC 8336, RFC 9218). One decode_<type> per frame type, each checking its
 * own payload, dispatched through a table. Payload bytes are read only
 * through h2_cbs; results point into the caller's payload. */
#include <string.h>

#include "h2_frame.h"

typedef int (*decode_fn)(h2_frame *f, h2_cbs *p);

/* Errors set |err_desc|; stream errors also set |stream_error|. */
static int conn_err(h2_frame *f, int err, const char *desc) {
  f->err_desc = desc;
  f->stream_error = 0;
  return err;
}

static int stream_err(h2_frame *f, int err, const char *desc) {
  f->err_desc = desc;
  f->stream_error = 1;
  return err;
}

static int ignore_frame(h2_frame *f, const char *desc) {
  f->ignore = 1;
  f->err_desc = desc;
  return 0;
}

/* strip_padding handles the Pad Length field of a PADDED frame: it reads
 * the field, then drops the padding from the end of |p| once the fixed
 * fields have been taken (|fixed| bytes). Padding longer than what remains
 * is a connection PROTOCOL_ERROR (§6.1, §6.2, §6.6). */
static int strip_padding(h2_frame *f, h2_cbs *p, size_t fixed) {
  if (!(f->hdr.flags & H2_FLAG_PADDED)) return 0;
  uint8_t pad;
  if (!h2_cbs_get_u8(p, &pad)) return conn_err(f, H2_ERR_FRAME_SIZE, "padded frame without Pad Length");
  if (h2_cbs_len(p) < fixed) return conn_err(f, H2_ERR_FRAME_SIZE, "frame too short for its fields");
  if ((size_t)pad > h2_cbs_len(p) - fixed)
    return conn_err(f, H2_ERR_PROTOCOL, "padding exceeds the frame payload");
  f->pad_len = pad;
  h2_cbs body = {NULL, 0}; /* the padding sits at the end */
  (void)h2_cbs_get_bytes(p, &body, h2_cbs_len(p) - pad);
  *p = body;
  return 0;
}

static void read_prio(h2_cbs *p, h2_frame_prio *out) {
  uint32_t dep = 0;
  uint8_t w = 0;
  /* callers have checked 5 bytes remain */
  (void)h2_cbs_get_u32(p, &dep);
  (void)h2_cbs_get_u8(p, &w);
  out->exclusive = (uint8_t)(dep >> 31);
  out->dependency = dep & H2_MAX_STREAM_ID;
  out->weight = (uint16_t)(w + 1);
}

static int decode_data(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id == 0) return conn_err(f, H2_ERR_PROTOCOL, "DATA on stream 0");
  int rv = strip_padding(f, p, 0);
  if (rv) return rv;
  f->u.data.data = h2_cbs_data(p);
  f->u.data.len = h2_cbs_len(p);
  return 0;
}

static int decode_headers(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id == 0) return conn_err(f, H2_ERR_PROTOCOL, "HEADERS on stream 0");
  int has_prio = (f->hdr.flags & H2_FLAG_PRIORITY) != 0;
  int rv = strip_padding(f, p, has_prio ? 5 : 0);
  if (rv) return rv;
  if (has_prio) {
    if (h2_cbs_len(p) < 5) return conn_err(f, H2_ERR_FRAME_SIZE, "HEADERS too short for priority");
    read_prio(p, &f->u.headers.prio);
    f->u.headers.has_priority = 1;
  }
  f->u.headers.fragment = h2_cbs_data(p);
  f->u.headers.fragment_len = h2_cbs_len(p);
  if (has_prio && f->u.headers.prio.dependency == f->hdr.stream_id)
    return stream_err(f, H2_ERR_PROTOCOL, "HEADERS stream depends on itself");
  return 0;
}

static int decode_priority(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id == 0) return conn_err(f, H2_ERR_PROTOCOL, "PRIORITY on stream 0");
  if (h2_cbs_len(p) != 5) return stream_err(f, H2_ERR_FRAME_SIZE, "PRIORITY length is not 5");
  read_prio(p, &f->u.priority);
  if (f->u.priority.dependency == f->hdr.stream_id)
    return stream_err(f, H2_ERR_PROTOCOL, "PRIORITY stream depends on itself");
  return 0;
}

static int decode_rst_stream(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id == 0) return conn_err(f, H2_ERR_PROTOCOL, "RST_STREAM on stream 0");
  if (h2_cbs_len(p) != 4 || !h2_cbs_get_u32(p, &f->u.rst_stream.error_code))
    return conn_err(f, H2_ERR_FRAME_SIZE, "RST_STREAM length is not 4");
  return 0;
}

static int check_setting(h2_frame *f, const h2_frame_setting *s) {
  switch (s->id) {
    case H2_SETTINGS_ENABLE_PUSH:
      if (s->value > 1) return conn_err(f, H2_ERR_PROTOCOL, "SETTINGS_ENABLE_PUSH not 0 or 1");
      break;
    case H2_SETTINGS_INITIAL_WINDOW_SIZE:
      if (s->value > H2_MAX_WINDOW)
        return conn_err(f, H2_ERR_FLOW_CONTROL, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
      break;
    case H2_SETTINGS_MAX_FRAME_SIZE:
      if (s->value < H2_MIN_MAX_FRAME_SIZE || s->value > H2_MAX_MAX_FRAME_SIZE)
        return conn_err(f, H2_ERR_PROTOCOL, "SETTINGS_MAX_FRAME_SIZE out of range");
      break;
    case H2_SETTINGS_ENABLE_CONNECT_PROTOCOL:
      if (s->value > 1)
        return conn_err(f, H2_ERR_PROTOCOL, "SETTINGS_ENABLE_CONNECT_PROTOCOL not 0 or 1");
      break;
    case H2_SETTINGS_NO_RFC7540_PRIORITIES:
      if (s->value > 1)
        return conn_err(f, H2_ERR_PROTOCOL, "SETTINGS_NO_RFC7540_PRIORITIES not 0 or 1");
      break;
    default:
      break;
  }
  return 0;
}

static int decode_settings(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id != 0) return conn_err(f, H2_ERR_PROTOCOL, "SETTINGS on a stream");
  if ((f->hdr.flags & H2_FLAG_ACK) && h2_cbs_len(p) != 0)
    return conn_err(f, H2_ERR_FRAME_SIZE, "SETTINGS ACK with a payload");
  if (h2_cbs_len(p) % 6 != 0)
    return conn_err(f, H2_ERR_FRAME_SIZE, "SETTINGS length not a multiple of 6");
  f->u.settings.raw = h2_cbs_data(p);
  f->u.settings.num_entries = h2_cbs_len(p) / 6;
  h2_frame_setting s;
  while (h2_frame_settings_next(p, &s)) {
    int rv = check_setting(f, &s);
    if (rv) return rv;
  }
  return 0;
}

static int decode_push_promise(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id == 0) return conn_err(f, H2_ERR_PROTOCOL, "PUSH_PROMISE on stream 0");
  int rv = strip_padding(f, p, 4);
  if (rv) return rv;
  uint32_t id;
  if (!h2_cbs_get_u32(p, &id)) return conn_err(f, H2_ERR_FRAME_SIZE, "PUSH_PROMISE too short");
  f->u.push_promise.promised_id = id & H2_MAX_STREAM_ID;
  f->u.push_promise.fragment = h2_cbs_data(p);
  f->u.push_promise.fragment_len = h2_cbs_len(p);
  if (f->u.push_promise.promised_id == 0)
    return conn_err(f, H2_ERR_PROTOCOL, "PUSH_PROMISE promises stream 0");
  return 0;
}

static int decode_ping(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id != 0) return conn_err(f, H2_ERR_PROTOCOL, "PING on a stream");
  if (h2_cbs_len(p) != 8 || !h2_cbs_copy(p, f->u.ping.opaque, 8))
    return conn_err(f, H2_ERR_FRAME_SIZE, "PING length is not 8");
  return 0;
}

static int decode_goaway(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id != 0) return conn_err(f, H2_ERR_PROTOCOL, "GOAWAY on a stream");
  uint32_t last, code;
  if (!h2_cbs_get_u32(p, &last) || !h2_cbs_get_u32(p, &code))
    return conn_err(f, H2_ERR_FRAME_SIZE, "GOAWAY shorter than 8");
  f->u.goaway.last_stream_id = last & H2_MAX_STREAM_ID;
  f->u.goaway.error_code = code;
  f->u.goaway.debug = h2_cbs_data(p);
  f->u.goaway.debug_len = h2_cbs_len(p);
  return 0;
}

static int decode_window_update(h2_frame *f, h2_cbs *p) {
  uint32_t inc;
  if (h2_cbs_len(p) != 4 || !h2_cbs_get_u32(p, &inc))
    return conn_err(f, H2_ERR_FRAME_SIZE, "WINDOW_UPDATE length is not 4");
  f->u.window_update.increment = inc & H2_MAX_WINDOW;
  if (f->u.window_update.increment == 0) {
    if (f->hdr.stream_id == 0)
      return conn_err(f, H2_ERR_PROTOCOL, "connection WINDOW_UPDATE with increment 0");
    return stream_err(f, H2_ERR_PROTOCOL, "stream WINDOW_UPDATE with increment 0");
  }
  return 0;
}

static int decode_continuation(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id == 0) return conn_err(f, H2_ERR_PROTOCOL, "CONTINUATION on stream 0");
  f->u.continuation.fragment = h2_cbs_data(p);
  f->u.continuation.fragment_len = h2_cbs_len(p);
  return 0;
}

static int decode_altsvc(h2_frame *f, h2_cbs *p) {
  uint16_t olen;
  h2_cbs origin;
  if (!h2_cbs_get_u16(p, &olen) || !h2_cbs_get_bytes(p, &origin, olen))
    return ignore_frame(f, "ALTSVC malformed");
  f->u.altsvc.origin = h2_cbs_data(&origin);
  f->u.altsvc.origin_len = h2_cbs_len(&origin);
  f->u.altsvc.value = h2_cbs_data(p);
  f->u.altsvc.value_len = h2_cbs_len(p);
  if (f->hdr.stream_id == 0 && olen == 0) return ignore_frame(f, "ALTSVC on stream 0 without origin");
  if (f->hdr.stream_id != 0 && olen != 0) return ignore_frame(f, "ALTSVC on a stream with an origin");
  return 0;
}

static int decode_origin(h2_frame *f, h2_cbs *p) {
  f->u.origin.payload = h2_cbs_data(p);
  f->u.origin.payload_len = h2_cbs_len(p);
  if (f->hdr.stream_id != 0) return ignore_frame(f, "ORIGIN on a stream");
  size_t n = 0;
  h2_cbs one;
  while (h2_cbs_len(p) > 0) {
    if (!h2_frame_origin_next(p, &one)) return ignore_frame(f, "ORIGIN malformed");
    n++;
  }
  f->u.origin.num_origins = n;
  return 0;
}

static int decode_priority_update(h2_frame *f, h2_cbs *p) {
  if (f->hdr.stream_id != 0) return conn_err(f, H2_ERR_PROTOCOL, "PRIORITY_UPDATE on a stream");
  uint32_t id;
  if (!h2_cbs_get_u32(p, &id)) return conn_err(f, H2_ERR_FRAME_SIZE, "PRIORITY_UPDATE too short");
  f->u.priority_update.stream_id = id & H2_MAX_STREAM_ID;
  f->u.priority_update.value = h2_cbs_data(p);
  f->u.priority_update.value_len = h2_cbs_len(p);
  if (f->u.priority_update.stream_id == 0)
    return conn_err(f, H2_ERR_PROTOCOL, "PRIORITY_UPDATE for stream 0");
  return 0;
}

static const decode_fn decoders[] = {
    [H2_FRAME_DATA] = decode_data,
    [H2_FRAME_HEADERS] = decode_headers,
    [H2_FRAME_PRIORITY] = decode_priority,
    [H2_FRAME_RST_STREAM] = decode_rst_stream,
    [H2_FRAME_SETTINGS] = decode_settings,
    [H2_FRAME_PUSH_PROMISE] = decode_push_promise,
    [H2_FRAME_PING] = decode_ping,
    [H2_FRAME_GOAWAY] = decode_goaway,
    [H2_FRAME_WINDOW_UPDATE] = decode_window_update,
    [H2_FRAME_CONTINUATION] = decode_continuation,
    [H2_FRAME_ALTSVC] = decode_altsvc,
    [H2_FRAME_ORIGIN] = decode_origin,
    [H2_FRAME_PRIORITY_UPDATE] = decode_priority_update,
};

static decode_fn decoder_for(uint8_t type) {
  return type < sizeof decoders / sizeof decoders[0] ? decoders[type] : NULL;
}

/* start_frame zeroes |out| and records the header and the frame type. */
static void start_frame(h2_frame *out, const h2_frame_hdr *hdr) {
  memset(out, 0, sizeof *out);
  out->hdr = *hdr;
  out->hdr.stream_id &= H2_MAX_STREAM_ID;
  out->type = decoder_for(hdr->type) ? hdr->type : H2_FRAME_UNKNOWN;
}

int h2_frame_parse_hdr(const uint8_t *buf, size_t len, h2_frame_hdr *out) {
  h2_cbs c;
  uint32_t length, sid;
  uint8_t type, flags;
  h2_cbs_init(&c, buf, len);
  if (!h2_cbs_get_u24(&c, &length) || !h2_cbs_get_u8(&c, &type) || !h2_cbs_get_u8(&c, &flags) ||
      !h2_cbs_get_u32(&c, &sid))
    return H2_ERR_INCOMPLETE;
  out->length = length;
  out->type = type;
  out->flags = flags;
  out->stream_id = sid & H2_MAX_STREAM_ID;
  return 0;
}

int h2_frame_check_hdr(const h2_frame_hdr *hdr, uint32_t max_frame_size) {
  if (max_frame_size < H2_MIN_MAX_FRAME_SIZE || max_frame_size > H2_MAX_MAX_FRAME_SIZE)
    return H2_ERR_INVALID_ARG;
  if (hdr->length > max_frame_size) return H2_ERR_FRAME_SIZE;
  return 0;
}

int h2_frame_decode(const h2_frame_hdr *hdr, const uint8_t *payload, size_t payload_len,
                    uint32_t max_frame_size, h2_frame *out) {
  start_frame(out, hdr);
  if (payload_len != hdr->length || (payload == NULL && payload_len != 0)) {
    out->err_desc = "payload length does not match the frame header";
    return H2_ERR_INVALID_ARG;
  }
  int rv = h2_frame_check_hdr(hdr, max_frame_size);
  if (rv == H2_ERR_INVALID_ARG) {
    out->err_desc = "max_frame_size out of range";
    return rv;
  }
  if (rv) return conn_err(out, rv, "frame larger than SETTINGS_MAX_FRAME_SIZE");
  h2_cbs p;
  h2_cbs_init(&p, payload, payload_len);
  decode_fn fn = decoder_for(hdr->type);
  if (fn == NULL) {
    out->u.unknown.payload = payload;
    out->u.unknown.payload_len = payload_len;
    return 0;
  }
  return fn(out, &p);
}

int h2_frame_parse(h2_cbs *in, uint32_t max_frame_size, h2_frame *out) {
  h2_frame_hdr hdr;
  int rv = h2_frame_parse_hdr(h2_cbs_data(in), h2_cbs_len(in), &hdr);
  if (rv) {
    memset(out, 0, sizeof *out);
    out->err_desc = "incomplete frame header";
    return rv;
  }
  rv = h2_frame_check_hdr(&hdr, max_frame_size);
  if (rv) {
    start_frame(out, &hdr);
    out->err_desc = rv == H2_ERR_FRAME_SIZE ? "frame larger than SETTINGS_MAX_FRAME_SIZE"
                                            : "max_frame_size out of range";
    return rv;
  }
  h2_cbs c = *in, payload;
  if (!h2_cbs_skip(&c, H2_FRAME_HEADER_LEN) || !h2_cbs_get_bytes(&c, &payload, hdr.length)) {
    start_frame(out, &hdr);
    out->err_desc = "incomplete frame payload";
    return H2_ERR_INCOMPLETE;
  }
  *in = c;
  return h2_frame_decode(&hdr, h2_cbs_data(&payload), h2_cbs_len(&payload), max_frame_size, out);
}

int h2_frame_settings_next(h2_cbs *it, h2_frame_setting *out) {
  h2_cbs c = *it;
  uint16_t id;
  uint32_t v;
  if (!h2_cbs_get_u16(&c, &id) || !h2_cbs_get_u32(&c, &v)) return 0;
  out->id = id;
  out->value = v;
  *it = c;
  return 1;
}

int h2_frame_settings_get(const h2_frame *f, size_t i, h2_frame_setting *out) {
  if (f->type != H2_FRAME_SETTINGS || i >= f->u.settings.num_entries) return 0;
  h2_cbs c;
  h2_cbs_init(&c, f->u.settings.raw, f->u.settings.num_entries * 6);
  if (!h2_cbs_skip(&c, i * 6)) return 0;
  return h2_frame_settings_next(&c, out);
}

int h2_frame_origin_next(h2_cbs *it, h2_cbs *out) {
  h2_cbs c = *it;
  uint16_t len;
  if (!h2_cbs_get_u16(&c, &len) || !h2_cbs_get_bytes(&c, out, len)) return 0;
  *it = c;
  return 1;
}
