/* session_info.c: what a session can tell about its socket and TLS
 * connection (the read-only half of Node's socket proxy). Asked from the
 * socket at the time of the call, so an idle session stores nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "session_internal.h"

static int fill_address(const struct sockaddr_storage *ss, h2_address *out) {
  memset(out, 0, sizeof *out);
  out->family = ss->ss_family;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    out->port = ntohs(a->sin_port);
    if (!inet_ntop(AF_INET, &a->sin_addr, out->address, sizeof out->address)) return H2_ERR_IO;
    return 0;
  }
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    out->port = ntohs(a->sin6_port);
    if (!inet_ntop(AF_INET6, &a->sin6_addr, out->address, sizeof out->address)) return H2_ERR_IO;
    return 0;
  }
  if (ss->ss_family == AF_UNIX) {
    const struct sockaddr_un *a = (const struct sockaddr_un *)ss;
    size_t n = strnlen(a->sun_path, sizeof a->sun_path);
    if (n >= sizeof out->address) n = sizeof out->address - 1;
    memcpy(out->address, a->sun_path, n);
    return 0;
  }
  errno = EAFNOSUPPORT;
  return H2_ERR_IO;
}

static int session_address(const h2_session *s, h2_address *out, int peer) {
  if (s == NULL || out == NULL) return H2_ERR_INVALID_ARG;
  memset(out, 0, sizeof *out);
  if (s->xp == NULL || s->transport_gone) return H2_ERR_STATE;
  int fd = h2_xport_fd(s->xp);
  if (fd < 0) return H2_ERR_STATE;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
               : getsockname(fd, (struct sockaddr *)&ss, &len);
  if (r != 0) return H2_ERR_IO;
  return fill_address(&ss, out);
}

int h2_session_remote_address(const h2_session *s, h2_address *out) {
  return session_address(s, out, 1);
}

int h2_session_local_address(const h2_session *s, h2_address *out) {
  return session_address(s, out, 0);
}

/* done_tls returns the session's TLS connection once its handshake is
 * done, else NULL. */
static h2_tls_conn *done_tls(const h2_session *s) {
  if (s == NULL || s->xp == NULL || s->transport_gone) return NULL;
  h2_tls_conn *c = h2_xport_tls(s->xp);
  return c != NULL && h2_tls_conn_handshake_done(c) ? c : NULL;
}

const char *h2_session_tls_version(const h2_session *s) {
  h2_tls_conn *c = done_tls(s);
  return c ? h2_tls_conn_version(c) : NULL;
}

const char *h2_session_tls_cipher(const h2_session *s) {
  h2_tls_conn *c = done_tls(s);
  return c ? h2_tls_conn_cipher(c) : NULL;
}

const char *h2_session_servername(const h2_session *s) {
  h2_tls_conn *c = done_tls(s);
  return c ? h2_tls_conn_server_name(c) : NULL;
}

int h2_session_peer_certificate(const h2_session *s, uint8_t *buf, size_t cap, size_t *len) {
  if (len == NULL) return H2_ERR_INVALID_ARG;
  *len = 0;
  h2_tls_conn *c = done_tls(s);
  if (c == NULL) return H2_ERR_STATE;
  return h2_tls_conn_peer_cert(c, buf, cap, len);
}
