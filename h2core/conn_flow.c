/* conn_flow.c: flow control (RFC 9113 §5.2, §6.9).
 *
 * Windows are int64: a lowered SETTINGS_INITIAL_WINDOW_SIZE can make a send
 * window negative, and every increment is checked against 2^31-1 before it
 * is applied.
 *
 * Receive side, per stream and for the connection: |recv_window| is what
 * the peer may still send; |recv_unconsumed| what arrived but the
 * application has not consumed yet. The credit we may return is
 * target - recv_window - recv_unconsumed; a WINDOW_UPDATE goes out when it
 * reaches |window_update_threshold| percent of the target (batching).
 * Padding and data nobody will read are consumed at once. The connection
 * also counts |recv_unreturned|: octets received that no WINDOW_UPDATE has
 * given back yet (Node's effectiveRecvDataLength). */
#include "conn_internal.h"

static int64_t threshold(const h2_conn *c, int64_t target) {
  int64_t t = target * c->cfg.window_update_threshold / 100;
  return t > 0 ? t : 1;
}

/* Sends the connection WINDOW_UPDATE if enough credit has accumulated
 * (|force|: any positive credit). */
static int conn_credit(h2_conn *c, int force) {
  int64_t credit = c->recv_target - c->recv_window - (int64_t)c->recv_unconsumed;
  if (credit <= 0 || (!force && credit < threshold(c, c->recv_target))) return 0;
  if (credit > (int64_t)H2_MAX_WINDOW) credit = H2_MAX_WINDOW;
  if (c->fatal || c->goaway_sent == 2) return 0;
  int r = h2c_send_window_update(c, 0, (uint32_t)credit);
  if (r) return r;
  c->recv_window += credit;
  c->recv_unreturned -= (uint64_t)credit < c->recv_unreturned ? (uint64_t)credit : c->recv_unreturned;
  return 0;
}

static int stream_credit(h2_conn *c, h2_stream *s) {
  if (s->state != H2_STREAM_OPEN && s->state != H2_STREAM_HALF_CLOSED_LOCAL) return 0;
  if (s->resetting || c->fatal || c->goaway_sent == 2) return 0; /* nothing after an error GOAWAY */
  int64_t target = c->local.initial_window_size;
  int64_t credit = target - s->recv_window - (int64_t)s->recv_unconsumed;
  if (credit <= 0 || credit < threshold(c, target)) return 0;
  if (credit > (int64_t)H2_MAX_WINDOW) credit = H2_MAX_WINDOW;
  int r = h2c_send_window_update(c, s->id, (uint32_t)credit);
  if (r) return r;
  s->recv_window += credit;
  return 0;
}

/* A DATA frame of |len| bytes (padding included) arrived for |s| (NULL if
 * the stream is gone). Returns 0, 1 when the stream window is exceeded
 * (stream error FLOW_CONTROL_ERROR; the connection window was still
 * charged), or a connection error. */
int h2c_flow_recv(h2_conn *c, h2_stream *s, size_t len) {
  if ((int64_t)len > c->recv_window)
    return h2c_conn_error(c, H2_ERR_FLOW_CONTROL, "DATA exceeds the connection window");
  c->recv_window -= (int64_t)len;
  c->recv_unconsumed += len;
  c->recv_unreturned += len;
  if (!s) return 0;
  if ((int64_t)len > s->recv_window) return 1;
  s->recv_window -= (int64_t)len;
  s->recv_unconsumed += len;
  return 0;
}

void h2c_flow_consumed_conn(h2_conn *c, size_t n) {
  if (n > c->recv_unconsumed) n = (size_t)c->recv_unconsumed;
  c->recv_unconsumed -= n;
  int r = conn_credit(c, 0);
  if (r) (void)h2c_conn_error(c, r, "out of memory");
}

void h2c_flow_consumed(h2_conn *c, h2_stream *s, size_t n) {
  if (s) {
    size_t sn = n > s->recv_unconsumed ? (size_t)s->recv_unconsumed : n;
    s->recv_unconsumed -= sn;
    int r = stream_credit(c, s);
    if (r) (void)h2c_conn_error(c, r, "out of memory");
  }
  h2c_flow_consumed_conn(c, n);
}

void h2c_flow_consumed_quiet(h2_conn *c, h2_stream *s, size_t n) {
  if (s) s->recv_unconsumed -= n > s->recv_unconsumed ? s->recv_unconsumed : n;
  c->recv_unconsumed -= n > c->recv_unconsumed ? c->recv_unconsumed : n;
}

int h2c_flow_credit(h2_conn *c, h2_stream *s) {
  int r = s ? stream_credit(c, s) : 0;
  if (!r) r = conn_credit(c, 0);
  return r ? h2c_conn_error(c, r, "out of memory") : 0;
}

int h2_conn_consume(h2_conn *c, uint32_t id, size_t n) {
  if (c->fatal || c->eof) return H2_ERR_CLOSED;
  h2_stream *s = h2c_stream(c, id);
  h2c_flow_consumed(c, s, n);
  return s || id == 0 ? 0 : H2_ERR_NOT_FOUND;
}

uint64_t h2_conn_recv_unreturned(const h2_conn *c) { return c->recv_unreturned; }

int64_t h2_conn_effective_local_window(const h2_conn *c) {
  return c->recv_window + (int64_t)c->recv_unreturned;
}

int h2_conn_set_local_window_size(h2_conn *c, uint32_t size) {
  if (size > H2_MAX_WINDOW) return H2_ERR_INVALID_ARG;
  if (c->fatal || c->eof) return H2_ERR_CLOSED;
  c->recv_target = size;
  return conn_credit(c, 1);
}

/* The peer changed SETTINGS_INITIAL_WINDOW_SIZE: shift every stream's send
 * window by the difference (§6.9.2). Overflow is a connection
 * FLOW_CONTROL_ERROR. */
int h2c_flow_shift_initial(h2_conn *c, uint32_t old_iws, uint32_t new_iws) {
  int64_t delta = (int64_t)new_iws - (int64_t)old_iws;
  if (delta == 0) return 0;
  for (uint32_t i = 0; i < c->streams.cap; i++) {
    h2_stream *s = c->streams.slots[i].val;
    if (!c->streams.slots[i].key) continue;
    if (s->send_window + delta > (int64_t)H2_MAX_WINDOW)
      return h2c_conn_error(c, H2_ERR_FLOW_CONTROL, "INITIAL_WINDOW_SIZE overflows a stream window");
    s->send_window += delta;
  }
  h2c_ready_all(c);
  return 0;
}

/* Our own INITIAL_WINDOW_SIZE change was acked: shift receive windows. */
void h2c_flow_shift_local_initial(h2_conn *c, uint32_t old_iws, uint32_t new_iws) {
  int64_t delta = (int64_t)new_iws - (int64_t)old_iws;
  if (delta == 0) return;
  for (uint32_t i = 0; i < c->streams.cap; i++) {
    h2_stream *s = c->streams.slots[i].val;
    if (!c->streams.slots[i].key) continue;
    s->recv_window += delta;
    if (delta > 0 && stream_credit(c, s)) {
      (void)h2c_conn_error(c, H2_ERR_NOMEM, "out of memory");
      return;
    }
  }
}

int h2c_on_window_update(h2_conn *c, const h2_frame *f) {
  uint32_t id = f->hdr.stream_id;
  uint32_t inc = f->u.window_update.increment;
  if (!h2_ratelim_take(&c->rl, H2_RL_WU, 1, c->now))
    return h2c_limit(c, H2_CONN_LIMIT_WINDOW_UPDATE_RATE, 0, 1);
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_WINDOW_UPDATE;
  ev.stream_id = id;
  ev.u.window.increment = inc;
  if (id == 0) {
    if (c->send_window + inc > (int64_t)H2_MAX_WINDOW)
      return h2c_conn_error(c, H2_ERR_FLOW_CONTROL, "connection window over 2^31-1");
    int was_blocked = c->send_window <= 0;
    c->send_window += inc;
    if (was_blocked && c->send_window > 0) h2c_ready_all(c);
    return h2c_emit(c, &ev);
  }
  h2_stream *s = h2c_stream(c, id);
  if (!s) {
    if (h2_conn_stream_state(c, id) == H2_STREAM_IDLE)
      return h2c_conn_error(c, H2_ERR_PROTOCOL, "WINDOW_UPDATE on an idle stream");
    return 0; /* closed: ignore */
  }
  if (s->resetting) return 0;
  if (s->send_window + inc > (int64_t)H2_MAX_WINDOW)
    return h2c_stream_error(c, id, 0x3, 1);
  s->send_window += inc;
  h2c_ready_update(c, s);
  return h2c_emit(c, &ev);
}
