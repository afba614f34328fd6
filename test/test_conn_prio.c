/* test_conn_prio.c: the send scheduler seen through the connection engine.
 * An in-memory client + server pair; the server answers several requests
 * at once with large bodies, and the test reads the server's output a
 * frame's worth at a time, counting the DATA bytes each stream got. For
 * fixed trees and windows the share of each stream must be its exact
 * weighted share at every point, within one DATA frame (16384 octets):
 *  - RFC 7540 siblings by weight, and again after PRIORITY frames change the
 *    weights in the middle of the transfer;
 *  - a tree: a parent with nothing to send passes its share to its children
 *    by their weights, and takes it back when it has data;
 *  - windows: a stream whose window is exhausted gets nothing, its share goes
 *    to the others, and it resumes when WINDOW_UPDATE arrives;
 *  - RFC 9218 (both sides send SETTINGS_NO_RFC7540_PRIORITIES): urgencies in
 *    order, non-incremental streams one at a time, incremental ones round
 *    robin, and a PRIORITY_UPDATE mid-transfer. */
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

#define FRAME 16384
/* The scheduler orders by virtual start time (ties by stream id), so a
 * stream may lag its exact share by a little more than one frame. */
#define SLACK (1.25 * FRAME)
#define MAXID 32
#define DEFER SIZE_MAX

static uint8_t body[8u << 20];

typedef struct pp {
  h2_conn *cli, *srv;
  uint64_t got[MAXID];   /* client: DATA bytes per stream id */
  int ended[MAXID];      /* client: END_STREAM seen */
  size_t resp[MAXID];    /* server: body length to send per stream id (DEFER: later) */
  unsigned no_consume;   /* client: bit (id >> 1) set: no h2_conn_consume for id */
  int errors;
  int cli_prio, srv_prio; /* H2_CONN_EV_PRIORITY events seen by each side */
} pp;

static int cli_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  pp *p = user;
  uint32_t id = ev->stream_id;
  switch (ev->type) {
    case H2_CONN_EV_DATA:
      if (id >= MAXID) {
        p->errors++;
        break;
      }
      p->got[id] += ev->u.data.len;
      if (!(p->no_consume & (1u << (id >> 1)))) h2_conn_consume(c, id, ev->u.data.len);
      break;
    case H2_CONN_EV_STREAM_END:
      if (id < MAXID) p->ended[id] = 1;
      break;
    case H2_CONN_EV_PRIORITY: p->cli_prio++; break;
    case H2_CONN_EV_CONN_ERROR:
    case H2_CONN_EV_STREAM_RESET:
    case H2_CONN_EV_LIMIT: p->errors++; break;
    default: break;
  }
  return 0;
}

static int srv_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  pp *p = user;
  uint32_t id = ev->stream_id;
  if (ev->type == H2_CONN_EV_CONN_ERROR || ev->type == H2_CONN_EV_STREAM_RESET || ev->type == H2_CONN_EV_LIMIT)
    p->errors++;
  if (ev->type == H2_CONN_EV_PRIORITY) p->srv_prio++;
  if (ev->type != H2_CONN_EV_HEADERS || ev->u.headers.category != H2_CONN_HEADERS_REQUEST) return 0;
  if (id >= MAXID) {
    p->errors++;
    return 0;
  }
  h2_hpack_field st = {":status", 7, "200", 3, 0};
  size_t n = p->resp[id];
  if (h2_conn_submit_response(c, id, &st, 1, n == 0) != 0) p->errors++;
  if (n != 0 && n != DEFER && h2_conn_submit_data(c, id, body, n, H2_CONN_DATA_END_STREAM, NULL) != 0)
    p->errors++;
  return 0;
}

/* pp_init: a client with large windows (|stream_window| per stream, 1 GiB
 * for the connection) and a server; settings exchanged. */
static void pp_init(pp *p, uint32_t stream_window, int rfc9218) {
  memset(p, 0, sizeof *p);
  h2_conn_config cc, sc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  h2_conn_config_init(&sc, H2_CONN_SERVER);
  cc.settings.initial_window_size = stream_window;
  cc.connection_window = 1u << 30;
  cc.window_update_burst = sc.window_update_burst = 0;
  cc.settings.no_rfc7540_priorities = sc.settings.no_rfc7540_priorities = (uint32_t)rfc9218;
  p->cli = h2_conn_new(H2_CONN_CLIENT, &cc, NULL, cli_cb, p);
  p->srv = h2_conn_new(H2_CONN_SERVER, &sc, NULL, srv_cb, p);
  assert_non_null(p->cli);
  assert_non_null(p->srv);
  tc_pump_both(p->cli, p->srv, 0);
}

static void pp_free(pp *p) {
  assert_int_equal(p->errors, 0);
  h2_conn_free(p->cli);
  h2_conn_free(p->srv);
}

/* request opens a GET with RFC 7540 |prio| (may be NULL) and an optional
 * priority header; the server will answer with |resp| body bytes. */
static uint32_t request(pp *p, const h2_frame_prio *prio, const char *priority_field, size_t resp) {
  h2_hpack_field f[5] = {{":method", 7, "GET", 3, 0},
                         {":scheme", 7, "https", 5, 0},
                         {":authority", 10, "t", 1, 0},
                         {":path", 5, "/", 1, 0},
                         {"priority", 8, priority_field, priority_field ? strlen(priority_field) : 0, 0}};
  uint32_t id = h2_conn_next_stream_id(p->cli);
  assert_true(id < MAXID);
  p->resp[id] = resp;
  int32_t r = h2_conn_submit_request(p->cli, f, priority_field ? 5 : 4, prio, 1, NULL);
  assert_int_equal(r, (int32_t)id);
  return id;
}

/* step moves at most one frame's worth of server output (and everything the
 * client sends back). Returns the bytes moved from the server. */
static size_t step(pp *p) {
  uint8_t buf[FRAME + 9];
  int n = h2_conn_send(p->srv, buf, sizeof buf, 0);
  assert_true(n >= 0);
  if (n > 0) assert_int_equal(h2_conn_recv(p->cli, buf, (size_t)n, 0), n);
  tc_pump(p->cli, p->srv, 0);
  return (size_t)n;
}

/* flush_cut lets out the frames the server had already cut before a
 * change reached it (h2_conn_send prepares up to output_high_water,
 * 64 KiB, ahead). */
static void flush_cut(pp *p) {
  for (int i = 0; i < 6; i++) step(p);
}

/* shares checks that, since |base|, streams |ids| got bytes in proportion to
 * |w| within |slack| octets each, after every step until |total| bytes
 * went to them. Returns the largest deviation seen. */
static double shares(pp *p, const uint32_t *ids, const double *w, size_t n, uint64_t total, double slack) {
  uint64_t base[8];
  double wsum = 0, worst = 0;
  for (size_t i = 0; i < n; i++) {
    base[i] = p->got[ids[i]];
    wsum += w[i];
  }
  for (int guard = 0; guard < 100000; guard++) {
    assert_true(step(p) > 0);
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++) t += p->got[ids[i]] - base[i];
    for (size_t i = 0; i < n; i++) {
      double want = (double)t * w[i] / wsum, have = (double)(p->got[ids[i]] - base[i]);
      double dev = have > want ? have - want : want - have;
      if (dev > worst) worst = dev;
      if (dev > slack)
        fail_msg("stream %u: %.0f bytes of %llu, want %.0f (weights)", ids[i], have, (unsigned long long)t, want);
    }
    if (t >= total) return worst;
  }
  fail_msg("no progress");
  return worst;
}

/* ---- RFC 7540 --------------------------------------------------------------- */

static void test_siblings_by_weight_and_reprioritized(void **state) {
  (void)state;
  pp P, *p = &P;
  pp_init(p, 1u << 30, 0);
  h2_frame_prio a = {0, 64, 0}, b = {0, 128, 0}, c = {0, 256, 0};
  uint32_t ids[3];
  ids[0] = request(p, &a, NULL, 4u << 20);
  ids[1] = request(p, &b, NULL, 4u << 20);
  ids[2] = request(p, &c, NULL, 4u << 20);
  tc_pump(p->cli, p->srv, 0);
  double w1[3] = {64, 128, 256};
  double dev = shares(p, ids, w1, 3, 7 * 40 * FRAME, SLACK);
  print_message("weights 64:128:256 over %d frames: largest deviation %.0f octets\n", 7 * 40, dev);
  /* Mid-transfer: PRIORITY frames swap the weights of the first and last. */
  h2_frame_prio a2 = {0, 256, 0}, c2 = {0, 64, 0};
  assert_int_equal(h2_conn_submit_priority(p->cli, ids[0], &a2), 0);
  assert_int_equal(h2_conn_submit_priority(p->cli, ids[2], &c2), 0);
  tc_pump(p->cli, p->srv, 0);
  double w2[3] = {256, 128, 64};
  /* First the frames the server had already cut (up to 64 KiB) and a short
   * catch-up of the stream whose weight grew (measured: under 4 frames of
   * deviation in all), then the new shares within SLACK again. */
  dev = shares(p, ids, w2, 3, 7 * 2 * FRAME, 4 * FRAME);
  print_message("first 14 frames after PRIORITY: largest deviation %.0f octets\n", dev);
  dev = shares(p, ids, w2, 3, 7 * 40 * FRAME, SLACK);
  print_message("then weights 256:128:64 over 280 frames: largest deviation %.0f octets\n", dev);
  /* Exclusive: the last stream is made the only child of the root; the
   * others now depend on it and get nothing while it has data. */
  h2_frame_prio ex = {0, 16, 1};
  assert_int_equal(h2_conn_submit_priority(p->cli, ids[2], &ex), 0);
  tc_pump(p->cli, p->srv, 0);
  flush_cut(p);
  uint64_t g0 = p->got[ids[0]], g1 = p->got[ids[1]];
  for (int i = 0; i < 40; i++) step(p);
  assert_int_equal(p->got[ids[0]], g0);
  assert_int_equal(p->got[ids[1]], g1);
  pp_free(p);
}

static void test_tree_parent_and_children(void **state) {
  (void)state;
  pp P, *p = &P;
  pp_init(p, 1u << 30, 0);
  /* root: A(1) B(1); A: A1(1) A2(3). A answers with headers only for now. */
  h2_frame_prio pa = {0, 1, 0}, pb = {0, 1, 0};
  uint32_t A = request(p, &pa, NULL, DEFER);
  uint32_t B = request(p, &pb, NULL, 4u << 20);
  h2_frame_prio pa1 = {A, 1, 0}, pa2 = {A, 3, 0};
  uint32_t A1 = request(p, &pa1, NULL, 4u << 20);
  uint32_t A2 = request(p, &pa2, NULL, 4u << 20);
  tc_pump(p->cli, p->srv, 0);
  uint32_t ids[3] = {B, A1, A2};
  double w[3] = {4, 1, 3}; /* B 1/2, A1 1/8, A2 3/8 */
  double dev = shares(p, ids, w, 3, 8 * 30 * FRAME, SLACK);
  print_message("A idle: B 1/2, A1 1/8, A2 3/8: largest deviation %.0f octets\n", dev);
  /* A gets data: it takes its whole share back from its children. */
  assert_int_equal(h2_conn_submit_data(p->srv, A, body, 2u << 20, H2_CONN_DATA_END_STREAM, NULL), 0);
  flush_cut(p);
  uint64_t g1 = p->got[A1], g2 = p->got[A2];
  uint32_t ids2[2] = {A, B};
  double w2[2] = {1, 1};
  dev = shares(p, ids2, w2, 2, 2 * 30 * FRAME, SLACK);
  print_message("A has data: A 1/2, B 1/2, children nothing: largest deviation %.0f octets\n", dev);
  assert_int_equal(p->got[A1], g1);
  assert_int_equal(p->got[A2], g2);
  pp_free(p);
}

/* h2_conn_set_priority: a local-only reprioritisation. The server changes
 * its own tree (weights, then an exclusive dependency): its send shares
 * follow at once, no PRIORITY frame reaches the client, whose tree keeps
 * the priorities its requests carried. */
static void test_local_only_priority(void **state) {
  (void)state;
  pp P, *p = &P;
  pp_init(p, 1u << 30, 0);
  h2_frame_prio w16 = {0, 16, 0};
  uint32_t s1 = request(p, &w16, NULL, 4u << 20);
  uint32_t s3 = request(p, &w16, NULL, 4u << 20);
  uint32_t s5 = request(p, &w16, NULL, 4u << 20);
  tc_pump(p->cli, p->srv, 0);
  int srv_prio0 = p->srv_prio; /* the HEADERS priorities */
  uint32_t ids[3] = {s1, s3, s5};
  double w1[3] = {1, 1, 1};
  shares(p, ids, w1, 3, 3 * 20 * FRAME, SLACK);
  /* Server side, silently: s1 weight 48, s5 weight 16 under s3 (exclusive:
   * s3's children, none yet, would move under s5). */
  h2_frame_prio a = {0, 48, 0}, c = {s3, 16, 1};
  assert_int_equal(h2_conn_set_priority(p->srv, s1, &a), 0);
  assert_int_equal(h2_conn_set_priority(p->srv, s5, &c), 0);
  h2_prio_info in;
  assert_int_equal(h2_conn_priority_info(p->srv, s1, &in), 0);
  assert_int_equal(in.parent, 0);
  assert_int_equal(in.weight, 48);
  assert_int_equal(h2_conn_priority_info(p->srv, s5, &in), 0);
  assert_int_equal(in.parent, s3);
  assert_int_equal(h2_conn_priority_info(p->srv, s3, &in), 0);
  assert_int_equal(in.sum_child_weight, 16);
  assert_int_equal(in.num_children, 1);
  flush_cut(p);
  /* s5 now waits behind s3; s1:s3 = 48:16. */
  uint64_t g5 = p->got[s5];
  uint32_t ids2[2] = {s1, s3};
  double w2[2] = {3, 1};
  double dev = shares(p, ids2, w2, 2, 4 * 20 * FRAME, SLACK);
  print_message("local-only 48:16, third stream under the second: largest deviation %.0f octets\n", dev);
  assert_int_equal(p->got[s5], g5);
  /* Nothing went on the wire: the client saw no PRIORITY, its tree is as
   * its requests set it. */
  assert_int_equal(p->cli_prio, 0);
  assert_int_equal(p->srv_prio, srv_prio0);
  assert_int_equal(h2_conn_priority_info(p->cli, s5, &in), 0);
  assert_int_equal(in.parent, 0);
  assert_int_equal(in.weight, 16);
  assert_int_equal(h2_conn_priority_info(p->cli, s3, &in), 0);
  assert_int_equal(in.sum_child_weight, 0);
  /* Invalid: self dependency, weight 0 / 257, id 0; nothing changes. */
  h2_frame_prio self = {s1, 16, 0}, w0 = {0, 0, 0}, w257 = {0, 257, 0};
  assert_int_equal(h2_conn_set_priority(p->srv, s1, &self), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_conn_set_priority(p->srv, s1, &w0), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_conn_set_priority(p->srv, s1, &w257), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_conn_set_priority(p->srv, 0, &a), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_conn_priority_info(p->srv, 0, &in), H2_ERR_INVALID_ARG);
  assert_int_equal(h2_conn_priority_info(p->srv, 99, &in), H2_ERR_NOT_FOUND);
  assert_int_equal(h2_conn_priority_info(p->srv, s1, &in), 0);
  assert_int_equal(in.weight, 48);
  pp_free(p);
}

/* ---- windows ---------------------------------------------------------------- */

static void test_window_blocked_stream_share(void **state) {
  (void)state;
  pp P, *p = &P;
  pp_init(p, 65535, 0);
  h2_frame_prio w64 = {0, 64, 0}, w128 = {0, 128, 0};
  uint32_t s1 = request(p, &w64, NULL, 4u << 20);
  uint32_t s3 = request(p, &w64, NULL, 4u << 20);
  uint32_t s5 = request(p, &w128, NULL, 4u << 20);
  p->no_consume = 1u << (s5 >> 1); /* s5's window is never given back */
  tc_pump(p->cli, p->srv, 0);
  uint32_t ids[3] = {s1, s3, s5};
  double w[3] = {1, 1, 2};
  /* 1:1:2 while s5 still has window (it runs out after 65535 octets). */
  shares(p, ids, w, 3, 2 * 65535 - 2 * FRAME, SLACK);
  for (int i = 0; i < 20; i++) step(p);
  assert_int_equal(p->got[s5], 65535); /* exactly its window, no more */
  assert_int_equal(h2_conn_window(p->srv, s5, H2_CONN_WINDOW_SEND), 0);
  /* Its share goes to the others, 1:1. */
  double dev = shares(p, ids, w, 2, 40 * FRAME, SLACK);
  print_message("s5 blocked on its window: s1:s3 1:1, largest deviation %.0f octets\n", dev);
  assert_int_equal(p->got[s5], 65535);
  /* WINDOW_UPDATE for s5: it is back to its share. */
  p->no_consume = 0;
  assert_int_equal(h2_conn_consume(p->cli, s5, 65535), 0);
  tc_pump(p->cli, p->srv, 0);
  uint64_t before = p->got[s5];
  for (int i = 0; i < 8; i++) step(p);
  assert_true(p->got[s5] > before);
  dev = shares(p, ids, w, 3, 40 * FRAME, 4 * FRAME); /* s5 catches up */
  print_message("s5 back (1:1:2): largest deviation %.0f octets\n", dev);
  pp_free(p);
}

/* ---- RFC 9218 ----------------------------------------------------------------- */

static void test_rfc9218_urgency_incremental_update(void **state) {
  (void)state;
  pp P, *p = &P;
  pp_init(p, 1u << 30, 1);
  /* RFC 7540 priority on the HEADERS is ignored in this mode. */
  h2_frame_prio heavy = {0, 256, 0};
  uint32_t s1 = request(p, NULL, "u=3", 300000);
  uint32_t s3 = request(p, &heavy, "u=1", 300000);
  uint32_t s5 = request(p, NULL, "u=3, i", 4u << 20);
  uint32_t s7 = request(p, NULL, "u=3, i", 4u << 20);
  uint32_t s9 = request(p, NULL, "u=5", 300000);
  tc_pump(p->cli, p->srv, 0);
  assert_true(h2_conn_remote_settings(p->srv)->no_rfc7540_priorities);
  /* Urgency 1 first, to its end. */
  for (int g = 0; g < 1000 && !p->ended[s3]; g++) {
    step(p);
    if (!p->ended[s3]) assert_int_equal(p->got[s1] + p->got[s5] + p->got[s7] + p->got[s9], 0);
  }
  assert_int_equal(p->got[s3], 300000);
  /* Then urgency 3: the non-incremental stream alone, to its end. */
  for (int g = 0; g < 1000 && !p->ended[s1]; g++) {
    step(p);
    if (!p->ended[s1]) assert_int_equal(p->got[s5] + p->got[s7] + p->got[s9], 0);
  }
  assert_int_equal(p->got[s1], 300000);
  /* Then the incremental ones of urgency 3, round robin. */
  uint32_t ids[2] = {s5, s7};
  double w[2] = {1, 1};
  double dev = shares(p, ids, w, 2, 60 * FRAME, SLACK);
  print_message("u=3 incremental pair: largest deviation %.0f octets\n", dev);
  assert_int_equal(p->got[s9], 0);
  /* PRIORITY_UPDATE mid-transfer: s7 becomes urgency 0, not incremental. */
  assert_int_equal(h2_conn_submit_priority_update(p->cli, s7, "u=0", 3), 0);
  tc_pump(p->cli, p->srv, 0);
  flush_cut(p);
  uint64_t g5 = p->got[s5];
  for (int i = 0; i < 30; i++) step(p);
  assert_int_equal(p->got[s5], g5);
  /* s9 (u=5) still waits for everything above it. */
  assert_int_equal(p->got[s9], 0);
  pp_free(p);
}

int main(void) {
  for (size_t i = 0; i < sizeof body; i++) body[i] = (uint8_t)(i * 13 + 5);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_siblings_by_weight_and_reprioritized),
      cmocka_unit_test(test_tree_parent_and_children),
      cmocka_unit_test(test_local_only_priority),
      cmocka_unit_test(test_window_blocked_stream_share),
      cmocka_unit_test(test_rfc9218_urgency_incremental_update),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
