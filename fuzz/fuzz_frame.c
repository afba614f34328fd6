/* fuzz_frame.c: arbitrary bytes parsed as a sequence of frames. Every frame
 * is decoded and printed; each one that decodes cleanly is encoded again,
 * the encoding must have the original length, decode to an equal frame and
 * re-encode to identical bytes. HEADERS fragments also go through the
 * CONTINUATION splitter and must come back whole. The first input byte picks
 * SETTINGS_MAX_FRAME_SIZE. Any mismatch traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h2_frame.h"

#define CHECK(c)                  \
  do {                            \
    if (!(c)) __builtin_trap();   \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_view(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  CHECK(alen == blen);
  CHECK(alen == 0 || memcmp(a, b, alen) == 0);
}

static void same_frame(const h2_frame *a, const h2_frame *b) {
  CHECK(a->type == b->type && a->hdr.type == b->hdr.type && a->hdr.flags == b->hdr.flags);
  CHECK(a->hdr.stream_id == b->hdr.stream_id && a->hdr.length == b->hdr.length);
  CHECK(a->pad_len == b->pad_len && a->ignore == b->ignore);
  switch (a->type) {
    case H2_FRAME_DATA:
      same_view(a->u.data.data, a->u.data.len, b->u.data.data, b->u.data.len);
      break;
    case H2_FRAME_HEADERS:
      same_view(a->u.headers.fragment, a->u.headers.fragment_len, b->u.headers.fragment,
                b->u.headers.fragment_len);
      CHECK(a->u.headers.has_priority == b->u.headers.has_priority);
      CHECK(memcmp(&a->u.headers.prio, &b->u.headers.prio, sizeof a->u.headers.prio) == 0);
      break;
    case H2_FRAME_PRIORITY:
      CHECK(memcmp(&a->u.priority, &b->u.priority, sizeof a->u.priority) == 0);
      break;
    case H2_FRAME_RST_STREAM:
      CHECK(a->u.rst_stream.error_code == b->u.rst_stream.error_code);
      break;
    case H2_FRAME_SETTINGS: {
      CHECK(a->u.settings.num_entries == b->u.settings.num_entries);
      for (size_t i = 0; i < a->u.settings.num_entries; i++) {
        h2_frame_setting x, y;
        CHECK(h2_frame_settings_get(a, i, &x) && h2_frame_settings_get(b, i, &y));
        CHECK(x.id == y.id && x.value == y.value);
      }
      break;
    }
    case H2_FRAME_PUSH_PROMISE:
      CHECK(a->u.push_promise.promised_id == b->u.push_promise.promised_id);
      same_view(a->u.push_promise.fragment, a->u.push_promise.fragment_len,
                b->u.push_promise.fragment, b->u.push_promise.fragment_len);
      break;
    case H2_FRAME_PING:
      CHECK(memcmp(a->u.ping.opaque, b->u.ping.opaque, 8) == 0);
      break;
    case H2_FRAME_GOAWAY:
      CHECK(a->u.goaway.last_stream_id == b->u.goaway.last_stream_id);
      CHECK(a->u.goaway.error_code == b->u.goaway.error_code);
      same_view(a->u.goaway.debug, a->u.goaway.debug_len, b->u.goaway.debug, b->u.goaway.debug_len);
      break;
    case H2_FRAME_WINDOW_UPDATE:
      CHECK(a->u.window_update.increment == b->u.window_update.increment);
      break;
    case H2_FRAME_CONTINUATION:
      same_view(a->u.continuation.fragment, a->u.continuation.fragment_len,
                b->u.continuation.fragment, b->u.continuation.fragment_len);
      break;
    case H2_FRAME_ALTSVC:
      same_view(a->u.altsvc.origin, a->u.altsvc.origin_len, b->u.altsvc.origin,
                b->u.altsvc.origin_len);
      same_view(a->u.altsvc.value, a->u.altsvc.value_len, b->u.altsvc.value, b->u.altsvc.value_len);
      break;
    case H2_FRAME_ORIGIN: {
      CHECK(a->u.origin.num_origins == b->u.origin.num_origins);
      h2_cbs ia, ib, oa, ob;
      size_t n = 0;
      h2_cbs_init(&ia, a->u.origin.payload, a->u.origin.payload_len);
      h2_cbs_init(&ib, b->u.origin.payload, b->u.origin.payload_len);
      while (h2_frame_origin_next(&ia, &oa)) {
        CHECK(h2_frame_origin_next(&ib, &ob));
        same_view(h2_cbs_data(&oa), h2_cbs_len(&oa), h2_cbs_data(&ob), h2_cbs_len(&ob));
        n++;
      }
      CHECK(n == a->u.origin.num_origins && h2_cbs_len(&ia) == 0);
      break;
    }
    case H2_FRAME_PRIORITY_UPDATE:
      CHECK(a->u.priority_update.stream_id == b->u.priority_update.stream_id);
      same_view(a->u.priority_update.value, a->u.priority_update.value_len,
                b->u.priority_update.value, b->u.priority_update.value_len);
      break;
    default:
      same_view(a->u.unknown.payload, a->u.unknown.payload_len, b->u.unknown.payload,
                b->u.unknown.payload_len);
      break;
  }
}

/* split_headers sends a HEADERS fragment through the CONTINUATION splitter
 * (keeping its padding, which goes in the first frame only) and checks the
 * pieces reassemble to it. */
static void split_headers(const h2_frame *f, uint32_t max) {
  int pad = (f->hdr.flags & H2_FLAG_PADDED) ? f->pad_len : -1;
  size_t extra = (f->u.headers.has_priority ? 5 : 0) + (pad >= 0 ? 1 + (size_t)pad : 0);
  size_t need = h2_frame_block_size(extra, f->u.headers.fragment_len, max);
  uint8_t *buf = malloc(need ? need : 1);
  if (buf == NULL) return;
  h2_cbb b;
  h2_cbb_init(&b, buf, need);
  const h2_frame_prio *prio = f->u.headers.has_priority ? &f->u.headers.prio : NULL;
  if (pad < 0)
    CHECK(h2_frame_write_headers_block(&b, f->hdr.stream_id, f->hdr.flags & H2_FLAG_END_STREAM, prio,
                                       f->u.headers.fragment, f->u.headers.fragment_len, max) == 0);
  else
    CHECK(h2_frame_write_padded_block(&b, H2_FRAME_HEADERS, f->hdr.stream_id,
                                      f->hdr.flags & H2_FLAG_END_STREAM, prio, 0, f->u.headers.fragment,
                                      f->u.headers.fragment_len, max, pad) == 0);
  CHECK(b.len == need);
  h2_cbs in;
  h2_cbs_init(&in, buf, b.len);
  size_t off = 0;
  int first = 1;
  while (h2_cbs_len(&in) > 0) {
    h2_frame g;
    CHECK(h2_frame_parse(&in, max, &g) == 0);
    const uint8_t *p = first ? g.u.headers.fragment : g.u.continuation.fragment;
    size_t n = first ? g.u.headers.fragment_len : g.u.continuation.fragment_len;
    CHECK(g.type == (first ? H2_FRAME_HEADERS : H2_FRAME_CONTINUATION));
    if (first) CHECK(((g.hdr.flags & H2_FLAG_PADDED) ? g.pad_len : -1) == pad);
    CHECK(((g.hdr.flags & H2_FLAG_END_HEADERS) != 0) == (h2_cbs_len(&in) == 0));
    CHECK(off + n <= f->u.headers.fragment_len);
    CHECK(n == 0 || memcmp(p, f->u.headers.fragment + off, n) == 0);
    off += n;
    first = 0;
  }
  CHECK(off == f->u.headers.fragment_len);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint32_t max = (data[0] & 1) ? H2_MAX_MAX_FRAME_SIZE : H2_DEFAULT_MAX_FRAME_SIZE;
  h2_cbs in;
  h2_cbs_init(&in, data + 1, size - 1);
  for (;;) {
    h2_frame f, g;
    char line[256];
    size_t before = h2_cbs_len(&in);
    int rv = h2_frame_parse(&in, max, &f);
    if (rv == H2_ERR_INCOMPLETE || (rv == H2_ERR_FRAME_SIZE && h2_cbs_len(&in) == before)) {
      CHECK(h2_cbs_len(&in) == before && f.err_desc != NULL);
      break;
    }
    CHECK(before - h2_cbs_len(&in) == H2_FRAME_HEADER_LEN + (size_t)f.hdr.length);
    (void)h2_frame_print(line, sizeof line, &f);
    if (rv < 0) {
      CHECK(f.err_desc != NULL);
      CHECK(rv >= -0xd); /* always an RFC code */
      continue;
    }
    CHECK(f.err_desc == NULL || f.ignore);
    if (f.ignore) continue;

    size_t cap = H2_FRAME_HEADER_LEN + (size_t)f.hdr.length;
    uint8_t *e1 = malloc(cap), *e2 = malloc(cap);
    if (e1 == NULL || e2 == NULL) {
      free(e1);
      free(e2);
      return 0;
    }
    h2_cbb b1, b2;
    h2_cbb_init(&b1, e1, cap);
    CHECK(h2_frame_encode(&b1, &f) == 0);
    CHECK(b1.len == cap);
    h2_cbs again;
    h2_cbs_init(&again, e1, b1.len);
    CHECK(h2_frame_parse(&again, max, &g) == 0);
    CHECK(h2_cbs_len(&again) == 0);
    same_frame(&f, &g);
    h2_cbb_init(&b2, e2, cap);
    CHECK(h2_frame_encode(&b2, &g) == 0);
    CHECK(b2.len == b1.len && memcmp(e1, e2, b1.len) == 0);
    if (f.type == H2_FRAME_HEADERS) split_headers(&f, max);
    free(e1);
    free(e2);
  }
  return 0;
}
