/* conn.c: connection lifecycle, configuration, the counting allocator,
 * event emission, connection errors and the query functions. */
#include "conn_internal.h"

#include <stdlib.h>

/* Default output_high_water: production stops once this many bytes are
 * pending, so one h2_conn_output batch of full DATA frames at the default
 * 16 KiB SETTINGS_MAX_FRAME_SIZE is three frames, 49,179 bytes, which fits
 * one 64 KiB TCP segment (loopback MTU, GSO/TSO size). At 65536 a batch was
 * four frames, 65,572 bytes: every writev left a tail segment of about 90
 * bytes (1.4x the segments per 100 MiB download, each one delivered and
 * possibly waking the reader). */
#define OUTPUT_HIGH_WATER_DEFAULT 49152

/* ---- counting allocator: every block carries its size in a header ---- */

/* 8 octets: the size fits, and blocks stay 8-aligned, which is all the
 * engine's objects need (integers up to 64 bits and pointers; the SIMD
 * loads in http_check.c are unaligned ones). With glibc's 8-octet chunk
 * header and 16-octet steps a 16-octet header made many blocks a step
 * larger. */
#define MEM_HDR 8
_Static_assert(sizeof(size_t) <= MEM_HDR, "the block size fits the header");

static void *cm_malloc(size_t n, void *user) {
  h2_mem_counter *mc = user;
  if (n > SIZE_MAX - MEM_HDR) return NULL;
  uint8_t *p = h2_mem_malloc(mc->base, n + MEM_HDR);
  if (!p) return NULL;
  memcpy(p, &n, sizeof n);
  mc->used += n;
  return p + MEM_HDR;
}

static void cm_free(void *ptr, void *user) {
  h2_mem_counter *mc = user;
  if (!ptr) return;
  uint8_t *p = (uint8_t *)ptr - MEM_HDR;
  size_t n;
  memcpy(&n, p, sizeof n);
  mc->used -= n;
  h2_mem_free(mc->base, p);
}

static void *cm_realloc(void *ptr, size_t n, void *user) {
  h2_mem_counter *mc = user;
  if (!ptr) return cm_malloc(n, user);
  if (n > SIZE_MAX - MEM_HDR) return NULL;
  uint8_t *p = (uint8_t *)ptr - MEM_HDR;
  size_t old;
  memcpy(&old, p, sizeof old);
  uint8_t *np = h2_mem_realloc(mc->base, p, n + MEM_HDR);
  if (!np) return NULL;
  memcpy(np, &n, sizeof n);
  mc->used = mc->used - old + n;
  return np + MEM_HDR;
}

void *h2c_alloc(h2_conn *c, size_t n) { return h2_mem_malloc(&c->mem, n); }
void h2c_free(h2_conn *c, void *p) { h2_mem_free(&c->mem, p); }

void *h2c_pool_get(h2_conn *c, h2c_pool *p, size_t size) {
  void *obj = p->head;
  if (!obj) return h2c_alloc(c, size);
  p->head = *(void **)obj;
  p->count--;
  return obj;
}

void h2c_pool_drain(h2_conn *c, h2c_pool *p) {
  while (p->head) {
    void *obj = p->head;
    p->head = *(void **)obj;
    h2c_free(c, obj);
  }
  p->count = 0;
}

/* ---- configuration ----------------------------------------------------- */

void h2_conn_settings_default(h2_conn_settings *s) {
  s->header_table_size = H2_DEFAULT_HEADER_TABLE_SIZE;
  s->enable_push = 1;
  s->max_concurrent_streams = H2_CONN_UNLIMITED;
  s->initial_window_size = H2_DEFAULT_INITIAL_WINDOW_SIZE;
  s->max_frame_size = H2_DEFAULT_MAX_FRAME_SIZE;
  s->max_header_list_size = H2_CONN_UNLIMITED;
  s->enable_connect_protocol = 0;
  s->no_rfc7540_priorities = 0;
}

void h2_conn_config_init(h2_conn_config *cfg, h2_conn_role role) {
  memset(cfg, 0, sizeof *cfg);
  h2_conn_settings_default(&cfg->settings);
  cfg->settings.max_concurrent_streams = 100;
  cfg->settings.max_header_list_size = 65536;
  cfg->settings.enable_push = role == H2_CONN_CLIENT ? 1 : 0;
  cfg->connection_window = H2_DEFAULT_INITIAL_WINDOW_SIZE;
  cfg->auto_window_update = 0;
  cfg->window_update_threshold = 50;
  cfg->validate_http = 1;
  cfg->send_queue_limit = 1u << 20;
  cfg->max_memory = 16u << 20;
  cfg->output_high_water = OUTPUT_HIGH_WATER_DEFAULT;
  cfg->settings_timeout_ms = 10000;
  cfg->preface_timeout_ms = 10000;
  cfg->header_block_timeout_ms = 10000;
  cfg->max_control_queue = 10000;
  cfg->max_settings_entries = 32;
  cfg->settings_burst = 100;
  cfg->settings_per_sec = 10;
  cfg->ping_burst = 100;
  cfg->ping_per_sec = 10;
  cfg->rst_burst = 1000;
  cfg->rst_per_sec = 33;
  cfg->local_rst_burst = 1000;
  cfg->local_rst_per_sec = 33;
  cfg->max_continuations = 64;
  cfg->max_header_block = 262144;
  cfg->max_header_fields = 256;
  cfg->empty_frame_burst = 1000;
  cfg->empty_frame_per_sec = 100;
  cfg->priority_burst = 10000;
  cfg->priority_per_sec = 1000;
  cfg->window_update_burst = 10000;
  cfg->window_update_per_sec = 1000;
  cfg->max_closed_streams = 1000;
  cfg->max_refused_streams = 100;
  cfg->max_reserved_streams = 100;
  cfg->hpack_encoder_table_limit = 4096;
  cfg->padding = H2_CONN_PAD_NONE;
  cfg->padding_align = 64;
  cfg->header_padding = H2_CONN_PAD_NONE;
}

static int settings_valid(const h2_conn_settings *s) {
  return s->enable_push <= 1 && s->initial_window_size <= H2_MAX_WINDOW &&
         s->max_frame_size >= H2_MIN_MAX_FRAME_SIZE && s->max_frame_size <= H2_MAX_MAX_FRAME_SIZE &&
         s->enable_connect_protocol <= 1 && s->no_rfc7540_priorities <= 1;
}

/* Builds the first SETTINGS frame: values differing from the RFC initial
 * ones, and MAX_CONCURRENT_STREAMS always. */
static int send_initial_settings(h2_conn *c, const h2_conn_settings *s) {
  h2_conn_settings d;
  h2_conn_settings_default(&d);
  h2_frame_setting e[8];
  size_t n = 0;
  if (s->header_table_size != d.header_table_size)
    e[n++] = (h2_frame_setting){H2_SETTINGS_HEADER_TABLE_SIZE, s->header_table_size};
  if (s->enable_push != d.enable_push) e[n++] = (h2_frame_setting){H2_SETTINGS_ENABLE_PUSH, s->enable_push};
  e[n++] = (h2_frame_setting){H2_SETTINGS_MAX_CONCURRENT_STREAMS, s->max_concurrent_streams};
  if (s->initial_window_size != d.initial_window_size)
    e[n++] = (h2_frame_setting){H2_SETTINGS_INITIAL_WINDOW_SIZE, s->initial_window_size};
  if (s->max_frame_size != d.max_frame_size)
    e[n++] = (h2_frame_setting){H2_SETTINGS_MAX_FRAME_SIZE, s->max_frame_size};
  if (s->max_header_list_size != d.max_header_list_size)
    e[n++] = (h2_frame_setting){H2_SETTINGS_MAX_HEADER_LIST_SIZE, s->max_header_list_size};
  if (s->enable_connect_protocol)
    e[n++] = (h2_frame_setting){H2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1};
  if (s->no_rfc7540_priorities)
    e[n++] = (h2_frame_setting){H2_SETTINGS_NO_RFC7540_PRIORITIES, 1};
  h2c_rare *rare = h2c_rare_get(c);
  if (!rare) return H2_ERR_NOMEM;
  rare->pend[0] = *s;
  rare->pend_sent_ms[0] = UINT64_MAX; /* set by the first h2_conn_output */
  c->num_pend = 1;
  return h2c_send_settings(c, e, n);
}

h2_conn *h2_conn_new(h2_conn_role role, const h2_conn_config *cfg, const h2_mem *mem,
                     h2_conn_event_cb cb, void *user) {
  h2_conn_config def;
  if (!cfg) {
    h2_conn_config_init(&def, role);
    cfg = &def;
  }
  if (!cb || (role != H2_CONN_SERVER && role != H2_CONN_CLIENT) || !settings_valid(&cfg->settings))
    return NULL;
  if (cfg->connection_window > H2_MAX_WINDOW || cfg->connection_window == 0) return NULL;
  if (cfg->padding > H2_CONN_PAD_CALLBACK || (cfg->padding == H2_CONN_PAD_CALLBACK && !cfg->padding_cb) ||
      (cfg->padding == H2_CONN_PAD_ALIGNED && (cfg->padding_align < 1 || cfg->padding_align > 256)))
    return NULL;
  if (cfg->header_padding > H2_CONN_PAD_CALLBACK ||
      (cfg->header_padding == H2_CONN_PAD_CALLBACK && !cfg->header_padding_cb) ||
      (cfg->header_padding == H2_CONN_PAD_ALIGNED && (cfg->padding_align < 1 || cfg->padding_align > 256)))
    return NULL;
  if (!mem) mem = h2_mem_default();
  h2_conn *c = h2_mem_malloc(mem, sizeof *c);
  if (!c) return NULL;
  memset(c, 0, sizeof *c);
  c->role = (uint8_t)role;
  c->in_since = UINT64_MAX;
  c->cfg = (h2c_cfg){
      .send_queue_limit = cfg->send_queue_limit,
      .max_memory = cfg->max_memory,
      .output_high_water = cfg->output_high_water,
      .padding_cb = cfg->padding_cb,
      .header_padding_cb = cfg->header_padding_cb,
      .padding_user = cfg->padding_user,
      .settings_timeout_ms = cfg->settings_timeout_ms,
      .preface_timeout_ms = cfg->preface_timeout_ms,
      .header_block_timeout_ms = cfg->header_block_timeout_ms,
      .max_control_queue = cfg->max_control_queue,
      .max_settings_entries = cfg->max_settings_entries,
      .max_continuations = cfg->max_continuations,
      .max_header_block = cfg->max_header_block,
      .max_header_fields = cfg->max_header_fields,
      .max_closed_streams = cfg->max_closed_streams,
      .max_refused_streams = cfg->max_refused_streams,
      .max_reserved_streams = cfg->max_reserved_streams,
      .padding_align = cfg->padding_align,
      .auto_window_update = cfg->auto_window_update,
      .window_update_threshold = cfg->window_update_threshold,
      .validate_http = cfg->validate_http,
      .padding = cfg->padding,
      .header_padding = cfg->header_padding,
  };
  if (c->cfg.window_update_threshold == 0 || c->cfg.window_update_threshold > 100)
    c->cfg.window_update_threshold = 50;
  if (c->cfg.output_high_water == 0) c->cfg.output_high_water = OUTPUT_HIGH_WATER_DEFAULT;
  c->mc.base = mem;
  c->mc.used = sizeof *c;
  c->mem.malloc = cm_malloc;
  c->mem.realloc = cm_realloc;
  c->mem.free = cm_free;
  c->mem.user = &c->mc;
  c->cb = cb;
  c->user = user;
  {
    uint32_t pm = cfg->settings.max_concurrent_streams;
    if (pm > 128) pm = 128;
    if (pm < 8) pm = 8;
    c->stream_pool.max = c->chunk_pool.max = pm;
  }
  h2_conn_settings_default(&c->local);
  h2_conn_settings_default(&c->remote);
  c->max_concurrent_enforced = cfg->settings.max_concurrent_streams;
  c->next_local_id = role == H2_CONN_CLIENT ? 1 : 2;
  c->send_window = H2_DEFAULT_INITIAL_WINDOW_SIZE;
  c->recv_window = H2_DEFAULT_INITIAL_WINDOW_SIZE;
  c->recv_target = cfg->connection_window;
  c->in_state = role == H2_CONN_SERVER ? IN_PREFACE : IN_HDR;
  c->obuf_hint = 4096;
  c->seg_hint = 64;

  c->dec = h2_hpack_decoder_new(&c->mem);
  c->enc = h2_hpack_encoder_new(&c->mem);
  c->prio = h2_prio_new(&c->mem, NULL);
  if (!c->dec || !c->enc || !c->prio) goto fail;
  {
    uint32_t list = cfg->settings.max_header_list_size;
    uint32_t fl = list < 65536u ? list : 65536u;
    h2_hpack_decoder_set_limits(c->dec, list, cfg->max_header_fields ? cfg->max_header_fields : 0xffffffffu,
                                fl);
    h2_hpack_decoder_report_static(c->dec, 1); /* conn_headers.c: no copy, no rescan */
  }
  h2_hpack_encoder_set_table_limit(c->enc, cfg->hpack_encoder_table_limit);
  h2_ratelim_init(&c->rl, H2_RL_SETTINGS, cfg->settings_burst, cfg->settings_per_sec);
  h2_ratelim_init(&c->rl, H2_RL_PING, cfg->ping_burst, cfg->ping_per_sec);
  h2_ratelim_init(&c->rl, H2_RL_RST, cfg->rst_burst, cfg->rst_per_sec);
  h2_ratelim_init(&c->rl, H2_RL_LOCAL_RST, cfg->local_rst_burst, cfg->local_rst_per_sec);
  h2_ratelim_init(&c->rl, H2_RL_EMPTY, cfg->empty_frame_burst, cfg->empty_frame_per_sec);
  h2_ratelim_init(&c->rl, H2_RL_PRIO, cfg->priority_burst, cfg->priority_per_sec);
  h2_ratelim_init(&c->rl, H2_RL_WU, cfg->window_update_burst, cfg->window_update_per_sec);

  if (role == H2_CONN_CLIENT) {
    uint8_t *p = h2c_out_reserve(c, H2_CLIENT_PREFACE_LEN);
    if (!p) goto fail;
    size_t start = c->obuf_len - H2_CLIENT_PREFACE_LEN;
    memcpy(p, H2_CLIENT_PREFACE, H2_CLIENT_PREFACE_LEN);
    if (h2c_out_commit(c, start, SEG_NONE, 0, 0)) goto fail;
  }
  if (send_initial_settings(c, &cfg->settings)) goto fail;
  if (c->recv_target > c->recv_window) {
    if (h2c_send_window_update(c, 0, (uint32_t)(c->recv_target - c->recv_window))) goto fail;
    c->recv_window = c->recv_target;
  }
  return c;
fail:
  h2_conn_free(c);
  return NULL;
}

void h2_conn_free(h2_conn *c) {
  if (!c) return;
  c->in_cb = 0;
  /* Streams: release their queued buffers; no close events. */
  for (uint32_t i = 0; i < c->streams.cap; i++) {
    h2_stream *s = c->streams.slots[i].val;
    if (!c->streams.slots[i].key || !s) continue;
    h2c_stream_drop_queue(c, s);
    h2c_free(c, s->trailers);
    h2c_free(c, s);
  }
  h2c_pool_drain(c, &c->stream_pool);
  h2_idmap_free(&c->streams, &c->mem);
  h2_idmap_free(&c->closed, &c->mem);
  h2c_out_free(c);
  h2c_pool_drain(c, &c->chunk_pool);
  h2c_free(c, c->ibuf);
  h2c_free(c, c->closed_ring);
  h2c_free(c, c->rare);
  h2c_free(c, c->deferred);
  h2_hpack_decoder_free(c->dec);
  h2_hpack_encoder_free(c->enc);
  h2_prio_free(c->prio);
  h2_mem_free(c->mc.base, c);
}

void h2_conn_set_trace(h2_conn *c, int on) { c->trace = on ? 1 : 0; }

/* ---- events and errors ------------------------------------------------- */

int h2c_emit(h2_conn *c, h2_conn_event *ev) {
  if (ev->stream_id && !ev->stream_user) {
    h2_stream *s = h2c_stream(c, ev->stream_id);
    if (s) ev->stream_user = s->user;
  }
  return h2c_emit_known(c, ev);
}

int h2c_emit_known(h2_conn *c, h2_conn_event *ev) {
  int saved = c->in_cb;
  c->in_cb = 1;
  int r = c->cb(c, ev, c->user);
  c->in_cb = saved;
  if (r < 0) {
    if (c->fatal) return c->fatal_err;
    return h2c_conn_error(c, r, "application callback failed");
  }
  return 0;
}

int h2c_conn_error(h2_conn *c, int err, const char *msg) {
  return h2c_conn_fail(c, err, err < 0 ? h2_err_rfc_code(err) : 0x2, 1, msg);
}

int h2c_conn_fail(h2_conn *c, int err, uint32_t code, int goaway, const char *msg) {
  if (c->fatal) return c->fatal_err;
  c->fatal = 1;
  c->fatal_err = err < 0 ? err : H2_ERR_INTERNAL;
  c->in_state = IN_DEAD;
  if (!goaway) code = 0;
  if (goaway && c->goaway_sent != 2) {
    c->goaway_sent = 2;
    c->goaway_sent_last = c->last_peer_id;
    size_t dl = msg ? strlen(msg) : 0;
    (void)h2c_send_goaway(c, c->last_peer_id, code, (const uint8_t *)msg, dl);
  }
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_CONN_ERROR;
  ev.u.error.err = c->fatal_err;
  ev.u.error.error_code = code;
  ev.u.error.message = msg ? msg : h2_strerror(err);
  int saved = c->in_cb;
  c->in_cb = 1;
  (void)c->cb(c, &ev, c->user);
  c->in_cb = saved;
  h2c_close_all(c, H2_CONN_CLOSE_CONNECTION, code);
  return c->fatal_err;
}

int h2c_not_sent_conn(h2_conn *c, uint8_t type, int err) {
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_FRAME_NOT_SENT;
  ev.u.not_sent.frame_type = type;
  ev.u.not_sent.err = err;
  (void)h2c_emit_known(c, &ev);
  return h2c_conn_error(c, err, "out of memory");
}

int h2c_limit(h2_conn *c, h2_conn_limit which, uint64_t value, int fatal) {
  h2_conn_event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = H2_CONN_EV_LIMIT;
  ev.u.limit.which = which;
  ev.u.limit.value = value;
  int r = h2c_emit(c, &ev);
  if (fatal) return h2c_conn_error(c, H2_ERR_ENHANCE_YOUR_CALM, "abuse limit exceeded");
  return r;
}

/* ---- time -------------------------------------------------------------- */

void h2c_touch(h2_conn *c, uint64_t now_ms) {
  if (now_ms > c->now) c->now = now_ms;
  /* A server's preface clock starts at the first time it is given. */
  if (c->in_since == UINT64_MAX && c->role == H2_CONN_SERVER) c->in_since = now_ms;
}

h2c_rare *h2c_rare_get(h2_conn *c) {
  if (!c->rare) {
    c->rare = h2c_alloc(c, sizeof *c->rare);
    if (c->rare) memset(c->rare, 0, sizeof *c->rare);
  }
  return c->rare;
}

void h2c_rare_release(h2_conn *c) {
  if (!c->rare || c->num_pend) return;
  for (int i = 0; i < MAX_PINGS; i++)
    if (c->rare->pings[i].used) return;
  h2c_free(c, c->rare);
  c->rare = NULL;
}

static uint64_t add_sat(uint64_t t, uint32_t ms) { return t > UINT64_MAX - 1 - ms ? UINT64_MAX - 1 : t + ms; }

/* The input phases with a deadline, which never overlap (no HEADERS can
 * come before the first SETTINGS): a server's preface (the client magic and
 * its first SETTINGS frame, counted from the first now_ms), and a header
 * block in progress (from the frame header of its HEADERS/PUSH_PROMISE until
 * the frame with END_HEADERS has been processed). */
#define PHASE_IN_NONE 0
#define PHASE_IN_PREFACE 1
#define PHASE_IN_HEADER_BLOCK 2
static int input_phase(const h2_conn *c) {
  if (c->fatal || c->eof || c->goaway_sent == 2 || c->in_since == UINT64_MAX) return PHASE_IN_NONE;
  if (c->role == H2_CONN_SERVER && !c->got_remote_settings) return PHASE_IN_PREFACE;
  if (c->expect_cont ||
      (c->in_state == IN_PAYLOAD && (c->fh.type == H2_FRAME_HEADERS || c->fh.type == H2_FRAME_PUSH_PROMISE)))
    return PHASE_IN_HEADER_BLOCK;
  return PHASE_IN_NONE;
}

static uint64_t input_deadline(const h2_conn *c) {
  switch (input_phase(c)) {
    case PHASE_IN_PREFACE:
      return c->cfg.preface_timeout_ms ? add_sat(c->in_since, c->cfg.preface_timeout_ms) : UINT64_MAX;
    case PHASE_IN_HEADER_BLOCK:
      return c->cfg.header_block_timeout_ms ? add_sat(c->in_since, c->cfg.header_block_timeout_ms) : UINT64_MAX;
    default: return UINT64_MAX;
  }
}

static uint64_t settings_deadline(const h2_conn *c) {
  if (!c->cfg.settings_timeout_ms || c->num_pend == 0 || c->fatal || c->rare->pend_sent_ms[0] == UINT64_MAX)
    return UINT64_MAX;
  return add_sat(c->rare->pend_sent_ms[0], c->cfg.settings_timeout_ms);
}

uint64_t h2_conn_next_deadline(const h2_conn *c) {
  uint64_t s = settings_deadline(c), i = input_deadline(c);
  return i < s ? i : s;
}

uint32_t h2_conn_pending_settings(const h2_conn *c) { return c->num_pend; }

int h2_conn_timeout(h2_conn *c, uint64_t now_ms) {
  if (c->in_cb) return H2_ERR_STATE;
  h2c_touch(c, now_ms);
  if (c->fatal) return 0;
  if (now_ms >= input_deadline(c)) {
    if (input_phase(c) == PHASE_IN_HEADER_BLOCK)
      return h2c_conn_fail(c, H2_ERR_TIMEOUT, 0xb /* ENHANCE_YOUR_CALM */, 1, "header block not completed in time");
    if (c->preface_got < H2_CLIENT_PREFACE_LEN) /* maybe no HTTP/2 peer at all: no GOAWAY (RFC 9113 3.4) */
      return h2c_conn_fail(c, H2_ERR_TIMEOUT, 0, 0, "connection preface not received in time");
    return h2c_conn_fail(c, H2_ERR_TIMEOUT, 0x1 /* PROTOCOL_ERROR */, 1,
                         "connection preface SETTINGS not received in time");
  }
  if (now_ms >= settings_deadline(c))
    return h2c_conn_error(c, H2_ERR_SETTINGS_TIMEOUT, "SETTINGS not acknowledged in time");
  return 0;
}

/* ---- queries ----------------------------------------------------------- */

const char *h2_stream_state_name(h2_stream_state s) {
  switch (s) {
    case H2_STREAM_IDLE: return "idle";
    case H2_STREAM_RESERVED_LOCAL: return "reserved (local)";
    case H2_STREAM_RESERVED_REMOTE: return "reserved (remote)";
    case H2_STREAM_OPEN: return "open";
    case H2_STREAM_HALF_CLOSED_LOCAL: return "half-closed (local)";
    case H2_STREAM_HALF_CLOSED_REMOTE: return "half-closed (remote)";
    case H2_STREAM_CLOSED: return "closed";
  }
  return "unknown";
}

h2_stream_state h2_conn_stream_state(const h2_conn *c, uint32_t id) {
  if (id == 0) return H2_STREAM_IDLE;
  h2_stream *s = h2c_stream(c, id);
  if (s) return (h2_stream_state)s->state;
  uint32_t last = h2c_is_local_id(c, id) ? c->last_local_id : c->last_peer_id;
  return id <= last ? H2_STREAM_CLOSED : H2_STREAM_IDLE;
}

int h2_conn_stream_set_user(h2_conn *c, uint32_t id, void *user) {
  h2_stream *s = h2c_stream(c, id);
  if (!s) return H2_ERR_NOT_FOUND;
  s->user = user;
  return 0;
}

void *h2_conn_stream_user(const h2_conn *c, uint32_t id) {
  h2_stream *s = h2c_stream(c, id);
  return s ? s->user : NULL;
}

int64_t h2_conn_window(const h2_conn *c, uint32_t id, int which) {
  if (id == 0) return which == H2_CONN_WINDOW_SEND ? c->send_window : c->recv_window;
  h2_stream *s = h2c_stream(c, id);
  if (!s) return INT64_MIN;
  return which == H2_CONN_WINDOW_SEND ? s->send_window : s->recv_window;
}

size_t h2_conn_stream_queued(const h2_conn *c, uint32_t id) {
  h2_stream *s = h2c_stream(c, id);
  return s ? s->queued : 0;
}

uint32_t h2_conn_num_streams(const h2_conn *c, int local) { return local ? c->num_local : c->num_remote; }
const h2_conn_settings *h2_conn_local_settings(const h2_conn *c) { return &c->local; }
const h2_conn_settings *h2_conn_remote_settings(const h2_conn *c) { return &c->remote; }

void h2_conn_hpack_sizes(const h2_conn *c, uint32_t *decoder, uint32_t *encoder) {
  if (decoder) *decoder = h2_hpack_decoder_table_size(c->dec);
  if (encoder) *encoder = h2_hpack_encoder_table_size(c->enc);
}

size_t h2_conn_memory(const h2_conn *c) { return c->mc.used; }
size_t h2_conn_pending(const h2_conn *c) { return c->pending_bytes; }

int h2_conn_want_read(const h2_conn *c) { return !c->fatal && !c->eof && !h2_conn_is_closed(c); }

int h2_conn_want_write(const h2_conn *c) {
  if (c->pending_bytes) return 1;
  if (c->eof) return 0;
  return h2_prio_next(c->prio) != 0;
}

int h2_conn_is_closed(const h2_conn *c) {
  if (c->eof) return 1;
  if (c->pending_bytes) return 0;
  if (c->fatal || c->goaway_sent == 2) return 1;
  if ((c->goaway_sent || c->goaway_recv) && c->num_local == 0 && c->num_remote == 0 &&
      c->streams.count == 0)
    return 1;
  return 0;
}

uint32_t h2_conn_last_peer_stream_id(const h2_conn *c) { return c->last_peer_id; }
uint32_t h2_conn_next_stream_id(const h2_conn *c) { return c->next_local_id; }
h2_conn_role h2_conn_role_of(const h2_conn *c) { return c->role; }

int h2_conn_recv_eof(h2_conn *c, uint64_t now_ms) {
  if (c->in_cb) return H2_ERR_STATE;
  h2c_touch(c, now_ms);
  if (c->eof) return 0;
  c->eof = 1;
  c->in_state = IN_DEAD;
  h2c_close_all(c, H2_CONN_CLOSE_CONNECTION, 0);
  return 0;
}
