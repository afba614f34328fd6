/* conn_send.c: frame builders that append to the output queue, and the
 * DATA producer: the scheduler (h2_prio) picks the stream, the frame is cut
 * to min(stream window, connection window, peer MAX_FRAME_SIZE), payload
 * referenced from the application's buffers. */
#include "conn_internal.h"

static int simple(h2_conn *c, size_t max, uint8_t action, uint32_t sid, uint32_t code,
                  int (*fn)(h2_cbb *, const void *), const void *arg);

/* ---- control frames ---------------------------------------------------- */

int h2c_send_settings_ack(h2_conn *c) {
  h2_cbb b;
  if (h2c_out_begin(c, &b, H2_FRAME_HEADER_LEN)) return H2_ERR_NOMEM;
  h2_frame_write_settings_ack(&b);
  c->num_control++;
  int r = h2c_out_end(c, &b, SEG_FRAMES, 0, 1);
  if (r) c->num_control--;
  return r;
}

int h2c_send_ping(h2_conn *c, uint8_t flags, const uint8_t opaque[8]) {
  h2_cbb b;
  if (h2c_out_begin(c, &b, H2_FRAME_HEADER_LEN + 8)) return H2_ERR_NOMEM;
  h2_frame_write_ping(&b, flags, opaque);
  uint32_t ctl = (flags & H2_FLAG_ACK) ? 1 : 0;
  c->num_control += ctl;
  int r = h2c_out_end(c, &b, SEG_FRAMES, 0, ctl);
  if (r) c->num_control -= ctl;
  return r;
}

int h2c_send_rst(h2_conn *c, uint32_t id, uint32_t code) {
  h2_cbb b;
  if (h2c_out_begin(c, &b, H2_FRAME_HEADER_LEN + 4)) return H2_ERR_NOMEM;
  h2_frame_write_rst_stream(&b, id, code);
  return h2c_out_end(c, &b, SEG_RST, id, code);
}

int h2c_send_goaway(h2_conn *c, uint32_t last, uint32_t code, const uint8_t *dbg, size_t dlen) {
  h2_cbb b;
  if (dlen > 1024) dlen = 1024;
  if (h2c_out_begin(c, &b, H2_FRAME_HEADER_LEN + 8 + dlen)) return H2_ERR_NOMEM;
  h2_frame_write_goaway(&b, last, code, dbg, dlen);
  return h2c_out_end(c, &b, SEG_GOAWAY, 0, code);
}

int h2c_send_window_update(h2_conn *c, uint32_t id, uint32_t inc) {
  h2_cbb b;
  if (h2c_out_begin(c, &b, H2_FRAME_HEADER_LEN + 4)) return H2_ERR_NOMEM;
  h2_frame_write_window_update(&b, id, inc);
  return h2c_out_end(c, &b, SEG_FRAMES, 0, 0);
}

int h2c_send_settings(h2_conn *c, const h2_frame_setting *e, size_t n) {
  h2_cbb b;
  if (h2c_out_begin(c, &b, H2_FRAME_HEADER_LEN + 6 * n)) return H2_ERR_NOMEM;
  h2_frame_write_settings(&b, e, n);
  return h2c_out_end(c, &b, SEG_FRAMES, 0, 0);
}

/* Encodes |f| and appends HEADERS (or PUSH_PROMISE) + CONTINUATIONs within
 * the peer's MAX_FRAME_SIZE. The block is encoded into the free end of
 * obuf, beyond the largest the frames can take, then framed in front of
 * it, so encode order = wire order and nothing is allocated per block. */
/* commit_one_headers finishes a header block of |len| octets encoded at
 * obuf + obuf_len + 9: writes the HEADERS frame header in front of it (one
 * frame, END_HEADERS, no padding or priority) and commits the frame. */
static inline int commit_one_headers(h2_conn *c, uint32_t id, uint8_t flags, size_t len) {
  h2_cbb hdr;
  h2_cbb_init(&hdr, c->obuf + c->obuf_len, H2_FRAME_HEADER_LEN);
  uint8_t fl = (uint8_t)((flags & ~(H2_FLAG_PADDED | H2_FLAG_PRIORITY)) | H2_FLAG_END_HEADERS);
  h2_frame_hdr fh = {(uint32_t)len, H2_FRAME_HEADERS, fl, id};
  h2_frame_write_hdr(&hdr, &fh);
  size_t start = c->obuf_len;
  c->obuf_len += H2_FRAME_HEADER_LEN + len;
  return h2c_out_commit(c, start, SEG_FRAMES, 0, 0);
}

int h2c_send_header_block(h2_conn *c, uint32_t id, int type, uint32_t promised, uint8_t flags,
                          const h2_frame_prio *prio, const h2_hpack_field *f, size_t n) {
  if (type == H2_FRAME_HEADERS && !prio && c->cfg.header_padding == H2_CONN_PAD_NONE && id != 0 &&
      id <= H2_MAX_STREAM_ID && c->seg_count < c->seg_cap && c->obuf_cap - c->obuf_len > H2_FRAME_HEADER_LEN) {
    /* The common case, with room at hand: encode right behind the frame
     * header into what obuf has free, up to one frame. h2_hpack_encode is
     * atomic: when that room is under its bound it fails with nothing
     * changed, and the general path below sizes the room first. A segment
     * is free, so the commit cannot fail either. */
    size_t room = c->obuf_cap - c->obuf_len - H2_FRAME_HEADER_LEN;
    if (room > c->remote.max_frame_size) room = c->remote.max_frame_size;
    uint8_t *p = c->obuf + c->obuf_len;
    h2_cbb blk;
    h2_cbb_init(&blk, p + H2_FRAME_HEADER_LEN, room);
    int len = h2_hpack_encode(c->enc, &blk, f, n);
    if (len >= 0) return commit_one_headers(c, id, flags, blk.len);
    if (len != H2_ERR_BUF_TOO_SMALL) return len;
  }
  size_t bound = h2_hpack_encode_bound(f, n);
  if (bound == SIZE_MAX || bound > (1u << 30)) return H2_ERR_INVALID_ARG;
  uint32_t mfs = c->remote.max_frame_size;
  if (c->cfg.header_padding != H2_CONN_PAD_NONE)
    return h2c_send_padded_block(c, id, type, promised, flags, prio, f, n, bound);
  if (type == H2_FRAME_HEADERS && !prio && bound <= mfs && id != 0 && id <= H2_MAX_STREAM_ID) {
    /* The block fits one HEADERS frame: encode it right behind the frame
     * header, whose length is filled in after. */
    if (h2c_out_ensure(c, 1, H2_FRAME_HEADER_LEN + bound)) return H2_ERR_NOMEM;
    uint8_t *p = c->obuf + c->obuf_len;
    h2_cbb blk;
    h2_cbb_init(&blk, p + H2_FRAME_HEADER_LEN, bound);
    int len = h2_hpack_encode(c->enc, &blk, f, n);
    if (len < 0) return len;
    return commit_one_headers(c, id, flags, blk.len); /* room ensured: cannot fail */
  }
  size_t extra = type == H2_FRAME_PUSH_PROMISE ? 4 : (prio ? 5 : 0);
  size_t fsz = h2_frame_block_size(extra, bound, mfs);
  if (fsz == 0) return H2_ERR_INVALID_ARG;
  h2_cbb b;
  if (h2c_out_begin(c, &b, fsz + bound)) return H2_ERR_NOMEM; /* commit cannot fail now */
  h2_cbb blk;
  h2_cbb_init(&blk, c->obuf + c->obuf_len + fsz, bound);
  int len = h2_hpack_encode(c->enc, &blk, f, n);
  if (len < 0) return len;
  int r;
  if (type == H2_FRAME_PUSH_PROMISE)
    r = h2_frame_write_push_promise_block(&b, id, promised, blk.buf, blk.len, mfs);
  else
    r = h2_frame_write_headers_block(&b, id, flags, prio, blk.buf, blk.len, mfs);
  if (r) return H2_ERR_INTERNAL;
  return h2c_out_end(c, &b, SEG_FRAMES, 0, 0);
}

static int simple(h2_conn *c, size_t max, uint8_t action, uint32_t sid, uint32_t code,
                  int (*fn)(h2_cbb *, const void *), const void *arg) {
  h2_cbb b;
  if (h2c_out_begin(c, &b, max)) return H2_ERR_NOMEM;
  int r = fn(&b, arg);
  if (r) return r;
  return h2c_out_end(c, &b, action, sid, code);
}

/* ---- the DATA producer ------------------------------------------------- */

static int can_send_state(const h2_stream *s) {
  return s->state == H2_STREAM_OPEN || s->state == H2_STREAM_HALF_CLOSED_REMOTE;
}

void h2c_ready_update(h2_conn *c, h2_stream *s) {
  int ready = 0;
  if (!s->resetting && s->tx_phase >= PHASE_HEADERS && can_send_state(s) && !s->end_sent_queued) {
    if (s->queued > 0)
      ready = s->send_window > 0 && c->send_window > 0;
    else
      ready = s->trailers != NULL || s->end_queued;
  }
  if (ready != s->in_ready && s->prio_open) {
    h2_prio_set_ready(c->prio, s->id, ready);
    s->in_ready = (uint8_t)ready;
  }
}

void h2c_ready_all(h2_conn *c) {
  for (uint32_t i = 0; i < c->streams.cap; i++)
    if (c->streams.slots[i].key) h2c_ready_update(c, c->streams.slots[i].val);
}

static void writable_check(h2_conn *c, h2_stream *s) {
  if (s->want_writable && s->queued < c->cfg.send_queue_limit) {
    s->want_writable = 0;
    h2_conn_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = H2_CONN_EV_WRITABLE;
    ev.stream_id = s->id;
    ev.stream_user = s->user;
    (void)h2c_emit_known(c, &ev);
  }
}

/* Padding for a DATA frame of |len| octets with |room| octets of window
 * and frame size left after the Pad Length octet (<= 255 returned). */
static size_t choose_pad(h2_conn *c, uint32_t id, size_t len, size_t room) {
  size_t max = room < 255 ? room : 255;
  size_t pad = 0;
  switch (c->cfg.padding) {
    case H2_CONN_PAD_MAX: pad = max; break;
    case H2_CONN_PAD_ALIGNED: {
      size_t a = c->cfg.padding_align, total = H2_FRAME_HEADER_LEN + 1 + len;
      pad = (a - total % a) % a;
      break;
    }
    case H2_CONN_PAD_CALLBACK: pad = c->cfg.padding_cb(c->cfg.padding_user, id, len, max); break;
    default: break;
  }
  return pad > max ? max : pad;
}

/* over_peer_list: 1 when the header list |f| exceeds the peer's
 * SETTINGS_MAX_HEADER_LIST_SIZE (name + value + 32 per field, RFC 9113
 * §6.5.2). */
static int over_peer_list(const h2_conn *c, const h2_hpack_field *f, size_t n) {
  uint32_t max = c->remote.max_header_list_size;
  if (max == H2_CONN_UNLIMITED) return 0;
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    total += (uint64_t)f[i].name_len + f[i].value_len + 32;
    if (total > max) return 1;
  }
  return 0;
}

/* trailers_not_sent: the trailers of |s| could not be encoded (|err|; the
 * block is already dropped): H2_CONN_EV_FRAME_NOT_SENT, then RST_STREAM
 * INTERNAL_ERROR unless the application reset the stream itself from the
 * callback. Returns 0 or an error that ends the connection. */
static int trailers_not_sent(h2_conn *c, h2_stream *s, int err) {
  uint32_t id = s->id;
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_FRAME_NOT_SENT;
  ev.stream_id = id;
  ev.stream_user = s->user;
  ev.u.not_sent.frame_type = H2_FRAME_HEADERS;
  ev.u.not_sent.err = err;
  ev.u.not_sent.rst_code = 0x2; /* INTERNAL_ERROR */
  int r = h2c_emit_known(c, &ev);
  if (r) return r;
  s = h2c_stream(c, id);
  if (!s || s->resetting) return 0;
  r = h2c_send_rst(c, id, 0x2);
  if (r) return r;
  s->resetting = 1;
  h2c_ready_update(c, s);
  return 0;
}

/* DATA payloads up to this size are copied behind their frame header
 * instead of being referenced as their own output segment. */
#define SMALL_DATA_COPY 256

/* One DATA frame (or the trailers) for |s|. Returns 0 or an error. */
static int produce_one(h2_conn *c, h2_stream *s) {
  uint32_t id = s->id;
  if (s->queued > 0) {
    int64_t w = s->send_window < c->send_window ? s->send_window : c->send_window;
    if (w <= 0) {
      h2_prio_set_ready(c->prio, id, 0);
      s->in_ready = 0;
      return 0;
    }
    size_t budget = (uint64_t)w < c->remote.max_frame_size ? (size_t)w : c->remote.max_frame_size;
    int padded = c->cfg.padding != H2_CONN_PAD_NONE && budget >= 2;
    size_t len = s->queued;
    if (len > budget - (size_t)padded) len = budget - (size_t)padded;
    size_t pad = padded ? choose_pad(c, id, len, budget - 1 - len) : 0;
    size_t flen = len + (padded ? 1 + pad : 0);
    int end = len == s->queued && s->end_queued && !s->trailers;
    uint8_t flags = (end ? H2_FLAG_END_STREAM : 0) | (padded ? H2_FLAG_PADDED : 0);
    size_t hlen = H2_FRAME_HEADER_LEN + (size_t)padded;
    h2_dchunk *head = s->qhead;
    if (len > 0 && len <= SMALL_DATA_COPY && head && head->len - head->off >= len) {
      /* A small payload from one buffer is copied behind its frame header:
       * one segment, written with its neighbours in one iovec. The chunk
       * stays referenced until those bytes are written (DATA_RELEASED). */
      if (h2c_out_ensure(c, 1, hlen + len + pad)) return H2_ERR_NOMEM;
      size_t start = c->obuf_len;
      uint8_t *p = h2c_out_reserve(c, hlen + len + pad);
      h2_cbb b;
      h2_cbb_init(&b, p, hlen);
      h2_frame_hdr fh = {(uint32_t)flen, H2_FRAME_DATA, flags, id};
      h2_frame_write_hdr(&b, &fh);
      if (padded) h2_cbb_u8(&b, (uint8_t)pad);
      memcpy(p + hlen, head->data + head->off, len);
      if (pad) memset(p + hlen + len, 0, pad);
      (void)h2c_out_commit(c, start, SEG_DATA, id, 0); /* room ensured */
      h2_oseg *sg = &c->segs[c->seg_head + c->seg_count - 1];
      sg->chunk = head;
      sg->copied = 1;
      head->refs++;
      head->off += len;
      s->queued -= len;
      if (head->off == head->len) {
        s->qhead = head->next;
        if (!s->qhead) s->qtail = NULL;
        head->next = NULL;
        h2c_chunk_unref(c, head); /* the queue's reference */
      }
    } else {
      /* Room for the whole frame first: header, one segment per chunk, pad. */
      size_t nch = 0, acc = 0;
      for (h2_dchunk *ch = s->qhead; ch && acc < len; ch = ch->next, nch++) acc += ch->len - ch->off;
      if (h2c_out_ensure(c, nch + 2, hlen + pad)) return H2_ERR_NOMEM;
      uint8_t *p = h2c_out_reserve(c, hlen);
      if (!p) return H2_ERR_NOMEM;
      size_t start = c->obuf_len - hlen;
      h2_cbb b;
      h2_cbb_init(&b, p, hlen);
      h2_frame_hdr fh = {(uint32_t)flen, H2_FRAME_DATA, flags, id};
      h2_frame_write_hdr(&b, &fh);
      if (padded) h2_cbb_u8(&b, (uint8_t)pad);
      if (h2c_out_commit(c, start, SEG_NONE, 0, 0)) return H2_ERR_NOMEM;
      size_t left = len;
      while (left > 0) {
        h2_dchunk *ch = s->qhead;
        size_t take = ch->len - ch->off;
        if (take > left) take = left;
        if (take && h2c_out_chunk(c, ch, ch->off, take)) return H2_ERR_NOMEM;
        ch->off += take;
        left -= take;
        s->queued -= take;
        if (ch->off == ch->len) {
          s->qhead = ch->next;
          if (!s->qhead) s->qtail = NULL;
          ch->next = NULL;
          h2c_chunk_unref(c, ch); /* the queue's reference; segments hold theirs */
        }
      }
      if (pad) {
        uint8_t *z = h2c_out_reserve(c, pad);
        if (!z) return H2_ERR_NOMEM;
        memset(z, 0, pad);
        if (h2c_out_commit(c, c->obuf_len - pad, SEG_NONE, 0, 0)) return H2_ERR_NOMEM;
      }
    }
    h2_oseg *last = &c->segs[c->seg_head + c->seg_count - 1];
    last->action = SEG_DATA;
    last->flags = flags;
    last->stream_id = id;
    last->code = (uint32_t)flen;
    s->send_window -= (int64_t)flen;
    c->send_window -= (int64_t)flen;
    if (end) {
      /* Out of the scheduler's queue before the charge, which then only
       * moves its clocks (no re-queue of a stream that is done). */
      s->end_sent_queued = 1;
      h2c_ready_update(c, s);
    }
    h2_prio_charge(c->prio, id, flen);
    /* Empty chunks (len 0 with END_STREAM) left at the head are dropped. */
    while (s->qhead && s->qhead->off == s->qhead->len) {
      h2_dchunk *ch = s->qhead;
      s->qhead = ch->next;
      if (!s->qhead) s->qtail = NULL;
      ch->next = NULL;
      h2c_chunk_unref(c, ch);
    }
    if (end) {
      h2c_stream_end_local(c, s);
      return 0;
    }
  } else if (s->trailers) {
    /* The peer may have lowered its header list limit since the submit. */
    int r = over_peer_list(c, s->trailers, s->num_trailers)
                ? H2_ERR_LIMIT
                : h2c_send_header_block(c, id, H2_FRAME_HEADERS, 0,
                                        H2_FLAG_END_STREAM | H2_FLAG_END_HEADERS, NULL, s->trailers,
                                        s->num_trailers);
    h2c_free(c, s->trailers);
    s->trailers = NULL;
    s->num_trailers = 0;
    if (r) return trailers_not_sent(c, s, r);
    h2_prio_charge(c->prio, id, 0);
    s->end_sent_queued = 1;
    s->tx_phase = PHASE_TRAILERS;
    h2c_ready_update(c, s);
    h2c_stream_end_local(c, s);
    return 0;
  } else if (s->end_queued) {
    /* END_STREAM with no data left: an empty DATA frame. */
    h2_dchunk *ch;
    while ((ch = s->qhead) != NULL) {
      s->qhead = ch->next;
      ch->next = NULL;
      h2c_chunk_unref(c, ch);
    }
    s->qtail = NULL;
    uint8_t *p = h2c_out_reserve(c, H2_FRAME_HEADER_LEN);
    if (!p) return H2_ERR_NOMEM;
    size_t start = c->obuf_len - H2_FRAME_HEADER_LEN;
    h2_cbb b;
    h2_cbb_init(&b, p, H2_FRAME_HEADER_LEN);
    h2_frame_hdr fh = {0, H2_FRAME_DATA, H2_FLAG_END_STREAM, id};
    h2_frame_write_hdr(&b, &fh);
    if (h2c_out_commit(c, start, SEG_DATA, id, 0)) return H2_ERR_NOMEM;
    c->segs[c->seg_head + c->seg_count - 1].flags = H2_FLAG_END_STREAM;
    h2_prio_charge(c->prio, id, 0);
    s->end_sent_queued = 1;
    h2c_ready_update(c, s);
    h2c_stream_end_local(c, s);
    return 0;
  }
  h2c_ready_update(c, s);
  writable_check(c, s);
  return 0;
}

void h2c_run_deferred(h2_conn *c) {
  while (c->num_deferred > 0) {
    uint32_t id = c->deferred[--c->num_deferred];
    h2_stream *s = h2c_stream(c, id);
    if (s && s->close_deferred) {
      s->close_deferred = 0;
      h2c_stream_end_local(c, s);
    }
  }
}

int h2c_produce(h2_conn *c) {
  h2c_run_deferred(c);
  if (c->fatal || c->goaway_sent == 2) return 0; /* nothing after an error GOAWAY */
  int guard = 0;
  while (c->pending_bytes < c->cfg.output_high_water && guard++ < 100000) {
    uint32_t id = h2_prio_next(c->prio);
    if (id == 0) break;
    h2_stream *s = h2c_stream(c, id);
    if (!s) {
      h2_prio_set_ready(c->prio, id, 0);
      continue;
    }
    int r = produce_one(c, s);
    if (r) return r;
    if (c->fatal) break;
  }
  return 0;
}

/* ---- submit ------------------------------------------------------------ */

static int check_fields(h2_conn *c, int kind, const h2_hpack_field *f, size_t n, int end_stream,
                        h2_http_check *chk) {
  int cp = kind == H2_HTTP_REQUEST ? (int)c->remote.enable_connect_protocol : 0;
  h2_http_check_init(chk, kind, cp);
  if (n && !f) return H2_ERR_INVALID_ARG;
  if (!c->cfg.validate_http) {
    for (size_t i = 0; i < n; i++)
      if ((f[i].name_len && !f[i].name) || (f[i].value_len && !f[i].value)) return H2_ERR_INVALID_ARG;
    return 0;
  }
  if (h2_http_check_fields(chk, f, n)) return H2_ERR_INVALID_ARG;
  return h2_http_check_end(chk, end_stream) ? H2_ERR_INVALID_ARG : 0;
}

static int usable(const h2_conn *c) {
  if (c->fatal || c->eof || c->goaway_sent == 2) return H2_ERR_CLOSED;
  return 0;
}

int32_t h2_conn_submit_request(h2_conn *c, const h2_hpack_field *fields, size_t num_fields,
                               const h2_frame_prio *prio, int end_stream, void *stream_user) {
  int r = usable(c);
  if (r) return r;
  if (c->role != H2_CONN_CLIENT || c->goaway_sent || c->goaway_recv) return H2_ERR_STATE;
  if (c->next_local_id > H2_MAX_STREAM_ID) return H2_ERR_LIMIT;
  if (c->remote.max_concurrent_streams != H2_CONN_UNLIMITED &&
      c->num_local >= c->remote.max_concurrent_streams)
    return H2_ERR_REFUSED_STREAM;
  if (c->mc.used > c->cfg.max_memory) return H2_ERR_LIMIT;
  if (prio && (prio->weight < 1 || prio->weight > 256 || prio->dependency == c->next_local_id))
    return H2_ERR_INVALID_ARG;
  h2_http_check chk;
  r = check_fields(c, H2_HTTP_REQUEST, fields, num_fields, end_stream, &chk);
  if (r) return r;
  if (over_peer_list(c, fields, num_fields)) return H2_ERR_LIMIT;
  uint32_t id = c->next_local_id;
  h2_stream *s = h2c_stream_new(c, id, 1, H2_STREAM_OPEN);
  if (!s) return H2_ERR_NOMEM;
  uint8_t flags = H2_FLAG_END_HEADERS | (end_stream ? H2_FLAG_END_STREAM : 0);
  r = h2c_send_header_block(c, id, H2_FRAME_HEADERS, 0, flags, prio, fields, num_fields);
  if (r) {
    h2c_stream_unmap(c, s);
    c->num_local--;
    if (s->prio_open) h2_prio_remove(c->prio, id);
    h2c_pool_put(c, &c->stream_pool, s);
    return r;
  }
  c->next_local_id += 2;
  s->user = stream_user;
  s->tx_phase = PHASE_HEADERS;
  s->head_request = chk.method == H2_HTTP_METHOD_HEAD;
  if (prio && s->prio_open) {
    h2_prio_spec sp = {prio->dependency, prio->weight, prio->exclusive};
    h2_prio_set(c->prio, id, &sp);
  }
  if (end_stream) {
    s->end_sent_queued = 1;
    h2c_stream_set_state(c, s, H2_STREAM_HALF_CLOSED_LOCAL);
  }
  return (int32_t)id;
}

static int reserve_deferred(h2_conn *c) {
  if (c->num_deferred == c->cap_deferred) {
    size_t nc = c->cap_deferred ? c->cap_deferred * 2 : 16;
    uint32_t *nd = h2_mem_realloc(&c->mem, c->deferred, nc * sizeof *nd);
    if (!nd) return H2_ERR_NOMEM;
    c->deferred = nd;
    c->cap_deferred = nc;
  }
  return 0;
}

/* Shared by response / info / trailers-less header sends on a stream. */
static int stream_for_send(h2_conn *c, uint32_t id, h2_stream **out) {
  int r = usable(c);
  if (r) return r;
  h2_stream *s = h2c_stream(c, id);
  if (!s) return H2_ERR_NOT_FOUND;
  if (s->resetting || s->end_sent_queued || s->end_queued || s->trailers) return H2_ERR_STATE;
  if (!can_send_state(s) && s->state != H2_STREAM_RESERVED_LOCAL) return H2_ERR_STATE;
  *out = s;
  return 0;
}

int h2_conn_submit_response(h2_conn *c, uint32_t id, const h2_hpack_field *fields, size_t n,
                            int end_stream) {
  h2_stream *s;
  if (c->role != H2_CONN_SERVER) return H2_ERR_STATE;
  int r = stream_for_send(c, id, &s);
  if (r) return r;
  if (s->tx_phase >= PHASE_HEADERS) return H2_ERR_STATE;
  h2_http_check chk;
  r = check_fields(c, H2_HTTP_RESPONSE, fields, n, end_stream, &chk);
  if (r) return r;
  if (c->cfg.validate_http && h2_http_check_is_info(&chk)) return H2_ERR_INVALID_ARG;
  if (over_peer_list(c, fields, n)) return H2_ERR_LIMIT;
  if (s->state == H2_STREAM_RESERVED_LOCAL && c->remote.max_concurrent_streams != H2_CONN_UNLIMITED &&
      c->num_local >= c->remote.max_concurrent_streams)
    return H2_ERR_REFUSED_STREAM;
  int need_defer = end_stream && s->state != H2_STREAM_OPEN;
  if (need_defer && reserve_deferred(c)) return H2_ERR_NOMEM;
  uint8_t flags = H2_FLAG_END_HEADERS | (end_stream ? H2_FLAG_END_STREAM : 0);
  r = h2c_send_header_block(c, id, H2_FRAME_HEADERS, 0, flags, NULL, fields, n);
  if (r) return r;
  s->tx_phase = PHASE_HEADERS;
  if (s->state == H2_STREAM_RESERVED_LOCAL) h2c_stream_set_state(c, s, H2_STREAM_HALF_CLOSED_REMOTE);
  if (end_stream) {
    s->end_sent_queued = 1;
    if (s->state == H2_STREAM_OPEN)
      h2c_stream_set_state(c, s, H2_STREAM_HALF_CLOSED_LOCAL);
    else {
      c->deferred[c->num_deferred++] = id; /* capacity reserved above */
      s->close_deferred = 1;
    }
  }
  h2c_ready_update(c, s);
  return 0;
}

int h2_conn_submit_info(h2_conn *c, uint32_t id, const h2_hpack_field *fields, size_t n) {
  h2_stream *s;
  if (c->role != H2_CONN_SERVER) return H2_ERR_STATE;
  int r = stream_for_send(c, id, &s);
  if (r) return r;
  if (s->tx_phase >= PHASE_HEADERS || s->state == H2_STREAM_RESERVED_LOCAL) return H2_ERR_STATE;
  h2_http_check chk;
  r = check_fields(c, H2_HTTP_RESPONSE, fields, n, 0, &chk);
  if (r) return r;
  if (c->cfg.validate_http && !h2_http_check_is_info(&chk)) return H2_ERR_INVALID_ARG;
  if (over_peer_list(c, fields, n)) return H2_ERR_LIMIT;
  r = h2c_send_header_block(c, id, H2_FRAME_HEADERS, 0, H2_FLAG_END_HEADERS, NULL, fields, n);
  if (r) return r;
  s->tx_phase = PHASE_INFO;
  return 0;
}

int h2_conn_submit_trailers(h2_conn *c, uint32_t id, const h2_hpack_field *fields, size_t n) {
  h2_stream *s;
  int r = stream_for_send(c, id, &s);
  if (r) return r;
  if (s->tx_phase < PHASE_HEADERS) return H2_ERR_STATE;
  h2_http_check chk;
  r = check_fields(c, H2_HTTP_TRAILERS, fields, n, 1, &chk);
  if (r) return r;
  if (over_peer_list(c, fields, n)) return H2_ERR_LIMIT;
  size_t bytes = n * sizeof(h2_hpack_field);
  for (size_t i = 0; i < n; i++) {
    if (fields[i].name_len > (1u << 24) || fields[i].value_len > (1u << 24)) return H2_ERR_INVALID_ARG;
    bytes += fields[i].name_len + fields[i].value_len;
  }
  h2_hpack_field *copy = h2c_alloc(c, bytes ? bytes : 1);
  if (!copy) return H2_ERR_NOMEM;
  char *p = (char *)(copy + n);
  for (size_t i = 0; i < n; i++) {
    copy[i] = fields[i];
    if (fields[i].name_len) memcpy(p, fields[i].name, fields[i].name_len);
    copy[i].name = p;
    p += fields[i].name_len;
    if (fields[i].value_len) memcpy(p, fields[i].value, fields[i].value_len);
    copy[i].value = p;
    p += fields[i].value_len;
  }
  s->trailers = copy;
  s->num_trailers = n;
  if (n == 0) {
    /* No fields: just end the stream with an empty DATA frame. */
    h2c_free(c, copy);
    s->trailers = NULL;
    s->end_queued = 1;
  }
  h2c_ready_update(c, s);
  return 0;
}

int h2_conn_submit_data(h2_conn *c, uint32_t id, const uint8_t *data, size_t len, unsigned flags,
                        void *user) {
  int r = usable(c);
  if (r) return r;
  if (len && !data) return H2_ERR_INVALID_ARG;
  h2_stream *s = h2c_stream(c, id);
  if (!s) return H2_ERR_NOT_FOUND;
  if (s->resetting || s->end_queued || s->end_sent_queued || s->trailers) return H2_ERR_STATE;
  /* DATA only after the final HEADERS were submitted (a pushed stream
   * before its response, a stream after a 1xx only: refused), so DATA can
   * never precede them on the wire. */
  if (s->tx_phase < PHASE_HEADERS || !can_send_state(s)) return H2_ERR_STATE;
  if (s->queued >= c->cfg.send_queue_limit && len > 0) {
    s->want_writable = 1;
    return H2_ERR_WOULD_BLOCK;
  }
  int copy = (flags & H2_CONN_DATA_COPY) != 0;
  if (copy && len > SIZE_MAX - sizeof(h2_dchunk)) return H2_ERR_NOMEM;
  if (copy && c->mc.used + len > c->cfg.max_memory) return H2_ERR_LIMIT;
  h2_dchunk *ch = copy ? h2c_alloc(c, sizeof *ch + len) : h2c_pool_get(c, &c->chunk_pool, sizeof *ch);
  if (!ch) return H2_ERR_NOMEM;
  memset(ch, 0, sizeof *ch);
  ch->len = len;
  ch->user = user;
  ch->refs = 1;
  if (copy) {
    uint8_t *dst = (uint8_t *)(ch + 1);
    if (len) memcpy(dst, data, len);
    ch->data = dst;
    ch->copied = 1;
  } else {
    ch->data = data;
  }
  if (s->qtail)
    s->qtail->next = ch;
  else
    s->qhead = ch;
  s->qtail = ch;
  s->queued += len;
  if (flags & H2_CONN_DATA_END_STREAM) s->end_queued = 1;
  h2c_ready_update(c, s);
  return 0;
}

int h2_conn_submit_rst(h2_conn *c, uint32_t id, uint32_t error_code) {
  /* Not after our error GOAWAY either: nothing may follow it on the wire,
   * and writing it closes every stream. */
  int r = usable(c);
  if (r) return r;
  h2_stream *s = h2c_stream(c, id);
  if (!s) return H2_ERR_NOT_FOUND;
  if (s->resetting) return 0;
  r = h2c_send_rst(c, id, error_code);
  if (r) return r;
  /* No more frames for it; its queue is released (events) when the
   * RST_STREAM is written and the stream closes. */
  s->resetting = 1;
  h2c_ready_update(c, s);
  return 0;
}

int h2_conn_submit_ping(h2_conn *c, const uint8_t *opaque, uint64_t now_ms) {
  int r = usable(c);
  if (r) return r;
  h2c_rare *rare = h2c_rare_get(c);
  if (!rare) return H2_ERR_NOMEM;
  int slot = -1;
  for (int i = 0; i < MAX_PINGS; i++)
    if (!rare->pings[i].used) {
      slot = i;
      break;
    }
  if (slot < 0) return H2_ERR_LIMIT;
  uint8_t o[8];
  if (opaque) {
    memcpy(o, opaque, 8);
  } else {
    uint64_t v = ++c->ping_counter;
    for (int i = 7; i >= 0; i--, v >>= 8) o[i] = (uint8_t)v;
  }
  r = h2c_send_ping(c, 0, o);
  if (r) return r;
  memcpy(rare->pings[slot].opaque, o, 8);
  rare->pings[slot].sent_ms = now_ms;
  rare->pings[slot].used = 1;
  return 0;
}

/* Applies one entry to a settings struct; H2_ERR_INVALID_ARG for a value out
 * of range. Unknown ids are ignored. */
static int apply_entry(h2_conn_settings *s, const h2_frame_setting *e) {
  switch (e->id) {
    case H2_SETTINGS_HEADER_TABLE_SIZE: s->header_table_size = e->value; break;
    case H2_SETTINGS_ENABLE_PUSH:
      if (e->value > 1) return H2_ERR_INVALID_ARG;
      s->enable_push = e->value;
      break;
    case H2_SETTINGS_MAX_CONCURRENT_STREAMS: s->max_concurrent_streams = e->value; break;
    case H2_SETTINGS_INITIAL_WINDOW_SIZE:
      if (e->value > H2_MAX_WINDOW) return H2_ERR_INVALID_ARG;
      s->initial_window_size = e->value;
      break;
    case H2_SETTINGS_MAX_FRAME_SIZE:
      if (e->value < H2_MIN_MAX_FRAME_SIZE || e->value > H2_MAX_MAX_FRAME_SIZE) return H2_ERR_INVALID_ARG;
      s->max_frame_size = e->value;
      break;
    case H2_SETTINGS_MAX_HEADER_LIST_SIZE: s->max_header_list_size = e->value; break;
    case H2_SETTINGS_ENABLE_CONNECT_PROTOCOL:
      if (e->value > 1) return H2_ERR_INVALID_ARG;
      if (s->enable_connect_protocol && !e->value) return H2_ERR_STATE;
      s->enable_connect_protocol = e->value;
      break;
    case H2_SETTINGS_NO_RFC7540_PRIORITIES:
      if (e->value > 1) return H2_ERR_INVALID_ARG;
      s->no_rfc7540_priorities = e->value;
      break;
    default: break;
  }
  return 0;
}

int h2c_settings_apply_entry(h2_conn_settings *s, const h2_frame_setting *e);
int h2c_settings_apply_entry(h2_conn_settings *s, const h2_frame_setting *e) { return apply_entry(s, e); }

int h2_conn_submit_settings(h2_conn *c, const h2_frame_setting *entries, size_t num, uint64_t now_ms) {
  int r = usable(c);
  if (r) return r;
  if (num && !entries) return H2_ERR_INVALID_ARG;
  if (num > 64) return H2_ERR_INVALID_ARG;
  if (c->num_pend >= MAX_PENDING_SETTINGS) return H2_ERR_LIMIT;
  h2c_rare *rare = h2c_rare_get(c);
  if (!rare) return H2_ERR_NOMEM;
  h2_conn_settings next = c->num_pend ? rare->pend[c->num_pend - 1] : c->local;
  for (size_t i = 0; i < num; i++) {
    r = apply_entry(&next, &entries[i]);
    if (r) return r;
  }
  r = h2c_send_settings(c, entries, num);
  if (r) return r;
  rare->pend[c->num_pend] = next;
  rare->pend_sent_ms[c->num_pend] = now_ms;
  c->num_pend++;
  if (next.max_concurrent_streams < c->max_concurrent_enforced)
    c->max_concurrent_enforced = next.max_concurrent_streams;
  return 0;
}

int h2_conn_submit_goaway(h2_conn *c, uint32_t error_code, uint32_t last_stream_id,
                          const uint8_t *debug, size_t debug_len) {
  if (c->fatal || c->eof || c->goaway_sent == 2) return H2_ERR_STATE;
  if (debug_len && !debug) return H2_ERR_INVALID_ARG;
  uint32_t last = c->last_peer_id;
  if (last_stream_id < last) last = last_stream_id;
  if (c->goaway_sent && c->goaway_sent_last < last) last = c->goaway_sent_last;
  int r = h2c_send_goaway(c, last, error_code, debug, debug_len);
  if (r) return r;
  c->goaway_sent = error_code ? 2 : 1;
  c->goaway_sent_last = last;
  return 0;
}

static int wr_priority(h2_cbb *b, const void *arg) {
  const struct {
    uint32_t id;
    const h2_frame_prio *p;
  } *a = arg;
  return h2_frame_write_priority(b, a->id, a->p);
}

int h2_conn_submit_priority(h2_conn *c, uint32_t id, const h2_frame_prio *prio) {
  int r = usable(c);
  if (r) return r;
  if (!prio || id == 0 || id > H2_MAX_STREAM_ID || prio->dependency == id || prio->weight < 1 ||
      prio->weight > 256 || prio->dependency > H2_MAX_STREAM_ID)
    return H2_ERR_INVALID_ARG;
  struct {
    uint32_t id;
    const h2_frame_prio *p;
  } a = {id, prio};
  r = simple(c, H2_FRAME_HEADER_LEN + 5, SEG_FRAMES, 0, 0, wr_priority, &a);
  if (r) return r;
  h2_prio_spec sp = {prio->dependency, prio->weight, prio->exclusive};
  (void)h2_prio_set(c->prio, id, &sp);
  return 0;
}

int h2_conn_set_priority(h2_conn *c, uint32_t id, const h2_frame_prio *prio) {
  int r = usable(c);
  if (r) return r;
  if (!prio || id == 0 || id > H2_MAX_STREAM_ID || prio->dependency == id || prio->weight < 1 ||
      prio->weight > 256 || prio->dependency > H2_MAX_STREAM_ID)
    return H2_ERR_INVALID_ARG;
  h2_prio_spec sp = {prio->dependency, prio->weight, prio->exclusive};
  return h2_prio_set(c->prio, id, &sp);
}

int h2_conn_priority_info(const h2_conn *c, uint32_t id, h2_prio_info *out) {
  if (!out) return H2_ERR_INVALID_ARG;
  return h2_prio_get(c->prio, id, out);
}

static int wr_prio_update(h2_cbb *b, const void *arg) {
  const struct {
    uint32_t id;
    const char *v;
    size_t n;
  } *a = arg;
  return h2_frame_write_priority_update(b, a->id, (const uint8_t *)a->v, a->n);
}

int h2_conn_submit_priority_update(h2_conn *c, uint32_t id, const char *value, size_t len) {
  int r = usable(c);
  if (r) return r;
  if (c->role != H2_CONN_CLIENT) return H2_ERR_STATE;
  if (id == 0 || id > H2_MAX_STREAM_ID || (len && !value) || len > 1024) return H2_ERR_INVALID_ARG;
  struct {
    uint32_t id;
    const char *v;
    size_t n;
  } a = {id, value, len};
  r = simple(c, H2_FRAME_HEADER_LEN + 4 + len, SEG_FRAMES, 0, 0, wr_prio_update, &a);
  if (r) return r;
  (void)h2_prio_update_field(c->prio, id, (const uint8_t *)value, len);
  return 0;
}

int32_t h2_conn_submit_push_promise(h2_conn *c, uint32_t assoc, const h2_hpack_field *fields,
                                    size_t n, void *stream_user) {
  int r = usable(c);
  if (r) return r;
  if (c->role != H2_CONN_SERVER || !c->remote.enable_push || c->goaway_recv) return H2_ERR_STATE;
  h2_stream *a = h2c_stream(c, assoc);
  if (!a || a->local || a->resetting || a->end_sent_queued || !can_send_state(a)) return H2_ERR_STATE;
  if (c->next_local_id > H2_MAX_STREAM_ID) return H2_ERR_LIMIT;
  if (c->mc.used > c->cfg.max_memory) return H2_ERR_LIMIT;
  h2_http_check chk;
  r = check_fields(c, H2_HTTP_PUSH_REQUEST, fields, n, 1, &chk);
  if (r) return r;
  if (over_peer_list(c, fields, n)) return H2_ERR_LIMIT;
  uint32_t id = c->next_local_id;
  h2_stream *s = h2c_stream_new(c, id, 1, H2_STREAM_RESERVED_LOCAL);
  if (!s) return H2_ERR_NOMEM;
  r = h2c_send_header_block(c, assoc, H2_FRAME_PUSH_PROMISE, id, H2_FLAG_END_HEADERS, NULL, fields, n);
  if (r) {
    h2c_stream_unmap(c, s);
    if (s->prio_open) h2_prio_remove(c->prio, id);
    h2c_pool_put(c, &c->stream_pool, s);
    return r;
  }
  c->next_local_id += 2;
  s->pushed = 1;
  s->user = stream_user;
  return (int32_t)id;
}

int h2_conn_submit_altsvc(h2_conn *c, uint32_t id, const char *origin, size_t olen, const char *value,
                          size_t vlen) {
  int r = usable(c);
  if (r) return r;
  if (c->role != H2_CONN_SERVER) return H2_ERR_STATE;
  /* One frame within the smallest MAX_FRAME_SIZE a peer can have. */
  if ((olen && !origin) || (vlen && !value) || olen > H2_MIN_MAX_FRAME_SIZE ||
      vlen > H2_MIN_MAX_FRAME_SIZE || 2 + olen + vlen > H2_MIN_MAX_FRAME_SIZE)
    return H2_ERR_INVALID_ARG;
  h2_cbb b;
  if (h2c_out_begin(c, &b, H2_FRAME_HEADER_LEN + 2 + olen + vlen)) return H2_ERR_NOMEM;
  r = h2_frame_write_altsvc(&b, id, (const uint8_t *)origin, olen, (const uint8_t *)value, vlen);
  if (r) return r;
  return h2c_out_end(c, &b, SEG_FRAMES, 0, 0);
}

int h2_conn_submit_origin(h2_conn *c, const char *const *origins, const size_t *lens, size_t num) {
  int r = usable(c);
  if (r) return r;
  if (c->role != H2_CONN_SERVER) return H2_ERR_STATE;
  if (num > 256 || (num && (!origins || !lens))) return H2_ERR_INVALID_ARG;
  h2_cbs list[256];
  size_t total = 0;
  for (size_t i = 0; i < num; i++) {
    if (lens[i] > 65535 || (lens[i] && !origins[i])) return H2_ERR_INVALID_ARG;
    h2_cbs_init(&list[i], (const uint8_t *)origins[i], lens[i]);
    total += 2 + lens[i];
  }
  if (total > H2_MIN_MAX_FRAME_SIZE) return H2_ERR_INVALID_ARG; /* one frame a peer accepts */
  h2_cbb b;
  if (h2c_out_begin(c, &b, H2_FRAME_HEADER_LEN + total)) return H2_ERR_NOMEM;
  r = h2_frame_write_origin(&b, list, num);
  if (r) return r;
  return h2c_out_end(c, &b, SEG_FRAMES, 0, 0);
}
