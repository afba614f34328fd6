/* test_api_server.c: h2_server on a real loop over 127.0.0.1: a listener
 * whose accept() fails with EMFILE is paused (the loop does not spin) and
 * accepts again once descriptors are free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "h2.h"
#include "h2_loop.h"

#define NCLIENTS 3
#define MAX_FILL 4096

typedef struct ctx {
  int errors;
  int last_err;
  char last_msg[128];
} ctx;

static void on_session_error(h2_server *srv, int err, const char *msg, void *user) {
  (void)srv;
  ctx *c = user;
  c->errors++;
  c->last_err = err;
  snprintf(c->last_msg, sizeof c->last_msg, "%s", msg);
}

static void on_stop(h2_loop_timer *t, void *user) {
  (void)t;
  h2_loop_stop(user);
}

static void on_tick(h2_loop_timer *t, void *user) { (void)t; (void)user; }

static int connect_client(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* Loopback connect to a listening socket completes in the kernel's
   * accept queue without the server calling accept(). */
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static uint64_t cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
         (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void test_accept_emfile_pauses(void **state) {
  (void)state;
  h2_loop *loop;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  ctx c;
  memset(&c, 0, sizeof c);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.on_session_error = on_session_error;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, loop, NULL, &cbs, &c), 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);
  assert_true(port > 0);

  /* A soft limit just above the descriptors open now, so that filling the
   * table takes a bounded number of fds. */
  struct rlimit old;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(probe >= 0);
  close(probe);
  struct rlimit low = old;
  low.rlim_cur = (rlim_t)probe + 64;
  if (low.rlim_cur > old.rlim_cur) low.rlim_cur = old.rlim_cur;
  assert_true(low.rlim_cur <= MAX_FILL);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);

  static int fill[MAX_FILL];
  int nfill = 0;
  while (nfill < MAX_FILL) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fill[nfill++] = fd;
  }
  assert_int_equal(errno, EMFILE);
  assert_true(nfill > NCLIENTS);
  /* Free exactly enough for the client ends; the server ends then hit EMFILE. */
  int cl[NCLIENTS];
  for (int i = 0; i < NCLIENTS; i++) {
    close(fill[--nfill]);
    cl[i] = connect_client(port);
    assert_true(cl[i] >= 0);
  }
  assert_int_equal(open("/dev/null", O_RDONLY), -1);

  /* 500 ms with the accept queue non-empty and no fd to accept into. */
  h2_loop_timer stop, tick;
  h2_loop_timer_init(loop, &stop, on_stop, loop);
  h2_loop_timer_init(loop, &tick, on_tick, NULL);
  h2_loop_stats st0, st1;
  h2_loop_get_stats(loop, &st0);
  uint64_t cpu0 = cpu_us();
  assert_int_equal(h2_loop_timer_start(&stop, 500, 0), 0);
  assert_true(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT) >= 0);
  uint64_t cpu1 = cpu_us();
  h2_loop_get_stats(loop, &st1);
  uint64_t iters = st1.iterations - st0.iterations;
  print_message("EMFILE window: %llu loop iterations, %llu us CPU, %d report(s): %s\n",
                (unsigned long long)iters, (unsigned long long)(cpu1 - cpu0), c.errors, c.last_msg);
  /* A spinning loop runs hundreds of thousands of iterations here; paused,
   * it wakes about once per retry (every 100 ms). */
  assert_true(iters < 50);
  assert_true(cpu1 - cpu0 < 250000);
  assert_int_equal(c.errors, 1); /* reported once, not once per retry */
  assert_non_null(strstr(c.last_msg, "accept"));
  assert_int_equal(h2_server_num_sessions(srv), 0);

  /* Free the descriptors: the paused listener resumes and accepts all. */
  for (int i = 0; i < nfill; i++) close(fill[i]);
  nfill = 0;
  assert_int_equal(h2_loop_timer_start(&tick, 20, 20), 0);
  for (int i = 0; i < 200 && h2_server_num_sessions(srv) < NCLIENTS; i++)
    assert_true(h2_loop_run(loop, H2_LOOP_RUN_ONCE) >= 0);
  assert_int_equal(h2_server_num_sessions(srv), NCLIENTS);
  for (int i = 0; i < 10; i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  /* Each accepted connection is a working session: it sent SETTINGS. */
  for (int i = 0; i < NCLIENTS; i++) {
    uint8_t buf[64];
    ssize_t n = recv(cl[i], buf, sizeof buf, MSG_DONTWAIT);
    assert_true(n >= 9);
    assert_int_equal(buf[3], 0x4); /* SETTINGS */
  }
  assert_int_equal(c.errors, 1);

  /* Fail again after a success: reported again (once per episode). */
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  while (nfill < MAX_FILL) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fill[nfill++] = fd;
  }
  close(fill[--nfill]);
  int extra = connect_client(port);
  assert_true(extra >= 0);
  assert_int_equal(h2_loop_timer_start(&stop, 250, 0), 0);
  assert_true(h2_loop_run(loop, H2_LOOP_RUN_DEFAULT) >= 0);
  assert_int_equal(c.errors, 2);
  for (int i = 0; i < nfill; i++) close(fill[i]);
  nfill = 0;
  for (int i = 0; i < 200 && h2_server_num_sessions(srv) < NCLIENTS + 1; i++)
    assert_true(h2_loop_run(loop, H2_LOOP_RUN_ONCE) >= 0);
  assert_int_equal(h2_server_num_sessions(srv), NCLIENTS + 1);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);

  /* Closing the server while paused stops the retry timer. */
  close(extra);
  for (int i = 0; i < NCLIENTS; i++) close(cl[i]);
  h2_loop_timer_stop(&tick);
  h2_loop_timer_stop(&stop);
  h2_server_free(srv);
  for (int i = 0; i < 50 && h2_loop_alive(loop); i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  assert_int_equal(h2_loop_alive(loop), 0);
  h2_loop_free(loop);
}

/* h2_server_close while the listener is paused: the resume timer is
 * stopped with it and the loop ends. */
static void test_close_while_paused(void **state) {
  (void)state;
  h2_loop *loop;
  assert_int_equal(h2_loop_new(&loop, NULL), 0);
  ctx c;
  memset(&c, 0, sizeof c);
  h2_server_callbacks cbs;
  memset(&cbs, 0, sizeof cbs);
  cbs.on_session_error = on_session_error;
  h2_server *srv;
  assert_int_equal(h2_server_new(&srv, loop, NULL, &cbs, &c), 0);
  int li = h2_server_listen(srv, "127.0.0.1", 0, NULL);
  assert_true(li >= 0);
  uint16_t port = h2_server_port(srv, li);
  struct rlimit old;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(probe >= 0);
  close(probe);
  struct rlimit low = old;
  low.rlim_cur = (rlim_t)probe + 16;
  if (low.rlim_cur > old.rlim_cur) low.rlim_cur = old.rlim_cur;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  static int fill[MAX_FILL];
  int nfill = 0;
  while (nfill < MAX_FILL) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fill[nfill++] = fd;
  }
  close(fill[--nfill]);
  int cfd = connect_client(port);
  assert_true(cfd >= 0);
  for (int i = 0; i < 5 && c.errors == 0; i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  assert_int_equal(c.errors, 1);
  assert_int_equal(h2_loop_alive(loop), 1); /* the resume timer */
  h2_server_close(srv, NULL);
  for (int i = 0; i < 20 && h2_loop_alive(loop); i++) h2_loop_run(loop, H2_LOOP_RUN_NOWAIT);
  assert_int_equal(h2_loop_alive(loop), 0);
  for (int i = 0; i < nfill; i++) close(fill[i]);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
  close(cfd);
  h2_server_free(srv);
  h2_loop_free(loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_accept_emfile_pauses),
    cmocka_unit_test(test_close_while_paused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
