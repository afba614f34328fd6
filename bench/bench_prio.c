/* bench_prio.c: the send scheduler choosing the next frame among N ready
 * streams (N = 10, 100, 1000, 10000), in ns per pick + charge.
 *
 * Peer: nghttp2 has no public standalone scheduler (its stream scheduler is
 * internal to nghttp2_session), so the baseline is a naive weighted fair
 * scheduler written here: the same virtual-finish-time rule, but choosing
 * by scanning every stream for the smallest virtual finish time (largest
 * credit), O(N) per pick. Both see the same weights and frame sizes.
 *
 * Each figure is the best of 5 runs (the machine is shared and noisy). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h2_prio.h"

#define FRAME 16384
#define RUNS 5

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint16_t weight_of(uint32_t i) { return (uint16_t)(1 + (i * 37u) % 256); }

/* ---- ours ------------------------------------------------------------------- */

static uint64_t sink;

static double bench_ours(uint32_t n, long picks, int mode) {
  h2_prio_config cfg = {0, 0, mode};
  h2_prio *p = h2_prio_new(NULL, &cfg);
  if (!p) abort();
  for (uint32_t i = 0; i < n; i++) {
    h2_prio_spec s = {0, weight_of(i), 0};
    uint32_t id = 1 + 2 * i;
    if (h2_prio_open(p, id, &s) != 0) abort();
    if (mode == H2_PRIO_MODE_RFC9218 && h2_prio_set_urgency(p, id, (uint8_t)(i % 8), 1) != 0) abort();
    if (h2_prio_set_ready(p, id, 1) != 0) abort();
  }
  double t0 = now_ns();
  uint64_t sum = 0;
  for (long k = 0; k < picks; k++) {
    uint32_t id = h2_prio_next(p);
    sum += id;
    h2_prio_charge(p, id, FRAME);
  }
  double t1 = now_ns();
  sink += sum;
  h2_prio_free(p);
  return (t1 - t0) / (double)picks;
}

/* bench_nested: 10 idle group nodes x 10 idle subgroups x n/100 ready
 * streams (depth 3, like Firefox's placeholder groups): the per-pick cost
 * grows with depth, not with the number of streams. */
static double bench_nested(uint32_t n, long picks, int mode) {
  (void)mode;
  h2_prio *p = h2_prio_new(NULL, NULL);
  if (!p) abort();
  uint32_t next_id = 1;
  for (uint32_t g = 0; g < 10; g++) {
    uint32_t gid = next_id;
    next_id += 2;
    h2_prio_spec gs = {0, (uint16_t)(1 + g * 20), 0};
    if (h2_prio_open(p, gid, &gs) != 0) abort();
    for (uint32_t sg = 0; sg < 10; sg++) {
      uint32_t sid = next_id;
      next_id += 2;
      h2_prio_spec ss = {gid, (uint16_t)(1 + sg * 25), 0};
      if (h2_prio_open(p, sid, &ss) != 0) abort();
      for (uint32_t k = 0; k < n / 100; k++) {
        h2_prio_spec ls = {sid, weight_of(k), 0};
        if (h2_prio_open(p, next_id, &ls) != 0 || h2_prio_set_ready(p, next_id, 1) != 0) abort();
        next_id += 2;
      }
    }
  }
  double t0 = now_ns();
  uint64_t sum = 0;
  for (long k = 0; k < picks; k++) {
    uint32_t id = h2_prio_next(p);
    sum += id;
    h2_prio_charge(p, id, FRAME);
  }
  double t1 = now_ns();
  sink += sum;
  h2_prio_free(p);
  return (t1 - t0) / (double)picks;
}

/* ---- naive baseline: O(N) scan ----------------------------------------------- */

typedef struct naive_stream {
  uint32_t id;
  uint16_t weight;
  uint64_t vfinish; /* virtual finish time; the smallest has the most credit */
} naive_stream;

static double bench_naive(uint32_t n, long picks) {
  naive_stream *s = calloc(n, sizeof *s);
  if (!s) abort();
  for (uint32_t i = 0; i < n; i++) {
    s[i].id = 1 + 2 * i;
    s[i].weight = weight_of(i);
  }
  double t0 = now_ns();
  uint64_t sum = 0;
  for (long k = 0; k < picks; k++) {
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
      if (s[i].vfinish < s[best].vfinish) best = i;
    sum += s[best].id;
    s[best].vfinish += (uint64_t)FRAME * 65536 / s[best].weight;
  }
  double t1 = now_ns();
  sink += sum;
  free(s);
  return (t1 - t0) / (double)picks;
}

static double best_of(double (*f)(uint32_t, long, int), uint32_t n, long picks, int mode) {
  double best = 1e300;
  for (int r = 0; r < RUNS; r++) {
    double v = f(n, picks, mode);
    if (v < best) best = v;
  }
  return best;
}

static double naive_adapter(uint32_t n, long picks, int mode) {
  (void)mode;
  return bench_naive(n, picks);
}

int main(void) {
  static const uint32_t ns[] = {10, 100, 1000, 10000};
  printf("scheduler pick+charge, %d-octet frames, all streams ready, weights 1..256\n", FRAME);
  printf("%8s %14s %14s %14s\n", "streams", "ours_tree_ns", "ours_9218_ns", "naive_scan_ns");
  double ours[4], naive[4], rfc[4];
  for (size_t i = 0; i < 4; i++) {
    uint32_t n = ns[i];
    long picks = 2000000;
    long naive_picks = n >= 10000 ? 20000 : n >= 1000 ? 200000 : 2000000;
    ours[i] = best_of(bench_ours, n, picks, H2_PRIO_MODE_TREE);
    rfc[i] = best_of(bench_ours, n, picks, H2_PRIO_MODE_RFC9218);
    naive[i] = best_of(naive_adapter, n, naive_picks, 0);
    printf("%8u %14.1f %14.1f %14.1f\n", n, ours[i], rfc[i], naive[i]);
  }
  printf("nested tree (10 groups x 10 subgroups x N/100 streams, depth 3):");
  for (size_t i = 2; i < 4; i++) printf(" N=%u %.1f ns", ns[i], best_of(bench_nested, ns[i], 2000000, 0));
  printf("\n");
  printf("growth 10 -> 10000 streams: ours_tree x%.1f, ours_9218 x%.1f, naive_scan x%.1f\n", ours[3] / ours[0],
         rfc[3] / rfc[0], naive[3] / naive[0]);
  for (size_t i = 0; i < 4; i++)
    printf("RESULT name=prio.pick.n%u unit=ns ours=%.1f naive_scan=%.1f better=%.2f\n", ns[i], ours[i], naive[i],
           naive[i] / ours[i]);
  if (sink == 42) printf("(sink)\n");
  return 0;
}
