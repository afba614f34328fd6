/* test_api_padding.c: h2_options.padding_strategy / select_padding (Node's
 * paddingStrategy / selectPadding) reach the wire: the server's HEADERS
 * and DATA frames are checked octet by octet (PADDED, Pad Length, zero
 * padding, 8-octet alignment, the callback's arguments) and the client
 * still gets the response and body intact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "h2.h"
#include "api_pair.h"

typedef struct run {
  h2_session *c, *s;
  uint8_t wire[65536]; /* what the server wrote after the handshake */
  size_t wire_len;
  int capture;
  int status;
  size_t body;
  int ends;
  int cb_calls;
  size_t cb_frame_len, cb_max;
} run;

static run *R;

/* Keeps what the server sends while r->capture is set. */
static void capture(h2_session *from, h2_session *to, const uint8_t *d, size_t n, void *u) {
  (void)to;
  run *r = u;
  if (from != r->s || !r->capture) return;
  assert_true(r->wire_len + n <= sizeof r->wire);
  memcpy(r->wire + r->wire_len, d, n);
  r->wire_len += n;
}

static void pump(run *r) {
  api_pump how = {.now = 1, .feed_must_succeed = 1, .observe = capture, .user = r};
  api_pair_pump(r->c, r->s, &how);
}

static void c_response(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f; (void)u;
  const h2_header *s = h2_header_find(h, n, ":status");
  assert_non_null(s);
  R->status = atoi(s->value);
}
static void c_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st; (void)u;
  for (size_t i = 0; i < n; i++) assert_int_equal(d[i], 'x');
  R->body += n;
}
static void c_end(h2_stream *st, void *u) { (void)st; (void)u; R->ends++; }
static const h2_stream_callbacks ccbs = {.on_response = c_response, .on_data = c_data, .on_end = c_end};

static uint8_t body[1000];

static void s_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)s; (void)h; (void)n; (void)f; (void)u;
  h2_header r[] = {H2_HDR(":status", "200"), H2_HDR("content-type", "text/plain")};
  assert_int_equal(h2_stream_respond(st, r, 2, 0), 0);
  assert_true(h2_stream_write(st, body, sizeof body, NULL, NULL) >= 0);
  assert_int_equal(h2_stream_end(st), 0);
}

static size_t pick(size_t frame_len, size_t max_frame_len, void *user) {
  run *r = user;
  r->cb_calls++;
  r->cb_frame_len = frame_len;
  r->cb_max = max_frame_len;
  return frame_len + 5;
}

/* One GET answered with 1000 octets under |strategy|; fills |r|. */
static void exchange(run *r, int strategy) {
  memset(r, 0, sizeof *r);
  R = r;
  memset(body, 'x', sizeof body);
  h2_options so;
  h2_options_default(&so);
  so.padding_strategy = strategy;
  so.select_padding = pick;
  h2_session_callbacks cc = {0}, sc = {.on_stream = s_stream};
  assert_int_equal(h2_session_new(&r->c, 0, NULL, &cc, r, NULL), 0);
  assert_int_equal(h2_session_new(&r->s, 1, &so, &sc, r, NULL), 0);
  pump(r);
  r->capture = 1;
  h2_stream *st;
  h2_header h[] = {H2_HDR(":path", "/")};
  assert_int_equal(h2_session_request(r->c, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &ccbs, NULL);
  pump(r);
  assert_int_equal(r->status, 200);
  assert_int_equal(r->body, sizeof body);
  assert_int_equal(r->ends, 1);
  h2_session_free(r->c);
  h2_session_free(r->s);
}

/* The first frame of |type| in |r|'s capture: payload and length. */
static const uint8_t *frame(const run *r, uint8_t type, size_t *len, uint8_t *flags) {
  size_t off = 0;
  while (off + 9 <= r->wire_len) {
    const uint8_t *p = r->wire + off;
    size_t l = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
    if (p[3] == type) {
      *len = l;
      *flags = p[4];
      return p + 9;
    }
    off += 9 + l;
  }
  fail_msg("no frame of type %u", type);
  return NULL;
}

/* Pad Length of a padded payload, its padding checked to be zero. */
static size_t pad_of(const uint8_t *p, size_t len, uint8_t flags) {
  assert_true(flags & 0x8);
  size_t pad = p[0];
  assert_true(1 + pad <= len);
  for (size_t i = len - pad; i < len; i++) assert_int_equal(p[i], 0);
  return pad;
}

static void test_strategies(void **state) {
  (void)state;
  static run r;
  size_t hl, dl;
  uint8_t hf, df;

  exchange(&r, H2_PADDING_NONE);
  frame(&r, 0x1, &hl, &hf);
  const uint8_t *d = frame(&r, 0x0, &dl, &df);
  (void)d;
  assert_int_equal(hf & 0x8, 0);
  assert_int_equal(df & 0x8, 0);
  assert_int_equal(dl, sizeof body);

  exchange(&r, H2_PADDING_MAX);
  const uint8_t *hp = frame(&r, 0x1, &hl, &hf);
  assert_int_equal(pad_of(hp, hl, hf), 255);
  d = frame(&r, 0x0, &dl, &df);
  assert_int_equal(pad_of(d, dl, df), 255);
  assert_int_equal(dl, 1 + sizeof body + 255);

  exchange(&r, H2_PADDING_ALIGNED);
  hp = frame(&r, 0x1, &hl, &hf);
  assert_true(pad_of(hp, hl, hf) < 8);
  assert_int_equal((9 + hl) % 8, 0);
  d = frame(&r, 0x0, &dl, &df);
  assert_true(pad_of(d, dl, df) < 8);
  assert_int_equal((9 + dl) % 8, 0);

  exchange(&r, H2_PADDING_CALLBACK);
  hp = frame(&r, 0x1, &hl, &hf);
  assert_int_equal(pad_of(hp, hl, hf), 5);
  d = frame(&r, 0x0, &dl, &df);
  assert_int_equal(pad_of(d, dl, df), 5);
  assert_int_equal(r.cb_calls, 2); /* HEADERS, then DATA */
  assert_int_equal(r.cb_frame_len, sizeof body);
  assert_int_equal(r.cb_max, sizeof body + 255);
}

static void test_options_checked(void **state) {
  (void)state;
  h2_options o;
  h2_options_default(&o);
  o.padding_strategy = 4;
  assert_int_equal(h2_options_validate(&o), H2_ERR_INVALID_ARG);
  o.padding_strategy = -1;
  assert_int_equal(h2_options_validate(&o), H2_ERR_INVALID_ARG);
  o.padding_strategy = H2_PADDING_CALLBACK;
  assert_int_equal(h2_options_validate(&o), H2_ERR_INVALID_ARG);
  assert_non_null(strstr(h2_last_error_message(), "select_padding"));
  o.select_padding = pick;
  assert_int_equal(h2_options_validate(&o), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strategies),
      cmocka_unit_test(test_options_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
