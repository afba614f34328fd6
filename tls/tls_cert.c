/* tls_cert.c: certificates and keys: PEM and PKCS#12 files in, a generated self-signed
 * certificate, PEM files out, client trust anchors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/pkcs8.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_internal.h"

#define MAX_PEM_FILE (1024 * 1024)
#define MAX_CHAIN 16

/* read_file loads |path| (at most 1 MiB) into a NUL-terminated buffer. */
static int read_file(h2_tls_ctx *ctx, const char *what, const char *path, char **out,
                     size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    tls_set_err(ctx->err, 0, "cannot open %s file '%s': %s", what, path, strerror(e));
    return e == ENOENT ? H2_ERR_NOT_FOUND : H2_ERR_IO;
  }
  char *buf = OPENSSL_malloc(MAX_PEM_FILE + 1);
  if (buf == NULL) {
    fclose(f);
    tls_set_err(ctx->err, 0, "out of memory reading '%s'", path);
    return H2_ERR_NOMEM;
  }
  size_t n = fread(buf, 1, MAX_PEM_FILE + 1, f);
  int rerr = ferror(f);
  fclose(f);
  if (rerr) {
    OPENSSL_free(buf);
    tls_set_err(ctx->err, 0, "cannot read %s file '%s'", what, path);
    return H2_ERR_IO;
  }
  if (n > MAX_PEM_FILE) {
    OPENSSL_free(buf);
    tls_set_err(ctx->err, 0, "%s file '%s' is larger than 1 MiB", what, path);
    return H2_ERR_LIMIT;
  }
  buf[n] = '\0';
  *out = buf;
  *out_len = n;
  return 0;
}

/* free_secret wipes and frees a buffer read_file returned that holds key
 * material (NULL is fine). */
static void free_secret(char *buf, size_t len) {
  if (buf == NULL) return;
  OPENSSL_cleanse(buf, len);
  OPENSSL_free(buf);
}

/* install takes ownership of |leaf|, |chain| and |key| (on success and on
 * failure) and adds them as the next certificate of |ctx|. */
static int install(h2_tls_ctx *ctx, X509 *leaf, STACK_OF(X509) *chain, EVP_PKEY *key) {
  int rc = H2_ERR_TLS;
  SSL_CTX *sctx = NULL;
  if (ctx->num_certs == H2_TLS_MAX_CERTS ||
      (ctx->role == H2_TLS_CLIENT && ctx->num_certs == 1)) {
    tls_set_err(ctx->err, 0, "too many certificates (a server takes %d, a client 1)",
                H2_TLS_MAX_CERTS);
    rc = H2_ERR_LIMIT;
    goto fail;
  }
  if (ctx->num_certs == 0) {
    sctx = ctx->base;
  } else {
    sctx = SSL_CTX_new(TLS_method());
    if (sctx == NULL || !tls_configure_sslctx(ctx, sctx)) {
      tls_set_err(ctx->err, 1, "cannot create a TLS context for the certificate");
      goto fail;
    }
  }
  if (!SSL_CTX_use_certificate(sctx, leaf) || !SSL_CTX_use_PrivateKey(sctx, key) ||
      (chain != NULL && !SSL_CTX_set1_chain(sctx, chain))) {
    tls_set_err(ctx->err, 1, "cannot use the certificate and key");
    goto fail;
  }
  if (!SSL_CTX_check_private_key(sctx)) {
    tls_set_err(ctx->err, 1, "the private key does not match the certificate");
    goto fail;
  }
  tls_cert *t = &ctx->certs[ctx->num_certs++];
  t->sctx = sctx;
  t->leaf = leaf;
  t->chain = chain;
  t->key = key;
  return 0;
fail:
  if (sctx != NULL && sctx != ctx->base) SSL_CTX_free(sctx);
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(key);
  return rc;
}

static int password_cb(char *buf, int size, int rwflag, void *u) {
  (void)rwflag;
  const char *pw = u;
  if (pw == NULL || size <= 0) return 0;
  size_t len = strlen(pw);
  if (len > (size_t)size) return 0;
  memcpy(buf, pw, len);
  return (int)len;
}

/* load_certs parses the leaf and any intermediates from PEM text. */
static int load_certs(h2_tls_ctx *ctx, const char *path, const char *pem, size_t len,
                      X509 **out_leaf, STACK_OF(X509) **out_chain) {
  *out_leaf = NULL;
  *out_chain = NULL;
  BIO *b = BIO_new_mem_buf(pem, (ssize_t)len);
  if (b == NULL) {
    tls_set_err(ctx->err, 0, "out of memory");
    return H2_ERR_NOMEM;
  }
  X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
  if (leaf == NULL) {
    BIO_free(b);
    tls_set_err(ctx->err, 1, "no PEM certificate in '%s'", path);
    return H2_ERR_PARSE;
  }
  STACK_OF(X509) *chain = NULL;
  for (;;) {
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (x == NULL) {
      uint32_t e = ERR_peek_last_error();
      if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_clear_error(); /* the normal end of the file */
        break;
      }
      tls_set_err(ctx->err, 1, "bad certificate after the first one in '%s'", path);
      goto fail;
    }
    if (chain == NULL) chain = sk_X509_new_null();
    if (chain == NULL || sk_X509_num(chain) >= MAX_CHAIN || !sk_X509_push(chain, x)) {
      X509_free(x);
      tls_set_err(ctx->err, 0, "certificate chain in '%s' too long (max %d) or no memory",
                  path, MAX_CHAIN);
      goto fail;
    }
  }
  BIO_free(b);
  *out_leaf = leaf;
  *out_chain = chain;
  return 0;
fail:
  BIO_free(b);
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
  return H2_ERR_PARSE;
}

static int load_key(h2_tls_ctx *ctx, const char *path, const char *pem, size_t len,
                    const char *password, EVP_PKEY **out) {
  *out = NULL;
  int encrypted = strstr(pem, "ENCRYPTED") != NULL;
  if (encrypted && password == NULL) {
    tls_set_err(ctx->err, 0, "private key '%s' is encrypted and no password was given", path);
    return H2_ERR_PARSE;
  }
  BIO *b = BIO_new_mem_buf(pem, (ssize_t)len);
  if (b == NULL) {
    tls_set_err(ctx->err, 0, "out of memory");
    return H2_ERR_NOMEM;
  }
  EVP_PKEY *key = PEM_read_bio_PrivateKey(b, NULL, password_cb, (void *)password);
  BIO_free(b);
  if (key == NULL) {
    if (encrypted)
      tls_set_err(ctx->err, 1, "cannot decrypt private key '%s': wrong password", path);
    else
      tls_set_err(ctx->err, 1, "no PEM private key in '%s'", path);
    return H2_ERR_PARSE;
  }
  *out = key;
  return 0;
}

int h2_tls_ctx_add_cert_files(h2_tls_ctx *ctx, const char *cert_path, const char *key_path,
                              const char *password) {
  if (cert_path == NULL || key_path == NULL) {
    tls_set_err(ctx->err, 0, "certificate and key paths are required");
    return H2_ERR_INVALID_ARG;
  }
  ERR_clear_error();
  char *cert_pem = NULL, *key_pem = NULL;
  size_t cert_len, key_len;
  X509 *leaf = NULL;
  STACK_OF(X509) *chain = NULL;
  EVP_PKEY *key = NULL;
  int rc = read_file(ctx, "certificate", cert_path, &cert_pem, &cert_len);
  if (rc < 0) goto out;
  rc = read_file(ctx, "private key", key_path, &key_pem, &key_len);
  if (rc < 0) goto out;
  rc = load_certs(ctx, cert_path, cert_pem, cert_len, &leaf, &chain);
  if (rc < 0) goto out;
  rc = load_key(ctx, key_path, key_pem, key_len, password, &key);
  if (rc < 0) goto out;
  if (X509_check_private_key(leaf, key) != 1) {
    ERR_clear_error();
    tls_set_err(ctx->err, 0, "private key '%s' does not match certificate '%s'", key_path,
                cert_path);
    rc = H2_ERR_TLS;
    goto out;
  }
  rc = install(ctx, leaf, chain, key);
  leaf = NULL;
  chain = NULL;
  key = NULL;
out:
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(key);
  free_secret(key_pem, key_len);
  OPENSSL_free(cert_pem);
  return rc;
}

/* ---- PKCS#12 ---------------------------------------------------------------- */

/* p12_parse runs BoringSSL's PKCS#12 parser over |der|; with no password
 * given it tries the empty one, then none (encoders differ). */
static int p12_parse(const uint8_t *der, size_t len, const char *password, EVP_PKEY **key,
                     STACK_OF(X509) *certs) {
  const char *tries[2] = {password ? password : "", NULL};
  int ntries = password ? 1 : 2;
  for (int i = 0; i < ntries; i++) {
    CBS in;
    CBS_init(&in, der, len);
    if (PKCS12_get_key_and_certs(key, certs, &in, tries[i])) return 1;
    ERR_clear_error();
    while (sk_X509_num(certs) > 0) X509_free(sk_X509_pop(certs));
  }
  return 0;
}

int h2_tls_ctx_add_pkcs12_file(h2_tls_ctx *ctx, const char *path, const char *password) {
  if (path == NULL) {
    tls_set_err(ctx->err, 0, "a PKCS#12 file path is required");
    return H2_ERR_INVALID_ARG;
  }
  ERR_clear_error();
  char *der = NULL;
  size_t len = 0;
  EVP_PKEY *key = NULL;
  X509 *leaf = NULL;
  STACK_OF(X509) *certs = sk_X509_new_null(), *chain = NULL;
  int rc = certs ? read_file(ctx, "PKCS#12", path, &der, &len) : H2_ERR_NOMEM;
  if (rc < 0) goto out;
  if (!p12_parse((const uint8_t *)der, len, password, &key, certs)) {
    tls_set_err(ctx->err, 0, "cannot read PKCS#12 file '%s': not PKCS#12, or the password is %s",
                path, password ? "wrong" : "missing");
    rc = H2_ERR_PARSE;
    goto out;
  }
  if (key == NULL) {
    tls_set_err(ctx->err, 0, "PKCS#12 file '%s' holds no private key", path);
    rc = H2_ERR_PARSE;
    goto out;
  }
  /* The leaf is the certificate of the key; the rest, in file order, is the
   * chain sent after it. */
  size_t n = sk_X509_num(certs);
  for (size_t i = 0; i < n && leaf == NULL; i++) {
    X509 *x = sk_X509_value(certs, i);
    if (X509_check_private_key(x, key) == 1) leaf = sk_X509_delete(certs, i);
    ERR_clear_error();
  }
  if (leaf == NULL) {
    tls_set_err(ctx->err, 0, "PKCS#12 file '%s' holds no certificate for its private key", path);
    rc = H2_ERR_PARSE;
    goto out;
  }
  if (sk_X509_num(certs) > MAX_CHAIN) {
    tls_set_err(ctx->err, 0, "PKCS#12 file '%s' holds more than %d chain certificates", path,
                MAX_CHAIN);
    rc = H2_ERR_LIMIT;
    goto out;
  }
  if (sk_X509_num(certs) > 0) {
    chain = certs;
    certs = NULL;
  }
  rc = install(ctx, leaf, chain, key);
  leaf = NULL;
  chain = NULL;
  key = NULL;
out:
  X509_free(leaf);
  sk_X509_pop_free(certs, X509_free);
  EVP_PKEY_free(key);
  free_secret(der, len);
  return rc;
}

/* ---- self-signed -------------------------------------------------------- */

static int valid_hostname(const char *h) {
  size_t n = strlen(h);
  if (n == 0 || n > 253) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = h[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '-' || ch == '.'))
      return 0;
  }
  return 1;
}

static int add_ext(X509 *x, int nid, const char *value) {
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
  if (ext == NULL) return 0;
  int ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

int h2_tls_ctx_add_self_signed(h2_tls_ctx *ctx, const char *hostname) {
  if (hostname == NULL) hostname = "localhost";
  if (!valid_hostname(hostname)) {
    tls_set_err(ctx->err, 0, "invalid host name for a self-signed certificate");
    return H2_ERR_INVALID_ARG;
  }
  ERR_clear_error();
  EVP_PKEY *pkey = EVP_PKEY_new();
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  X509 *x = X509_new();
  BIGNUM *serial = NULL;
  char san[300];
  uint8_t rnd[16];
  if (pkey == NULL || ec == NULL || x == NULL || !EC_KEY_generate_key(ec) ||
      !EVP_PKEY_assign_EC_KEY(pkey, ec))
    goto fail;
  ec = NULL; /* owned by pkey now */
  RAND_bytes(rnd, sizeof rnd);
  rnd[0] &= 0x7f; /* positive serial */
  rnd[0] |= 0x01; /* and no leading zero byte */
  serial = BN_bin2bn(rnd, sizeof rnd, NULL);
  if (serial == NULL || BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL) goto fail;
  X509_NAME *name = X509_get_subject_name(x);
  if (!X509_set_version(x, X509_VERSION_3) ||
      !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const uint8_t *)"h2 self-signed",
                                  -1, -1, 0) ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)hostname, -1, -1,
                                  0) ||
      !X509_set_issuer_name(x, name) ||
      X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
      X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600) == NULL ||
      !X509_set_pubkey(x, pkey))
    goto fail;
  if (strcmp(hostname, "localhost") == 0)
    snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1,IP:::1");
  else
    snprintf(san, sizeof san, "DNS:%s", hostname);
  if (!add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth") ||
      !add_ext(x, NID_subject_key_identifier, "hash") ||
      !add_ext(x, NID_subject_alt_name, san) || !X509_sign(x, pkey, EVP_sha256()))
    goto fail;
  BN_free(serial);
  return install(ctx, x, NULL, pkey);
fail:
  tls_set_err(ctx->err, 1, "cannot generate a self-signed certificate for '%s'", hostname);
  EC_KEY_free(ec);
  EVP_PKEY_free(pkey);
  X509_free(x);
  BN_free(serial);
  return H2_ERR_TLS;
}

/* ---- writing ------------------------------------------------------------ */

static int write_file(h2_tls_ctx *ctx, const char *path, const uint8_t *data, size_t len,
                      mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    tls_set_err(ctx->err, 0, "cannot write '%s': %s", path, strerror(errno));
    return H2_ERR_IO;
  }
  if (fchmod(fd, mode) != 0) {
    tls_set_err(ctx->err, 0, "cannot chmod '%s': %s", path, strerror(errno));
    close(fd);
    return H2_ERR_IO;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      tls_set_err(ctx->err, 0, "cannot write '%s': %s", path, strerror(errno));
      close(fd);
      return H2_ERR_IO;
    }
    off += (size_t)n;
  }
  if (close(fd) != 0) {
    tls_set_err(ctx->err, 0, "cannot write '%s': %s", path, strerror(errno));
    return H2_ERR_IO;
  }
  return 0;
}

static int write_bio_to(h2_tls_ctx *ctx, BIO *b, const char *path, mode_t mode) {
  const uint8_t *p;
  size_t len;
  if (!BIO_mem_contents(b, &p, &len)) {
    tls_set_err(ctx->err, 1, "cannot encode PEM");
    return H2_ERR_TLS;
  }
  return write_file(ctx, path, p, len, mode);
}

int h2_tls_ctx_write_cert_pem(h2_tls_ctx *ctx, size_t index, const char *cert_path,
                              const char *key_path, const char *password) {
  if (index >= ctx->num_certs || cert_path == NULL) {
    tls_set_err(ctx->err, 0, "no certificate number %zu (have %zu) or no path", index,
                ctx->num_certs);
    return H2_ERR_INVALID_ARG;
  }
  ERR_clear_error();
  tls_cert *t = &ctx->certs[index];
  BIO *b = BIO_new(BIO_s_mem());
  if (b == NULL || !PEM_write_bio_X509(b, t->leaf)) goto fail;
  for (size_t i = 0; t->chain != NULL && i < sk_X509_num(t->chain); i++)
    if (!PEM_write_bio_X509(b, sk_X509_value(t->chain, i))) goto fail;
  int rc = write_bio_to(ctx, b, cert_path, 0644);
  BIO_free(b);
  b = NULL;
  if (rc < 0 || key_path == NULL) return rc;
  b = BIO_new(BIO_s_mem());
  if (b == NULL) goto fail;
  int ok = password != NULL
               ? PEM_write_bio_PKCS8PrivateKey(b, t->key, EVP_aes_256_cbc(), (char *)password,
                                               (int)strlen(password), NULL, NULL)
               : PEM_write_bio_PKCS8PrivateKey(b, t->key, NULL, NULL, 0, NULL, NULL);
  if (!ok) goto fail;
  rc = write_bio_to(ctx, b, key_path, 0600);
  BIO_free(b);
  return rc;
fail:
  tls_set_err(ctx->err, 1, "cannot encode certificate or key as PEM");
  BIO_free(b);
  return H2_ERR_TLS;
}

int h2_tls_ctx_load_ca_file(h2_tls_ctx *ctx, const char *ca_file) {
  if (ctx->role != H2_TLS_CLIENT) {
    tls_set_err(ctx->err, 0, "CA files apply to client contexts only");
    return H2_ERR_STATE;
  }
  if (ca_file == NULL) {
    tls_set_err(ctx->err, 0, "no CA file given");
    return H2_ERR_INVALID_ARG;
  }
  char *pem;
  size_t len;
  int rc = read_file(ctx, "CA", ca_file, &pem, &len);
  if (rc < 0) return rc;
  OPENSSL_free(pem);
  ERR_clear_error();
  if (!SSL_CTX_load_verify_locations(ctx->base, ca_file, NULL)) {
    tls_set_err(ctx->err, 1, "no usable PEM certificate in CA file '%s'", ca_file);
    return H2_ERR_PARSE;
  }
  return 0;
}
