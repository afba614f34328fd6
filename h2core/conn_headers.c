/* conn_headers.c: receiving header blocks: HEADERS / PUSH_PROMISE +
 * CONTINUATION (RFC 9113 §4.3, §6.2, §6.6, §6.10, §8).
 *
 * Every block is HPACK-decoded, even for streams we refuse, reset or
 * ignore, so the dynamic table stays in sync. Fields of a block we deliver
 * are collected by the decoder (h2_hpack_decode_collect: strings copied,
 * bounded by the HPACK list-size limit) and checked (http_check.c) after
 * each fragment; the event is emitted at END_HEADERS. CONTINUATION count and compressed block size are limited. */
#include "conn_internal.h"

static void mark_rst(h2_hblock *hb, uint32_t code) {
  if (!hb->rst_set) {
    hb->rst_set = 1;
    hb->rst_code = code;
  }
  hb->deliver = 0;
}

/* Tags of the decoder's marks, what was learned about an entry (dynamic
 * or static) when it first passed: its octets pass the character rules,
 * and MARK_PLAIN: its name is one h2_http_name_plain accepts (no rule but
 * "after every pseudo-header" left); MARK_PSEUDO + k: its name is the
 * pseudo-header of bit 1 << k (h2_http_pseudo_bit; its value's rules and
 * the message's still apply). */
#define MARK_CHECKED 0u
#define MARK_PLAIN 1u
#define MARK_PSEUDO 2u /* .. 7 */

_Static_assert(H2_HPACK_STATIC_NAME >> 8 == H2_HTTP_KNOWN_NAME && H2_HPACK_STATIC_VALUE >> 8 == H2_HTTP_KNOWN_VALUE,
               "static flags map to known flags by a shift");
_Static_assert(H2_HTTP_PH_STATUS == 1u << 5 && MARK_PSEUDO + 5 <= 15, "pseudo-header bits fit the mark tags");

#define DECODER_FLAGS                                                                           \
  (H2_HPACK_STATIC_NAME | H2_HPACK_STATIC_VALUE | H2_HPACK_MARKED | H2_HPACK_MARK_TAG_MASK | \
   H2_HPACK_STATIC_INDEX_MASK)

/* mark_tag classifies a field that passed every check. */
static unsigned mark_tag(const h2_hpack_field *f) {
  if (h2_http_name_plain(f->name, f->name_len)) return MARK_PLAIN;
  uint32_t bit = h2_http_pseudo_bit(f->name, f->name_len);
  if (bit) return MARK_PSEUDO + (unsigned)__builtin_ctz(bit);
  return MARK_CHECKED;
}

/* check_new checks the fields the decoder collected since the last call
 * (the block's fields [hb->num_checked, n)), in order, and takes the
 * decoder's flags off them (the application sees the wire flags only). */
static void check_new(h2_conn *c) {
  h2_hblock *hb = &c->hb;
  size_t n;
  h2_hpack_field *fs = h2_hpack_decoder_collected(c->dec, &n);
  int validate = c->cfg.validate_http != 0;
  for (size_t i = hb->num_checked; i < n; i++) {
    h2_hpack_field *f = &fs[i];
    uint32_t fl = f->flags;
    size_t nlen = f->name_len;
    f->flags = fl & ~(uint32_t)DECODER_FLAGS;
    if (nlen == 8 && memcmp(f->name, "priority", 8) == 0) hb->has_priority_field = 1;
    if (!validate) continue;
    /* Static table strings pass the character rules (every entry does). An
     * entry (dynamic or static) that passed before is marked: its octets
     * are not scanned again, and what its name is was noted in the tag;
     * the remaining rules always apply. */
    if (fl & H2_HPACK_MARKED) {
      unsigned tag = H2_HPACK_MARK_TAG(fl);
      if (tag == MARK_PLAIN) {
        h2_http_check_plain(&hb->chk);
        continue;
      }
      int r = tag >= MARK_PSEUDO ? h2_http_check_pseudo(&hb->chk, 1u << (tag - MARK_PSEUDO), f->value, f->value_len)
                                 : h2_http_check_field_known(&hb->chk, f->name, nlen, f->value, f->value_len,
                                                             H2_HTTP_KNOWN_NAME | H2_HTTP_KNOWN_VALUE);
      if (r) goto bad;
      continue;
    }
    /* (STATIC_NAME and STATIC_VALUE are 0x100 and 0x200: KNOWN_NAME and KNOWN_VALUE shifted) */
    unsigned st = (fl >> 8) & (H2_HTTP_KNOWN_NAME | H2_HTTP_KNOWN_VALUE);
    if (h2_http_check_field_known(&hb->chk, f->name, nlen, f->value, f->value_len, st)) goto bad;
    /* It passed: mark the entry it is, if any (a static one by its index;
     * else a no-op for a field that is no entry). */
    if (st == (H2_HTTP_KNOWN_NAME | H2_HTTP_KNOWN_VALUE))
      h2_hpack_decoder_mark_static(c->dec, H2_HPACK_STATIC_INDEX(fl), mark_tag(f));
    else
      h2_hpack_decoder_mark_collected(c->dec, i, mark_tag(f));
  }
  hb->num_checked = n;
  return;
bad:
  mark_rst(hb, 0x1);
}

static int finish(h2_conn *c, int hpack_result);

/* feed decodes a fragment of the block; the fields of a block we deliver
 * are collected by the decoder (strings copied, bounded by the HPACK
 * list-size limit) and checked (http_check.c) after each fragment. */
static int feed(h2_conn *c, const uint8_t *frag, size_t len, int end) {
  int r = h2_hpack_decode_collect(c->dec, frag, len, end, c->hb.deliver);
  if (c->hb.deliver && (r > 0 || r == H2_ERR_HPACK_LIST_TOO_LARGE || r == H2_ERR_HPACK_TOO_MANY_FIELDS ||
                        r == H2_ERR_HPACK_FIELD_TOO_LONG))
    check_new(c);
  if (r < 0 && (r == H2_ERR_HPACK_LIST_TOO_LARGE || r == H2_ERR_HPACK_TOO_MANY_FIELDS ||
                r == H2_ERR_HPACK_FIELD_TOO_LONG))
    return finish(c, r);
  if (r < 0) {
    if (r == H2_ERR_NOMEM) return h2c_conn_error(c, r, "out of memory");
    return h2c_conn_error(c, H2_ERR_COMPRESSION, h2_strerror(r));
  }
  if (!end) {
    c->expect_cont = 1;
    return 0;
  }
  return finish(c, 0);
}

static int begin(h2_conn *c, uint32_t stream_id, int type, size_t frag_len) {
  h2_hblock *hb = &c->hb;
  int keep_rst = hb->rst_set == 2; /* set by h2c_recv_frame for a codec stream error */
  uint32_t code = hb->rst_code;
  hb->stream_id = stream_id;
  hb->frame_type = (uint8_t)type;
  hb->end_stream = 0;
  hb->deliver = 0;
  hb->has_prio = 0;
  hb->cat = 0;
  hb->promised_id = 0;
  hb->num_cont = 0;
  hb->block_bytes = frag_len;
  hb->rst_set = 0;
  hb->rst_code = 0;
  hb->num_checked = 0;
  hb->has_priority_field = 0;
  if (keep_rst) mark_rst(hb, code);
  if (c->cfg.max_header_block && frag_len > c->cfg.max_header_block)
    return h2c_limit(c, H2_CONN_LIMIT_HEADER_BLOCK, frag_len, 1);
  return 0;
}

/* Judges a HEADERS frame against the stream state; sets deliver/cat/rst. */
static int judge_headers(h2_conn *c, const h2_frame *f) {
  h2_hblock *hb = &c->hb;
  uint32_t id = f->hdr.stream_id;
  int local_id = h2c_is_local_id(c, id);
  uint32_t last = local_id ? c->last_local_id : c->last_peer_id;
  /* Every stream raised its side's last id when it was made
   * (h2c_stream_new): one beyond it does not exist (no map lookup). */
  h2_stream *s = id > last ? NULL : h2c_stream(c, id);
  if (!s) {
    if (id <= last) {
      int kind = h2c_closed_kind(c, id);
      if (kind == CLOSED_RESET_LOCAL) return 0; /* late frame: decode, ignore */
      if (kind == CLOSED_RESET_REMOTE) {
        mark_rst(hb, 0x5);
        return 0;
      }
      if (kind == CLOSED_NORMAL)
        return h2c_conn_error(c, H2_ERR_STREAM_CLOSED, "HEADERS on a closed stream");
      if (local_id) return 0; /* long forgotten stream of ours: ignore */
      return h2c_conn_error(c, H2_ERR_PROTOCOL, "HEADERS on a closed or skipped stream id");
    }
    if (local_id || c->role == H2_CONN_CLIENT)
      return h2c_conn_error(c, H2_ERR_PROTOCOL, "HEADERS opening a stream with a wrong id");
    /* A new request. */
    if (c->goaway_sent && id > c->goaway_sent_last) return 0; /* ignored after GOAWAY */
    if (c->fatal) return c->fatal_err;
    int over_streams = c->max_concurrent_enforced != H2_CONN_UNLIMITED &&
                       c->num_remote >= c->max_concurrent_enforced;
    int over_mem = c->mc.used > c->cfg.max_memory;
    if (over_streams || over_mem || hb->rst_set) {
      c->last_peer_id = id;
      if (!hb->rst_set) {
        mark_rst(hb, 0x7); /* REFUSED_STREAM */
        hb->rst_set = 3;   /* not counted as a peer-caused reset */
        int r = h2c_limit(c, over_mem ? H2_CONN_LIMIT_MEMORY : H2_CONN_LIMIT_CONCURRENT_STREAMS,
                          over_mem ? c->mc.used : c->num_remote, 0);
        if (r < 0) return r;
        if (c->cfg.max_refused_streams && ++c->refused_in_row > c->cfg.max_refused_streams)
          return h2c_limit(c, H2_CONN_LIMIT_REFUSED_STREAMS, c->refused_in_row, 1);
      }
      return 0;
    }
    s = h2c_stream_new(c, id, 0, H2_STREAM_OPEN);
    if (!s) return h2c_conn_error(c, H2_ERR_NOMEM, "out of memory");
    c->hot = s; /* (in the map) the block's end and the application look it up next */
    c->refused_in_row = 0;
    hb->cat = H2_CONN_HEADERS_REQUEST;
    hb->deliver = 1;
    h2_http_check_init(&hb->chk, H2_HTTP_REQUEST, (int)c->local.enable_connect_protocol);
    return 0;
  }
  if (s->resetting || hb->rst_set) return 0;
  switch (s->state) {
    case H2_STREAM_RESERVED_REMOTE:
      h2c_stream_set_state(c, s, H2_STREAM_HALF_CLOSED_LOCAL);
      hb->cat = H2_CONN_HEADERS_RESPONSE;
      break;
    case H2_STREAM_OPEN:
    case H2_STREAM_HALF_CLOSED_LOCAL:
      if (s->rx_phase == PHASE_HEADERS)
        hb->cat = H2_CONN_HEADERS_TRAILERS;
      else if (c->role == H2_CONN_CLIENT)
        hb->cat = H2_CONN_HEADERS_RESPONSE;
      else
        return h2c_conn_error(c, H2_ERR_PROTOCOL, "second request HEADERS on a stream");
      break;
    default:
      mark_rst(hb, 0x5); /* STREAM_CLOSED */
      return 0;
  }
  hb->deliver = 1;
  h2_http_check_init(&hb->chk, hb->cat == H2_CONN_HEADERS_TRAILERS ? H2_HTTP_TRAILERS : H2_HTTP_RESPONSE, 0);
  return 0;
}

int h2c_on_headers(h2_conn *c, const h2_frame *f) {
  h2_hblock *hb = &c->hb;
  size_t len = f->u.headers.fragment_len;
  int r = begin(c, f->hdr.stream_id, H2_FRAME_HEADERS, len);
  if (r < 0) return r;
  hb->end_stream = (f->hdr.flags & H2_FLAG_END_STREAM) != 0;
  int end = (f->hdr.flags & H2_FLAG_END_HEADERS) != 0;
  if (len == 0 && !end && !h2_ratelim_take(&c->rl, H2_RL_EMPTY, 1, c->now))
    return h2c_limit(c, H2_CONN_LIMIT_EMPTY_FRAMES, 0, 1);
  r = judge_headers(c, f);
  if (r < 0 || c->fatal) return c->fatal ? c->fatal_err : r;
  if (f->u.headers.has_priority && !hb->rst_set) {
    hb->has_prio = 1;
    hb->prio = f->u.headers.prio;
    if (!h2_ratelim_take(&c->rl, H2_RL_PRIO, 1, c->now)) return h2c_limit(c, H2_CONN_LIMIT_PRIORITY_RATE, 0, 1);
    if (h2_prio_mode(c->prio) == H2_PRIO_MODE_TREE) {
      h2_prio_spec sp = {hb->prio.dependency, hb->prio.weight, hb->prio.exclusive};
      (void)h2_prio_set(c->prio, f->hdr.stream_id, &sp);
    }
  }
  return feed(c, f->u.headers.fragment, len, end);
}

int h2c_on_push_promise(h2_conn *c, const h2_frame *f) {
  h2_hblock *hb = &c->hb;
  if (c->role == H2_CONN_SERVER) return h2c_conn_error(c, H2_ERR_PROTOCOL, "PUSH_PROMISE sent to a server");
  if (!c->local.enable_push) return h2c_conn_error(c, H2_ERR_PROTOCOL, "PUSH_PROMISE with push disabled");
  uint32_t assoc = f->hdr.stream_id, pid = f->u.push_promise.promised_id;
  if (h2c_is_local_id(c, pid) || pid <= c->last_peer_id)
    return h2c_conn_error(c, H2_ERR_PROTOCOL, "PUSH_PROMISE with an invalid promised stream id");
  size_t len = f->u.push_promise.fragment_len;
  int r = begin(c, assoc, H2_FRAME_PUSH_PROMISE, len);
  if (r < 0) return r;
  hb->promised_id = pid;
  hb->cat = H2_CONN_HEADERS_PUSH_PROMISE;
  c->last_peer_id = pid;
  h2_stream *a = h2c_stream(c, assoc);
  if (!a) {
    if (h2_conn_stream_state(c, assoc) == H2_STREAM_IDLE || !h2c_is_local_id(c, assoc))
      return h2c_conn_error(c, H2_ERR_PROTOCOL, "PUSH_PROMISE on an invalid stream");
    mark_rst(hb, 0x8); /* our request is gone: CANCEL the push */
  } else if (!a->local || (a->state != H2_STREAM_OPEN && a->state != H2_STREAM_HALF_CLOSED_LOCAL)) {
    return h2c_conn_error(c, H2_ERR_PROTOCOL, "PUSH_PROMISE on a stream that cannot carry it");
  } else if (a->resetting) {
    mark_rst(hb, 0x8);
  } else if (c->cfg.max_reserved_streams && c->num_reserved_remote >= c->cfg.max_reserved_streams) {
    mark_rst(hb, 0x7);
    hb->rst_set = 3;
    r = h2c_limit(c, H2_CONN_LIMIT_RESERVED_STREAMS, c->num_reserved_remote, 0);
    if (r < 0) return r;
  } else if (c->mc.used > c->cfg.max_memory) {
    mark_rst(hb, 0x7);
    hb->rst_set = 3;
  } else {
    h2_stream *s = h2c_stream_new(c, pid, 0, H2_STREAM_RESERVED_REMOTE);
    if (!s) return h2c_conn_error(c, H2_ERR_NOMEM, "out of memory");
    s->pushed = 1;
    hb->deliver = 1;
    h2_http_check_init(&hb->chk, H2_HTTP_PUSH_REQUEST, 0);
  }
  int end = (f->hdr.flags & H2_FLAG_END_HEADERS) != 0;
  return feed(c, f->u.push_promise.fragment, len, end);
}

int h2c_on_continuation(h2_conn *c, const h2_frame *f) {
  h2_hblock *hb = &c->hb;
  if (!c->expect_cont) return h2c_conn_error(c, H2_ERR_PROTOCOL, "CONTINUATION without a header block");
  size_t len = f->u.continuation.fragment_len;
  int end = (f->hdr.flags & H2_FLAG_END_HEADERS) != 0;
  if (c->cfg.max_continuations && ++hb->num_cont > c->cfg.max_continuations)
    return h2c_limit(c, H2_CONN_LIMIT_CONTINUATIONS, hb->num_cont, 1);
  hb->block_bytes += len;
  if (c->cfg.max_header_block && hb->block_bytes > c->cfg.max_header_block)
    return h2c_limit(c, H2_CONN_LIMIT_HEADER_BLOCK, hb->block_bytes, 1);
  if (len == 0 && !end && !h2_ratelim_take(&c->rl, H2_RL_EMPTY, 1, c->now))
    return h2c_limit(c, H2_CONN_LIMIT_EMPTY_FRAMES, 0, 1);
  return feed(c, f->u.continuation.fragment, len, end);
}

/* END_HEADERS (or a soft HPACK limit error at the end of the block). */
static int finish(h2_conn *c, int hpack_result) {
  h2_hblock *hb = &c->hb;
  c->expect_cont = 0;
  uint32_t target = hb->frame_type == H2_FRAME_PUSH_PROMISE ? hb->promised_id : hb->stream_id;
  if (hpack_result < 0 && !hb->rst_set) {
    if (hb->deliver) {
      int r = h2c_limit(c, H2_CONN_LIMIT_HEADER_LIST, 0, 0);
      if (r < 0) return r;
    }
    mark_rst(hb, h2_err_rfc_code(hpack_result));
  }
  if (hb->deliver && c->cfg.validate_http && h2_http_check_end(&hb->chk, hb->end_stream))
    mark_rst(hb, 0x1);
  if (hb->rst_set) {
    int peer_caused = hb->rst_set != 3;
    hb->deliver = 0;
    return h2c_stream_error(c, target, hb->rst_code, peer_caused);
  }
  if (!hb->deliver) return 0;
  h2_stream *s = h2c_stream(c, target);
  if (!s) return 0;
  int cat = hb->cat;
  if (cat == H2_CONN_HEADERS_RESPONSE && h2_http_check_is_info(&hb->chk)) cat = H2_CONN_HEADERS_INFO;
  switch (cat) {
    case H2_CONN_HEADERS_REQUEST:
    case H2_CONN_HEADERS_RESPONSE:
      s->rx_phase = PHASE_HEADERS;
      s->content_length = hb->chk.content_length;
      if (cat == H2_CONN_HEADERS_RESPONSE && (s->head_request || hb->chk.status == 304 || hb->chk.status == 204))
        s->no_body_check = 1;
      if (cat == H2_CONN_HEADERS_REQUEST && hb->chk.method == H2_HTTP_METHOD_HEAD) s->head_request = 1;
      break;
    case H2_CONN_HEADERS_INFO: s->rx_phase = PHASE_INFO; break;
    case H2_CONN_HEADERS_TRAILERS: s->rx_phase = PHASE_TRAILERS; break;
    default: break;
  }
  static const h2_hpack_field none[1];
  size_t n = hb->num_checked, ncollected;
  const h2_hpack_field *fields = n ? h2_hpack_decoder_collected(c->dec, &ncollected) : none;
  if (cat == H2_CONN_HEADERS_REQUEST && hb->has_priority_field)
    for (size_t i = 0; i < n; i++)
      if (fields[i].name_len == 8 && memcmp(fields[i].name, "priority", 8) == 0)
        (void)h2_prio_set_header(c->prio, target, (const uint8_t *)fields[i].value, fields[i].value_len);
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_HEADERS;
  ev.stream_id = hb->stream_id;
  ev.u.headers.fields = fields;
  ev.u.headers.num_fields = n;
  ev.u.headers.category = (h2_conn_headers_cat)cat;
  ev.u.headers.end_stream = hb->end_stream;
  ev.u.headers.promised_id = hb->promised_id;
  ev.u.headers.prio = hb->has_prio ? &hb->prio : NULL;
  int r;
  if (target == hb->stream_id) { /* not a PUSH_PROMISE: |s| is the event's stream */
    ev.stream_user = s->user;
    r = h2c_emit_known(c, &ev);
  } else {
    r = h2c_emit(c, &ev);
  }
  if (r < 0) return r;
  if (hb->end_stream && cat != H2_CONN_HEADERS_PUSH_PROMISE) {
    s = h2c_stream(c, target);
    if (s && !s->resetting) {
      if (s->content_length > 0 && c->cfg.validate_http && !s->no_body_check && cat != H2_CONN_HEADERS_TRAILERS)
        return h2c_stream_error(c, target, 0x1, 1);
      if (cat == H2_CONN_HEADERS_TRAILERS && s->content_length >= 0 && c->cfg.validate_http &&
          s->data_received != (uint64_t)s->content_length && !s->no_body_check)
        return h2c_stream_error(c, target, 0x1, 1);
      h2c_stream_end_remote(c, s);
    }
  }
  return c->fatal ? c->fatal_err : 0;
}
