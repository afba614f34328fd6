/* test_conn_collect.c: the HPACK decoder's collect mode
 * (h2_hpack_decode_collect), which the connection engine uses to receive
 * header blocks: the same fields as the callback decoder whatever the
 * pieces, static strings not copied, marks, limits, the list's lifetime;
 * and a request whose collected strings outgrow their buffer across
 * CONTINUATION frames, delivered intact by the engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h2_conn.h"
#include "h2_frame.h"
#include "test_hpack_util.h"
#include "util_conn.h"

#define WIRE_FLAGS (H2_HPACK_NEVER_INDEXED | H2_HPACK_NO_INDEX)

/* Encodes |n| fields into |out| (cap |cap|); returns the block length. */
static size_t encode(h2_hpack_encoder *e, const h2_hpack_field *f, size_t n, uint8_t *out, size_t cap) {
  h2_cbb b;
  h2_cbb_init(&b, out, cap);
  assert_true(h2_hpack_encode(e, &b, f, n) >= 0);
  return b.len;
}

/* Decodes |blk| in collect mode in pieces of |piece| octets (0: whole). */
static int collect_block(h2_hpack_decoder *d, const uint8_t *blk, size_t len, size_t piece) {
  if (!piece) return h2_hpack_decode_collect(d, blk, len, 1, 1);
  int total = 0;
  for (size_t off = 0; off < len; off += piece) {
    size_t n = len - off < piece ? len - off : piece;
    int rc = h2_hpack_decode_collect(d, blk + off, n, 0, 1);
    if (rc < 0) return rc;
    total += rc;
  }
  int rc = h2_hpack_decode_collect(d, NULL, 0, 1, 1);
  return rc < 0 ? rc : total + rc;
}

/* Field sets of the blocks: indexed static, literals with and without
 * indexing, never indexed, long values, empty ones, repeats (dynamic
 * indexes), as a client sends them. */
static void make_fields(h2_hpack_field *f, size_t *n, int round, char *big) {
  size_t k = 0;
  f[k++] = (h2_hpack_field){":method", 7, "GET", 3, 0};
  f[k++] = (h2_hpack_field){":scheme", 7, "https", 5, 0};
  f[k++] = (h2_hpack_field){":authority", 10, "example.org:8443", 16, 0};
  f[k++] = (h2_hpack_field){":path", 5, round % 2 ? "/a/b/c?d=e" : "/", round % 2 ? 10 : 1, 0};
  f[k++] = (h2_hpack_field){"user-agent", 10, "a-rather-long-user-agent/1.2.3 (test)", 37, 0};
  f[k++] = (h2_hpack_field){"accept", 6, "*/*", 3, 0};
  f[k++] = (h2_hpack_field){"x-empty", 7, "", 0, 0};
  f[k++] = (h2_hpack_field){"", 0, "", 0, H2_HPACK_NO_INDEX}; /* (HPACK allows it) */
  f[k++] = (h2_hpack_field){"authorization", 13, "secret", 6, H2_HPACK_NEVER_INDEXED};
  f[k++] = (h2_hpack_field){"x-no-index", 10, "v", 1, H2_HPACK_NO_INDEX};
  size_t blen = 300 + (size_t)round * 517;
  memset(big, 'a' + round, blen);
  f[k++] = (h2_hpack_field){"x-big", 5, big, blen, 0};
  f[k++] = (h2_hpack_field){"cookie", 6, "k=v", 3, 0};
  *n = k;
}

static void test_collect_same_as_callback(void **state) {
  (void)state;
  static const size_t pieces[] = {0, 1, 3, 7, 64};
  static char big[4000];
  static uint8_t blk[8192];
  for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
    h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
    h2_hpack_decoder *cb = h2_hpack_decoder_new(NULL), *co = h2_hpack_decoder_new(NULL);
    for (int round = 0; round < 6; round++) {
      h2_hpack_field f[16];
      size_t n;
      make_fields(f, &n, round, big);
      size_t len = encode(e, f, n, blk, sizeof blk);
      collector col;
      collector_init(&col);
      assert_int_equal(feed(cb, blk, len, 0, &col), (int)n);
      assert_int_equal(collect_block(co, blk, len, pieces[p]), (int)n);
      size_t got;
      const h2_hpack_field *cf = h2_hpack_decoder_collected(co, &got);
      assert_int_equal(got, n);
      for (size_t i = 0; i < n; i++) {
        assert_int_equal(cf[i].name_len + 2 + cf[i].value_len, col.len[i]);
        assert_memory_equal(cf[i].name, col.f[i], cf[i].name_len);
        assert_memory_equal(cf[i].value, col.f[i] + cf[i].name_len + 2, cf[i].value_len);
        assert_int_equal(cf[i].flags & WIRE_FLAGS, col.flags[i] & WIRE_FLAGS);
        /* and what was sent */
        assert_int_equal(cf[i].value_len, f[i].value_len);
        assert_memory_equal(cf[i].value, f[i].value, f[i].value_len);
      }
      collector_free(&col);
    }
    h2_hpack_encoder_free(e);
    h2_hpack_decoder_free(cb);
    h2_hpack_decoder_free(co);
  }
}

static void test_collect_static_and_marks(void **state) {
  (void)state;
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  h2_hpack_field st;
  assert_int_equal(h2_hpack_static_get(2, &st), 0); /* :method GET */
  /* 0x82: static 2; 0x41 0x03 "a.b": literal :authority with indexing
   * (name static 1, value copied) */
  static const uint8_t b1[] = {0x82, 0x41, 0x03, 'a', '.', 'b'};
  assert_int_equal(h2_hpack_decode_collect(d, b1, sizeof b1, 1, 1), 2);
  size_t n;
  h2_hpack_field *f = h2_hpack_decoder_collected(d, &n);
  assert_int_equal(n, 2);
  assert_ptr_equal(f[0].name, st.name); /* not copied */
  assert_ptr_equal(f[0].value, st.value);
  assert_int_equal(f[0].flags, H2_HPACK_STATIC_NAME | H2_HPACK_STATIC_VALUE | (2u << H2_HPACK_STATIC_INDEX_SHIFT));
  assert_int_equal(H2_HPACK_STATIC_INDEX(f[0].flags), 2);
  assert_int_equal(f[1].flags, H2_HPACK_STATIC_NAME); /* a new entry: not marked, no static index */
  h2_hpack_decoder_mark_static(d, 2, 9);
  h2_hpack_decoder_mark_static(d, 0, 9);  /* no such entry: no effect */
  h2_hpack_decoder_mark_static(d, 62, 9); /* same */
  assert_memory_equal(f[1].value, "a.b", 3);
  assert_ptr_not_equal(f[1].value, (const char *)b1 + 3); /* copied out of the input */
  h2_hpack_decoder_mark_collected(d, 1, 5);
  h2_hpack_decoder_mark_collected(d, 0, 7); /* not an entry: no effect */
  h2_hpack_decoder_mark_collected(d, 9, 7); /* out of range: no effect */
  /* 0xbe: dynamic 62 (the entry above), twice, then static 2 */
  static const uint8_t b2[] = {0xbe, 0xbe, 0x82};
  assert_int_equal(h2_hpack_decode_collect(d, b2, sizeof b2, 1, 1), 3);
  f = h2_hpack_decoder_collected(d, &n);
  assert_int_equal(n, 3); /* the list restarted with the block */
  for (int i = 0; i < 2; i++) {
    assert_int_equal(f[i].flags, H2_HPACK_MARKED | (5u << H2_HPACK_MARK_TAG_SHIFT));
    assert_int_equal(f[i].name_len, 10);
    assert_memory_equal(f[i].name, ":authority", 10);
    assert_memory_equal(f[i].value, "a.b", 3);
  }
  assert_int_equal(f[2].flags, H2_HPACK_STATIC_NAME | H2_HPACK_STATIC_VALUE | (2u << H2_HPACK_STATIC_INDEX_SHIFT) |
                                    H2_HPACK_MARKED | (9u << H2_HPACK_MARK_TAG_SHIFT));
  /* static marks are the decoder's own */
  h2_hpack_decoder *d2 = h2_hpack_decoder_new(NULL);
  assert_int_equal(h2_hpack_decode_collect(d2, b2 + 2, 1, 1, 1), 1);
  assert_int_equal(h2_hpack_decoder_collected(d2, &n)[0].flags & H2_HPACK_MARKED, 0);
  h2_hpack_decoder_free(d2);
  /* keep = 0: decoded (the table follows), nothing collected */
  static const uint8_t b3[] = {0x41, 0x01, 'z', 0xbf};
  assert_int_equal(h2_hpack_decode_collect(d, b3, sizeof b3, 1, 0), 2);
  h2_hpack_decoder_collected(d, &n);
  assert_int_equal(n, 0);
  assert_int_equal(h2_hpack_decoder_table_count(d), 2);
  /* 0xbf is now the older entry: still marked */
  static const uint8_t b4[] = {0xbf, 0xbe};
  assert_int_equal(h2_hpack_decode_collect(d, b4, sizeof b4, 1, 1), 2);
  f = h2_hpack_decoder_collected(d, &n);
  assert_int_equal(n, 2);
  assert_memory_equal(f[0].value, "a.b", 3);
  assert_int_equal(f[0].flags, H2_HPACK_MARKED | (5u << H2_HPACK_MARK_TAG_SHIFT));
  assert_memory_equal(f[1].value, "z", 1);
  assert_int_equal(f[1].flags, 0);
  /* trim between blocks lets the list go; decoding goes on */
  h2_hpack_decoder_trim(d);
  assert_int_equal(h2_hpack_decode_collect(d, b4, sizeof b4, 1, 1), 2);
  f = h2_hpack_decoder_collected(d, &n);
  assert_int_equal(n, 2);
  assert_memory_equal(f[1].value, "z", 1);
  h2_hpack_decoder_free(d);
}

static void test_collect_limits(void **state) {
  (void)state;
  h2_hpack_decoder *d = h2_hpack_decoder_new(NULL);
  h2_hpack_decoder_set_limits(d, 1000, 3, 1000);
  static const uint8_t b[] = {0x82, 0x84, 0x86, 0x87, 0x82};
  /* in one piece and octet by octet: three fields, then the soft error */
  assert_int_equal(h2_hpack_decode_collect(d, b, sizeof b, 1, 1), H2_ERR_HPACK_TOO_MANY_FIELDS);
  size_t n;
  h2_hpack_decoder_collected(d, &n);
  assert_int_equal(n, 3);
  int total = 0;
  for (size_t i = 0; i < sizeof b; i++) total += h2_hpack_decode_collect(d, b + i, 1, 0, 1);
  assert_int_equal(total, 3);
  assert_int_equal(h2_hpack_decode_collect(d, NULL, 0, 1, 1), H2_ERR_HPACK_TOO_MANY_FIELDS);
  h2_hpack_decoder_collected(d, &n);
  assert_int_equal(n, 3);
  /* list size: :method GET is 7 + 3 + 32 = 42 octets; 100 holds two */
  h2_hpack_decoder_set_limits(d, 100, 100, 1000);
  assert_int_equal(h2_hpack_decode_collect(d, b, sizeof b, 1, 1), H2_ERR_HPACK_LIST_TOO_LARGE);
  h2_hpack_decoder_collected(d, &n);
  assert_int_equal(n, 2);
  /* the next block is whole again */
  h2_hpack_decoder_set_limits(d, 1000, 100, 1000);
  assert_int_equal(h2_hpack_decode_collect(d, b, sizeof b, 1, 1), 5);
  /* an index past the table is a hard error, in the fast loop too */
  static const uint8_t bad[] = {0x82, 0xbe};
  assert_int_equal(h2_hpack_decode_collect(d, bad, sizeof bad, 1, 1), H2_ERR_HPACK_INDEX_RANGE);
  assert_int_equal(h2_hpack_decode_collect(d, b, 1, 1, 1), H2_ERR_STATE);
  h2_hpack_decoder_free(d);
}

/* The engine: a request of many long fields, its block cut into HEADERS +
 * CONTINUATIONs, the collected strings growing their buffer several times
 * between fragments (after the first fragment's fields were checked and
 * their flags changed): every field arrives intact. */
typedef struct req_seen {
  int headers;
  size_t n;
  int ok;
} req_seen;

static char longval[40][700];

static int req_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  (void)c;
  req_seen *r = user;
  if (ev->type != H2_CONN_EV_HEADERS) return 0;
  r->headers++;
  r->n = ev->u.headers.num_fields;
  const h2_hpack_field *f = ev->u.headers.fields;
  r->ok = r->n == 44 && f[0].name_len == 7 && memcmp(f[0].name, ":method", 7) == 0 &&
          f[3].value_len == 6 && memcmp(f[3].value, "/index", 6) == 0;
  for (size_t i = 4; r->ok && i < r->n; i++) {
    char name[16];
    int nl = snprintf(name, sizeof name, "x-field-%zu", i - 4);
    r->ok = f[i].name_len == (size_t)nl && memcmp(f[i].name, name, (size_t)nl) == 0 &&
            f[i].value_len == 600 + (i - 4) && memcmp(f[i].value, longval[i - 4], f[i].value_len) == 0 &&
            (f[i].flags & (H2_HPACK_STATIC_NAME | H2_HPACK_STATIC_VALUE | H2_HPACK_MARKED)) == 0;
  }
  return 0;
}

static void test_conn_block_across_continuations(void **state) {
  (void)state;
  h2_hpack_field f[44];
  static char names[40][16];
  f[0] = (h2_hpack_field){":method", 7, "GET", 3, 0};
  f[1] = (h2_hpack_field){":scheme", 7, "https", 5, 0};
  f[2] = (h2_hpack_field){":authority", 10, "a", 1, 0};
  f[3] = (h2_hpack_field){":path", 5, "/index", 6, 0};
  for (int i = 0; i < 40; i++) {
    int nl = snprintf(names[i], sizeof names[i], "x-field-%d", i);
    for (int k = 0; k < 600 + i; k++) longval[i][k] = (char)('a' + (k * 7 + i) % 26);
    f[4 + i] = (h2_hpack_field){names[i], (size_t)nl, longval[i], (size_t)(600 + i), H2_HPACK_NO_INDEX};
  }
  h2_hpack_encoder *e = h2_hpack_encoder_new(NULL);
  h2_hpack_encoder_set_huffman(e, H2_HPACK_HUFFMAN_NEVER);
  static uint8_t blk[65536];
  size_t len = encode(e, f, 44, blk, sizeof blk);
  h2_hpack_encoder_free(e);
  assert_true(len > 24000);
  for (size_t piece = 100; piece <= 16384; piece *= 4) {
    req_seen r = {0};
    h2_conn_config cfg;
    h2_conn_config_init(&cfg, H2_CONN_SERVER);
    cfg.settings.max_header_list_size = 1u << 20;
    cfg.max_continuations = 1000;
    h2_conn *c = h2_conn_new(H2_CONN_SERVER, &cfg, NULL, req_cb, &r);
    assert_non_null(c);
    tc_script s;
    tc_script_init(&s);
    tc_preface(&s);
    tc_settings(&s, NULL, 0);
    for (size_t off = 0; off < len; off += piece) {
      size_t n = len - off < piece ? len - off : piece;
      uint8_t flags = (uint8_t)((off + n == len ? H2_FLAG_END_HEADERS : 0) | (off == 0 ? H2_FLAG_END_STREAM : 0));
      tc_frame(&s, off == 0 ? H2_FRAME_HEADERS : H2_FRAME_CONTINUATION, flags, 1, blk + off, n);
    }
    assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
    assert_int_equal(r.headers, 1);
    assert_int_equal(r.n, 44);
    assert_true(r.ok);
    tc_script_free(&s);
    h2_conn_free(c);
  }
}

/* The engine notes what it learned about an entry (static or dynamic) in
 * the decoder's marks and skips the character scans when the entry comes
 * back: every message rule must still apply to the repeated fields. One
 * server connection; the first request marks :method GET, :scheme https,
 * :path /, an :authority entry, accept-encoding and a content-length
 * entry; the later blocks reuse them in malformed ways. */
static void test_marks_keep_message_rules(void **state) {
  (void)state;
  tc_rec rec = {0};
  h2_conn *c = h2_conn_new(H2_CONN_SERVER, NULL, NULL, tc_cb, &rec);
  assert_non_null(c);
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  /* 0x82 :method GET, 0x87 :scheme https, 0x84 :path /, 0x41 0x01 'a'
   * :authority a (indexed: 62 once added), 0x90 accept-encoding, 0x5c 0x01
   * '0' content-length 0 (indexed; 62, :authority then 63) */
  static const uint8_t ok1[] = {0x82, 0x87, 0x84, 0x41, 0x01, 'a', 0x90, 0x5c, 0x01, '0'};
  static const uint8_t after_regular[] = {0x82, 0x87, 0x90, 0x84, 0xbf};   /* 3 */
  static const uint8_t duplicate[] = {0x82, 0x87, 0x84, 0x84, 0xbf};       /* 5 */
  static const uint8_t dup_authority[] = {0x82, 0x87, 0x84, 0xbf, 0xbf};   /* 7 */
  static const uint8_t status_in_req[] = {0x82, 0x87, 0x84, 0xbf, 0x88};   /* 9 */
  static const uint8_t ok2[] = {0x82, 0x87, 0x84, 0xbf, 0x90, 0xbe};       /* 11 */
  static const uint8_t no_method[] = {0x87, 0x84, 0xbf, 0x90};             /* 13 */
  static const uint8_t open_req[] = {0x83, 0x87, 0x84, 0xbf};              /* 15: POST, no END_STREAM */
  static const uint8_t trailer_pseudo[] = {0x90, 0x84};                    /* 15: trailers */
  static const uint8_t ok3[] = {0x82, 0x87, 0x84, 0xbf};                   /* 17 */
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1, ok1, sizeof ok1);
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 3, after_regular, sizeof after_regular);
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 5, duplicate, sizeof duplicate);
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 7, dup_authority, sizeof dup_authority);
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 9, status_in_req, sizeof status_in_req);
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 11, ok2, sizeof ok2);
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 13, no_method, sizeof no_method);
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS, 15, open_req, sizeof open_req);
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 15, trailer_pseudo, sizeof trailer_pseudo);
  tc_frame(&s, H2_FRAME_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 17, ok3, sizeof ok3);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  tc_buf out = {0};
  tc_drain(c, &out);
  char *t = tc_frames_text(out.p, out.len);
  static const uint32_t bad[] = {3, 5, 7, 9, 13, 15}, good[] = {1, 11, 17};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char want[80];
    snprintf(want, sizeof want, "[RST_STREAM] stream=%u len=4 flags=none error=PROTOCOL_ERROR", bad[i]);
    if (!strstr(t, want)) fail_msg("no %s in:\n%s", want, t);
  }
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char no[64];
    snprintf(no, sizeof no, "[RST_STREAM] stream=%u ", good[i]);
    if (strstr(t, no)) fail_msg("stream %u reset:\n%s", good[i], t);
  }
  free(t);
  const char *log = tc_log(&rec);
  /* the three good requests were delivered, with their fields */
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char want[40];
    snprintf(want, sizeof want, "HEADERS s=%u ", good[i]);
    if (!strstr(log, want)) fail_msg("no %s in:\n%s", want, log);
  }
  tc_buf_free(&out);
  tc_script_free(&s);
  tc_rec_free(&rec);
  h2_conn_free(c);
}

/* Sending: a header block goes straight into the free end of the output
 * buffer when it fits there and in one frame; otherwise (not enough free
 * room: nothing changed, the encoder is atomic; or over MAX_FRAME_SIZE)
 * the general path sizes it. Responses of 20 octets, 6000 and 30000 (the
 * last in HEADERS + CONTINUATION) on one connection: each block decodes to
 * exactly the fields sent, and the framing is right. */
static void test_send_blocks_any_size(void **state) {
  (void)state;
  tc_rec rec = {0};
  h2_conn *c = h2_conn_new(H2_CONN_SERVER, NULL, NULL, tc_cb, &rec);
  assert_non_null(c);
  tc_script s;
  tc_script_init(&s);
  tc_preface(&s);
  tc_settings(&s, NULL, 0);
  static const char *const req[] = {":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/", NULL};
  for (uint32_t id = 1; id <= 5; id += 2) tc_headers(&s, id, H2_FLAG_END_STREAM, 0, req);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  tc_drain(c, NULL);
  static char big[3][30000];
  static const size_t sizes[3] = {20, 6000, 30000};
  h2_hpack_decoder *dec = h2_hpack_decoder_new(NULL);
  h2_hpack_decoder_set_limits(dec, 1u << 20, 100, 1u << 20);
  for (int k = 0; k < 3; k++) {
    for (size_t i = 0; i < sizes[k]; i++) big[k][i] = (char)('a' + (i * 13 + (size_t)k) % 26);
    h2_hpack_field f[3] = {{":status", 7, "200", 3, 0},
                           {"x-big", 5, big[k], sizes[k], H2_HPACK_NO_INDEX},
                           {"content-type", 12, "text/plain", 10, 0}};
    uint32_t id = 1 + 2 * (uint32_t)k;
    assert_int_equal(h2_conn_submit_response(c, id, f, 3, 1), 0);
    tc_buf out = {0};
    tc_drain(c, &out);
    /* gather the block from HEADERS + CONTINUATIONs of |id| */
    static uint8_t blk[40000];
    size_t blen = 0, frames = 0;
    int ended = 0;
    for (size_t off = 0; off + 9 <= out.len;) {
      size_t flen = (size_t)out.p[off] << 16 | (size_t)out.p[off + 1] << 8 | out.p[off + 2];
      uint8_t type = out.p[off + 3], fl = out.p[off + 4];
      uint32_t sid = ((uint32_t)out.p[off + 5] << 24 | (uint32_t)out.p[off + 6] << 16 | (uint32_t)out.p[off + 7] << 8 |
                      out.p[off + 8]) & 0x7fffffffu;
      assert_true(off + 9 + flen <= out.len);
      assert_true(flen <= 16384);
      if (sid == id && (type == H2_FRAME_HEADERS || type == H2_FRAME_CONTINUATION)) {
        assert_int_equal(type, frames == 0 ? H2_FRAME_HEADERS : H2_FRAME_CONTINUATION);
        memcpy(blk + blen, out.p + off + 9, flen);
        blen += flen;
        frames++;
        ended = (fl & H2_FLAG_END_HEADERS) != 0;
      }
      off += 9 + flen;
    }
    assert_true(ended);
    assert_int_equal(frames, k == 2 ? 2 : 1);
    collector col;
    collector_init(&col);
    assert_int_equal(h2_hpack_decode(dec, blk, blen, 1, collect_cb, &col), 3);
    assert_string_equal(col.f[0], ":status: 200");
    assert_int_equal(col.len[1], 5 + 2 + sizes[k]);
    assert_memory_equal(col.f[1] + 7, big[k], sizes[k]);
    assert_string_equal(col.f[2], "content-type: text/plain");
    collector_free(&col);
    tc_buf_free(&out);
  }
  h2_hpack_decoder_free(dec);
  tc_script_free(&s);
  tc_rec_free(&rec);
  h2_conn_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_collect_same_as_callback),
      cmocka_unit_test(test_collect_static_and_marks),
      cmocka_unit_test(test_collect_limits),
      cmocka_unit_test(test_conn_block_across_continuations),
      cmocka_unit_test(test_marks_keep_message_rules),
      cmocka_unit_test(test_send_blocks_any_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
