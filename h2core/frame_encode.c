/* frame_encode.c: frame serializers. Each reserves its whole frame in the
 * caller's h2_cbb at once (all or nothing) and then fills it through a
 * builder over exactly that space. */
#include "h2_frame.h"

/* begin validates the header fields, reserves the frame (header + |len|)
 * in |b|, points |w| at it and writes the frame header into |w|. */
static int begin(h2_cbb *b, h2_cbb *w, size_t len, uint8_t type, uint8_t flags, uint32_t sid) {
  if (len > H2_MAX_MAX_FRAME_SIZE || sid > H2_MAX_STREAM_ID) return H2_ERR_INVALID_ARG;
  uint8_t *p = h2_cbb_space(b, H2_FRAME_HEADER_LEN + len);
  if (p == NULL) return H2_ERR_BUF_TOO_SMALL;
  h2_cbb_init(w, p, H2_FRAME_HEADER_LEN + len);
  h2_cbb_u24(w, (uint32_t)len);
  h2_cbb_u8(w, type);
  h2_cbb_u8(w, flags);
  h2_cbb_u32(w, sid);
  return 0;
}

static void zeros(h2_cbb *w, size_t n) {
  uint8_t *p = h2_cbb_space(w, n);
  if (p && n) memset(p, 0, n);
}

static int check_pad(int pad_len) { return pad_len >= -1 && pad_len <= 255; }

static size_t pad_overhead(int pad_len) { return pad_len >= 0 ? 1 + (size_t)pad_len : 0; }

static int check_prio(const h2_frame_prio *prio) {
  return prio == NULL || (prio->weight >= 1 && prio->weight <= 256 &&
                          prio->dependency <= H2_MAX_STREAM_ID && prio->exclusive <= 1);
}

static void put_prio(h2_cbb *w, const h2_frame_prio *prio) {
  h2_cbb_u32(w, prio->dependency | ((uint32_t)prio->exclusive << 31));
  h2_cbb_u8(w, (uint8_t)(prio->weight - 1));
}

int h2_frame_write_hdr(h2_cbb *b, const h2_frame_hdr *hdr) {
  if (hdr->length > H2_MAX_MAX_FRAME_SIZE || hdr->stream_id > H2_MAX_STREAM_ID)
    return H2_ERR_INVALID_ARG;
  uint8_t *p = h2_cbb_space(b, H2_FRAME_HEADER_LEN);
  if (p == NULL) return H2_ERR_BUF_TOO_SMALL;
  h2_cbb w;
  h2_cbb_init(&w, p, H2_FRAME_HEADER_LEN);
  h2_cbb_u24(&w, hdr->length);
  h2_cbb_u8(&w, hdr->type);
  h2_cbb_u8(&w, hdr->flags);
  h2_cbb_u32(&w, hdr->stream_id);
  return 0;
}

int h2_frame_write_data(h2_cbb *b, uint32_t stream_id, uint8_t flags, const uint8_t *data,
                        size_t len, int pad_len) {
  if (stream_id == 0 || !check_pad(pad_len) || (data == NULL && len != 0)) return H2_ERR_INVALID_ARG;
  flags = (uint8_t)(flags & ~H2_FLAG_PADDED);
  if (pad_len >= 0) flags |= H2_FLAG_PADDED;
  if (len > H2_MAX_MAX_FRAME_SIZE) return H2_ERR_INVALID_ARG;
  h2_cbb w;
  int rv = begin(b, &w, len + pad_overhead(pad_len), H2_FRAME_DATA, flags, stream_id);
  if (rv) return rv;
  if (pad_len >= 0) h2_cbb_u8(&w, (uint8_t)pad_len);
  h2_cbb_bytes(&w, data, len);
  if (pad_len > 0) zeros(&w, (size_t)pad_len);
  return 0;
}

/* write_fragment_frame writes HEADERS or PUSH_PROMISE: optional Pad Length,
 * optional priority (HEADERS) or promised id (PUSH_PROMISE), fragment,
 * padding. */
static int write_fragment_frame(h2_cbb *b, uint8_t type, uint32_t stream_id, uint8_t flags,
                                const h2_frame_prio *prio, uint32_t promised_id,
                                const uint8_t *frag, size_t frag_len, int pad_len) {
  if (stream_id == 0 || !check_pad(pad_len) || !check_prio(prio) || (frag == NULL && frag_len != 0))
    return H2_ERR_INVALID_ARG;
  if (frag_len > H2_MAX_MAX_FRAME_SIZE) return H2_ERR_INVALID_ARG;
  size_t fixed = 0;
  /* PRIORITY is HEADERS-only; on PUSH_PROMISE that bit is an unknown flag
   * and is kept as given. */
  flags = (uint8_t)(flags & ~H2_FLAG_PADDED);
  if (type == H2_FRAME_HEADERS) flags = (uint8_t)(flags & ~H2_FLAG_PRIORITY);
  if (type == H2_FRAME_PUSH_PROMISE) {
    if (promised_id == 0 || promised_id > H2_MAX_STREAM_ID) return H2_ERR_INVALID_ARG;
    fixed = 4;
  } else if (prio) {
    flags |= H2_FLAG_PRIORITY;
    fixed = 5;
  }
  if (pad_len >= 0) flags |= H2_FLAG_PADDED;
  h2_cbb w;
  int rv = begin(b, &w, pad_overhead(pad_len) + fixed + frag_len, type, flags, stream_id);
  if (rv) return rv;
  if (pad_len >= 0) h2_cbb_u8(&w, (uint8_t)pad_len);
  if (type == H2_FRAME_PUSH_PROMISE)
    h2_cbb_u32(&w, promised_id);
  else if (prio)
    put_prio(&w, prio);
  h2_cbb_bytes(&w, frag, frag_len);
  if (pad_len > 0) zeros(&w, (size_t)pad_len);
  return 0;
}

int h2_frame_write_headers(h2_cbb *b, uint32_t stream_id, uint8_t flags, const h2_frame_prio *prio,
                           const uint8_t *frag, size_t frag_len, int pad_len) {
  return write_fragment_frame(b, H2_FRAME_HEADERS, stream_id, flags, prio, 0, frag, frag_len,
                              pad_len);
}

int h2_frame_write_push_promise(h2_cbb *b, uint32_t stream_id, uint8_t flags,
                                uint32_t promised_id, const uint8_t *frag, size_t frag_len,
                                int pad_len) {
  return write_fragment_frame(b, H2_FRAME_PUSH_PROMISE, stream_id, flags, NULL, promised_id, frag,
                              frag_len, pad_len);
}

static int write_priority(h2_cbb *b, uint8_t flags, uint32_t stream_id, const h2_frame_prio *prio) {
  if (stream_id == 0 || prio == NULL || !check_prio(prio)) return H2_ERR_INVALID_ARG;
  h2_cbb w;
  int rv = begin(b, &w, 5, H2_FRAME_PRIORITY, flags, stream_id);
  if (rv) return rv;
  put_prio(&w, prio);
  return 0;
}

int h2_frame_write_priority(h2_cbb *b, uint32_t stream_id, const h2_frame_prio *prio) {
  return write_priority(b, 0, stream_id, prio);
}

static int write_u32_frame(h2_cbb *b, uint8_t type, uint8_t flags, uint32_t stream_id,
                           uint32_t v) {
  h2_cbb w;
  int rv = begin(b, &w, 4, type, flags, stream_id);
  if (rv) return rv;
  h2_cbb_u32(&w, v);
  return 0;
}

int h2_frame_write_rst_stream(h2_cbb *b, uint32_t stream_id, uint32_t error_code) {
  if (stream_id == 0) return H2_ERR_INVALID_ARG;
  return write_u32_frame(b, H2_FRAME_RST_STREAM, 0, stream_id, error_code);
}

int h2_frame_write_settings(h2_cbb *b, const h2_frame_setting *settings, size_t num) {
  if ((settings == NULL && num != 0) || num > H2_MAX_MAX_FRAME_SIZE / 6) return H2_ERR_INVALID_ARG;
  h2_cbb w;
  int rv = begin(b, &w, num * 6, H2_FRAME_SETTINGS, 0, 0);
  if (rv) return rv;
  for (size_t i = 0; i < num; i++) {
    h2_cbb_u16(&w, settings[i].id);
    h2_cbb_u32(&w, settings[i].value);
  }
  return 0;
}

int h2_frame_write_settings_ack(h2_cbb *b) {
  h2_cbb w;
  return begin(b, &w, 0, H2_FRAME_SETTINGS, H2_FLAG_ACK, 0);
}

int h2_frame_write_ping(h2_cbb *b, uint8_t flags, const uint8_t opaque[8]) {
  if (opaque == NULL) return H2_ERR_INVALID_ARG;
  h2_cbb w;
  int rv = begin(b, &w, 8, H2_FRAME_PING, flags, 0);
  if (rv) return rv;
  h2_cbb_bytes(&w, opaque, 8);
  return 0;
}

static int write_goaway(h2_cbb *b, uint8_t flags, uint32_t last_stream_id, uint32_t error_code,
                        const uint8_t *debug, size_t debug_len) {
  if (last_stream_id > H2_MAX_STREAM_ID || (debug == NULL && debug_len != 0) ||
      debug_len > H2_MAX_MAX_FRAME_SIZE - 8)
    return H2_ERR_INVALID_ARG;
  h2_cbb w;
  int rv = begin(b, &w, 8 + debug_len, H2_FRAME_GOAWAY, flags, 0);
  if (rv) return rv;
  h2_cbb_u32(&w, last_stream_id);
  h2_cbb_u32(&w, error_code);
  h2_cbb_bytes(&w, debug, debug_len);
  return 0;
}

int h2_frame_write_goaway(h2_cbb *b, uint32_t last_stream_id, uint32_t error_code,
                          const uint8_t *debug, size_t debug_len) {
  return write_goaway(b, 0, last_stream_id, error_code, debug, debug_len);
}

int h2_frame_write_window_update(h2_cbb *b, uint32_t stream_id, uint32_t increment) {
  if (increment == 0 || increment > H2_MAX_WINDOW) return H2_ERR_INVALID_ARG;
  return write_u32_frame(b, H2_FRAME_WINDOW_UPDATE, 0, stream_id, increment);
}

int h2_frame_write_continuation(h2_cbb *b, uint32_t stream_id, uint8_t flags, const uint8_t *frag,
                                size_t frag_len) {
  if (stream_id == 0) return H2_ERR_INVALID_ARG;
  return h2_frame_write_unknown(b, H2_FRAME_CONTINUATION, flags, stream_id, frag, frag_len);
}

static int write_altsvc(h2_cbb *b, uint8_t flags, uint32_t stream_id, const uint8_t *origin,
                        size_t origin_len, const uint8_t *value, size_t value_len) {
  if ((stream_id == 0) != (origin_len != 0) || origin_len > 0xffff ||
      (origin == NULL && origin_len) || (value == NULL && value_len) ||
      value_len > H2_MAX_MAX_FRAME_SIZE)
    return H2_ERR_INVALID_ARG;
  h2_cbb w;
  int rv = begin(b, &w, 2 + origin_len + value_len, H2_FRAME_ALTSVC, flags, stream_id);
  if (rv) return rv;
  h2_cbb_u16(&w, (uint16_t)origin_len);
  h2_cbb_bytes(&w, origin, origin_len);
  h2_cbb_bytes(&w, value, value_len);
  return 0;
}

int h2_frame_write_altsvc(h2_cbb *b, uint32_t stream_id, const uint8_t *origin, size_t origin_len,
                          const uint8_t *value, size_t value_len) {
  return write_altsvc(b, 0, stream_id, origin, origin_len, value, value_len);
}

static int write_origin(h2_cbb *b, uint8_t flags, const h2_cbs *origins, size_t num) {
  if (origins == NULL && num != 0) return H2_ERR_INVALID_ARG;
  size_t len = 0;
  for (size_t i = 0; i < num; i++) {
    if (origins[i].len > 0xffff || (origins[i].data == NULL && origins[i].len)) return H2_ERR_INVALID_ARG;
    len += 2 + origins[i].len;
    if (len > H2_MAX_MAX_FRAME_SIZE) return H2_ERR_INVALID_ARG;
  }
  h2_cbb w;
  int rv = begin(b, &w, len, H2_FRAME_ORIGIN, flags, 0);
  if (rv) return rv;
  for (size_t i = 0; i < num; i++) {
    h2_cbb_u16(&w, (uint16_t)origins[i].len);
    h2_cbb_bytes(&w, origins[i].data, origins[i].len);
  }
  return 0;
}

int h2_frame_write_origin(h2_cbb *b, const h2_cbs *origins, size_t num) {
  return write_origin(b, 0, origins, num);
}

static int write_priority_update(h2_cbb *b, uint8_t flags, uint32_t prioritized_id,
                                 const uint8_t *value, size_t value_len) {
  if (prioritized_id == 0 || prioritized_id > H2_MAX_STREAM_ID || (value == NULL && value_len) ||
      value_len > H2_MAX_MAX_FRAME_SIZE - 4)
    return H2_ERR_INVALID_ARG;
  h2_cbb w;
  int rv = begin(b, &w, 4 + value_len, H2_FRAME_PRIORITY_UPDATE, flags, 0);
  if (rv) return rv;
  h2_cbb_u32(&w, prioritized_id);
  h2_cbb_bytes(&w, value, value_len);
  return 0;
}

int h2_frame_write_priority_update(h2_cbb *b, uint32_t prioritized_id, const uint8_t *value,
                                   size_t value_len) {
  return write_priority_update(b, 0, prioritized_id, value, value_len);
}

int h2_frame_write_unknown(h2_cbb *b, uint8_t type, uint8_t flags, uint32_t stream_id,
                           const uint8_t *payload, size_t len) {
  if (payload == NULL && len != 0) return H2_ERR_INVALID_ARG;
  h2_cbb w;
  int rv = begin(b, &w, len, type, flags, stream_id);
  if (rv) return rv;
  h2_cbb_bytes(&w, payload, len);
  return 0;
}

/* --- Field blocks split over CONTINUATION. --- */

size_t h2_frame_block_size(size_t first_extra, size_t block_len, uint32_t max_frame_size) {
  if (max_frame_size < H2_MIN_MAX_FRAME_SIZE || max_frame_size > H2_MAX_MAX_FRAME_SIZE ||
      first_extra >= max_frame_size || block_len > SIZE_MAX / 2)
    return 0;
  size_t first = max_frame_size - first_extra;
  if (first > block_len) first = block_len;
  size_t rest = block_len - first;
  size_t n_cont = rest / max_frame_size + (rest % max_frame_size != 0);
  return H2_FRAME_HEADER_LEN + first_extra + block_len + n_cont * H2_FRAME_HEADER_LEN;
}

static int write_block(h2_cbb *b, uint8_t type, uint32_t stream_id, uint8_t flags,
                       const h2_frame_prio *prio, uint32_t promised_id, const uint8_t *block,
                       size_t block_len, uint32_t max_frame_size, int pad_len) {
  if (stream_id == 0 || stream_id > H2_MAX_STREAM_ID || !check_prio(prio) || !check_pad(pad_len) ||
      (block == NULL && block_len != 0) || max_frame_size < H2_MIN_MAX_FRAME_SIZE ||
      max_frame_size > H2_MAX_MAX_FRAME_SIZE)
    return H2_ERR_INVALID_ARG;
  if (type == H2_FRAME_PUSH_PROMISE && (promised_id == 0 || promised_id > H2_MAX_STREAM_ID))
    return H2_ERR_INVALID_ARG;
  /* Pad Length and padding go in the first frame only (no CONTINUATION
   * has them), taking room from its fragment. */
  size_t extra = (type == H2_FRAME_PUSH_PROMISE ? 4 : prio ? 5 : 0) + pad_overhead(pad_len);
  size_t total = h2_frame_block_size(extra, block_len, max_frame_size);
  if (total == 0) return H2_ERR_INVALID_ARG; /* block_len absurdly large */
  uint8_t *p = h2_cbb_space(b, total);
  if (p == NULL) return H2_ERR_BUF_TOO_SMALL;
  h2_cbb w;
  h2_cbb_init(&w, p, total);
  h2_cbs rest;
  h2_cbs_init(&rest, block, block_len);
  size_t first = max_frame_size - extra;
  if (first > block_len) first = block_len;
  h2_cbs frag = {NULL, 0};
  (void)h2_cbs_get_bytes(&rest, &frag, first);
  uint8_t f = (uint8_t)(flags & ~(H2_FLAG_END_HEADERS | H2_FLAG_PADDED));
  if (h2_cbs_len(&rest) == 0) f |= H2_FLAG_END_HEADERS;
  int rv = write_fragment_frame(&w, type, stream_id, f, prio, promised_id, h2_cbs_data(&frag),
                                h2_cbs_len(&frag), pad_len);
  while (rv == 0 && h2_cbs_len(&rest) > 0) {
    size_t n = h2_cbs_len(&rest) < max_frame_size ? h2_cbs_len(&rest) : max_frame_size;
    (void)h2_cbs_get_bytes(&rest, &frag, n);
    rv = h2_frame_write_continuation(&w, stream_id, h2_cbs_len(&rest) == 0 ? H2_FLAG_END_HEADERS : 0,
                                     h2_cbs_data(&frag), h2_cbs_len(&frag));
  }
  /* total was computed for exactly these frames, so rv is 0 here */
  return rv ? H2_ERR_INTERNAL : 0;
}

int h2_frame_write_headers_block(h2_cbb *b, uint32_t stream_id, uint8_t flags,
                                 const h2_frame_prio *prio, const uint8_t *block, size_t block_len,
                                 uint32_t max_frame_size) {
  return write_block(b, H2_FRAME_HEADERS, stream_id, flags, prio, 0, block, block_len,
                     max_frame_size, -1);
}

int h2_frame_write_push_promise_block(h2_cbb *b, uint32_t stream_id, uint32_t promised_id,
                                      const uint8_t *block, size_t block_len,
                                      uint32_t max_frame_size) {
  return write_block(b, H2_FRAME_PUSH_PROMISE, stream_id, 0, NULL, promised_id, block, block_len,
                     max_frame_size, -1);
}

int h2_frame_write_padded_block(h2_cbb *b, uint8_t type, uint32_t stream_id, uint8_t flags,
                                const h2_frame_prio *prio, uint32_t promised_id,
                                const uint8_t *block, size_t block_len, uint32_t max_frame_size,
                                int pad_len) {
  if (type != H2_FRAME_HEADERS && type != H2_FRAME_PUSH_PROMISE) return H2_ERR_INVALID_ARG;
  if (type == H2_FRAME_PUSH_PROMISE) {
    if (prio) return H2_ERR_INVALID_ARG;
    flags = 0;
  }
  return write_block(b, type, stream_id, flags, prio, promised_id, block, block_len,
                     max_frame_size, pad_len);
}

/* --- Re-encoding a decoded frame. --- */

int h2_frame_encode(h2_cbb *b, const h2_frame *f) {
  const h2_frame_hdr *h = &f->hdr;
  int pad = (h->flags & H2_FLAG_PADDED) ? f->pad_len : -1;
  if (f->ignore) return H2_ERR_INVALID_ARG;
  switch (f->type) {
    case H2_FRAME_DATA:
      return h2_frame_write_data(b, h->stream_id, h->flags, f->u.data.data, f->u.data.len, pad);
    case H2_FRAME_HEADERS:
      return h2_frame_write_headers(b, h->stream_id, h->flags,
                                    f->u.headers.has_priority ? &f->u.headers.prio : NULL,
                                    f->u.headers.fragment, f->u.headers.fragment_len, pad);
    case H2_FRAME_PRIORITY:
      return write_priority(b, h->flags, h->stream_id, &f->u.priority);
    case H2_FRAME_RST_STREAM:
      if (h->stream_id == 0) return H2_ERR_INVALID_ARG;
      return write_u32_frame(b, H2_FRAME_RST_STREAM, h->flags, h->stream_id,
                             f->u.rst_stream.error_code);
    case H2_FRAME_SETTINGS:
      return h2_frame_write_unknown(b, H2_FRAME_SETTINGS, h->flags, 0, f->u.settings.raw,
                                    f->u.settings.num_entries * 6);
    case H2_FRAME_PUSH_PROMISE:
      return write_fragment_frame(b, H2_FRAME_PUSH_PROMISE, h->stream_id, h->flags, NULL,
                                  f->u.push_promise.promised_id, f->u.push_promise.fragment,
                                  f->u.push_promise.fragment_len, pad);
    case H2_FRAME_PING:
      return h2_frame_write_ping(b, h->flags, f->u.ping.opaque);
    case H2_FRAME_GOAWAY:
      return write_goaway(b, h->flags, f->u.goaway.last_stream_id, f->u.goaway.error_code,
                          f->u.goaway.debug, f->u.goaway.debug_len);
    case H2_FRAME_WINDOW_UPDATE:
      if (f->u.window_update.increment == 0) return H2_ERR_INVALID_ARG;
      return write_u32_frame(b, H2_FRAME_WINDOW_UPDATE, h->flags, h->stream_id,
                             f->u.window_update.increment);
    case H2_FRAME_CONTINUATION:
      return h2_frame_write_continuation(b, h->stream_id, h->flags, f->u.continuation.fragment,
                                         f->u.continuation.fragment_len);
    case H2_FRAME_ALTSVC:
      return write_altsvc(b, h->flags, h->stream_id, f->u.altsvc.origin, f->u.altsvc.origin_len,
                          f->u.altsvc.value, f->u.altsvc.value_len);
    case H2_FRAME_ORIGIN:
      return h2_frame_write_unknown(b, H2_FRAME_ORIGIN, h->flags, 0, f->u.origin.payload,
                                    f->u.origin.payload_len);
    case H2_FRAME_PRIORITY_UPDATE:
      return write_priority_update(b, h->flags, f->u.priority_update.stream_id,
                                   f->u.priority_update.value, f->u.priority_update.value_len);
    case H2_FRAME_UNKNOWN:
      return h2_frame_write_unknown(b, h->type, h->flags, h->stream_id, f->u.unknown.payload,
                                    f->u.unknown.payload_len);
    default:
      return H2_ERR_INVALID_ARG;
  }
}
