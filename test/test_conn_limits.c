/* test_conn_limits.c: every abuse limit of h2_conn_config trips with its
 * own H2_CONN_EV_LIMIT event, fatal ones with GOAWAY ENHANCE_YOUR_CALM and
 * the others with the stream refused while the connection lives; every
 * script is also fed split at every boundary and byte by byte with the
 * same result. Also: the defaults do not trip on an ordinary busy client
 * (100 concurrent streams, pings, settings), and a failing allocator at
 * every allocation index neither crashes nor leaks. */
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

static const char *const GET_REQ[] = {":method", "GET", ":scheme", "https", ":authority", "example.com",
                                      ":path", "/", NULL};
static const char *const POST_REQ[] = {":method", "POST", ":scheme", "https", ":authority", "a",
                                       ":path", "/", NULL};
static const char *const BAD_REQ[] = {":method", "GET", ":scheme", "https", ":authority", "a",
                                      ":path", "/", "Upper", "x", NULL};

static void start(tc_script *s) {
  tc_preface(s);
  tc_settings(s, NULL, 0);
}

typedef struct limit_case {
  int line;
  const char *name;
  void (*tweak)(h2_conn_config *cfg);
  void (*build)(tc_script *s);
  h2_conn_limit which;
  int fatal;
  const char *log_has;
} limit_case;

static void t_ctlq(h2_conn_config *c) { c->max_control_queue = 10; c->ping_burst = 1000; }
static void b_ping_flood(tc_script *s) {
  start(s);
  for (int i = 0; i < 11; i++) tc_ping(s, 0, (uint64_t)i);
}
static void t_none(h2_conn_config *c) { (void)c; }
static void b_settings_entries(tc_script *s) {
  start(s);
  h2_frame_setting e[33];
  for (int i = 0; i < 33; i++) e[i] = (h2_frame_setting){0x100 + i, 1};
  tc_settings(s, e, 33);
}
static void t_settings_rate(h2_conn_config *c) { c->settings_burst = 5; }
static void b_settings_flood(tc_script *s) {
  start(s);
  for (int i = 0; i < 6; i++) tc_settings(s, NULL, 0);
}
static void t_ping_rate(h2_conn_config *c) { c->ping_burst = 5; }
static void b_pings(tc_script *s) {
  start(s);
  for (int i = 0; i < 6; i++) tc_ping(s, 0, (uint64_t)i);
}
static void t_rst_rate(h2_conn_config *c) { c->rst_burst = 5; }
static void b_rapid_reset(tc_script *s) {
  start(s);
  for (uint32_t id = 1; id <= 13; id += 2) {
    tc_headers(s, id, 0, 0, POST_REQ);
    tc_rst(s, id, 8);
  }
}
static void t_local_rst(h2_conn_config *c) { c->local_rst_burst = 3; }
static void b_made_you_reset(tc_script *s) {
  start(s);
  for (uint32_t id = 1; id <= 9; id += 2) tc_headers(s, id, H2_FLAG_END_STREAM, 0, BAD_REQ);
}
static void t_cont(h2_conn_config *c) { c->max_continuations = 3; }
static void b_continuations(tc_script *s) {
  start(s);
  tc_headers(s, 1, H2_FLAG_END_STREAM, 2, GET_REQ);
}
static void t_block(h2_conn_config *c) { c->max_header_block = 20; }
static void b_block(tc_script *s) {
  start(s);
  static const char *const big[] = {":method", "GET", ":scheme", "https", ":authority", "a", ":path",
                                    "/0123456789012345678901234567890123456789", NULL};
  tc_headers(s, 1, H2_FLAG_END_STREAM, 8, big);
}
static void t_list(h2_conn_config *c) { c->settings.max_header_list_size = 200; }
static void b_list(tc_script *s) {
  start(s);
  static char v[400];
  memset(v, 'v', sizeof v - 1);
  const char *const big[] = {":method", "GET", ":scheme", "https", ":authority", "a", ":path", "/",
                             "x-big", v, NULL};
  tc_headers(s, 1, H2_FLAG_END_STREAM, 0, big);
  tc_headers(s, 3, H2_FLAG_END_STREAM, 0, GET_REQ); /* the connection lives */
}
static void t_empty(h2_conn_config *c) { c->empty_frame_burst = 3; }
static void b_empty(tc_script *s) {
  start(s);
  tc_headers(s, 1, 0, 0, POST_REQ);
  for (int i = 0; i < 4; i++) tc_data(s, 1, 0, NULL, 0, -1);
}
static void t_prio(h2_conn_config *c) { c->priority_burst = 3; }
static void b_prio(tc_script *s) {
  start(s);
  for (uint32_t i = 0; i < 4; i++) tc_frame(s, H2_FRAME_PRIORITY, 0, 1 + 2 * i, "\x00\x00\x00\x00\x0f", 5);
}
static void t_wu(h2_conn_config *c) { c->window_update_burst = 3; }
static void b_wu(tc_script *s) {
  start(s);
  for (int i = 0; i < 4; i++) tc_window_update(s, 0, 1);
}
static void t_conc(h2_conn_config *c) { c->settings.max_concurrent_streams = 2; }
static void b_conc(tc_script *s) {
  start(s);
  tc_headers(s, 1, 0, 0, POST_REQ);
  tc_headers(s, 3, 0, 0, POST_REQ);
  tc_headers(s, 5, 0, 0, POST_REQ);
  tc_ping(s, 0, 9);
}
static void t_refused(h2_conn_config *c) {
  c->settings.max_concurrent_streams = 1;
  c->max_refused_streams = 2;
}
static void b_refused(tc_script *s) {
  start(s);
  for (uint32_t id = 1; id <= 9; id += 2) tc_headers(s, id, 0, 0, POST_REQ);
}
static void t_mem(h2_conn_config *c) { c->max_memory = 1000; }

static const limit_case cases[] = {
    {__LINE__, "control queue", t_ctlq, b_ping_flood, H2_CONN_LIMIT_CONTROL_QUEUE, 1, NULL},
    {__LINE__, "settings entries", t_none, b_settings_entries, H2_CONN_LIMIT_SETTINGS_ENTRIES, 1, NULL},
    {__LINE__, "settings rate", t_settings_rate, b_settings_flood, H2_CONN_LIMIT_SETTINGS_RATE, 1, NULL},
    {__LINE__, "ping rate", t_ping_rate, b_pings, H2_CONN_LIMIT_PING_RATE, 1, NULL},
    {__LINE__, "rapid reset", t_rst_rate, b_rapid_reset, H2_CONN_LIMIT_RST_RATE, 1, NULL},
    {__LINE__, "made you reset", t_local_rst, b_made_you_reset, H2_CONN_LIMIT_LOCAL_RST_RATE, 1, NULL},
    {__LINE__, "continuations", t_cont, b_continuations, H2_CONN_LIMIT_CONTINUATIONS, 1, NULL},
    {__LINE__, "header block", t_block, b_block, H2_CONN_LIMIT_HEADER_BLOCK, 1, NULL},
    {__LINE__, "header list", t_list, b_list, H2_CONN_LIMIT_HEADER_LIST, 0,
     "RESET s=1 code=11 local\nCLOSED s=1 reason=3 code=11\nHEADERS s=3 request END"},
    {__LINE__, "empty frames", t_empty, b_empty, H2_CONN_LIMIT_EMPTY_FRAMES, 1, NULL},
    {__LINE__, "priority", t_prio, b_prio, H2_CONN_LIMIT_PRIORITY_RATE, 1, NULL},
    {__LINE__, "window update", t_wu, b_wu, H2_CONN_LIMIT_WINDOW_UPDATE_RATE, 1, NULL},
    {__LINE__, "concurrent", t_conc, b_conc, H2_CONN_LIMIT_CONCURRENT_STREAMS, 0, "LIMIT 13\nPING\n"},
    {__LINE__, "refused in a row", t_refused, b_refused, H2_CONN_LIMIT_REFUSED_STREAMS, 1, NULL},
    {__LINE__, "memory", t_mem, b_conc, H2_CONN_LIMIT_MEMORY, 0, "PING\n"},
};

static void run_case(const limit_case *lc) {
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_SERVER);
  lc->tweak(&cfg);
  tc_script s;
  tc_script_init(&s);
  lc->build(&s);
  tc_result whole;
  tc_run(H2_CONN_SERVER, &cfg, NULL, s.out.p, s.out.len, TC_WHOLE, 0, &whole);
  const char *log = tc_log(&whole.rec);
  int ok = whole.rec.limits >= 1 && whole.rec.last_limit == (int)lc->which;
  if (lc->fatal)
    ok = ok && whole.rec.conn_errors == 1 && whole.rec.last_error_code == 0xb && whole.rc == H2_ERR_ENHANCE_YOUR_CALM;
  else
    ok = ok && whole.rec.conn_errors == 0 && whole.rc == 0;
  if (lc->log_has) ok = ok && strstr(log, lc->log_has) != NULL;
  if (!ok) {
    fprintf(stderr, "limit case %s (line %d): limits=%d last=%d errors=%d code=%u rc=%d\n%s", lc->name,
            lc->line, whole.rec.limits, whole.rec.last_limit, whole.rec.conn_errors, whole.rec.last_error_code,
            whole.rc, log);
    fail();
  }
  if (lc->fatal) {
    char *txt = tc_frames_text(whole.out.p, whole.out.len);
    assert_non_null(strstr(txt, "[GOAWAY]"));
    assert_non_null(strstr(txt, "ENHANCE_YOUR_CALM"));
    free(txt);
  }
  /* Same result whatever the split. */
  for (size_t at = 0; at <= s.out.len + 1; at++) {
    tc_result r;
    tc_run(H2_CONN_SERVER, &cfg, NULL, s.out.p, s.out.len, at == s.out.len + 1 ? TC_BYTES : TC_SPLIT, at, &r);
    if (strcmp(tc_log(&r.rec), log) != 0 || r.out.len != whole.out.len || r.rc != whole.rc) {
      fprintf(stderr, "limit case %s: split at %zu differs\n%s---\n%s", lc->name, at, log, tc_log(&r.rec));
      fail();
    }
    tc_result_free(&r);
  }
  tc_result_free(&whole);
  tc_script_free(&s);
}

static void test_limits(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
}

/* Defaults: a browser-like client opening 100 streams with priorities,
 * pings and settings updates trips nothing. */
static void test_defaults_do_not_trip(void **state) {
  (void)state;
  tc_script s;
  tc_script_init(&s);
  start(&s);
  h2_frame_setting e[] = {{H2_SETTINGS_HEADER_TABLE_SIZE, 65536}, {H2_SETTINGS_INITIAL_WINDOW_SIZE, 6291456},
                          {H2_SETTINGS_MAX_HEADER_LIST_SIZE, 262144}};
  tc_settings(&s, e, 3);
  tc_window_update(&s, 0, 15663105);
  for (uint32_t id = 1; id <= 199; id += 2) {
    tc_frame(&s, H2_FRAME_PRIORITY, 0, id, "\x00\x00\x00\x00\xff", 5);
    tc_headers(&s, id, H2_FLAG_END_STREAM, 0, GET_REQ);
  }
  for (int i = 0; i < 20; i++) tc_ping(&s, 0, (uint64_t)i);
  tc_settings_ack(&s);
  tc_rec proto = {0};
  proto.respond = 1;
  proto.resp_len = 1000;
  tc_result r;
  tc_run(H2_CONN_SERVER, NULL, &proto, s.out.p, s.out.len, TC_WHOLE, 0, &r);
  const char *log = tc_log(&r.rec);
  if (r.rec.limits || r.rec.conn_errors || r.rc) fprintf(stderr, "%s", log);
  assert_int_equal(r.rec.limits, 0);
  assert_int_equal(r.rec.conn_errors, 0);
  assert_int_equal(r.rc, 0);
  char *txt = tc_frames_text(r.out.p, r.out.len);
  size_t n = 0;
  for (const char *p = txt; (p = strstr(p, "[DATA]")) != NULL; p++) n++;
  assert_int_equal(n, 100);
  free(txt);
  tc_result_free(&r);
  tc_script_free(&s);
}

/* Client side: pushed streams held reserved are capped. */
static void test_reserved_streams(void **state) {
  (void)state;
  h2_conn_config cfg;
  h2_conn_config_init(&cfg, H2_CONN_CLIENT);
  cfg.max_reserved_streams = 1;
  tc_rec rec = {0};
  h2_conn *c = h2_conn_new(H2_CONN_CLIENT, &cfg, NULL, tc_cb, &rec);
  assert_non_null(c);
  h2_hpack_field req[] = {{":method", 7, "GET", 3, 0}, {":scheme", 7, "https", 5, 0},
                          {":authority", 10, "a", 1, 0}, {":path", 5, "/", 1, 0}};
  assert_int_equal(h2_conn_submit_request(c, req, 4, NULL, 1, NULL), 1);
  tc_buf out = {0};
  tc_drain(c, &out);
  tc_script s;
  tc_script_init(&s);
  tc_settings(&s, NULL, 0);
  tc_settings_ack(&s);
  static const char *const pushreq[] = {":method", "GET", ":scheme", "https", ":authority", "a", ":path",
                                        "/style.css", NULL};
  tc_push_promise(&s, 1, 2, pushreq);
  tc_push_promise(&s, 1, 4, pushreq);
  assert_int_equal(h2_conn_recv(c, s.out.p, s.out.len, 0), (int)s.out.len);
  const char *log = tc_log(&rec);
  assert_non_null(strstr(log, "HEADERS s=1 push promised=2 :method=GET"));
  assert_non_null(strstr(log, "LIMIT 15\n"));
  assert_null(strstr(log, "promised=4"));
  assert_int_equal(h2_conn_stream_state(c, 2), H2_STREAM_RESERVED_REMOTE);
  tc_buf_free(&out);
  tc_drain(c, &out);
  char *txt = tc_frames_text(out.p, out.len);
  assert_non_null(strstr(txt, "[RST_STREAM] stream=4"));
  free(txt);
  tc_buf_free(&out);
  tc_script_free(&s);
  tc_rec_free(&rec);
  h2_conn_free(c);
}

/* ---- failing allocations ------------------------------------------------ */

typedef struct failmem {
  long countdown; /* fail when it reaches 0 */
  long live;
  int failed;
} failmem;

static void *fm_malloc(size_t n, void *u) {
  failmem *f = u;
  if (f->countdown-- == 0) {
    f->failed = 1;
    return NULL;
  }
  void *p = malloc(n);
  if (p) f->live++;
  return p;
}
static void *fm_realloc(void *p, size_t n, void *u) {
  failmem *f = u;
  if (f->countdown-- == 0) {
    f->failed = 1;
    return NULL;
  }
  void *q = realloc(p, n);
  if (q && !p) f->live++;
  return q;
}
static void fm_free(void *p, void *u) {
  failmem *f = u;
  if (p) f->live--;
  free(p);
}

static void test_failing_alloc(void **state) {
  (void)state;
  tc_script s;
  tc_script_init(&s);
  start(&s);
  tc_headers(&s, 1, H2_FLAG_END_STREAM, 0, GET_REQ);
  tc_headers(&s, 3, 0, 5, POST_REQ);
  tc_data(&s, 3, H2_FLAG_END_STREAM, "hello", 5, 2);
  tc_ping(&s, 0, 1);
  tc_settings_ack(&s);
  int completed = 0;
  for (long n = 0; n < 5000 && !completed; n++) {
    failmem fm = {n, 0, 0};
    h2_mem mem = {fm_malloc, fm_realloc, fm_free, &fm};
    tc_rec rec = {0};
    rec.respond = 1;
    rec.resp_len = 100;
    h2_conn *c = h2_conn_new(H2_CONN_SERVER, NULL, &mem, tc_cb, &rec);
    if (c) {
      tc_drain(c, NULL);
      (void)h2_conn_recv(c, s.out.p, s.out.len, 0);
      tc_drain(c, NULL);
      h2_conn_free(c);
    }
    assert_int_equal(fm.live, 0);
    if (!fm.failed) completed = 1;
    tc_rec_free(&rec);
  }
  assert_true(completed);
  tc_script_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_defaults_do_not_trip),
      cmocka_unit_test(test_reserved_streams),
      cmocka_unit_test(test_failing_alloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
