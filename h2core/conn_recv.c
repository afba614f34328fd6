/* conn_recv.c: input framing. Bytes arrive in any split; a small state
 * machine collects the preface, each 9-byte frame header and each non-DATA
 * payload (decoded straight from the caller's buffer when it is all there,
 * else gathered in |ibuf|, bounded by our MAX_FRAME_SIZE). DATA payload is
 * streamed to the application without buffering. Complete frames are
 * decoded by the frame codec and dispatched through a table of per-type
 * handlers. */
#include "conn_internal.h"

typedef int (*frame_handler)(h2_conn *c, const h2_frame *f);

static const frame_handler handlers[] = {
    [H2_FRAME_DATA] = NULL, /* streamed: conn_data.c */
    [H2_FRAME_HEADERS] = h2c_on_headers,
    [H2_FRAME_PRIORITY] = h2c_on_priority,
    [H2_FRAME_RST_STREAM] = h2c_on_rst_stream,
    [H2_FRAME_SETTINGS] = h2c_on_settings,
    [H2_FRAME_PUSH_PROMISE] = h2c_on_push_promise,
    [H2_FRAME_PING] = h2c_on_ping,
    [H2_FRAME_GOAWAY] = h2c_on_goaway,
    [H2_FRAME_WINDOW_UPDATE] = h2c_on_window_update,
    [H2_FRAME_CONTINUATION] = h2c_on_continuation,
    [H2_FRAME_ALTSVC] = h2c_on_altsvc,
    [0xb] = NULL,
    [H2_FRAME_ORIGIN] = h2c_on_origin,
    [0xd] = NULL,
    [0xe] = NULL,
    [0xf] = NULL,
    [H2_FRAME_PRIORITY_UPDATE] = h2c_on_priority_update,
};

static void trace_recv(h2_conn *c, const h2_frame *f) {
  if (!c->trace) return;
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_FRAME_RECV;
  ev.stream_id = f->hdr.stream_id;
  ev.u.frame.frame = f;
  (void)h2c_emit(c, &ev);
}

/* Decodes and dispatches the complete non-DATA frame c->fh with |payload|. */
int h2c_recv_frame(h2_conn *c, const uint8_t *payload) {
  h2_frame f;
  int r = h2_frame_decode(&c->fh, payload, c->fh.length, c->local.max_frame_size, &f);
  if (r < 0) {
    if (!h2_frame_error_is_stream(&f))
      return h2c_conn_error(c, r, f.err_desc ? f.err_desc : "malformed frame");
    trace_recv(c, &f);
    if (f.type == H2_FRAME_HEADERS) {
      /* Still decoded by HPACK (table sync), then reset. */
      c->hb.rst_code = h2_err_rfc_code(r);
      c->hb.rst_set = 2; /* forced by the frame codec */
      return h2c_on_headers(c, &f);
    }
    if (f.type == H2_FRAME_PRIORITY && !h2_ratelim_take(&c->rl, H2_RL_PRIO, 1, c->now))
      return h2c_limit(c, H2_CONN_LIMIT_PRIORITY_RATE, 0, 1);
    return h2c_stream_error(c, f.hdr.stream_id, h2_err_rfc_code(r), 1);
  }
  trace_recv(c, &f);
  if (!c->got_remote_settings && f.type != H2_FRAME_SETTINGS)
    return h2c_conn_error(c, H2_ERR_PROTOCOL, "first frame is not SETTINGS");
  frame_handler h = NULL;
  if (f.type >= 0 && (size_t)f.type < sizeof handlers / sizeof handlers[0]) h = handlers[f.type];
  if (!h) return h2c_on_unknown(c, &f);
  return h(c, &f);
}

/* A complete frame header is in c->fh. */
static int on_header(h2_conn *c) {
  int r = h2_frame_check_hdr(&c->fh, c->local.max_frame_size);
  if (r) return h2c_conn_error(c, r, "frame larger than SETTINGS_MAX_FRAME_SIZE");
  if (c->expect_cont && (c->fh.type != H2_FRAME_CONTINUATION || c->fh.stream_id != c->hb.stream_id))
    return h2c_conn_error(c, H2_ERR_PROTOCOL, "header block interrupted by another frame");
  if (!c->got_remote_settings && (c->fh.type != H2_FRAME_SETTINGS || (c->fh.flags & H2_FLAG_ACK)))
    return h2c_conn_error(c, H2_ERR_PROTOCOL, "first frame is not SETTINGS");
  if (c->fh.type == H2_FRAME_DATA) return h2c_data_begin(c);
  /* A header block starts: its deadline runs from here (conn.c). */
  if (c->fh.type == H2_FRAME_HEADERS || c->fh.type == H2_FRAME_PUSH_PROMISE) c->in_since = c->now;
  c->ibuf_got = 0;
  c->in_state = IN_PAYLOAD;
  if (c->fh.length == 0) {
    c->in_state = IN_HDR;
    return h2c_recv_frame(c, NULL);
  }
  return 0;
}

static int grow_ibuf(h2_conn *c, size_t n) {
  if (c->ibuf_cap >= n) return 0;
  uint8_t *nb = h2_mem_realloc(&c->mem, c->ibuf, n);
  if (!nb) return H2_ERR_NOMEM;
  c->ibuf = nb;
  c->ibuf_cap = n;
  return 0;
}

int h2_conn_recv(h2_conn *c, const uint8_t *in, size_t len, uint64_t now_ms) {
  if (c->in_cb) return H2_ERR_STATE;
  if (c->fatal || c->eof) return H2_ERR_CLOSED;
  if (len && !in) return H2_ERR_INVALID_ARG;
  if (len > INT32_MAX) return H2_ERR_INVALID_ARG;
  h2c_touch(c, now_ms);
  /* After our GOAWAY with an error code nothing more may be sent (RFC 9113
   * 5.4.1): peer input, which could need a SETTINGS or PING ACK, is dropped. */
  if (c->goaway_sent == 2) return (int)len;
  h2c_run_deferred(c);
  h2_cbs cur;
  h2_cbs_init(&cur, in, len);
  int r = 0;
  while (h2_cbs_len(&cur) > 0 && !c->fatal && c->goaway_sent != 2 && r >= 0) {
    switch (c->in_state) {
      case IN_PREFACE: {
        uint8_t ch;
        h2_cbs_get_u8(&cur, &ch);
        if (ch != (uint8_t)H2_CLIENT_PREFACE[c->preface_got]) {
          r = h2c_conn_error(c, H2_ERR_PROTOCOL, "invalid connection preface");
          break;
        }
        if (++c->preface_got == H2_CLIENT_PREFACE_LEN) c->in_state = IN_HDR;
        break;
      }
      case IN_HDR: {
        size_t take = H2_FRAME_HEADER_LEN - c->hdr_got;
        if (take > h2_cbs_len(&cur)) take = h2_cbs_len(&cur);
        h2_cbs_copy(&cur, c->hdr_buf + c->hdr_got, take);
        c->hdr_got += take;
        if (c->hdr_got < H2_FRAME_HEADER_LEN) break;
        c->hdr_got = 0;
        h2_frame_parse_hdr(c->hdr_buf, H2_FRAME_HEADER_LEN, &c->fh);
        r = on_header(c);
        break;
      }
      case IN_PAYLOAD: {
        size_t need = c->fh.length - c->ibuf_got;
        if (c->ibuf_got == 0 && h2_cbs_len(&cur) >= need) {
          /* Whole payload in the input: decode in place. */
          h2_cbs pl = {NULL, 0};
          h2_cbs_get_bytes(&cur, &pl, need);
          c->in_state = IN_HDR;
          r = h2c_recv_frame(c, h2_cbs_data(&pl));
          break;
        }
        if (grow_ibuf(c, c->fh.length)) {
          r = h2c_conn_error(c, H2_ERR_NOMEM, "out of memory");
          break;
        }
        size_t take = need < h2_cbs_len(&cur) ? need : h2_cbs_len(&cur);
        h2_cbs_copy(&cur, c->ibuf + c->ibuf_got, take);
        c->ibuf_got += take;
        if (c->ibuf_got == c->fh.length) {
          c->in_state = IN_HDR;
          c->ibuf_got = 0;
          r = h2c_recv_frame(c, c->ibuf);
        }
        break;
      }
      case IN_DATA_PADLEN: {
        uint8_t pad;
        h2_cbs_get_u8(&cur, &pad);
        if ((size_t)pad >= c->fh.length) {
          r = h2c_conn_error(c, H2_ERR_PROTOCOL, "DATA padding exceeds the payload");
          break;
        }
        c->pad_left = pad;
        c->data_left = c->fh.length - 1 - pad;
        /* Padding (and its length octet) is flow-controlled but unread. */
        if (c->data_deliver) h2c_flow_consumed(c, h2c_stream(c, c->data_stream), (size_t)pad + 1);
        c->in_state = IN_DATA;
        r = h2c_data_check_len(c);
        if (r < 0) break;
        if (c->data_left == 0) {
          c->in_state = c->pad_left ? IN_DATA_PAD : IN_HDR;
          if (!c->pad_left) r = h2c_data_end(c);
        }
        break;
      }
      case IN_DATA: {
        size_t take = c->data_left < h2_cbs_len(&cur) ? c->data_left : h2_cbs_len(&cur);
        h2_cbs piece = {NULL, 0};
        h2_cbs_get_bytes(&cur, &piece, take);
        c->data_left -= take;
        r = h2c_data_bytes(c, h2_cbs_data(&piece), take);
        if (r < 0) break;
        if (c->data_left == 0) {
          if (c->pad_left) {
            c->in_state = IN_DATA_PAD;
          } else {
            c->in_state = IN_HDR;
            r = h2c_data_end(c);
          }
        }
        break;
      }
      case IN_DATA_PAD: {
        size_t take = c->pad_left < h2_cbs_len(&cur) ? c->pad_left : h2_cbs_len(&cur);
        h2_cbs_skip(&cur, take);
        c->pad_left -= take;
        if (c->pad_left == 0) {
          c->in_state = IN_HDR;
          r = h2c_data_end(c);
        }
        break;
      }
      default: r = H2_ERR_CLOSED; break;
    }
  }
  if (c->fatal) return c->fatal_err;
  if (r < 0) return r;
  /* Input that queued nothing (a SETTINGS or PING ACK, a WINDOW_UPDATE) may
   * leave an idle connection with something to give back. */
  if (c->seg_count == 0) h2c_release_idle(c);
  return (int)len;
}
