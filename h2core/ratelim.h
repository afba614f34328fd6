/* ratelim.h: token buckets on an injected clock (internal to h2core).
 *
 * A bucket holds up to |burst| tokens and gains |per_sec| tokens per second
 * of the |now_ms| values it is given (never read from a clock). Tokens are
 * kept in thousandths so slow rates refill smoothly. A bucket with burst 0
 * never limits. Pure data, no allocation. */
#ifndef H2_RATELIM_H
#define H2_RATELIM_H

#include <stdint.h>

typedef struct h2_ratelim {
  uint64_t milli;   /* tokens * 1000 */
  uint64_t last_ms; /* time of the last refill */
  uint32_t burst;
  uint32_t per_sec;
} h2_ratelim;

/* h2_ratelim_init sets up a full bucket at time |now_ms|. */
void h2_ratelim_init(h2_ratelim *r, uint32_t burst, uint32_t per_sec, uint64_t now_ms);

/* h2_ratelim_take refills for the time elapsed up to |now_ms| (time going
 * backwards refills nothing) and takes |n| tokens. Returns 1 when they were
 * there (or the bucket is disabled), 0 when not (nothing taken). */
int h2_ratelim_take(h2_ratelim *r, uint32_t n, uint64_t now_ms);

/* h2_ratelim_tokens returns the whole tokens left (after no refill). */
uint32_t h2_ratelim_tokens(const h2_ratelim *r);

#endif
