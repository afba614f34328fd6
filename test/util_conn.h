/* util_conn.h: helpers for the connection engine tests (test/test_conn*.c):
 * a growable byte buffer, frame builders (with a persistent HPACK encoder so
 * scripts can carry several header blocks), an event recorder that writes
 * every event as one text line (DATA pieces of one stream merged, so logs
 * do not depend on how input was split), and a driver that feeds a script
 * whole, split at a point, or one byte at a time. */
#ifndef TEST_UTIL_CONN_H
#define TEST_UTIL_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "h2_conn.h"

typedef struct tc_buf {
  uint8_t *p;
  size_t len, cap;
} tc_buf;

void tc_buf_put(tc_buf *b, const void *p, size_t n);
void tc_buf_free(tc_buf *b);

/* Script builder: frames appended to |out|; |enc| is the peer's HPACK
 * encoder (created by tc_script_init). */
typedef struct tc_script {
  tc_buf out;
  h2_hpack_encoder *enc;
} tc_script;

void tc_script_init(tc_script *s);
void tc_script_free(tc_script *s);
void tc_preface(tc_script *s);
void tc_settings(tc_script *s, const h2_frame_setting *e, size_t n);
void tc_settings_ack(tc_script *s);
/* tc_headers encodes "name: value" pairs (NULL-terminated list of C strings
 * name, value, name, value, ..., NULL) as one HEADERS (+CONTINUATION when
 * |max_frag| > 0 cuts the block) frame. */
void tc_headers(tc_script *s, uint32_t id, uint8_t flags, size_t max_frag, const char *const *nv);
/* tc_push_promise: one PUSH_PROMISE (END_HEADERS) on |assoc| promising
 * |promised| with the request |nv|. */
void tc_push_promise(tc_script *s, uint32_t assoc, uint32_t promised, const char *const *nv);
void tc_data(tc_script *s, uint32_t id, uint8_t flags, const void *p, size_t n, int pad);
void tc_frame(tc_script *s, uint8_t type, uint8_t flags, uint32_t id, const void *p, size_t n);
void tc_window_update(tc_script *s, uint32_t id, uint32_t inc);
void tc_rst(tc_script *s, uint32_t id, uint32_t code);
void tc_ping(tc_script *s, uint8_t flags, uint64_t v);
void tc_goaway(tc_script *s, uint32_t last, uint32_t code);

/* Event recorder attached to a connection. */
typedef struct tc_rec {
  tc_buf log;          /* text lines */
  uint32_t data_sid;   /* pending merged DATA */
  uint64_t data_len, data_hash;
  int data_end;
  int respond;         /* server: answer each request (see tc_cb) */
  size_t resp_len;     /* body bytes of the automatic response */
  int consume;         /* call h2_conn_consume for DATA */
  int limits;          /* number of LIMIT events */
  int last_limit;
  int conn_errors;
  uint32_t last_error_code;
  uint64_t last_rtt;
} tc_rec;

int tc_cb(h2_conn *c, const h2_conn_event *ev, void *user);
void tc_rec_flush(tc_rec *r);
/* tc_log returns the NUL-terminated log (after flushing). */
const char *tc_log(tc_rec *r);
void tc_rec_free(tc_rec *r);

/* tc_drain appends all pending output of |c| to |out| (if not NULL). */
void tc_drain(h2_conn *c, tc_buf *out);

/* tc_pump moves every pending byte of |from| into |to| (both directions
 * until quiet when |to_back|); returns the bytes moved. */
size_t tc_pump(h2_conn *from, h2_conn *to, uint64_t now);
size_t tc_pump_both(h2_conn *a, h2_conn *b, uint64_t now);

/* tc_rnd advances the xorshift64 state |*s| (never 0) and returns 32 bits
 * of it: the random source of the seeded pair tests. */
uint32_t tc_rnd(uint64_t *s);

/* tc_pump_random moves bytes from |from| to |to| until |budget| bytes have
 * moved (or |from| has nothing left): h2_conn_send into buffers of 1 to
 * |max_write| bytes (at most 8192), each handed to h2_conn_recv in random
 * pieces, one byte long one time in |one_in|; every draw comes from |rng|
 * (tc_rnd). Fails the running cmocka test when a send or recv fails.
 * Returns the bytes moved. */
size_t tc_pump_random(h2_conn *from, h2_conn *to, size_t budget, uint64_t now, uint64_t *rng,
                      size_t max_write, uint32_t one_in);

/* Split modes for tc_run. */
#define TC_WHOLE 0
#define TC_SPLIT 1 /* two pieces at |at| */
#define TC_BYTES 2 /* one byte at a time */

typedef struct tc_result {
  tc_rec rec;
  tc_buf out;      /* every byte the connection produced (drained at the end) */
  int rc;          /* first negative h2_conn_recv result, else 0 */
  int64_t win[4];  /* conn send/recv windows, stream 1 send/recv (or INT64_MIN) */
  int closed;
} tc_result;

/* tc_run creates a connection (|cfg| may be NULL), drains its initial output
 * into res->out, feeds |in| per |mode|, drains once more and records. */
void tc_run(h2_conn_role role, const h2_conn_config *cfg, const tc_rec *proto, const uint8_t *in,
            size_t len, int mode, size_t at, tc_result *res);
void tc_result_free(tc_result *res);

/* tc_frames_text decodes |p|/|n| as a sequence of frames (skipping a client
 * preface) and writes one h2_frame_print line each; caller frees. */
char *tc_frames_text(const uint8_t *p, size_t n);

#endif
