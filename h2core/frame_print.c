/* frame_print.c: frame type/setting names and the one-line trace form of a
 * decoded frame (used by `h2 get -v`). */
#include <stdarg.h>
#include <stdio.h>

#include "h2_frame.h"

static const char *const type_names[] = {
    [H2_FRAME_DATA] = "DATA",
    [H2_FRAME_HEADERS] = "HEADERS",
    [H2_FRAME_PRIORITY] = "PRIORITY",
    [H2_FRAME_RST_STREAM] = "RST_STREAM",
    [H2_FRAME_SETTINGS] = "SETTINGS",
    [H2_FRAME_PUSH_PROMISE] = "PUSH_PROMISE",
    [H2_FRAME_PING] = "PING",
    [H2_FRAME_GOAWAY] = "GOAWAY",
    [H2_FRAME_WINDOW_UPDATE] = "WINDOW_UPDATE",
    [H2_FRAME_CONTINUATION] = "CONTINUATION",
    [H2_FRAME_ALTSVC] = "ALTSVC",
    [H2_FRAME_ORIGIN] = "ORIGIN",
    [H2_FRAME_PRIORITY_UPDATE] = "PRIORITY_UPDATE",
};

const char *h2_frame_type_name(unsigned type) {
  if (type < sizeof type_names / sizeof type_names[0] && type_names[type]) return type_names[type];
  return "UNKNOWN";
}

static const char *const setting_names[] = {
    [H2_SETTINGS_HEADER_TABLE_SIZE] = "SETTINGS_HEADER_TABLE_SIZE",
    [H2_SETTINGS_ENABLE_PUSH] = "SETTINGS_ENABLE_PUSH",
    [H2_SETTINGS_MAX_CONCURRENT_STREAMS] = "SETTINGS_MAX_CONCURRENT_STREAMS",
    [H2_SETTINGS_INITIAL_WINDOW_SIZE] = "SETTINGS_INITIAL_WINDOW_SIZE",
    [H2_SETTINGS_MAX_FRAME_SIZE] = "SETTINGS_MAX_FRAME_SIZE",
    [H2_SETTINGS_MAX_HEADER_LIST_SIZE] = "SETTINGS_MAX_HEADER_LIST_SIZE",
    [H2_SETTINGS_ENABLE_CONNECT_PROTOCOL] = "SETTINGS_ENABLE_CONNECT_PROTOCOL",
    [H2_SETTINGS_NO_RFC7540_PRIORITIES] = "SETTINGS_NO_RFC7540_PRIORITIES",
};

const char *h2_frame_setting_name(uint16_t id) {
  if (id < sizeof setting_names / sizeof setting_names[0] && setting_names[id])
    return setting_names[id];
  return "UNKNOWN";
}

/* out is an appender that counts the full length even past |cap|. */
typedef struct out {
  char *buf;
  size_t cap;
  size_t len;
} out;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *dst = o->len < o->cap ? o->buf + o->len : NULL;
  size_t room = o->len < o->cap ? o->cap - o->len : 0;
  int n = vsnprintf(dst, room, fmt, ap);
  va_end(ap);
  if (n > 0) o->len += (size_t)n;
}

/* put_str prints at most 64 bytes of |s| quoted, escaping anything that is
 * not printable ASCII. */
static void put_str(out *o, const uint8_t *s, size_t len) {
  size_t shown = len > 64 ? 64 : len;
  put(o, "\"");
  for (size_t i = 0; i < shown; i++) {
    if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
      put(o, "%c", s[i]);
    else
      put(o, "\\x%02x", s[i]);
  }
  put(o, "\"%s", len > shown ? "..." : "");
}

static void put_flags(out *o, const h2_frame *f) {
  uint8_t flags = f->hdr.flags;
  static const struct {
    uint8_t bit;
    const char *name;
    unsigned types; /* bit i: type i uses it */
  } known[] = {
      {H2_FLAG_END_STREAM, "END_STREAM", 1u << H2_FRAME_DATA | 1u << H2_FRAME_HEADERS},
      {H2_FLAG_ACK, "ACK", 1u << H2_FRAME_SETTINGS | 1u << H2_FRAME_PING},
      {H2_FLAG_END_HEADERS, "END_HEADERS",
       1u << H2_FRAME_HEADERS | 1u << H2_FRAME_PUSH_PROMISE | 1u << H2_FRAME_CONTINUATION},
      {H2_FLAG_PADDED, "PADDED",
       1u << H2_FRAME_DATA | 1u << H2_FRAME_HEADERS | 1u << H2_FRAME_PUSH_PROMISE},
      {H2_FLAG_PRIORITY, "PRIORITY", 1u << H2_FRAME_HEADERS},
  };
  put(o, " flags=");
  if (flags == 0) {
    put(o, "none");
    return;
  }
  int first = 1;
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    if (!(flags & known[i].bit) || f->hdr.type > 9 || !(known[i].types & (1u << f->hdr.type)))
      continue;
    put(o, "%s%s", first ? "" : "|", known[i].name);
    flags = (uint8_t)(flags & ~known[i].bit);
    first = 0;
  }
  if (flags) put(o, "%s0x%02x", first ? "" : "|", flags);
}

static void put_prio(out *o, const h2_frame_prio *p) {
  put(o, " dep=%u weight=%u exclusive=%u", (unsigned)p->dependency, (unsigned)p->weight,
      (unsigned)p->exclusive);
}

static void put_error(out *o, uint32_t code) {
  put(o, " error=%s(0x%x)", h2_err_rfc_name(code), (unsigned)code);
}

static void put_body(out *o, const h2_frame *f) {
  switch (f->type) {
    case H2_FRAME_DATA:
      if (f->hdr.flags & H2_FLAG_PADDED) put(o, " data=%zu pad=%u", f->u.data.len, f->pad_len);
      break;
    case H2_FRAME_HEADERS:
      put(o, " fragment=%zu", f->u.headers.fragment_len);
      if (f->hdr.flags & H2_FLAG_PADDED) put(o, " pad=%u", f->pad_len);
      if (f->u.headers.has_priority) put_prio(o, &f->u.headers.prio);
      break;
    case H2_FRAME_PRIORITY:
      put_prio(o, &f->u.priority);
      break;
    case H2_FRAME_RST_STREAM:
      put_error(o, f->u.rst_stream.error_code);
      break;
    case H2_FRAME_SETTINGS: {
      h2_cbs it;
      h2_frame_setting s;
      h2_cbs_init(&it, f->u.settings.raw, f->u.settings.num_entries * 6);
      while (h2_frame_settings_next(&it, &s)) {
        const char *name = h2_frame_setting_name(s.id);
        if (s.id < sizeof setting_names / sizeof setting_names[0] && setting_names[s.id])
          put(o, " %s=%u", name + 9 /* drop "SETTINGS_" */, (unsigned)s.value);
        else
          put(o, " 0x%x=%u", (unsigned)s.id, (unsigned)s.value);
      }
      break;
    }
    case H2_FRAME_PUSH_PROMISE:
      put(o, " promised=%u fragment=%zu", (unsigned)f->u.push_promise.promised_id,
          f->u.push_promise.fragment_len);
      if (f->hdr.flags & H2_FLAG_PADDED) put(o, " pad=%u", f->pad_len);
      break;
    case H2_FRAME_PING:
      put(o, " opaque=");
      for (int i = 0; i < 8; i++) put(o, "%02x", f->u.ping.opaque[i]);
      break;
    case H2_FRAME_GOAWAY:
      put(o, " last_stream=%u", (unsigned)f->u.goaway.last_stream_id);
      put_error(o, f->u.goaway.error_code);
      if (f->u.goaway.debug_len) {
        put(o, " debug=");
        put_str(o, f->u.goaway.debug, f->u.goaway.debug_len);
      }
      break;
    case H2_FRAME_WINDOW_UPDATE:
      put(o, " increment=%u", (unsigned)f->u.window_update.increment);
      break;
    case H2_FRAME_CONTINUATION:
      put(o, " fragment=%zu", f->u.continuation.fragment_len);
      break;
    case H2_FRAME_ALTSVC:
      if (f->u.altsvc.origin == NULL && f->u.altsvc.value == NULL) break; /* malformed */
      put(o, " origin=");
      put_str(o, f->u.altsvc.origin, f->u.altsvc.origin_len);
      put(o, " value=");
      put_str(o, f->u.altsvc.value, f->u.altsvc.value_len);
      break;
    case H2_FRAME_ORIGIN: {
      if (f->ignore) break;
      h2_cbs it, one;
      h2_cbs_init(&it, f->u.origin.payload, f->u.origin.payload_len);
      while (h2_frame_origin_next(&it, &one)) {
        put(o, " ");
        put_str(o, h2_cbs_data(&one), h2_cbs_len(&one));
      }
      break;
    }
    case H2_FRAME_PRIORITY_UPDATE:
      put(o, " prioritized=%u value=", (unsigned)f->u.priority_update.stream_id);
      put_str(o, f->u.priority_update.value, f->u.priority_update.value_len);
      break;
    default:
      break;
  }
}

size_t h2_frame_print(char *buf, size_t cap, const h2_frame *f) {
  out o = {buf, cap, 0};
  if (cap > 0) buf[0] = '\0';
  if (f->type == H2_FRAME_UNKNOWN)
    put(&o, "[UNKNOWN type=0x%02x]", f->hdr.type);
  else
    put(&o, "[%s]", h2_frame_type_name(f->hdr.type));
  put(&o, " stream=%u len=%u", (unsigned)f->hdr.stream_id, (unsigned)f->hdr.length);
  put_flags(&o, f);
  put_body(&o, f);
  if (f->ignore) put(&o, " ignored (%s)", f->err_desc ? f->err_desc : "");
  return o.len;
}
