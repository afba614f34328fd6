/* pump.c: the plain-TCP baseline for the e2e download figure.
 *
 *   pump serve BYTES     listen on 127.0.0.1 (free port), print the port on
 *                        stdout, accept one connection, write BYTES bytes from
 *                        memory, close, print "cpu_ms=T" (its own user + system
 *                        time) on stderr, exit.
 *   pump serve-file PATH the same, but the bytes are PATH's, read with 64 KiB
 *                        preads into one buffer (what any file server must
 *                        do without zero-copy: the page-cache copy)
 *   pump serve-h2 BYTES  the memory pump speaking just enough HTTP/2 for h2load
 *                        (h2c prior knowledge): it reads the client's preface,
 *                        SETTINGS, WINDOW_UPDATE and first HEADERS, answers
 *                        SETTINGS, SETTINGS ACK, HEADERS (:status 200) and
 *                        BYTES of DATA in 16 KiB frames from the same memory
 *                        buffer, four frames per writev, and refuses (exit 1)
 *                        if the client's flow-control windows are smaller
 *                        than BYTES (it sends no more than they allow and
 *                        reads nothing while sending). The HTTP/2 ceiling of
 *                        a client like h2load: no file, no engine.
 *   pump serve-h2-file PATH  the same with PATH's bytes (64 KiB preads)
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
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* write_all: writes the |n| iovecs completely (blocking socket); 0 or -1. */
static int write_all(int s, struct iovec *v, int n) {
  while (n > 0) {
    ssize_t w = writev(s, v, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      perror("writev");
      return -1;
    }
    while (n > 0 && (size_t)w >= v->iov_len) {
      w -= (ssize_t)v->iov_len;
      v++;
      n--;
    }
    if (n > 0) {
      v->iov_base = (char *)v->iov_base + w;
      v->iov_len -= (size_t)w;
    }
  }
  return 0;
}

static unsigned get24(const unsigned char *p) { return (unsigned)p[0] << 16 | (unsigned)p[1] << 8 | p[2]; }
static unsigned long get32(const unsigned char *p) {
  return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

/* h2_accept: reads the client's first frames until its first HEADERS (all
 * within 64 KiB, checked frame by frame), answers SETTINGS + ACK + HEADERS
 * on that stream; *sid is the stream. -1 if the client is not h2load-like
 * or its windows cannot take |total| bytes. */
static int h2_accept(int s, unsigned long long total, unsigned long *sid) {
  static unsigned char in[1 << 16];
  size_t got = 0, pos = 24;
  unsigned long long conn_win = 65535, stream_win = 65535;
  for (;;) {
    ssize_t r = read(s, in + got, sizeof in - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) { fprintf(stderr, "pump: client closed before HEADERS\n"); return -1; }
    got += (size_t)r;
    if (got >= 24 && memcmp(in, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) != 0) {
      fprintf(stderr, "pump: no HTTP/2 preface\n");
      return -1;
    }
    while (got >= 24 && got - pos >= 9) {
      size_t len = get24(in + pos);
      if (got - pos - 9 < len) break;
      const unsigned char *f = in + pos, *pl = f + 9;
      unsigned long id = get32(f + 5) & 0x7fffffffUL;
      if (f[3] == 4 && !(f[4] & 1)) /* SETTINGS: INITIAL_WINDOW_SIZE */
        for (size_t i = 0; i + 6 <= len; i += 6)
          if ((pl[i] << 8 | pl[i + 1]) == 4) stream_win = get32(pl + i + 2);
      if (f[3] == 8 && len == 4 && id == 0) conn_win += get32(pl) & 0x7fffffffUL;
      if (f[3] == 1) {
        if (!(f[4] & 4)) { fprintf(stderr, "pump: CONTINUATION not supported\n"); return -1; }
        if (total > conn_win || total > stream_win) {
          fprintf(stderr, "pump: client windows %llu/%llu < %llu bytes\n", conn_win, stream_win, total);
          return -1;
        }
        *sid = id;
        unsigned char out[] = {0, 0, 0, 4, 0, 0, 0, 0, 0,    /* SETTINGS */
                               0, 0, 0, 4, 1, 0, 0, 0, 0,    /* SETTINGS ACK */
                               0, 0, 1, 1, 4, 0, 0, 0, 0, 0x88}; /* HEADERS :status 200 */
        out[23] = (unsigned char)(id >> 24);
        out[24] = (unsigned char)(id >> 16);
        out[25] = (unsigned char)(id >> 8);
        out[26] = (unsigned char)id;
        struct iovec v = {out, sizeof out};
        return write_all(s, &v, 1);
      }
      pos += 9 + len;
    }
    if (got == sizeof in) { fprintf(stderr, "pump: no HEADERS in 64 KiB\n"); return -1; }
  }
}

/* send_h2: |n| bytes of |buf| as DATA frames of at most 16 KiB on |sid|,
 * END_STREAM on the last if |last|. */
static int send_h2(int s, const char *buf, size_t n, unsigned long sid, int last) {
  unsigned char hd[4][9];
  struct iovec v[8];
  int k = 0;
  for (size_t o = 0; o < n; o += 16384) {
    size_t l = n - o < 16384 ? n - o : 16384;
    unsigned char *h = hd[k / 2];
    h[0] = 0;
    h[1] = (unsigned char)(l >> 8);
    h[2] = (unsigned char)l;
    h[3] = 0;
    h[4] = last && o + l == n ? 1 : 0;
    h[5] = (unsigned char)(sid >> 24);
    h[6] = (unsigned char)(sid >> 16);
    h[7] = (unsigned char)(sid >> 8);
    h[8] = (unsigned char)sid;
    v[k].iov_base = h;
    v[k++].iov_len = 9;
    v[k].iov_base = (void *)(buf + o);
    v[k++].iov_len = l;
  }
  return write_all(s, v, k);
}

/* serve: |path| NULL sends |total| bytes from one memory buffer; else the
 * file's bytes, read with pread. |h2|: as HTTP/2 DATA frames after
 * h2_accept. */
static int serve(unsigned long long total, const char *path, int h2) {
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
  unsigned long sid = 0;
  if (h2 && h2_accept(s, total, &sid) < 0) return 1;
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
    if (h2) {
      if (send_h2(s, buf, n, sid, total == n) < 0) return 1;
      total -= n;
      off += n;
      continue;
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
  if (h2) { /* the client closes (GOAWAY then EOF); at most 5 s */
    struct timeval tv = {5, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char t[4096];
    while (read(s, t, sizeof t) > 0) {}
  }
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
  if (argc == 3 && !strcmp(argv[1], "serve")) return serve(strtoull(argv[2], NULL, 10), NULL, 0);
  if (argc == 3 && !strcmp(argv[1], "serve-file")) return serve(0, argv[2], 0);
  if (argc == 3 && !strcmp(argv[1], "serve-h2")) return serve(strtoull(argv[2], NULL, 10), NULL, 1);
  if (argc == 3 && !strcmp(argv[1], "serve-h2-file")) return serve(0, argv[2], 1);
  if (argc == 3 && !strcmp(argv[1], "fetch")) return fetch(atoi(argv[2]));
  fprintf(stderr, "usage: pump serve|serve-h2 BYTES | pump serve-file|serve-h2-file PATH | pump fetch PORT\n");
  return 2;
}
