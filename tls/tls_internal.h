/* tls_internal.h: structures shared by the tls/ files. Not a public header. */
#ifndef H2_TLS_INTERNAL_H
#define H2_TLS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/mem.h>
#include <openssl/ssl.h>

#include "h2_tls.h"

#define H2_TLS_MAX_CERTS 32
#define H2_TLS_MAX_SESSIONS 64
#define H2_TLS_ERRMSG_LEN 512
#define H2_TLS_IN_CAP (32 * 1024)
#define H2_TLS_OUT_LIMIT (256 * 1024)

/* One certificate with its key. certs[0].sctx is the context's base SSL_CTX
 * (the one connections are created from); the others are switched to by SNI. */
typedef struct tls_cert {
  SSL_CTX *sctx;
  X509 *leaf;            /* owned reference */
  STACK_OF(X509) *chain; /* intermediates, owned, may be NULL */
  EVP_PKEY *key;         /* owned reference */
} tls_cert;

typedef struct tls_session {
  char *name;
  SSL_SESSION *sess;
  uint64_t stamp;
} tls_session;

struct h2_tls_ctx {
  /* The owner's reference plus one per live h2_tls_conn: the context goes
   * when h2_tls_ctx_free has been called and the last connection is freed
   * (connections use its SSL_CTX and BIO method to the end). */
  atomic_uint refs;
  h2_tls_role role;
  SSL_CTX *base;
  BIO_METHOD *bio_method;
  tls_cert certs[H2_TLS_MAX_CERTS];
  size_t num_certs;
  unsigned alpn;        /* H2_TLS_ALPN_* */
  uint16_t min_version, max_version;
  int insecure;
  int client_auth;            /* server: H2_TLS_CLIENT_AUTH_* */
  X509_STORE *client_store;   /* server: CAs trusted for client certificates */
  int keylog_fd;        /* -1 when off */
  int cache_on;
  pthread_mutex_t lock; /* guards sessions and stamp */
  tls_session sessions[H2_TLS_MAX_SESSIONS];
  uint64_t stamp;
  char err[H2_TLS_ERRMSG_LEN];
};

/* tls_ctx_release drops one reference to |ctx|; the last one frees it. */
void tls_ctx_release(h2_tls_ctx *ctx);

struct h2_tls_conn {
  h2_tls_ctx *ctx;
  SSL *ssl;
  uint8_t *in;
  size_t in_off, in_len;
  uint8_t *out;
  size_t out_off, out_len, out_cap;
  int eof;      /* transport EOF seen */
  int done;     /* handshake complete and accepted */
  int failed;   /* sticky negative h2_err after a fatal failure */
  int closed;   /* close_notify queued */
  int cert_requested; /* client: the server asked for a client certificate */
  h2_tls_proto proto;
  char *server_name; /* client: the name given; NULL for servers */
  char note[160];    /* why a callback failed the handshake ("" if none) */
  char err[H2_TLS_ERRMSG_LEN];
};

/* Every allocation of tls/ goes through BoringSSL's OPENSSL_malloc family,
 * so one allocator (and a test's failure injection through BoringSSL's
 * OPENSSL_memory_alloc hook) sees all of them. */
static inline void *tls_zalloc(size_t n) {
  void *p = OPENSSL_malloc(n);
  if (p != NULL) memset(p, 0, n);
  return p;
}

/* tls_set_err formats a message into |buf| (H2_TLS_ERRMSG_LEN bytes), then
 * appends the BoringSSL error queue (which it clears) when |with_queue|. */
void tls_set_err(char *buf, int with_queue, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* tls_configure_sslctx applies the context's policy (versions, ciphers,
 * groups, ALPN, callbacks, keylog) to |sctx|. Returns 1 or 0. */
int tls_configure_sslctx(h2_tls_ctx *ctx, SSL_CTX *sctx);

/* tls_session_take returns a new reference to the cached session for |name|
 * (removing it from the cache when single use), or NULL. */
SSL_SESSION *tls_session_take(h2_tls_ctx *ctx, const char *name);

/* tls_bio_method_new returns the BIO_METHOD that connects an SSL to the
 * h2_tls_conn byte buffers, or NULL. */
BIO_METHOD *tls_bio_method_new(void);

/* tls_is_ip_literal returns 1 if |name| is an IPv4 or IPv6 address literal. */
int tls_is_ip_literal(const char *name);

#endif
