/* tls_ctx.c: h2_tls_ctx: the RFC 9113 §9.2 policy, ALPN, SNI, the client
 * session cache and key logging. Certificates live in tls_cert.c, connections
 * in tls_conn.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_internal.h"

/* TLS 1.2 suites allowed by RFC 9113 §9.2.2 that we offer: ephemeral key
 * exchange with an AEAD. TLS 1.3 suites are all AEAD and not configurable. */
static const char kCiphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
static const char kGroups[] = "X25519:P-256";

static const uint8_t kAlpnH2[] = {2, 'h', '2'};
static const uint8_t kAlpnH2Http11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

void tls_set_err(char *buf, int with_queue, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, H2_TLS_ERRMSG_LEN, fmt, ap);
  va_end(ap);
  if (n < 0) {
    buf[0] = '\0';
    n = 0;
  }
  size_t len = (size_t)n < H2_TLS_ERRMSG_LEN ? (size_t)n : H2_TLS_ERRMSG_LEN - 1;
  if (!with_queue) return;
  uint32_t e;
  int count = 0;
  while ((e = ERR_get_error()) != 0) {
    if (count++ >= 3 || len + 8 >= H2_TLS_ERRMSG_LEN) continue; /* drain the rest */
    char one[160];
    ERR_error_string_n(e, one, sizeof one);
    int m = snprintf(buf + len, H2_TLS_ERRMSG_LEN - len, " [%s]", one);
    if (m < 0) break;
    len += (size_t)m;
    if (len >= H2_TLS_ERRMSG_LEN) len = H2_TLS_ERRMSG_LEN - 1;
  }
}

int tls_is_ip_literal(const char *name) {
  struct in6_addr a6;
  struct in_addr a4;
  return inet_pton(AF_INET, name, &a4) == 1 || inet_pton(AF_INET6, name, &a6) == 1;
}

/* ---- callbacks ---------------------------------------------------------- */

/* alpn_find looks for |proto| in the wire-format list |in|; returns a pointer
 * into |in| at the protocol bytes or NULL. Every length is checked. */
static const uint8_t *alpn_find(const uint8_t *in, unsigned in_len, const char *proto) {
  size_t plen = strlen(proto);
  unsigned i = 0;
  while (i < in_len) {
    unsigned len = in[i];
    if (len == 0 || len > in_len - i - 1) return NULL; /* malformed: stop */
    if (len == plen && memcmp(in + i + 1, proto, plen) == 0) return in + i + 1;
    i += 1 + len;
  }
  return NULL;
}

static int alpn_select_cb(SSL *ssl, const uint8_t **out, uint8_t *out_len,
                          const uint8_t *in, unsigned in_len, void *arg) {
  h2_tls_ctx *ctx = arg;
  const uint8_t *p = alpn_find(in, in_len, "h2");
  if (p != NULL) {
    *out = p;
    *out_len = 2;
    return SSL_TLSEXT_ERR_OK;
  }
  if (ctx->alpn & H2_TLS_ALPN_HTTP11) {
    p = alpn_find(in, in_len, "http/1.1");
    if (p != NULL) {
      *out = p;
      *out_len = 8;
      return SSL_TLSEXT_ERR_OK;
    }
  }
  h2_tls_conn *c = SSL_get_app_data(ssl);
  if (c != NULL)
    snprintf(c->note, sizeof c->note, "no common ALPN protocol: the client did not offer \"h2\"%s",
             (ctx->alpn & H2_TLS_ALPN_HTTP11) ? " or \"http/1.1\"" : "");
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* servername_cb switches to the first certificate whose names match the SNI;
 * the default (first) certificate stays when none does. */
static int servername_cb(SSL *ssl, int *out_alert, void *arg) {
  (void)out_alert;
  h2_tls_ctx *ctx = arg;
  const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == NULL || ctx->num_certs < 2) return SSL_TLSEXT_ERR_OK;
  size_t len = strlen(name);
  for (size_t i = 0; i < ctx->num_certs; i++) {
    if (X509_check_host(ctx->certs[i].leaf, name, len, 0, NULL) == 1) {
      if (i > 0 && SSL_set_SSL_CTX(ssl, ctx->certs[i].sctx) == NULL)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
      break;
    }
  }
  return SSL_TLSEXT_ERR_OK;
}

static void keylog_cb(const SSL *ssl, const char *line) {
  h2_tls_conn *c = SSL_get_app_data(ssl);
  if (c == NULL || c->ctx->keylog_fd < 0) return;
  size_t len = strlen(line);
  char stackbuf[512];
  char *buf = len + 1 <= sizeof stackbuf ? stackbuf : OPENSSL_malloc(len + 1);
  if (buf == NULL) return;
  memcpy(buf, line, len);
  buf[len] = '\n';
  /* One write per line: O_APPEND keeps lines whole across connections. */
  ssize_t w = write(c->ctx->keylog_fd, buf, len + 1);
  (void)w;
  if (buf != stackbuf) OPENSSL_free(buf);
}

static void session_free(tls_session *s) {
  OPENSSL_free(s->name);
  SSL_SESSION_free(s->sess);
  s->name = NULL;
  s->sess = NULL;
  s->stamp = 0;
}

/* client_cert_cb runs on a client when the server asks for a certificate:
 * remembered, so a refusal that follows can be explained. */
static int client_cert_cb(SSL *ssl, void *arg) {
  (void)arg;
  h2_tls_conn *c = SSL_get_app_data(ssl);
  if (c != NULL) c->cert_requested = 1;
  return 1;
}

/* new_session_cb keeps the newest session per server name (client side). */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess) {
  h2_tls_conn *c = SSL_get_app_data(ssl);
  if (c == NULL || c->server_name == NULL || !c->ctx->cache_on) return 0;
  if (!SSL_SESSION_is_resumable(sess)) return 0;
  h2_tls_ctx *ctx = c->ctx;
  char *name = OPENSSL_strdup(c->server_name);
  if (name == NULL) return 0;
  pthread_mutex_lock(&ctx->lock);
  tls_session *slot = NULL, *oldest = NULL, *empty = NULL;
  for (size_t i = 0; i < H2_TLS_MAX_SESSIONS; i++) {
    tls_session *s = &ctx->sessions[i];
    if (s->sess == NULL) {
      if (empty == NULL) empty = s;
      continue;
    }
    if (strcmp(s->name, name) == 0) slot = s;
    if (oldest == NULL || s->stamp < oldest->stamp) oldest = s;
  }
  if (slot == NULL) slot = empty != NULL ? empty : oldest;
  session_free(slot);
  slot->name = name;
  slot->sess = sess; /* we own the reference BoringSSL passed */
  slot->stamp = ++ctx->stamp;
  pthread_mutex_unlock(&ctx->lock);
  return 1;
}

SSL_SESSION *tls_session_take(h2_tls_ctx *ctx, const char *name) {
  if (!ctx->cache_on || name == NULL) return NULL;
  SSL_SESSION *out = NULL;
  pthread_mutex_lock(&ctx->lock);
  for (size_t i = 0; i < H2_TLS_MAX_SESSIONS; i++) {
    tls_session *s = &ctx->sessions[i];
    if (s->sess == NULL || strcmp(s->name, name) != 0) continue;
    if (SSL_SESSION_should_be_single_use(s->sess)) {
      out = s->sess; /* hand our reference over */
      s->sess = NULL;
      session_free(s);
    } else {
      out = s->sess;
      SSL_SESSION_up_ref(out);
    }
    break;
  }
  pthread_mutex_unlock(&ctx->lock);
  return out;
}

static void sessions_clear(h2_tls_ctx *ctx) {
  pthread_mutex_lock(&ctx->lock);
  for (size_t i = 0; i < H2_TLS_MAX_SESSIONS; i++) session_free(&ctx->sessions[i]);
  pthread_mutex_unlock(&ctx->lock);
}

/* ---- policy ------------------------------------------------------------- */

static int apply_alpn(h2_tls_ctx *ctx, SSL_CTX *sctx) {
  if (ctx->role == H2_TLS_SERVER) {
    SSL_CTX_set_alpn_select_cb(sctx, alpn_select_cb, ctx);
    return 1;
  }
  const uint8_t *p = (ctx->alpn & H2_TLS_ALPN_HTTP11) ? kAlpnH2Http11 : kAlpnH2;
  unsigned len = (ctx->alpn & H2_TLS_ALPN_HTTP11) ? sizeof kAlpnH2Http11 : sizeof kAlpnH2;
  return SSL_CTX_set_alpn_protos(sctx, p, len) == 0; /* 0 means success here */
}

int tls_configure_sslctx(h2_tls_ctx *ctx, SSL_CTX *sctx) {
  if (!SSL_CTX_set_min_proto_version(sctx, ctx->min_version) ||
      !SSL_CTX_set_max_proto_version(sctx, ctx->max_version) ||
      !SSL_CTX_set_strict_cipher_list(sctx, kCiphers) ||
      !SSL_CTX_set1_curves_list(sctx, kGroups) || !apply_alpn(ctx, sctx))
    return 0;
  SSL_CTX_set_options(sctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  if (ctx->role == H2_TLS_SERVER) {
    /* One session id context for every SNI certificate: resumption works
     * across them, and BoringSSL resumes client-authenticated sessions. */
    if (!SSL_CTX_set_session_id_context(sctx, (const uint8_t *)"h2", 2)) return 0;
    if (ctx->client_auth != H2_TLS_CLIENT_AUTH_NONE) {
      int mode = SSL_VERIFY_PEER;
      if (ctx->client_auth == H2_TLS_CLIENT_AUTH_REQUIRED) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      SSL_CTX_set_verify(sctx, mode, NULL);
      if (!SSL_CTX_set1_verify_cert_store(sctx, ctx->client_store)) return 0;
    } else {
      SSL_CTX_set_verify(sctx, SSL_VERIFY_NONE, NULL);
    }
  }
  SSL_CTX_set_keylog_callback(sctx, ctx->keylog_fd >= 0 ? keylog_cb : NULL);
  SSL_CTX_set_app_data(sctx, ctx);
  return 1;
}

static int apply_all(h2_tls_ctx *ctx) {
  if (!tls_configure_sslctx(ctx, ctx->base)) return 0;
  for (size_t i = 1; i < ctx->num_certs; i++)
    if (ctx->certs[i].sctx != ctx->base && !tls_configure_sslctx(ctx, ctx->certs[i].sctx))
      return 0;
  return 1;
}

/* ---- public ------------------------------------------------------------- */

h2_tls_ctx *h2_tls_ctx_new(h2_tls_role role) {
  if (role != H2_TLS_SERVER && role != H2_TLS_CLIENT) return NULL;
  h2_tls_ctx *ctx = tls_zalloc(sizeof *ctx);
  if (ctx == NULL) return NULL;
  atomic_init(&ctx->refs, 1);
  ctx->role = role;
  ctx->alpn = H2_TLS_ALPN_H2;
  ctx->min_version = H2_TLS_VERSION_1_2;
  ctx->max_version = H2_TLS_VERSION_1_3;
  ctx->keylog_fd = -1;
  ctx->cache_on = 1;
  if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
    OPENSSL_free(ctx);
    return NULL;
  }
  ctx->base = SSL_CTX_new(TLS_method());
  ctx->bio_method = tls_bio_method_new();
  if (ctx->base == NULL || ctx->bio_method == NULL) goto fail;
  const char *keylog = getenv("SSLKEYLOGFILE");
  if (keylog != NULL && keylog[0] != '\0') {
    /* A key log that cannot be opened must not stop TLS; the reason stays
     * in h2_tls_ctx_errmsg. */
    int fd = open(keylog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
      ctx->keylog_fd = fd;
    else
      tls_set_err(ctx->err, 0, "cannot open SSLKEYLOGFILE '%s': %s", keylog, strerror(errno));
  }
  if (!tls_configure_sslctx(ctx, ctx->base)) goto fail;
  if (role == H2_TLS_CLIENT) {
    SSL_CTX_set_verify(ctx->base, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_verify_paths(ctx->base); /* absent store: CA files still work */
    ERR_clear_error();
    SSL_CTX_set_session_cache_mode(ctx->base, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx->base, new_session_cb);
    SSL_CTX_set_cert_cb(ctx->base, client_cert_cb, NULL);
  } else {
    /* Stateless resumption: tickets only, no per-session server memory. */
    SSL_CTX_set_session_cache_mode(ctx->base, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_tlsext_servername_callback(ctx->base, servername_cb);
    SSL_CTX_set_tlsext_servername_arg(ctx->base, ctx);
  }
  return ctx;
fail:
  h2_tls_ctx_free(ctx);
  return NULL;
}

void h2_tls_ctx_free(h2_tls_ctx *ctx) {
  if (ctx == NULL) return;
  tls_ctx_release(ctx);
}

void tls_ctx_release(h2_tls_ctx *ctx) {
  if (atomic_fetch_sub(&ctx->refs, 1) != 1) return;
  for (size_t i = 0; i < ctx->num_certs; i++) {
    tls_cert *t = &ctx->certs[i];
    if (t->sctx != ctx->base) SSL_CTX_free(t->sctx);
    X509_free(t->leaf);
    sk_X509_pop_free(t->chain, X509_free);
    EVP_PKEY_free(t->key);
  }
  for (size_t i = 0; i < H2_TLS_MAX_SESSIONS; i++) session_free(&ctx->sessions[i]);
  SSL_CTX_free(ctx->base);
  X509_STORE_free(ctx->client_store);
  if (ctx->bio_method != NULL) BIO_meth_free(ctx->bio_method);
  if (ctx->keylog_fd >= 0) close(ctx->keylog_fd);
  pthread_mutex_destroy(&ctx->lock);
  OPENSSL_free(ctx);
}

const char *h2_tls_ctx_errmsg(const h2_tls_ctx *ctx) { return ctx->err; }

h2_tls_role h2_tls_ctx_role(const h2_tls_ctx *ctx) { return ctx->role; }

size_t h2_tls_ctx_num_certs(const h2_tls_ctx *ctx) { return ctx->num_certs; }

int h2_tls_ctx_set_insecure(h2_tls_ctx *ctx, int insecure) {
  if (ctx->role != H2_TLS_CLIENT) {
    tls_set_err(ctx->err, 0, "the insecure switch applies to client contexts only");
    return H2_ERR_STATE;
  }
  if ((insecure != 0) != (ctx->insecure != 0)) sessions_clear(ctx); /* no mixing */
  ctx->insecure = insecure != 0;
  return 0;
}

int h2_tls_ctx_set_client_auth(h2_tls_ctx *ctx, h2_tls_client_auth mode, const char *ca_file) {
  if (ctx->role != H2_TLS_SERVER) {
    tls_set_err(ctx->err, 0, "client certificates are asked for by server contexts only");
    return H2_ERR_STATE;
  }
  if (mode != H2_TLS_CLIENT_AUTH_NONE && mode != H2_TLS_CLIENT_AUTH_OPTIONAL &&
      mode != H2_TLS_CLIENT_AUTH_REQUIRED) {
    tls_set_err(ctx->err, 0, "unknown client certificate mode %d", (int)mode);
    return H2_ERR_INVALID_ARG;
  }
  X509_STORE *store = NULL;
  if (mode != H2_TLS_CLIENT_AUTH_NONE) {
    if (ca_file == NULL) {
      tls_set_err(ctx->err, 0, "verifying client certificates needs a CA file");
      return H2_ERR_INVALID_ARG;
    }
    int fd = open(ca_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      tls_set_err(ctx->err, 0, "cannot open client CA file '%s': %s", ca_file, strerror(e));
      return e == ENOENT ? H2_ERR_NOT_FOUND : H2_ERR_IO;
    }
    close(fd);
    ERR_clear_error();
    store = X509_STORE_new();
    if (store == NULL) {
      tls_set_err(ctx->err, 1, "out of memory for the client CA store");
      return H2_ERR_NOMEM;
    }
    if (!X509_STORE_load_locations(store, ca_file, NULL)) {
      X509_STORE_free(store);
      tls_set_err(ctx->err, 1, "no usable PEM certificate in client CA file '%s'", ca_file);
      return H2_ERR_PARSE;
    }
  }
  X509_STORE_free(ctx->client_store);
  ctx->client_store = store;
  ctx->client_auth = mode;
  if (!apply_all(ctx)) {
    tls_set_err(ctx->err, 1, "cannot apply the client certificate setting");
    return H2_ERR_TLS;
  }
  return 0;
}

int h2_tls_ctx_set_alpn(h2_tls_ctx *ctx, unsigned flags) {
  if (!(flags & H2_TLS_ALPN_H2) || (flags & ~(unsigned)(H2_TLS_ALPN_H2 | H2_TLS_ALPN_HTTP11))) {
    tls_set_err(ctx->err, 0, "ALPN policy must include H2_TLS_ALPN_H2 and nothing unknown");
    return H2_ERR_INVALID_ARG;
  }
  ctx->alpn = flags;
  if (!apply_all(ctx)) {
    tls_set_err(ctx->err, 1, "cannot apply the ALPN policy");
    return H2_ERR_TLS;
  }
  return 0;
}

int h2_tls_ctx_set_versions(h2_tls_ctx *ctx, uint16_t min, uint16_t max) {
  if ((min != H2_TLS_VERSION_1_2 && min != H2_TLS_VERSION_1_3) ||
      (max != H2_TLS_VERSION_1_2 && max != H2_TLS_VERSION_1_3) || min > max) {
    tls_set_err(ctx->err, 0, "TLS versions must be 1.2 or 1.3 with min <= max");
    return H2_ERR_INVALID_ARG;
  }
  ctx->min_version = min;
  ctx->max_version = max;
  if (!apply_all(ctx)) {
    tls_set_err(ctx->err, 1, "cannot apply the TLS versions");
    return H2_ERR_TLS;
  }
  return 0;
}

int h2_tls_ctx_set_keylog_file(h2_tls_ctx *ctx, const char *path) {
  int fd = -1;
  if (path != NULL) {
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      tls_set_err(ctx->err, 0, "cannot open key log file '%s': %s", path, strerror(errno));
      return H2_ERR_IO;
    }
  }
  if (ctx->keylog_fd >= 0) close(ctx->keylog_fd);
  ctx->keylog_fd = fd;
  if (!apply_all(ctx)) {
    tls_set_err(ctx->err, 1, "cannot apply the key log setting");
    return H2_ERR_TLS;
  }
  return 0;
}

int h2_tls_ctx_set_session_cache(h2_tls_ctx *ctx, int on) {
  if (ctx->role != H2_TLS_CLIENT) {
    tls_set_err(ctx->err, 0, "the session cache setting applies to client contexts only");
    return H2_ERR_STATE;
  }
  ctx->cache_on = on != 0;
  if (!on) sessions_clear(ctx);
  return 0;
}
