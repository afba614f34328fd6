/* test_conn_mix.c: the in-memory client + server pair of h2_conn engines
 * with everything of issue 4 at once: small windows (1 byte, 16 bytes,
 * 65535), flow-control credit returned by the application in random pieces
 * at random times (random WINDOW_UPDATEs), the local connection window
 * resized at random (h2_conn_set_local_window_size), priority changes in
 * the middle of the transfer (random RFC 7540 PRIORITY frames, or RFC 9218
 * PRIORITY_UPDATEs when both sides turned the tree off), and server push
 * (a promise on some requests, some refused by the client with
 * RST_STREAM CANCEL), the bytes cut at random points. Every request body,
 * response body and accepted pushed body must arrive intact, every stream
 * must close as expected on both sides, and the pair must never stall. */
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

#define MAXID 1024
#define PAT_LEN (1u << 16)

static uint8_t pat[PAT_LEN + 2048];

typedef struct sstate {
  /* client side */
  int used;
  int pushed;         /* a promised stream */
  int refused;        /* the client reset it (CANCEL) */
  size_t resp_len;    /* expected response body */
  uint64_t got;       /* response body bytes received */
  int bad;            /* a byte differed */
  int closed_cli;
  int close_reason;
  uint64_t unconsumed; /* client: received, not yet given back */
  /* server side */
  size_t req_len;
  uint64_t srv_got;
  uint64_t srv_unconsumed;
  int closed_srv;
} sstate;

typedef struct mix {
  h2_conn *cli, *srv;
  sstate s[MAXID];
  uint64_t rng;
  int rfc9218;
  int nreq, submitted, done_req, promised, refused, done_push;
  int queued_srv, released_srv, queued_cli, released_cli;
  int priority_changes, window_changes, credits;
  int errors;
} mix;

static uint32_t rnd(mix *m) { return tc_rnd(&m->rng); }

static const uint8_t *body_of(uint32_t id) { return pat + (id * 7u) % 2048u; }

static sstate *st(mix *m, uint32_t id) { return id > 0 && id < MAXID && m->s[id].used ? &m->s[id] : NULL; }

static void err(mix *m, const char *what, uint32_t id) {
  fprintf(stderr, "mix: %s (stream %u)\n", what, id);
  m->errors++;
}

static int cli_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  mix *m = user;
  uint32_t id = ev->stream_id;
  sstate *s = st(m, id);
  switch (ev->type) {
    case H2_CONN_EV_HEADERS:
      if (ev->u.headers.category == H2_CONN_HEADERS_PUSH_PROMISE) {
        uint32_t pid = ev->u.headers.promised_id;
        if (!s || pid >= MAXID || m->s[pid].used || (pid & 1)) {
          err(m, "bad promise", pid);
          break;
        }
        sstate *p = &m->s[pid];
        p->used = 1;
        p->pushed = 1;
        p->resp_len = s->resp_len / 2 + 1; /* what the server promises to send */
        m->promised++;
        if (rnd(m) % 4 == 0) { /* refuse this one */
          p->refused = 1;
          m->refused++;
          if (h2_conn_submit_rst(c, pid, 8 /* CANCEL */) != 0) err(m, "rst", pid);
        }
      } else if (!s || ev->u.headers.category != H2_CONN_HEADERS_RESPONSE) {
        err(m, "unexpected headers", id);
      }
      break;
    case H2_CONN_EV_DATA:
      if (!s || s->refused) {
        err(m, "data on unknown or refused stream", id);
        break;
      }
      if (s->got + ev->u.data.len > s->resp_len ||
          memcmp(ev->u.data.data, body_of(id) + s->got, ev->u.data.len) != 0)
        s->bad = 1;
      s->got += ev->u.data.len;
      s->unconsumed += ev->u.data.len; /* credit given back later, at random */
      break;
    case H2_CONN_EV_STREAM_CLOSED:
      if (!s || s->closed_cli) {
        err(m, "unexpected close", id);
        break;
      }
      s->closed_cli = 1;
      s->close_reason = ev->u.closed.reason;
      if (s->pushed) m->done_push++;
      else m->done_req++;
      break;
    case H2_CONN_EV_DATA_RELEASED: m->released_cli++; break;
    case H2_CONN_EV_CONN_ERROR:
    case H2_CONN_EV_LIMIT: err(m, "client connection error or limit", id); break;
    case H2_CONN_EV_STREAM_RESET:
      if (!s || !s->refused || ev->u.reset.remote) err(m, "client reset", id);
      break;
    default: break;
  }
  return 0;
}

static int srv_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  mix *m = user;
  uint32_t id = ev->stream_id;
  sstate *s = st(m, id);
  switch (ev->type) {
    case H2_CONN_EV_HEADERS:
      if (!s || ev->u.headers.category != H2_CONN_HEADERS_REQUEST) err(m, "server headers", id);
      break;
    case H2_CONN_EV_DATA:
      if (!s || memcmp(ev->u.data.data, pat + s->srv_got, ev->u.data.len) != 0) {
        err(m, "request body", id);
        break;
      }
      s->srv_got += ev->u.data.len;
      s->srv_unconsumed += ev->u.data.len;
      break;
    case H2_CONN_EV_STREAM_END: {
      if (!s || s->srv_got != s->req_len) {
        err(m, "request end", id);
        break;
      }
      /* Push first (the request stream is still open on our side). */
      if (rnd(m) % 3 == 0) {
        char path[32];
        int n = snprintf(path, sizeof path, "/pushed/%u", id);
        h2_hpack_field pf[] = {{":method", 7, "GET", 3, 0},
                               {":scheme", 7, "https", 5, 0},
                               {":authority", 10, "t", 1, 0},
                               {":path", 5, path, (size_t)n, 0}};
        int32_t pid = h2_conn_submit_push_promise(c, id, pf, 4, NULL);
        if (pid > 0) {
          size_t plen = s->resp_len / 2 + 1;
          char len[32];
          int k = snprintf(len, sizeof len, "%zu", plen);
          h2_hpack_field rf[2] = {{":status", 7, "200", 3, 0}, {"content-length", 14, len, (size_t)k, 0}};
          if (h2_conn_submit_response(c, (uint32_t)pid, rf, 2, 0) != 0 ||
              h2_conn_submit_data(c, (uint32_t)pid, body_of((uint32_t)pid), plen, H2_CONN_DATA_END_STREAM,
                                  NULL) != 0)
            err(m, "pushed response", (uint32_t)pid);
          else
            m->queued_srv++;
        } else if (pid != H2_ERR_REFUSED_STREAM) {
          err(m, "push_promise", id);
        }
      }
      char len[32];
      int n = snprintf(len, sizeof len, "%zu", s->resp_len);
      h2_hpack_field f[2] = {{":status", 7, "200", 3, 0}, {"content-length", 14, len, (size_t)n, 0}};
      if (h2_conn_submit_response(c, id, f, 2, s->resp_len == 0)) err(m, "response", id);
      if (s->resp_len) {
        if (h2_conn_submit_data(c, id, body_of(id), s->resp_len, H2_CONN_DATA_END_STREAM, NULL))
          err(m, "response data", id);
        else
          m->queued_srv++;
      }
      break;
    }
    case H2_CONN_EV_STREAM_CLOSED:
      /* A pushed stream may close here before the client saw its promise. */
      if (id < MAXID) m->s[id].closed_srv = 1;
      break;
    case H2_CONN_EV_DATA_RELEASED: m->released_srv++; break;
    case H2_CONN_EV_STREAM_RESET:
      /* only the client's refusals of pushed streams */
      if (!ev->u.reset.remote || ev->u.reset.error_code != 8 || (id & 1)) err(m, "server reset", id);
      break;
    case H2_CONN_EV_CONN_ERROR:
    case H2_CONN_EV_LIMIT: err(m, "server connection error or limit", id); break;
    default: break;
  }
  return 0;
}

/* pump moves up to |budget| bytes from |from| to |to| in random pieces. */
static size_t pump(mix *m, h2_conn *from, h2_conn *to, size_t budget, uint64_t now) {
  return tc_pump_random(from, to, budget, now, &m->rng, 4096, 3);
}

/* give_credit returns received bytes to the windows: a random part of what
 * each side holds (or everything when |all|). Returns the bytes returned. */
static uint64_t give_credit(mix *m, int all) {
  uint64_t total = 0;
  for (uint32_t id = 1; id < MAXID; id++) {
    sstate *s = &m->s[id];
    if (!s->used) continue;
    if (s->unconsumed && (all || rnd(m) % 3 == 0)) {
      uint64_t n = all ? s->unconsumed : 1 + rnd(m) % s->unconsumed;
      assert_true(h2_conn_consume(m->cli, id, (size_t)n) == 0 || s->closed_cli);
      s->unconsumed -= n;
      total += n;
    }
    if (s->srv_unconsumed && (all || rnd(m) % 3 == 0)) {
      uint64_t n = all ? s->srv_unconsumed : 1 + rnd(m) % s->srv_unconsumed;
      assert_true(h2_conn_consume(m->srv, id, (size_t)n) == 0 || s->closed_srv);
      s->srv_unconsumed -= n;
      total += n;
    }
  }
  if (total) m->credits++;
  return total;
}

/* reprioritize changes the priority of a random live request stream. */
static void reprioritize(mix *m) {
  uint32_t ids[64];
  size_t n = 0;
  for (uint32_t id = 1; id < MAXID && n < 64; id += 2)
    if (m->s[id].used && !m->s[id].closed_cli) ids[n++] = id;
  if (n == 0) return;
  uint32_t id = ids[rnd(m) % n];
  if (m->rfc9218) {
    char v[16];
    int k = snprintf(v, sizeof v, "u=%u%s", rnd(m) % 8, rnd(m) % 2 ? ", i" : "");
    assert_int_equal(h2_conn_submit_priority_update(m->cli, id, v, (size_t)k), 0);
  } else {
    h2_frame_prio p = {rnd(m) % 3 == 0 ? 0 : ids[rnd(m) % n], (uint16_t)(1 + rnd(m) % 256), (uint8_t)(rnd(m) % 4 == 0)};
    if (p.dependency == id) p.dependency = 0;
    assert_int_equal(h2_conn_submit_priority(m->cli, id, &p), 0);
  }
  m->priority_changes++;
}

static int total_promised, total_refused; /* over the runs of one test */

/* totals_check: the runs of a test did push, and did refuse pushes. */
static void totals_check(void) {
  assert_true(total_promised > 0);
  assert_true(total_refused > 0);
  total_promised = total_refused = 0;
}

static void run_mix(int nreq, uint32_t window, size_t max_body, uint64_t seed, int rfc9218) {
  static mix M;
  mix *m = &M;
  memset(m, 0, sizeof *m);
  m->rng = seed;
  m->nreq = nreq;
  m->rfc9218 = rfc9218;
  h2_conn_config cc, sc;
  h2_conn_config_init(&cc, H2_CONN_CLIENT);
  h2_conn_config_init(&sc, H2_CONN_SERVER);
  cc.settings.initial_window_size = sc.settings.initial_window_size = window;
  cc.connection_window = sc.connection_window = window < 65535 ? 65535 : window;
  cc.settings.no_rfc7540_priorities = sc.settings.no_rfc7540_priorities = (uint32_t)rfc9218;
  cc.settings.enable_push = 1;
  /* Tiny windows make legitimate WINDOW_UPDATE and PRIORITY storms. */
  cc.window_update_burst = sc.window_update_burst = 0;
  cc.priority_burst = sc.priority_burst = 0;
  m->cli = h2_conn_new(H2_CONN_CLIENT, &cc, NULL, cli_cb, m);
  m->srv = h2_conn_new(H2_CONN_SERVER, &sc, NULL, srv_cb, m);
  assert_non_null(m->cli);
  assert_non_null(m->srv);
  uint64_t now = 1;
  pump(m, m->cli, m->srv, SIZE_MAX, now);
  pump(m, m->srv, m->cli, SIZE_MAX, now);
  int idle = 0;
  long iter;
  for (iter = 0; iter < 1000000; iter++) {
    while (m->submitted < nreq) { /* as many as the server allows */
      uint32_t id = h2_conn_next_stream_id(m->cli);
      assert_true(id < MAXID);
      sstate *s = &m->s[id];
      memset(s, 0, sizeof *s);
      s->req_len = rnd(m) % 3 == 0 ? 0 : rnd(m) % (max_body + 1);
      s->resp_len = rnd(m) % (max_body + 1);
      char len[32];
      int n = snprintf(len, sizeof len, "%zu", s->req_len);
      char prio[16];
      int pn = snprintf(prio, sizeof prio, "u=%u%s", rnd(m) % 8, rnd(m) % 2 ? ", i" : "");
      h2_hpack_field f[] = {{":method", 7, "POST", 4, 0},  {":scheme", 7, "https", 5, 0},
                            {":authority", 10, "t", 1, 0}, {":path", 5, "/x", 2, 0},
                            {"content-length", 14, len, (size_t)n, 0}, {"priority", 8, prio, (size_t)pn, 0}};
      h2_frame_prio p = {0, (uint16_t)(1 + rnd(m) % 256), 0};
      int32_t r = h2_conn_submit_request(m->cli, f, 6, rfc9218 ? NULL : &p, s->req_len == 0, NULL);
      if (r == H2_ERR_REFUSED_STREAM) break;
      assert_int_equal(r, (int32_t)id);
      s->used = 1;
      if (s->req_len) {
        assert_int_equal(h2_conn_submit_data(m->cli, id, pat, s->req_len, H2_CONN_DATA_END_STREAM, NULL), 0);
        m->queued_cli++;
      }
      m->submitted++;
    }
    if (rnd(m) % 2 == 0) reprioritize(m);
    if (rnd(m) % 50 == 0) { /* resize the local connection windows */
      uint32_t w = 65535 + rnd(m) % (1u << 18);
      assert_int_equal(h2_conn_set_local_window_size(rnd(m) % 2 ? m->cli : m->srv, w), 0);
      m->window_changes++;
    }
    give_credit(m, 0);
    size_t a = pump(m, m->cli, m->srv, 1 + rnd(m) % 20000, now);
    size_t b = pump(m, m->srv, m->cli, 1 + rnd(m) % 20000, now);
    now++;
    if (m->done_req == nreq && m->done_push == m->promised && m->submitted == nreq) break;
    if (a == 0 && b == 0) {
      /* Quiet: only the application can unblock it now (credit). A pair
       * that stays quiet with all credit returned has deadlocked. */
      if (give_credit(m, 1) == 0 && ++idle > 3) break;
    } else {
      idle = 0;
    }
    if (m->errors) break;
  }
  print_message("window %u%s: %d requests, %d pushes (%d refused), %d priority changes, %d window resizes, "
                "%d credit rounds, %ld iterations\n",
                window, rfc9218 ? " (RFC 9218)" : "", nreq, m->promised, m->refused, m->priority_changes,
                m->window_changes, m->credits, iter);
  assert_int_equal(m->errors, 0);
  if (m->done_req != nreq || m->done_push != m->promised)
    fail_msg("stalled: %d/%d requests, %d/%d pushes closed", m->done_req, nreq, m->done_push, m->promised);
  total_promised += m->promised;
  total_refused += m->refused;
  uint64_t bytes = 0;
  for (uint32_t id = 1; id < MAXID; id++) {
    sstate *s = &m->s[id];
    if (!s->used) continue;
    assert_true(s->closed_cli);
    assert_false(s->bad);
    if (s->refused) {
      assert_int_equal(s->close_reason, H2_CONN_CLOSE_RESET_LOCAL);
      continue;
    }
    if (s->got != s->resp_len) fail_msg("stream %u: %llu of %zu bytes", id, (unsigned long long)s->got, s->resp_len);
    assert_int_equal(s->close_reason, H2_CONN_CLOSE_DONE);
    if (!s->pushed) assert_int_equal(s->srv_got, s->req_len);
    if (!s->closed_srv) fail_msg("stream %u%s: open on the server, state %s", id, s->pushed ? " (pushed)" : "",
                                 h2_stream_state_name(h2_conn_stream_state(m->srv, id)));
    bytes += s->got + s->srv_got;
  }
  print_message("  %llu body bytes checked\n", (unsigned long long)bytes);
  assert_int_equal(h2_conn_num_streams(m->cli, 1), 0);
  assert_int_equal(h2_conn_num_streams(m->cli, 0), 0);
  /* Pushed streams the client refused may still be closing on the server
   * until the RST_STREAM is read; all of it was pumped, so none remain. */
  assert_int_equal(h2_conn_num_streams(m->srv, 0), 0);
  assert_int_equal(h2_conn_num_streams(m->srv, 1), 0);
  assert_int_equal(m->released_cli, m->queued_cli);
  assert_int_equal(m->released_srv, m->queued_srv);
  h2_conn_free(m->cli);
  h2_conn_free(m->srv);
}

#define SEEDS 6

static void test_mix_window_65535(void **state) {
  (void)state;
  for (uint64_t k = 0; k < SEEDS; k++) run_mix(200, 65535, 30000, 0x1111 + k * 0x9e3779b9u, 0);
  totals_check();
}
static void test_mix_window_16(void **state) {
  (void)state;
  for (uint64_t k = 0; k < SEEDS; k++) run_mix(80, 16, 2000, 0x2222 + k * 0x9e3779b9u, 0);
  totals_check();
}
static void test_mix_window_1(void **state) {
  (void)state;
  for (uint64_t k = 0; k < SEEDS; k++) run_mix(40, 1, 300, 0x3333 + k * 0x9e3779b9u, 0);
  totals_check();
}
static void test_mix_rfc9218(void **state) {
  (void)state;
  for (uint64_t k = 0; k < SEEDS; k++) {
    run_mix(150, 65535, 20000, 0x4444 + k * 0x9e3779b9u, 1);
    run_mix(40, 16, 1000, 0x5555 + k * 0x9e3779b9u, 1);
    run_mix(30, 1, 200, 0x6666 + k * 0x9e3779b9u, 1);
  }
  totals_check();
}

int main(void) {
  for (size_t i = 0; i < sizeof pat; i++) pat[i] = (uint8_t)(i * 29 + 11 + (i >> 9));
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mix_window_65535),
      cmocka_unit_test(test_mix_window_16),
      cmocka_unit_test(test_mix_window_1),
      cmocka_unit_test(test_mix_rfc9218),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
