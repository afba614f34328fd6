/* test_conn_hpad.c: HEADERS and PUSH_PROMISE padding
 * (h2_conn_config.header_padding) checked on the bytes a client and a
 * server engine write to each other: PADDED flag, Pad Length, padding all
 * zero, frame length alignment, the callback's arguments, the priority /
 * promised-id fields after Pad Length, the peer's MAX_FRAME_SIZE clipping
 * the padding (none in CONTINUATION), flow-control windows untouched, and
 * the receiving engine decoding every padded block. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2_conn.h"
#include "util_conn.h"

typedef struct duo {
  h2_conn *cli, *srv;
  tc_rec crec, srec;
  tc_buf c2s, s2c; /* every byte each side wrote after the handshake */
} duo;

/* Moves |from|'s pending output into |to|, keeping a copy in |cap|. */
static void xfer(h2_conn *from, h2_conn *to, tc_buf *cap) {
  tc_buf out = {0};
  tc_drain(from, &out);
  if (out.len) {
    assert_int_equal(h2_conn_recv(to, out.p, out.len, 0), (int)out.len);
    if (cap) tc_buf_put(cap, out.p, out.len);
  }
  tc_buf_free(&out);
}

/* Client callback: records the x-big field of HEADERS events (the text
 * log cuts long lines), then logs as tc_cb. */
static size_t big_len;
static int big_zeros;

static int cli_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  if (ev->type == H2_CONN_EV_HEADERS) {
    for (size_t i = 0; i < ev->u.headers.num_fields; i++) {
      const h2_hpack_field *f = &ev->u.headers.fields[i];
      if (f->name_len == 5 && memcmp(f->name, "x-big", 5) == 0) {
        big_len = f->value_len;
        big_zeros = 1;
        for (size_t k = 0; k < f->value_len; k++) big_zeros &= f->value[k] == '0';
      }
    }
  }
  return tc_cb(c, ev, user);
}

static void duo_new(duo *d, const h2_conn_config *cc, const h2_conn_config *sc) {
  memset(d, 0, sizeof *d);
  d->cli = h2_conn_new(H2_CONN_CLIENT, cc, NULL, cli_cb, &d->crec);
  d->srv = h2_conn_new(H2_CONN_SERVER, sc, NULL, tc_cb, &d->srec);
  assert_non_null(d->cli);
  assert_non_null(d->srv);
  for (int i = 0; i < 4; i++) {
    xfer(d->cli, d->srv, NULL);
    xfer(d->srv, d->cli, NULL);
  }
}

static void duo_free(duo *d) {
  assert_int_equal(d->crec.conn_errors, 0);
  assert_int_equal(d->srec.conn_errors, 0);
  h2_conn_free(d->cli);
  h2_conn_free(d->srv);
  tc_rec_free(&d->crec);
  tc_rec_free(&d->srec);
  tc_buf_free(&d->c2s);
  tc_buf_free(&d->s2c);
}

typedef struct fr {
  uint8_t type, flags;
  uint32_t sid;
  size_t len;
  const uint8_t *p;
} fr;

/* Splits |b| into frames (asserting it holds whole frames only). */
static size_t frames(const tc_buf *b, fr *out, size_t max) {
  size_t n = 0, off = 0;
  while (off < b->len) {
    assert_true(b->len - off >= 9);
    const uint8_t *h = b->p + off;
    assert_true(n < max);
    fr *f = &out[n++];
    f->len = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
    f->type = h[3];
    f->flags = h[4];
    f->sid = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) & 0x7fffffffu;
    f->p = h + 9;
    off += 9 + f->len;
    assert_true(off <= b->len);
  }
  return n;
}

/* The |k|-th (0-based) frame of |type| on stream |sid| in |b|. */
static fr find(const tc_buf *b, uint8_t type, uint32_t sid, int k) {
  static fr fs[256];
  size_t n = frames(b, fs, 256);
  for (size_t i = 0; i < n; i++)
    if (fs[i].type == type && fs[i].sid == sid && k-- == 0) return fs[i];
  fail_msg("no frame type %u on stream %u", type, sid);
  fr none = {0};
  return none;
}

/* Checks the padding of a PADDED frame and returns the Pad Length. */
static size_t padding_of(const fr *f) {
  assert_true(f->flags & H2_FLAG_PADDED);
  assert_true(f->len >= 1);
  size_t pad = f->p[0];
  assert_true(1 + pad <= f->len);
  for (size_t i = f->len - pad; i < f->len; i++) assert_int_equal(f->p[i], 0);
  return pad;
}

static const h2_hpack_field GET[] = {{":method", 7, "GET", 3, 0},
                                     {":scheme", 7, "https", 5, 0},
                                     {":authority", 10, "example.com", 11, 0},
                                     {":path", 5, "/", 1, 0}};
static const h2_hpack_field RESP[] = {{":status", 7, "200", 3, 0}, {"content-type", 12, "text/plain", 10, 0}};
static const h2_hpack_field TRAIL[] = {{"x-checksum", 10, "abc", 3, 0}};

typedef struct cbrec {
  int calls;
  uint32_t last_id;
  size_t last_frag, last_max;
} cbrec;

static size_t pad_cb(void *user, uint32_t id, size_t frag, size_t max) {
  cbrec *r = user;
  r->calls++;
  r->last_id = id;
  r->last_frag = frag;
  r->last_max = max;
  return 3 + frag % 5;
}

static size_t pad_huge(void *user, uint32_t id, size_t frag, size_t max) {
  (void)user;
  (void)id;
  (void)frag;
  (void)max;
  return 100000; /* clipped to max */
}

/* Request (client) and response + trailers (server) padded with |mode|;
 * returns through |pads| the Pad Length of request HEADERS, response
 * HEADERS and trailers HEADERS, checking what every mode shares. */
static void exchange(uint8_t mode, uint16_t align, cbrec *cr, size_t pads[3], size_t lens[3]) {
  h2_conn_config cc, sc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  h2_conn_config_init(&sc, H2_CONN_SERVER);
  cc.header_padding = sc.header_padding = mode;
  cc.padding_align = sc.padding_align = align;
  cc.header_padding_cb = sc.header_padding_cb = pad_cb;
  cc.padding_user = sc.padding_user = cr;
  duo d;
  duo_new(&d, &cc, &sc);
  assert_int_equal(h2_conn_submit_request(d.cli, GET, 4, NULL, 1, NULL), 1);
  xfer(d.cli, d.srv, &d.c2s);
  assert_int_equal(h2_conn_submit_response(d.srv, 1, RESP, 2, 0), 0);
  assert_int_equal(h2_conn_submit_data(d.srv, 1, (const uint8_t *)"0123456789", 10, 0, NULL), 0);
  assert_int_equal(h2_conn_submit_trailers(d.srv, 1, TRAIL, 1), 0);
  xfer(d.srv, d.cli, &d.s2c);
  xfer(d.cli, d.srv, &d.c2s);
  /* The receiving engines decoded every padded block. */
  assert_non_null(strstr(tc_log(&d.srec), "HEADERS s=1 request END :method=GET :scheme=https "
                                          ":authority=example.com :path=/\n"));
  assert_non_null(strstr(tc_log(&d.crec), "HEADERS s=1 response :status=200 content-type=text/plain\n"));
  assert_non_null(strstr(tc_log(&d.crec), "HEADERS s=1 trailers END x-checksum=abc\n"));
  assert_non_null(strstr(tc_log(&d.crec), "DATA s=1 len=10 "));
  fr f[3] = {find(&d.c2s, H2_FRAME_HEADERS, 1, 0), find(&d.s2c, H2_FRAME_HEADERS, 1, 0),
             find(&d.s2c, H2_FRAME_HEADERS, 1, 1)};
  for (int i = 0; i < 3; i++) {
    pads[i] = padding_of(&f[i]);
    lens[i] = f[i].len;
    assert_true(f[i].flags & H2_FLAG_END_HEADERS);
    assert_false(f[i].flags & H2_FLAG_PRIORITY);
  }
  assert_true(f[0].flags & H2_FLAG_END_STREAM);
  assert_false(f[1].flags & H2_FLAG_END_STREAM);
  assert_true(f[2].flags & H2_FLAG_END_STREAM);
  /* DATA padding is a separate setting (none here). */
  fr data = find(&d.s2c, H2_FRAME_DATA, 1, 0);
  assert_int_equal(data.flags & H2_FLAG_PADDED, 0);
  assert_int_equal(data.len, 10);
  /* Header padding costs no flow-control window: only the 10 DATA octets. */
  assert_int_equal(h2_conn_window(d.srv, 0, H2_CONN_WINDOW_SEND), 65535 - 10);
  assert_int_equal(h2_conn_window(d.cli, 0, H2_CONN_WINDOW_SEND), 65535);
  duo_free(&d);
}

static void test_modes(void **state) {
  (void)state;
  size_t pads[3], lens[3];
  cbrec cr = {0};

  exchange(H2_CONN_PAD_MAX, 64, &cr, pads, lens);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(pads[i], 255);
    assert_true(lens[i] > 1 + 255); /* a non-empty fragment too */
  }

  for (uint16_t align = 1; align <= 256; align = align == 1 ? 7 : (uint16_t)(align * 2 + 2)) {
    exchange(H2_CONN_PAD_ALIGNED, align, &cr, pads, lens);
    for (int i = 0; i < 3; i++) {
      assert_int_equal((9 + lens[i]) % align, 0); /* 9-octet header included */
      assert_true(pads[i] < align);
    }
  }
  exchange(H2_CONN_PAD_ALIGNED, 64, &cr, pads, lens);
  for (int i = 0; i < 3; i++) assert_int_equal(lens[i] + 9, 64); /* small blocks: one unit */

  memset(&cr, 0, sizeof cr);
  exchange(H2_CONN_PAD_CALLBACK, 64, &cr, pads, lens);
  assert_int_equal(cr.calls, 3);
  assert_int_equal(cr.last_id, 1);
  for (int i = 0; i < 3; i++) {
    size_t frag = lens[i] - 1 - pads[i];
    assert_int_equal(pads[i], 3 + frag % 5);
  }
  /* Last call was the trailers frame: the fragment and the room left. */
  assert_int_equal(cr.last_frag, lens[2] - 1 - pads[2]);
  assert_int_equal(cr.last_max, 255);

}

static void test_none_is_default(void **state) {
  (void)state;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  assert_int_equal(cfg.header_padding, H2_CONN_PAD_NONE);
  duo d;
  duo_new(&d, NULL, NULL);
  assert_int_equal(h2_conn_submit_request(d.cli, GET, 4, NULL, 1, NULL), 1);
  xfer(d.cli, d.srv, &d.c2s);
  fr f = find(&d.c2s, H2_FRAME_HEADERS, 1, 0);
  assert_int_equal(f.flags & H2_FLAG_PADDED, 0);
  duo_free(&d);
}

/* HEADERS with priority: Pad Length, then the 5 priority octets. PUSH_PROMISE:
 * Pad Length, then the promised stream id. */
static void test_priority_and_push(void **state) {
  (void)state;
  h2_conn_config cc, sc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  h2_conn_config_init(&sc, H2_CONN_SERVER);
  cc.header_padding = sc.header_padding = H2_CONN_PAD_MAX;
  duo d;
  duo_new(&d, &cc, &sc);
  h2_frame_prio pr = {0, 32, 0};
  assert_int_equal(h2_conn_submit_request(d.cli, GET, 4, &pr, 1, NULL), 1);
  xfer(d.cli, d.srv, &d.c2s);
  fr h = find(&d.c2s, H2_FRAME_HEADERS, 1, 0);
  assert_int_equal(h.flags & (H2_FLAG_PRIORITY | H2_FLAG_PADDED), H2_FLAG_PRIORITY | H2_FLAG_PADDED);
  assert_int_equal(padding_of(&h), 255);
  static const uint8_t prio_bytes[5] = {0, 0, 0, 0, 31};
  assert_memory_equal(h.p + 1, prio_bytes, 5);
  assert_true(h.len > 1 + 5 + 255);
  assert_non_null(strstr(tc_log(&d.srec), "HEADERS s=1 request END :method=GET"));

  static const h2_hpack_field preq[] = {{":method", 7, "GET", 3, 0},
                                        {":scheme", 7, "https", 5, 0},
                                        {":authority", 10, "example.com", 11, 0},
                                        {":path", 5, "/style.css", 10, 0}};
  assert_int_equal(h2_conn_submit_push_promise(d.srv, 1, preq, 4, NULL), 2);
  assert_int_equal(h2_conn_submit_response(d.srv, 1, RESP, 2, 1), 0);
  assert_int_equal(h2_conn_submit_response(d.srv, 2, RESP, 1, 1), 0);
  xfer(d.srv, d.cli, &d.s2c);
  fr pp = find(&d.s2c, H2_FRAME_PUSH_PROMISE, 1, 0);
  assert_int_equal(pp.flags, H2_FLAG_PADDED | H2_FLAG_END_HEADERS);
  assert_int_equal(padding_of(&pp), 255);
  static const uint8_t promised[4] = {0, 0, 0, 2};
  assert_memory_equal(pp.p + 1, promised, 4);
  fr r2 = find(&d.s2c, H2_FRAME_HEADERS, 2, 0);
  assert_int_equal(padding_of(&r2), 255);
  const char *log = tc_log(&d.crec);
  assert_non_null(strstr(log, "HEADERS s=1 push promised=2 :method=GET :scheme=https "
                              ":authority=example.com :path=/style.css\n"));
  assert_non_null(strstr(log, "HEADERS s=2 response END :status=200\n"));
  assert_non_null(strstr(log, "HEADERS s=1 response END :status=200 content-type=text/plain\n"));
  duo_free(&d);
}

/* A response whose x-big value is |n| '0's (5-bit Huffman code each, so the
 * block is about 5n/8 octets), sent to a client whose MAX_FRAME_SIZE is
 * |mfs|; returns the server's output. */
static void big_response(duo *d, uint8_t mode, uint32_t mfs, size_t n,
                         size_t (*cb)(void *, uint32_t, size_t, size_t)) {
  h2_conn_config cc, sc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  h2_conn_config_init(&sc, H2_CONN_SERVER);
  cc.settings.max_frame_size = mfs;
  sc.header_padding = mode;
  sc.padding_align = 256;
  sc.header_padding_cb = cb;
  duo_new(d, &cc, &sc);
  assert_int_equal(h2_conn_submit_request(d->cli, GET, 4, NULL, 1, NULL), 1);
  xfer(d->cli, d->srv, NULL);
  static char val[50000];
  assert_true(n < sizeof val);
  memset(val, '0', n);
  h2_hpack_field resp[] = {{":status", 7, "200", 3, 0}, {"x-big", 5, val, n, 0}};
  assert_int_equal(h2_conn_submit_response(d->srv, 1, resp, 2, 1), 0);
  big_len = 0;
  big_zeros = 0;
  xfer(d->srv, d->cli, &d->s2c);
  /* The client got the whole value. */
  assert_non_null(strstr(tc_log(&d->crec), "HEADERS s=1 response END :status=200 x-big=000"));
  assert_int_equal(big_len, n);
  assert_true(big_zeros);
}

static void test_max_frame_size_clips(void **state) {
  (void)state;
  duo d;
  /* A block of ~16260 octets: the padding is cut to what MAX_FRAME_SIZE
   * leaves (the frame is exactly 16384 long, Pad Length < 255). */
  big_response(&d, H2_CONN_PAD_MAX, 16384, 26000, NULL);
  fr h = find(&d.s2c, H2_FRAME_HEADERS, 1, 0);
  size_t pad = padding_of(&h);
  assert_int_equal(h.len, 16384);
  assert_true(pad > 0 && pad < 255);
  assert_true(h.flags & H2_FLAG_END_HEADERS);
  duo_free(&d);

  /* Same block, the peer allows 20000: full 255 octets, frame over 16384. */
  big_response(&d, H2_CONN_PAD_MAX, 20000, 26000, NULL);
  h = find(&d.s2c, H2_FRAME_HEADERS, 1, 0);
  assert_int_equal(padding_of(&h), 255);
  assert_true(h.len > 16384 && h.len <= 20000);
  duo_free(&d);

  /* A callback asking for too much gets clipped the same way. */
  big_response(&d, H2_CONN_PAD_CALLBACK, 16384, 26000, pad_huge);
  h = find(&d.s2c, H2_FRAME_HEADERS, 1, 0);
  assert_int_equal(h.len, 16384);
  assert_int_equal(padding_of(&h), pad);
  duo_free(&d);

  /* A ~25000-octet block: HEADERS is full (PADDED, Pad Length 0), the rest
   * goes in CONTINUATION frames, which carry no padding. */
  static const uint8_t modes[] = {H2_CONN_PAD_MAX, H2_CONN_PAD_ALIGNED, H2_CONN_PAD_CALLBACK};
  for (size_t m = 0; m < sizeof modes; m++) {
    big_response(&d, modes[m], 16384, 40000, pad_huge);
    h = find(&d.s2c, H2_FRAME_HEADERS, 1, 0);
    assert_int_equal(h.len, 16384);
    assert_int_equal(padding_of(&h), 0);
    assert_int_equal(h.flags & H2_FLAG_END_HEADERS, 0);
    fr c = find(&d.s2c, H2_FRAME_CONTINUATION, 1, 0);
    assert_int_equal(c.flags, H2_FLAG_END_HEADERS);
    assert_true(c.len > 8000 && c.len < 16384);
    duo_free(&d);
  }
}

static void test_config_checked(void **state) {
  (void)state;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  cfg.header_padding = H2_CONN_PAD_CALLBACK; /* no callback */
  assert_null(h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, NULL));
  cfg.header_padding = H2_CONN_PAD_CALLBACK + 1;
  assert_null(h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, NULL));
  cfg.header_padding = H2_CONN_PAD_ALIGNED;
  cfg.padding_align = 0;
  assert_null(h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, NULL));
  cfg.padding_align = 257;
  assert_null(h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, NULL));
  cfg.padding_align = 256;
  h2_conn *c = h2_conn_new(H2_CONN_SERVER, &cfg, NULL, tc_cb, NULL);
  assert_non_null(c);
  h2_conn_free(c);
}

/* The frame-level writer: padding only in the first frame, bad arguments
 * refused. */
static void test_frame_writer(void **state) {
  (void)state;
  static uint8_t block[40000], out[50000];
  for (size_t i = 0; i < sizeof block; i++) block[i] = (uint8_t)(i * 7 + 1);
  h2_cbb b;
  h2_cbb_init(&b, out, sizeof out);
  assert_int_equal(h2_frame_write_padded_block(&b, H2_FRAME_DATA, 1, 0, NULL, 0, block, 10, 16384, 3),
                   H2_ERR_INVALID_ARG);
  assert_int_equal(h2_frame_write_padded_block(&b, H2_FRAME_HEADERS, 1, 0, NULL, 0, block, 10, 16384, 256),
                   H2_ERR_INVALID_ARG);
  assert_int_equal(h2_frame_write_padded_block(&b, H2_FRAME_HEADERS, 1, 0, NULL, 0, block, 10, 16384, -2),
                   H2_ERR_INVALID_ARG);
  assert_int_equal(b.len, 0);
  /* 20000-octet block, 100 octets of padding, PUSH_PROMISE: the first frame
   * holds 16384 - 1 - 4 - 100 block octets. */
  size_t need = h2_frame_block_size(4 + 1 + 100, 20000, 16384);
  assert_int_equal(need, 9 + 16384 + 9 + (20000 - (16384 - 105)));
  assert_int_equal(h2_frame_write_padded_block(&b, H2_FRAME_PUSH_PROMISE, 5, 0xff, NULL, 6, block,
                                               20000, 16384, 100),
                   0);
  assert_int_equal(b.len, need);
  tc_buf tb = {out, b.len, sizeof out};
  fr fs[4];
  assert_int_equal(frames(&tb, fs, 4), 2);
  assert_int_equal(fs[0].type, H2_FRAME_PUSH_PROMISE);
  assert_int_equal(fs[0].flags, H2_FLAG_PADDED);
  assert_int_equal(fs[0].len, 16384);
  assert_int_equal(padding_of(&fs[0]), 100);
  assert_memory_equal(fs[0].p + 5, block, 16384 - 105);
  assert_int_equal(fs[1].type, H2_FRAME_CONTINUATION);
  assert_int_equal(fs[1].flags, H2_FLAG_END_HEADERS);
  assert_memory_equal(fs[1].p, block + 16384 - 105, fs[1].len);
  /* Too small a buffer: nothing written. */
  need = h2_frame_block_size(1 + 100, 20000, 16384);
  h2_cbb_init(&b, out, need - 1);
  assert_int_equal(h2_frame_write_padded_block(&b, H2_FRAME_HEADERS, 1, H2_FLAG_END_STREAM, NULL, 0,
                                               block, 20000, 16384, 100),
                   H2_ERR_BUF_TOO_SMALL);
  assert_int_equal(b.len, 0);
  h2_cbb_init(&b, out, need);
  assert_int_equal(h2_frame_write_padded_block(&b, H2_FRAME_HEADERS, 1, H2_FLAG_END_STREAM, NULL, 0,
                                               block, 20000, 16384, 100),
                   0);
  assert_int_equal(b.len, need);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_modes),
      cmocka_unit_test(test_none_is_default),
      cmocka_unit_test(test_priority_and_push),
      cmocka_unit_test(test_max_frame_size_clips),
      cmocka_unit_test(test_config_checked),
      cmocka_unit_test(test_frame_writer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
