/* libc_check.c: linked against libh2core.a with nothing but libc
 * (-nodefaultlibs -lc). If the core needed anything else, the link fails.
 * It references one symbol from each core module so they are all pulled in. */
#include <stdio.h>

#include "h2_conn.h"
#include "h2_err.h"
#include "h2_frame.h"
#include "h2_hpack.h"
#include "h2_mem.h"
#include "h2_prio.h"

static int libc_check_conn_cb(h2_conn *c, const h2_conn_event *ev, void *user) {
  (void)c;
  (void)ev;
  (void)user;
  return 0;
}

int main(void) {
  const h2_mem *m = h2_mem_default();
  void *p = h2_mem_malloc(m, 16);
  if (!p) return 1;
  h2_mem_free(m, p);
  if (h2_err_rfc_code(H2_ERR_HPACK_INDEX_ZERO) != 0x9) return 1;
  /* hpack: encode one field, decode it back. */
  h2_hpack_encoder *enc = h2_hpack_encoder_new(NULL);
  h2_hpack_decoder *dec = h2_hpack_decoder_new(NULL);
  if (!enc || !dec) return 1;
  h2_hpack_field f = {":path", 5, "/libc", 5, 0};
  uint8_t block[64];
  h2_cbb b;
  h2_cbb_init(&b, block, sizeof block);
  int n = h2_hpack_encode(enc, &b, &f, 1);
  if (n <= 0 || h2_hpack_decode(dec, block, (size_t)n, 1, NULL, NULL) != 1) return 1;
  h2_hpack_encoder_free(enc);
  h2_hpack_decoder_free(dec);
  /* frame: write a PING, parse it back, print it. */
  {
    static const uint8_t opaque[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t fb[32];
    char line[128];
    h2_frame fr;
    h2_cbs in;
    h2_cbb_init(&b, fb, sizeof fb);
    if (h2_frame_write_ping(&b, 0, opaque) != 0) return 1;
    h2_cbs_init(&in, fb, b.len);
    if (h2_frame_parse(&in, H2_DEFAULT_MAX_FRAME_SIZE, &fr) != 0) return 1;
    if (h2_frame_print(line, sizeof line, &fr) == 0) return 1;
  }
  /* prio: two ready streams; the scheduler picks one. */
  {
    h2_prio *pr = h2_prio_new(NULL, NULL);
    h2_prio_spec heavy = {0, 200, 0};
    if (!pr || h2_prio_open(pr, 1, NULL) || h2_prio_open(pr, 3, &heavy)) return 1;
    if (h2_prio_set_ready(pr, 1, 1) || h2_prio_set_ready(pr, 3, 1) || h2_prio_next(pr) == 0) return 1;
    h2_prio_free(pr);
  }
  /* conn: a server engine queues its SETTINGS at once. */
  {
    h2_conn *c = h2_conn_new(H2_CONN_SERVER, NULL, NULL, libc_check_conn_cb, NULL);
    uint8_t out[128];
    if (!c || h2_conn_send(c, out, sizeof out, 0) <= 0) return 1;
    h2_conn_free(c);
  }
  printf("libc_check: libh2core.a links with libc only\n");
  return 0;
}
