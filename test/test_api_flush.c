/* test_api_flush.c: a session's flush on a real loop over 127.0.0.1 writes
 * a bounded number of writevs per call; when it stops with output left it
 * must come back on a later iteration by itself. The peer here is a raw
 * client that opens windows wide and then only reads (no WINDOW_UPDATE, no
 * ACK, nothing that would wake the server), and the body is one 8 MiB write
 * (no buffer release before the end that would schedule a flush): the whole
 * body must still arrive. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "h2.h"
#include "api_loops.h"
#include "h2_loop.h"

#define BODY (8u << 20)

static uint8_t body[BODY];

static void on_stream(h2_session *s, h2_stream *st, const h2_header *hdrs, size_t n,
                      unsigned flags, void *user) {
  (void)s; (void)hdrs; (void)n; (void)flags; (void)user;
  h2_header h[] = {{":status", 7, "200", 3, 0}};
  assert_int_equal(h2_stream_respond(st, h, 1, 0), 0);
  assert_int_equal(h2_stream_end_with(st, body, BODY, NULL, NULL), 0);
}

static void put_frame_hdr(uint8_t *p, uint32_t len, uint8_t type, uint8_t flags, uint32_t id) {
  p[0] = (uint8_t)(len >> 16); p[1] = (uint8_t)(len >> 8); p[2] = (uint8_t)len;
  p[3] = type; p[4] = flags;
  p[5] = (uint8_t)(id >> 24); p[6] = (uint8_t)(id >> 16); p[7] = (uint8_t)(id >> 8); p[8] = (uint8_t)id;
}

static void test_flush_resumes_without_peer_input(void **state) {
  (void)state;
  for (size_t i = 0; i < BODY; i++) body[i] = (uint8_t)(i * 7 + 1);
  h2_loop *loop;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.session.on_stream = on_stream;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, loop, NULL, &cbs, NULL), 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  /* A receive buffer that takes a whole flush call's output: the server's
   * writes are then never short, so no on_writable resumes it either. */
  int rcv = 32 << 20;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);

  uint8_t out[128];
  size_t k = 0;
  memcpy(out, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
  k = 24;
  put_frame_hdr(out + k, 6, 0x4 /* SETTINGS */, 0, 0);
  k += 9;
  const uint8_t iws[6] = {0x00, 0x04, 0x7f, 0xff, 0xff, 0xff}; /* INITIAL_WINDOW_SIZE 2^31-1 */
  memcpy(out + k, iws, 6);
  k += 6;
  put_frame_hdr(out + k, 4, 0x8 /* WINDOW_UPDATE */, 0, 0);
  k += 9;
  uint32_t inc = 0x7fffffffu - 65535u;
  out[k++] = (uint8_t)(inc >> 24); out[k++] = (uint8_t)(inc >> 16);
  out[k++] = (uint8_t)(inc >> 8); out[k++] = (uint8_t)inc;
  /* GET http://x/ : static-table :method GET, :scheme http, :path /, and
   * :authority "x" as a literal without indexing (name index 1). */
  const uint8_t block[] = {0x82, 0x86, 0x84, 0x01, 0x01, 'x'};
  put_frame_hdr(out + k, sizeof block, 0x1 /* HEADERS */, 0x5 /* END_STREAM|END_HEADERS */, 1);
  k += 9;
  memcpy(out + k, block, sizeof block);
  k += sizeof block;
  assert_int_equal(write(fd, out, k), (ssize_t)k);

  /* Read frames; count stream 1's DATA payload up to END_STREAM. */
  static uint8_t in[1 << 20];
  size_t have = 0, got = 0;
  int ended = 0;
  uint64_t deadline = api_mono_ms() + 10000;
  while (!ended && api_mono_ms() < deadline) {
    h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
    ssize_t r = read(fd, in + have, sizeof in - have);
    if (r == 0) break;
    if (r < 0) {
      assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
      usleep(1000);
      continue;
    }
    have += (size_t)r;
    size_t off = 0;
    while (have - off >= 9) {
      const uint8_t *p = in + off;
      size_t len = ((size_t)p[0] << 16) | ((size_t)p[1] << 8) | p[2];
      if (have - off < 9 + len) break;
      uint32_t id = ((uint32_t)(p[5] & 0x7f) << 24) | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 8) | p[8];
      if (p[3] == 0x0 /* DATA */ && id == 1) {
        got += len;
        if (p[4] & 0x1) ended = 1;
      }
      off += 9 + len;
    }
    memmove(in, in + off, have - off);
    have -= off;
  }
  assert_int_equal(got, BODY);
  assert_true(ended);

  close(fd);
  h2_server_close(srv, NULL);
  for (int i = 0; i < 200 && h2_loop_alive(loop); i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  h2_server_free(srv);
  h2_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_flush_resumes_without_peer_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
