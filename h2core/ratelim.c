/* ratelim.c: token buckets on the injected clock. */
#include "ratelim.h"

void h2_ratelim_init(h2_ratelim_set *s, unsigned i, uint32_t burst, uint32_t per_sec) {
  h2_ratelim *r = &s->b[i];
  r->burst = burst;
  r->per_sec = per_sec;
  r->milli = (uint64_t)burst * 1000u;
}

static void refill(h2_ratelim_set *s, uint64_t now_ms) {
  uint64_t dt = now_ms - s->last_ms;
  /* dt * per_sec milli-tokens; clamp dt so the product cannot overflow. */
  if (dt > 1000u * 1000u * 1000u) dt = 1000u * 1000u * 1000u;
  for (unsigned i = 0; i < H2_RL_COUNT; i++) {
    h2_ratelim *r = &s->b[i];
    uint64_t cap = (uint64_t)r->burst * 1000u;
    uint64_t add = dt * r->per_sec;
    r->milli = (cap - r->milli < add) ? cap : r->milli + add;
  }
  s->last_ms = now_ms;
}

int h2_ratelim_take(h2_ratelim_set *s, unsigned i, uint32_t n, uint64_t now_ms) {
  h2_ratelim *r = &s->b[i];
  if (r->burst == 0) return 1;
  if (now_ms > s->last_ms) refill(s, now_ms);
  uint64_t need = (uint64_t)n * 1000u;
  if (r->milli < need) return 0;
  r->milli -= need;
  return 1;
}

uint32_t h2_ratelim_tokens(const h2_ratelim_set *s, unsigned i) {
  return (uint32_t)(s->b[i].milli / 1000u);
}
