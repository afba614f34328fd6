/* tls_conn.c: h2_tls_conn: one TLS connection as a byte transformer. A
 * custom BIO reads ciphertext from the connection's input buffer and appends
 * ciphertext to its output buffer; the caller moves those bytes to and from
 * the socket. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_internal.h"

/* Output may exceed H2_TLS_OUT_LIMIT (handshake flights, alerts), but never
 * this: a peer cannot make us buffer more if the caller stops flushing. */
#define OUT_HARD_CAP (4 * 1024 * 1024)

/* ---- BIO ---------------------------------------------------------------- */

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static int bio_read(BIO *b, char *out, int len) {
  h2_tls_conn *c = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (c == NULL || len <= 0) return 0;
  size_t avail = c->in_len - c->in_off;
  if (avail == 0) {
    if (c->eof) return 0;
    BIO_set_retry_read(b);
    return -1;
  }
  size_t n = avail < (size_t)len ? avail : (size_t)len;
  memcpy(out, c->in + c->in_off, n);
  c->in_off += n;
  if (c->in_off == c->in_len) c->in_off = c->in_len = 0;
  return (int)n;
}

static int out_reserve(h2_tls_conn *c, size_t extra) {
  if (c->out_off > 0 && c->out_len + extra > c->out_cap) {
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
  }
  if (c->out_len + extra <= c->out_cap) return 1;
  if (extra > OUT_HARD_CAP - c->out_len) return 0;
  size_t cap = c->out_cap ? c->out_cap : 16 * 1024;
  while (cap < c->out_len + extra) cap *= 2;
  if (cap > OUT_HARD_CAP) cap = OUT_HARD_CAP;
  uint8_t *p = OPENSSL_realloc(c->out, cap);
  if (p == NULL) return 0;
  c->out = p;
  c->out_cap = cap;
  return 1;
}

static int bio_write(BIO *b, const char *in, int len) {
  h2_tls_conn *c = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (c == NULL || len < 0) return -1;
  if (len == 0) return 0;
  if (!out_reserve(c, (size_t)len)) return -1;
  memcpy(c->out + c->out_len, in, (size_t)len);
  c->out_len += (size_t)len;
  return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b;
  (void)num;
  (void)ptr;
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

BIO_METHOD *tls_bio_method_new(void) {
  BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(), "h2_tls buffers");
  if (m == NULL) return NULL;
  if (!BIO_meth_set_create(m, bio_create) || !BIO_meth_set_read(m, bio_read) ||
      !BIO_meth_set_write(m, bio_write) || !BIO_meth_set_ctrl(m, bio_ctrl)) {
    BIO_meth_free(m);
    return NULL;
  }
  return m;
}

/* ---- lifetime ----------------------------------------------------------- */

h2_tls_conn *h2_tls_conn_new(h2_tls_ctx *ctx, const char *server_name) {
  if (ctx->role == H2_TLS_SERVER && server_name != NULL) {
    tls_set_err(ctx->err, 0, "a server connection takes no server name");
    return NULL;
  }
  if (ctx->role == H2_TLS_CLIENT && server_name == NULL && !ctx->insecure) {
    tls_set_err(ctx->err, 0, "a client connection needs the server name to verify");
    return NULL;
  }
  if (ctx->role == H2_TLS_SERVER && ctx->num_certs == 0) {
    tls_set_err(ctx->err, 0, "the server context has no certificate");
    return NULL;
  }
  ERR_clear_error();
  h2_tls_conn *c = tls_zalloc(sizeof *c);
  if (c == NULL) goto nomem;
  c->ctx = ctx;
  atomic_fetch_add(&ctx->refs, 1);
  c->in = OPENSSL_malloc(H2_TLS_IN_CAP);
  if (c->in == NULL) goto nomem;
  if (server_name != NULL && (c->server_name = OPENSSL_strdup(server_name)) == NULL) goto nomem;
  c->ssl = SSL_new(ctx->base);
  BIO *bio = BIO_new(ctx->bio_method);
  if (c->ssl == NULL || bio == NULL) {
    BIO_free(bio);
    goto nomem;
  }
  BIO_set_data(bio, c);
  SSL_set_bio(c->ssl, bio, bio); /* one reference, owned by the SSL */
  SSL_set_app_data(c->ssl, c);
  if (ctx->role == H2_TLS_SERVER) {
    SSL_set_accept_state(c->ssl);
    return c;
  }
  SSL_set_connect_state(c->ssl);
  SSL_set_renegotiate_mode(c->ssl, ssl_renegotiate_never);
  int ip = server_name != NULL && tls_is_ip_literal(server_name);
  if (server_name != NULL && !ip && !SSL_set_tlsext_host_name(c->ssl, server_name)) {
    tls_set_err(ctx->err, 1, "invalid server name '%s'", server_name);
    h2_tls_conn_free(c);
    return NULL;
  }
  if (ctx->insecure) {
    SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
  } else {
    X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name)
                : X509_VERIFY_PARAM_set1_host(param, server_name, strlen(server_name));
    if (!ok) {
      tls_set_err(ctx->err, 1, "cannot set the name to verify '%s'", server_name);
      h2_tls_conn_free(c);
      return NULL;
    }
  }
  SSL_SESSION *sess = tls_session_take(ctx, server_name);
  if (sess != NULL) {
    SSL_set_session(c->ssl, sess); /* failure just means a full handshake */
    SSL_SESSION_free(sess);
    ERR_clear_error();
  }
  return c;
nomem:
  tls_set_err(ctx->err, 0, "out of memory creating a TLS connection");
  h2_tls_conn_free(c);
  return NULL;
}

void h2_tls_conn_free(h2_tls_conn *c) {
  if (c == NULL) return;
  SSL_free(c->ssl); /* frees the BIO too */
  OPENSSL_free(c->in);
  OPENSSL_free(c->out);
  OPENSSL_free(c->server_name);
  h2_tls_ctx *ctx = c->ctx;
  OPENSSL_free(c);
  if (ctx != NULL) tls_ctx_release(ctx);
}

const char *h2_tls_conn_errmsg(const h2_tls_conn *c) { return c->err; }

struct ssl_st *h2_tls_conn_ssl(h2_tls_conn *c) { return c->ssl; }

/* ---- buffers ------------------------------------------------------------ */

uint8_t *h2_tls_conn_in_space(h2_tls_conn *c, size_t *out_cap) {
  if (c->in_off > 0) {
    memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
    c->in_len -= c->in_off;
    c->in_off = 0;
  }
  *out_cap = H2_TLS_IN_CAP - c->in_len;
  return c->in + c->in_len;
}

int h2_tls_conn_in_commit(h2_tls_conn *c, size_t n) {
  if (c->in_off != 0 || n > H2_TLS_IN_CAP - c->in_len) {
    tls_set_err(c->err, 0, "in_commit of %zu bytes exceeds the space given", n);
    return H2_ERR_INVALID_ARG;
  }
  c->in_len += n;
  return 0;
}

size_t h2_tls_conn_feed(h2_tls_conn *c, const uint8_t *in, size_t in_len) {
  size_t cap;
  uint8_t *p = h2_tls_conn_in_space(c, &cap);
  size_t n = in_len < cap ? in_len : cap;
  if (n > 0) memcpy(p, in, n);
  c->in_len += n;
  return n;
}

void h2_tls_conn_in_eof(h2_tls_conn *c) { c->eof = 1; }

const uint8_t *h2_tls_conn_out_peek(h2_tls_conn *c, size_t *out_len) {
  *out_len = c->out_len - c->out_off;
  return *out_len ? c->out + c->out_off : NULL;
}

void h2_tls_conn_out_consume(h2_tls_conn *c, size_t n) {
  size_t pending = c->out_len - c->out_off;
  if (n >= pending)
    c->out_off = c->out_len = 0;
  else
    c->out_off += n;
}

size_t h2_tls_conn_out_pending(const h2_tls_conn *c) { return c->out_len - c->out_off; }

/* ---- errors ------------------------------------------------------------- */

/* Empties the thread's error queue before an SSL call whose failure is read
 * with SSL_get_error. The queue is nearly always empty already: peeking
 * (one thread-local lookup) costs a tenth of ERR_clear_error, which wipes
 * every slot, and this runs once per record read or written. */
static void clear_errors(void) {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

/* fail records why an SSL call returning |ret| failed and returns the h2_err.
 * Fatal failures are sticky. */
static int fail(h2_tls_conn *c, int ret, const char *what) {
  int e = SSL_get_error(c->ssl, ret);
  if (e == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    tls_set_err(c->err, 0, "the peer closed the TLS connection (close_notify)");
    return H2_ERR_EOF;
  }
  if (e == SSL_ERROR_SYSCALL && c->eof && ERR_peek_error() == 0) {
    tls_set_err(c->err, 0, "the transport closed without close_notify%s",
                c->done ? "" : " during the handshake");
    c->failed = H2_ERR_EOF;
    return H2_ERR_EOF;
  }
  c->failed = H2_ERR_TLS;
  uint32_t first = ERR_peek_error();
  if (c->note[0] != '\0' && !c->done) {
    /* A callback (ALPN) already said why; keep it, add the queue. */
    tls_set_err(c->err, 1, "TLS %s failed: %s", what, c->note);
  } else if (ERR_GET_LIB(first) == ERR_LIB_SSL && c->ctx->role == H2_TLS_SERVER &&
             ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long vr = SSL_get_verify_result(c->ssl);
    tls_set_err(c->err, 1, "TLS %s failed: client certificate verification failed: %s", what,
                X509_verify_cert_error_string(vr));
  } else if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
             ERR_GET_REASON(first) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    tls_set_err(c->err, 1, "TLS %s failed: the client sent no certificate (one is required)", what);
  } else if (ERR_GET_LIB(first) == ERR_LIB_SSL && c->ctx->role == H2_TLS_CLIENT &&
             ERR_GET_REASON(first) == SSL_R_TLSV1_ALERT_CERTIFICATE_REQUIRED) {
    tls_set_err(c->err, 1, "TLS %s failed: the server requires a client certificate", what);
  } else if (ERR_GET_LIB(first) == ERR_LIB_SSL && c->ctx->role == H2_TLS_CLIENT && c->cert_requested &&
             c->ctx->num_certs == 0 && ERR_GET_REASON(first) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE) {
    tls_set_err(c->err, 1,
                "TLS %s failed: the server asked for a client certificate and this client has none", what);
  } else if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
             ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long vr = SSL_get_verify_result(c->ssl);
    tls_set_err(c->err, 1, "TLS %s failed: certificate verification failed for '%s': %s", what,
                c->server_name ? c->server_name : "", X509_verify_cert_error_string(vr));
  } else if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
             ERR_GET_REASON(first) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
    tls_set_err(c->err, 1, "TLS %s failed: no common ALPN protocol (the server refused \"h2\")",
                what);
  } else if (c->ctx->role == H2_TLS_SERVER && !c->done &&
             SSL_version(c->ssl) == TLS1_3_VERSION &&
             ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC) {
    /* TLS 1.3 clients that reject the certificate often send their alert
     * before switching keys, so it arrives as an unreadable record. */
    tls_set_err(c->err, 1,
                "TLS %s failed: the client sent an unreadable record after our certificate; "
                "most likely it does not trust the certificate", what);
  } else if (e == SSL_ERROR_SYSCALL) {
    tls_set_err(c->err, 1, "TLS %s failed: buffer I/O failure (out of memory or output limit)",
                what);
  } else {
    tls_set_err(c->err, 1, "TLS %s failed", what);
  }
  return H2_ERR_TLS;
}

/* ---- handshake ---------------------------------------------------------- */

static int finish_handshake(h2_tls_conn *c) {
  const uint8_t *p;
  unsigned len;
  SSL_get0_alpn_selected(c->ssl, &p, &len);
  if (len == 2 && memcmp(p, "h2", 2) == 0) {
    c->proto = H2_TLS_PROTO_H2;
  } else if (len == 8 && memcmp(p, "http/1.1", 8) == 0 && (c->ctx->alpn & H2_TLS_ALPN_HTTP11)) {
    c->proto = H2_TLS_PROTO_HTTP11;
  } else if (len == 0 && (c->ctx->alpn & H2_TLS_ALPN_HTTP11)) {
    c->proto = H2_TLS_PROTO_HTTP11; /* no ALPN at all: an HTTP/1.1 peer */
  } else {
    tls_set_err(c->err, 0, "TLS handshake failed: %s",
                c->ctx->role == H2_TLS_SERVER
                    ? "the client did not negotiate ALPN \"h2\" (h2 is required)"
                    : "the server did not select ALPN \"h2\" (h2 is required)");
    SSL_send_fatal_alert(c->ssl, SSL_AD_NO_APPLICATION_PROTOCOL);
    ERR_clear_error();
    c->failed = H2_ERR_TLS;
    return H2_ERR_TLS;
  }
  c->done = 1;
  c->err[0] = '\0';
  if (c->ctx->role == H2_TLS_SERVER) {
    /* BoringSSL holds TLS 1.3 session tickets back until the first write;
     * an empty write puts them in the output now, so resumption does not
     * depend on the server sending data. */
    ERR_clear_error();
    if (SSL_write(c->ssl, "", 0) < 0) return fail(c, -1, "ticket flush");
  }
  return 1;
}

int h2_tls_conn_handshake(h2_tls_conn *c) {
  if (c->failed) return c->failed;
  if (c->done) return 1;
  ERR_clear_error();
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) return finish_handshake(c);
  if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) return 0;
  return fail(c, r, "handshake");
}

int h2_tls_conn_handshake_done(const h2_tls_conn *c) { return c->done; }

h2_tls_proto h2_tls_conn_alpn(const h2_tls_conn *c) { return c->proto; }

int h2_tls_conn_resumed(const h2_tls_conn *c) { return c->done && SSL_session_reused(c->ssl); }

const char *h2_tls_conn_version(const h2_tls_conn *c) {
  return c->done ? SSL_get_version(c->ssl) : "";
}

const char *h2_tls_conn_cipher(const h2_tls_conn *c) {
  const SSL_CIPHER *ci = c->done ? SSL_get_current_cipher(c->ssl) : NULL;
  return ci != NULL ? SSL_CIPHER_standard_name(ci) : "";
}

const char *h2_tls_conn_server_name(const h2_tls_conn *c) {
  if (c->ctx->role == H2_TLS_CLIENT) return c->server_name;
  return SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
}

int h2_tls_conn_peer_cert(const h2_tls_conn *c, uint8_t *buf, size_t cap, size_t *len) {
  *len = 0;
  if (!c->done) return H2_ERR_STATE;
  const STACK_OF(CRYPTO_BUFFER) *chain = SSL_get0_peer_certificates(c->ssl);
  if (chain == NULL || sk_CRYPTO_BUFFER_num(chain) == 0) return H2_ERR_NOT_FOUND;
  const CRYPTO_BUFFER *leaf = sk_CRYPTO_BUFFER_value(chain, 0);
  size_t n = CRYPTO_BUFFER_len(leaf);
  *len = n;
  if (n > cap || buf == NULL) return H2_ERR_BUF_TOO_SMALL;
  memcpy(buf, CRYPTO_BUFFER_data(leaf), n);
  return 0;
}

/* ---- application data --------------------------------------------------- */

int h2_tls_conn_read(h2_tls_conn *c, uint8_t *out, size_t out_cap) {
  if (out == NULL || out_cap == 0) return H2_ERR_INVALID_ARG;
  if (c->failed) return c->failed;
  if (!c->done) {
    int r = h2_tls_conn_handshake(c);
    if (r <= 0) return r == 0 ? H2_ERR_WOULD_BLOCK : r;
  }
  /* Nothing decrypted in store, no ciphertext come in since the last call,
   * not at EOF: SSL_read could only fail with WANT_READ (BoringSSL has no
   * read-ahead: a partial record it holds needs more input). Saves the
   * failing call that ends every drain of the input. */
  if (c->in_len == c->in_off && !c->eof && !SSL_has_pending(c->ssl)) return H2_ERR_WOULD_BLOCK;
  clear_errors();
  int n = SSL_read(c->ssl, out, out_cap > INT_MAX ? INT_MAX : (int)out_cap);
  if (n > 0) return n;
  if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ) return H2_ERR_WOULD_BLOCK;
  return fail(c, n, "read");
}

int h2_tls_conn_write(h2_tls_conn *c, const uint8_t *in, size_t in_len) {
  if (c->failed) return c->failed;
  if (c->closed) return H2_ERR_CLOSED;
  if (!c->done) return H2_ERR_STATE;
  if (in_len == 0) return 0;
  size_t pending = c->out_len - c->out_off;
  if (pending >= H2_TLS_OUT_LIMIT) return H2_ERR_WOULD_BLOCK;
  size_t n = H2_TLS_OUT_LIMIT - pending;
  if (n > in_len) n = in_len;
  clear_errors();
  int w = SSL_write(c->ssl, in, (int)n);
  if (w > 0) return w;
  return fail(c, w, "write");
}

int h2_tls_conn_close(h2_tls_conn *c) {
  if (c->closed) return 0;
  c->closed = 1;
  if (!c->done || c->failed) return 0;
  ERR_clear_error();
  if (SSL_shutdown(c->ssl) < 0) {
    tls_set_err(c->err, 1, "TLS close failed");
    return H2_ERR_TLS;
  }
  return 0;
}
