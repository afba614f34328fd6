/* conn_control.c: handlers for the connection-control frames: SETTINGS,
 * PING, GOAWAY, RST_STREAM, PRIORITY, PRIORITY_UPDATE, ALTSVC, ORIGIN and
 * unknown types. (WINDOW_UPDATE is in conn_flow.c.) */
#include "conn_internal.h"

int h2c_settings_apply_entry(h2_conn_settings *s, const h2_frame_setting *e);

static int control_queue_ok(h2_conn *c) {
  if (c->cfg.max_control_queue && c->num_control >= c->cfg.max_control_queue) return 0;
  return 1;
}

static void update_prio_mode(h2_conn *c) {
  int want = c->local.no_rfc7540_priorities && c->remote.no_rfc7540_priorities && c->got_remote_settings
                 ? H2_PRIO_MODE_RFC9218
                 : H2_PRIO_MODE_TREE;
  /* Out of memory for the RFC 9218 buckets: the tree scheduler stays (every
   * stream is still served, urgencies are just not applied). */
  if (h2_prio_mode(c->prio) != want) (void)h2_prio_set_mode(c->prio, want);
}

/* Our SETTINGS frame number 0 of the in-flight list was acked. */
static int settings_acked(h2_conn *c) {
  if (c->num_pend == 0) return h2c_conn_error(c, H2_ERR_PROTOCOL, "SETTINGS ACK without SETTINGS");
  h2_conn_settings old = c->local;
  h2c_rare *rare = c->rare; /* non-NULL while num_pend > 0 */
  c->local = rare->pend[0];
  memmove(rare->pend, rare->pend + 1, (size_t)(c->num_pend - 1) * sizeof rare->pend[0]);
  memmove(rare->pend_sent_ms, rare->pend_sent_ms + 1, (size_t)(c->num_pend - 1) * sizeof rare->pend_sent_ms[0]);
  c->num_pend--;
  if (old.header_table_size != c->local.header_table_size)
    h2_hpack_decoder_set_max_table_size(c->dec, c->local.header_table_size);
  if (old.max_header_list_size != c->local.max_header_list_size) {
    uint32_t list = c->local.max_header_list_size;
    h2_hpack_decoder_set_limits(c->dec, list, c->cfg.max_header_fields ? c->cfg.max_header_fields : 0xffffffffu,
                                list < 65536u ? list : 65536u);
  }
  h2c_flow_shift_local_initial(c, old.initial_window_size, c->local.initial_window_size);
  c->max_concurrent_enforced = c->local.max_concurrent_streams;
  for (int i = 0; i < c->num_pend; i++)
    if (rare->pend[i].max_concurrent_streams < c->max_concurrent_enforced)
      c->max_concurrent_enforced = rare->pend[i].max_concurrent_streams;
  update_prio_mode(c);
  if (c->fatal) return c->fatal_err;
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_SETTINGS_ACK;
  ev.u.settings.settings = &c->local;
  return h2c_emit(c, &ev);
}

int h2c_on_settings(h2_conn *c, const h2_frame *f) {
  if (f->hdr.flags & H2_FLAG_ACK) return settings_acked(c);
  if (c->got_remote_settings && !h2_ratelim_take(&c->rl, H2_RL_SETTINGS, 1, c->now))
    return h2c_limit(c, H2_CONN_LIMIT_SETTINGS_RATE, 0, 1);
  if (c->cfg.max_settings_entries && f->u.settings.num_entries > c->cfg.max_settings_entries)
    return h2c_limit(c, H2_CONN_LIMIT_SETTINGS_ENTRIES, f->u.settings.num_entries, 1);
  if (!control_queue_ok(c)) return h2c_limit(c, H2_CONN_LIMIT_CONTROL_QUEUE, c->num_control, 1);
  h2_conn_settings next = c->remote;
  h2_cbs it;
  h2_frame_setting e;
  h2_cbs_init(&it, f->u.settings.raw, f->hdr.length);
  while (h2_frame_settings_next(&it, &e)) {
    if (e.id == H2_SETTINGS_ENABLE_PUSH && e.value == 1 && c->role == H2_CONN_CLIENT)
      return h2c_conn_error(c, H2_ERR_PROTOCOL, "server sent SETTINGS_ENABLE_PUSH = 1");
    int r = h2c_settings_apply_entry(&next, &e);
    if (r == H2_ERR_STATE)
      return h2c_conn_error(c, H2_ERR_PROTOCOL, "SETTINGS_ENABLE_CONNECT_PROTOCOL turned off");
    if (r == H2_ERR_INVALID_ARG) {
      int code = e.id == H2_SETTINGS_INITIAL_WINDOW_SIZE ? H2_ERR_FLOW_CONTROL : H2_ERR_PROTOCOL;
      return h2c_conn_error(c, code, "invalid SETTINGS value");
    }
  }
  h2_conn_settings old = c->remote;
  c->remote = next;
  c->got_remote_settings = 1;
  if (old.header_table_size != next.header_table_size)
    h2_hpack_encoder_set_max_table_size(c->enc, next.header_table_size);
  int r = h2c_flow_shift_initial(c, old.initial_window_size, next.initial_window_size);
  if (r < 0) return r;
  update_prio_mode(c);
  r = h2c_send_settings_ack(c);
  if (r) return h2c_not_sent_conn(c, H2_FRAME_SETTINGS, r);
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_SETTINGS;
  ev.u.settings.settings = &c->remote;
  ev.u.settings.frame = f;
  return h2c_emit(c, &ev);
}

int h2c_on_ping(h2_conn *c, const h2_frame *f) {
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  memcpy(ev.u.ping.opaque, f->u.ping.opaque, 8);
  if (f->hdr.flags & H2_FLAG_ACK) {
    for (int i = 0; c->rare && i < MAX_PINGS; i++) {
      if (c->rare->pings[i].used && memcmp(c->rare->pings[i].opaque, f->u.ping.opaque, 8) == 0) {
        c->rare->pings[i].used = 0;
        ev.type = H2_CONN_EV_PING_ACK;
        ev.u.ping.rtt_ms = c->now >= c->rare->pings[i].sent_ms ? c->now - c->rare->pings[i].sent_ms : 0;
        return h2c_emit(c, &ev);
      }
    }
    return 0; /* an ACK we did not ask for: ignored */
  }
  if (!h2_ratelim_take(&c->rl, H2_RL_PING, 1, c->now)) return h2c_limit(c, H2_CONN_LIMIT_PING_RATE, 0, 1);
  if (!control_queue_ok(c)) return h2c_limit(c, H2_CONN_LIMIT_CONTROL_QUEUE, c->num_control, 1);
  int r = h2c_send_ping(c, H2_FLAG_ACK, f->u.ping.opaque);
  if (r) return h2c_not_sent_conn(c, H2_FRAME_PING, r);
  ev.type = H2_CONN_EV_PING;
  return h2c_emit(c, &ev);
}

int h2c_on_goaway(h2_conn *c, const h2_frame *f) {
  uint32_t last = f->u.goaway.last_stream_id;
  if (c->goaway_recv && last > c->goaway_recv_last) last = c->goaway_recv_last;
  c->goaway_recv = 1;
  c->goaway_recv_last = last;
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_GOAWAY;
  ev.u.goaway.last_stream_id = last;
  ev.u.goaway.error_code = f->u.goaway.error_code;
  ev.u.goaway.debug = f->u.goaway.debug;
  ev.u.goaway.debug_len = f->u.goaway.debug_len;
  int r = h2c_emit(c, &ev);
  if (r < 0) return r;
  if (f->u.goaway.error_code != 0) {
    h2_conn_event er;
    memset(&er, 0, sizeof er);
    er.type = H2_CONN_EV_CONN_ERROR;
    er.u.error.error_code = f->u.goaway.error_code;
    er.u.error.err = f->u.goaway.error_code <= 0xd ? -(int)f->u.goaway.error_code : H2_ERR_PROTOCOL;
    er.u.error.message = "peer sent GOAWAY with an error";
    er.u.error.remote = 1;
    r = h2c_emit(c, &er);
    if (r < 0) return r;
  }
  /* Our streams above |last| were not processed: close them (retryable). */
  for (uint32_t i = 0; i < c->streams.cap; i++) {
    while (i < c->streams.cap && c->streams.slots[i].key) {
      h2_stream *s = c->streams.slots[i].val;
      if (!s->local || s->id <= last) break;
      h2c_stream_close(c, s, H2_CONN_CLOSE_GOAWAY, 0x7);
    }
  }
  return c->fatal ? c->fatal_err : 0;
}

int h2c_on_rst_stream(h2_conn *c, const h2_frame *f) {
  uint32_t id = f->hdr.stream_id;
  if (!h2_ratelim_take(&c->rl, H2_RL_RST, 1, c->now)) return h2c_limit(c, H2_CONN_LIMIT_RST_RATE, 0, 1);
  h2_stream *s = h2c_stream(c, id);
  if (!s) {
    if (h2_conn_stream_state(c, id) == H2_STREAM_IDLE)
      return h2c_conn_error(c, H2_ERR_PROTOCOL, "RST_STREAM on an idle stream");
    return 0;
  }
  h2c_stream_drop_queue(c, s);
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_STREAM_RESET;
  ev.stream_id = id;
  ev.stream_user = s->user;
  ev.u.reset.error_code = f->u.rst_stream.error_code;
  ev.u.reset.remote = 1;
  int r = h2c_emit_known(c, &ev);
  if (r < 0) return r;
  s = h2c_stream(c, id);
  if (s) h2c_stream_close(c, s, H2_CONN_CLOSE_RESET_REMOTE, f->u.rst_stream.error_code);
  return c->fatal ? c->fatal_err : 0;
}

int h2c_on_priority(h2_conn *c, const h2_frame *f) {
  if (!h2_ratelim_take(&c->rl, H2_RL_PRIO, 1, c->now)) return h2c_limit(c, H2_CONN_LIMIT_PRIORITY_RATE, 0, 1);
  h2_prio_spec sp = {f->u.priority.dependency, f->u.priority.weight, f->u.priority.exclusive};
  if (h2_prio_mode(c->prio) == H2_PRIO_MODE_TREE) (void)h2_prio_set(c->prio, f->hdr.stream_id, &sp);
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_PRIORITY;
  ev.stream_id = f->hdr.stream_id;
  ev.u.priority.prio = f->u.priority;
  return h2c_emit(c, &ev);
}

int h2c_on_priority_update(h2_conn *c, const h2_frame *f) {
  if (c->role == H2_CONN_CLIENT) return h2c_conn_error(c, H2_ERR_PROTOCOL, "PRIORITY_UPDATE sent to a client");
  if (!h2_ratelim_take(&c->rl, H2_RL_PRIO, 1, c->now)) return h2c_limit(c, H2_CONN_LIMIT_PRIORITY_RATE, 0, 1);
  uint32_t id = f->u.priority_update.stream_id;
  if (id == 0 || h2c_is_local_id(c, id))
    return h2c_conn_error(c, H2_ERR_PROTOCOL, "PRIORITY_UPDATE for an invalid stream");
  (void)h2_prio_update_field(c->prio, id, f->u.priority_update.value, f->u.priority_update.value_len);
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_PRIORITY;
  ev.stream_id = id;
  ev.u.priority.update_value = f->u.priority_update.value;
  ev.u.priority.update_len = f->u.priority_update.value_len;
  return h2c_emit(c, &ev);
}

int h2c_on_altsvc(h2_conn *c, const h2_frame *f) {
  if (c->role != H2_CONN_CLIENT || f->ignore) return 0;
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_ALTSVC;
  ev.stream_id = f->hdr.stream_id;
  ev.u.altsvc.origin = f->u.altsvc.origin;
  ev.u.altsvc.origin_len = f->u.altsvc.origin_len;
  ev.u.altsvc.value = f->u.altsvc.value;
  ev.u.altsvc.value_len = f->u.altsvc.value_len;
  return h2c_emit(c, &ev);
}

int h2c_on_origin(h2_conn *c, const h2_frame *f) {
  if (c->role != H2_CONN_CLIENT || f->ignore) return 0;
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_ORIGIN;
  ev.u.origin.frame = f;
  return h2c_emit(c, &ev);
}

int h2c_on_unknown(h2_conn *c, const h2_frame *f) {
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_UNKNOWN_FRAME;
  ev.stream_id = f->hdr.stream_id;
  ev.u.frame.frame = f;
  return h2c_emit(c, &ev);
}
