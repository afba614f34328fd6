/* settings.c: Node-style settings and options: defaults, validation with
 * clear messages, pack/unpack to the SETTINGS payload form. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

static _Thread_local char last_error[256];

const char *h2_last_error_message(void) { return last_error; }

/* Sets the thread's validation message; returns H2_ERR_INVALID_ARG. */
int h2_api_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return H2_ERR_INVALID_ARG;
}

void h2_settings_default(h2_settings *s) {
  s->header_table_size = 4096;
  s->enable_push = 1;
  s->max_concurrent_streams = 0xffffffffu;
  s->initial_window_size = 65535;
  s->max_frame_size = 16384;
  s->max_header_list_size = 65535;
  s->enable_connect_protocol = 0;
  s->present = H2_HAS_ALL_SETTINGS;
}

/* Checks the fields whose H2_HAS_* bit is in |mask|. */
static int validate_some(const h2_settings *s, uint32_t mask) {
  if ((mask & H2_HAS_ENABLE_PUSH) && s->enable_push > 1)
    return h2_api_fail("settings.enablePush must be 0 or 1 (got %u)", s->enable_push);
  if ((mask & H2_HAS_INITIAL_WINDOW_SIZE) && s->initial_window_size > 0x7fffffffu)
    return h2_api_fail("settings.initialWindowSize must be 0..2147483647 (got %u)",
                       s->initial_window_size);
  if ((mask & H2_HAS_MAX_FRAME_SIZE) && (s->max_frame_size < 16384 || s->max_frame_size > 16777215))
    return h2_api_fail("settings.maxFrameSize must be 16384..16777215 (got %u)", s->max_frame_size);
  if ((mask & H2_HAS_ENABLE_CONNECT_PROTOCOL) && s->enable_connect_protocol > 1)
    return h2_api_fail("settings.enableConnectProtocol must be 0 or 1 (got %u)",
                       s->enable_connect_protocol);
  return 0;
}

int h2_settings_validate(const h2_settings *s) { return validate_some(s, H2_HAS_ALL_SETTINGS); }

static void put_setting(uint8_t *p, uint16_t id, uint32_t v) {
  p[0] = (uint8_t)(id >> 8);
  p[1] = (uint8_t)id;
  p[2] = (uint8_t)(v >> 24);
  p[3] = (uint8_t)(v >> 16);
  p[4] = (uint8_t)(v >> 8);
  p[5] = (uint8_t)v;
}

/* The seven settings in Node's packing order (their identifiers'). */
static const uint16_t pack_ids[7] = {0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x8};

static uint32_t *field(h2_settings *s, uint16_t id) {
  switch (id) {
    case 0x1: return &s->header_table_size;
    case 0x2: return &s->enable_push;
    case 0x3: return &s->max_concurrent_streams;
    case 0x4: return &s->initial_window_size;
    case 0x5: return &s->max_frame_size;
    case 0x6: return &s->max_header_list_size;
    case 0x8: return &s->enable_connect_protocol;
    default: return NULL;
  }
}

int h2_settings_pack(uint8_t *out, size_t cap, const h2_settings *s) {
  uint32_t mask = s->present & H2_HAS_ALL_SETTINGS;
  int rc = validate_some(s, mask);
  if (rc) return rc;
  size_t need = 6 * (size_t)__builtin_popcount(mask);
  if (cap < need) return H2_ERR_BUF_TOO_SMALL;
  size_t o = 0;
  h2_settings copy = *s;
  for (size_t i = 0; i < 7; i++) {
    if (!(mask & (1u << pack_ids[i]))) continue;
    put_setting(out + o, pack_ids[i], *field(&copy, pack_ids[i]));
    o += 6;
  }
  return (int)o;
}

int h2_settings_unpack(h2_settings *s, const uint8_t *in, size_t len) {
  if (len % 6) return h2_api_fail("packed settings length %zu is not a multiple of 6", len),
                      H2_ERR_FRAME_SIZE;
  h2_settings t = *s;
  t.present = 0;
  for (size_t i = 0; i < len; i += 6) {
    uint16_t id = (uint16_t)(in[i] << 8 | in[i + 1]);
    uint32_t v = (uint32_t)in[i + 2] << 24 | (uint32_t)in[i + 3] << 16 |
                 (uint32_t)in[i + 4] << 8 | in[i + 5];
    uint32_t *f = field(&t, id);
    if (!f) continue; /* unknown ids are ignored (RFC 9113 §6.5.2) */
    *f = v;
    t.present |= 1u << id;
  }
  int rc = validate_some(&t, t.present);
  if (rc) return rc;
  *s = t;
  return 0;
}

void h2_options_default(h2_options *o) { memset(o, 0, sizeof *o); }

int h2_options_validate(const h2_options *o) {
  if (o->has_settings) {
    int rc = h2_settings_validate(&o->settings);
    if (rc) return rc;
  }
  if (o->max_header_list_pairs && o->max_header_list_pairs < 4)
    return h2_api_fail("maxHeaderListPairs must be at least 4 (got %u)", o->max_header_list_pairs);
  if (o->max_outstanding_pings > H2_MAX_OUTSTANDING_PINGS)
    return h2_api_fail("maxOutstandingPings must be 1..%d (got %u): h2 keeps at most %d PINGs "
                       "in flight",
                       H2_MAX_OUTSTANDING_PINGS, o->max_outstanding_pings, H2_MAX_OUTSTANDING_PINGS);
  if (o->max_session_memory_mb > 1u << 20)
    return h2_api_fail("maxSessionMemory must be 1..1048576 megabytes (got %u)",
                       o->max_session_memory_mb);
  if (o->connection_window_size > 0x7fffffffu)
    return h2_api_fail("connectionWindowSize must be at most 2147483647 (got %u)",
                       o->connection_window_size);
  if (o->padding_strategy < H2_PADDING_NONE || o->padding_strategy > H2_PADDING_CALLBACK)
    return h2_api_fail("paddingStrategy must be one of H2_PADDING_* (got %d)", o->padding_strategy);
  if (o->padding_strategy == H2_PADDING_CALLBACK && !o->select_padding)
    return h2_api_fail("paddingStrategy H2_PADDING_CALLBACK needs select_padding");
  if (o->protocol && strcmp(o->protocol, "https:") && strcmp(o->protocol, "http:"))
    return h2_api_fail("protocol must be \"https:\" or \"http:\" (got \"%.40s\")", o->protocol);
  if (o->num_origins) {
    h2_origin_list *w;
    int rc = h2_origins_prepare_("origins", o->origins, o->num_origins, &w);
    if (rc) return rc;
    free(w);
  }
  if (o->max_send_header_block_length && o->max_send_header_block_length < 64)
    return h2_api_fail("maxSendHeaderBlockLength must be at least 64 (got %u)",
                       o->max_send_header_block_length);
  return 0;
}

const h2_header *h2_header_find(const h2_header *hdrs, size_t n, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < n; i++)
    if (hdrs[i].name_len == len && memcmp(hdrs[i].name, name, len) == 0) return &hdrs[i];
  return NULL;
}
