/* test_tls_util.h: helpers shared by test_tls_auth.c and test_tls_alloc.c
 * (header only): pump ciphertext between two in-memory h2_tls_conn objects
 * and run their handshake. Every loop is bounded. */
#ifndef TEST_TLS_UTIL_H
#define TEST_TLS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "h2_err.h"
#include "h2_tls.h"

/* tu_move sends at most |max| pending ciphertext bytes from |from| to |to|. */
static inline size_t tu_move(h2_tls_conn *from, h2_tls_conn *to, size_t max) {
  size_t len;
  const uint8_t *p = h2_tls_conn_out_peek(from, &len);
  if (p == NULL) return 0;
  if (len > max) len = max;
  size_t n = h2_tls_conn_feed(to, p, len);
  h2_tls_conn_out_consume(from, n);
  return n;
}

/* tu_handshake runs both sides until both finish or one fails; results in
 * *rc_c / *rc_s (1, 0 if unfinished, or a negative h2_err). */
static inline void tu_handshake(h2_tls_conn *c, h2_tls_conn *s, int *rc_c, int *rc_s) {
  *rc_c = 0;
  *rc_s = 0;
  for (int i = 0; i < 1000; i++) {
    if (*rc_c == 0) *rc_c = h2_tls_conn_handshake(c);
    if (*rc_s == 0) *rc_s = h2_tls_conn_handshake(s);
    size_t moved = tu_move(c, s, SIZE_MAX) + tu_move(s, c, SIZE_MAX);
    if (*rc_c != 0 && *rc_s != 0) break;
    if (moved == 0 && (*rc_c < 0 || *rc_s < 0)) {
      if (*rc_c == 0) *rc_c = h2_tls_conn_handshake(c);
      if (*rc_s == 0) *rc_s = h2_tls_conn_handshake(s);
      break;
    }
  }
}

/* tu_settle moves everything pending both ways and lets each side read
 * (post-handshake messages, alerts) a few times; returns the last read
 * result of the client (H2_ERR_WOULD_BLOCK when all is quiet). */
static inline int tu_settle(h2_tls_conn *c, h2_tls_conn *s, int *rc_read_s) {
  uint8_t buf[64];
  int rc = H2_ERR_WOULD_BLOCK, rs = H2_ERR_WOULD_BLOCK;
  for (int i = 0; i < 4; i++) {
    tu_move(s, c, SIZE_MAX);
    rc = h2_tls_conn_read(c, buf, sizeof buf);
    tu_move(c, s, SIZE_MAX);
    rs = h2_tls_conn_read(s, buf, sizeof buf);
  }
  if (rc_read_s != NULL) *rc_read_s = rs;
  return rc;
}

#endif
