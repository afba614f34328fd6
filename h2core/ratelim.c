/* ratelim.c: token buckets on the injected clock. */
#include "ratelim.h"

void h2_ratelim_init(h2_ratelim *r, uint32_t burst, uint32_t per_sec, uint64_t now_ms) {
  r->burst = burst;
  r->per_sec = per_sec;
  r->milli = (uint64_t)burst * 1000u;
  r->last_ms = now_ms;
}

static void refill(h2_ratelim *r, uint64_t now_ms) {
  uint64_t cap = (uint64_t)r->burst * 1000u;
  if (now_ms > r->last_ms) {
    uint64_t dt = now_ms - r->last_ms;
    /* dt * per_sec milli-tokens; clamp dt so the product cannot overflow. */
    if (dt > 1000u * 1000u * 1000u) dt = 1000u * 1000u * 1000u;
    uint64_t add = dt * r->per_sec;
    r->milli = (cap - r->milli < add) ? cap : r->milli + add;
    r->last_ms = now_ms;
  }
}

int h2_ratelim_take(h2_ratelim *r, uint32_t n, uint64_t now_ms) {
  if (r->burst == 0) return 1;
  refill(r, now_ms);
  uint64_t need = (uint64_t)n * 1000u;
  if (r->milli < need) return 0;
  r->milli -= need;
  return 1;
}

uint32_t h2_ratelim_tokens(const h2_ratelim *r) { return (uint32_t)(r->milli / 1000u); }
