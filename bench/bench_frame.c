/* bench_frame.c: frame decode throughput over two mixed frame streams.
 *
 *   bulk:    per stream: HEADERS, WINDOW_UPDATE, 4 x DATA 16 KiB (the last
 *            with END_STREAM), PING, RST_STREAM   (~64 KiB per cycle)
 *   control: per stream: HEADERS (END_STREAM), WINDOW_UPDATE, PING,
 *            RST_STREAM                            (small frames only)
 *
 * ours:    h2_frame_parse() over the bytes: header, size check, per-type
 *          validation, payload views. Nothing else.
 * nghttp2: nghttp2 has no public standalone frame decoder, so the peer
 *          figure is nghttp2_session_mem_recv() (nghttp2 1.52 has no
 *          mem_recv2) on the SAME bytes, fed to a server session with no
 *          callbacks set, no client magic, HTTP messaging checks off, no
 *          automatic PING ACK. That is more work than ours: it also runs
 *          stream state, flow control and HPACK (each header block is the
 *          one byte 0x82). Only the mem_recv calls are timed; draining the
 *          queued WINDOW_UPDATEs with mem_send between passes and session
 *          creation are not.
 *
 * Each figure is the best of several repetitions (the machine is shared and
 * noisy). Output: RESULT lines. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nghttp2/nghttp2.h>

#include "h2_frame.h"

#define CYCLES 256
#define REPS 7

typedef struct stream_buf {
  uint8_t *buf;
  size_t len;
  size_t frames;
} stream_buf;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void must(int rv, const char *what) {
  if (rv != 0) {
    fprintf(stderr, "bench_frame: %s failed: %d\n", what, rv);
    exit(1);
  }
}

/* build writes an empty SETTINGS then CYCLES cycles of the chosen mix. */
static stream_buf build(int bulk) {
  size_t cap = (size_t)CYCLES * (bulk ? 4 * (9 + 16384) + 200 : 200) + 64;
  stream_buf s = {malloc(cap), 0, 0};
  if (s.buf == NULL) exit(1);
  static uint8_t payload[16384];
  memset(payload, 'x', sizeof payload);
  const uint8_t block[1] = {0x82};
  const uint8_t opaque[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  h2_cbb b;
  h2_cbb_init(&b, s.buf, cap);
  must(h2_frame_write_settings(&b, NULL, 0), "settings");
  s.frames++;
  for (uint32_t i = 0; i < CYCLES; i++) {
    uint32_t sid = 2 * i + 1;
    uint8_t hflags = H2_FLAG_END_HEADERS | (bulk ? 0 : H2_FLAG_END_STREAM);
    must(h2_frame_write_headers(&b, sid, hflags, NULL, block, 1, -1), "headers");
    must(h2_frame_write_window_update(&b, sid, 1), "window_update");
    s.frames += 2;
    if (bulk) {
      for (int k = 0; k < 4; k++) {
        must(h2_frame_write_data(&b, sid, k == 3 ? H2_FLAG_END_STREAM : 0, payload,
                                 sizeof payload, -1),
             "data");
        s.frames++;
      }
    }
    must(h2_frame_write_ping(&b, 0, opaque), "ping");
    must(h2_frame_write_rst_stream(&b, sid, 8), "rst_stream");
    s.frames += 2;
  }
  s.len = b.len;
  return s;
}

static double run_ours(const stream_buf *s, size_t *sink) {
  h2_cbs in;
  h2_frame f;
  size_t n = 0, acc = 0;
  double t0 = now_s();
  h2_cbs_init(&in, s->buf, s->len);
  while (h2_cbs_len(&in) > 0) {
    if (h2_frame_parse(&in, H2_DEFAULT_MAX_FRAME_SIZE, &f) != 0) {
      fprintf(stderr, "bench_frame: our decode failed at frame %zu\n", n);
      exit(1);
    }
    acc += f.hdr.length + (size_t)f.type;
    n++;
  }
  double t = now_s() - t0;
  if (n != s->frames) exit(1);
  *sink += acc;
  return t;
}

static int count_frame(nghttp2_session *sess, const nghttp2_frame *fr, void *user) {
  (void)sess;
  (void)fr;
  ++*(size_t *)user;
  return 0;
}

/* run_nghttp2 feeds |s| to a fresh nghttp2 server session. With |counted|
 * non-NULL an on_frame_recv callback counts the frames (verification pass,
 * not used for timing). */
static double run_nghttp2(const stream_buf *s, size_t *counted) {
  nghttp2_session_callbacks *cb;
  nghttp2_option *opt;
  nghttp2_session *sess;
  if (nghttp2_session_callbacks_new(&cb) || nghttp2_option_new(&opt)) exit(1);
  if (counted) nghttp2_session_callbacks_set_on_frame_recv_callback(cb, count_frame);
  nghttp2_option_set_no_recv_client_magic(opt, 1);
  nghttp2_option_set_no_http_messaging(opt, 1);
  nghttp2_option_set_no_auto_ping_ack(opt, 1);
  nghttp2_option_set_no_closed_streams(opt, 1);
  if (nghttp2_session_server_new2(&sess, cb, counted, opt)) exit(1);
  double t = 0;
  /* feed in 64 KiB reads, draining the output queue (untimed) between */
  size_t off = 0;
  while (off < s->len) {
    size_t chunk = s->len - off < 65536 ? s->len - off : 65536;
    double t0 = now_s();
    ssize_t rv = nghttp2_session_mem_recv(sess, s->buf + off, chunk);
    t += now_s() - t0;
    if (rv < 0 || (size_t)rv != chunk) {
      fprintf(stderr, "bench_frame: nghttp2_session_mem_recv: %s\n", nghttp2_strerror((int)rv));
      exit(1);
    }
    off += chunk;
    const uint8_t *out;
    while (nghttp2_session_mem_send(sess, &out) > 0) {
    }
  }
  /* the session must still be healthy (no GOAWAY queued by an error) */
  if (!nghttp2_session_want_read(sess)) {
    fprintf(stderr, "bench_frame: nghttp2 session stopped reading\n");
    exit(1);
  }
  nghttp2_session_del(sess);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  return t;
}

static void bench(const char *name, int bulk) {
  stream_buf s = build(bulk);
  size_t sink = 0, counted = 0;
  /* verification: nghttp2 really receives every frame without error */
  run_nghttp2(&s, &counted);
  if (counted != s.frames) {
    fprintf(stderr, "bench_frame: nghttp2 received %zu of %zu frames\n", counted, s.frames);
    exit(1);
  }
  /* repeat passes so each timing lasts milliseconds, not microseconds */
  int passes = bulk ? 200 : 1000;
  double best_ours = 1e9, best_ng = 1e9;
  for (int r = 0; r < REPS; r++) {
    double t = 0;
    for (int p = 0; p < passes; p++) t += run_ours(&s, &sink);
    if (t < best_ours) best_ours = t;
    t = 0;
    for (int p = 0; p < passes; p++) t += run_nghttp2(&s, NULL);
    if (t < best_ng) best_ng = t;
  }
  double bytes = (double)s.len * passes, frames = (double)s.frames * passes;
  double gb_o = bytes / best_ours / 1e9, gb_n = bytes / best_ng / 1e9;
  double mf_o = frames / best_ours / 1e6, mf_n = frames / best_ng / 1e6;
  printf("# %s: %zu bytes, %zu frames per pass, %d passes, best of %d (sink %zu)\n", name, s.len,
         s.frames, passes, REPS, sink % 10);
  printf("RESULT name=%s unit=GB/s ours=%.3f nghttp2=%.3f better=%.2f\n", name, gb_o, gb_n,
         gb_o / gb_n);
  printf("RESULT name=%s unit=Mframes/s ours=%.2f nghttp2=%.2f better=%.2f\n", name, mf_o, mf_n,
         mf_o / mf_n);
  free(s.buf);
}

int main(void) {
  printf("# peer: nghttp2 %s nghttp2_session_mem_recv (full server-session receive path:\n"
         "# frame parse + stream state + flow control + HPACK of 1-byte blocks), no callbacks;\n"
         "# ours: h2_frame_parse only (frame codec, no session). Not like-for-like: nghttp2\n"
         "# has no standalone frame decoder. Neither reads DATA payload bytes (both hand out\n"
         "# views), so bulk GB/s mostly reflects frames/s x 16 KiB.\n",
         nghttp2_version(0)->version_str);
  bench("frame.decode.bulk", 1);
  bench("frame.decode.control", 0);
  return 0;
}
