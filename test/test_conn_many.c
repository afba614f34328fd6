/* test_conn_many.c: an in-memory client + server pair of h2_conn engines
 * running hundreds of concurrent requests with random request and response
 * body sizes, the bytes between them cut at random points, under several
 * window sizes (1, 16, 65535 bytes and large), with application-driven and
 * automatic flow-control credit. Every body must arrive intact and every
 * stream must close normally. */
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

#define MAXREQ 512
#define PAT_LEN (1u << 18)

static uint8_t pat[PAT_LEN + 256];

typedef struct req {
  size_t req_len, resp_len;
  uint64_t got;      /* client: response body bytes received */
  uint64_t srv_got;  /* server: request body bytes received */
  int ok_hash;
  int status_seen;
  int closed_client, closed_server;
  int close_reason;
  const uint8_t *expect; /* expected response body */
  size_t check_off;
} req;

typedef struct pair {
  h2_conn *cli, *srv;
  req reqs[MAXREQ];
  uint32_t id_to_req[2 * MAXREQ + 8];
  int nreq, submitted, done;
  uint64_t rng;
  int consume; /* app-driven credit */
  int released_cli, released_srv, queued_srv;
  int errors;
} pair;

static uint32_t rnd(pair *p) { return tc_rnd(&p->rng); }

static req *by_id(pair *p, uint32_t id) {
  if (id == 0 || id >= sizeof p->id_to_req / sizeof p->id_to_req[0]) return NULL;
  uint32_t k = p->id_to_req[id];
  return k ? &p->reqs[k - 1] : NULL;
}

static int cli_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  pair *p = user;
  req *r = by_id(p, ev->stream_id);
  switch (ev->type) {
    case H2_CONN_EV_HEADERS:
      if (!r || ev->u.headers.category != H2_CONN_HEADERS_RESPONSE) p->errors++;
      else r->status_seen = 1;
      break;
    case H2_CONN_EV_DATA:
      if (!r) {
        p->errors++;
        break;
      }
      if (r->got + ev->u.data.len > r->resp_len ||
          memcmp(ev->u.data.data, r->expect + r->got, ev->u.data.len) != 0)
        r->ok_hash = 0;
      r->got += ev->u.data.len;
      if (p->consume) h2_conn_consume(c, ev->stream_id, ev->u.data.len);
      break;
    case H2_CONN_EV_STREAM_CLOSED:
      if (!r) {
        p->errors++;
        break;
      }
      r->closed_client = 1;
      r->close_reason = ev->u.closed.reason;
      p->done++;
      break;
    case H2_CONN_EV_DATA_RELEASED: p->released_cli++; break;
    case H2_CONN_EV_CONN_ERROR:
    case H2_CONN_EV_STREAM_RESET:
    case H2_CONN_EV_LIMIT:
      fprintf(stderr, "client event %d stream %u\n", ev->type, ev->stream_id);
      p->errors++;
      break;
    default: break;
  }
  return 0;
}

static int srv_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  pair *p = user;
  req *r = by_id(p, ev->stream_id);
  switch (ev->type) {
    case H2_CONN_EV_HEADERS:
      if (!r || ev->u.headers.category != H2_CONN_HEADERS_REQUEST) p->errors++;
      break;
    case H2_CONN_EV_DATA:
      if (!r) {
        p->errors++;
        break;
      }
      if (memcmp(ev->u.data.data, pat + r->srv_got, ev->u.data.len) != 0) p->errors++;
      r->srv_got += ev->u.data.len;
      if (p->consume) h2_conn_consume(c, ev->stream_id, ev->u.data.len);
      break;
    case H2_CONN_EV_STREAM_END: {
      if (!r || r->srv_got != r->req_len) {
        p->errors++;
        break;
      }
      char len[32];
      int n = snprintf(len, sizeof len, "%zu", r->resp_len);
      h2_hpack_field f[2] = {{":status", 7, "200", 3, 0}, {"content-length", 14, len, (size_t)n, 0}};
      if (h2_conn_submit_response(c, ev->stream_id, f, 2, r->resp_len == 0)) p->errors++;
      if (r->resp_len) {
        if (h2_conn_submit_data(c, ev->stream_id, r->expect, r->resp_len, H2_CONN_DATA_END_STREAM, r))
          p->errors++;
        else
          p->queued_srv++;
      }
      break;
    }
    case H2_CONN_EV_STREAM_CLOSED:
      if (r) r->closed_server = 1;
      break;
    case H2_CONN_EV_DATA_RELEASED: p->released_srv++; break;
    case H2_CONN_EV_CONN_ERROR:
    case H2_CONN_EV_STREAM_RESET:
    case H2_CONN_EV_LIMIT:
      fprintf(stderr, "server event %d stream %u\n", ev->type, ev->stream_id);
      p->errors++;
      break;
    default: break;
  }
  return 0;
}

/* Moves up to |budget| bytes from |from| to |to| in random pieces. */
static size_t pump(pair *p, h2_conn *from, h2_conn *to, size_t budget, uint64_t now) {
  return tc_pump_random(from, to, budget, now, &p->rng, 8192, 4);
}

static void run_pair(int nreq, uint32_t window, int consume, size_t max_body, uint64_t seed, int padding) {
  static pair P;
  pair *p = &P;
  memset(p, 0, sizeof *p);
  p->rng = seed;
  p->consume = consume;
  p->nreq = nreq;
  h2_conn_config cc, sc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  h2_conn_config_init(&sc, H2_CONN_SERVER);
  cc.settings.initial_window_size = window;
  sc.settings.initial_window_size = window;
  cc.connection_window = window < 65535 ? 65535 : window;
  sc.connection_window = cc.connection_window;
  cc.auto_window_update = sc.auto_window_update = (uint8_t)!consume;
  cc.padding = sc.padding = (uint8_t)padding;
  cc.header_padding = sc.header_padding = (uint8_t)padding; /* HEADERS too */
  cc.padding_align = sc.padding_align = 100;
  /* tiny windows make legitimate WINDOW_UPDATE storms; the clock is frozen */
  cc.window_update_burst = sc.window_update_burst = 0;
  p->cli = h2_conn_new(H2_CONN_CLIENT, &cc, NULL, cli_cb, p);
  p->srv = h2_conn_new(H2_CONN_SERVER, &sc, NULL, srv_cb, p);
  assert_non_null(p->cli);
  assert_non_null(p->srv);
  for (int i = 0; i < nreq; i++) {
    p->reqs[i].req_len = rnd(p) % 3 == 0 ? 0 : rnd(p) % (max_body + 1);
    p->reqs[i].resp_len = rnd(p) % (max_body + 1);
    p->reqs[i].ok_hash = 1;
    p->reqs[i].expect = pat + (i % 251);
  }
  uint64_t now = 1;
  int idle = 0;
  /* Handshake first, so the client knows the server's stream limit. */
  pump(p, p->cli, p->srv, SIZE_MAX, now);
  pump(p, p->srv, p->cli, SIZE_MAX, now);
  for (int iter = 0; iter < 2000000 && p->done < nreq; iter++) {
    /* Submit as many as the server allows. */
    while (p->submitted < nreq) {
      req *r = &p->reqs[p->submitted];
      char len[32];
      int n = snprintf(len, sizeof len, "%zu", r->req_len);
      h2_hpack_field f[] = {{":method", 7, "POST", 4, 0},  {":scheme", 7, "https", 5, 0},
                            {":authority", 10, "t", 1, 0}, {":path", 5, "/x", 2, 0},
                            {"content-length", 14, len, (size_t)n, 0}};
      int32_t id = h2_conn_submit_request(p->cli, f, 5, NULL, r->req_len == 0, r);
      if (id == H2_ERR_REFUSED_STREAM) break;
      assert_true(id > 0);
      p->id_to_req[id] = (uint32_t)p->submitted + 1;
      if (r->req_len)
        assert_int_equal(h2_conn_submit_data(p->cli, (uint32_t)id, pat, r->req_len, H2_CONN_DATA_END_STREAM, r), 0);
      p->submitted++;
    }
    size_t a = pump(p, p->cli, p->srv, 1 + rnd(p) % 100000, now);
    size_t b = pump(p, p->srv, p->cli, 1 + rnd(p) % 100000, now);
    now++;
    if (a == 0 && b == 0) {
      if (++idle > 10) break;
    } else {
      idle = 0;
    }
    assert_int_equal(p->errors, 0);
  }
  if (p->done != nreq) fprintf(stderr, "done %d of %d (submitted %d)\n", p->done, nreq, p->submitted);
  assert_int_equal(p->done, nreq);
  assert_int_equal(p->errors, 0);
  for (int i = 0; i < nreq; i++) {
    req *r = &p->reqs[i];
    assert_true(r->status_seen);
    assert_int_equal(r->got, r->resp_len);
    assert_true(r->ok_hash);
    assert_int_equal(r->close_reason, H2_CONN_CLOSE_DONE);
    assert_true(r->closed_server);
  }
  {
    uint64_t sum = 0;
    for (int i = 0; i < nreq; i++) sum += p->reqs[i].got + p->reqs[i].srv_got;
    fprintf(stderr, "body bytes checked: %llu\n", (unsigned long long)sum);
    assert_true(sum > 0);
  }
  assert_int_equal(h2_conn_num_streams(p->cli, 1), 0);
  assert_int_equal(h2_conn_num_streams(p->srv, 0), 0);
  assert_int_equal(p->released_srv, p->queued_srv);
  /* Windows fully returned in app-driven and auto modes alike. */
  assert_true(h2_conn_window(p->srv, 0, H2_CONN_WINDOW_RECV) > 0);
  assert_true(h2_conn_window(p->cli, 0, H2_CONN_WINDOW_RECV) > 0);
  /* graceful shutdown: GOAWAY from the server, client sees it, both close */
  assert_int_equal(h2_conn_submit_goaway(p->srv, 0, H2_MAX_STREAM_ID, NULL, 0), 0);
  pump(p, p->srv, p->cli, SIZE_MAX, now);
  pump(p, p->cli, p->srv, SIZE_MAX, now);
  assert_int_equal(h2_conn_want_write(p->srv), 0);
  assert_true(h2_conn_is_closed(p->srv));
  assert_true(h2_conn_is_closed(p->cli));
  h2_conn_free(p->cli);
  h2_conn_free(p->srv);
}

static void fill_pat(void) {
  for (size_t i = 0; i < sizeof pat; i++) pat[i] = (uint8_t)(i * 31 + 7 + (i >> 8));
}

static void test_many_default_window(void **state) {
  (void)state;
  run_pair(300, 65535, 1, 40000, 0x1234567, H2_CONN_PAD_NONE);
}
static void test_many_auto_window(void **state) {
  (void)state;
  run_pair(300, 65535, 0, 40000, 0x7654321, H2_CONN_PAD_NONE);
}
static void test_many_large_window(void **state) {
  (void)state;
  run_pair(200, 1u << 20, 1, 200000, 0xabcdef, H2_CONN_PAD_NONE);
}
static void test_many_window_16(void **state) {
  (void)state;
  run_pair(120, 16, 1, 3000, 0x5555, H2_CONN_PAD_NONE);
}
static void test_many_window_1(void **state) {
  (void)state;
  run_pair(60, 1, 0, 600, 0x9999, H2_CONN_PAD_NONE);
}

/* Padded DATA and HEADERS both ways: bodies and header blocks still arrive
 * intact, windows still balance. */
static void test_many_padded(void **state) {
  (void)state;
  run_pair(150, 65535, 1, 30000, 0x4242, H2_CONN_PAD_MAX);
  run_pair(150, 300, 0, 3000, 0x4343, H2_CONN_PAD_ALIGNED);
  run_pair(40, 2, 1, 300, 0x4444, H2_CONN_PAD_MAX);
}

int main(void) {
  fill_pat();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_many_default_window), cmocka_unit_test(test_many_auto_window),
      cmocka_unit_test(test_many_large_window),   cmocka_unit_test(test_many_window_16),
      cmocka_unit_test(test_many_window_1),      cmocka_unit_test(test_many_padded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
