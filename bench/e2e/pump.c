/* pump.c: the plain-TCP baseline for the e2e download figure.
 *
 *   pump serve BYTES     listen on 127.0.0.1 (free port), print the port on
 *                        stdout, accept one connection, write BYTES bytes from
 *                        memory, close, print "cpu_ms=T" (its own user + system
 *                        time) on stderr, exit.
 *   pump serve-file PATH the same, but the bytes are PATH's, read with 64 KiB
 *                        preads into one buffer (what any file server must
 *                        do without zero-copy: the page-cache copy)
 *   pump fetch PORT      connect to 127.0.0.1:PORT, read until EOF, print
 *                        "bytes=N seconds=S mib_per_s=R" (timed from before
 *                        connect() to EOF, like an HTTP client would be).
 *
 * Built by bench/e2e.sh with cc; not part of the library. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* serve: |path| NULL sends |total| bytes from one memory buffer; else the
 * file's bytes, read with pread. */
static int serve(unsigned long long total, const char *path) {
  int fd = -1;
  if (path) {
    fd = open(path, O_RDONLY);
    off_t end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
    if (fd < 0 || end < 0) { perror(path); return 1; }
    total = (unsigned long long)end;
  }
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  if (ls < 0) { perror("socket"); return 1; }
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0 ||
      getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
    perror("bind/listen");
    return 1;
  }
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  int s = accept(ls, NULL, NULL);
  if (s < 0) { perror("accept"); return 1; }
  static char buf[1 << 16];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(i * 131u);
  unsigned long long off = 0;
  while (total > 0) {
    size_t n = total < sizeof buf ? (size_t)total : sizeof buf;
    if (fd >= 0) {
      ssize_t r = pread(fd, buf, n, (off_t)off);
      if (r <= 0) { perror("pread"); return 1; }
      n = (size_t)r;
    }
    ssize_t w = write(s, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      perror("write");
      return 1;
    }
    total -= (unsigned long long)w;
    off += (unsigned long long)w;
  }
  if (fd >= 0) close(fd);
  close(s);
  close(ls);
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    fprintf(stderr, "cpu_ms=%.3f\n", (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                                         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
  return 0;
}

static int fetch(int port) {
  double t0 = now_s();
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 1; }
  static char buf[1 << 16];
  unsigned long long got = 0;
  for (;;) {
    ssize_t r = read(s, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      perror("read");
      return 1;
    }
    if (r == 0) break;
    got += (unsigned long long)r;
  }
  double dt = now_s() - t0;
  printf("bytes=%llu seconds=%.6f mib_per_s=%.1f\n", got, dt, (double)got / 1048576.0 / dt);
  close(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "serve")) return serve(strtoull(argv[2], NULL, 10), NULL);
  if (argc == 3 && !strcmp(argv[1], "serve-file")) return serve(0, argv[2]);
  if (argc == 3 && !strcmp(argv[1], "fetch")) return fetch(atoi(argv[2]));
  fprintf(stderr, "usage: pump serve BYTES | pump serve-file PATH | pump fetch PORT\n");
  return 2;
}
