/* util_conn.c: see util_conn.h. */
#include "util_conn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2_frame.h"
#include "h2_hpack.h"

static void die(const char *m) {
  fprintf(stderr, "util_conn: %s\n", m);
  abort();
}

void tc_buf_put(tc_buf *b, const void *p, size_t n) {
  if (b->cap - b->len < n + 1) {
    size_t nc = b->cap ? b->cap : 256;
    while (nc - b->len < n + 1) nc *= 2;
    b->p = realloc(b->p, nc);
    if (!b->p) die("oom");
    b->cap = nc;
  }
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = 0;
}

void tc_buf_free(tc_buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

static void printfb(tc_buf *b, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  tc_buf_put(b, line, (size_t)n);
}

void tc_script_init(tc_script *s) {
  memset(s, 0, sizeof *s);
  s->enc = h2_hpack_encoder_new(NULL);
  if (!s->enc) die("oom");
}

void tc_script_free(tc_script *s) {
  tc_buf_free(&s->out);
  h2_hpack_encoder_free(s->enc);
}

void tc_preface(tc_script *s) { tc_buf_put(&s->out, H2_CLIENT_PREFACE, H2_CLIENT_PREFACE_LEN); }

static void put_frame_with(tc_script *s, size_t max, int (*fn)(h2_cbb *, void *), void *arg) {
  uint8_t *tmp = malloc(max);
  if (!tmp) die("oom");
  h2_cbb b;
  h2_cbb_init(&b, tmp, max);
  if (fn(&b, arg) != 0 || !h2_cbb_ok(&b)) die("frame writer failed");
  tc_buf_put(&s->out, tmp, b.len);
  free(tmp);
}

struct set_arg {
  const h2_frame_setting *e;
  size_t n;
  int ack;
};
static int wr_settings(h2_cbb *b, void *a) {
  struct set_arg *x = a;
  return x->ack ? h2_frame_write_settings_ack(b) : h2_frame_write_settings(b, x->e, x->n);
}
void tc_settings(tc_script *s, const h2_frame_setting *e, size_t n) {
  struct set_arg a = {e, n, 0};
  put_frame_with(s, 9 + 6 * n, wr_settings, &a);
}
void tc_settings_ack(tc_script *s) {
  struct set_arg a = {NULL, 0, 1};
  put_frame_with(s, 9, wr_settings, &a);
}

void tc_headers(tc_script *s, uint32_t id, uint8_t flags, size_t max_frag, const char *const *nv) {
  h2_hpack_field f[64];
  size_t n = 0;
  for (; nv[2 * n]; n++) {
    f[n].name = nv[2 * n];
    f[n].name_len = strlen(nv[2 * n]);
    f[n].value = nv[2 * n + 1];
    f[n].value_len = strlen(nv[2 * n + 1]);
    f[n].flags = 0;
  }
  size_t cap = h2_hpack_encode_bound(f, n);
  uint8_t *blk = malloc(cap + 1);
  h2_cbb b;
  h2_cbb_init(&b, blk, cap);
  int len = h2_hpack_encode(s->enc, &b, f, n);
  if (len < 0) die("encode");
  size_t off = 0;
  size_t first = max_frag && (size_t)len > max_frag ? max_frag : (size_t)len;
  uint8_t fl = flags & (uint8_t)~H2_FLAG_END_HEADERS;
  if (first == (size_t)len) fl |= H2_FLAG_END_HEADERS;
  uint8_t hdr[9];
  h2_cbb hb;
  h2_cbb_init(&hb, hdr, 9);
  h2_frame_hdr fh = {(uint32_t)first, H2_FRAME_HEADERS, fl, id};
  h2_frame_write_hdr(&hb, &fh);
  tc_buf_put(&s->out, hdr, 9);
  tc_buf_put(&s->out, blk, first);
  off = first;
  while (off < (size_t)len) {
    size_t take = (size_t)len - off > max_frag ? max_frag : (size_t)len - off;
    uint8_t cf = off + take == (size_t)len ? H2_FLAG_END_HEADERS : 0;
    h2_frame_hdr ch = {(uint32_t)take, H2_FRAME_CONTINUATION, cf, id};
    h2_cbb_init(&hb, hdr, 9);
    h2_frame_write_hdr(&hb, &ch);
    tc_buf_put(&s->out, hdr, 9);
    tc_buf_put(&s->out, blk + off, take);
    off += take;
  }
  free(blk);
}

void tc_push_promise(tc_script *s, uint32_t assoc, uint32_t promised, const char *const *nv) {
  h2_hpack_field f[64];
  size_t n = 0;
  for (; nv[2 * n]; n++) {
    f[n].name = nv[2 * n];
    f[n].name_len = strlen(nv[2 * n]);
    f[n].value = nv[2 * n + 1];
    f[n].value_len = strlen(nv[2 * n + 1]);
    f[n].flags = 0;
  }
  size_t cap = h2_hpack_encode_bound(f, n);
  uint8_t *blk = malloc(cap + 4);
  h2_cbb b;
  h2_cbb_init(&b, blk + 4, cap);
  int len = h2_hpack_encode(s->enc, &b, f, n);
  if (len < 0) die("encode");
  blk[0] = (uint8_t)(promised >> 24);
  blk[1] = (uint8_t)(promised >> 16);
  blk[2] = (uint8_t)(promised >> 8);
  blk[3] = (uint8_t)promised;
  tc_frame(s, H2_FRAME_PUSH_PROMISE, H2_FLAG_END_HEADERS, assoc, blk, (size_t)len + 4);
  free(blk);
}

struct data_arg {
  uint32_t id;
  uint8_t flags;
  const void *p;
  size_t n;
  int pad;
};
static int wr_data(h2_cbb *b, void *a) {
  struct data_arg *x = a;
  return h2_frame_write_data(b, x->id, x->flags, x->p, x->n, x->pad);
}
void tc_data(tc_script *s, uint32_t id, uint8_t flags, const void *p, size_t n, int pad) {
  struct data_arg a = {id, flags, p, n, pad};
  put_frame_with(s, 9 + 1 + n + 256, wr_data, &a);
}

struct raw_arg {
  uint8_t type, flags;
  uint32_t id;
  const void *p;
  size_t n;
};
static int wr_raw(h2_cbb *b, void *a) {
  struct raw_arg *x = a;
  h2_frame_hdr fh = {(uint32_t)x->n, x->type, x->flags, x->id};
  if (h2_frame_write_hdr(b, &fh)) return -1;
  h2_cbb_bytes(b, x->p, x->n);
  return h2_cbb_ok(b) ? 0 : -1;
}
void tc_frame(tc_script *s, uint8_t type, uint8_t flags, uint32_t id, const void *p, size_t n) {
  struct raw_arg a = {type, flags, id, p, n};
  put_frame_with(s, 9 + n, wr_raw, &a);
}

void tc_window_update(tc_script *s, uint32_t id, uint32_t inc) {
  uint8_t p[4] = {(uint8_t)(inc >> 24), (uint8_t)(inc >> 16), (uint8_t)(inc >> 8), (uint8_t)inc};
  tc_frame(s, H2_FRAME_WINDOW_UPDATE, 0, id, p, 4);
}
void tc_rst(tc_script *s, uint32_t id, uint32_t code) {
  uint8_t p[4] = {(uint8_t)(code >> 24), (uint8_t)(code >> 16), (uint8_t)(code >> 8), (uint8_t)code};
  tc_frame(s, H2_FRAME_RST_STREAM, 0, id, p, 4);
}
void tc_ping(tc_script *s, uint8_t flags, uint64_t v) {
  uint8_t p[8];
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
  tc_frame(s, H2_FRAME_PING, flags, 0, p, 8);
}
void tc_goaway(tc_script *s, uint32_t last, uint32_t code) {
  uint8_t p[8] = {(uint8_t)(last >> 24), (uint8_t)(last >> 16), (uint8_t)(last >> 8), (uint8_t)last,
                  (uint8_t)(code >> 24), (uint8_t)(code >> 16), (uint8_t)(code >> 8), (uint8_t)code};
  tc_frame(s, H2_FRAME_GOAWAY, 0, 0, p, 8);
}

/* ---- recorder ---------------------------------------------------------- */

void tc_rec_flush(tc_rec *r) {
  if (!r->data_sid) return;
  printfb(&r->log, "DATA s=%u len=%llu hash=%016llx%s\n", r->data_sid, (unsigned long long)r->data_len,
          (unsigned long long)r->data_hash, r->data_end ? " END" : "");
  r->data_sid = 0;
  r->data_len = 0;
  r->data_end = 0;
}

const char *tc_log(tc_rec *r) {
  tc_rec_flush(r);
  if (!r->log.p) tc_buf_put(&r->log, "", 0);
  return (const char *)r->log.p;
}

void tc_rec_free(tc_rec *r) { tc_buf_free(&r->log); }

static const char *cat_name(int c) {
  switch (c) {
    case H2_CONN_HEADERS_REQUEST: return "request";
    case H2_CONN_HEADERS_RESPONSE: return "response";
    case H2_CONN_HEADERS_INFO: return "info";
    case H2_CONN_HEADERS_TRAILERS: return "trailers";
    case H2_CONN_HEADERS_PUSH_PROMISE: return "push";
  }
  return "?";
}

static const uint8_t tc_body[65536] = {0};

int tc_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  tc_rec *r = user;
  if (ev->type == H2_CONN_EV_DATA) {
    if (r->data_sid && r->data_sid != ev->stream_id) tc_rec_flush(r);
    if (!r->data_sid) r->data_hash = 1469598103934665603ull;
    r->data_sid = ev->stream_id;
    r->data_len += ev->u.data.len;
    for (size_t i = 0; i < ev->u.data.len; i++) r->data_hash = (r->data_hash ^ ev->u.data.data[i]) * 1099511628211ull;
    if (ev->u.data.end_stream) r->data_end = 1;
    if (r->consume) h2_conn_consume(c, ev->stream_id, ev->u.data.len);
    return 0;
  }
  tc_rec_flush(r);
  tc_buf *b = &r->log;
  switch (ev->type) {
    case H2_CONN_EV_SETTINGS:
      printfb(b, "SETTINGS iws=%u mfs=%u mcs=%u\n", ev->u.settings.settings->initial_window_size,
              ev->u.settings.settings->max_frame_size, ev->u.settings.settings->max_concurrent_streams);
      break;
    case H2_CONN_EV_SETTINGS_ACK: printfb(b, "SETTINGS_ACK\n"); break;
    case H2_CONN_EV_HEADERS:
      printfb(b, "HEADERS s=%u %s%s", ev->stream_id, cat_name(ev->u.headers.category),
              ev->u.headers.end_stream ? " END" : "");
      if (ev->u.headers.promised_id) printfb(b, " promised=%u", ev->u.headers.promised_id);
      for (size_t i = 0; i < ev->u.headers.num_fields; i++)
        printfb(b, " %.*s=%.*s", (int)ev->u.headers.fields[i].name_len, ev->u.headers.fields[i].name,
                (int)ev->u.headers.fields[i].value_len, ev->u.headers.fields[i].value);
      printfb(b, "\n");
      if (r->respond && ev->u.headers.category == H2_CONN_HEADERS_REQUEST) {
        static const h2_hpack_field resp[] = {{":status", 7, "200", 3, 0}};
        if (h2_conn_submit_response(c, ev->stream_id, resp, 1, r->resp_len == 0) == 0 && r->resp_len)
          h2_conn_submit_data(c, ev->stream_id, tc_body, r->resp_len, H2_CONN_DATA_END_STREAM, NULL);
      }
      break;
    case H2_CONN_EV_STREAM_END: printfb(b, "END s=%u\n", ev->stream_id); break;
    case H2_CONN_EV_STREAM_RESET:
      printfb(b, "RESET s=%u code=%u %s\n", ev->stream_id, ev->u.reset.error_code,
              ev->u.reset.remote ? "remote" : "local");
      break;
    case H2_CONN_EV_STREAM_CLOSED:
      printfb(b, "CLOSED s=%u reason=%d code=%u\n", ev->stream_id, ev->u.closed.reason, ev->u.closed.error_code);
      break;
    case H2_CONN_EV_PING: printfb(b, "PING\n"); break;
    case H2_CONN_EV_PING_ACK:
      printfb(b, "PING_ACK rtt=%llu\n", (unsigned long long)ev->u.ping.rtt_ms);
      r->last_rtt = ev->u.ping.rtt_ms;
      break;
    case H2_CONN_EV_GOAWAY:
      printfb(b, "GOAWAY last=%u code=%u\n", ev->u.goaway.last_stream_id, ev->u.goaway.error_code);
      break;
    case H2_CONN_EV_WINDOW_UPDATE: printfb(b, "WINDOW_UPDATE s=%u +%u\n", ev->stream_id, ev->u.window.increment); break;
    case H2_CONN_EV_WRITABLE: printfb(b, "WRITABLE s=%u\n", ev->stream_id); break;
    case H2_CONN_EV_DATA_RELEASED: printfb(b, "RELEASED len=%zu sent=%d\n", ev->u.released.len, ev->u.released.sent); break;
    case H2_CONN_EV_FRAME_RECV:
    case H2_CONN_EV_FRAME_SENT: break;
    case H2_CONN_EV_CONN_ERROR:
      printfb(b, "CONN_ERROR code=%u\n", ev->u.error.error_code);
      r->conn_errors++;
      r->last_error_code = ev->u.error.error_code;
      break;
    case H2_CONN_EV_LIMIT:
      printfb(b, "LIMIT %d\n", ev->u.limit.which);
      r->limits++;
      r->last_limit = ev->u.limit.which;
      break;
    case H2_CONN_EV_UNKNOWN_FRAME: printfb(b, "UNKNOWN type=%u\n", ev->u.frame.frame->hdr.type); break;
    case H2_CONN_EV_PRIORITY: printfb(b, "PRIORITY s=%u\n", ev->stream_id); break;
    case H2_CONN_EV_ALTSVC: printfb(b, "ALTSVC s=%u\n", ev->stream_id); break;
    case H2_CONN_EV_ORIGIN: printfb(b, "ORIGIN\n"); break;
    case H2_CONN_EV_FRAME_NOT_SENT:
      printfb(b, "NOT_SENT s=%u type=%u err=%d rst=%u\n", ev->stream_id, ev->u.not_sent.frame_type,
              ev->u.not_sent.err, ev->u.not_sent.rst_code);
      break;
    default: break;
  }
  return 0;
}

void tc_drain(h2_conn *c, tc_buf *out) {
  uint8_t buf[4096];
  for (int guard = 0; guard < 1000000; guard++) {
    int n = h2_conn_send(c, buf, sizeof buf, 0);
    if (n <= 0) break;
    if (out) tc_buf_put(out, buf, (size_t)n);
  }
}

size_t tc_pump(h2_conn *from, h2_conn *to, uint64_t now) {
  uint8_t buf[4096];
  size_t total = 0;
  for (int guard = 0; guard < 1000000; guard++) {
    int n = h2_conn_send(from, buf, sizeof buf, now);
    if (n <= 0) break;
    if (h2_conn_recv(to, buf, (size_t)n, now) < 0) break;
    total += (size_t)n;
  }
  return total;
}

uint32_t tc_rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return (uint32_t)(*s >> 11);
}

size_t tc_pump_random(h2_conn *from, h2_conn *to, size_t budget, uint64_t now, uint64_t *rng,
                      size_t max_write, uint32_t one_in) {
  uint8_t buf[8192];
  if (max_write == 0 || max_write > sizeof buf) max_write = sizeof buf;
  if (one_in == 0) one_in = 1;
  size_t moved = 0;
  while (moved < budget) {
    int n = h2_conn_send(from, buf, 1 + tc_rnd(rng) % max_write, now);
    if (n < 0) fail_msg("send failed: %s", h2_strerror(n));
    if (n == 0) break;
    size_t off = 0;
    while (off < (size_t)n) {
      size_t piece = tc_rnd(rng) % one_in == 0 ? 1 : 1 + tc_rnd(rng) % ((size_t)n - off);
      int r = h2_conn_recv(to, buf + off, piece, now);
      if (r < 0) fail_msg("recv failed: %s", h2_strerror(r));
      off += piece;
    }
    moved += (size_t)n;
  }
  return moved;
}

size_t tc_pump_both(h2_conn *a, h2_conn *b, uint64_t now) {
  size_t total = 0;
  for (int guard = 0; guard < 10000; guard++) {
    size_t n = tc_pump(a, b, now) + tc_pump(b, a, now);
    if (n == 0) break;
    total += n;
  }
  return total;
}

void tc_run(h2_conn_role role, const h2_conn_config *cfg, const tc_rec *proto, const uint8_t *in,
            size_t len, int mode, size_t at, tc_result *res) {
  memset(res, 0, sizeof *res);
  if (proto) {
    res->rec.respond = proto->respond;
    res->rec.resp_len = proto->resp_len;
    res->rec.consume = proto->consume;
  }
  h2_conn *c = h2_conn_new(role, cfg, NULL, tc_cb, &res->rec);
  if (!c) die("h2_conn_new");
  tc_drain(c, &res->out);
  size_t off = 0;
  while (off < len) {
    size_t n = len - off;
    if (mode == TC_BYTES) n = 1;
    if (mode == TC_SPLIT && off < at) n = at - off;
    int r = h2_conn_recv(c, in + off, n, 0);
    if (r < 0) {
      if (!res->rc) res->rc = r;
      break;
    }
    off += n;
  }
  tc_drain(c, &res->out);
  res->win[0] = h2_conn_window(c, 0, H2_CONN_WINDOW_SEND);
  res->win[1] = h2_conn_window(c, 0, H2_CONN_WINDOW_RECV);
  res->win[2] = h2_conn_window(c, 1, H2_CONN_WINDOW_SEND);
  res->win[3] = h2_conn_window(c, 1, H2_CONN_WINDOW_RECV);
  res->closed = h2_conn_is_closed(c);
  h2_conn_free(c);
  tc_rec_flush(&res->rec);
}

void tc_result_free(tc_result *res) {
  tc_rec_free(&res->rec);
  tc_buf_free(&res->out);
}

char *tc_frames_text(const uint8_t *p, size_t n) {
  tc_buf b = {0};
  h2_cbs in;
  h2_cbs_init(&in, p, n);
  if (n >= H2_CLIENT_PREFACE_LEN && memcmp(p, H2_CLIENT_PREFACE, H2_CLIENT_PREFACE_LEN) == 0) {
    h2_cbs_skip(&in, H2_CLIENT_PREFACE_LEN);
    printfb(&b, "PREFACE\n");
  }
  while (h2_cbs_len(&in) > 0) {
    h2_frame f;
    int r = h2_frame_parse(&in, H2_MAX_MAX_FRAME_SIZE, &f);
    if (r == H2_ERR_INCOMPLETE) {
      printfb(&b, "TRUNCATED\n");
      break;
    }
    char line[512];
    h2_frame_print(line, sizeof line, &f);
    printfb(&b, "%s\n", line);
  }
  tc_buf_put(&b, "", 0);
  return (char *)b.p;
}
