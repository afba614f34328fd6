/* conn_data.c: receiving DATA (RFC 9113 §6.1), streamed.
 *
 * At the frame header the whole length (padding included) is charged to the
 * connection window and, for a live stream, to the stream window; then the
 * stream is judged. Data for a stream that cannot take it (closed, reset,
 * not open, window exceeded, before HEADERS) is skipped and its bytes are
 * returned to the connection window at once; the matching stream error (or
 * none, for streams we reset) is sent. Accepted bytes are delivered in
 * pieces as they arrive, content-length is tracked, END_STREAM is applied
 * after the last byte (padding included). */
#include "conn_internal.h"

/* Skips the current frame's payload: returns its bytes to the connection. */
static void discard(h2_conn *c) {
  c->data_deliver = 0;
  h2c_flow_consumed_conn(c, c->fh.length);
}

int h2c_data_begin(h2_conn *c) {
  uint32_t id = c->fh.stream_id;
  uint32_t len = c->fh.length;
  c->data_stream = id;
  c->data_deliver = 0;
  c->pad_left = 0;
  c->data_left = len;
  if (id == 0) return h2c_conn_error(c, H2_ERR_PROTOCOL, "DATA on stream 0");
  if ((c->fh.flags & H2_FLAG_PADDED) && len == 0)
    return h2c_conn_error(c, H2_ERR_FRAME_SIZE, "padded DATA without a Pad Length field");
  if (len == 0 && !(c->fh.flags & H2_FLAG_END_STREAM) && !h2_ratelim_take(&c->rl, H2_RL_EMPTY, 1, c->now))
    return h2c_limit(c, H2_CONN_LIMIT_EMPTY_FRAMES, 0, 1);
  if (c->trace) {
    h2_frame f;
    memset(&f, 0, sizeof f);
    f.hdr = c->fh;
    f.type = H2_FRAME_DATA;
    f.u.data.len = len;
    h2_conn_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = H2_CONN_EV_FRAME_RECV;
    ev.stream_id = id;
    ev.u.frame.frame = &f;
    int r = h2c_emit(c, &ev);
    if (r < 0) return r;
  }
  h2_stream *s = h2c_stream(c, id);
  if (s && s->resetting) s = NULL;
  int fr = h2c_flow_recv(c, s, len);
  if (fr < 0) return fr;
  c->in_state = (c->fh.flags & H2_FLAG_PADDED) ? IN_DATA_PADLEN : IN_DATA;
  uint32_t err = 0;
  if (!s) {
    if (h2_conn_stream_state(c, id) == H2_STREAM_IDLE)
      return h2c_conn_error(c, H2_ERR_PROTOCOL, "DATA on an idle stream");
    int kind = h2c_closed_kind(c, id);
    if (kind != CLOSED_RESET_LOCAL && !h2c_stream(c, id)) err = 0x5; /* STREAM_CLOSED */
  } else if (fr == 1) {
    err = 0x3; /* FLOW_CONTROL_ERROR */
  } else if (s->state != H2_STREAM_OPEN && s->state != H2_STREAM_HALF_CLOSED_LOCAL) {
    err = 0x5;
  } else if (s->rx_phase != PHASE_HEADERS) {
    err = 0x1; /* DATA before the final HEADERS: malformed */
  } else {
    c->data_deliver = 1;
  }
  if (!c->data_deliver) {
    /* |s| may hold this frame's bytes if only its window failed; return
     * them to the connection through the stream close. */
    if (s && fr == 0) {
      s->recv_window += len;
      s->recv_unconsumed -= len;
    }
    discard(c);
    if (err) {
      int r = h2c_stream_error(c, id, err, 1);
      if (r < 0) return r;
    }
  }
  if (len == 0) {
    c->in_state = IN_HDR;
    return h2c_data_end(c);
  }
  if (!(c->fh.flags & H2_FLAG_PADDED)) return h2c_data_check_len(c);
  return 0;
}

/* Once the payload length without padding is known: a frame that would
 * carry the body past content-length is refused before any byte of it is
 * delivered (so the events do not depend on the input split). */
int h2c_data_check_len(h2_conn *c) {
  if (!c->data_deliver || !c->cfg.validate_http) return 0;
  h2_stream *s = h2c_stream(c, c->data_stream);
  if (!s || s->content_length < 0) return 0;
  if (s->data_received + c->data_left > (uint64_t)s->content_length) {
    c->data_deliver = 0;
    return h2c_stream_error(c, s->id, 0x1, 1);
  }
  return 0;
}

int h2c_data_bytes(h2_conn *c, const uint8_t *p, size_t n) {
  if (!c->data_deliver || n == 0) return 0;
  h2_stream *s = h2c_stream(c, c->data_stream);
  if (!s || s->resetting) {
    c->data_deliver = 0; /* its close returned the bytes to the connection */
    return 0;
  }
  s->data_received += n;
  if (c->cfg.validate_http && s->content_length >= 0 && s->data_received > (uint64_t)s->content_length) {
    c->data_deliver = 0;
    return h2c_stream_error(c, s->id, 0x1, 1);
  }
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_DATA;
  ev.stream_id = s->id;
  ev.stream_user = s->user;
  ev.u.data.data = p;
  ev.u.data.len = n;
  ev.u.data.end_stream = c->data_left == 0 && c->pad_left == 0 && (c->fh.flags & H2_FLAG_END_STREAM);
  uint32_t id = s->id;
  int r = h2c_emit_known(c, &ev);
  if (r < 0) return r;
  /* auto mode: consumed now; the WINDOW_UPDATE decision waits for the
   * frame end so the output does not depend on how the input was split. */
  if (c->cfg.auto_window_update) h2c_flow_consumed_quiet(c, h2c_stream(c, id), n);
  return 0;
}

int h2c_data_end(h2_conn *c) {
  if (c->data_deliver && c->cfg.auto_window_update) {
    int r = h2c_flow_credit(c, h2c_stream(c, c->data_stream));
    if (r < 0) return r;
  }
  if (!c->data_deliver || !(c->fh.flags & H2_FLAG_END_STREAM)) return 0;
  c->data_deliver = 0;
  h2_stream *s = h2c_stream(c, c->data_stream);
  if (!s || s->resetting) return 0;
  if (c->cfg.validate_http && s->content_length >= 0 && !s->no_body_check &&
      s->data_received != (uint64_t)s->content_length)
    return h2c_stream_error(c, s->id, 0x1, 1);
  h2c_stream_end_remote(c, s);
  return c->fatal ? c->fatal_err : 0;
}
