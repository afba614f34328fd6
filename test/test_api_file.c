/* test_api_file.c: file responses (h2_file.h) between an in-memory client
 * and server (transport-less sessions): whole files, byte ranges, empty
 * files, a file far larger than every flow-control window, pipes, stat
 * checks, trailers, missing files and truncation mid-transfer. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "h2.h"
#include "api_pair.h"
#include "h2_file.h"

/* ---- what the server does with the next request ---- */
enum { M_FILE, M_FD, M_PIPE, M_TRUNCATE };
static struct {
  int mode;
  const char *status;     /* NULL: "200" */
  const char *path;
  int fd;
  h2_file_options opts;
  int use_opts;
  int rc;                 /* respond_with_* result */
  char msg[256];          /* h2_last_error_message after it */
  h2_stream *st;
  int errors, closes, want_trailers, first_error;
  size_t max_buffered;
} srv;

/* ---- what the client saw ---- */
static struct {
  int status, ends, closes, trailers;
  uint32_t rst;
  long content_length; /* -1: absent */
  char last_modified[64];
  uint8_t *body;
  size_t len;
} cli;

static void s_error(h2_stream *st, int err, void *u) {
  (void)st; (void)u;
  if (srv.errors++ == 0) srv.first_error = err;
}
static void s_close(h2_stream *st, uint32_t code, void *u) {
  (void)st; (void)code; (void)u;
  srv.closes++;
  srv.st = NULL;
}
static void s_want_trailers(h2_stream *st, void *u) {
  (void)u;
  srv.want_trailers++;
  h2_header t[] = {H2_HDR("x-sum", "ok")};
  assert_int_equal(h2_stream_send_trailers(st, t, 1), 0);
}
static const h2_stream_callbacks s_cbs = {.on_error = s_error, .on_close = s_close,
                                          .on_want_trailers = s_want_trailers};

static void on_stream(h2_session *s, h2_stream *st, const h2_header *h, size_t n, unsigned flags,
                      void *u) {
  (void)s; (void)h; (void)n; (void)flags; (void)u;
  h2_stream_on(st, &s_cbs, NULL);
  srv.st = st;
  const char *status = srv.status ? srv.status : "200";
  h2_header r[] = {{":status", 7, status, strlen(status), 0}, H2_HDR("content-type", "application/octet-stream"),
                   H2_HDR("content-length", "999999")}; /* replaced for regular files */
  const h2_file_options *o = srv.use_opts ? &srv.opts : NULL;
  h2_last_error_message();
  if (srv.mode == M_FILE) srv.rc = h2_stream_respond_with_file(st, srv.path, r, 3, o);
  else srv.rc = h2_stream_respond_with_fd(st, srv.fd, r, 3, o);
  snprintf(srv.msg, sizeof srv.msg, "%s", h2_last_error_message());
  if (srv.rc < 0) {
    /* the caller's choice (Node's onError): 404 for a missing file, else 500 */
    h2_header e[] = {H2_HDR(":status", srv.rc == H2_ERR_NOT_FOUND ? "404" : "500")};
    assert_int_equal(h2_stream_respond(st, e, 1, H2_END_STREAM), 0);
  }
  if (srv.mode == M_TRUNCATE && srv.rc == 0) assert_int_equal(ftruncate(srv.fd, 100000), 0);
}

/* Header values are not NUL-terminated. */
static long num(const h2_header *x) {
  char b[32];
  snprintf(b, sizeof b, "%.*s", (int)x->value_len, x->value);
  return strtol(b, NULL, 10);
}

static void c_response(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f; (void)u;
  const h2_header *x = h2_header_find(h, n, ":status");
  assert_non_null(x);
  cli.status = (int)num(x);
  x = h2_header_find(h, n, "content-length");
  cli.content_length = x ? num(x) : -1;
  x = h2_header_find(h, n, "last-modified");
  if (x) snprintf(cli.last_modified, sizeof cli.last_modified, "%.*s", (int)x->value_len, x->value);
}
static void c_data(h2_stream *st, const uint8_t *d, size_t n, void *u) {
  (void)st; (void)u;
  cli.body = realloc(cli.body, cli.len + n + 1);
  memcpy(cli.body + cli.len, d, n);
  cli.len += n;
}
static void c_end(h2_stream *st, void *u) { (void)st; (void)u; cli.ends++; }
static void c_trailers(h2_stream *st, const h2_header *h, size_t n, unsigned f, void *u) {
  (void)st; (void)f; (void)u;
  assert_non_null(h2_header_find(h, n, "x-sum"));
  cli.trailers++;
}
static void c_close(h2_stream *st, uint32_t code, void *u) {
  (void)st; (void)u;
  cli.closes++;
  cli.rst = code;
}
static const h2_stream_callbacks c_cbs = {.on_response = c_response, .on_data = c_data,
                                          .on_end = c_end, .on_trailers = c_trailers,
                                          .on_close = c_close};

/* Moves bytes both ways until quiet; records the server stream's largest
 * send buffer (what the file source holds in memory) after every chunk. */
static void watch_buffer(h2_session *from, h2_session *to, const uint8_t *d, size_t n, void *u) {
  (void)from; (void)to; (void)d; (void)n; (void)u;
  if (srv.st && h2_stream_buffer_size(srv.st) > srv.max_buffered)
    srv.max_buffered = h2_stream_buffer_size(srv.st);
}
static void pump(h2_session *c, h2_session *s) {
  api_pump how = {.now = 1, .observe = watch_buffer};
  api_pair_pump(c, s, &how);
}

/* One GET through a fresh session pair. */
static void get(void) {
  free(cli.body);
  memset(&cli, 0, sizeof cli);
  srv.errors = srv.closes = srv.want_trailers = 0;
  srv.max_buffered = 0;
  srv.rc = 12345;
  h2_session *c, *s;
  h2_session_callbacks cc = {0}, sc = {.on_stream = on_stream};
  assert_int_equal(h2_session_new(&c, 0, NULL, &cc, NULL, NULL), 0);
  assert_int_equal(h2_session_new(&s, 1, NULL, &sc, NULL, NULL), 0);
  pump(c, s);
  h2_stream *st;
  h2_header h[] = {H2_HDR(":path", "/file")};
  assert_int_equal(h2_session_request(c, &st, h, 1, H2_END_STREAM, NULL), 0);
  h2_stream_on(st, &c_cbs, NULL);
  pump(c, s);
  h2_session_free(c);
  h2_session_free(s);
}

static char tmpl[64];

/* Writes |len| bytes of a pattern into a new temporary file; returns its
 * content (caller frees). */
static uint8_t *make_file(size_t len) {
  snprintf(tmpl, sizeof tmpl, "/tmp/h2_file_test_XXXXXX");
  int fd = mkstemp(tmpl);
  assert_true(fd >= 0);
  uint8_t *d = malloc(len ? len : 1);
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    d[i] = (uint8_t)x;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, d + off, len - off);
    assert_true(w > 0);
    off += (size_t)w;
  }
  close(fd);
  return d;
}

static void reset_srv(int mode) {
  memset(&srv.opts, 0, sizeof srv.opts);
  srv.use_opts = 0;
  srv.status = NULL;
  srv.mode = mode;
  srv.path = tmpl;
  srv.fd = -1;
}

static void test_whole_file(void **state) {
  (void)state;
  uint8_t *d = make_file(100000);
  reset_srv(M_FILE);
  get();
  assert_int_equal(srv.rc, 0);
  assert_int_equal(cli.status, 200);
  assert_int_equal(cli.content_length, 100000); /* the given 999999 was replaced */
  assert_int_equal(cli.len, 100000);
  assert_memory_equal(cli.body, d, 100000);
  assert_int_equal(cli.ends, 1);
  assert_int_equal(cli.rst, 0);
  assert_int_equal(srv.closes, 1);
  unlink(tmpl);
  free(d);
}

static void test_offset_length(void **state) {
  (void)state;
  uint8_t *d = make_file(70000);
  reset_srv(M_FILE);
  srv.use_opts = 1;
  srv.opts.offset = 1234;
  srv.opts.has_length = 1;
  srv.opts.length = 40000;
  get();
  assert_int_equal(srv.rc, 0);
  assert_int_equal(cli.content_length, 40000);
  assert_int_equal(cli.len, 40000);
  assert_memory_equal(cli.body, d + 1234, 40000);
  /* a length past the end is clamped to the file */
  srv.opts.offset = 60000;
  srv.opts.length = 1u << 30;
  get();
  assert_int_equal(cli.content_length, 10000);
  assert_int_equal(cli.len, 10000);
  assert_memory_equal(cli.body, d + 60000, 10000);
  /* offset only */
  srv.opts.has_length = 0;
  srv.opts.offset = 69999;
  get();
  assert_int_equal(cli.len, 1);
  assert_int_equal(cli.body[0], d[69999]);
  /* offset past the end: refused before anything is sent (then a 500) */
  srv.opts.offset = 70001;
  get();
  assert_int_equal(srv.rc, H2_ERR_INVALID_ARG);
  assert_non_null(strstr(srv.msg, "offset"));
  assert_int_equal(cli.status, 500);
  unlink(tmpl);
  free(d);
}

static void test_empty_file(void **state) {
  (void)state;
  uint8_t *d = make_file(0);
  reset_srv(M_FILE);
  get();
  assert_int_equal(srv.rc, 0);
  assert_int_equal(cli.status, 200);
  assert_int_equal(cli.content_length, 0);
  assert_int_equal(cli.len, 0);
  assert_int_equal(cli.ends, 1);
  assert_int_equal(cli.closes, 1);
  /* with trailers: they still come */
  srv.use_opts = 1;
  srv.opts.flags = H2_WAIT_FOR_TRAILERS;
  get();
  assert_int_equal(srv.want_trailers, 1);
  assert_int_equal(cli.trailers, 1);
  assert_int_equal(cli.len, 0);
  unlink(tmpl);
  free(d);
}

static void test_large_file(void **state) {
  (void)state;
  size_t len = 5u << 20;
  uint8_t *d = make_file(len);
  reset_srv(M_FILE);
  srv.use_opts = 1;
  srv.opts.flags = H2_WAIT_FOR_TRAILERS;
  get();
  assert_int_equal(srv.rc, 0);
  assert_int_equal(cli.content_length, (long)len);
  assert_int_equal(cli.len, len);
  assert_memory_equal(cli.body, d, len);
  assert_int_equal(cli.trailers, 1);
  assert_int_equal(cli.rst, 0);
  /* bounded memory: never more than the source's 4 chunks of 64 KiB */
  assert_true(srv.max_buffered > 0);
  assert_true(srv.max_buffered <= 4 * 65536);
  unlink(tmpl);
  free(d);
}

static void test_missing_and_not_regular(void **state) {
  (void)state;
  reset_srv(M_FILE);
  srv.path = "/nonexistent/h2/file.bin";
  get();
  assert_int_equal(srv.rc, H2_ERR_NOT_FOUND);
  assert_non_null(strstr(srv.msg, "/nonexistent/h2/file.bin"));
  assert_int_equal(cli.status, 404);
  assert_int_equal(cli.len, 0);
  srv.path = "/tmp"; /* a directory */
  get();
  assert_int_equal(srv.rc, H2_ERR_INVALID_ARG);
  assert_non_null(strstr(srv.msg, "not a regular file"));
  assert_int_equal(cli.status, 500);
  /* a FIFO without a writer: refused at once (a blocking open would hang
   * the loop until some writer appeared; the alarm fails the test then) */
  char fifo[] = "/tmp/h2_file_fifo_XXXXXX";
  int tfd = mkstemp(fifo);
  assert_true(tfd >= 0);
  close(tfd);
  unlink(fifo);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  srv.path = fifo;
  alarm(10);
  get();
  alarm(0);
  unlink(fifo);
  assert_int_equal(srv.rc, H2_ERR_INVALID_ARG);
  assert_non_null(strstr(srv.msg, "not a regular file"));
  assert_int_equal(cli.status, 500);
  /* a bad descriptor */
  reset_srv(M_FD);
  srv.fd = 1000000;
  get();
  assert_int_equal(srv.rc, H2_ERR_INVALID_ARG);
  assert_non_null(strstr(srv.msg, "fstat(1000000)"));
  assert_int_equal(cli.status, 500);
}

static void test_fd_not_closed(void **state) {
  (void)state;
  uint8_t *d = make_file(200000);
  int fd = open(tmpl, O_RDONLY);
  assert_true(fd >= 0);
  reset_srv(M_FD);
  srv.fd = fd;
  get();
  assert_int_equal(srv.rc, 0);
  assert_int_equal(cli.len, 200000);
  assert_memory_equal(cli.body, d, 200000);
  assert_int_equal(srv.closes, 1);
  /* still open, file offset untouched (pread) */
  assert_true(fcntl(fd, F_GETFD) >= 0);
  assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
  /* reusable for the next response */
  srv.use_opts = 1;
  srv.opts.offset = 5;
  srv.opts.has_length = 1;
  srv.opts.length = 10;
  get();
  assert_int_equal(cli.len, 10);
  assert_memory_equal(cli.body, d + 5, 10);
  assert_true(fcntl(fd, F_GETFD) >= 0);
  close(fd);
  unlink(tmpl);
  free(d);
}

static void test_pipe(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  const char msg[] = "streamed from a pipe";
  assert_int_equal(write(p[1], msg, sizeof msg - 1), (ssize_t)(sizeof msg - 1));
  close(p[1]);
  reset_srv(M_PIPE);
  srv.fd = p[0];
  get();
  assert_int_equal(srv.rc, 0);
  assert_int_equal(cli.content_length, 999999); /* not a regular file: the caller's value stays */
  assert_int_equal(cli.len, sizeof msg - 1);
  assert_memory_equal(cli.body, msg, sizeof msg - 1);
  assert_true(fcntl(p[0], F_GETFD) >= 0);
  close(p[0]);
}

static int stat_calls;
static int check_add(h2_stream *st, const struct stat *sb, h2_file_headers *fh, void *u) {
  (void)st; (void)u;
  stat_calls++;
  assert_true(S_ISREG(sb->st_mode));
  assert_int_equal(h2_file_headers_add(fh, "Last-Modified", "Tue, 01 Dec 2026 00:00:00 GMT"), 0);
  assert_int_equal(h2_file_headers_add(fh, "", "x"), H2_ERR_INVALID_ARG);
  return 1;
}
static int check_304(h2_stream *st, const struct stat *sb, h2_file_headers *fh, void *u) {
  (void)sb; (void)fh; (void)u;
  stat_calls++;
  h2_header r[] = {H2_HDR(":status", "304")};
  assert_int_equal(h2_stream_respond(st, r, 1, H2_END_STREAM), 0);
  return 0;
}

static void test_stat_check(void **state) {
  (void)state;
  uint8_t *d = make_file(3000);
  reset_srv(M_FILE);
  srv.use_opts = 1;
  srv.opts.stat_check = check_add;
  stat_calls = 0;
  get();
  assert_int_equal(stat_calls, 1);
  assert_int_equal(srv.rc, 0);
  assert_string_equal(cli.last_modified, "Tue, 01 Dec 2026 00:00:00 GMT");
  assert_int_equal(cli.len, 3000);
  srv.opts.stat_check = check_304;
  get();
  assert_int_equal(stat_calls, 2);
  assert_int_equal(srv.rc, H2_FILE_CANCELLED);
  assert_int_equal(cli.status, 304);
  assert_int_equal(cli.len, 0);
  assert_int_equal(cli.rst, 0);
  unlink(tmpl);
  free(d);
}

static void test_truncated_midway(void **state) {
  (void)state;
  uint8_t *d = make_file(1u << 20);
  int fd = open(tmpl, O_RDWR);
  assert_true(fd >= 0);
  reset_srv(M_TRUNCATE);
  srv.fd = fd;
  get();
  assert_int_equal(srv.rc, 0);
  assert_int_equal(cli.content_length, 1 << 20);
  assert_true(cli.len < (1u << 20)); /* what was read before the cut */
  assert_int_equal(cli.rst, 2); /* INTERNAL_ERROR */
  assert_int_equal(cli.ends, 0);
  /* the read error first, then (possibly) the reset it caused */
  assert_true(srv.errors >= 1 && srv.errors <= 2);
  assert_int_equal(srv.first_error, H2_ERR_IO);
  close(fd);
  unlink(tmpl);
  free(d);
}

static void test_bad_status_and_state(void **state) {
  (void)state;
  uint8_t *d = make_file(10);
  h2_session *c, *s;
  h2_session_callbacks cc = {0}, sc = {0};
  assert_int_equal(h2_session_new(&c, 0, NULL, &cc, NULL, NULL), 0);
  assert_int_equal(h2_session_new(&s, 1, NULL, &sc, NULL, NULL), 0);
  h2_stream *st;
  assert_int_equal(h2_session_request(c, &st, NULL, 0, H2_END_STREAM, NULL), 0);
  /* a client stream cannot respond */
  assert_int_equal(h2_stream_respond_with_file(st, tmpl, NULL, 0, NULL), H2_ERR_STATE);
  assert_non_null(strstr(h2_last_error_message(), "server stream"));
  assert_int_equal(h2_stream_respond_with_fd(st, 0, NULL, 0, NULL), H2_ERR_STATE);
  h2_session_free(c);
  h2_session_free(s);
  /* 204 / 304 / 1xx carry no body: refused, then the handler's 500 */
  reset_srv(M_FILE);
  const char *bad[] = {"204", "304", "100"};
  for (int i = 0; i < 3; i++) {
    srv.status = bad[i];
    get();
    assert_int_equal(srv.rc, H2_ERR_INVALID_ARG);
    assert_non_null(strstr(srv.msg, "body"));
    assert_int_equal(cli.status, 500);
  }
  srv.status = "206";
  get();
  assert_int_equal(srv.rc, 0);
  assert_int_equal(cli.status, 206);
  assert_int_equal(cli.len, 10);
  unlink(tmpl);
  free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_whole_file),
    cmocka_unit_test(test_offset_length),
    cmocka_unit_test(test_empty_file),
    cmocka_unit_test(test_large_file),
    cmocka_unit_test(test_missing_and_not_regular),
    cmocka_unit_test(test_fd_not_closed),
    cmocka_unit_test(test_pipe),
    cmocka_unit_test(test_stat_check),
    cmocka_unit_test(test_truncated_midway),
    cmocka_unit_test(test_bad_status_and_state),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  free(cli.body);
  return rc;
}
