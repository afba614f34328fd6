/* ratelim.h: token buckets on an injected clock (internal to h2core).
 *
 * A bucket holds up to |burst| tokens and gains |per_sec| tokens per second
 * of the |now_ms| values it is given (never read from a clock). Tokens are
 * kept in thousandths so slow rates refill smoothly. A bucket with burst 0
 * never limits. Pure data, no allocation.
 *
 * The engine's buckets form one set refilled on one clock: a take first
 * brings every bucket of the set up to |now_ms|, so each bucket holds what
 * it would hold with a clock of its own (adding elapsed time times the rate
 * and capping at the burst gives the same tokens whether it is done once or
 * in steps), in 16 bytes instead of 24. */
#ifndef H2_RATELIM_H
#define H2_RATELIM_H

#include <stdint.h>

typedef struct h2_ratelim {
  uint64_t milli; /* tokens * 1000 at the set's last_ms */
  uint32_t burst;
  uint32_t per_sec;
} h2_ratelim;

/* The engine's buckets (indexes into h2_ratelim_set.b). */
#define H2_RL_SETTINGS 0  /* SETTINGS frames after the first */
#define H2_RL_PING 1
#define H2_RL_RST 2       /* RST_STREAM received */
#define H2_RL_LOCAL_RST 3 /* resets we send because of the peer */
#define H2_RL_EMPTY 4     /* empty DATA/HEADERS/CONTINUATION frames */
#define H2_RL_PRIO 5      /* PRIORITY / PRIORITY_UPDATE */
#define H2_RL_WU 6        /* WINDOW_UPDATE */
#define H2_RL_COUNT 7

typedef struct h2_ratelim_set {
  uint64_t last_ms; /* time of the last refill of every bucket */
  h2_ratelim b[H2_RL_COUNT];
} h2_ratelim_set;

/* h2_ratelim_init sets up bucket |i| of |s| full. A set starts zeroed
 * (last_ms 0, every bucket disabled) before its buckets are set up. */
void h2_ratelim_init(h2_ratelim_set *s, unsigned i, uint32_t burst, uint32_t per_sec);

/* h2_ratelim_take refills every bucket of |s| for the time elapsed up to
 * |now_ms| (time going backwards refills nothing) and takes |n| tokens from
 * bucket |i|. Returns 1 when they were there (or the bucket is disabled),
 * 0 when not (nothing taken). */
int h2_ratelim_take(h2_ratelim_set *s, unsigned i, uint32_t n, uint64_t now_ms);

/* h2_ratelim_tokens returns the whole tokens left in bucket |i| (no
 * refill). */
uint32_t h2_ratelim_tokens(const h2_ratelim_set *s, unsigned i);

#endif
