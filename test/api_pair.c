/* api_pair.c: see api_pair.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api_pair.h"

void api_pair_pump(h2_session *c, h2_session *s, const api_pump *how) {
  static const api_pump plain = {.now = 1};
  if (!how) how = &plain;
  h2_session *from[2] = {c, s}, *to[2] = {s, c};
  for (int round = 0; round < 100000; round++) {
    int moved = 0;
    for (int i = 0; i < 2; i++) {
      if (!from[i] || !to[i]) continue;
      size_t len;
      const uint8_t *d;
      while ((d = h2_session_pending(from[i], &len)) != NULL && len > 0) {
        /* A copy: the pending bytes are only valid until |from| is used
         * again, and feeding |to| may make it write to |from|. */
        uint8_t *copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, d, len);
        h2_session_consumed(from[i], len);
        int rc = h2_session_feed(to[i], copy, len, how->now);
        if (how->feed_must_succeed && rc != 0) {
          free(copy);
          fail_msg("h2_session_feed (%s side) returned %d", i ? "client" : "server", rc);
        }
        if (how->observe) how->observe(from[i], to[i], copy, len, how->user);
        free(copy);
        moved = 1;
      }
    }
    if (!moved) return;
  }
  fail_msg("pump did not settle");
}
