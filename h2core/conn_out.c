/* conn_out.c: the output queue.
 *
 * Output is an ordered list of segments. An engine segment is a range of
 * |obuf| (frame headers, control frames, header blocks); a chunk segment
 * points into an application DATA buffer (never copied). h2_conn_output
 * hands the pending segments out as iovecs; h2_conn_output_done advances
 * over them and runs each segment's completion action (traces, buffer
 * release, stream reset completion). Wire order is segment order, which is
 * also the order header blocks were HPACK-encoded in. */
#include "conn_internal.h"

static int ensure_obuf(h2_conn *c, size_t n) {
  if (c->obuf_cap - c->obuf_len >= n) return 0;
  size_t need = c->obuf_len + n;
  if (need < c->obuf_len) return H2_ERR_NOMEM;
  size_t ncap = c->obuf_cap ? c->obuf_cap : c->obuf_hint;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2) return H2_ERR_NOMEM;
    ncap *= 2;
  }
  uint8_t *nb = h2_mem_realloc(&c->mem, c->obuf, ncap);
  if (!nb) return H2_ERR_NOMEM;
  c->obuf = nb;
  c->obuf_cap = ncap;
  return 0;
}

static h2_oseg *seg_push(h2_conn *c) {
  if (c->seg_head + c->seg_count == c->seg_cap) {
    if (c->seg_head > 0) {
      memmove(c->segs, c->segs + c->seg_head, c->seg_count * sizeof *c->segs);
      c->seg_head = 0;
    }
    if (c->seg_count == c->seg_cap) {
      size_t ncap = c->seg_cap ? (size_t)c->seg_cap * 2 : c->seg_hint;
      if (ncap > UINT32_MAX) return NULL;
      h2_oseg *ns = h2_mem_realloc(&c->mem, c->segs, ncap * sizeof *ns);
      if (!ns) return NULL;
      c->segs = ns;
      c->seg_cap = (uint32_t)ncap;
    }
  }
  h2_oseg *s = &c->segs[c->seg_head + c->seg_count++];
  memset(s, 0, sizeof *s);
  return s;
}

uint8_t *h2c_out_reserve(h2_conn *c, size_t n) {
  if (ensure_obuf(c, n)) return NULL;
  uint8_t *p = c->obuf + c->obuf_len;
  c->obuf_len += n;
  return p;
}

/* h2c_out_ensure makes room for |nsegs| more segments and |nbytes| more
 * obuf bytes, so the pushes and commits that follow cannot fail (a frame
 * is never left half-queued, and HPACK state never runs ahead of what is
 * queued). */
int h2c_out_ensure(h2_conn *c, size_t nsegs, size_t nbytes) {
  if (ensure_obuf(c, nbytes)) return H2_ERR_NOMEM;
  if (c->seg_cap - c->seg_count < nsegs) {
    size_t ncap = c->seg_cap ? c->seg_cap : c->seg_hint;
    while (ncap - c->seg_count < nsegs) ncap *= 2;
    if (ncap > UINT32_MAX) return H2_ERR_NOMEM;
    if (c->seg_head > 0) {
      memmove(c->segs, c->segs + c->seg_head, c->seg_count * sizeof *c->segs);
      c->seg_head = 0;
    }
    h2_oseg *ns = h2_mem_realloc(&c->mem, c->segs, ncap * sizeof *ns);
    if (!ns) return H2_ERR_NOMEM;
    c->segs = ns;
    c->seg_cap = (uint32_t)ncap;
  }
  return 0;
}

int h2c_out_begin(h2_conn *c, h2_cbb *b, size_t max) {
  if (h2c_out_ensure(c, 1, max)) return H2_ERR_NOMEM;
  h2_cbb_init(b, c->obuf + c->obuf_len, max);
  return 0;
}

/* h2c_out_commit turns obuf[start .. obuf_len) into a segment. Consecutive
 * SEG_FRAMES segments merge (fewer iovecs). */
int h2c_out_commit(h2_conn *c, size_t start, uint8_t action, uint32_t stream_id, uint32_t code) {
  size_t len = c->obuf_len - start;
  if (len == 0) return 0;
  if (action == SEG_FRAMES && c->seg_count) {
    h2_oseg *last = &c->segs[c->seg_head + c->seg_count - 1];
    if (!last->chunk && last->action == SEG_FRAMES && last->off + last->len == start) {
      last->len += len;
      last->code += code;
      c->pending_bytes += len;
      return 0;
    }
  }
  h2_oseg *s = seg_push(c);
  if (!s) {
    c->obuf_len = start;
    return H2_ERR_NOMEM;
  }
  s->off = start;
  s->len = len;
  s->action = action;
  s->stream_id = stream_id;
  s->code = code;
  c->pending_bytes += len;
  return 0;
}

int h2c_out_end(h2_conn *c, h2_cbb *b, uint8_t action, uint32_t stream_id, uint32_t code) {
  if (!h2_cbb_ok(b)) return H2_ERR_INTERNAL;
  size_t start = c->obuf_len;
  c->obuf_len += b->len;
  return h2c_out_commit(c, start, action, stream_id, code);
}

int h2c_out_chunk(h2_conn *c, h2_dchunk *ch, size_t off, size_t len) {
  h2_oseg *s = seg_push(c);
  if (!s) return H2_ERR_NOMEM;
  s->chunk = ch;
  s->ptr = ch->data + off;
  s->len = len;
  ch->refs++;
  c->pending_bytes += len;
  return 0;
}

void h2c_chunk_unref(h2_conn *c, h2_dchunk *ch) {
  if (--ch->refs) return;
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_DATA_RELEASED;
  ev.u.released.data = ch->copied ? NULL : ch->data;
  ev.u.released.len = ch->len;
  ev.u.released.user = ch->user;
  ev.u.released.sent = !ch->dropped;
  if (ch->copied)
    h2c_free(c, ch);
  else
    h2c_pool_put(c, &c->chunk_pool, ch);
  int saved = c->in_cb;
  c->in_cb = 1;
  (void)c->cb(c, &ev, c->user);
  c->in_cb = saved;
}

void h2c_out_free(h2_conn *c) {
  for (size_t i = 0; i < c->seg_count; i++) {
    h2_oseg *s = &c->segs[c->seg_head + i];
    if (s->chunk) {
      s->chunk->dropped = 1;
      h2c_chunk_unref(c, s->chunk);
    }
  }
  h2c_free(c, c->segs);
  h2c_free(c, c->obuf);
  c->segs = NULL;
  c->obuf = NULL;
  c->seg_count = c->seg_cap = c->seg_head = 0;
}

/* Drops obuf bytes no pending segment needs. Only between calls. */
static void compact(h2_conn *c) {
  if (c->seg_count == 0) {
    c->obuf_len = 0;
    c->seg_head = 0;
    return;
  }
  size_t first = SIZE_MAX;
  for (size_t i = 0; i < c->seg_count; i++) {
    h2_oseg *s = &c->segs[c->seg_head + i];
    if (seg_in_obuf(s)) {
      first = s->off;
      break;
    }
  }
  if (first == SIZE_MAX) {
    c->obuf_len = 0;
    return;
  }
  if (first < 65536 && first * 2 < c->obuf_len) return;
  if (first == 0) return;
  memmove(c->obuf, c->obuf + first, c->obuf_len - first);
  c->obuf_len -= first;
  for (size_t i = 0; i < c->seg_count; i++) {
    h2_oseg *s = &c->segs[c->seg_head + i];
    if (seg_in_obuf(s)) s->off -= first;
  }
}

static void trace_frames(h2_conn *c, const uint8_t *p, size_t len) {
  h2_cbs in;
  h2_cbs_init(&in, p, len);
  while (h2_cbs_len(&in) >= H2_FRAME_HEADER_LEN) {
    h2_frame f;
    int r = h2_frame_parse(&in, H2_MAX_MAX_FRAME_SIZE, &f);
    if (r == H2_ERR_INCOMPLETE || (r < 0 && h2_cbs_len(&in) == len)) break;
    h2_conn_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = H2_CONN_EV_FRAME_SENT;
    ev.stream_id = f.hdr.stream_id;
    ev.u.frame.frame = &f;
    (void)h2c_emit(c, &ev);
    len = h2_cbs_len(&in);
  }
}

static void complete(h2_conn *c, const h2_oseg *s) {
  if (s->chunk) h2c_chunk_unref(c, s->chunk);
  switch (s->action) {
    case SEG_FRAMES:
    case SEG_RST:
    case SEG_GOAWAY:
      if (s->action == SEG_FRAMES) c->num_control -= s->code;
      if (c->trace && !s->chunk && c->obuf) trace_frames(c, c->obuf + s->off, s->len);
      /* A GOAWAY with an error code ends every stream once it is out. */
      if (s->action == SEG_GOAWAY && s->code != 0) h2c_close_all(c, H2_CONN_CLOSE_CONNECTION, s->code);
      break;
    case SEG_DATA:
      if (c->trace) {
        h2_frame f;
        memset(&f, 0, sizeof f);
        f.hdr.type = H2_FRAME_DATA;
        f.type = H2_FRAME_DATA;
        f.hdr.flags = s->flags;
        f.hdr.stream_id = s->stream_id;
        f.hdr.length = s->code;
        f.u.data.len = s->code;
        h2_conn_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = H2_CONN_EV_FRAME_SENT;
        ev.stream_id = s->stream_id;
        ev.u.frame.frame = &f;
        (void)h2c_emit(c, &ev);
      }
      break;
    default: break;
  }
  if (s->action == SEG_RST) {
    h2_stream *st = h2c_stream(c, s->stream_id);
    if (st && st->resetting) {
      h2_conn_event ev;
      memset(&ev, 0, sizeof ev);
      ev.type = H2_CONN_EV_STREAM_RESET;
      ev.stream_id = st->id;
      ev.stream_user = st->user;
      ev.u.reset.error_code = s->code;
      ev.u.reset.remote = 0;
      (void)h2c_emit_known(c, &ev);
      st = h2c_stream(c, s->stream_id);
      if (st) h2c_stream_close(c, st, H2_CONN_CLOSE_RESET_LOCAL, s->code);
    }
  }
}

int h2_conn_output(h2_conn *c, h2_iov *iov, int max_iov, uint64_t now_ms) {
  if (c->in_cb) return H2_ERR_STATE;
  if (!iov || max_iov < 1) return H2_ERR_INVALID_ARG;
  h2c_touch(c, now_ms);
  /* Our first SETTINGS (queued by h2_conn_new, which has no clock) counts
   * as sent when it is first handed out: its ACK timeout starts here, not
   * at an earlier h2_conn_recv or h2_conn_timeout (a TLS handshake may run
   * between creation and the first output). */
  if (c->num_pend && c->rare->pend_sent_ms[0] == UINT64_MAX) c->rare->pend_sent_ms[0] = now_ms;
  compact(c);
  if (c->pending_bytes < c->cfg.output_high_water && !c->eof) {
    int r = h2c_produce(c);
    if (r < 0 && !c->fatal) return h2c_conn_error(c, r, "out of memory");
  }
  /* Segments that follow each other in obuf go out as one iovec. */
  int n = 0;
  for (size_t i = 0; i < c->seg_count; i++) {
    h2_oseg *s = &c->segs[c->seg_head + i];
    const uint8_t *base = (seg_in_obuf(s) ? c->obuf + s->off : s->ptr) + s->done;
    size_t len = s->len - s->done;
    if (n > 0 && iov[n - 1].base + iov[n - 1].len == base) {
      iov[n - 1].len += len;
      continue;
    }
    if (n == max_iov) break;
    iov[n].base = base;
    iov[n].len = len;
    n++;
  }
  return n;
}

/* release_idle gives the output buffer, the segment array, the frame
 * payload buffer and the header-block scratch back to the allocator once
 * the connection goes idle: every output byte written and no stream left.
 * An idle connection then holds none of them; they come back at their
 * first use at the size they had (up to OUT_HINT_MAX octets), so a busy
 * connection pays one allocation per buffer per idle transition, not a
 * series of reallocations, and nothing per request while streams overlap. */
#define OUT_HINT_MAX 65536
#define IDLE_POOL_KEEP_MAX 4
void h2c_release_idle(h2_conn *c) {
  if (c->seg_count || c->streams.count || c->num_deferred) return;
  if (c->obuf) {
    c->obuf_hint = c->obuf_cap < OUT_HINT_MAX ? c->obuf_cap : OUT_HINT_MAX;
    h2c_free(c, c->obuf);
    c->obuf = NULL;
    c->obuf_len = c->obuf_cap = 0;
  }
  if (c->segs) {
    c->seg_hint = c->seg_cap * sizeof *c->segs < OUT_HINT_MAX ? c->seg_cap : OUT_HINT_MAX / sizeof *c->segs;
    h2c_free(c, c->segs);
    c->segs = NULL;
    c->seg_head = c->seg_cap = 0;
  }
  if (c->ibuf && c->in_state != IN_PAYLOAD) {
    h2c_free(c, c->ibuf);
    c->ibuf = NULL;
    c->ibuf_cap = c->ibuf_got = 0;
  }
  /* A small stream map goes; a big one (many streams at once) stays for
   * the next burst instead of being cleared and refilled each time. */
  if (c->streams.slots && c->streams.cap <= 8) h2_idmap_release(&c->streams, &c->mem);
  /* Pools holding few blocks go back; a busy connection keeps
   * its pools for the next burst (refilling them costs an allocation per
   * stream). */
  if (c->stream_pool.count <= IDLE_POOL_KEEP_MAX) h2c_pool_drain(c, &c->stream_pool);
  if (c->chunk_pool.count <= IDLE_POOL_KEEP_MAX) h2c_pool_drain(c, &c->chunk_pool);
  h2c_rare_release(c);
  h2_prio_trim(c->prio);
  h2_hpack_encoder_trim(c->enc);
  h2_hpack_decoder_trim(c->dec); /* (also the collected fields, not in use between blocks) */
}

int h2_conn_output_done(h2_conn *c, size_t nbytes) {
  if (c->in_cb) return H2_ERR_STATE;
  if (nbytes > c->pending_bytes) return H2_ERR_INVALID_ARG;
  while (nbytes > 0 && c->seg_count) {
    h2_oseg *s = &c->segs[c->seg_head];
    size_t take = s->len - s->done;
    if (take > nbytes) take = nbytes;
    s->done += take;
    nbytes -= take;
    c->pending_bytes -= take;
    if (s->done < s->len) break;
    h2_oseg copy = *s;
    c->seg_head++;
    c->seg_count--;
    if (c->seg_count == 0) c->seg_head = 0;
    complete(c, &copy);
  }
  compact(c);
  if (c->seg_count == 0) h2c_release_idle(c);
  return 0;
}

int h2_conn_send(h2_conn *c, uint8_t *buf, size_t cap, uint64_t now_ms) {
  if (c->in_cb) return H2_ERR_STATE;
  size_t total = 0;
  if (cap > INT32_MAX) cap = INT32_MAX;
  while (total < cap) {
    h2_iov iov[16];
    int n = h2_conn_output(c, iov, 16, now_ms);
    if (n < 0) return n;
    if (n == 0) break;
    size_t got = 0;
    for (int i = 0; i < n && total + got < cap; i++) {
      size_t take = iov[i].len;
      if (take > cap - total - got) take = cap - total - got;
      memcpy(buf + total + got, iov[i].base, take);
      got += take;
    }
    int r = h2_conn_output_done(c, got);
    if (r) return r;
    total += got;
  }
  return (int)total;
}
