/* api_pair.h: the in-memory transport of the session API tests
 * (test/test_api*.c). Two h2_sessions made with h2_session_new talk through
 * api_pair_pump, which hands each side's h2_session_pending bytes to the
 * other's h2_session_feed until neither has anything left to send.
 *
 * Linked only into the test/test_api* binaries (see the Makefile): it
 * needs libh2.a, which the engine-only tests must not pull in. */
#ifndef TEST_API_PAIR_H
#define TEST_API_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "h2.h"

/* Called once per chunk moved, after |to| was fed the |n| bytes at |d|
 * (valid only during the call); |from| is the session that sent them. */
typedef void (*api_pair_observer)(h2_session *from, h2_session *to, const uint8_t *d, size_t n,
                                  void *user);

typedef struct api_pump {
  uint64_t now;               /* the time given to h2_session_feed */
  int feed_must_succeed;      /* fail the test when h2_session_feed returns non-zero */
  api_pair_observer observe;  /* optional per-chunk hook */
  void *user;                 /* handed to |observe| */
} api_pump;

/* api_pair_pump moves bytes both ways between the client |c| and the
 * server |s| until a round moves none; a NULL session (or side) is skipped.
 * |how| may be NULL: time 1, feed errors ignored, no hook. Fails the
 * running cmocka test when the pair has not gone quiet after 100000
 * rounds. */
void api_pair_pump(h2_session *c, h2_session *s, const api_pump *how);

#endif
