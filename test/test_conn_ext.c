/* test_conn_ext.c: what the engine hands to the application for extensions
 * it does not know: SETTINGS entries with unknown identifiers (ignored by
 * the engine, visible in the H2_CONN_EV_SETTINGS event's frame, in order,
 * next to the known ones) and frames of unknown types (H2_CONN_EV_UNKNOWN_FRAME
 * with type, flags, stream and payload; ignored otherwise, on any stream,
 * even in the middle of the connection, with no effect on the state); and
 * priority and window signals received: PRIORITY for idle and closed
 * streams accepted, a stream depending on itself and a stream WINDOW_UPDATE
 * of 0 each a stream error (RST_STREAM PROTOCOL_ERROR), the connection
 * going on. */
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

typedef struct seen {
  h2_frame_setting entries[16];
  size_t num_entries;
  int settings_events;
  uint32_t peer_max_frame;
  struct {
    uint8_t type, flags;
    uint32_t stream;
    uint8_t payload[32];
    size_t len;
  } unknown[8];
  size_t num_unknown;
  int requests, errors;
} seen;

static int cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  (void)c;
  seen *s = user;
  switch (ev->type) {
    case H2_CONN_EV_SETTINGS: {
      s->settings_events++;
      s->peer_max_frame = ev->u.settings.settings->max_frame_size;
      const h2_frame *f = ev->u.settings.frame;
      assert_non_null(f);
      h2_cbs it;
      h2_cbs_init(&it, f->u.settings.raw, f->hdr.length);
      h2_frame_setting e;
      while (h2_frame_settings_next(&it, &e) && s->num_entries < 16) s->entries[s->num_entries++] = e;
      break;
    }
    case H2_CONN_EV_UNKNOWN_FRAME: {
      const h2_frame *f = ev->u.frame.frame;
      assert_true(s->num_unknown < 8);
      s->unknown[s->num_unknown].type = f->hdr.type;
      s->unknown[s->num_unknown].flags = f->hdr.flags;
      s->unknown[s->num_unknown].stream = ev->stream_id;
      assert_int_equal(ev->stream_id, f->hdr.stream_id);
      assert_true(f->hdr.length <= 32);
      if (f->hdr.length) memcpy(s->unknown[s->num_unknown].payload, f->u.unknown.payload, f->hdr.length);
      s->unknown[s->num_unknown].len = f->hdr.length;
      s->num_unknown++;
      break;
    }
    case H2_CONN_EV_HEADERS: s->requests++; break;
    case H2_CONN_EV_CONN_ERROR:
    case H2_CONN_EV_STREAM_RESET: s->errors++; break;
    default: break;
  }
  return 0;
}

static void test_unknown_settings_and_frames(void **state) {
  (void)state;
  tc_script sc;
  tc_script_init(&sc);
  tc_preface(&sc);
  /* Known and unknown ids interleaved (RFC 9113 §6.5.2: unknown ones MUST
   * be ignored by the protocol, and the application may want them). */
  h2_frame_setting st[] = {{0x99, 7}, {0x5, 32768}, {0xf00d, 0xdeadbeef}, {0x4, 1000}, {0x99, 8}};
  tc_settings(&sc, st, 5);
  tc_frame(&sc, 0x42, 0xa5, 0, "conn-level", 10);         /* unknown type on stream 0 */
  const char *const req[] = {":method", "GET", ":scheme", "https", ":authority", "x", ":path", "/", NULL};
  tc_headers(&sc, 1, 0x1 | 0x4, 0, req);                    /* END_STREAM | END_HEADERS */
  tc_frame(&sc, 0xfe, 0x00, 1, "on stream 1", 11);        /* unknown type on an open stream */
  tc_frame(&sc, 0x20, 0xff, 77, "", 0);                     /* on an idle stream, empty */
  seen s;
  memset(&s, 0, sizeof s);
  h2_conn *c = h2_conn_new(H2_CONN_SERVER, NULL, NULL, cb, &s);
  assert_non_null(c);
  for (int whole = 1; whole >= 0; whole--) {
    if (!whole) { /* again, one byte at a time */
      h2_conn_free(c);
      memset(&s, 0, sizeof s);
      c = h2_conn_new(H2_CONN_SERVER, NULL, NULL, cb, &s);
      for (size_t i = 0; i < sc.out.len; i++) assert_true(h2_conn_recv(c, sc.out.p + i, 1, 0) >= 0);
    } else {
      assert_int_equal(h2_conn_recv(c, sc.out.p, sc.out.len, 0), (int)sc.out.len);
    }
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.settings_events, 1);
    assert_int_equal(s.num_entries, 5);
    for (size_t i = 0; i < 5; i++) {
      assert_int_equal(s.entries[i].id, st[i].id);
      assert_int_equal(s.entries[i].value, st[i].value);
    }
    assert_int_equal(s.peer_max_frame, 32768); /* the known ones applied */
    assert_int_equal(h2_conn_remote_settings(c)->initial_window_size, 1000);
    assert_int_equal(s.requests, 1);
    assert_int_equal(s.num_unknown, 3);
    assert_int_equal(s.unknown[0].type, 0x42);
    assert_int_equal(s.unknown[0].flags, 0xa5);
    assert_int_equal(s.unknown[0].stream, 0);
    assert_memory_equal(s.unknown[0].payload, "conn-level", 10);
    assert_int_equal(s.unknown[1].type, 0xfe);
    assert_int_equal(s.unknown[1].stream, 1);
    assert_int_equal(s.unknown[1].len, 11);
    assert_memory_equal(s.unknown[1].payload, "on stream 1", 11);
    assert_int_equal(s.unknown[2].type, 0x20);
    assert_int_equal(s.unknown[2].stream, 77);
    assert_int_equal(s.unknown[2].len, 0);
    /* No effect on state: stream 77 stays idle, stream 1 is half-closed. */
    assert_int_equal(h2_conn_stream_state(c, 77), H2_STREAM_IDLE);
    assert_int_equal(h2_conn_stream_state(c, 1), H2_STREAM_HALF_CLOSED_REMOTE);
    assert_int_equal(h2_conn_last_peer_stream_id(c), 1);
    /* The engine's answer holds a SETTINGS ACK and nothing about them. */
    tc_buf out = {0};
    tc_drain(c, &out);
    char *txt = tc_frames_text(out.p, out.len);
    assert_null(strstr(txt, "GOAWAY"));
    assert_null(strstr(txt, "RST_STREAM"));
    free(txt);
    tc_buf_free(&out);
  }
  h2_conn_free(c);
  tc_script_free(&sc);
}

static void prio_frame(tc_script *sc, uint32_t id, uint32_t dep, int exclusive, uint16_t weight) {
  uint8_t p[5] = {(uint8_t)((dep >> 24) | (exclusive ? 0x80 : 0)), (uint8_t)(dep >> 16), (uint8_t)(dep >> 8),
                  (uint8_t)dep, (uint8_t)(weight - 1)};
  tc_frame(sc, 0x2, 0, id, p, 5);
}

static size_t count(const char *txt, const char *needle) {
  size_t n = 0;
  for (const char *q = txt; (q = strstr(q, needle)) != NULL; q++) n++;
  return n;
}

static void test_priority_and_window_signals(void **state) {
  (void)state;
  tc_script sc;
  tc_script_init(&sc);
  tc_preface(&sc);
  tc_settings(&sc, NULL, 0);
  tc_settings_ack(&sc);
  const char *const get[] = {":method", "GET", ":scheme", "https", ":authority", "x", ":path", "/", NULL};
  const char *const post[] = {":method", "POST", ":scheme", "https", ":authority", "x", ":path", "/", NULL};
  tc_headers(&sc, 1, 0x1 | 0x4, 0, get);   /* half-closed (remote) */
  prio_frame(&sc, 3, 1, 0, 16);            /* idle stream 3 under 1: fine */
  prio_frame(&sc, 9, 0, 1, 200);           /* idle, exclusive on the root: fine */
  prio_frame(&sc, 1, 1, 0, 16);            /* 1 on itself: stream error */
  prio_frame(&sc, 1, 0, 0, 32);            /* 1 is closed now: accepted, ignored */
  tc_headers(&sc, 5, 0x4, 0, post);        /* open */
  tc_window_update(&sc, 5, 0);             /* zero increment on a stream: stream error */
  tc_headers(&sc, 7, 0x1 | 0x4, 0, get);   /* the connection still takes requests */
  tc_ping(&sc, 0, 42);
  tc_result r;
  tc_rec proto;
  memset(&proto, 0, sizeof proto);
  for (int mode = TC_WHOLE; mode <= TC_BYTES; mode += TC_BYTES) {
    tc_run(H2_CONN_SERVER, NULL, &proto, sc.out.p, sc.out.len, mode, 0, &r);
    assert_int_equal(r.rc, 0);
    char *t = tc_frames_text(r.out.p, r.out.len);
    assert_int_equal(count(t, "[RST_STREAM]"), 2);
    assert_non_null(strstr(t, "[RST_STREAM] stream=1 len=4 flags=none error=PROTOCOL_ERROR"));
    assert_non_null(strstr(t, "[RST_STREAM] stream=5 len=4 flags=none error=PROTOCOL_ERROR"));
    assert_null(strstr(t, "[GOAWAY]"));
    assert_non_null(strstr(t, "[PING]"));
    const char *log = tc_log(&r.rec);
    assert_non_null(strstr(log, "PRIORITY s=3"));
    assert_non_null(strstr(log, "PRIORITY s=9"));
    assert_int_equal(count(log, "HEADERS s="), 3); /* 1, 5 and 7 */
    free(t);
    tc_result_free(&r);
  }
  tc_script_free(&sc);
}

/* RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL may not go from 1 back to
 * 0; a peer that does it gets GOAWAY PROTOCOL_ERROR. */
static void test_connect_protocol_withdrawn(void **state) {
  (void)state;
  tc_script sc;
  tc_script_init(&sc);
  h2_frame_setting on = {0x8, 1}, off = {0x8, 0};
  tc_settings(&sc, &on, 1);
  tc_settings(&sc, &on, 1); /* repeating 1 is fine */
  tc_settings(&sc, &off, 1);
  tc_result r;
  tc_rec proto;
  memset(&proto, 0, sizeof proto);
  tc_run(H2_CONN_CLIENT, NULL, &proto, sc.out.p, sc.out.len, TC_WHOLE, 0, &r);
  assert_int_equal(r.rc, H2_ERR_PROTOCOL);
  char *t = tc_frames_text(r.out.p, r.out.len);
  assert_non_null(strstr(t, "error=PROTOCOL_ERROR"));
  assert_non_null(strstr(t, "[GOAWAY]"));
  assert_int_equal(count(t, "[SETTINGS] stream=0 len=0 flags=ACK"), 2); /* the first two acked */
  free(t);
  tc_result_free(&r);
  tc_script_free(&sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unknown_settings_and_frames),
      cmocka_unit_test(test_priority_and_window_signals),
      cmocka_unit_test(test_connect_protocol_withdrawn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
