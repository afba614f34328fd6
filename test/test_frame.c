/* test_frame.c: the frame codec (h2core/h2_frame.h): every validation rule
 * of RFC 9113 §4-6 and the extension frames, as table-driven vectors that
 * carry __LINE__; serialize -> decode -> equal for every frame type;
 * malformed input -> the exact error and its stream/connection scope;
 * zero-copy views; the CONTINUATION splitter; the printer; and a guard-page
 * test (every valid vector and each of its truncations placed flush against
 * a PROT_NONE page so any over-read faults). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "h2_frame.h"

#define MAXF H2_DEFAULT_MAX_FRAME_SIZE

/* hex decodes |hex| (spaces ignored) into |out|; returns the byte count. */
static size_t hex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  int hi = -1;
  for (const char *p = hex; *p; p++) {
    int v;
    if (*p >= '0' && *p <= '9') v = *p - '0';
    else if (*p >= 'a' && *p <= 'f') v = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F') v = *p - 'A' + 10;
    else continue;
    if (hi < 0) {
      hi = v;
    } else {
      assert_true(n < cap);
      out[n++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  assert_int_equal(hi, -1);
  return n;
}

enum { CONN = 0, STREAM = 1 };

typedef struct vec {
  int line;
  const char *hex;   /* header + payload */
  int rv;            /* expected h2_frame_decode result */
  int scope;         /* STREAM or CONN when rv < 0 */
  int ignore;        /* expected h2_frame.ignore */
  int not_canonical; /* re-encoding differs (reserved bits set, padding bytes) */
} vec;

#define OK(h) {__LINE__, h, 0, CONN, 0, 0}
#define OKNC(h) {__LINE__, h, 0, CONN, 0, 1}
#define IGN(h) {__LINE__, h, 0, CONN, 1, 0}
#define CERR(h, e) {__LINE__, h, e, CONN, 0, 0}
#define SERR(h, e) {__LINE__, h, e, STREAM, 0, 0}

static const vec vecs[] = {
    /* DATA §6.1 */
    OK("000005 00 01 00000001 68656c6c6f"),
    OK("000000 00 00 00000001"),
    CERR("000000 00 00 00000000", H2_ERR_PROTOCOL),
    CERR("000003 00 00 00000000 616263", H2_ERR_PROTOCOL),
    OK("000001 00 08 00000001 00"),
    OK("000003 00 08 00000001 02 0000"),
    OK("000005 00 09 00000003 02 6162 0000"),
    OKNC("000003 00 08 00000001 01 61 ff"), /* padding content is not checked */
    CERR("000000 00 08 00000001", H2_ERR_FRAME_SIZE),
    CERR("000001 00 08 00000001 01", H2_ERR_PROTOCOL),
    CERR("000003 00 08 00000001 03 0000", H2_ERR_PROTOCOL),
    CERR("000003 00 08 00000001 ff 0000", H2_ERR_PROTOCOL),
    OKNC("000000 00 00 80000001"), /* reserved bit ignored */
    CERR("000000 00 00 80000000", H2_ERR_PROTOCOL),
    OK("000000 00 f6 00000001"), /* unknown flags ignored */
    /* HEADERS §6.2 */
    OK("000003 01 04 00000001 828487"),
    OK("000000 01 05 00000001"),
    CERR("000003 01 04 00000000 828487", H2_ERR_PROTOCOL),
    OK("000005 01 24 00000003 80000001 0f"),
    OK("000006 01 24 00000003 00000000 ff 82"),
    CERR("000004 01 24 00000003 80000001", H2_ERR_FRAME_SIZE),
    CERR("000000 01 20 00000003", H2_ERR_FRAME_SIZE),
    SERR("000005 01 24 00000003 00000003 0f", H2_ERR_PROTOCOL),
    SERR("000006 01 24 00000003 80000003 0f 82", H2_ERR_PROTOCOL),
    OK("000008 01 2c 00000003 02 00000001 0f 0000"),
    OK("000009 01 2c 00000003 02 00000001 0f 82 0000"),
    CERR("000007 01 2c 00000003 02 00000001 0f 00", H2_ERR_PROTOCOL),
    CERR("000005 01 2c 00000003 00 00000001", H2_ERR_FRAME_SIZE),
    CERR("000000 01 08 00000003", H2_ERR_FRAME_SIZE),
    CERR("000001 01 08 00000003 01", H2_ERR_PROTOCOL),
    OK("000002 01 0c 00000003 01 00"),
    /* PRIORITY §6.3 */
    OK("000005 02 00 00000003 00000001 ff"),
    OK("000005 02 00 00000003 80000000 00"),
    CERR("000005 02 00 00000000 00000001 0f", H2_ERR_PROTOCOL),
    CERR("000004 02 00 00000000 00000001", H2_ERR_PROTOCOL), /* conn beats stream */
    SERR("000004 02 00 00000003 00000001", H2_ERR_FRAME_SIZE),
    SERR("000006 02 00 00000003 00000001 0f 00", H2_ERR_FRAME_SIZE),
    SERR("000000 02 00 00000003", H2_ERR_FRAME_SIZE),
    SERR("000005 02 00 00000003 00000003 0f", H2_ERR_PROTOCOL),
    SERR("000005 02 00 00000003 80000003 0f", H2_ERR_PROTOCOL),
    OK("000005 02 ff 00000003 00000001 0f"),
    /* RST_STREAM §6.4 */
    OK("000004 03 00 00000001 00000008"),
    OK("000004 03 00 00000001 ffffffff"),
    CERR("000004 03 00 00000000 00000008", H2_ERR_PROTOCOL),
    CERR("000003 03 00 00000001 000008", H2_ERR_FRAME_SIZE),
    CERR("000005 03 00 00000001 0000000800", H2_ERR_FRAME_SIZE),
    /* SETTINGS §6.5 */
    OK("00000c 04 00 00000000 0003 00000064 0004 0000ffff"),
    OK("000000 04 00 00000000"),
    OK("000000 04 01 00000000"),
    CERR("000006 04 01 00000000 0001 00001000", H2_ERR_FRAME_SIZE),
    CERR("000000 04 00 00000001", H2_ERR_PROTOCOL),
    CERR("000000 04 01 00000001", H2_ERR_PROTOCOL),
    CERR("000005 04 00 00000000 0001000010", H2_ERR_FRAME_SIZE),
    CERR("000007 04 00 00000000 0001 00001000 00", H2_ERR_FRAME_SIZE),
    OK("000006 04 00 00000000 0002 00000001"),
    OK("000006 04 00 00000000 0002 00000000"),
    CERR("000006 04 00 00000000 0002 00000002", H2_ERR_PROTOCOL),
    OK("000006 04 00 00000000 0004 7fffffff"),
    CERR("000006 04 00 00000000 0004 80000000", H2_ERR_FLOW_CONTROL),
    OK("000006 04 00 00000000 0005 00004000"),
    OK("000006 04 00 00000000 0005 00ffffff"),
    CERR("000006 04 00 00000000 0005 00003fff", H2_ERR_PROTOCOL),
    CERR("000006 04 00 00000000 0005 01000000", H2_ERR_PROTOCOL),
    OK("000006 04 00 00000000 0008 00000001"),
    CERR("000006 04 00 00000000 0008 00000002", H2_ERR_PROTOCOL),
    OK("000006 04 00 00000000 0009 00000001"),
    CERR("000006 04 00 00000000 0009 00000002", H2_ERR_PROTOCOL),
    OK("000006 04 00 00000000 00ff ffffffff"), /* unknown id: accepted */
    OK("000006 04 00 00000000 0001 ffffffff"),
    OK("000006 04 00 00000000 0003 ffffffff"),
    OK("000006 04 00 00000000 0006 00000000"),
    CERR("00000c 04 00 00000000 0003 00000064 0002 00000005", H2_ERR_PROTOCOL),
    /* PUSH_PROMISE §6.6 */
    OK("000007 05 04 00000001 00000002 828487"),
    OK("000004 05 00 00000001 00000002"),
    OKNC("000004 05 00 00000001 80000002"),
    CERR("000004 05 04 00000000 00000002", H2_ERR_PROTOCOL),
    CERR("000003 05 04 00000001 000000", H2_ERR_FRAME_SIZE),
    OK("000006 05 0c 00000001 01 00000002 00"),
    OK("000005 05 24 00000001 00000002 82"), /* PRIORITY bit: unknown here, kept */
    CERR("000006 05 0c 00000001 02 00000002 00", H2_ERR_PROTOCOL),
    CERR("000004 05 0c 00000001 00 000000", H2_ERR_FRAME_SIZE),
    CERR("000000 05 08 00000001", H2_ERR_FRAME_SIZE),
    CERR("000004 05 04 00000001 00000000", H2_ERR_PROTOCOL),
    CERR("000004 05 04 00000001 80000000", H2_ERR_PROTOCOL),
    /* PING §6.7 */
    OK("000008 06 00 00000000 0102030405060708"),
    OK("000008 06 01 00000000 0102030405060708"),
    CERR("000008 06 00 00000001 0102030405060708", H2_ERR_PROTOCOL),
    CERR("000007 06 00 00000000 01020304050607", H2_ERR_FRAME_SIZE),
    CERR("000009 06 00 00000000 010203040506070809", H2_ERR_FRAME_SIZE),
    CERR("000000 06 01 00000000", H2_ERR_FRAME_SIZE),
    /* GOAWAY §6.8 */
    OK("000008 07 00 00000000 00000003 00000000"),
    OK("00000b 07 00 00000000 7fffffff 00000002 626f6f"),
    OKNC("000008 07 00 00000000 80000003 00000001"),
    CERR("000008 07 00 00000001 00000003 00000000", H2_ERR_PROTOCOL),
    CERR("000007 07 00 00000000 00000003 000000", H2_ERR_FRAME_SIZE),
    CERR("000000 07 00 00000000", H2_ERR_FRAME_SIZE),
    /* WINDOW_UPDATE §6.9 */
    OK("000004 08 00 00000000 00000001"),
    OK("000004 08 00 00000001 7fffffff"),
    OKNC("000004 08 00 00000001 80000001"),
    CERR("000004 08 00 00000000 00000000", H2_ERR_PROTOCOL),
    SERR("000004 08 00 00000001 00000000", H2_ERR_PROTOCOL),
    SERR("000004 08 00 00000001 80000000", H2_ERR_PROTOCOL),
    CERR("000003 08 00 00000000 000001", H2_ERR_FRAME_SIZE),
    CERR("000005 08 00 00000001 0000000100", H2_ERR_FRAME_SIZE),
    CERR("000000 08 00 00000001", H2_ERR_FRAME_SIZE),
    /* CONTINUATION §6.10 */
    OK("000003 09 04 00000001 828487"),
    OK("000000 09 00 00000001"),
    CERR("000003 09 04 00000000 828487", H2_ERR_PROTOCOL),
    /* ALTSVC (RFC 7838 §4) */
    OK("000006 0a 00 00000000 0003 616263 78"),
    OK("000003 0a 00 00000001 0000 78"),
    OK("000002 0a 00 00000001 0000"),
    IGN("000003 0a 00 00000000 0000 78"),
    IGN("000006 0a 00 00000001 0003 616263 78"),
    IGN("000001 0a 00 00000000 00"),
    IGN("000000 0a 00 00000000"),
    IGN("000004 0a 00 00000000 0003 6162"),
    /* ORIGIN (RFC 8336 §2) */
    OK("000008 0c 00 00000000 0003 616263 0001 78"),
    OK("000000 0c 00 00000000"),
    OK("000002 0c 00 00000000 0000"),
    OK("000000 0c ff 00000000"),
    IGN("000005 0c 00 00000001 0003 616263"),
    IGN("000004 0c 00 00000000 0005 6162"),
    IGN("000001 0c 00 00000000 00"),
    /* PRIORITY_UPDATE (RFC 9218 §7.1) */
    OK("000007 10 00 00000000 00000001 753d31"),
    OK("000004 10 00 00000000 00000005"),
    CERR("000007 10 00 00000001 00000001 753d31", H2_ERR_PROTOCOL),
    CERR("000003 10 00 00000000 000001", H2_ERR_FRAME_SIZE),
    CERR("000004 10 00 00000000 00000000", H2_ERR_PROTOCOL),
    CERR("000004 10 00 00000000 80000000", H2_ERR_PROTOCOL),
    /* unknown types §5.5: no error */
    OK("000003 0b 00 00000001 010203"),
    OK("000000 ff ff 00000000"),
    OK("000002 11 00 7fffffff 0102"),
};

static int frame_type_of(uint8_t wire) {
  switch (wire) {
    case 0x0: case 0x1: case 0x2: case 0x3: case 0x4: case 0x5: case 0x6: case 0x7:
    case 0x8: case 0x9: case 0xa: case 0xc: case 0x10:
      return wire;
    default:
      return H2_FRAME_UNKNOWN;
  }
}

/* check_vec decodes vector |v| from |buf| (|len| bytes, possibly placed
 * against a guard page) and checks the result. */
static void check_vec(const vec *v, const uint8_t *buf, size_t len) {
  h2_cbs in;
  h2_frame f;
  h2_cbs_init(&in, buf, len);
  int rv = h2_frame_parse(&in, MAXF, &f);
  if (rv != v->rv || (rv < 0 && f.stream_error != v->scope) || f.ignore != v->ignore)
    fail_msg("line %d: rv=%d (%s) want %d, stream=%d want %d, ignore=%d want %d", v->line, rv,
             f.err_desc ? f.err_desc : "-", v->rv, f.stream_error, v->scope, f.ignore, v->ignore);
  assert_int_equal(h2_cbs_len(&in), 0);
  assert_int_equal(f.type, frame_type_of(buf[3]));
  assert_int_equal(f.hdr.length, len - 9);
  if (rv < 0 || f.ignore) assert_non_null(f.err_desc);
  else assert_null(f.err_desc);
}

static void test_vectors(void **state) {
  (void)state;
  uint8_t buf[256];
  for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
    size_t n = hex(vecs[i].hex, buf, sizeof buf);
    check_vec(&vecs[i], buf, n);
  }
}

/* Every valid vector re-encodes to itself (or, for non-canonical input, to
 * bytes that decode to the same frame), and every strict prefix of every
 * vector is INCOMPLETE without moving the cursor. */
static void assert_frames_equal(const h2_frame *a, const h2_frame *b, int line);

static void test_vectors_reencode_and_prefixes(void **state) {
  (void)state;
  uint8_t buf[256], out[300];
  for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
    const vec *v = &vecs[i];
    size_t n = hex(v->hex, buf, sizeof buf);
    for (size_t k = 0; k < n; k++) {
      h2_cbs in;
      h2_frame f;
      h2_cbs_init(&in, buf, k);
      if (h2_frame_parse(&in, MAXF, &f) != H2_ERR_INCOMPLETE) fail_msg("line %d prefix %zu", v->line, k);
      assert_int_equal(h2_cbs_len(&in), k);
    }
    if (v->rv != 0 || v->ignore) continue;
    h2_frame f, g;
    h2_cbs in;
    h2_cbs_init(&in, buf, n);
    assert_int_equal(h2_frame_parse(&in, MAXF, &f), 0);
    h2_cbb b;
    h2_cbb_init(&b, out, sizeof out);
    if (h2_frame_encode(&b, &f) != 0) fail_msg("line %d: encode failed", v->line);
    assert_true(h2_cbb_ok(&b));
    if (!v->not_canonical) {
      if (b.len != n || memcmp(out, buf, n) != 0) fail_msg("line %d: re-encoding differs", v->line);
    }
    h2_cbs_init(&in, out, b.len);
    assert_int_equal(h2_frame_parse(&in, MAXF, &g), 0);
    assert_frames_equal(&f, &g, v->line);
  }
}

static void eq_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, int line) {
  if (alen != blen || (alen && memcmp(a, b, alen) != 0)) fail_msg("line %d: views differ", line);
}

static void assert_frames_equal(const h2_frame *a, const h2_frame *b, int line) {
  if (a->type != b->type || a->hdr.type != b->hdr.type || a->hdr.flags != b->hdr.flags ||
      a->hdr.stream_id != b->hdr.stream_id || a->pad_len != b->pad_len || a->ignore != b->ignore)
    fail_msg("line %d: headers differ", line);
  switch (a->type) {
    case H2_FRAME_DATA:
      eq_bytes(a->u.data.data, a->u.data.len, b->u.data.data, b->u.data.len, line);
      break;
    case H2_FRAME_HEADERS:
      eq_bytes(a->u.headers.fragment, a->u.headers.fragment_len, b->u.headers.fragment,
               b->u.headers.fragment_len, line);
      assert_int_equal(a->u.headers.has_priority, b->u.headers.has_priority);
      assert_memory_equal(&a->u.headers.prio, &b->u.headers.prio, sizeof a->u.headers.prio);
      break;
    case H2_FRAME_PRIORITY:
      assert_memory_equal(&a->u.priority, &b->u.priority, sizeof a->u.priority);
      break;
    case H2_FRAME_RST_STREAM:
      assert_int_equal(a->u.rst_stream.error_code, b->u.rst_stream.error_code);
      break;
    case H2_FRAME_SETTINGS:
      eq_bytes(a->u.settings.raw, a->u.settings.num_entries * 6, b->u.settings.raw,
               b->u.settings.num_entries * 6, line);
      break;
    case H2_FRAME_PUSH_PROMISE:
      assert_int_equal(a->u.push_promise.promised_id, b->u.push_promise.promised_id);
      eq_bytes(a->u.push_promise.fragment, a->u.push_promise.fragment_len,
               b->u.push_promise.fragment, b->u.push_promise.fragment_len, line);
      break;
    case H2_FRAME_PING:
      assert_memory_equal(a->u.ping.opaque, b->u.ping.opaque, 8);
      break;
    case H2_FRAME_GOAWAY:
      assert_int_equal(a->u.goaway.last_stream_id, b->u.goaway.last_stream_id);
      assert_int_equal(a->u.goaway.error_code, b->u.goaway.error_code);
      eq_bytes(a->u.goaway.debug, a->u.goaway.debug_len, b->u.goaway.debug, b->u.goaway.debug_len,
               line);
      break;
    case H2_FRAME_WINDOW_UPDATE:
      assert_int_equal(a->u.window_update.increment, b->u.window_update.increment);
      break;
    case H2_FRAME_CONTINUATION:
      eq_bytes(a->u.continuation.fragment, a->u.continuation.fragment_len,
               b->u.continuation.fragment, b->u.continuation.fragment_len, line);
      break;
    case H2_FRAME_ALTSVC:
      eq_bytes(a->u.altsvc.origin, a->u.altsvc.origin_len, b->u.altsvc.origin,
               b->u.altsvc.origin_len, line);
      eq_bytes(a->u.altsvc.value, a->u.altsvc.value_len, b->u.altsvc.value, b->u.altsvc.value_len,
               line);
      break;
    case H2_FRAME_ORIGIN:
      assert_int_equal(a->u.origin.num_origins, b->u.origin.num_origins);
      eq_bytes(a->u.origin.payload, a->u.origin.payload_len, b->u.origin.payload,
               b->u.origin.payload_len, line);
      break;
    case H2_FRAME_PRIORITY_UPDATE:
      assert_int_equal(a->u.priority_update.stream_id, b->u.priority_update.stream_id);
      eq_bytes(a->u.priority_update.value, a->u.priority_update.value_len,
               b->u.priority_update.value, b->u.priority_update.value_len, line);
      break;
    default:
      eq_bytes(a->u.unknown.payload, a->u.unknown.payload_len, b->u.unknown.payload,
               b->u.unknown.payload_len, line);
      break;
  }
}

/* decode_one parses exactly one frame from |buf| and checks nothing is left. */
static int decode_one(const uint8_t *buf, size_t len, h2_frame *f) {
  h2_cbs in;
  h2_cbs_init(&in, buf, len);
  int rv = h2_frame_parse(&in, MAXF, f);
  assert_int_equal(h2_cbs_len(&in), 0);
  return rv;
}

static void test_decoded_fields(void **state) {
  (void)state;
  uint8_t buf[128];
  h2_frame f;
  size_t n;

  n = hex("000005 00 09 00000003 02 6162 0000", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.pad_len, 2);
  assert_int_equal(f.u.data.len, 2);
  assert_ptr_equal(f.u.data.data, buf + 10); /* points into the input */
  assert_int_equal(f.hdr.flags, H2_FLAG_END_STREAM | H2_FLAG_PADDED);

  n = hex("000009 01 2c 00000003 02 80000001 0f 82 0000", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.u.headers.has_priority, 1);
  assert_int_equal(f.u.headers.prio.exclusive, 1);
  assert_int_equal(f.u.headers.prio.dependency, 1);
  assert_int_equal(f.u.headers.prio.weight, 16);
  assert_ptr_equal(f.u.headers.fragment, buf + 15);
  assert_int_equal(f.u.headers.fragment_len, 1);

  /* A stream error still fills the frame (HPACK must see the block). */
  n = hex("000006 01 24 00000003 80000003 0f 82", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), H2_ERR_PROTOCOL);
  assert_int_equal(h2_frame_error_is_stream(&f), 1);
  assert_ptr_equal(f.u.headers.fragment, buf + 14);
  assert_int_equal(f.u.headers.fragment_len, 1);

  n = hex("000005 02 00 00000003 00000001 ff", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.u.priority.weight, 256);
  assert_int_equal(f.u.priority.exclusive, 0);

  n = hex("000004 08 00 00000001 00000000", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), H2_ERR_PROTOCOL);
  assert_int_equal(h2_frame_error_is_stream(&f), 1);
  n = hex("000004 08 00 00000000 00000000", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), H2_ERR_PROTOCOL);
  assert_int_equal(h2_frame_error_is_stream(&f), 0);
  n = hex("000004 08 00 00000001 80000009", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.u.window_update.increment, 9);

  n = hex("000012 04 00 00000000 0003 00000064 0004 0000ffff 00ff 01020304", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.u.settings.num_entries, 3);
  h2_frame_setting s;
  assert_int_equal(h2_frame_settings_get(&f, 0, &s), 1);
  assert_int_equal(s.id, 3);
  assert_int_equal(s.value, 100);
  assert_int_equal(h2_frame_settings_get(&f, 2, &s), 1);
  assert_int_equal(s.id, 0xff);
  assert_int_equal(s.value, 0x01020304);
  assert_int_equal(h2_frame_settings_get(&f, 3, &s), 0);
  h2_cbs it;
  h2_cbs_init(&it, f.u.settings.raw, f.hdr.length);
  int count = 0;
  while (h2_frame_settings_next(&it, &s)) count++;
  assert_int_equal(count, 3);

  n = hex("000008 06 01 00000000 0102030405060708", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_memory_equal(f.u.ping.opaque, "\1\2\3\4\5\6\7\10", 8);

  n = hex("00000b 07 00 00000000 80000007 0000000b 626f6f", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.u.goaway.last_stream_id, 7);
  assert_int_equal(f.u.goaway.error_code, 0xb);
  assert_ptr_equal(f.u.goaway.debug, buf + 17);
  assert_int_equal(f.u.goaway.debug_len, 3);

  n = hex("000009 05 0c 00000001 01 80000002 828487 00", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.u.push_promise.promised_id, 2);
  assert_int_equal(f.u.push_promise.fragment_len, 3);
  assert_ptr_equal(f.u.push_promise.fragment, buf + 14);

  n = hex("000006 0a 00 00000000 0003 616263 78", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.u.altsvc.origin_len, 3);
  assert_memory_equal(f.u.altsvc.origin, "abc", 3);
  assert_int_equal(f.u.altsvc.value_len, 1);
  assert_memory_equal(f.u.altsvc.value, "x", 1);

  n = hex("000008 0c 00 00000000 0003 616263 0001 78", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.u.origin.num_origins, 2);
  h2_cbs one;
  h2_cbs_init(&it, f.u.origin.payload, f.u.origin.payload_len);
  assert_int_equal(h2_frame_origin_next(&it, &one), 1);
  assert_memory_equal(h2_cbs_data(&one), "abc", 3);
  assert_int_equal(h2_frame_origin_next(&it, &one), 1);
  assert_int_equal(h2_cbs_len(&one), 1);
  assert_int_equal(h2_frame_origin_next(&it, &one), 0);

  n = hex("000007 10 00 00000000 80000005 753d31", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.u.priority_update.stream_id, 5);
  assert_memory_equal(f.u.priority_update.value, "u=1", 3);

  n = hex("000003 0b 07 00000001 010203", buf, sizeof buf);
  assert_int_equal(decode_one(buf, n, &f), 0);
  assert_int_equal(f.type, H2_FRAME_UNKNOWN);
  assert_int_equal(f.hdr.type, 0xb);
  assert_int_equal(f.hdr.flags, 7);
  assert_ptr_equal(f.u.unknown.payload, buf + 9);
}

static void test_hdr_and_sizes(void **state) {
  (void)state;
  uint8_t buf[9];
  h2_frame_hdr h;
  hex("ffffff 08 ab ffffffff", buf, sizeof buf);
  assert_int_equal(h2_frame_parse_hdr(buf, 8, &h), H2_ERR_INCOMPLETE);
  assert_int_equal(h2_frame_parse_hdr(buf, 9, &h), 0);
  assert_int_equal(h.length, 0xffffff);
  assert_int_equal(h.type, 8);
  assert_int_equal(h.flags, 0xab);
  assert_int_equal(h.stream_id, 0x7fffffff);
  assert_int_equal(h2_frame_check_hdr(&h, H2_MAX_MAX_FRAME_SIZE), 0);
  h.length = 16385;
  assert_int_equal(h2_frame_check_hdr(&h, 16384), H2_ERR_FRAME_SIZE);
  assert_int_equal(h2_frame_check_hdr(&h, 16385), 0);
  assert_int_equal(h2_frame_check_hdr(&h, 16383), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_frame_check_hdr(&h, 1u << 24), H2_ERR_INVALID_ARG);

  /* Oversized DATA / HEADERS / SETTINGS: connection FRAME_SIZE_ERROR, with
   * h2_frame_parse not consuming anything. */
  size_t big = 9 + 16385;
  uint8_t *p = calloc(1, big);
  assert_non_null(p);
  const uint8_t types[] = {H2_FRAME_DATA, H2_FRAME_HEADERS, H2_FRAME_SETTINGS, 0xee};
  for (size_t i = 0; i < sizeof types; i++) {
    hex("004001 00 00 00000001", p, 9);
    p[3] = types[i];
    h2_frame f;
    h2_cbs in;
    h2_cbs_init(&in, p, big);
    assert_int_equal(h2_frame_parse(&in, 16384, &f), H2_ERR_FRAME_SIZE);
    assert_int_equal(f.stream_error, 0);
    assert_int_equal(f.type, frame_type_of(types[i]));
    assert_int_equal(f.hdr.length, 16385);
    assert_int_equal(h2_cbs_len(&in), big);
    h2_frame_hdr hh;
    assert_int_equal(h2_frame_parse_hdr(p, big, &hh), 0);
    assert_int_equal(h2_frame_decode(&hh, p + 9, 16385, 16384, &f), H2_ERR_FRAME_SIZE);
    if (types[i] == H2_FRAME_DATA) {
      assert_int_equal(h2_frame_parse(&in, 16385, &f), 0);
      assert_int_equal(f.u.data.len, 16385);
      assert_ptr_equal(f.u.data.data, p + 9);
    }
  }
  /* payload_len must match the header */
  h2_frame_hdr hh = {4, H2_FRAME_RST_STREAM, 0, 1};
  h2_frame f;
  assert_int_equal(h2_frame_decode(&hh, p, 3, MAXF, &f), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_frame_decode(&hh, p, 4, MAXF, &f), 0);
  assert_int_equal(h2_frame_decode(&hh, p, 4, 100, &f), H2_ERR_INVALID_ARG);
  free(p);
}

/* All vectors back to back, made available one byte at a time (as a
 * transport might deliver them): every frame comes out exactly once, in
 * order, with the same result as decoding it alone. */
static void test_sequence_byte_at_a_time(void **state) {
  (void)state;
  size_t nv = sizeof vecs / sizeof vecs[0];
  uint8_t *all = malloc(nv * 256);
  size_t *ends = malloc(nv * sizeof *ends);
  assert_non_null(all);
  assert_non_null(ends);
  size_t total = 0;
  for (size_t i = 0; i < nv; i++) {
    total += hex(vecs[i].hex, all + total, 256);
    ends[i] = total;
  }
  size_t start = 0, next = 0;
  for (size_t avail = 0; avail <= total; avail++) {
    h2_cbs in;
    h2_frame f;
    h2_cbs_init(&in, all + start, avail - start);
    int rv = h2_frame_parse(&in, MAXF, &f);
    if (rv == H2_ERR_INCOMPLETE) {
      assert_int_equal(h2_cbs_len(&in), avail - start);
      continue;
    }
    assert_true(next < nv);
    if (avail != ends[next]) fail_msg("line %d: frame ended at %zu, want %zu", vecs[next].line, avail, ends[next]);
    if (rv != vecs[next].rv || f.ignore != vecs[next].ignore) fail_msg("line %d: rv %d", vecs[next].line, rv);
    assert_int_equal(h2_cbs_len(&in), 0);
    start = avail;
    next++;
  }
  assert_int_equal(next, nv);
  free(ends);
  free(all);
}

/* --- serializers --- */

static void expect_write(int line, int rv, const h2_cbb *b, int want_rv, const char *want_hex,
                         int decode) {
  uint8_t want[128];
  if (rv != want_rv) fail_msg("line %d: rv %d want %d", line, rv, want_rv);
  if (want_rv != 0) {
    if (b->len != 0) fail_msg("line %d: wrote on error", line);
    return;
  }
  size_t n = hex(want_hex, want, sizeof want);
  if (b->len != n || memcmp(b->buf, want, n) != 0) fail_msg("line %d: bytes differ", line);
  if (!decode) return;
  /* every written frame decodes cleanly */
  h2_cbs in;
  h2_frame f;
  h2_cbs_init(&in, b->buf, b->len);
  while (h2_cbs_len(&in) > 0) {
    int r = h2_frame_parse(&in, MAXF, &f);
    if (r != 0 || f.ignore) fail_msg("line %d: output does not decode (%d)", line, r);
  }
}

#define W(call, want_rv, want_hex)                          \
  do {                                                      \
    h2_cbb_init(&b, out, sizeof out);                       \
    expect_write(__LINE__, (call), &b, want_rv, want_hex, 1); \
  } while (0)

static void test_writers(void **state) {
  (void)state;
  uint8_t out[256];
  h2_cbb b;
  const uint8_t ping[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  h2_frame_prio pr = {1, 16, 1}, bad_w = {1, 0, 0}, bad_w2 = {1, 257, 0}, bad_d = {0x80000000u, 1, 0};
  h2_frame_setting st[] = {{3, 100}, {4, 65535}};
  h2_cbs origins[2];
  h2_cbs_init(&origins[0], (const uint8_t *)"abc", 3);
  h2_cbs_init(&origins[1], (const uint8_t *)"x", 1);
  h2_frame_hdr hdr = {5, 0, 1, 1}, badh = {1u << 24, 0, 0, 1};

  h2_cbb_init(&b, out, sizeof out);
  expect_write(__LINE__, h2_frame_write_hdr(&b, &hdr), &b, 0, "000005 00 01 00000001", 0);
  W(h2_frame_write_hdr(&b, &badh), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_data(&b, 1, H2_FLAG_END_STREAM, (const uint8_t *)"hello", 5, -1), 0,
    "000005 00 01 00000001 68656c6c6f");
  W(h2_frame_write_data(&b, 3, H2_FLAG_END_STREAM | H2_FLAG_PADDED, (const uint8_t *)"ab", 2, -1), 0,
    "000002 00 01 00000003 6162");
  W(h2_frame_write_data(&b, 3, H2_FLAG_END_STREAM, (const uint8_t *)"ab", 2, 2), 0,
    "000005 00 09 00000003 02 6162 0000");
  W(h2_frame_write_data(&b, 3, 0, NULL, 0, 0), 0, "000001 00 08 00000003 00");
  W(h2_frame_write_data(&b, 0, 0, NULL, 0, -1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_data(&b, 0x80000000u, 0, NULL, 0, -1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_data(&b, 1, 0, NULL, 0, 256), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_data(&b, 1, 0, NULL, 0, -2), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_data(&b, 1, 0, NULL, 3, -1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_headers(&b, 1, H2_FLAG_END_HEADERS, NULL, (const uint8_t *)"\x82\x84\x87", 3, -1),
    0, "000003 01 04 00000001 828487");
  W(h2_frame_write_headers(&b, 3, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, &pr,
                           (const uint8_t *)"\x82", 1, 1),
    0, "000008 01 2d 00000003 01 80000001 0f 82 00");
  W(h2_frame_write_headers(&b, 3, 0, &bad_w, NULL, 0, -1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_headers(&b, 3, 0, &bad_w2, NULL, 0, -1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_headers(&b, 3, 0, &bad_d, NULL, 0, -1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_headers(&b, 0, 0, NULL, NULL, 0, -1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_priority(&b, 3, &pr), 0, "000005 02 00 00000003 80000001 0f");
  W(h2_frame_write_priority(&b, 0, &pr), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_priority(&b, 3, NULL), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_rst_stream(&b, 5, 8), 0, "000004 03 00 00000005 00000008");
  W(h2_frame_write_rst_stream(&b, 0, 8), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_settings(&b, st, 2), 0, "00000c 04 00 00000000 0003 00000064 0004 0000ffff");
  W(h2_frame_write_settings(&b, NULL, 0), 0, "000000 04 00 00000000");
  W(h2_frame_write_settings(&b, NULL, 1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_settings_ack(&b), 0, "000000 04 01 00000000");
  W(h2_frame_write_push_promise(&b, 1, H2_FLAG_END_HEADERS, 2, (const uint8_t *)"\x82", 1, -1), 0,
    "000005 05 04 00000001 00000002 82");
  W(h2_frame_write_push_promise(&b, 1, 0, 2, NULL, 0, 0), 0, "000005 05 08 00000001 00 00000002");
  W(h2_frame_write_push_promise(&b, 1, 0, 0, NULL, 0, -1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_push_promise(&b, 0, 0, 2, NULL, 0, -1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_ping(&b, 0, ping), 0, "000008 06 00 00000000 0102030405060708");
  W(h2_frame_write_ping(&b, H2_FLAG_ACK, ping), 0, "000008 06 01 00000000 0102030405060708");
  W(h2_frame_write_goaway(&b, 7, 2, (const uint8_t *)"boo", 3), 0,
    "00000b 07 00 00000000 00000007 00000002 626f6f");
  W(h2_frame_write_goaway(&b, 0, 0, NULL, 0), 0, "000008 07 00 00000000 00000000 00000000");
  W(h2_frame_write_goaway(&b, 0x80000000u, 0, NULL, 0), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_window_update(&b, 0, 0x7fffffff), 0, "000004 08 00 00000000 7fffffff");
  W(h2_frame_write_window_update(&b, 3, 1), 0, "000004 08 00 00000003 00000001");
  W(h2_frame_write_window_update(&b, 3, 0), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_window_update(&b, 3, 0x80000000u), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_continuation(&b, 1, H2_FLAG_END_HEADERS, (const uint8_t *)"\x82", 1), 0,
    "000001 09 04 00000001 82");
  W(h2_frame_write_continuation(&b, 0, 0, NULL, 0), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_altsvc(&b, 0, (const uint8_t *)"abc", 3, (const uint8_t *)"x", 1), 0,
    "000006 0a 00 00000000 0003 616263 78");
  W(h2_frame_write_altsvc(&b, 1, NULL, 0, (const uint8_t *)"x", 1), 0,
    "000003 0a 00 00000001 0000 78");
  W(h2_frame_write_altsvc(&b, 0, NULL, 0, (const uint8_t *)"x", 1), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_altsvc(&b, 1, (const uint8_t *)"abc", 3, NULL, 0), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_origin(&b, origins, 2), 0, "000008 0c 00 00000000 0003 616263 0001 78");
  W(h2_frame_write_origin(&b, NULL, 0), 0, "000000 0c 00 00000000");
  W(h2_frame_write_priority_update(&b, 1, (const uint8_t *)"u=1", 3), 0,
    "000007 10 00 00000000 00000001 753d31");
  W(h2_frame_write_priority_update(&b, 0, NULL, 0), H2_ERR_INVALID_ARG, "");
  W(h2_frame_write_unknown(&b, 0xee, 0x12, 9, (const uint8_t *)"\1", 1), 0,
    "000001 ee 12 00000009 01");
  W(h2_frame_write_unknown(&b, 0xee, 0, 0x80000000u, NULL, 0), H2_ERR_INVALID_ARG, "");
}

/* A frame that does not fit writes nothing and sets the sticky error. */
static void test_writers_buffer_too_small(void **state) {
  (void)state;
  uint8_t out[64];
  const uint8_t ping[8] = {0};
  for (size_t cap = 0; cap < 17; cap++) {
    h2_cbb b;
    memset(out, 0xaa, sizeof out);
    h2_cbb_init(&b, out, cap);
    int rv = h2_frame_write_ping(&b, 0, ping);
    assert_int_equal(rv, H2_ERR_BUF_TOO_SMALL);
    assert_int_equal(b.len, 0);
    assert_false(h2_cbb_ok(&b));
    for (size_t i = 0; i < sizeof out; i++) assert_int_equal(out[i], 0xaa);
  }
  h2_cbb b;
  h2_cbb_init(&b, out, 17);
  assert_int_equal(h2_frame_write_ping(&b, 0, ping), 0);
  assert_int_equal(b.len, 17);
  assert_int_equal(h2_frame_write_settings_ack(&b), H2_ERR_BUF_TOO_SMALL);
  assert_int_equal(b.len, 17);
}

/* --- field block split over CONTINUATION --- */

static void check_block(size_t block_len, int with_prio, int push, uint32_t max) {
  uint8_t *block = malloc(block_len ? block_len : 1);
  assert_non_null(block);
  for (size_t i = 0; i < block_len; i++) block[i] = (uint8_t)(i * 7 + 3);
  h2_frame_prio pr = {0, 200, 0};
  size_t extra = push ? 4 : with_prio ? 5 : 0;
  size_t need = h2_frame_block_size(extra, block_len, max);
  assert_true(need >= 9 + extra + block_len);
  uint8_t *out = malloc(need);
  assert_non_null(out);
  h2_cbb b;
  /* one byte short: nothing written */
  h2_cbb_init(&b, out, need - 1);
  int rv = push ? h2_frame_write_push_promise_block(&b, 1, 2, block, block_len, max)
                : h2_frame_write_headers_block(&b, 3, H2_FLAG_END_STREAM, with_prio ? &pr : NULL,
                                               block, block_len, max);
  assert_int_equal(rv, H2_ERR_BUF_TOO_SMALL);
  assert_int_equal(b.len, 0);
  h2_cbb_init(&b, out, need);
  rv = push ? h2_frame_write_push_promise_block(&b, 1, 2, block, block_len, max)
            : h2_frame_write_headers_block(&b, 3, H2_FLAG_END_STREAM, with_prio ? &pr : NULL, block,
                                           block_len, max);
  assert_int_equal(rv, 0);
  assert_int_equal(b.len, need);

  h2_cbs in;
  h2_cbs_init(&in, out, b.len);
  size_t got = 0, frames = 0;
  while (h2_cbs_len(&in) > 0) {
    h2_frame f;
    assert_int_equal(h2_frame_parse(&in, max, &f), 0);
    const uint8_t *frag;
    size_t flen;
    if (frames == 0) {
      assert_int_equal(f.type, push ? H2_FRAME_PUSH_PROMISE : H2_FRAME_HEADERS);
      if (push) {
        assert_int_equal(f.u.push_promise.promised_id, 2);
        frag = f.u.push_promise.fragment;
        flen = f.u.push_promise.fragment_len;
      } else {
        assert_int_equal(f.hdr.flags & H2_FLAG_END_STREAM, H2_FLAG_END_STREAM);
        assert_int_equal(f.u.headers.has_priority, with_prio);
        if (with_prio) assert_int_equal(f.u.headers.prio.weight, 200);
        frag = f.u.headers.fragment;
        flen = f.u.headers.fragment_len;
      }
    } else {
      assert_int_equal(f.type, H2_FRAME_CONTINUATION);
      frag = f.u.continuation.fragment;
      flen = f.u.continuation.fragment_len;
      assert_true(flen > 0);
    }
    assert_int_equal(f.hdr.stream_id, push ? 1 : 3);
    assert_true(f.hdr.length <= max);
    int last = h2_cbs_len(&in) == 0;
    assert_int_equal((f.hdr.flags & H2_FLAG_END_HEADERS) != 0, last);
    /* every frame but the last is full */
    if (!last) assert_int_equal(f.hdr.length, max);
    assert_true(got + flen <= block_len);
    if (flen) assert_memory_equal(frag, block + got, flen);
    got += flen;
    frames++;
  }
  assert_int_equal(got, block_len);
  free(out);
  free(block);
}

static void test_block_split(void **state) {
  (void)state;
  const size_t lens[] = {0, 1, 16379, 16380, 16383, 16384, 16385, 32768, 32769, 40000, 100000};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    check_block(lens[i], 0, 0, 16384);
    check_block(lens[i], 1, 0, 16384);
    check_block(lens[i], 0, 1, 16384);
    check_block(lens[i], 0, 0, 20000);
  }
  /* frame counts */
  assert_int_equal(h2_frame_block_size(0, 0, 16384), 9);
  assert_int_equal(h2_frame_block_size(0, 16384, 16384), 9 + 16384);
  assert_int_equal(h2_frame_block_size(0, 16385, 16384), 18 + 16385);
  assert_int_equal(h2_frame_block_size(5, 16380, 16384), 18 + 5 + 16380);
  assert_int_equal(h2_frame_block_size(0, 1, 100), 0);
  assert_int_equal(h2_frame_block_size(0, SIZE_MAX - 5, 16384), 0);
  uint8_t out[64];
  h2_cbb b;
  h2_cbb_init(&b, out, sizeof out);
  assert_int_equal(h2_frame_write_headers_block(&b, 1, 0, NULL, NULL, 0, 100), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_frame_write_headers_block(&b, 0, 0, NULL, NULL, 0, 16384), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_frame_write_push_promise_block(&b, 1, 0, NULL, 0, 16384), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_frame_write_headers_block(&b, 1, 0, NULL, out, SIZE_MAX - 5, 16384),
                   H2_ERR_INVALID_ARG);
  assert_int_equal(b.len, 0);
}

/* --- names and printer --- */

static void expect_print(int line, const char *hexin, const char *want) {
  uint8_t buf[128];
  char line_buf[256];
  h2_frame f;
  size_t n = hex(hexin, buf, sizeof buf);
  h2_cbs in;
  h2_cbs_init(&in, buf, n);
  (void)h2_frame_parse(&in, MAXF, &f);
  size_t len = h2_frame_print(line_buf, sizeof line_buf, &f);
  if (strcmp(line_buf, want) != 0 || len != strlen(want))
    fail_msg("line %d: got '%s' want '%s'", line, line_buf, want);
}

static void test_print(void **state) {
  (void)state;
  assert_string_equal(h2_frame_type_name(H2_FRAME_DATA), "DATA");
  assert_string_equal(h2_frame_type_name(H2_FRAME_PRIORITY_UPDATE), "PRIORITY_UPDATE");
  assert_string_equal(h2_frame_type_name(0xb), "UNKNOWN");
  assert_string_equal(h2_frame_type_name(0x100), "UNKNOWN");
  assert_string_equal(h2_frame_setting_name(9), "SETTINGS_NO_RFC7540_PRIORITIES");
  assert_string_equal(h2_frame_setting_name(7), "UNKNOWN");
  expect_print(__LINE__, "000005 00 01 00000001 68656c6c6f", "[DATA] stream=1 len=5 flags=END_STREAM");
  expect_print(__LINE__, "000005 00 09 00000003 02 6162 0000",
               "[DATA] stream=3 len=5 flags=END_STREAM|PADDED data=2 pad=2");
  expect_print(__LINE__, "000006 01 25 00000003 80000001 0f 82",
               "[HEADERS] stream=3 len=6 flags=END_STREAM|END_HEADERS|PRIORITY fragment=1 dep=1 "
               "weight=16 exclusive=1");
  expect_print(__LINE__, "000012 04 00 00000000 0003 00000064 0004 0000ffff 00ff 00000001",
               "[SETTINGS] stream=0 len=18 flags=none MAX_CONCURRENT_STREAMS=100 "
               "INITIAL_WINDOW_SIZE=65535 0xff=1");
  expect_print(__LINE__, "000000 04 01 00000000", "[SETTINGS] stream=0 len=0 flags=ACK");
  expect_print(__LINE__, "000008 06 81 00000000 0102030405060708",
               "[PING] stream=0 len=8 flags=ACK|0x80 opaque=0102030405060708");
  expect_print(__LINE__, "00000c 07 00 00000000 00000007 00000001 62220a61",
               "[GOAWAY] stream=0 len=12 flags=none last_stream=7 error=PROTOCOL_ERROR(0x1) "
               "debug=\"b\\x22\\x0aa\"");
  expect_print(__LINE__, "000004 03 00 00000001 00000008",
               "[RST_STREAM] stream=1 len=4 flags=none error=CANCEL(0x8)");
  expect_print(__LINE__, "000004 08 00 00000000 00010000",
               "[WINDOW_UPDATE] stream=0 len=4 flags=none increment=65536");
  expect_print(__LINE__, "000007 05 04 00000001 00000002 828487",
               "[PUSH_PROMISE] stream=1 len=7 flags=END_HEADERS promised=2 fragment=3");
  expect_print(__LINE__, "000003 09 04 00000001 828487",
               "[CONTINUATION] stream=1 len=3 flags=END_HEADERS fragment=3");
  expect_print(__LINE__, "000006 0a 00 00000000 0003 616263 78",
               "[ALTSVC] stream=0 len=6 flags=none origin=\"abc\" value=\"x\"");
  expect_print(__LINE__, "000008 0c 00 00000000 0003 616263 0001 78",
               "[ORIGIN] stream=0 len=8 flags=none \"abc\" \"x\"");
  expect_print(__LINE__, "000005 0c 00 00000001 0003 616263",
               "[ORIGIN] stream=1 len=5 flags=none ignored (ORIGIN on a stream)");
  expect_print(__LINE__, "000007 10 00 00000000 00000001 753d31",
               "[PRIORITY_UPDATE] stream=0 len=7 flags=none prioritized=1 value=\"u=1\"");
  expect_print(__LINE__, "000005 02 00 00000003 00000001 0f",
               "[PRIORITY] stream=3 len=5 flags=none dep=1 weight=16 exclusive=0");
  expect_print(__LINE__, "000001 ee 03 00000001 00", "[UNKNOWN type=0xee] stream=1 len=1 flags=0x03");

  /* truncation: NUL-terminated, full length returned */
  uint8_t buf[32];
  h2_frame f;
  size_t n = hex("000005 00 01 00000001 68656c6c6f", buf, sizeof buf);
  h2_cbs in;
  h2_cbs_init(&in, buf, n);
  assert_int_equal(h2_frame_parse(&in, MAXF, &f), 0);
  char small[8];
  memset(small, 'x', sizeof small);
  size_t full = h2_frame_print(small, sizeof small, &f);
  assert_int_equal(full, strlen("[DATA] stream=1 len=5 flags=END_STREAM"));
  assert_string_equal(small, "[DATA] ");
  assert_int_equal(h2_frame_print(NULL, 0, &f), full);
}

/* --- guard page --- */

static void test_guard_page(void **state) {
  (void)state;
  long pg = sysconf(_SC_PAGESIZE);
  assert_true(pg > 0);
  size_t page = (size_t)pg;
  uint8_t *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(map != MAP_FAILED);
  assert_int_equal(mprotect(map + page, page, PROT_NONE), 0);
  uint8_t *end = map + page; /* first byte that faults */
  uint8_t buf[256];
  for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
    size_t n = hex(vecs[i].hex, buf, sizeof buf);
    /* whole frame flush against the guard */
    memcpy(end - n, buf, n);
    check_vec(&vecs[i], end - n, n);
    /* every truncation, also flush against the guard: header only, or the
     * payload handed to h2_frame_decode shorter than hdr.length */
    for (size_t k = 0; k < n; k++) {
      memcpy(end - k, buf, k);
      h2_cbs in;
      h2_frame f;
      h2_cbs_init(&in, end - k, k);
      assert_int_equal(h2_frame_parse(&in, MAXF, &f), H2_ERR_INCOMPLETE);
      h2_frame_hdr h;
      if (h2_frame_parse_hdr(end - k, k, &h) == 0) {
        /* a payload that ends at the guard, decoded with its real length
         * field rewritten to the truncated length */
        h2_frame_hdr th = h;
        th.length = (uint32_t)(k - 9);
        (void)h2_frame_decode(&th, end - (k - 9), k - 9, MAXF, &f);
        char line[512];
        (void)h2_frame_print(line, sizeof line, &f);
      }
    }
  }
  munmap(map, 2 * page);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_vectors_reencode_and_prefixes),
      cmocka_unit_test(test_decoded_fields),
      cmocka_unit_test(test_hdr_and_sizes),
      cmocka_unit_test(test_sequence_byte_at_a_time),
      cmocka_unit_test(test_writers),
      cmocka_unit_test(test_writers_buffer_too_small),
      cmocka_unit_test(test_block_split),
      cmocka_unit_test(test_print),
      cmocka_unit_test(test_guard_page),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
